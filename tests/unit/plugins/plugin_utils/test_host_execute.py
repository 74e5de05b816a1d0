# -*- coding: utf-8 -*-
"""The one executor call of a plan (_host_execute.execute_plan) and the local fact's own call (_host_fact.write_fact)."""

from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_execute import execute_plan, executor_lost
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_fact import write_fact

ARGS = {"lock_timeout": 300, "step_timeout": 600}
STEP = {"id": 9, "kind": "write_file", "action": "local_fact", "path": "/etc/ansible/facts.d/govsec_banned_software.fact",
        "content": "{}", "mode": "0644"}


class Executor(object):
    """Records each module call and answers ``reply``."""

    def __init__(self, reply):
        self.reply = reply
        self.calls = []

    def __call__(self, module_name=None, module_args=None, task_vars=None):
        self.calls.append((module_name, module_args))
        return dict(self.reply)


def test_the_local_facts_own_call_leaves_the_journal_to_the_next_run():
    executor = Executor({"changed": True, "steps": [{"id": 9, "status": "changed", "msg": "written"}]})
    assert write_fact(executor, {}, "linux", STEP, "r1", ARGS) == ("changed", None)
    name, module_args = executor.calls[0]
    assert (name, module_args["journal"], module_args["state_dir"]) == (
        "govsec.banned_software.execute", False, "/var/lib/govsec-banned-software")


def test_a_plan_is_journaled_and_the_windows_fact_call_keeps_no_journal_either():
    for platform in ("linux", "macos", "windows"):
        executor = Executor({"changed": False, "steps": []})
        execute_plan(executor, {}, platform, [dict(STEP)], "r1", {}, ARGS)
        assert "journal" not in executor.calls[0][1], platform     # the module's default: journaled
    executor = Executor({"changed": False, "steps": []})
    write_fact(executor, {}, "windows", STEP, "r1", ARGS)
    name, module_args = executor.calls[0]
    # win_execute keeps its state in its fixed directory: journal false, no state_dir.
    assert (name, module_args["journal"], "state_dir" in module_args) == (
        "govsec.banned_software.win_execute", False, False)


def test_an_executor_that_ended_without_a_result_is_told_apart_from_one_that_refused():
    killed = {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "module_stdout": "",
              "module_stderr": "", "rc": 137}
    run = {}
    assert execute_plan(Executor(killed), {}, "linux", [dict(STEP)], "r1", {}, ARGS, run=run) == ([], killed["msg"])
    assert run == {"executor_lost": "rc 137: killed by signal 9"}
    refused = {"failed": True, "msg": "invalid plan, nothing was run: x", "steps": []}
    run = {}
    assert execute_plan(Executor(refused), {}, "linux", [dict(STEP)], "r1", {}, ARGS, run=run) == ([], refused["msg"])
    assert run == {}
    assert executor_lost({"failed": True, "msg": "MODULE FAILURE", "module_stderr": "Traceback", "rc": 1}) == (
        "rc 1, no result")
    assert executor_lost({"failed": True, "msg": "MODULE FAILURE", "module_stdout": "", "rc": -9}) == (
        "killed by signal 9")
