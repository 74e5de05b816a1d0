# -*- coding: utf-8 -*-
"""One way to keep a host's result: the task result of scan, remediate and block is the host result.

The roles register it as banned_software_host_report (detect's scan, remediate's remediate task, the block
entry point's block task); no task copies ``ansible_facts.banned_software`` into it any more. The report, the
local fact and the playbooks read the same values from the registered result as from the facts it used to be
copied from: every report format is the same.
"""

import datetime
import io
import os

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.filter.local_fact import local_fact
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import write_csv
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import write_html
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.junit_format import write_junit
from ansible_collections.govsec.banned_software.tests.unit.plugins.action import test_block, test_remediate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
GENERATED_AT = datetime.datetime(2026, 12, 5, 10, 0, 0, tzinfo=datetime.timezone.utc)


def formats(host_result):
    """report.json's host entry, and the CSV, HTML and JUnit text of a one-host report."""
    report = build_report({"h1": host_result}, "2026.12.05", generated_at=GENERATED_AT)
    out = {"json": report}
    for name, writer in (("csv", write_csv), ("html", write_html)):
        handle = io.StringIO()
        writer(report, handle)
        out[name] = handle.getvalue()
    handle = io.BytesIO()
    write_junit(report, handle)
    out["junit"] = handle.getvalue()
    return out


def check_host_result(result):
    facts = result["ansible_facts"]["banned_software"]
    for key, value in facts.items():
        if key == "warnings":
            assert result["scan_warnings"] == value
        else:
            assert result[key] == value, key
    assert "warnings" not in result, "Ansible reserves a result's warnings key"
    # What the roles used to copy (the facts) and what they register now give the same reports.
    assert formats(result) == formats(facts)
    if facts["status"] in ("compliant", "non_compliant", "remediated"):
        assert local_fact(result) == local_fact(facts)


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_remediate_result_is_the_host_result(check_mode):
    result = test_remediate.run(test_remediate.FakeHost(), check_mode=check_mode)
    assert result["status"] == ("non_compliant" if check_mode else "remediated")
    check_host_result(result)


def test_the_block_result_is_the_host_result():
    for state in ("present", "absent"):
        result = test_block.run(test_block.rpm_host(), {"state": state})
        assert result["blocks"]["mode"] == state
        check_host_result(result)


@pytest.mark.parametrize("path, task", [
    ("roles/detect/tasks/scan.yml", "govsec.banned_software.scan"),
    ("roles/remediate/tasks/remove.yml", "govsec.banned_software.remediate"),
    ("roles/remediate/tasks/block.yml", "govsec.banned_software.block"),
])
def test_the_roles_register_the_task_result_as_the_host_result(path, task):
    with open(os.path.join(ROOT, path)) as handle:
        tasks = yaml.safe_load(handle)
    block = [t for t in tasks if "block" in t][0]
    (action,) = [t for t in block["block"] if task in t]
    assert action["register"] == "banned_software_host_report"
    assert action["ignore_unreachable"] is True
    # Only the rescue sets the host result (a failure that stopped the action), as in the detect role.
    setters = [t for t in block["block"] if "ansible.builtin.set_fact" in t]
    assert setters == [], setters
    assert [list(t["ansible.builtin.set_fact"]) for t in block["rescue"]] == [["banned_software_host_report"]]
