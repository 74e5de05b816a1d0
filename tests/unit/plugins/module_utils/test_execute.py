# -*- coding: utf-8 -*-
"""The executor's step runners: commands, kill, quarantine, archive, purge, requires, check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import pkglock, process
from ansible_collections.govsec.banned_software.plugins.module_utils._execute import copy as _execute_copy
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import validate_steps

SH = "/bin/sh"
ODD = os.fsdecode(b"we\nchat\xff")  # a name with a newline and a byte that is not UTF-8


@pytest.fixture
def tree(tmp_path):
    """tmp/home/alice with WeChat data, tmp/outside (a target links point to), tmp/q and tmp/a."""
    home = tmp_path / "home" / "alice"
    data = home / ".xwechat"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "msg.db").write_bytes(b"messages")
    os.chmod(str(data / "sub" / "msg.db"), 0o640)
    (home / ".local" / "share").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    return tmp_path


def opts(root, **extra):
    options = {"run_id": "r1", "quarantine_dir": str(root / "q"), "archive_dir": str(root / "a"),
               "homes": [str(root / "home" / "alice")], "lock_timeout": 5, "default_timeout": 30}
    options.update(extra)
    return options


def run_one(step, options):
    step = dict(step)
    step.setdefault("id", 1)
    results = run_plan([step], options)
    assert len(results) == 1
    return results[0]


def gone_or_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (IOError, OSError):
        return True
    return state in ("Z", "X")


# --- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("step, expected", [
    ({"id": 1, "kind": "reboot"}, "step 1: field kind: unknown kind 'reboot'"),
    ({"id": 1, "kind": "command"}, "step 1 (command): field argv: must be a non-empty list"),
    ({"id": 1, "kind": "command", "argv": "rm -rf /"}, "step 1 (command): field argv: must be a non-empty list"),
    ({"id": 1, "kind": "command", "argv": ["/bin/true", 3]}, "step 1 (command): field argv: must be a non-empty list"),
    ({"id": 1, "kind": "command", "argv": ["bin/true"]}, "step 1 (command): field argv: argv[0] must be an absolute"),
    ({"id": 1, "kind": "command", "argv": ["/bin/../bin/true"]}, "field argv: argv[0] '/bin/../bin/true' is not a clean"),
    ({"id": 1, "kind": "command", "argv": ["true"], "timeout": "60"}, "step 1 (command): field timeout: must be a positive"),
    ({"id": 1, "kind": "command", "argv": ["true"], "timeout": True}, "field timeout: must be a positive integer"),
    ({"id": 1, "kind": "command", "argv": ["true"], "run_As": {}}, "step 1 (command): field run_As: unknown field(s) run_As"),
    ({"id": 1, "kind": "command", "argv": ["true"], "run_as": {"user": "alice", "uid": 1000, "gid": 1000}},
     "field run_as: missing home"),
    ({"id": 1, "kind": "command", "argv": ["true"], "run_as": {"user": "a;b", "uid": 1, "gid": 1, "home": "/h/a"}},
     "field run_as.user: not a valid user name"),
    ({"id": 1, "kind": "command", "argv": ["true"], "ok_rc": [0, "1"]}, "field ok_rc: must be a non-empty list of integers"),
    ({"id": 1, "kind": "command", "argv": ["true"], "lock": "apt"}, "field lock: must be one of dpkg, rpm, not 'apt'"),
    ({"id": 1, "kind": "command", "argv": ["true"], "env": {"A B": "x"}}, "field env: invalid variable name 'A B'"),
    ({"id": 1, "kind": "kill", "pids": [1], "comm": "wechat"}, "field pids: must be a non-empty list of integers greater than 1"),
    ({"id": 1, "kind": "kill", "pids": [-1], "comm": "wechat"}, "field pids: must be a non-empty list"),
    ({"id": 1, "kind": "kill", "pids": [123]}, "field exe: exe or comm is required"),
    ({"id": 1, "kind": "quarantine", "path": "opt/wechat", "type": "dir"}, "field path: must be a clean absolute path"),
    ({"id": 1, "kind": "purge", "path": "/opt/x/../../etc", "type": "dir"}, "field path: must be a clean absolute path"),
    ({"id": 1, "kind": "purge", "path": "/opt/x", "type": "directory"}, "field type: must be one of dir, file, link"),
    ({"id": 1, "kind": "archive", "paths": ["/home/a/.x"], "name": "../x"}, "field name: must match"),
    ({"id": 1, "kind": "archive", "paths": [], "name": "x"}, "field paths: must be a non-empty list"),
    ({"id": 1, "kind": "archive", "paths": ["/home/a/.x"], "name": "x\n"}, "field name: must match"),
    ({"id": 1, "kind": "command", "argv": ["dpkg\n"]}, "field argv: argv[0] must be an absolute path or a bare"),
    ({"id": 1, "kind": "command", "argv": ["true"], "env": {"A\n": "x"}}, "field env: invalid variable name"),
    ({"id": "1\n", "kind": "purge", "path": "/opt/x", "type": "dir"}, "step #1 (purge): field id: must be"),
    ({"id": "a b", "kind": "purge", "path": "/opt/x", "type": "dir"}, "step #1 (purge): field id: must be an integer or a string"),
    ({"id": 1, "kind": "purge", "path": "/opt/x", "type": "dir", "requires": [2]},
     "step 1 (purge): field requires: step 2 is not an earlier step of the plan"),
])
def test_validate_steps_names_step_and_field(step, expected):
    errors = validate_steps([step])
    assert len(errors) >= 1
    assert expected in errors[0], errors


def test_validate_steps_accepts_the_design_example_and_rejects_duplicates():
    good = {"id": 1, "kind": "command", "action": "stop_service", "argv": ["systemctl", "stop", "kesl.service"],
            "findings": ["service|machine|kesl.service|/lib/systemd/system/kesl.service"], "timeout": 120,
            "ok_rc": [0], "tolerate": ["System has not been booted with systemd"]}
    assert validate_steps([good]) == []
    assert validate_steps([good, dict(good)]) == ["step 1 (command): field id: duplicate step id 1"]
    assert validate_steps("x") == ["steps: must be a list of mappings"]


def test_run_plan_refuses_a_malformed_plan_before_running_anything(tmp_path):
    marker = tmp_path / "ran"
    steps = [{"id": 1, "kind": "command", "argv": [SH, "-c", 'touch "$0"', str(marker)]},
             {"id": 2, "kind": "command", "argv": "echo"}]
    with pytest.raises(ValueError) as exc:
        run_plan(steps, {"run_id": "r1"})
    assert "step 2 (command): field argv" in str(exc.value)
    assert not marker.exists()
    with pytest.raises(ValueError) as exc:
        run_plan([], {"run_id": "../x"})
    assert "run_id: must match" in str(exc.value)


# --- command --------------------------------------------------------------------------------------

def test_command_success_env_and_result_shape(tmp_path):
    step = {"id": 7, "kind": "command", "action": "probe",
            "argv": [SH, "-c", 'printf "%s|%s|%s|%s|%s" "$LC_ALL" "$LANG" "$LANGUAGE" "$DEBIAN_FRONTEND" "$FOO"'],
            "env": {"FOO": "bar", "LANG": "C.UTF-8"}}
    res = run_one(step, opts(tmp_path))
    assert res["status"] == "changed"
    assert res["stdout"] == "C|C.UTF-8|C|noninteractive|bar"
    assert (res["id"], res["kind"], res["action"], res["rc"], res["attempts"], res["stderr"]) == (
        7, "command", "probe", 0, 1, "")
    assert res["cmd"] == step["argv"]
    assert res["msg"] == "rc 0"
    assert isinstance(res["duration"], float) and res["duration"] >= 0


def test_command_bare_name_is_found_in_path(tmp_path):
    res = run_one({"kind": "command", "argv": ["echo", "hello"]}, opts(tmp_path))
    assert (res["status"], res["stdout"]) == ("changed", "hello\n")


@pytest.mark.parametrize("script, extra, status, msg", [
    ("exit 3", {"ok_rc": [0, 3]}, "changed", "rc 3"),
    ("exit 3", {}, "failed", "rc 3 (expected 0)"),
    ("echo 'System has not been booted with systemd' >&2; exit 1",
     {"tolerate": ["System has not been booted with systemd"]}, "ok",
     "rc 1 tolerated (output has 'System has not been booted with systemd')"),
    ("echo 'something else' >&2; exit 1", {"tolerate": ["is not installed"]}, "failed", "rc 1 (expected 0)"),
    ("echo 'package wechat is not installed'; exit 1", {"absent": ["is not installed"]}, "absent",
     "already absent (rc 1, output has 'is not installed')"),
    ("echo 'snap \"wechat\" is not installed' >&2; exit 0", {"absent": ["is not installed"]}, "absent",
     "already absent (rc 0, output has 'is not installed')"),
    ("echo 'Could not get lock /var/lib/dpkg/lock' >&2; exit 2", {}, "failed", "rc 2 (expected 0)"),
])
def test_command_status(tmp_path, script, extra, status, msg):
    step = {"kind": "command", "argv": [SH, "-c", script]}
    step.update(extra)
    res = run_one(step, opts(tmp_path))
    assert (res["status"], res["msg"]) == (status, msg)
    assert res["attempts"] == 1


def test_command_cannot_start(tmp_path):
    res = run_one({"kind": "command", "argv": [str(tmp_path / "no-such-binary")]}, opts(tmp_path))
    assert res["status"] == "failed"
    assert res["rc"] is None
    assert res["msg"].startswith("cannot run %s: " % (tmp_path / "no-such-binary"))


def test_command_timeout_kills_the_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = 'sleep 60 & echo $! > "$0"; wait'
    start = time.time()
    res = run_one({"kind": "command", "argv": [SH, "-c", script, str(pidfile)], "timeout": 1}, opts(tmp_path))
    assert time.time() - start < 15
    assert res["status"] == "failed"
    assert res["msg"] == "timed out after 1 s (process group killed)"
    child = int(pidfile.read_text().strip())
    deadline = time.time() + 5
    while not gone_or_zombie(child) and time.time() < deadline:
        time.sleep(0.05)
    assert gone_or_zombie(child), "the background sleep %d survived the timeout" % child


def test_command_output_is_truncated_with_a_marker(tmp_path):
    script = "head -c 20000 /dev/zero | tr '\\0' a; echo; echo END"
    res = run_one({"kind": "command", "argv": [SH, "-c", script]}, opts(tmp_path))
    out = res["stdout"]
    assert out.startswith("a" * 4096)
    assert out.endswith("END\n")
    assert "\n[... %d bytes truncated ...]\n" % (20005 - 8192) in out
    assert len(out) == 8192 + len("\n[... %d bytes truncated ...]\n" % (20005 - 8192))


def counter_script(counter, locked_times, message):
    """argv of a fake package manager: prints ``message`` and fails the first ``locked_times`` runs."""
    code = ("import sys\n"
            "p = sys.argv[1]\n"
            "try:\n    n = int(open(p).read())\nexcept IOError:\n    n = 0\n"
            "open(p, 'w').write(str(n + 1))\n"
            "if n < %d:\n    sys.stderr.write(%r + '\\n'); sys.exit(100)\n"
            "print('removed')\n" % (locked_times, message))
    return [sys.executable, "-c", code, str(counter)]


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs /proc/locks (Linux)")
def test_the_rpm_lock_rpm_names_is_looked_up_where_rpm_keeps_it(tmp_path, monkeypatch):
    """rpm's %_rpmlock_path is not always /var/lib/rpm (Debian's rpm: ~/.rpmdb): the path in its own message counts."""
    monkeypatch.setattr(process, "_sleep", lambda seconds: None)
    lock_file = tmp_path / "rpmdb" / ".rpm.lock"
    lock_file.parent.mkdir()
    lock_file.write_text("")
    monkeypatch.setitem(pkglock.LOCK_FILES, "rpm", (str(tmp_path / "missing"),))
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'r+'); "
                               "fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
                               str(lock_file)], stdout=subprocess.PIPE)
    message = "error: can't create transaction lock on %s (Resource temporarily unavailable)" % lock_file
    try:
        assert holder.stdout.readline() == b"held\n"
        res = run_one({"kind": "command", "argv": counter_script(tmp_path / "count", 99, message), "lock": "rpm"},
                      opts(tmp_path, lock_timeout=2))
    finally:
        holder.kill()
        holder.wait()
    assert res["status"] == "failed"
    assert res["msg"].startswith("the rpm lock is held by another process (held by pid %d (" % holder.pid), res["msg"]
    assert ") on %s): gave up" % lock_file in res["msg"]


def test_named_lock_files_reads_only_rpms_own_message():
    assert pkglock.named_lock_files("rpm", "error: can't create transaction lock on /var/lib/rpm/.rpm.lock (x)") == (
        "/var/lib/rpm/.rpm.lock",)
    assert pkglock.named_lock_files("rpm", "can't create transaction lock on relative/path (x)") == ()
    assert pkglock.named_lock_files("rpm", "error: package x is not installed") == ()
    assert pkglock.named_lock_files("dpkg", "can't create transaction lock on /var/lib/rpm/.rpm.lock (x)") == ()


@pytest.mark.parametrize("lock, message", [
    ("dpkg", "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (apt-get)"),
    ("dpkg", "dpkg: error: dpkg frontend lock was locked by another process with pid 1234"),
    ("rpm", "error: can't create transaction lock on /var/lib/rpm/.rpm.lock (Resource temporarily unavailable)"),
])
def test_command_lock_retry_with_backoff(tmp_path, monkeypatch, lock, message):
    sleeps = []
    monkeypatch.setattr(process, "_sleep", sleeps.append)
    counter = tmp_path / "count"
    res = run_one({"kind": "command", "argv": counter_script(counter, 2, message), "lock": lock},
                  opts(tmp_path, lock_timeout=5))
    assert (res["status"], res["attempts"], res["rc"], res["stdout"]) == ("changed", 3, 0, "removed\n")
    assert sleeps == [1, 2]
    assert counter.read_text() == "3"


def test_command_lock_gives_up_after_lock_timeout(tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(process, "_sleep", sleeps.append)
    lock_file = tmp_path / "lock-frontend"
    lock_file.write_text("")
    monkeypatch.setitem(pkglock.LOCK_FILES, "dpkg", (str(lock_file),))
    counter = tmp_path / "count"
    res = run_one({"kind": "command", "argv": counter_script(counter, 99, "E: Could not get lock %s" % lock_file),
                   "lock": "dpkg"}, opts(tmp_path, lock_timeout=3))
    assert res["status"] == "failed"
    assert res["attempts"] == 3
    assert sleeps == [1, 2]
    assert res["msg"] == ("the dpkg lock is held by another process (holder unknown): gave up after 3 attempts in 3 s "
                          "(lock_timeout 3 s; no lock file was touched)")
    assert lock_file.exists()


def test_command_lock_messages_of_the_other_manager_do_not_retry(tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(process, "_sleep", sleeps.append)
    counter = tmp_path / "count"
    res = run_one({"kind": "command", "argv": counter_script(counter, 2, "RPM database is locked"), "lock": "dpkg"},
                  opts(tmp_path))
    assert (res["status"], res["attempts"], sleeps) == ("failed", 1, [])


def test_run_as_refused_when_not_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    marker = tmp_path / "ran"
    res = run_one({"kind": "command", "argv": [SH, "-c", 'touch "$0"', str(marker)],
                   "run_as": {"user": "alice", "uid": 1000, "gid": 1000, "home": str(tmp_path)}}, opts(tmp_path))
    assert res["status"] == "failed"
    assert res["msg"] == "run_as alice needs root, but the executor runs as uid 1000; nothing was run"
    assert (res["rc"], res["attempts"]) == (None, 0)
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
def test_run_as_drops_privileges(tmp_path):
    home = tmp_path / "nobody"
    home.mkdir()
    script = 'printf "%s %s %s %s %s %s" "$(id -u)" "$(id -g)" "$(id -G)" "$HOME" "$USER$LOGNAME" "$(pwd)"'
    res = run_one({"kind": "command", "argv": [SH, "-c", script],
                   "run_as": {"user": "nobody", "uid": 65534, "gid": 65534, "home": str(home)}}, opts(tmp_path))
    assert res["status"] == "changed", res
    assert res["stdout"] == "65534 65534 65534 %s nobodynobody %s" % (home, home)


def test_runner_is_injectable(tmp_path):
    calls = []

    def runner(argv, env=None, cwd=None, timeout=None, preexec_fn=None):
        calls.append((argv, env["LC_ALL"], env["DEBIAN_FRONTEND"], cwd, timeout, preexec_fn))
        return 0, b"ok\n", b"", False, None

    res = run_plan([{"id": 1, "kind": "command", "argv": ["dpkg", "--purge", "wechat"]}],
                   opts(tmp_path, default_timeout=77), runner=runner)
    assert calls == [(["dpkg", "--purge", "wechat"], "C", "noninteractive", None, 77, None)]
    assert (res[0]["status"], res[0]["stdout"]) == ("changed", "ok\n")


# --- kill -----------------------------------------------------------------------------------------

class FakeProcs(object):
    """A fake /proc and os.kill: a pid dies on SIGTERM unless stubborn, always on SIGKILL."""

    def __init__(self, root):
        self.root = root
        self.signals = []
        self.stubborn = set()

    def add(self, pid, comm, exe=None, state="S"):
        base = self.root / str(pid)
        base.mkdir()
        (base / "comm").write_text(comm + "\n")
        (base / "stat").write_text("%d (%s) %s 1 1 1" % (pid, comm, state))
        if exe:
            os.symlink(exe, str(base / "exe"))

    def kill(self, pid, sig):
        self.signals.append((pid, sig))
        base = self.root / str(pid)
        if not base.exists():
            raise ProcessLookupError(errno.ESRCH, "No such process")
        if sig == signal.SIGKILL or pid not in self.stubborn:
            for child in base.iterdir():
                child.unlink()
            base.rmdir()


@pytest.fixture
def procs(tmp_path, monkeypatch):
    root = tmp_path / "proc"
    root.mkdir()
    fake = FakeProcs(root)
    monkeypatch.setattr(os, "kill", fake.kill)
    monkeypatch.setattr(process, "_sleep", lambda seconds: None)
    return fake


def test_kill_only_signals_pids_that_still_match(tmp_path, procs):
    procs.add(900001, "wechat", "/opt/wechat/wechat")
    procs.add(900002, "wechat", "/opt/wechat/wechat (deleted)")
    procs.add(900003, "bash", "/usr/bin/bash")            # pid recycled by another program
    procs.add(900004, "wechat", "/home/alice/wechat")     # same comm, other exe
    procs.stubborn.add(900002)
    res = run_one({"kind": "kill", "pids": [900001, 900002, 900003, 900004, 900005],
                   "exe": "/opt/wechat/wechat", "comm": "wechat", "grace": 1},
                  opts(tmp_path, proc_dir=str(procs.root)))
    assert procs.signals == [(900001, signal.SIGTERM), (900002, signal.SIGTERM), (900002, signal.SIGKILL)]
    assert res["status"] == "changed"
    assert (res["signalled"], res["killed"], res["not_matching"], res["already_gone"], res["still_running"]) == (
        [900001, 900002], [900002], [900003, 900004], [900005], [])
    assert res["msg"] == "signalled 900001, 900002 (SIGTERM), SIGKILL after 1 s: 900002"
    assert (procs.root / "900003").exists() and (procs.root / "900004").exists()


def test_kill_by_comm_and_nothing_left(tmp_path, procs):
    procs.add(900011, "kesl", None)
    procs.add(900012, "klnagent", None)
    procs.add(900013, "kesl", None, state="Z")
    res = run_one({"kind": "kill", "pids": [900011, 900012, 900013], "comm": "kesl"},
                  opts(tmp_path, proc_dir=str(procs.root)))
    assert procs.signals == [(900011, signal.SIGTERM)]
    assert (res["status"], res["msg"]) == ("changed", "signalled 900011 (SIGTERM), all ended")
    res = run_one({"kind": "kill", "pids": [900011], "comm": "kesl"}, opts(tmp_path, proc_dir=str(procs.root)))
    assert (res["status"], res["msg"]) == ("absent", "no such process running")
    res = run_one({"kind": "kill", "pids": [900012], "comm": "kesl"}, opts(tmp_path, proc_dir=str(procs.root)))
    assert (res["status"], res["msg"]) == ("absent", "no process left that matches (recycled or different pids: 900012)")
    assert procs.signals == [(900011, signal.SIGTERM)]


def test_kill_with_exe_does_not_signal_when_exe_is_unreadable(tmp_path, procs):
    procs.add(900021, "wechat", None)
    res = run_one({"kind": "kill", "pids": [900021], "exe": "/opt/wechat/wechat"},
                  opts(tmp_path, proc_dir=str(procs.root)))
    assert procs.signals == []
    assert res["status"] == "absent"


def test_kill_reports_a_process_that_survives_sigkill(tmp_path, procs, monkeypatch):
    procs.add(900031, "wechat", None)
    monkeypatch.setattr(os, "kill", lambda pid, sig: procs.signals.append((pid, sig)))
    res = run_one({"kind": "kill", "pids": [900031], "comm": "wechat", "grace": 0.5},
                  opts(tmp_path, proc_dir=str(procs.root)))
    assert procs.signals == [(900031, signal.SIGTERM), (900031, signal.SIGKILL)]
    assert res["status"] == "failed"
    assert res["msg"] == "still running after SIGKILL: 900031"
    assert res["still_running"] == [900031]


# --- quarantine -----------------------------------------------------------------------------------

def manifest_lines(root, run_id="r1"):
    """The manifest's full lines, after checking that each follows its ``moving`` line (written before the move)."""
    with open(str(root / "q" / run_id / "MANIFEST.jsonl")) as handle:
        lines = [json.loads(line) for line in handle]
    moving = [line for line in lines if line.get("state") == "moving"]
    full = [line for line in lines if "state" not in line]
    assert lines == [item for pair in zip(moving, full) for item in pair], lines
    assert [(m["original"], m["quarantined"], m["type"]) for m in moving] == [
        (f["original"], f["quarantined"], f["type"]) for f in full]
    return full


def test_quarantine_dir_moves_and_records(tree):
    src = tree / "home" / "alice" / ".xwechat"
    os.symlink(str(tree / "outside"), str(src / "link-out"))
    res = run_one({"kind": "quarantine", "path": str(src), "type": "dir", "action": "quarantine_path"},
                  opts(tree))
    dest = str(tree / "q" / "r1") + str(src)
    assert res["status"] == "changed"
    assert res["dest"] == dest
    assert not os.path.lexists(str(src))
    assert os.readlink(os.path.join(dest, "link-out")) == str(tree / "outside")
    assert open(os.path.join(dest, "sub", "msg.db"), "rb").read() == b"messages"
    assert (tree / "outside" / "keep.txt").read_text() == "precious"
    assert stat.S_IMODE(os.stat(str(tree / "q" / "r1")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.dirname(dest)).st_mode) == 0o700
    lines = manifest_lines(tree)
    assert len(lines) == 1
    entry = lines[0]
    assert (entry["original"], entry["quarantined"], entry["type"], entry["sha256"], entry["size"]) == (
        str(src), dest, "dir", None, len(b"messages"))
    assert (entry["uid"], entry["gid"]) == (os.getuid(), os.getgid())
    assert sorted(entry) == ["gid", "mode", "original", "quarantined", "sha256", "size", "time", "type", "uid"]


def test_quarantine_file_with_odd_name_hash_and_time(tree):
    src = tree / "home" / "alice" / "Applications"
    src.mkdir()
    path = os.path.join(str(src), ODD)
    with open(path, "wb") as handle:
        handle.write(b"ELF-ish")
    os.chmod(path, 0o751)
    results = run_plan([{"id": 1, "kind": "quarantine", "path": path, "type": "file"}], opts(tree),
                       now=lambda: 1795953600.0)
    res = results[0]
    dest = str(tree / "q" / "r1") + path
    assert (res["status"], res["dest"]) == ("changed", dest)
    assert os.path.exists(os.fsencode(dest))
    entry = manifest_lines(tree)[0]
    assert entry == {"original": path, "quarantined": dest, "type": "file", "mode": "0751",
                     "uid": os.getuid(), "gid": os.getgid(), "size": 7,
                     "sha256": hashlib.sha256(b"ELF-ish").hexdigest(), "time": "2026-11-29T12:00:00Z"}
    assert "\\n" in res["msg"] and "\n" not in res["msg"]


def test_quarantine_existing_destination_gets_a_suffix(tree):
    src = tree / "home" / "alice" / ".xwechat"
    dest = str(tree / "q" / "r1") + str(src)
    os.makedirs(dest)
    open(os.path.join(dest, "earlier"), "w").close()
    res = run_one({"kind": "quarantine", "path": str(src), "type": "dir"}, opts(tree))
    assert (res["status"], res["dest"]) == ("changed", dest + ".1")
    assert os.listdir(dest) == ["earlier"]
    assert sorted(os.listdir(dest + ".1")) == ["sub"]
    assert manifest_lines(tree)[0]["quarantined"] == dest + ".1"


def test_quarantine_link_is_moved_not_followed(tree):
    link = tree / "home" / "alice" / ".xwechat-link"
    os.symlink(str(tree / "outside"), str(link))
    res = run_one({"kind": "quarantine", "path": str(link), "type": "link"}, opts(tree))
    assert res["status"] == "changed"
    assert os.readlink(res["dest"]) == str(tree / "outside")
    assert not os.path.lexists(str(link))
    assert (tree / "outside" / "keep.txt").read_text() == "precious"
    assert manifest_lines(tree)[0]["size"] == len(str(tree / "outside"))


def test_quarantine_absent(tree):
    res = run_one({"kind": "quarantine", "path": str(tree / "home" / "alice" / "nothing"), "type": "dir"}, opts(tree))
    assert (res["status"], res["msg"]) == ("absent", "%s does not exist" % (tree / "home" / "alice" / "nothing"))
    res = run_one({"kind": "quarantine", "path": str(tree / "no" / "parent" / "x"), "type": "file"}, opts(tree))
    assert res["status"] == "absent"
    assert not (tree / "q").exists()


def test_quarantine_refuses_a_parent_that_is_a_symlink_to_etc(tree):
    evil = tree / "home" / "alice" / ".xwechat" / "cfg"
    os.symlink("/etc", str(evil))
    before = os.lstat("/etc/passwd")
    for kind in ("quarantine", "purge"):
        res = run_one({"kind": kind, "path": str(evil / "passwd"), "type": "file"}, opts(tree))
        assert res["status"] == "failed"
        assert res["msg"] == ("refused: a component of the parent of %s is a symbolic link (%s resolves to /etc)"
                              % (evil / "passwd", evil))
    after = os.lstat("/etc/passwd")
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert not (tree / "q").exists()


def test_quarantine_refuses_a_path_that_became_a_symlink(tree):
    path = tree / "home" / "alice" / ".wechat-now-a-link"
    os.symlink(str(tree / "outside"), str(path))
    for kind in ("quarantine", "purge"):
        res = run_one({"kind": kind, "path": str(path), "type": "dir"}, opts(tree))
        assert res["status"] == "failed"
        assert res["msg"] == "refused: %s is a link, the plan expects a dir; nothing was touched" % path
    assert os.readlink(str(path)) == str(tree / "outside")
    assert (tree / "outside" / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("kind", ["quarantine", "purge"])
@pytest.mark.parametrize("path, reason", [
    ("/opt", "protected system path"),
    ("/etc/opt", "protected system path"),
    ("/usr/share/applications", "protected system path"),
    ("/var", "protected system path"),
    ("/wechat", "top-level path"),
    ("HOME", "a home directory"),
    ("HOME/.local", "a shared directory in a home"),
    ("HOME/.local/share", "a shared directory in a home"),
    ("TMP/home", "contains a home directory"),
])
def test_protected_paths_are_refused(tree, kind, path, reason):
    path = path.replace("HOME", str(tree / "home" / "alice")).replace("TMP", str(tree))
    existed = os.path.isdir(path)
    res = run_one({"kind": kind, "path": path, "type": "dir"}, opts(tree))
    assert res["status"] == "failed"
    assert res["msg"] == "refused: %s is protected (%s)" % (path, reason)
    assert (tree / "home" / "alice" / ".local" / "share").is_dir()
    assert os.path.isdir(path) == existed
    assert not (tree / "q").exists()


def test_quarantine_cross_device_fallback_preserves_and_removes(tree, monkeypatch):
    src = tree / "home" / "alice" / ".xwechat"
    os.symlink("../../../outside/keep.txt", str(src / "rel-link"))
    os.symlink("/etc", str(src / "etc-link"))
    os.mkfifo(str(src / "fifo"))
    os.utime(str(src / "sub" / "msg.db"), (1000000000, 1100000000))
    os.utime(str(src / "sub"), (1000000000, 1200000000))
    real_rename = os.rename
    calls = []

    def rename(src_path, dst_path, src_dir_fd=None, dst_dir_fd=None):
        calls.append(src_dir_fd is not None)
        if src_dir_fd is not None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src_path, dst_path)

    monkeypatch.setattr(os, "rename", rename)
    res = run_one({"kind": "quarantine", "path": str(src), "type": "dir"}, opts(tree))
    assert calls == [True, False]
    dest = str(tree / "q" / "r1") + str(src)
    assert (res["status"], res["dest"]) == ("changed", dest)
    assert res["msg"].endswith("copied across file systems and removed to %s" % dest)
    assert not os.path.lexists(str(src))
    assert os.readlink(os.path.join(dest, "rel-link")) == "../../../outside/keep.txt"
    assert os.readlink(os.path.join(dest, "etc-link")) == "/etc"
    assert stat.S_ISFIFO(os.lstat(os.path.join(dest, "fifo")).st_mode)
    copied = os.lstat(os.path.join(dest, "sub", "msg.db"))
    assert (stat.S_IMODE(copied.st_mode), int(copied.st_mtime)) == (0o640, 1100000000)
    assert int(os.lstat(os.path.join(dest, "sub")).st_mtime) == 1200000000
    assert open(os.path.join(dest, "sub", "msg.db"), "rb").read() == b"messages"
    assert not os.path.lexists(dest + ".partial")
    assert (tree / "outside" / "keep.txt").read_text() == "precious"
    assert os.path.isfile("/etc/passwd")


def test_quarantine_cross_device_copy_failure_leaves_the_original(tree, monkeypatch):
    src = tree / "home" / "alice" / ".xwechat"
    real_rename = os.rename

    def rename(src_path, dst_path, src_dir_fd=None, dst_dir_fd=None):
        if src_dir_fd is not None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src_path, dst_path)

    def broken_set_meta(fd, st):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(_execute_copy, "_set_meta", broken_set_meta)
    res = run_one({"kind": "quarantine", "path": str(src), "type": "dir"}, opts(tree))
    assert res["status"] == "failed"
    assert res["msg"] == "copy across file systems failed, original left in place: Operation not permitted"
    assert (src / "sub" / "msg.db").read_bytes() == b"messages"
    dest_parent = str(tree / "q" / "r1") + str(src.parent)
    assert os.listdir(dest_parent) == []


# --- archive --------------------------------------------------------------------------------------

def test_archive_contents_and_sha256_read_back(tree):
    home = tree / "home" / "alice"
    data = home / ".xwechat"
    os.symlink("/etc/shadow", str(data / "shadow-link"))
    with open(os.path.join(str(data), ODD), "wb") as handle:
        handle.write(b"odd")
    files = home / "xwechat_files"
    files.mkdir()
    (files / "photo.jpg").write_bytes(b"\xff\xd8jpeg")
    missing = str(home / "not-there")
    res = run_one({"kind": "archive", "paths": [str(data), missing, str(files)], "name": "alice-wechat"}, opts(tree))
    dest = str(tree / "a" / "alice-wechat.tar.gz")
    assert res["status"] == "changed"
    assert (res["dest"], res["sha256_file"]) == (dest, dest + ".sha256")
    assert res["archived"] == [str(data), str(files)]
    assert res["missing"] == [missing]
    rel = str(data).lstrip("/")
    relf = str(files).lstrip("/")
    with tarfile.open(dest, "r:gz") as tar:
        members = dict((m.name, m) for m in tar.getmembers())
        assert sorted(members) == sorted([rel, rel + "/sub", rel + "/sub/msg.db", rel + "/shadow-link",
                                          rel + "/" + ODD, relf, relf + "/photo.jpg"])
        assert members[rel + "/shadow-link"].issym()
        assert members[rel + "/shadow-link"].linkname == "/etc/shadow"
        assert tar.extractfile(members[rel + "/sub/msg.db"]).read() == b"messages"
        assert tar.extractfile(members[rel + "/" + ODD]).read() == b"odd"
        assert tar.extractfile(members[relf + "/photo.jpg"]).read() == b"\xff\xd8jpeg"
        assert members[rel + "/sub/msg.db"].mode == 0o640
    assert res["members"] == 7
    digest = hashlib.sha256(open(dest, "rb").read()).hexdigest()
    assert res["sha256"] == digest
    assert open(dest + ".sha256").read() == "%s  alice-wechat.tar.gz\n" % digest
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tree / "a")).st_mode) == 0o700
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"  # archiving removes nothing


def test_archive_never_overwrites(tree):
    (tree / "a").mkdir(mode=0o700)
    (tree / "a" / "alice-wechat.tar.gz").write_bytes(b"older archive")
    data = str(tree / "home" / "alice" / ".xwechat")
    res = run_one({"kind": "archive", "paths": [data], "name": "alice-wechat"}, opts(tree))
    assert (res["status"], res["dest"]) == ("changed", str(tree / "a" / "alice-wechat.1.tar.gz"))
    assert (tree / "a" / "alice-wechat.tar.gz").read_bytes() == b"older archive"
    assert (tree / "a" / "alice-wechat.1.tar.gz.sha256").read_text().endswith("  alice-wechat.1.tar.gz\n")


def test_archive_absent_and_protected(tree):
    home = tree / "home" / "alice"
    res = run_one({"kind": "archive", "paths": [str(home / "x"), str(home / "y")], "name": "n"}, opts(tree))
    assert (res["status"], res["msg"], res["missing"]) == (
        "absent", "none of the paths exists", [str(home / "x"), str(home / "y")])
    res = run_one({"kind": "archive", "paths": [str(home / ".xwechat"), str(home / ".local")], "name": "n"}, opts(tree))
    assert (res["status"], res["msg"]) == ("failed", "refused: %s is protected (a shared directory in a home)"
                                           % (home / ".local"))
    assert not (tree / "a").exists()


def test_archive_refuses_a_symlinked_parent(tree):
    evil = tree / "home" / "alice" / ".xwechat" / "cfg"
    os.symlink("/etc", str(evil))
    res = run_one({"kind": "archive", "paths": [str(evil / "shadow")], "name": "n"}, opts(tree))
    assert res["status"] == "failed"
    assert res["msg"].startswith("refused: a component of the parent of %s is a symbolic link" % (evil / "shadow"))
    assert not (tree / "a").exists()


# --- purge ----------------------------------------------------------------------------------------

def test_purge_dir_with_a_symlink_to_outside_keeps_the_target(tree):
    data = tree / "home" / "alice" / ".xwechat"
    os.symlink(str(tree / "outside"), str(data / "sub" / "to-outside"))
    os.symlink(str(tree / "outside" / "keep.txt"), str(data / "keep-link"))
    with open(os.path.join(str(data), ODD), "wb") as handle:
        handle.write(b"x")
    res = run_one({"kind": "purge", "path": str(data), "type": "dir"}, opts(tree))
    assert (res["status"], res["msg"]) == ("changed", "%s deleted" % data)
    assert not os.path.lexists(str(data))
    assert (tree / "outside" / "keep.txt").read_text() == "precious"
    assert os.listdir(str(tree / "outside")) == ["keep.txt"]


def test_purge_file_and_link(tree):
    home = tree / "home" / "alice"
    (home / "wechat.AppImage").write_bytes(b"x")
    os.symlink(str(tree / "outside"), str(home / "wechat-link"))
    res = run_one({"kind": "purge", "path": str(home / "wechat.AppImage"), "type": "file"}, opts(tree))
    assert res["status"] == "changed"
    res = run_one({"kind": "purge", "path": str(home / "wechat-link"), "type": "link"}, opts(tree))
    assert res["status"] == "changed"
    assert sorted(os.listdir(str(home))) == [".local", ".xwechat"]
    assert (tree / "outside" / "keep.txt").read_text() == "precious"
    res = run_one({"kind": "purge", "path": str(home / "wechat-link"), "type": "link"}, opts(tree))
    assert (res["status"], res["msg"]) == ("absent", "%s does not exist" % (home / "wechat-link"))


def test_purge_type_mismatch_touches_nothing(tree):
    data = tree / "home" / "alice" / ".xwechat"
    res = run_one({"kind": "purge", "path": str(data), "type": "file"}, opts(tree))
    assert (res["status"], res["msg"]) == ("failed", "refused: %s is a dir, the plan expects a file; nothing was touched"
                                           % data)
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"


# --- plan: requires, order, check mode -------------------------------------------------------------

def test_requires_skips_purge_when_the_archive_failed(tree):
    home = tree / "home" / "alice"
    data = home / ".xwechat"
    marker = tree / "later"
    steps = [
        {"id": 1, "kind": "archive", "paths": [str(data), str(home / ".config")], "name": "alice-wechat"},
        {"id": 2, "kind": "purge", "path": str(data), "type": "dir", "requires": [1], "action": "purge_data"},
        {"id": "3", "kind": "purge", "path": str(data), "type": "dir", "requires": [2]},
        {"id": 4, "kind": "command", "argv": [SH, "-c", 'touch "$0"', str(marker)]},
    ]
    results = run_plan(steps, opts(tree))
    assert [(r["id"], r["status"]) for r in results] == [(1, "failed"), (2, "skipped"), ("3", "skipped"), (4, "changed")]
    assert results[1]["msg"] == "skipped: required step 1 failed"
    assert results[2]["msg"] == "skipped: required step 2 did not run"
    assert results[1]["action"] == "purge_data"
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    assert marker.exists()


def test_requires_runs_after_success_or_absent(tree):
    home = tree / "home" / "alice"
    data = home / ".xwechat"
    steps = [
        {"id": 1, "kind": "archive", "paths": [str(data)], "name": "alice-wechat"},
        {"id": 2, "kind": "archive", "paths": [str(home / "xwechat_files")], "name": "alice-files"},
        {"id": 3, "kind": "purge", "path": str(data), "type": "dir", "requires": [1, 2]},
    ]
    results = run_plan(steps, opts(tree))
    assert [r["status"] for r in results] == ["changed", "absent", "changed"]
    assert not data.exists()
    with tarfile.open(results[0]["dest"]) as tar:
        assert tar.extractfile(str(data / "sub" / "msg.db").lstrip("/")).read() == b"messages"


def test_a_failed_step_does_not_stop_the_others(tree):
    steps = [{"id": 1, "kind": "command", "argv": [SH, "-c", "exit 1"]},
             {"id": 2, "kind": "purge", "path": "/opt", "type": "dir"},
             {"id": 3, "kind": "purge", "path": str(tree / "home" / "alice" / ".xwechat"), "type": "dir"}]
    results = run_plan(steps, opts(tree))
    assert [r["status"] for r in results] == ["failed", "failed", "changed"]


def test_check_mode_touches_nothing(tree):
    data = tree / "home" / "alice" / ".xwechat"
    marker = tree / "ran"
    steps = [{"id": 1, "kind": "command", "argv": [SH, "-c", 'touch "$0"', str(marker)]},
             {"id": 2, "kind": "kill", "pids": [os.getpid() + 100000], "comm": "python"},
             {"id": 3, "kind": "archive", "paths": [str(data)], "name": "n"},
             {"id": 4, "kind": "quarantine", "path": str(data), "type": "dir"},
             {"id": 5, "kind": "purge", "path": str(data), "type": "dir", "requires": [3]}]
    results = run_plan(steps, opts(tree, check_mode=True))
    assert [(r["id"], r["status"], r["msg"]) for r in results] == [(i, "skipped", "check mode") for i in range(1, 6)]
    assert results[0]["cmd"] == steps[0]["argv"]
    assert (results[0]["rc"], results[0]["attempts"]) == (None, 0)
    assert not marker.exists()
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    assert not (tree / "q").exists() and not (tree / "a").exists()


def test_result_keys(tree):
    results = run_plan([{"id": 1, "kind": "purge", "path": str(tree / "home" / "alice" / "x"), "type": "dir"},
                        {"id": 2, "kind": "command", "argv": ["true"]}], opts(tree))
    assert sorted(results[0]) == ["action", "duration", "id", "kind", "msg", "status"]
    assert sorted(results[1]) == ["action", "attempts", "cmd", "duration", "id", "kind", "msg", "rc", "status",
                                  "stderr", "stdout"]


def test_truncate_helper():
    assert process._truncate(None) == ""
    assert process._truncate(b"caf\xc3\xa9") == u"caf\xe9"
    assert process._truncate(b"\xff") == u"\ufffd"


def test_run_as_with_a_missing_home_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    calls = []
    res = run_plan([{"id": 1, "kind": "command", "argv": ["flatpak", "uninstall", "--user", "com.tencent.WeChat"],
                     "run_as": {"user": "alice", "uid": 1000, "gid": 1000, "home": str(tmp_path / "gone")}}],
                   opts(tmp_path), runner=lambda *a, **k: calls.append(a))[0]
    assert (res["status"], res["attempts"], calls) == ("failed", 0, [])
    assert res["msg"] == "run_as alice: home %s is not a directory; nothing was run" % (tmp_path / "gone")


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs /proc/locks (Linux)")
@pytest.mark.parametrize("how", ["flock", "lockf"])
def test_command_lock_giving_up_names_the_holder(tmp_path, monkeypatch, how):
    """apt and dpkg hold lock-frontend with fcntl locks; either kind of lock is found in /proc/locks."""
    monkeypatch.setattr(process, "_sleep", lambda seconds: None)
    lock_file = tmp_path / "lock-frontend"
    lock_file.write_text("")
    monkeypatch.setitem(pkglock.LOCK_FILES, "dpkg", (str(tmp_path / "missing"), str(lock_file)))
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'r+'); "
                               "fcntl.%s(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)" % how,
                               str(lock_file)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        with open("/proc/%d/comm" % holder.pid) as handle:
            comm = handle.read().strip()
        res = run_one({"kind": "command", "argv": counter_script(tmp_path / "count", 99, "E: Could not get lock"),
                       "lock": "dpkg"}, opts(tmp_path, lock_timeout=2))
    finally:
        holder.kill()
        holder.wait()
    assert res["status"] == "failed"
    assert res["msg"].startswith("the dpkg lock is held by another process (held by pid %d (%s) on %s): gave up"
                                 % (holder.pid, comm, lock_file)), res["msg"]
