# -*- coding: utf-8 -*-
"""The remediate action driving a Windows host: the right modules, the Windows step fields, the
vaulted secrets only in the executor's arguments, and outcomes judged from the verification scan.

The host answers with the recorded win_collect result in tests/unit/data/windows/workstation.yml;
the executor call is simulated (steps "changed"), and the verification scan returns the records
minus those whose findings the steps covered.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import yaml

from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.windows import WINDOWS_EXECUTOR_FIELDS
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import without_fact

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "windows")
COLLECT = "govsec.banned_software.win_collect"
EXECUTE = "govsec.banned_software.win_execute"
SECRETS = {"kaspersky_login": "KLAdmin", "kaspersky_password": "s3cr3t-Value"}


def recorded():
    with open(os.path.join(DATA, "workstation.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class WindowsHost(object):
    def __init__(self):
        self.state = recorded()
        self.calls = []
        self.removed_keys = set()

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, copy.deepcopy(module_args)))
        if module_name == COLLECT:
            result = copy.deepcopy(self.state)
            for source, items in result["records"].items():
                result["records"][source] = [r for r in items if "|".join(
                    [source, r.get("scope", ""), r.get("name", ""), r.get("path") or ""]) not in self.removed_keys]
            return result
        assert module_name == EXECUTE, module_name
        results = []
        for step in module_args["steps"]:
            results.append({"id": step["id"], "kind": step["kind"], "action": step.get("action"),
                            "status": "changed", "msg": "ok"})
            self.removed_keys.update(step.get("findings") or [])
        return {"changed": True, "steps": results}


def make_action(args, host, check_mode=False):
    return action_runner.make_action(remediate_action, host, without_fact(args), check_mode=check_mode)


TASK_VARS = {"inventory_hostname": "ws-0001", "ansible_connection": "winrm"}


def test_windows_host_uses_the_windows_modules_and_step_fields():
    host = WindowsHost()
    result = make_action({"uninstall_secrets": SECRETS}, host).run(task_vars=dict(TASK_VARS))
    assert [c[0] for c in host.calls] == [COLLECT, EXECUTE, COLLECT]
    assert result.get("failed") is not True, result.get("msg")
    sent = host.calls[1][1]
    assert sent["quarantine_dir"] == "C:\\ProgramData\\govsec-banned-software\\quarantine"
    assert sent["archive_dir"] == "C:\\ProgramData\\govsec-banned-software\\archive"
    assert sent["secrets"] == SECRETS
    assert sent["steps"], "the recorded workstation carries banned software"
    for step in sent["steps"]:
        allowed = set(("id", "kind", "action", "findings", "requires")) | set(WINDOWS_EXECUTOR_FIELDS[step["kind"]])
        assert set(step) <= allowed, (step["kind"], sorted(set(step) - allowed))
    commands = [s for s in sent["steps"] if s["kind"] == "command"]
    assert any(s["arguments"].startswith("/x {9A017278-F7F4-4DF9-A482-0B97B70DD7ED} /qn /norestart")
               for s in commands), [s["arguments"] for s in commands]
    kes = [s for s in commands if "9A017278" in s["arguments"]][0]
    assert "KLPASSWD={{secret:kaspersky_password}}" in kes["arguments"]


def test_secret_values_never_reach_the_plan_or_the_result():
    host = WindowsHost()
    result = make_action({"uninstall_secrets": SECRETS}, host).run(task_vars=dict(TASK_VARS))
    text = repr(result)
    assert "s3cr3t-Value" not in text and "KLAdmin" not in text
    plan_text = repr(result["remediation"]["plan"])
    assert "s3cr3t-Value" not in plan_text


def test_outcomes_and_status_after_the_run():
    host = WindowsHost()
    result = make_action({"uninstall_secrets": SECRETS}, host).run(task_vars=dict(TASK_VARS))
    outcomes = result["remediation"]["outcomes"]
    assert outcomes.get("removed", 0) > 0
    # per-user installs and forged uninstall strings are never run as SYSTEM
    assert outcomes.get("needs_user_action", 0) > 0
    assert result["status"] == "non_compliant"   # what needs a user's action is still there
    for finding in result["findings"]:
        assert finding["outcome"] in ("removed", "already_absent", "needs_user_action", "skipped_exempt",
                                      "skipped_protected", "failed"), finding


def test_check_mode_calls_only_the_collector():
    host = WindowsHost()
    result = make_action({"uninstall_secrets": SECRETS}, host, check_mode=True).run(task_vars=dict(TASK_VARS))
    assert [c[0] for c in host.calls] == [COLLECT]
    assert result["changed"] is True
    assert "would_remove" in result["remediation"]["outcomes"]


def test_the_local_fact_is_written_by_win_execute_in_the_call_that_removes():
    """Windows too: three module calls, the record's step last in win_execute's call, with its fields only."""
    from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import WINDOWS_FACT
    host = WindowsHost()
    result = action_runner.make_action(remediate_action, host, {"uninstall_secrets": SECRETS}).run(
        task_vars=dict(TASK_VARS))
    assert [c[0] for c in host.calls] == [COLLECT, EXECUTE, COLLECT]
    steps = host.calls[1][1]["steps"]
    fact = steps[-1]
    assert sorted(fact) == sorted(["id", "kind", "action", "findings", "requires", "path", "content", "expect_sha256"])
    assert (fact["kind"], fact["path"], fact["expect_sha256"]) == ("write_file", WINDOWS_FACT, None)
    assert set(fact) - {"id", "kind", "action", "findings", "requires"} <= set(WINDOWS_EXECUTOR_FIELDS["write_file"])
    assert fact["requires"] == [s["id"] for s in steps[:-1]]
    assert result["local_fact"] == {"changed": True, "path": WINDOWS_FACT}


def test_a_windows_local_fact_is_parsed_once_per_scan_and_its_history_kept(monkeypatch):
    """win_collect returns the record's text: the scan's drift check parses it and hands the record to its writer."""
    import hashlib
    import json
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import local_fact as reader
    from ansible_collections.govsec.banned_software.plugins.plugin_utils import _host_fact
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.match import drift
    old_key = "uninstall|machine|OldBanned|HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\OldBanned"
    text = json.dumps({"schema": 1, "status": "compliant",
                       "removals": [{"key": old_key, "removed_at": "2026-11-01T00:00:00Z"}]})
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()

    class FactHost(WindowsHost):
        def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
            result = WindowsHost.__call__(self, module_name, module_args, task_vars, **kwargs)
            if module_name == COLLECT:
                result.update(local_fact_text=text, local_fact_file={"sha256": sha})
            return result

    parses = []

    def counted(*args):
        parses.append(args)
        return reader.parse_fact_record(*args)
    monkeypatch.setattr(drift, "parse_fact_record", counted)
    monkeypatch.setattr(_host_fact, "parse_fact_record", counted)
    host = FactHost()
    action_runner.make_action(remediate_action, host, {"uninstall_secrets": SECRETS}).run(task_vars=dict(TASK_VARS))
    assert [c[0] for c in host.calls] == [COLLECT, EXECUTE, COLLECT]
    assert len(parses) == 2    # one per scan (before and after the removal), none for the writer
    fact = host.calls[1][1]["steps"][-1]
    assert fact["expect_sha256"] == sha
    assert {"key": old_key, "removed_at": "2026-11-01T00:00:00Z"} in json.loads(fact["content"])["removals"]


# --- win_execute's run lock and journal: the same result keys as the POSIX executor's ----------------------

# What win_execute answers when the named mutex stays held (RunJournal.cs, RunState.BusyMessage and ReadHolder).
HOLDER = {"pid": 4242, "started": "2026-11-29T12:00:00Z", "run_id": "20261129T120000Z"}
BUSY = ("another remediation is running on this host (pid 4242, started 2026-11-29T12:00:00Z, run 20261129T120000Z): "
        "the run lock Global\\govsec-banned-software-run was not free after 300 s (banned_software_lock_timeout); "
        "nothing was run")
# What it answers after a run that died in step 2 (RunState.Previous: journal.py's interrupted()).
PREVIOUS = {"run_id": "20261129T110000Z", "pid": 77, "started": "2026-11-29T11:00:00Z",
            "updated": "2026-11-29T11:02:00Z", "steps_done": [{"id": 1, "status": "changed"}], "step_interrupted": 2,
            "steps_not_run": [3], "detail": "the previous run (20261129T110000Z, pid 77, started 2026-11-29T11:00:00Z) "
                                            "ended before it finished: 1 of 3 steps done, interrupted in step 2"}


class FaultedWindowsHost(WindowsHost):
    def __init__(self, reply=None, extra=None):
        WindowsHost.__init__(self)
        self.reply = reply
        self.extra = extra or {}

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        if module_name == EXECUTE and self.reply:
            self.calls.append((module_name, copy.deepcopy(module_args)))
            return dict(self.reply)
        out = WindowsHost.__call__(self, module_name, module_args, task_vars, **kwargs)
        if module_name == EXECUTE:
            out.update(self.extra)
        return out


def test_a_held_windows_run_lock_fails_the_host_naming_the_other_run():
    host = FaultedWindowsHost(reply={"failed": True, "msg": BUSY, "run_lock": HOLDER, "steps": [], "changed": False})
    result = make_action({"uninstall_secrets": SECRETS}, host).run(task_vars=dict(TASK_VARS))
    assert [c[0] for c in host.calls] == [COLLECT, EXECUTE, COLLECT]
    assert (result["failed"], result["changed"]) == (True, False), result
    assert result["msg"] == "executor failed before running the plan: " + BUSY, result["msg"]
    assert result["remediation"]["run_lock"] == HOLDER
    assert not [f for f in result["findings"] if f["outcome"] == "removed"], result["findings"]
    # win_execute keeps its state in its own fixed directory: no state_dir option is sent to it.
    assert "state_dir" not in host.calls[1][1]


def test_an_interrupted_previous_windows_run_is_reported_and_warned_and_the_run_completes():
    warning = "the journal C:\\ProgramData\\govsec-banned-software\\journal.json was not updated: disk full"
    host = FaultedWindowsHost(extra={"interrupted_run": PREVIOUS, "run_warnings": [PREVIOUS["detail"], warning]})
    result = make_action({"uninstall_secrets": SECRETS}, host).run(task_vars=dict(TASK_VARS))
    assert result.get("failed") is not True, result.get("msg")
    assert result["remediation"]["interrupted_run"] == PREVIOUS
    for text in (PREVIOUS["detail"], warning):
        assert text in result["scan_warnings"], result["scan_warnings"]
    assert result["remediation"]["outcomes"].get("removed", 0) > 0
