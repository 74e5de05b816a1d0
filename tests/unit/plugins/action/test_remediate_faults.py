# -*- coding: utf-8 -*-
"""The remediate action when the host's run is faulted: run lock held, previous run interrupted, dpkg repaired."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.tests.unit.plugins.action.test_remediate import (
    ALL_KEYS, COLLECT, EXECUTE, FakeHost, K_APP, check, run)

HOLDER = {"pid": 4242, "started": "2026-11-29T12:00:00Z", "run_id": "20261129T120000Z"}
BUSY = ("another remediation is running on this host (pid 4242, started 2026-11-29T12:00:00Z, run 20261129T120000Z): "
        "the run lock /var/lib/govsec-banned-software/run.lock was not free after 300 s "
        "(banned_software_lock_timeout); nothing was run")
PREVIOUS = {"run_id": "20261129T110000Z", "pid": 77, "started": "2026-11-29T11:00:00Z", "steps_done": [],
            "step_interrupted": 3, "steps_not_run": [4], "detail": "the previous run (...) ended before it finished"}


class FaultedHost(FakeHost):
    """The executor answers with ``reply`` (the run lock held) or adds ``extra`` to a normal run."""

    def __init__(self, reply=None, extra=None):
        FakeHost.__init__(self)
        self.reply = reply
        self.extra = extra or {}

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        if module_name == EXECUTE and self.reply:
            self.calls.append((module_name, module_args))
            return dict(self.reply)
        out = FakeHost.__call__(self, module_name, module_args, task_vars, **kwargs)
        if module_name == EXECUTE:
            out.update(self.extra)
        return out


def test_a_held_run_lock_fails_the_host_naming_the_other_run():
    host = FaultedHost(reply={"failed": True, "msg": BUSY, "run_lock": HOLDER, "steps": [], "changed": False})
    result = run(host)
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    error = "executor failed before running the plan: " + BUSY
    check((result["failed"], result["msg"], result["changed"], result["status"]),
          (True, error, False, "non_compliant"), "result")
    check(result["remediation"]["run_lock"], HOLDER, "the holder in the report")
    check(sorted((f["key"], f["outcome"]) for f in result["findings"]), [(k, "failed") for k in ALL_KEYS],
          "nothing reported removed")
    assert "refused" not in result["remediation"]


def test_an_executor_killed_while_it_ran_is_not_said_to_have_failed_before_the_plan():
    # What Ansible returns when the module's process dies without printing its JSON (kill -9 through the shell).
    killed = {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "module_stdout": "",
              "module_stderr": "", "rc": 137}
    host = FaultedHost(reply=killed)
    result = run(host)
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls: the verification scan decides")
    error = ("executor ended without a result (rc 137: killed by signal 9), after running none, part or all of the plan: "
             "MODULE FAILURE\nSee stdout/stderr for the exact error")
    check((result.get("failed"), result["status"], result["remediation"]["error"]), (None, "non_compliant", error),
          "result")
    check(sorted((f["key"], f["outcome"], f["outcome_detail"]) for f in result["findings"]),
          [(k, "failed", error) for k in ALL_KEYS], "nothing reported removed, each finding naming the fault")


def test_the_state_directory_is_sent_to_the_executor():
    host = FakeHost()
    run(host)
    execute_args = [args for name, args in host.calls if name == EXECUTE][0]
    check(execute_args["state_dir"], "/var/lib/govsec-banned-software", "state_dir")


def test_an_interrupted_previous_run_and_a_repair_are_reported_and_the_run_completes():
    repair = {"status": "changed", "msg": "an interrupted dpkg transaction was completed (dpkg --configure -a)",
              "audit": "half configured"}
    host = FaultedHost(extra={"interrupted_run": PREVIOUS, "package_repair": repair,
                              "run_warnings": [PREVIOUS["detail"], repair["msg"]]})
    result = run(host)
    check((result.get("failed"), result["status"]), (None, "remediated"), "result")
    check(result["remediation"]["interrupted_run"], PREVIOUS, "interrupted run in the report")
    check(result["remediation"]["package_repair"], repair, "repair in the report")
    for warning in (PREVIOUS["detail"], repair["msg"]):
        assert warning in result["scan_warnings"], result["scan_warnings"]
    assert all(f["outcome"] == "removed" for f in result["findings"] if f["key"] != K_APP)
