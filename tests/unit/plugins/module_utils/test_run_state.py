# -*- coding: utf-8 -*-
"""The collector's view of the executor's journal and run lock (``_collect/run_state.py``): read only, never
waiting, nothing created; a dead run is reported, a running one named, a finished one is silence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils import _run_files
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import run_state
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.run_state import read_run_state
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.journal import Journal
from ansible_collections.govsec.banned_software.tests.unit.plugins.module_utils.test_execute_guard import (
    HOLDER, collections_root)

STEPS = [{"id": 1, "kind": "command", "action": "remove_packages", "findings": ["dpkg|machine|wechat|/var/lib/dpkg/status"]},
         {"id": 2, "kind": "quarantine", "action": "quarantine_path", "findings": ["file|machine|/opt/wechat|/opt/wechat"]}]


def dead_journal(state):
    """What a run killed in its second step leaves: step 1 done, step 2 current."""
    journal = Journal(str(state), "r1", STEPS)
    journal.begin()
    journal.step_started(STEPS[0])
    journal.step_finished({"id": 1, "status": "changed"})
    journal.step_started(STEPS[1])
    return journal


def test_no_state_directory_says_nothing_and_creates_nothing(tmp_path):
    assert read_run_state(str(tmp_path / "state")) == (None, [])
    assert os.listdir(str(tmp_path)) == []


def test_a_finished_journal_says_nothing(tmp_path):
    journal = dead_journal(tmp_path)
    journal.finish()
    assert read_run_state(str(tmp_path)) == (None, [])


def test_a_dead_runs_journal_is_reported_with_what_it_removed(tmp_path):
    dead_journal(tmp_path)
    state, warnings = read_run_state(str(tmp_path))
    record = state["interrupted_run"]
    assert warnings == [] and record["run_id"] == "r1" and record["pid"] == os.getpid()
    assert [(d["id"], d["status"], d["findings"]) for d in record["steps_done"]] == [
        (1, "changed", ["dpkg|machine|wechat|/var/lib/dpkg/status"])]
    assert (record["step_interrupted"], record["steps_not_run"]) == (2, [])
    # Only read: no lock file was created, the journal is as it was.
    assert sorted(os.listdir(str(tmp_path))) == ["journal.json"]
    assert json.loads((tmp_path / "journal.json").read_text())["state"] == "running"


@pytest.fixture
def holder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER % collections_root(), str(tmp_path)], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"locked\n"
    yield proc
    proc.kill()
    proc.wait()


def test_a_run_holding_the_lock_is_named_not_waited_for(tmp_path, holder):
    dead_journal(tmp_path)   # the journal says running, and a live process holds the lock: that run is alive
    state, warnings = read_run_state(str(tmp_path))
    assert warnings == []
    assert state["running"]["pid"] == holder.pid and state["running"]["run_id"] == "r1"


def test_the_lock_is_free_again_after_the_check(tmp_path):
    import fcntl
    dead_journal(tmp_path)
    (tmp_path / "run.lock").write_text("")
    read_run_state(str(tmp_path))
    fd = os.open(str(tmp_path / "run.lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)    # raises if the check had kept a lock
    finally:
        os.close(fd)


def test_a_run_that_finishes_between_the_two_reads_is_not_reported(tmp_path, monkeypatch):
    journal = dead_journal(tmp_path)
    real = run_state._lock_holder

    def finishes_meanwhile(state_dir):
        journal.finish()
        return real(state_dir)
    monkeypatch.setattr(run_state, "_lock_holder", finishes_meanwhile)
    assert read_run_state(str(tmp_path)) == (None, [])


def test_a_journal_this_user_may_not_read_says_nothing(tmp_path, monkeypatch):
    dead_journal(tmp_path)
    real_open = os.open

    def denied(path, flags, *args):
        if str(path).endswith("journal.json"):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, *args)
    monkeypatch.setattr(_run_files.os, "open", denied)
    assert read_run_state(str(tmp_path)) == (None, [])


def test_a_journal_link_is_never_followed_and_is_reported(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"state": "finished"}))
    os.symlink(str(target), str(tmp_path / "journal.json"))
    state, warnings = read_run_state(str(tmp_path))
    assert state["interrupted_run"]["detail"].startswith("the previous run's journal cannot be read: ")


def test_a_journal_that_is_a_directory_is_a_warning(tmp_path):
    (tmp_path / "journal.json").mkdir()
    state, warnings = read_run_state(str(tmp_path))
    assert state is None
    assert warnings == ["the last remediation's journal in %s could not be read: Is a directory" % tmp_path]
