# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan action's result is the host result (the detect role registers it as banned_software_host_report).

With record_failures an unreachable host or a failing collector is a recorded status, not a failed task;
without it the action fails as before. The report built from registered results counts every host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import make_action
from ansible_collections.govsec.banned_software.tests.unit.plugins.action import test_scan


def action_with(module_behaviour, args):
    return make_action(scan_action, module_behaviour, args)


def unreachable(**kwargs):
    raise AnsibleConnectionFailure("Failed to connect to the host via ssh: Connection refused")


def collector_fails(**kwargs):
    return {"failed": True, "msg": "python3: not found", "rc": 127, "module_stderr": "sh: python3: not found"}


TASK_VARS = {"inventory_hostname": "h1", "ansible_connection": "ssh"}


def test_unreachable_is_recorded_with_record_failures():
    result = action_with(unreachable, {"record_failures": True}).run(task_vars=dict(TASK_VARS))
    assert not result.get("failed") and not result.get("unreachable"), result
    assert result["status"] == "unreachable" and result["findings"] == []
    assert "Connection refused" in result["error"]


def test_unreachable_raises_without_record_failures():
    with pytest.raises(AnsibleConnectionFailure):
        action_with(unreachable, {}).run(task_vars=dict(TASK_VARS))


def test_collector_failure_is_recorded_with_record_failures():
    result = action_with(collector_fails, {"record_failures": True}).run(task_vars=dict(TASK_VARS))
    assert not result.get("failed"), result
    assert result["status"] == "failed" and result["findings"] == []
    assert "python3: not found" in result["error"] and result["rc"] == 127


def test_collector_failure_fails_the_task_without_record_failures():
    result = action_with(collector_fails, {}).run(task_vars=dict(TASK_VARS))
    assert result["failed"] is True and "python3: not found" in result["msg"]


def test_catalog_errors_still_fail_the_task(tmp_path):
    """A variable error is not the host's fault: the task fails (the role's rescue records it)."""
    result = action_with(collector_fails, {"record_failures": True, "policies": ["no-such-policy"]}).run(
        task_vars=dict(TASK_VARS))
    assert result["failed"] is True and "no-such-policy" in result["msg"]


def test_success_carries_the_host_result_at_the_top_level(tmp_path, monkeypatch):
    root = test_scan.make_root(tmp_path)
    action, dummy, task_vars = test_scan.make_action({"root": str(root), "record_failures": True}, monkeypatch, root)
    result = action.run(task_vars=task_vars)
    facts = result["ansible_facts"]["banned_software"]
    for key, value in facts.items():
        if key == "warnings":
            assert result["scan_warnings"] == value
            assert "warnings" not in result, "Ansible reserves a result's warnings key"
        else:
            assert result[key] == value, key
    # The registered result is a valid host result: the report reads it like the facts.
    from_registered = build_report({"img": result}, "x")["hosts"]["img"]
    from_facts = build_report({"img": facts}, "x")["hosts"]["img"]
    assert from_registered == from_facts
    assert from_registered["status"] == "non_compliant" and from_registered["findings"]


def test_an_ansible_unreachable_result_counts_as_unreachable():
    """ignore_unreachable keeps a registered {"unreachable": true} result; it is never compliant or lost."""
    report = build_report({"lost": {"unreachable": True, "msg": "timed out", "changed": False}}, "x")
    assert report["hosts"]["lost"] == {"status": "unreachable", "findings": [], "error": "timed out"}
    assert report["summary"]["unreachable"] == 1


def test_the_report_takes_the_hosts_warnings_not_ansibles():
    """ansible-core 2.19 records a task's own warnings in its result as objects; the host's are scan_warnings."""
    import json

    class WarningSummary(object):  # what ansible-core 2.19 puts in a registered result's "warnings"
        pass

    registered = {"status": "compliant", "findings": [], "scan_warnings": ["1 process(es) could not be examined"],
                  "warnings": [WarningSummary()], "changed": False}
    host = build_report({"h1": registered}, "x")["hosts"]["h1"]
    assert host["warnings"] == ["1 process(es) could not be examined"]
    json.dumps(host)
