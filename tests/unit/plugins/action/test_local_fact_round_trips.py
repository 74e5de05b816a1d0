# -*- coding: utf-8 -*-
"""Module round trips per host and phase, and the local fact written by the executor call that removes.

``FactHost`` is test_remediate's simulated host plus the local fact file: the collector returns what a real
collector returns for it (``local_fact_file``: sha256 of the bytes and the parsed record), the executor applies
``write_file`` / ``remove_file`` with the real step's hash check. Counted: audit 1 call, audit with the local
fact 2, remediate 3 (collect, execute, verify); --check reports changed exactly when the real run does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

import pytest

from ansible_collections.govsec.banned_software.plugins.action import local_fact as local_fact_action
from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import POSIX_FACT
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.plugins.action.test_remediate import (
    COLLECT, EXECUTE, STATUS, FakeHost)

TASK_VARS = {"inventory_hostname": "h1", "ansible_connection": "ssh"}


class FactHost(FakeHost):
    """A host with a local fact file (``fact``: its bytes, None when absent)."""

    def __init__(self, fact=None, fact_refused=None, **kwargs):
        FakeHost.__init__(self, **kwargs)
        self.fact = fact
        self.fact_refused = fact_refused

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        result = FakeHost.__call__(self, module_name, module_args, task_vars, **kwargs)
        if module_name == COLLECT and not result.get("failed"):
            result["local_fact_file"] = self.fact_file()
        return result

    def fact_file(self):
        if self.fact_refused:
            return {"refused": self.fact_refused}
        if self.fact is None:
            return None
        return {"sha256": hashlib.sha256(self.fact).hexdigest(), "record": json.loads(self.fact.decode("utf-8"))}

    def run_step(self, step):
        if step["kind"] not in ("write_file", "remove_file"):
            return FakeHost.run_step(self, step)
        assert step["path"] == POSIX_FACT and step["action"] == "local_fact"
        result = {"id": step["id"], "kind": step["kind"], "action": step["action"], "msg": ""}
        current = hashlib.sha256(self.fact).hexdigest() if self.fact is not None else None
        if current != step["expect_sha256"]:
            result.update(status="failed", msg="changed since the scan")
        elif step["kind"] == "remove_file":
            self.fact = None
            result["status"] = "changed"
        elif self.fact == step["content"].encode("utf-8"):
            result["status"] = "ok"
        else:
            self.fact = step["content"].encode("utf-8")
            result["status"] = "changed"
        return result

    def record(self):
        return json.loads(self.fact.decode("utf-8")) if self.fact is not None else None


def remediate(host, check_mode=False, args=None):
    return action_runner.make_action(remediate_action, host, args, check_mode=check_mode).run(task_vars=dict(TASK_VARS))


def audit(host, local_fact):
    """The audit playbook's host calls: the scan task, then (only when it planned a write) the local_fact task."""
    result = action_runner.make_action(scan_action, host, {"record_failures": True, "local_fact": local_fact}).run(
        task_vars=dict(TASK_VARS))
    written = None
    if result.get("local_fact_step"):
        written = action_runner.make_action(local_fact_action, host, {}).run(
            task_vars=dict(TASK_VARS, banned_software_host_report=result))
    return result, written


def clean_records():
    return {"dpkg": [{"name": "linuxqq", "scope": "machine", "path": STATUS}]}


# -- round trips ------------------------------------------------------------------------------------

def test_audit_is_one_module_call_per_host():
    host = FactHost()
    result, written = audit(host, local_fact=False)
    assert host.modules() == [COLLECT]
    assert (result["changed"], written, "local_fact_step" in result) == (False, None, False)


def test_audit_with_the_local_fact_is_two_calls_then_one():
    host = FactHost()
    result, written = audit(host, local_fact=True)
    assert host.modules() == [COLLECT, EXECUTE]
    assert result["changed"] is False and written["changed"] is True
    assert host.record()["status"] == "non_compliant"
    # Nothing changed on the host: the record is up to date, no executor call.
    host.calls = []
    result, written = audit(host, local_fact=True)
    assert host.modules() == [COLLECT] and written is None and result["local_fact"] == {"changed": False, "path": None}


def test_remediate_is_three_calls_and_writes_the_fact_in_the_executor_call_that_removes():
    host = FactHost()
    result = remediate(host)
    assert host.modules() == [COLLECT, EXECUTE, COLLECT]
    steps = host.calls[1][1]["steps"]
    fact = steps[-1]
    assert (fact["kind"], fact["action"], fact["path"], fact["expect_sha256"]) == ("write_file", "local_fact", POSIX_FACT, None)
    assert fact["requires"] == [s["id"] for s in steps[:-1]]
    assert (result["status"], result["changed"], result["local_fact"]) == (
        "remediated", True, {"changed": True, "path": POSIX_FACT})
    record = host.record()
    assert (record["status"], record["findings"]) == ("compliant", 0)
    assert record["last_remediation"]["at"] == result["remediation"]["executed_at"]
    assert sorted(r["key"] for r in record["last_remediation"]["removed"]) == sorted(
        f["key"] for f in result["findings"] if f["outcome"] == "removed")
    # The second run: one scan, nothing to remove, the record already says this: changed=0.
    host.calls = []
    again = remediate(host)
    assert host.modules() == [COLLECT]
    assert (again["changed"], again["local_fact"]) == (False, {"changed": False})
    assert host.record() == record


def test_a_failed_step_skips_the_predicted_record_and_one_more_call_writes_the_truth():
    host = FactHost(fail_actions=["remove_packages"])
    result = remediate(host)
    assert host.modules() == [COLLECT, EXECUTE, COLLECT, EXECUTE]
    assert result["status"] == "non_compliant"
    record = host.record()
    assert record["status"] == "non_compliant"
    assert record["last_remediation"]["failed"], record
    assert result["local_fact"] == {"changed": True, "path": POSIX_FACT}


def test_a_failed_verification_scan_leaves_no_record_the_run_cannot_vouch_for():
    host = FactHost(verify_error=True)
    result = remediate(host)
    assert result["failed"] is True
    # The predicted record was written with the removal; with no previous record it is removed again.
    assert host.modules() == [COLLECT, EXECUTE, COLLECT, EXECUTE]
    assert host.calls[3][1]["steps"][0]["kind"] == "remove_file"
    assert host.fact is None


def test_a_failed_verification_scan_restores_the_previous_record():
    host = FactHost()
    audit(host, local_fact=True)
    before = host.fact
    host.calls = []
    host.verify_error = True
    remediate(host)
    assert json.loads(host.fact.decode("utf-8")) == json.loads(before.decode("utf-8"))


def test_a_refused_fact_file_is_never_replaced():
    host = FactHost(fact_refused="is a symbolic link, not read")
    result = remediate(host)
    assert host.modules() == [COLLECT, EXECUTE, COLLECT]
    assert all(s["kind"] != "write_file" for s in host.calls[1][1]["steps"])
    assert host.fact is None and result["status"] == "remediated"


def test_local_fact_false_leaves_the_record_alone():
    host = FactHost()
    remediate(host, args={"local_fact": False})
    assert host.fact is None and host.modules() == [COLLECT, EXECUTE, COLLECT]


# -- check mode reports changed on the same tasks as the real run ----------------------------------------

def _dirty():
    return FactHost()


def _clean_first_time():
    return FactHost(records=clean_records())


def _clean_recorded():
    host = FactHost(records=clean_records())
    remediate(host)
    host.calls = []
    return host


def _remediated_recorded():
    host = FactHost()
    remediate(host)
    host.calls = []
    return host


@pytest.mark.parametrize("make, expected", [
    (_dirty, True), (_clean_first_time, True), (_clean_recorded, False), (_remediated_recorded, False)])
def test_check_mode_predicts_changed_exactly(make, expected):
    checked_host = make()
    before = checked_host.fact
    checked = remediate(checked_host, check_mode=True)
    assert checked_host.fact == before and checked_host.modules() == [COLLECT]
    real = remediate(make())
    assert (checked["changed"], real["changed"]) == (expected, expected)


@pytest.mark.parametrize("make, expected", [(_clean_first_time, True), (_clean_recorded, False)])
def test_check_mode_of_the_audit_local_fact_task(make, expected):
    host = make()
    result = action_runner.make_action(scan_action, host, {"record_failures": True, "local_fact": True}).run(
        task_vars=dict(TASK_VARS))
    before = host.fact
    checked = action_runner.make_action(local_fact_action, host, {}, check_mode=True).run(
        task_vars=dict(TASK_VARS, banned_software_host_report=result))
    assert checked["changed"] is expected and host.fact == before
    assert host.modules() == [COLLECT]


def test_the_local_fact_task_refuses_a_step_that_is_not_the_local_fact():
    host = FactHost()
    forged = {"status": "compliant", "os": "linux", "local_fact_step": {
        "id": 1, "kind": "write_file", "action": "local_fact", "path": "/etc/sudoers", "content": "x", "mode": "0644",
        "expect_sha256": None, "findings": [], "requires": []}}
    with pytest.raises(Exception, match="not the local fact's step"):
        action_runner.make_action(local_fact_action, host, {}).run(task_vars=dict(TASK_VARS, banned_software_host_report=forged))
    assert host.modules() == []
