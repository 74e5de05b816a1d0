# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's process steps: ``command`` (an argv, never a shell) and ``kill``.

* Commands run in a new session, so a timeout kills the whole process group; a package manager's lock
  held by another process is waited for, within ``lock_timeout``.
* ``kill`` signals a pid only while it still runs the executable (or ``comm``) the plan names: a pid
  recycled since the scan is left alone.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import subprocess
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.pkglock import (
    LOCK_FILES, describe_holders, named_lock_files)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import DEFAULT_GRACE
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.steps import StepError, shown

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PROC = "/proc"
# Where there is no /proc (macOS), a process's executable comes from ``ps -p <pid> -o comm=``.
PS = "/bin/ps"
PS_TIMEOUT = 10

OUTPUT_LIMIT = 8192           # bytes kept of stdout and of stderr, each
KILL_CONFIRM = 5              # seconds to wait for SIGKILL to take effect
TERM_GRACE = 5                # seconds between SIGTERM and SIGKILL of a timed-out process group
LOCK_BACKOFF_FIRST = 1
LOCK_BACKOFF_MAX = 30

LOCK_MESSAGES = {
    "dpkg": ("Could not get lock", "dpkg frontend lock", "is locked by another process",
             "dpkg status database is locked"),
    "rpm": ("can't create transaction lock", "RPM database is locked", "Waiting for process with pid",
            "database is locked"),
}

BASE_ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C", "DEBIAN_FRONTEND": "noninteractive"}

_DELETED = " (deleted)"


def _sleep(seconds):
    """Indirection so that tests can replace waiting."""
    time.sleep(seconds)


class _Budget(object):
    """Time spent waiting: the larger of the real time elapsed and the time asked to sleep.

    Counting the requested sleeps too keeps every wait bounded when ``_sleep`` is replaced.
    """

    def __init__(self, limit):
        self.limit = limit
        self.start = time.monotonic()
        self.slept = 0.0

    def used(self):
        return max(time.monotonic() - self.start, self.slept)

    def left(self):
        return self.limit - self.used()

    def sleep(self, seconds):
        seconds = max(0.0, min(seconds, self.left()))
        if seconds > 0:
            _sleep(seconds)
            self.slept += seconds
        return seconds


def _truncate(data):
    """Bytes -> text, at most OUTPUT_LIMIT bytes kept (head and tail) with a marker in between."""
    if data is None:
        return ""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > OUTPUT_LIMIT:
        half = OUTPUT_LIMIT // 2
        omitted = len(data) - 2 * half
        data = (data[:half] + ("\n[... %d bytes truncated ...]\n" % omitted).encode("ascii")
                + data[-half:])
    return data.decode("utf-8", "replace")


def _full_text(data):
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", "replace")


def run_argv(argv, env=None, cwd=None, timeout=None, preexec_fn=None):
    """Run ``argv`` in a new session; return ``(rc, stdout, stderr, timed_out, error)``.

    ``rc`` is None and ``error`` says why when the command could not be started. On timeout the
    whole process group gets SIGTERM, then SIGKILL after TERM_GRACE seconds.
    """
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=cwd, close_fds=True,
                                start_new_session=True, preexec_fn=preexec_fn)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, b"", b"", False, "cannot run %s: %s" % (argv[0], getattr(exc, "strerror", None) or exc)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err, False, None
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, KILL_CONFIRM)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            out, err = proc.communicate(timeout=wait)
            return proc.returncode, out, err, True, None
        except subprocess.TimeoutExpired:
            continue
    # Something that left the process group still holds the pipes: stop reading.
    for pipe in (proc.stdout, proc.stderr):
        try:
            pipe.close()
        except OSError:
            pass
    proc.wait()
    return proc.returncode, b"", b"", True, None


def _demote(uid, gid):
    def preexec():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return preexec


def _command_env(step):
    env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH}
    if os.environ.get("HOME"):
        env["HOME"] = os.environ["HOME"]
    env.update(BASE_ENV)
    env.update(step.get("env") or {})
    run_as = step.get("run_as")
    if run_as:
        env.update(HOME=run_as["home"], USER=run_as["user"], LOGNAME=run_as["user"])
    return env


def run_command(step, options, runner, result):
    argv = list(step["argv"])
    result.update(cmd=argv, rc=None, stdout="", stderr="", attempts=0)
    run_as = step.get("run_as")
    preexec_fn = None
    cwd = None
    if run_as:
        euid = os.geteuid()
        if euid != 0:
            raise StepError("run_as %s needs root, but the executor runs as uid %d; nothing was run"
                            % (run_as["user"], euid))
        if not os.path.isdir(run_as["home"]):
            raise StepError("run_as %s: home %s is not a directory; nothing was run"
                            % (run_as["user"], shown(run_as["home"])))
        preexec_fn = _demote(run_as["uid"], run_as["gid"])
        cwd = run_as["home"]
    env = _command_env(step)
    timeout = step.get("timeout") or options["default_timeout"]
    ok_rc = step.get("ok_rc") or [0]
    tolerate = step.get("tolerate") or []
    absent = step.get("absent") or []
    lock_messages = LOCK_MESSAGES.get(step.get("lock"), ())
    budget = _Budget(options["lock_timeout"])
    delay = LOCK_BACKOFF_FIRST
    while True:
        result["attempts"] += 1
        rc, out, err, timed_out, error = runner(argv, env=env, cwd=cwd, timeout=timeout, preexec_fn=preexec_fn)
        result.update(rc=rc, stdout=_truncate(out), stderr=_truncate(err))
        if error:
            raise StepError(error)
        if timed_out:
            raise StepError("timed out after %s s (process group killed)" % timeout)
        text = _full_text(out) + "\n" + _full_text(err)
        failed = rc not in ok_rc
        if failed and lock_messages and any(m in text for m in lock_messages):
            if budget.left() > 0:
                budget.sleep(delay)
                delay = min(delay * 2, LOCK_BACKOFF_MAX)
                continue
            raise StepError("the %s lock is held by another process (%s): gave up after %d attempts in %d s "
                            "(lock_timeout %s s; no lock file was touched)"
                            % (step["lock"], describe_holders(
                                step["lock"], options.get("proc_dir") or PROC,
                                LOCK_FILES.get(step["lock"], ()) + named_lock_files(step["lock"], text)),
                               result["attempts"], int(budget.used()), options["lock_timeout"]))
        found = [s for s in absent if s in text]
        if found:
            return "absent", "already absent (rc %s, output has %r)" % (rc, found[0])
        if not failed:
            return "changed", "rc %s" % rc
        found = [s for s in tolerate if s in text]
        if found:
            return "ok", "rc %s tolerated (output has %r)" % (rc, found[0])
        raise StepError("rc %s (expected %s)" % (rc, ", ".join(str(r) for r in ok_rc)))


def _read_process(proc_dir, pid):
    """``(exe, comm, zombie)`` of a live process, or None when it is gone. ``exe`` may be None."""
    base = os.path.join(proc_dir, str(pid))
    try:
        with open(os.path.join(base, "comm"), "rb") as handle:
            comm = handle.read(256).rstrip(b"\n").decode("utf-8", "surrogateescape")
    except OSError:
        return None
    zombie = False
    try:
        with open(os.path.join(base, "stat"), "rb") as handle:
            data = handle.read(4096)
        zombie = data[data.rfind(b")") + 2:].split(b" ", 1)[0] in (b"Z", b"X")
    except (OSError, IndexError):
        pass
    try:
        exe = os.readlink(os.path.join(base, "exe"))
        if exe.endswith(_DELETED):
            exe = exe[:-len(_DELETED)]
    except OSError:
        exe = None
    return exe, comm, zombie


def _read_process_ps(runner, pid):
    """``(exe, comm, False)`` from ``ps -p <pid> -o comm=`` (no /proc, e.g. macOS), or None when gone.

    macOS ``ps`` prints the executable's full path as ``comm``; anything else (another program, a
    zombie's bare name) matches no ``exe``. Raises StepError when ps cannot be run or times out.
    """
    rc, out, err, timed_out, error = runner([PS, "-p", str(pid), "-o", "comm="], env=dict(BASE_ENV, PATH=DEFAULT_PATH),
                                            cwd=None, timeout=PS_TIMEOUT, preexec_fn=None)
    if error or timed_out:
        raise StepError("cannot check pid %d with %s: %s" % (pid, PS, error or "timed out"))
    text = _full_text(out).rstrip("\r\n")
    if rc != 0 or not text:
        return None
    return (text if text.startswith("/") else None), text.rsplit("/", 1)[-1], False


def _process_info(proc_dir, pid, runner):
    """``_read_process`` where ``proc_dir`` exists (Linux), else ``_read_process_ps``."""
    if runner is not None and not os.path.isdir(proc_dir):
        return _read_process_ps(runner, pid)
    return _read_process(proc_dir, pid)


def _matches(info, exe, comm):
    if info is None or info[2]:
        return False
    if exe is not None:
        return info[0] == exe
    return info[1] == comm


def run_kill(step, options, result, runner=None):
    proc_dir = options.get("proc_dir") or PROC
    exe = step.get("exe")
    comm = step.get("comm")
    grace = step.get("grace", DEFAULT_GRACE)
    own = (os.getpid(), os.getppid())
    signalled, mismatched, gone, errors = [], [], [], []
    for pid in step["pids"]:
        info = _process_info(proc_dir, pid, runner)
        if info is None or info[2]:
            gone.append(pid)
            continue
        if pid in own or not _matches(info, exe, comm):
            mismatched.append(pid)
            continue
        try:
            os.kill(pid, signal.SIGTERM)
            signalled.append(pid)
        except ProcessLookupError:
            gone.append(pid)
        except OSError as exc:
            errors.append("pid %d: SIGTERM: %s" % (pid, exc.strerror))

    def alive(pids):
        return [p for p in pids if _matches(_process_info(proc_dir, p, runner), exe, comm)]

    budget = _Budget(grace)
    remaining = alive(signalled)
    while remaining and budget.left() > 0:
        budget.sleep(min(0.1, budget.left()))
        remaining = alive(remaining)
    killed = []
    for pid in remaining:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
        except OSError as exc:
            errors.append("pid %d: SIGKILL: %s" % (pid, exc.strerror))
    budget = _Budget(KILL_CONFIRM)
    remaining = alive(remaining)
    while remaining and budget.left() > 0:
        budget.sleep(min(0.1, budget.left()))
        remaining = alive(remaining)
    result.update(signalled=signalled, killed=killed, not_matching=mismatched, already_gone=gone,
                  still_running=remaining)
    if remaining:
        errors.append("still running after SIGKILL: %s" % ", ".join(str(p) for p in remaining))
    if errors:
        raise StepError("; ".join(errors))
    if signalled:
        return "changed", "signalled %s (SIGTERM), %s" % (
            ", ".join(str(p) for p in signalled),
            "SIGKILL after %s s: %s" % (grace, ", ".join(str(p) for p in killed)) if killed else "all ended")
    if mismatched:
        return "absent", "no process left that matches (recycled or different pids: %s)" % (
            ", ".join(str(p) for p in mismatched))
    return "absent", "no such process running"
