# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence per policy: the counts agree with report.json's per-host data for every policy; the CSV and
the HTML section carry the same rows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import importlib.util
import io
import json
import os

import jsonschema
import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import (
    CSV_COLUMNS, add_policy_evidence, render_evidence_csv, statement)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import render_html
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
WHEN = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)


def synthetic_fleet(hosts):
    spec = importlib.util.spec_from_file_location("report_generation",
                                                  os.path.join(ROOT, "benchmarks", "report_generation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_fleet(hosts, seed=6)


def fleets():
    yield "report_fleet", report_fleet.report()
    yield "synthetic-500", build_report(synthetic_fleet(500), "2026.11.29", WHEN)


def expected(report, catalog, pid):
    """The evidence of one policy derived host by host from report.json, independently of the code under test."""
    run = set()
    for host in report["hosts"].values():
        if isinstance(host.get("policies"), list) and host["policies"]:
            run |= catalog.selected_policy_ids(host["policies"])
        for finding in host["findings"]:
            run |= set(finding.get("policies") or [])
    counts = {"hosts_in_scope": 0, "compliant": 0, "non_compliant": 0, "unreachable": 0, "failed": 0}
    exemptions = []
    for name, host in report["hosts"].items():
        selected = catalog.selected_policy_ids(host["policies"]) if host.get("policies") else run
        ran = isinstance(host.get("remediation"), dict) and not host["remediation"].get("checked_only")
        for finding in host["findings"]:
            if pid in (finding.get("policies") or []):
                for key in ("exemption", "exemption_expired"):
                    if isinstance(finding.get(key), dict):
                        exemptions.append((name, finding["id"], finding[key]["reason"], key == "exemption_expired"))
        if pid not in selected:
            continue
        counts["hosts_in_scope"] += 1
        if host["status"] == "unreachable":
            counts["unreachable"] += 1
        elif host["status"] == "failed":
            counts["failed"] += 1
        elif any(pid in (f.get("policies") or []) and f.get("exempt") is not True
                 and not (ran and f.get("outcome") in ("removed", "already_absent")) for f in host["findings"]):
            counts["non_compliant"] += 1
        else:
            counts["compliant"] += 1
    return counts, sorted(exemptions)


@pytest.mark.parametrize("name, report", list(fleets()), ids=[n for n, dummy in fleets()])
def test_the_evidence_agrees_with_the_per_host_data_for_every_policy(name, report):
    catalog = load_catalog()
    add_policy_evidence(report, catalog)
    evidence = report["policy_evidence"]
    assert evidence, name
    assert [row["id"] for row in evidence] == sorted(row["id"] for row in evidence)
    for row in evidence:
        counts, exemptions = expected(report, catalog, row["id"])
        assert dict((k, row[k]) for k in counts) == counts, row["id"]
        assert row["hosts_in_scope"] == row["compliant"] + row["non_compliant"] + row["unreachable"] + row["failed"]
        assert sorted((e["host"], e["entry"], e["reason"], e["expired"]) for e in row["exemptions"]) == exemptions
        assert row["expired_exemptions"] == sum(1 for e in exemptions if e[3])
        assert row["compliant_percent"] == round(100.0 * row["compliant"] / row["hosts_in_scope"], 1)
        record = catalog.policies[row["id"]]
        for key in ("title", "instrument", "date", "url", "jurisdiction"):
            assert row[key] == record[key]
        assert row.get("deadline") == record.get("deadline")
    # every unreachable host is in scope of every policy of the run, never compliant
    unreachable = report["summary"]["unreachable"]
    assert all(row["unreachable"] == unreachable for row in evidence)


def test_the_deadline_of_a_policy_record_is_carried():
    report = add_policy_evidence(report_fleet.report(), load_catalog())
    by_id = dict((row["id"], row) for row in report["policy_evidence"])
    # catalog/policies.yml: the Commission's removal deadline
    assert by_id["eu-ec-2023-02-23-tiktok"]["deadline"] == "2023-03-15"
    assert "deadline" not in by_id["ca-tbs-2023-10-30"]


def test_the_evidence_is_in_the_schema():
    report = add_policy_evidence(report_fleet.report(), load_catalog())
    with open(os.path.join(ROOT, "docs", "report.schema.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(report)))
    assert "policy_evidence" in schema["properties"]
    broken = json.loads(json.dumps(report))
    broken["policy_evidence"][0]["compliant"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_the_csv_has_a_row_per_policy_and_per_exemption():
    report = add_policy_evidence(report_fleet.report(), load_catalog())
    text = render_evidence_csv(report)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    policies = [r for r in rows if r["row"] == "policy"]
    assert [r["policy"] for r in policies] == [row["id"] for row in report["policy_evidence"]]
    for csv_row, row in zip(policies, report["policy_evidence"]):
        assert int(csv_row["hosts in scope"]) == row["hosts_in_scope"]
        assert int(csv_row["non-compliant"]) == row["non_compliant"]
        assert csv_row["compliant %"] == str(row["compliant_percent"])
        assert csv_row["url"] == row["url"]
    exemptions = [r for r in rows if r["row"] == "exemption"]
    assert len(exemptions) == sum(len(row["exemptions"]) for row in report["policy_evidence"])
    assert any(r["expired"] == "true" for r in exemptions) and any(r["expired"] == "false" for r in exemptions)
    # host data is untrusted: a formula never starts a cell
    assert not [c for r in rows for c in r.values() if c and c[0] in "=+-@"]


def test_the_html_section_states_each_policy():
    report = add_policy_evidence(report_fleet.report(), load_catalog())
    page = render_html(report)
    assert '<section id="policy-evidence">' in page
    for row in report["policy_evidence"]:
        assert statement(row).replace("'", "&#x27;") in page
        assert 'data-policy="%s"' % row["id"] in page
    assert "expired" in page
