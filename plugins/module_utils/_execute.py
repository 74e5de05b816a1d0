# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: run a remediation plan's steps on the host. Decides nothing.

The planner (controller) decides what to remove; this module only carries out the steps it is
given, in order, and reports what happened to each one (docs/design.md, "Remediation").

* A failed step never stops the others: every finding's outcome is decided later by a re-scan.
  The one exception is ``requires``: a step that requires a step which failed (or was skipped) is
  skipped, so user data is never purged when its archive failed.
* Path steps re-check ``_protect.path_protection`` and refuse a path whose parent has a symbolic
  link in it; they then work through directory file descriptors opened with ``O_NOFOLLOW``, so a
  parent swapped for a link after the check is not followed either. Nothing follows links.
* Trees (archive, quarantine copies across file systems, purge) are walked by descriptors
  (``_dirwalk.walk_at``): each entry is opened relative to its directory's descriptor and checked with
  ``fstat`` against its ``lstat``, so a user swapping a sub-folder for a link while root walks it gets
  nothing from outside their files. Archives and copies are bounded in size, time and free space
  (``_execute_limits``; ``max_bytes`` and ``timeout`` of the step).
* Commands run from an argv list (never a shell) in a new session, so a timeout kills the whole
  process group.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._dirwalk import (
    NotADirectory, lstat_at, open_dir_nofollow, type_name, walk_at,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute_archive import (
    ArchiveError, Archiver)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute_copy import CopyError, copy_tree
from ansible_collections.govsec.banned_software.plugins.module_utils._execute_limits import (
    DEFAULT_MAX_BYTES, LimitExceeded, Limits)
from ansible_collections.govsec.banned_software.plugins.module_utils._protect import (
    USER_NAME_RE, normalise_path, path_protection)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute_files import (
    FILE_FIELDS, FILE_KINDS, FileStepError, check_file_step, run_remove_file, run_write_file)

KINDS = ("command", "kill", "quarantine", "archive", "purge") + FILE_KINDS
STATUSES = ("changed", "ok", "absent", "failed", "skipped")
PATH_TYPES = ("dir", "file", "link")

DEFAULT_LOCK_TIMEOUT = 300
DEFAULT_TIMEOUT = 900
DEFAULT_GRACE = 10
DEFAULT_QUARANTINE_DIR = "/var/lib/govsec-banned-software/quarantine"
DEFAULT_ARCHIVE_DIR = "/var/lib/govsec-banned-software/archive"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PROC = "/proc"
# Where there is no /proc (macOS), a process's executable comes from ``ps -p <pid> -o comm=``.
PS = "/bin/ps"
PS_TIMEOUT = 10

OUTPUT_LIMIT = 8192           # bytes kept of stdout and of stderr, each
HASH_LIMIT = 1 << 30          # files larger than this are not hashed in the manifest
KILL_CONFIRM = 5              # seconds to wait for SIGKILL to take effect
TERM_GRACE = 5                # seconds between SIGTERM and SIGKILL of a timed-out process group
LOCK_BACKOFF_FIRST = 1
LOCK_BACKOFF_MAX = 30
MAX_SUFFIX = 1000

LOCK_MESSAGES = {
    "dpkg": ("Could not get lock", "dpkg frontend lock", "is locked by another process",
             "dpkg status database is locked"),
    "rpm": ("can't create transaction lock", "RPM database is locked", "Waiting for process with pid",
            "database is locked"),
}

BASE_ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C", "DEBIAN_FRONTEND": "noninteractive"}

# \Z, not $: "$" also matches before a trailing newline.
RUN_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}\Z")
STEP_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}\Z")
ARCHIVE_NAME_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}\Z")
COMMAND_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}\Z")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")

CORE_FIELDS = ("id", "kind", "action", "findings", "requires")
# "packages", "manager" and "entry" are the planner's labels for the report: accepted, not used here.
LABEL_FIELDS = ("packages", "manager", "entry")
COMMON_FIELDS = CORE_FIELDS + LABEL_FIELDS
KIND_FIELDS = {
    "command": ("argv", "timeout", "env", "run_as", "ok_rc", "tolerate", "absent", "lock"),
    "kill": ("pids", "exe", "comm", "grace"),
    # max_bytes, timeout: limits of an archive, and of a quarantine copy across file systems.
    "quarantine": ("path", "type", "max_bytes", "timeout"),
    "archive": ("paths", "name", "max_bytes", "timeout"),
    "purge": ("path", "type"),
}
KIND_FIELDS.update(FILE_FIELDS)   # write_file, remove_file: reinstall blocks (_execute_files.py)
RUN_AS_FIELDS = ("user", "uid", "gid", "home")

_DELETED = " (deleted)"
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


class StepError(Exception):
    """A step cannot be carried out; the message says why. Nothing (more) was changed."""


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


# --- validation -----------------------------------------------------------------------------------

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text(value):
    return isinstance(value, str) and value != "" and "\x00" not in value


def _is_abs_path(value):
    return _is_text(value) and normalise_path(value) is not None


def _text_list(value, allow_empty=False):
    return (isinstance(value, list) and (allow_empty or len(value) > 0)
            and all(_is_text(v) for v in value))


def _valid_step_id(value):
    if _is_int(value):
        return True
    return isinstance(value, str) and STEP_ID_RE.match(value) is not None


def _check_command(step, bad):
    argv = step.get("argv")
    if not _text_list(argv):
        bad("argv", "must be a non-empty list of non-empty strings without NUL")
    elif not (argv[0].startswith("/") or COMMAND_NAME_RE.match(argv[0])):
        bad("argv", "argv[0] must be an absolute path or a bare command name, not %r" % argv[0])
    elif argv[0].startswith("/") and normalise_path(argv[0]) is None:
        bad("argv", "argv[0] %r is not a clean absolute path" % argv[0])
    if "timeout" in step and not (_is_int(step["timeout"]) and step["timeout"] > 0):
        bad("timeout", "must be a positive integer (seconds)")
    if "env" in step:
        env = step["env"]
        if not isinstance(env, dict):
            bad("env", "must be a mapping of variable names to strings")
        else:
            for key, value in env.items():
                if not (isinstance(key, str) and ENV_NAME_RE.match(key)):
                    bad("env", "invalid variable name %r" % (key,))
                elif not (isinstance(value, str) and "\x00" not in value):
                    bad("env", "value of %s must be a string without NUL" % key)
    if "run_as" in step:
        run_as = step["run_as"]
        if not isinstance(run_as, dict):
            bad("run_as", "must be a mapping with user, uid, gid and home")
        else:
            unknown = sorted(str(k) for k in run_as if k not in RUN_AS_FIELDS)
            missing = [k for k in RUN_AS_FIELDS if k not in run_as]
            if unknown:
                bad("run_as", "unknown keys %s" % ", ".join(unknown))
            if missing:
                bad("run_as", "missing %s" % ", ".join(missing))
            if "user" in run_as and not (isinstance(run_as["user"], str) and USER_NAME_RE.match(run_as["user"])):
                bad("run_as.user", "not a valid user name: %r" % (run_as["user"],))
            for key in ("uid", "gid"):
                if key in run_as and not (_is_int(run_as[key]) and run_as[key] >= 0):
                    bad("run_as.%s" % key, "must be a non-negative integer")
            if "home" in run_as and not _is_abs_path(run_as["home"]):
                bad("run_as.home", "must be a clean absolute path")
    if "ok_rc" in step:
        ok_rc = step["ok_rc"]
        if not (isinstance(ok_rc, list) and ok_rc and all(_is_int(v) for v in ok_rc)):
            bad("ok_rc", "must be a non-empty list of integers")
    for key in ("tolerate", "absent"):
        if key in step and not _text_list(step[key], allow_empty=True):
            bad(key, "must be a list of non-empty strings")
    if "lock" in step and step["lock"] not in LOCK_MESSAGES:
        bad("lock", "must be one of %s, not %r" % (", ".join(sorted(LOCK_MESSAGES)), step["lock"]))


def _check_kill(step, bad):
    pids = step.get("pids")
    if not (isinstance(pids, list) and pids and all(_is_int(p) and p > 1 for p in pids)):
        bad("pids", "must be a non-empty list of integers greater than 1")
    if "exe" not in step and "comm" not in step:
        bad("exe", "exe or comm is required (a pid is only signalled when it still matches)")
    if "exe" in step and not _is_abs_path(step["exe"]):
        bad("exe", "must be a clean absolute path")
    if "comm" in step and not (_is_text(step["comm"]) and len(step["comm"]) <= 64 and "\n" not in step["comm"]):
        bad("comm", "must be a non-empty process name without newline")
    if "grace" in step and not (_is_number(step["grace"]) and 0 <= step["grace"] <= 3600):
        bad("grace", "must be a number of seconds between 0 and 3600")


def _check_path_step(step, bad):
    if not _is_abs_path(step.get("path")):
        bad("path", "must be a clean absolute path (no '.', '..' or NUL)")
    if step.get("type") not in PATH_TYPES:
        bad("type", "must be one of %s, not %r" % (", ".join(PATH_TYPES), step.get("type")))


def _check_limits(step, bad):
    if "max_bytes" in step and not (_is_int(step["max_bytes"]) and step["max_bytes"] > 0):
        bad("max_bytes", "must be a positive integer (bytes)")
    if "timeout" in step and not (_is_int(step["timeout"]) and step["timeout"] > 0):
        bad("timeout", "must be a positive integer (seconds)")


def _check_quarantine(step, bad):
    _check_path_step(step, bad)
    _check_limits(step, bad)


def _check_archive(step, bad):
    paths = step.get("paths")
    if not (isinstance(paths, list) and paths and all(_is_abs_path(p) for p in paths)):
        bad("paths", "must be a non-empty list of clean absolute paths")
    name = step.get("name")
    if not (isinstance(name, str) and ARCHIVE_NAME_RE.match(name)):
        bad("name", "must match %s, not %r" % (ARCHIVE_NAME_RE.pattern, name))
    _check_limits(step, bad)


_CHECKS = {"command": _check_command, "kill": _check_kill, "quarantine": _check_quarantine,
           "archive": _check_archive, "purge": _check_path_step,
           "write_file": check_file_step, "remove_file": check_file_step}


def validate_steps(steps):
    """Return a list of error messages (empty when every step is well formed).

    Checks shapes only, strictly: unknown kinds and unknown fields are errors (a misspelt
    ``run_as`` must not silently run a command as root). Each message names the step and field.
    """
    if not isinstance(steps, list):
        return ["steps: must be a list of mappings"]
    errors = []
    seen = set()
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            errors.append("step #%d: must be a mapping, not %s" % (index + 1, type(step).__name__))
            continue
        step_id = step.get("id")
        label = "step %s" % (step_id,) if _valid_step_id(step_id) else "step #%d" % (index + 1)
        kind = step.get("kind")
        if kind in KINDS:
            label = "%s (%s)" % (label, kind)

        def bad(field, message, label=label):
            errors.append("%s: field %s: %s" % (label, field, message))

        if not _valid_step_id(step_id):
            bad("id", "must be an integer or a string matching %s, not %r" % (STEP_ID_RE.pattern, step_id))
        elif step_id in seen:
            bad("id", "duplicate step id %r" % (step_id,))
        if kind not in KINDS:
            bad("kind", "unknown kind %r (known: %s)" % (kind, ", ".join(KINDS)))
        else:
            unknown = sorted(str(k) for k in step if k not in COMMON_FIELDS + KIND_FIELDS[kind])
            if unknown:
                bad(unknown[0], "unknown field(s) %s for kind %s" % (", ".join(unknown), kind))
            _CHECKS[kind](step, bad)
        if "action" in step and not (step["action"] is None or isinstance(step["action"], str)):
            bad("action", "must be a string")
        if "findings" in step and not (isinstance(step["findings"], list)
                                       and all(isinstance(f, str) for f in step["findings"])):
            bad("findings", "must be a list of strings")
        if "requires" in step:
            requires = step["requires"]
            if not (isinstance(requires, list) and all(_valid_step_id(r) for r in requires)):
                bad("requires", "must be a list of step ids")
            else:
                for required in requires:
                    if required not in seen:
                        bad("requires", "step %r is not an earlier step of the plan" % (required,))
        if _valid_step_id(step_id):
            seen.add(step_id)
    return errors


def validate_run_id(run_id):
    return isinstance(run_id, str) and RUN_ID_RE.match(run_id) is not None


# --- helpers --------------------------------------------------------------------------------------

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


def _shown(path):
    """A path as text safe to report (non-UTF-8 bytes and control characters escaped)."""
    return json.dumps(path)[1:-1] if isinstance(path, str) else repr(path)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _open_dir_nofollow(path):
    """Open directory ``path`` component by component, never following a symbolic link.

    Raises StepError when a component is a link or not a directory; returns an fd.
    """
    try:
        return open_dir_nofollow(path)
    except NotADirectory as exc:
        raise StepError("%s is not a directory or is a symbolic link" % _shown(exc.path))


def _check_path(path, homes):
    """Return the normalised path after the refusals common to quarantine, archive and purge."""
    clean = normalise_path(path)
    reason = path_protection(path, homes)
    if clean is None or reason is not None:
        raise StepError("refused: %s is protected (%s)" % (_shown(path), reason or "not a clean absolute path"))
    parent = os.path.dirname(clean)
    real = os.path.realpath(parent)
    if real != parent:
        raise StepError("refused: a component of the parent of %s is a symbolic link (%s resolves to %s)"
                        % (_shown(clean), _shown(parent), _shown(real)))
    return clean


def _open_parent(clean):
    """fd of the parent directory of ``clean``, or None when it does not exist."""
    try:
        return _open_dir_nofollow(os.path.dirname(clean))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def _free_name(path, ext=""):
    """``path + ext`` or, when that exists, ``path.N + ext`` for the first free N."""
    candidate = path + ext
    number = 0
    while os.path.lexists(candidate):
        number += 1
        if number > MAX_SUFFIX:
            raise StepError("no free name for %s%s (%d taken)" % (_shown(path), ext, MAX_SUFFIX))
        candidate = "%s.%d%s" % (path, number, ext)
    return candidate


def _makedirs_private(path):
    """Create ``path`` and its missing parents, each with mode 0700 (owned by the caller).

    Returns ``realpath(path)``. Existing directories are left as they are.
    """
    missing = []
    probe = os.path.normpath(path)
    while not os.path.lexists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        else:
            os.chmod(directory, 0o700)
    if not os.path.isdir(path):
        raise StepError("%s is not a directory" % _shown(path))
    return os.path.realpath(path)


def _makedirs_inside(base_real, relative):
    """Create ``relative`` (0700 each) under the real directory ``base_real``; refuse links."""
    target = os.path.join(base_real, relative) if relative else base_real
    _makedirs_private(target)
    real = os.path.realpath(target)
    if real != os.path.normpath(target):
        raise StepError("refused: %s resolves to %s (symbolic link in the destination)"
                        % (_shown(target), _shown(real)))
    return target


def _sha256_fd(fd, limit=None):
    digest = hashlib.sha256()
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if limit is not None and total > limit:
            return None
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_path(path, limit=None):
    fd = os.open(path, _FILE_FLAGS)
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            return None
        return _sha256_fd(fd, limit)
    finally:
        os.close(fd)


def _tree_size(path):
    """Total size of the regular files under directory ``path`` (links not followed)."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


# --- tree operations through directory fds (no link is ever followed) -------------------------------

def _remove_at(parent_fd, name, st, errors):
    """Remove ``name`` in ``parent_fd``: unlink, or a depth-first delete of a real directory.

    Walks with ``_dirwalk.walk_at`` (files are not opened): never follows a link, enters a directory
    only once its descriptor is verified against its ``lstat``, never descends into another file
    system (a mount point inside the tree is left alone and reported). Errors are appended to
    ``errors``; it carries on past them.
    """
    for node in walk_at(parent_fd, name, st, open_files=False):
        kind = node.kind
        shown = _shown("/".join((name,) + node.parts))
        try:
            if kind in ("file", "link", "special"):
                os.unlink(node.name, dir_fd=node.parent_fd)
            elif kind == "leave":
                os.rmdir(node.name, dir_fd=node.parent_fd)
            elif kind == "mount":
                errors.append("%s: another file system is mounted there; not descended" % shown)
            elif kind in ("changed", "error"):
                errors.append("%s: %s" % (shown, node.reason))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                errors.append("%s: %s" % (shown, exc.strerror))


# --- step runners -----------------------------------------------------------------------------------

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


def _run_command(step, options, runner, result):
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
                            % (run_as["user"], _shown(run_as["home"])))
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
            raise StepError("the %s lock is held by another process: gave up after %d attempts in %d s "
                            "(lock_timeout %s s; no lock file was touched)"
                            % (step["lock"], result["attempts"], int(budget.used()), options["lock_timeout"]))
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


def _run_kill(step, options, result, runner=None):
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


def _checked_entry(step, homes):
    """Refusals common to quarantine and purge: ``(clean, parent_fd, name, st)``; st None = absent."""
    clean = _check_path(step["path"], homes)
    parent_fd = _open_parent(clean)
    if parent_fd is None:
        return clean, None, None, None
    name = os.path.basename(clean)
    try:
        st = lstat_at(parent_fd, name)
        if st is not None:
            actual = type_name(st.st_mode)
            if actual != step["type"]:
                raise StepError("refused: %s is a %s, the plan expects a %s; nothing was touched"
                                % (_shown(clean), actual, step["type"]))
    except BaseException:
        os.close(parent_fd)
        raise
    return clean, parent_fd, name, st


def _run_quarantine(step, options, result, clock):
    clean, parent_fd, name, st = _checked_entry(step, options["homes"])
    if st is None:
        if parent_fd is not None:
            os.close(parent_fd)
        return "absent", "%s does not exist" % _shown(clean)
    try:
        run_dir = _makedirs_private(os.path.join(options["quarantine_dir"], options["run_id"]))
        dest_parent = _makedirs_inside(run_dir, os.path.dirname(clean).lstrip("/"))
        dest = _free_name(os.path.join(dest_parent, name))
        try:
            os.rename(name, dest, src_dir_fd=parent_fd)
            how = "renamed"
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            how = "copied across file systems and removed"
            _move_across(step, options, parent_fd, name, st, clean, dest, result)
    finally:
        os.close(parent_fd)
    result["dest"] = dest
    entry = {"original": clean, "quarantined": dest, "type": step["type"],
             "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
             "size": st.st_size, "sha256": None, "time": _utc(clock())}
    try:
        if step["type"] == "file":
            entry["sha256"] = _sha256_path(dest, HASH_LIMIT)
        elif step["type"] == "dir":
            entry["size"] = _tree_size(dest)
        manifest = os.path.join(run_dir, "MANIFEST.jsonl")
        fd = os.open(manifest, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode("ascii"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise StepError("%s moved to %s, but the manifest was not written: %s"
                        % (_shown(clean), _shown(dest), exc.strerror))
    result["manifest"] = entry
    return "changed", "%s %s to %s" % (_shown(clean), how, _shown(dest))


def _move_across(step, options, parent_fd, name, st, clean, dest, result):
    """EXDEV fallback: copy to ``dest.partial`` by descriptors, rename it to ``dest``, remove the original.

    The original is removed only once the copy is complete (every file read to its end, unchanged
    while read, within the step's limits), the original is still the object that was copied, and the
    copy is on disk (``sync``). On any failure the partial copy is removed and the original stays.
    """
    partial = _free_name(dest + ".partial")
    out_dir, out_name = os.path.dirname(partial), os.path.basename(partial)
    not_copied = []
    out_fd = _open_dir_nofollow(out_dir)
    try:
        limits = Limits(step.get("max_bytes", DEFAULT_MAX_BYTES), step.get("timeout") or options["default_timeout"],
                        out_dir)
        copy_tree(parent_fd, name, st, out_fd, out_name, limits, clean, not_copied)
        now = lstat_at(parent_fd, name)
        if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise CopyError("%s was replaced while it was copied" % _shown(clean))
        os.sync()
        os.rename(partial, dest)
    except (OSError, CopyError, LimitExceeded) as exc:
        leftovers = []
        pst = lstat_at(out_fd, out_name)
        if pst is not None:
            _remove_at(out_fd, out_name, pst, leftovers)
        raise StepError("copy across file systems failed, original left in place: %s"
                        % (getattr(exc, "strerror", None) or exc))
    finally:
        os.close(out_fd)
    if not_copied:
        result["not_copied"] = not_copied
    errors = []
    _remove_at(parent_fd, name, st, errors)
    if errors:
        raise StepError("copied to %s but the original could not be fully removed: %s"
                        % (_shown(dest), "; ".join(errors[:5])))


def _run_purge(step, options, result):
    clean, parent_fd, name, st = _checked_entry(step, options["homes"])
    if st is None:
        if parent_fd is not None:
            os.close(parent_fd)
        return "absent", "%s does not exist" % _shown(clean)
    errors = []
    try:
        _remove_at(parent_fd, name, st, errors)
    finally:
        os.close(parent_fd)
    if errors:
        result["errors"] = errors[:20]
        raise StepError("%s partly removed, %d error(s): %s" % (_shown(clean), len(errors), "; ".join(errors[:5])))
    return "changed", "%s deleted" % _shown(clean)


def _archive_entries(step, homes):
    """``(entries, missing)``: ``entries`` = ``(clean, parent_fd, name, lstat)`` of each path that exists."""
    entries, missing = [], []
    try:
        for path in step["paths"]:
            clean = _check_path(path, homes)
            parent_fd = _open_parent(clean)
            st = None
            if parent_fd is not None:
                try:
                    st = lstat_at(parent_fd, os.path.basename(clean))
                finally:
                    if st is None:
                        os.close(parent_fd)
            if st is None:
                missing.append(clean)
            else:
                entries.append((clean, parent_fd, os.path.basename(clean), st))
    except BaseException:
        for entry in entries:
            os.close(entry[1])
        raise
    return entries, missing


def _run_archive(step, options, result):
    entries, missing = _archive_entries(step, options["homes"])
    try:
        result.update(archived=[e[0] for e in entries], missing=missing)
        if not entries:
            return "absent", "none of the paths exists"
        return _write_archive(step, options, result, entries)
    finally:
        for entry in entries:
            os.close(entry[1])


def _write_archive(step, options, result, entries):
    archive_dir = _makedirs_private(options["archive_dir"])
    dest = _free_name(os.path.join(archive_dir, step["name"]), ".tar.gz")
    sums = dest + ".sha256"
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                limits = Limits(step.get("max_bytes", DEFAULT_MAX_BYTES),
                                step.get("timeout") or options["default_timeout"], archive_dir)
                archiver = Archiver(tar, limits)
                for clean, parent_fd, name, st in entries:
                    archiver.add_tree(parent_fd, name, st, clean)
        with tarfile.open(dest, mode="r:gz") as tar:
            names = tar.getnames()
        if names != archiver.added:
            raise StepError("archive %s reads back %d members, %d were written"
                            % (_shown(dest), len(names), len(archiver.added)))
        digest = _sha256_path(dest)
        sfd = os.open(sums, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(sfd, "wb") as handle:
            handle.write(("%s  %s\n" % (digest, os.path.basename(dest))).encode("utf-8", "surrogateescape"))
    except BaseException as exc:
        for leftover in (dest, sums):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        if isinstance(exc, (OSError, tarfile.TarError, ArchiveError, LimitExceeded)):
            raise StepError("archive not written, the data is left as it was: %s"
                            % (getattr(exc, "strerror", None) or exc))
        raise
    added = archiver.added
    result.update(dest=dest, sha256=digest, sha256_file=sums, members=len(added),
                  not_archived=archiver.not_archived, not_archived_count=archiver.not_archived_count,
                  bytes_read=limits.taken)
    skipped = ""
    if archiver.not_archived_count:
        skipped = ", %d entr%s not archived (not_archived)" % (
            archiver.not_archived_count, "y" if archiver.not_archived_count == 1 else "ies")
    return "changed", "%d path(s), %d member(s) archived to %s (read back)%s" % (
        len(entries), len(added), _shown(dest), skipped)


# --- the plan ---------------------------------------------------------------------------------------

def _options(options):
    options = dict(options or {})
    options.setdefault("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    options.setdefault("default_timeout", DEFAULT_TIMEOUT)
    options.setdefault("quarantine_dir", DEFAULT_QUARANTINE_DIR)
    options.setdefault("archive_dir", DEFAULT_ARCHIVE_DIR)
    options.setdefault("check_mode", False)
    for key in ("lock_timeout", "default_timeout", "quarantine_dir", "archive_dir"):
        if options[key] is None:
            options[key] = {"lock_timeout": DEFAULT_LOCK_TIMEOUT, "default_timeout": DEFAULT_TIMEOUT,
                            "quarantine_dir": DEFAULT_QUARANTINE_DIR, "archive_dir": DEFAULT_ARCHIVE_DIR}[key]
    options["homes"] = list(options.get("homes") or ())
    return options


def run_plan(steps, options, runner=None, now=None):
    """Run ``steps`` in order and return one result per step (see the module's RETURN).

    ``options``: ``lock_timeout``, ``default_timeout``, ``quarantine_dir``, ``archive_dir``,
    ``run_id``, ``check_mode``, ``homes`` (and ``proc_dir`` for tests). ``runner`` replaces
    ``run_argv``; ``now`` replaces ``time.time``. Raises ValueError when the plan is malformed
    (nothing is run then).
    """
    errors = validate_steps(steps)
    options = _options(options)
    if not validate_run_id(options.get("run_id")):
        errors.append("run_id: must match %s" % RUN_ID_RE.pattern)
    if errors:
        raise ValueError("; ".join(errors))
    runner = runner or run_argv
    clock = now or time.time
    results = []
    statuses = {}
    for step in steps:
        result = {"id": step["id"], "kind": step["kind"], "action": step.get("action"),
                  "status": "skipped", "msg": "", "duration": 0.0}
        if step["kind"] == "command":
            result.update(cmd=list(step["argv"]), rc=None, stdout="", stderr="", attempts=0)
        results.append(result)
        if options["check_mode"]:
            result["msg"] = "check mode"
            statuses[step["id"]] = "skipped"
            continue
        blocked = [r for r in step.get("requires") or () if statuses.get(r) in ("failed", "skipped", None)]
        if blocked:
            result["msg"] = "skipped: required step %s %s" % (
                blocked[0], "failed" if statuses.get(blocked[0]) == "failed" else "did not run")
            statuses[step["id"]] = "skipped"
            continue
        start = clock()
        try:
            kind = step["kind"]
            if kind == "command":
                status, msg = _run_command(step, options, runner, result)
            elif kind == "kill":
                status, msg = _run_kill(step, options, result, runner)
            elif kind == "quarantine":
                status, msg = _run_quarantine(step, options, result, clock)
            elif kind == "archive":
                status, msg = _run_archive(step, options, result)
            elif kind == "write_file":
                status, msg = run_write_file(step, options, result)
            elif kind == "remove_file":
                status, msg = run_remove_file(step, options, result)
            else:
                status, msg = _run_purge(step, options, result)
        except (StepError, FileStepError) as exc:
            status, msg = "failed", str(exc)
        except (OSError, shutil.Error, tarfile.TarError) as exc:
            status, msg = "failed", "%s: %s" % (type(exc).__name__, getattr(exc, "strerror", None) or exc)
        except RecursionError:
            status, msg = "failed", "directory tree too deep"
        result.update(status=status, msg=msg, duration=round(max(0.0, clock() - start), 3))
        statuses[step["id"]] = status
    return results
