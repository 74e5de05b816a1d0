# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline gate (banned_software_fail_on): which hosts the report action lists in gate_hosts, with what
message, and when image_scan fails its task."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.govsec.banned_software.plugins.action import report as report_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils import _gate
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.plugins.action import test_image_scan, test_scan

WECHAT = {"id": "wechat", "product": "WeChat (Weixin)", "key": "dpkg|machine|wechat|/var/lib/dpkg/status",
          "name": "wechat", "exempt": False}
KESL = {"id": "kaspersky-endpoint-security-linux", "product": "Kaspersky Endpoint Security for Linux",
        "key": "dpkg|machine|kesl|/var/lib/dpkg/status", "name": "kesl", "exempt": False}
EXEMPT = dict(WECHAT, exempt=True, key="dpkg|machine|com.tencent.weixin|/var/lib/dpkg/status")
FLEET = {
    "clean": {"status": "compliant", "findings": []},
    "waived": {"status": "compliant", "findings": [EXEMPT]},
    "dirty": {"status": "non_compliant", "findings": [WECHAT, KESL, EXEMPT]},
    "gone": {"status": "unreachable", "findings": [], "error": "ssh: timeout"},
    "broken": {"status": "failed", "findings": [WECHAT], "error": "collector failed"},
}


def report(host_settings=None, **args):
    action = action_runner.make_action(report_action, args=args)
    hostvars = {}
    for name, result in FLEET.items():
        hostvars[name] = dict((host_settings or {}).get(name, {}), banned_software_host_report=result)
    return action.run(task_vars={"hostvars": hostvars, "groups": {"all": sorted(FLEET)}})


@pytest.mark.parametrize("fail_on, expected", [
    ("never", []),
    ("non_compliant", ["dirty"]),
    ("findings", ["dirty", "waived"]),
])
def test_gate_hosts_follow_the_condition_and_never_list_unscanned_hosts(fail_on, expected):
    result = report(fail_on=fail_on)
    assert result.get("failed") is not True, result.get("msg")
    assert result["gate_hosts"] == expected
    assert sorted(result["gate_failures"]) == expected


def test_the_default_keeps_the_behaviour_before_the_gate():
    result = report()
    assert result["gate_hosts"] == [] and result["gate_failures"] == {}
    assert not any(line.startswith("GATE") for line in result["table"])


def test_the_message_names_the_host_the_condition_and_the_products():
    result = report(fail_on="non_compliant")
    assert result["gate_failures"]["dirty"] == (
        "banned software on dirty (banned_software_fail_on=non_compliant): "
        "Kaspersky Endpoint Security for Linux (kaspersky-endpoint-security-linux), WeChat (Weixin) (wechat); "
        "2 finding(s)")
    assert result["table"][-1] == "GATE (banned_software_fail_on): 1 host(s) fail: dirty"
    findings = report(fail_on="findings")["gate_failures"]
    assert findings["dirty"].endswith("3 finding(s) (1 exempt)")
    assert findings["waived"] == ("banned software on waived (banned_software_fail_on=findings): "
                                  "WeChat (Weixin) (wechat); 1 finding(s) (1 exempt)")


def test_a_host_variable_wins_over_the_task_value():
    result = report({"dirty": {"banned_software_fail_on": "never"}, "waived": {"banned_software_fail_on": "findings"}},
                    fail_on="non_compliant")
    assert result["gate_hosts"] == ["waived"]


def test_a_wrong_value_fails_after_the_report_is_written(tmp_path):
    result = report({"dirty": {"banned_software_fail_on": "noncompliant"}}, fail_on="non_compliant",
                    dest=str(tmp_path))
    assert result["failed"] is True
    assert result["msg"] == ("banned_software_fail_on of host dirty: expected one of never, non_compliant, "
                             "findings, got 'noncompliant'")
    assert (tmp_path / "report.json").exists()
    wrong_default = report(fail_on="always", dest=str(tmp_path / "b"))
    assert wrong_default["failed"] is True and "got 'always'" in wrong_default["msg"]
    assert (tmp_path / "b" / "report.json").exists() and wrong_default["gate_hosts"] == []


@pytest.mark.parametrize("fail_on, failed", [("never", False), ("non_compliant", True), ("findings", True)])
def test_image_scan_fails_on_a_dirty_image_naming_it_and_keeps_the_findings(tmp_path, monkeypatch, fail_on, failed):
    root = test_scan.make_root(tmp_path)
    action, dummy, task_vars = test_image_scan.make_action({"root": str(root), "fail_on": fail_on}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert bool(result.get("failed")) is failed, result.get("msg")
    assert len(result["findings"]) == 11 and result["status"] == "non_compliant"
    if failed:
        assert result["msg"].startswith("banned software on the image at %s (host golden) (banned_software_fail_on=%s): "
                                        % (root, fail_on))
        assert "(wechat)" in result["msg"] and "(kaspersky-network-agent)" in result["msg"] and result["msg"].endswith("11 finding(s)")


def test_image_scan_passes_on_a_clean_image_and_reads_the_variable(tmp_path, monkeypatch):
    root = tmp_path / "clean"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    action, dummy, task_vars = test_image_scan.make_action(
        {"root": str(root)}, monkeypatch, {"banned_software_fail_on": "findings"})
    action._templar = Templar(loader=DataLoader(), variables=task_vars)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert result["status"] == "compliant" and result["findings"] == []
    dirty = test_scan.make_root(tmp_path)
    action, dummy, task_vars = test_image_scan.make_action(
        {"root": str(dirty)}, monkeypatch, {"banned_software_fail_on": "findings"})
    action._templar = Templar(loader=DataLoader(), variables=task_vars)
    assert action.run(task_vars=task_vars)["failed"] is True


def test_check_fail_on_names_where_the_value_came_from():
    assert _gate.check_fail_on(None) == "never"
    with pytest.raises(_gate.GateError, match=r"^x: expected one of never, non_compliant, findings, got True$"):
        _gate.check_fail_on(True, "x")
