# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report action's formats: the four files agree, report.json follows docs/report.schema.json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import os
from html.parser import HTMLParser

import jsonschema
import pytest
from ansible.errors import AnsibleActionFail
from lxml import etree

from ansible_collections.govsec.banned_software.plugins.action import report as report_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SCHEMA_PATH = os.path.join(ROOT, "docs", "report.schema.json")
XSD = os.path.join(ROOT, "tests", "unit", "data", "report", "junit-strict.xsd")


def schema():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        data = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(data)
    return jsonschema.Draft202012Validator(data, format_checker=jsonschema.FormatChecker())


def run_action(args, fleet):
    action = action_runner.make_action(report_action, args=args)
    hostvars = dict((h, {"banned_software_host_report": r}) for h, r in fleet.items())
    task_vars = {"hostvars": hostvars, "groups": {"all": sorted(fleet)}}
    return action.run(task_vars=task_vars)


class Blob(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.blob = None
        self._on = False

    def handle_starttag(self, tag, attrs):
        self._on = tag == "script" and dict(attrs).get("type") == "application/json"

    def handle_data(self, data):
        if self._on:
            self.blob = json.loads(data)
            self._on = False


def unquote(cell):
    return cell[1:] if cell[:2] in ("'=", "'+", "'-", "'@") else cell


def read_all(dest):
    with open(os.path.join(dest, "report.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    with open(os.path.join(dest, "report.csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    parser = Blob()
    with open(os.path.join(dest, "report.html"), encoding="utf-8") as handle:
        parser.feed(handle.read())
    junit = etree.parse(os.path.join(dest, "report.junit.xml"))
    etree.XMLSchema(etree.parse(XSD)).assertValid(junit)
    return data, rows, parser.blob, junit.getroot()


def test_action_writes_four_files_that_agree(tmp_path):
    dest = str(tmp_path / "out")
    result = run_action({"dest": dest}, report_fleet.fleet())
    assert result["changed"] is False
    assert result["report_paths"] == dict((k, os.path.join(dest, v)) for k, v in (
        ("json", "report.json"), ("csv", "report.csv"), ("html", "report.html"), ("junit", "report.junit.xml")))
    assert result["report_path"] == os.path.join(dest, "report.json")
    # the report files, the evidence per policy (with the CSV), and the history directory with this run's copy
    assert sorted(os.listdir(dest)) == ["history", "policy-evidence.csv", "report.csv", "report.html", "report.json",
                                        "report.junit.xml"]
    assert result["policy_evidence_path"] == os.path.join(dest, "policy-evidence.csv")
    assert os.listdir(os.path.join(dest, "history")) == ["report-%s.json" % result["trend"][-1]["generated_at"]
                                                         .replace("-", "").replace(":", "")]
    assert result["history_path"] == os.path.join(dest, "history", os.listdir(os.path.join(dest, "history"))[0])
    for name in os.listdir(dest) + [result["history_path"]]:
        if name != "history":
            assert oct(os.stat(os.path.join(dest, name)).st_mode & 0o777) == "0o640"
    data, rows, blob, junit = read_all(dest)
    schema().validate(data)
    hosts = sorted(data["hosts"])
    assert len(hosts) == 12
    # same hosts
    assert sorted(set(unquote(r["host"]) for r in rows)) == hosts
    assert sorted(h[0] for h in blob["hosts"]) == hosts
    assert len(junit.findall("testsuite")) == len(hosts)
    # same findings
    findings = data["summary"]["findings"]
    assert findings == 13
    assert sum(1 for r in rows if r["finding id"]) == findings
    assert sum(h[2] for h in blob["hosts"]) == findings
    assert sum(len(h[10]) for h in blob["hosts"]) == findings
    # same statuses, host by host
    by_csv = dict((unquote(r["host"]), r["status"]) for r in rows)
    by_html = dict((h[0], h[1]) for h in blob["hosts"])
    assert by_csv == by_html == dict((h, data["hosts"][h]["status"]) for h in hosts)
    # JUnit: a host has failures or errors exactly when it is not compliant/remediated
    for suite in junit.findall("testsuite"):
        status = [p.get("value") for p in suite.findall("properties/property") if p.get("name") == "status"][0]
        bad = int(suite.get("failures")) + int(suite.get("errors"))
        assert (bad > 0) == (status not in ("compliant", "remediated"))
    statuses = [p.get("value") for p in junit.findall("testsuite/properties/property") if p.get("name") == "status"]
    assert sorted(statuses) == sorted(data["hosts"][h]["status"] for h in hosts)
    assert data["hosts"]["clean.example.gov"]["entries_enabled"] == report_fleet.ENABLED


def test_formats_subset_always_writes_json(tmp_path):
    dest = str(tmp_path)
    result = run_action({"dest": dest, "formats": ["junit"]}, report_fleet.fleet())
    assert sorted(result["report_paths"]) == ["json", "junit"]
    assert sorted(os.listdir(dest)) == ["history", "report.json", "report.junit.xml"]
    assert not [n for n in os.listdir(dest) if n.startswith(".report.")]
    assert len(os.listdir(os.path.join(dest, "history"))) == 1


def test_unknown_format_is_an_error(tmp_path):
    with pytest.raises(AnsibleActionFail) as exc:
        run_action({"dest": str(tmp_path), "formats": ["pdf"]}, report_fleet.fleet())
    assert "pdf" in str(exc.value)
    assert os.listdir(str(tmp_path)) == []


def test_a_failing_writer_leaves_the_previous_file(tmp_path, monkeypatch):
    dest = str(tmp_path)
    run_action({"dest": dest}, report_fleet.fleet())
    with open(os.path.join(dest, "report.html"), encoding="utf-8") as handle:
        before = handle.read()

    def boom(report, handle):
        handle.write("partial")
        raise OSError("disk full")

    monkeypatch.setitem(report_action.FORMATS, "html", ("report.html", boom, "w", "utf-8"))
    with pytest.raises(Exception) as exc:
        run_action({"dest": dest}, {"x": {"status": "compliant", "findings": []}})
    assert "disk full" in str(exc.value)
    with open(os.path.join(dest, "report.html"), encoding="utf-8") as handle:
        assert handle.read() == before
    assert not [n for n in os.listdir(dest) if n.startswith(".report.")]


REMEDIATED = {
    "r1": {"status": "remediated", "findings": [report_fleet.finding("wechat", outcome="removed")],
           "remediation": {"run_id": "20261129T120000Z", "plan": {"version": 1, "steps": [], "skipped": []},
                           "steps": [{"id": 1, "rc": 0}], "reboot_required": True}, "entries_enabled": ["wechat"]},
    "r2": {"status": "non_compliant", "findings": [report_fleet.finding("wechat", outcome="would_remove")],
           "remediation": {"run_id": "20261129T120001Z", "checked_only": True, "reboot_required": False}},
}


@pytest.mark.parametrize("fleet", [report_fleet.fleet(), REMEDIATED, {}], ids=["mixed", "remediation", "empty"])
def test_schema_accepts_generated_reports(fleet):
    report = json.loads(json.dumps(build_report(fleet, "2026.11.29", report_fleet.WHEN)))
    schema().validate(report)


@pytest.mark.parametrize("path, value, message", [
    (("summary",), None, "'summary' is a required property"),
    (("hosts", "r1", "status"), "ok", "'ok' is not one of"),
    (("hosts", "r1", "findings", 0, "exempt"), "yes", "'yes' is not of type 'boolean'"),
    (("hosts", "r1", "findings", 0, "id"), "Bad Id", "does not match"),
    (("summary", "findings"), -1, "less than the minimum of 0"),
    (("generated_at",), "yesterday", "does not match"),
])
def test_schema_rejects_broken_reports(path, value, message):
    report = json.loads(json.dumps(build_report(REMEDIATED, "2026.11.29", report_fleet.WHEN)))
    node = report
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError) as exc:
        schema().validate(report)
    assert message in exc.value.message


@pytest.mark.parametrize("path, value, message", [
    (("hosts", report_fleet.BUERO, "findings", 0, "drift"), "gone", "'reinstalled' was expected"),
    (("hosts", report_fleet.BUERO, "findings", 0, "removed_at"), "yesterday", "does not match"),
    (("hosts", report_fleet.BUERO, "findings", 0, "removed_at"), None, "'removed_at' is a dependency of 'drift'"),
    (("hosts", report_fleet.BUERO, "reinstalled"), "wechat", "'wechat' is not of type 'array'"),
    (("hosts", report_fleet.BUERO, "last_remediation_at"), "soon", "is not valid under any of the given schemas"),
    (("hosts", report_fleet.BUERO, "blocks", "items", 0, "state"), "done", "'done' is not one of"),
    (("hosts", report_fleet.BUERO, "blocks", "mode"), "maybe", "'maybe' is not one of"),
    (("summary", "reinstalled_hosts"), -1, "less than the minimum of 0"),
])
def test_schema_checks_drift_and_blocks(path, value, message):
    report = json.loads(json.dumps(build_report(report_fleet.fleet(), "2026.11.29", report_fleet.WHEN)))
    schema().validate(report)
    node = report
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError) as exc:
        schema().validate(report)
    assert message in exc.value.message


def test_the_four_files_agree_on_reinstalls(tmp_path):
    dest = str(tmp_path / "out")
    run_action({"dest": dest}, report_fleet.fleet())
    data, rows, blob, junit = read_all(dest)
    again = sorted(h for h, e in data["hosts"].items() if e.get("reinstalled"))
    assert again == sorted([report_fleet.BUERO, "remediated.example.gov"])
    assert data["summary"]["reinstalled_hosts"] == 2 and data["summary"]["reinstalled_findings"] == 2
    assert data["hosts"][report_fleet.BUERO]["reinstalled"] == [report_fleet.BUERO_WECHAT_KEY]
    assert data["hosts"][report_fleet.BUERO]["blocks"] == report_fleet.BLOCKS
    assert data["hosts"]["exempt.example.gov"]["reinstalled"] == []
    assert sorted(set(unquote(r["host"]) for r in rows if r["drift"] == "reinstalled" and r["exempt"] == "false")) == again
    assert sorted(h[0] for h in blob["hosts"] if h[11]) == again
    assert sorted(s.get("name") for s in junit.findall("testsuite")
                  if [p for p in s.findall("properties/property") if p.get("name") == "reinstalled"]) == again
