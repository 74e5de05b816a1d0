# -*- coding: utf-8 -*-
"""The execute module: validation before anything runs, check mode, results and failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.govsec.banned_software.plugins.modules import execute
from ansible_collections.govsec.banned_software.tests.unit.helpers import module_harness
from ansible_collections.govsec.banned_software.tests.unit.helpers.module_harness import patch_exits

SH = "/bin/sh"


@pytest.fixture(autouse=True)
def module_env(monkeypatch):
    patch_exits(monkeypatch)


def run_module(args):
    return module_harness.run_module(execute, args)


def base_args(tmp_path, steps, **extra):
    args = {"steps": steps, "run_id": "20261129T120000Z", "quarantine_dir": str(tmp_path / "q"),
            "archive_dir": str(tmp_path / "a"), "state_dir": str(tmp_path / "state"),
            "homes": [str(tmp_path / "home" / "alice")]}
    args.update(extra)
    return args


def touch_step(step_id, marker):
    return {"id": step_id, "kind": "command", "argv": [SH, "-c", 'touch "$0"', str(marker)]}


@pytest.mark.parametrize("bad_step, expected", [
    ({"id": 2, "kind": "delete", "path": "/opt/wechat"}, "step 2: field kind: unknown kind 'delete'"),
    ({"id": 2, "kind": "command"}, "step 2 (command): field argv: must be a non-empty list of non-empty strings"),
    ({"id": 2, "kind": "command", "argv": "dpkg --purge wechat"}, "step 2 (command): field argv: must be a non-empty list"),
    ({"id": 2, "kind": "command", "argv": ["dpkg", ["--purge"]]}, "step 2 (command): field argv: must be a non-empty list"),
    ({"id": 2, "kind": "command", "argv": ["./dpkg", "--purge"]},
     "step 2 (command): field argv: argv[0] must be an absolute path or a bare command name, not './dpkg'"),
    ({"id": 2, "kind": "command", "argv": ["dpkg"], "timeout": 1.5}, "step 2 (command): field timeout: must be a positive integer"),
    ({"id": 2, "kind": "command", "argv": ["dpkg"], "timeout": 0}, "step 2 (command): field timeout: must be a positive integer"),
    ({"id": 2, "kind": "command", "argv": ["dpkg"], "runas": {"user": "alice"}},
     "step 2 (command): field runas: unknown field(s) runas for kind command"),
    ({"id": 2, "kind": "kill", "pids": [0], "comm": "wechat"}, "step 2 (kill): field pids: must be a non-empty list"),
    ({"id": 2, "kind": "purge", "path": "/opt/wechat"}, "step 2 (purge): field type: must be one of dir, file, link, not None"),
    ({"id": 2, "kind": "archive", "paths": ["/home/alice/.xwechat"]}, "step 2 (archive): field name: must match"),
    ({"id": 1, "kind": "purge", "path": "/opt/wechat", "type": "dir"}, "step 1 (purge): field id: duplicate step id 1"),
    ({"id": 2, "kind": "purge", "path": "/opt/wechat", "type": "dir", "requires": [3]},
     "step 2 (purge): field requires: step 3 is not an earlier step of the plan"),
])
def test_invalid_step_runs_nothing(tmp_path, bad_step, expected):
    marker = tmp_path / "ran"
    out = run_module(base_args(tmp_path, [touch_step(1, marker), bad_step]))
    assert out.kind == "fail"
    assert out.result["msg"].startswith("invalid plan, nothing was run: ")
    assert expected in out.result["msg"], out.result["msg"]
    assert out.result["steps"] == []
    assert out.result["changed"] is False
    assert not marker.exists()


@pytest.mark.parametrize("extra, expected", [
    ({"run_id": "../../etc"}, "run_id: must match ^[0-9A-Za-z._-]{1,64}\\Z, not '../../etc'"),
    ({"run_id": ""}, "run_id: must match"),
    ({"run_id": "r1\n"}, "run_id: must match ^[0-9A-Za-z._-]{1,64}\\Z, not 'r1\\n'"),
    ({"lock_timeout": 0}, "lock_timeout: must be a positive number of seconds"),
    ({"default_timeout": -1}, "default_timeout: must be a positive number of seconds"),
])
def test_invalid_options_run_nothing(tmp_path, extra, expected):
    marker = tmp_path / "ran"
    out = run_module(base_args(tmp_path, [touch_step(1, marker)], **extra))
    assert out.kind == "fail"
    assert expected in out.result["msg"]
    assert not marker.exists()


def test_check_mode_runs_nothing_and_predicts_change(tmp_path):
    marker = tmp_path / "ran"
    data = tmp_path / "home" / "alice" / ".xwechat"
    data.mkdir(parents=True)
    steps = [touch_step(1, marker), {"id": 2, "kind": "purge", "path": str(data), "type": "dir"}]
    out = run_module(dict(base_args(tmp_path, steps), _ansible_check_mode=True))
    assert out.kind == "exit"
    assert out.result["changed"] is True
    assert [(r["id"], r["status"], r["msg"]) for r in out.result["steps"]] == [
        (1, "skipped", "check mode"), (2, "skipped", "check mode")]
    assert out.result["counts"] == {"changed": 0, "ok": 0, "absent": 0, "failed": 0, "skipped": 2}
    assert not marker.exists()
    assert data.is_dir()


def test_empty_plan_is_unchanged(tmp_path):
    out = run_module(base_args(tmp_path, []))
    assert (out.kind, out.result["changed"], out.result["steps"]) == ("exit", False, [])


def test_success_reports_changed_and_counts(tmp_path):
    marker = tmp_path / "ran"
    app = tmp_path / "home" / "alice" / "Applications" / "WeChat.AppImage"
    app.parent.mkdir(parents=True)
    app.write_bytes(b"x")
    steps = [touch_step(1, marker),
             {"id": 2, "kind": "quarantine", "action": "quarantine_path", "path": str(app), "type": "file"},
             {"id": 3, "kind": "command", "argv": [SH, "-c", "echo 'is not installed'; exit 1"],
              "absent": ["is not installed"]}]
    out = run_module(base_args(tmp_path, steps))
    assert out.kind == "exit"
    res = out.result
    assert res["changed"] is True
    assert [r["status"] for r in res["steps"]] == ["changed", "changed", "absent"]
    assert res["counts"] == {"changed": 2, "ok": 0, "absent": 1, "failed": 0, "skipped": 0}
    assert res["steps"][1]["dest"] == str(tmp_path / "q" / "20261129T120000Z") + str(app)
    assert marker.exists()
    assert not app.exists()


def test_nothing_to_do_is_unchanged(tmp_path):
    steps = [{"id": 1, "kind": "purge", "path": str(tmp_path / "home" / "alice" / ".xwechat"), "type": "dir"},
             {"id": 2, "kind": "command", "argv": [SH, "-c", "exit 5"], "tolerate": [""]}]
    out = run_module(base_args(tmp_path, steps))
    assert out.kind == "fail"  # an empty tolerate substring is refused by validation
    assert "step 2 (command): field tolerate: must be a list of non-empty strings" in out.result["msg"]
    steps[1]["tolerate"] = ["exit"]
    steps[1]["argv"] = [SH, "-c", "echo exit >&2; exit 5"]
    out = run_module(base_args(tmp_path, steps))
    assert (out.kind, out.result["changed"]) == ("exit", False)
    assert [r["status"] for r in out.result["steps"]] == ["absent", "ok"]


def test_failed_steps_fail_the_task_with_all_results(tmp_path):
    marker = tmp_path / "ran"
    steps = [{"id": 1, "kind": "command", "action": "remove_packages", "argv": [SH, "-c", "echo boom >&2; exit 2"]},
             {"id": 2, "kind": "purge", "action": "purge_data", "path": "/opt", "type": "dir"},
             touch_step(3, marker)]
    out = run_module(base_args(tmp_path, steps))
    assert out.kind == "fail"
    res = out.result
    assert res["msg"] == ("2 of 3 steps failed: step 1 (remove_packages): rc 2 (expected 0); "
                          "step 2 (purge_data): refused: /opt is protected (protected system path)")
    assert [r["status"] for r in res["steps"]] == ["failed", "failed", "changed"]
    assert res["steps"][0]["stderr"] == "boom\n"
    assert res["steps"][0]["rc"] == 2
    assert res["changed"] is True
    assert res["counts"]["failed"] == 2
    assert marker.exists()
    assert os.path.isdir("/opt")


def test_a_held_run_lock_fails_the_module_naming_the_holder_and_runs_nothing(tmp_path, monkeypatch):
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute import lock
    monkeypatch.setattr(lock, "_sleep", lambda seconds: None)
    holder = lock.RunLock(str(tmp_path / "state"))      # another open file description: flock conflicts with it
    record = holder.acquire(1, "20261129T110000Z")
    try:
        marker = tmp_path / "ran"
        out = run_module(base_args(tmp_path, [touch_step(1, marker)], lock_timeout=1))
    finally:
        holder.release()
    assert out.kind == "fail"
    assert out.result["run_lock"] == record
    assert out.result["msg"].startswith("another remediation is running on this host (pid %d, started %s, run "
                                        "20261129T110000Z)" % (record["pid"], record["started"]))
    assert (out.result["steps"], out.result["changed"]) == ([], False)
    assert not marker.exists()


def test_a_run_returns_its_journal_findings(tmp_path):
    out = run_module(base_args(tmp_path, [touch_step(1, tmp_path / "ran")]))
    assert out.kind == "exit"
    assert (out.result["interrupted_run"], out.result["package_repair"], out.result["run_warnings"]) == (None, None, [])
    journal = json.loads((tmp_path / "state" / "journal.json").read_text())
    assert (journal["state"], [(d["id"], d["status"]) for d in journal["done"]]) == ("finished", [(1, "changed")])
