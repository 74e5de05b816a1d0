# -*- coding: utf-8 -*-
"""The executor's run lock, journal, dpkg repair and the guarded run (one at a time, roll forward)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import journal as _journal
from ansible_collections.govsec.banned_software.plugins.module_utils._execute import lock as _lock
from ansible_collections.govsec.banned_software.plugins.module_utils import _run_files
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.journal import Journal
from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import interrupted, read_journal
from ansible_collections.govsec.banned_software.plugins.module_utils._execute import paths as _paths
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.lock import RunLock, RunLockBusy
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.repair import AUDIT, CONFIGURE
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import RunRefused, run_guarded

SH = "/bin/sh"


def opts(root, **extra):
    options = {"run_id": "r2", "quarantine_dir": str(root / "q"), "archive_dir": str(root / "a"),
               "state_dir": str(root / "state"), "homes": [], "lock_timeout": 2, "default_timeout": 30}
    options.update(extra)
    return options


def touch(step_id, path, **extra):
    step = {"id": step_id, "kind": "command", "argv": [SH, "-c", 'touch "$0"', str(path)]}
    step.update(extra)
    return step


HOLDER = textwrap.dedent("""
    import sys, time
    sys.path[:0] = [%r]
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute.lock import RunLock
    lock = RunLock(sys.argv[1])
    lock.acquire(5, "r1")
    sys.stdout.write("locked\\n")
    sys.stdout.flush()
    time.sleep(60)
""")


def collections_root():
    """The directory that holds ansible_collections/govsec/banned_software (this checkout's import path)."""
    import ansible_collections.govsec.banned_software as collection
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(collection.__file__))))


@pytest.fixture
def other_run(tmp_path):
    """Another process holding the run lock of tmp/state (as a real second executor would)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER % collections_root(), str(tmp_path / "state")],
                            stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"locked\n"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def no_sleep(monkeypatch):
    monkeypatch.setattr(_lock, "_sleep", lambda seconds: None)


def kill_when_started(argv, started):
    """Run ``argv`` and SIGKILL it once it has created the file ``started`` (within 30 s)."""
    proc = subprocess.Popen(argv)
    deadline = time.time() + 30
    while not started.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert started.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc


def test_a_second_run_fails_naming_the_holder_and_runs_nothing(tmp_path, other_run, monkeypatch):
    no_sleep(monkeypatch)
    marker = tmp_path / "ran"
    with pytest.raises(RunLockBusy) as exc:
        run_guarded([touch(1, marker)], opts(tmp_path))
    holder = exc.value.holder
    assert holder["pid"] == other_run.pid and holder["run_id"] == "r1"
    assert time.strptime(holder["started"], "%Y-%m-%dT%H:%M:%SZ")
    message = str(exc.value)
    assert message.startswith("another remediation is running on this host (pid %d, started %s, run r1)"
                              % (other_run.pid, holder["started"])), message
    assert "was not free after 2 s (banned_software_lock_timeout); nothing was run" in message
    assert not marker.exists()
    assert read_journal(str(tmp_path / "state")) is None


def test_the_wait_is_bounded_by_the_time_asked_to_sleep(tmp_path, other_run, monkeypatch):
    slept = []
    monkeypatch.setattr(_lock, "_sleep", slept.append)
    with pytest.raises(RunLockBusy):
        RunLock(str(tmp_path / "state")).acquire(3, "r2")
    assert sum(slept) == 3.0 and len(slept) == 3 / _lock.POLL


def test_the_lock_of_a_killed_run_is_free_at_once(tmp_path, other_run, monkeypatch):
    no_sleep(monkeypatch)
    other_run.send_signal(signal.SIGKILL)
    other_run.wait()
    marker = tmp_path / "ran"
    out = run_guarded([touch(1, marker)], opts(tmp_path))
    assert [r["status"] for r in out["steps"]] == ["changed"] and marker.exists()
    # The lock file says who holds it only while it is held.
    assert (tmp_path / "state" / "run.lock").read_bytes() == b""


def test_the_lock_is_taken_once_the_other_run_ends_within_the_wait(tmp_path, other_run, monkeypatch):
    def sleep(seconds):
        if other_run.poll() is None:
            other_run.kill()
            other_run.wait()
    monkeypatch.setattr(_lock, "_sleep", sleep)
    record = RunLock(str(tmp_path / "state")).acquire(10, "r2")
    assert record["pid"] == os.getpid() and record["run_id"] == "r2"


def test_a_link_as_lock_file_is_refused(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "elsewhere").write_text("x")
    os.symlink(str(tmp_path / "elsewhere"), str(state / "run.lock"))
    with pytest.raises(OSError):
        run_guarded([touch(1, tmp_path / "ran")], opts(tmp_path))
    assert (tmp_path / "elsewhere").read_text() == "x"
    assert not (tmp_path / "ran").exists()


def test_check_mode_takes_no_lock(tmp_path, other_run):
    out = run_guarded([touch(1, tmp_path / "ran")], opts(tmp_path, check_mode=True))
    assert [r["status"] for r in out["steps"]] == ["skipped"]


# -- journal ---------------------------------------------------------------------------------------

def test_a_finished_run_leaves_a_finished_journal_with_every_step(tmp_path):
    steps = [touch(1, tmp_path / "one"), touch(2, tmp_path / "two", action="remove_packages")]
    out = run_guarded(steps, opts(tmp_path))
    assert out["interrupted_run"] is None and out["warnings"] == []
    journal = read_journal(str(tmp_path / "state"))
    assert journal["state"] == "finished" and journal["run_id"] == "r2" and journal["pid"] == os.getpid()
    assert journal["plan"] == [{"id": 1, "kind": "command", "action": None},
                               {"id": 2, "kind": "command", "action": "remove_packages"}]
    assert [(d["id"], d["status"]) for d in journal["done"]] == [(1, "changed"), (2, "changed")]
    assert all(re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", d["at"]) for d in journal["done"])
    assert journal["current"] is None
    assert "argv" not in json.dumps(journal)
    assert sorted(os.listdir(str(tmp_path / "state"))) == ["journal.json", "run.lock"]


def test_a_run_killed_in_a_step_is_reported_by_the_next_one_which_rolls_forward(tmp_path):
    state = tmp_path / "state"
    # The first run: a real executor process killed with SIGKILL while its second step runs.
    script = textwrap.dedent("""
        import sys
        sys.path[:0] = [%r]
        from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_guarded
        steps = [{"id": 1, "kind": "command", "argv": ["/bin/true"], "action": "stop_service",
                  "findings": ["service|machine|wechat.service|/usr/lib/systemd/system/wechat.service"]},
                 {"id": 2, "kind": "command", "argv": ["/bin/sh", "-c", "echo started > $0; sleep 60", sys.argv[2]],
                  "action": "remove_packages", "findings": ["dpkg|machine|wechat|/var/lib/dpkg/status"]},
                 {"id": 3, "kind": "command", "argv": ["/bin/true"], "action": "purge"}]
        run_guarded(steps, {"run_id": "r1", "state_dir": sys.argv[1], "homes": [], "lock_timeout": 5,
                            "default_timeout": 120})
    """) % collections_root()
    started = tmp_path / "started"
    proc = kill_when_started([sys.executable, "-c", script, str(state), str(started)], started)

    out = run_guarded([touch(1, tmp_path / "again")], opts(tmp_path))
    previous = out["interrupted_run"]
    assert previous["run_id"] == "r1" and previous["pid"] == proc.pid
    assert [(d["id"], d["status"], d["findings"]) for d in previous["steps_done"]] == [
        (1, "changed", ["service|machine|wechat.service|/usr/lib/systemd/system/wechat.service"])]
    assert previous["steps_done"][0]["at"] >= previous["started"]
    assert previous["step_interrupted"] == 2 and previous["steps_not_run"] == [3]
    assert previous["detail"].startswith("the previous run (r1, pid %d, started " % proc.pid)
    assert previous["detail"].endswith("ended before it finished: 1 of 3 steps done, interrupted in step 2")
    assert out["warnings"] == [previous["detail"]]
    assert [r["status"] for r in out["steps"]] == ["changed"]
    # Reported once: the run after that finds a finished journal.
    assert run_guarded([touch(1, tmp_path / "again")], opts(tmp_path))["interrupted_run"] is None


def test_a_journal_that_cannot_be_read_is_reported_and_the_run_goes_on(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "journal.json").write_bytes(b'{"state": "runn')
    out = run_guarded([touch(1, tmp_path / "x")], opts(tmp_path))
    assert out["interrupted_run"]["detail"].startswith("the previous run's journal cannot be read: not JSON")
    assert [r["status"] for r in out["steps"]] == ["changed"]


def test_a_journal_that_cannot_be_written_refuses_the_run(tmp_path, monkeypatch):
    def full(directory, name, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_journal, "write_atomic", full)
    with pytest.raises(RunRefused) as exc:
        run_guarded([touch(1, tmp_path / "x")], opts(tmp_path))
    assert str(exc.value) == ("the journal cannot be written in %s (No space left on device); nothing was run"
                              % (tmp_path / "state"))
    assert not (tmp_path / "x").exists()
    # The lock is released.
    RunLock(str(tmp_path / "state")).acquire(1, "r3")


def test_a_journal_update_failing_mid_run_is_a_warning_not_a_stop(tmp_path, monkeypatch):
    real = _journal.write_atomic
    calls = []

    def flaky(directory, name, data):
        calls.append(json.loads(data.decode("utf-8"))["current"])
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(directory, name, data)
    monkeypatch.setattr(_journal, "write_atomic", flaky)
    out = run_guarded([touch(1, tmp_path / "a"), touch(2, tmp_path / "b")], opts(tmp_path))
    assert [r["status"] for r in out["steps"]] == ["changed", "changed"]
    assert out["warnings"] == ["the journal %s was not updated: No space left on device" % (tmp_path / "state" / "journal.json")]


def test_the_journal_is_replaced_atomically(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    journal = Journal(str(state), "r1", [touch(1, "/x")])
    journal.begin()
    before = (state / "journal.json").read_bytes()

    def killed(src, dst):
        raise KeyboardInterrupt("killed between the write and the rename")
    monkeypatch.setattr(_journal.os, "rename", killed)
    with pytest.raises(KeyboardInterrupt):
        journal.step_started({"id": 1})
    assert (state / "journal.json").read_bytes() == before
    assert os.listdir(str(state)) == ["journal.json"]


def test_the_journal_keeps_each_steps_finding_keys_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(_journal, "MAX_KEYS", 70)
    many = ["file|machine|/opt/x%d|/opt/x%d" % (i, i) for i in range(100)]
    steps = [touch(1, tmp_path / "one", findings=many), touch(2, tmp_path / "two", findings=["k2", "x" * 2000]),
             touch(3, tmp_path / "three", findings=["k3"])]
    Journal(str(tmp_path), "r1", steps).begin()
    plan = read_journal(str(tmp_path))["plan"]
    assert plan[0]["findings"] == many[:_journal.MAX_STEP_KEYS] and plan[0]["findings_truncated"] is True
    # 70 in all: 64 for the first step, the short key of the second (the long one is never recorded).
    assert plan[1]["findings"] == ["k2"] and plan[1]["findings_truncated"] is True
    assert plan[2]["findings"] == ["k3"] and "findings_truncated" not in plan[2]


def test_a_journal_larger_than_the_read_limit_is_unreadable_not_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(_run_files, "READ_LIMIT", 100)
    (tmp_path / "journal.json").write_text(json.dumps({"state": "running", "pad": "x" * 200}))
    assert read_journal(str(tmp_path)) == {"unreadable": "larger than 100 bytes"}


def test_interrupted_ignores_finished_and_missing_journals():
    assert interrupted(None) is None
    assert interrupted({"state": "finished", "done": []}) is None


def test_sighup_and_sigpipe_are_ignored_while_the_plan_runs(tmp_path):
    seen = []

    def runner(argv, **kwargs):
        seen.append((signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGPIPE)))
        os.kill(os.getpid(), signal.SIGHUP)      # the controller's session went away
        return 0, b"", b"", False, None
    before = (signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGPIPE))
    out = run_guarded([{"id": 1, "kind": "command", "argv": ["dpkg", "--purge", "x"]}], opts(tmp_path), runner)
    assert seen == [(signal.SIG_IGN, signal.SIG_IGN)]
    assert [r["status"] for r in out["steps"]] == ["changed"]
    assert (signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGPIPE)) == before


# -- dpkg repair -----------------------------------------------------------------------------------

class Dpkg(object):
    """A scripted runner: ``dpkg --audit`` answers from ``audits`` in turn; every call is recorded."""

    def __init__(self, audits, configure=(0, b"", b"")):
        self.audits = list(audits)
        self.configure = list(configure) if isinstance(configure, list) else [configure]
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv == AUDIT:
            return 0, self.audits.pop(0), b"", False, None
        if argv == CONFIGURE:
            rc, out, err = self.configure.pop(0) if len(self.configure) > 1 else self.configure[0]
            return rc, out, err, False, None
        return 0, b"", b"", False, None


PURGE = {"id": 1, "kind": "command", "argv": ["dpkg", "--purge", "wechat"], "lock": "dpkg"}
HALF = b"The following packages are only half configured, probably due to problems\nconfiguring them the first time.\n"


def test_a_clean_dpkg_is_only_audited(tmp_path):
    runner = Dpkg([b""])
    out = run_guarded([PURGE], opts(tmp_path), runner)
    assert runner.calls == [AUDIT, PURGE["argv"]]
    assert out["package_repair"] is None


def test_an_interrupted_dpkg_transaction_is_completed_before_anything_is_removed(tmp_path):
    runner = Dpkg([HALF, b""])
    out = run_guarded([PURGE], opts(tmp_path), runner)
    assert runner.calls == [AUDIT, CONFIGURE, AUDIT, PURGE["argv"]]
    repair = out["package_repair"]
    assert (repair["status"], repair["msg"], repair["rc"]) == (
        "changed", "an interrupted dpkg transaction was completed (dpkg --configure -a)", 0)
    assert repair["audit"] == HALF.decode().strip()
    assert out["warnings"] == [repair["msg"]]


def test_what_configure_cannot_finish_is_reported_and_the_plan_removes_it(tmp_path):
    """A removal killed in its prerm: half-configured, selected for removal; the plan's dpkg --remove finishes it."""
    runner = Dpkg([HALF, HALF])
    out = run_guarded([PURGE], opts(tmp_path), runner)
    assert runner.calls == [AUDIT, CONFIGURE, AUDIT, PURGE["argv"]]
    repair = out["package_repair"]
    assert repair["status"] == "failed"
    assert repair["msg"].startswith("dpkg --configure -a ran (rc 0) but dpkg --audit still reports (the plan goes on; "
                                    "its removal completes an interrupted one): The following packages are only half")
    assert out["warnings"] == [repair["msg"]]
    assert [r["status"] for r in out["steps"]] == ["changed"]


def test_a_failing_configure_is_reported_and_the_plan_runs(tmp_path):
    runner = Dpkg([HALF], configure=(1, b"", b"dpkg: error processing package x (--configure)"))
    out = run_guarded([PURGE], opts(tmp_path), runner)
    assert runner.calls == [AUDIT, CONFIGURE, PURGE["argv"]]
    assert out["package_repair"]["msg"] == "dpkg --configure -a failed (the plan goes on): rc 1 (expected 0)"
    assert read_journal(str(tmp_path / "state"))["state"] == "finished"


def test_the_repair_waits_for_the_dpkg_lock_like_a_step(tmp_path, monkeypatch):
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute import process
    monkeypatch.setattr(process, "_sleep", lambda seconds: None)
    busy = (2, b"", b"dpkg: error: dpkg frontend lock was locked by another process with pid 77\n")
    runner = Dpkg([HALF, b""], configure=[busy, (0, b"", b"")])
    out = run_guarded([PURGE], opts(tmp_path), runner)
    assert runner.calls == [AUDIT, CONFIGURE, CONFIGURE, AUDIT, PURGE["argv"]]
    assert out["package_repair"]["attempts"] == 2


def test_a_plan_without_dpkg_does_not_ask_dpkg(tmp_path):
    runner = Dpkg([])
    run_guarded([{"id": 1, "kind": "command", "argv": ["rpm", "-e", "x"], "lock": "rpm"}], opts(tmp_path), runner)
    assert runner.calls == [["rpm", "-e", "x"]]


# -- a run killed while it copies a quarantine across file systems -----------------------------------------

KILLED_IN_COPY = textwrap.dedent("""
    import errno, os, sys, time
    sys.path[:0] = [%r]
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute import copy as _copy
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_guarded
    real_rename, real_copy_data, copied = os.rename, _copy.copy_data, []

    def rename(src, dst, src_dir_fd=None, dst_dir_fd=None):
        if src_dir_fd is not None:          # the quarantine is on another file system
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst)

    def copy_data(*args):
        real_copy_data(*args)
        copied.append(1)
        if len(copied) == 2:                # two files copied: the kill comes now
            open(sys.argv[3], "w").close()
            time.sleep(60)
    os.rename, _copy.copy_data = rename, copy_data
    run_guarded([{"id": 1, "kind": "quarantine", "path": sys.argv[2], "type": "dir"}],
                {"run_id": "r1", "state_dir": sys.argv[1], "quarantine_dir": sys.argv[4], "homes": [],
                 "lock_timeout": 5, "default_timeout": 120})
""")


def tree_sums(top):
    return dict((os.path.relpath(os.path.join(d, n), str(top)), open(os.path.join(d, n), "rb").read())
                for d, dirs, files in os.walk(str(top)) for n in files)


def test_the_partial_copy_of_a_run_killed_in_a_quarantine_is_removed_by_the_next_run(tmp_path):
    data = tmp_path / "opt" / "wechat-universal"
    for number in range(4):
        (data / ("d%d" % number)).mkdir(parents=True)
        (data / ("d%d" % number) / "blob").write_bytes(os.urandom(5000 + number))
    before = tree_sums(data)
    started = tmp_path / "copying"
    kill_when_started([sys.executable, "-c", KILLED_IN_COPY % collections_root(), str(tmp_path / "state"),
                       str(data), str(started), str(tmp_path / "q")], started)
    partial = str(tmp_path / "q" / "r1") + str(data) + ".partial"
    assert os.path.isdir(partial) and tree_sums(data) == before      # killed mid-copy: the original untouched

    out = run_guarded([{"id": 1, "kind": "quarantine", "path": str(data), "type": "dir"}], opts(tmp_path))
    assert out["interrupted_run"]["partial_copies_removed"] == [partial]
    assert out["warnings"] == [out["interrupted_run"]["detail"],
                               "the partial copy the interrupted run left in its quarantine removed (the data is still "
                               "at its original path): %s" % partial]
    assert not os.path.lexists(partial)
    assert [r["status"] for r in out["steps"]] == ["changed"]
    assert tree_sums(str(tmp_path / "q" / "r2") + str(data)) == before and not data.exists()


def test_only_the_partial_copies_of_unfinished_moves_are_removed(tmp_path):
    run_dir = tmp_path / "q" / "r1" / "opt"
    run_dir.mkdir(parents=True)
    lines = [{"original": "/opt/a", "quarantined": str(run_dir / "a"), "state": "moving"},
             {"original": "/opt/a", "quarantined": str(run_dir / "a")},                      # moved
             {"original": "/opt/b.partial", "quarantined": str(run_dir / "b.partial"), "state": "moving"},
             {"original": "/opt/b.partial", "quarantined": str(run_dir / "b.partial")},      # data named like one
             {"original": "/opt/b", "quarantined": str(run_dir / "b"), "state": "moving"},   # killed in its copy
             {"original": "/opt/c", "quarantined": str(run_dir / "c"), "state": "moving"},
             {"original": "/opt/c", "quarantined": str(run_dir / "c"), "state": "not_moved"}]
    (tmp_path / "q" / "r1" / "MANIFEST.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"cut')
    for name in ("a", "a.partial", "b.partial", "b.partial.1", "b.partial.x", "c.partial"):
        (run_dir / name).mkdir()
        (run_dir / name / "f").write_bytes(b"x")
    os.symlink(str(tmp_path / "outside"), str(run_dir / "b.partial.2"))
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep").write_bytes(b"keep")
    removed, errors = _paths.remove_partial_copies(str(tmp_path / "q"), "r1")
    assert (removed, errors) == ([str(run_dir / "b.partial.1"), str(run_dir / "b.partial.2")], [])
    assert sorted(os.listdir(str(run_dir))) == ["a", "a.partial", "b.partial", "b.partial.x", "c.partial"]
    assert (tmp_path / "outside" / "keep").read_bytes() == b"keep"
    assert _paths.remove_partial_copies(str(tmp_path / "q"), "r9") == ([], [])


def test_a_manifest_over_its_read_limit_is_reported_and_nothing_is_removed(tmp_path, monkeypatch):
    run_dir = tmp_path / "q" / "r1" / "opt"
    run_dir.mkdir(parents=True)
    line = json.dumps({"original": "/opt/b", "quarantined": str(run_dir / "b"), "state": "moving"}) + "\n"
    (tmp_path / "q" / "r1" / "MANIFEST.jsonl").write_text(line)
    (run_dir / "b.partial").mkdir()
    monkeypatch.setattr(_paths, "MANIFEST_READ_LIMIT", len(line) - 1)
    removed, errors = _paths.remove_partial_copies(str(tmp_path / "q"), "r1")
    assert (removed, errors) == ([], ["the manifest of %s is larger than %d bytes: its partial copies were not "
                                      "looked for" % (tmp_path / "q" / "r1", len(line) - 1)])
    assert (run_dir / "b.partial").is_dir()
    monkeypatch.setattr(_paths, "MANIFEST_READ_LIMIT", len(line))
    assert _paths.remove_partial_copies(str(tmp_path / "q"), "r1") == ([str(run_dir / "b.partial")], [])


def test_a_run_without_journal_leaves_an_interrupted_journal_for_the_next_run(tmp_path, other_run, monkeypatch):
    state = tmp_path / "state"
    dead = {"run_id": "r0", "pid": 1, "started": "2026-11-29T11:00:00Z", "state": "running", "current": 1,
            "plan": [{"id": 1, "kind": "quarantine", "action": "quarantine"}], "done": []}
    (state / "journal.json").write_text(json.dumps(dead))
    no_sleep(monkeypatch)
    with pytest.raises(RunLockBusy):      # the lock is still taken first
        run_guarded([touch(1, tmp_path / "x")], opts(tmp_path, journal=False))
    other_run.kill()
    other_run.wait()
    out = run_guarded([touch(1, tmp_path / "x")], opts(tmp_path, journal=False))
    assert (out["interrupted_run"], out["warnings"], [r["status"] for r in out["steps"]]) == (None, [], ["changed"])
    assert json.loads((state / "journal.json").read_text()) == dead
    nxt = run_guarded([touch(1, tmp_path / "y")], opts(tmp_path))
    assert nxt["interrupted_run"]["run_id"] == "r0"
