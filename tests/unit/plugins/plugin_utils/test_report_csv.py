# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.csv: round trip through csv.DictReader, formula injection, unicode, BOM."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import (
    COLUMNS, ENCODING, neutralise, render_csv, write_csv,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet


def read_back(report):
    data = render_csv(report).encode(ENCODING)
    assert data[:3] == b"\xef\xbb\xbf"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def unescape(cell):
    return cell[1:] if cell[:2] in ("'=", "'+", "'-", "'@", "'\t", "'\r") else cell


def test_round_trip_equals_the_report():
    report = report_fleet.report()
    rows = read_back(report)
    assert list(rows[0].keys()) == list(COLUMNS)
    expected = []
    for host in sorted(report["hosts"]):
        entry = report["hosts"][host]
        if not entry["findings"]:
            expected.append((host, entry["status"], entry.get("error", ""), "", "", "", "", "", "", "", "", "", "",
                             "", "", "", "", "", "", ""))
        for f in entry["findings"]:
            exemption = f.get("exemption") or f.get("exemption_expired") or {}
            expected.append((host, entry["status"], entry.get("error", ""), f["id"], f["product"], f["vendor"],
                             f["source"], f["name"], f["version"], f["scope"], f["path"] or "",
                             ";".join(f["policies"]), "true" if f["exempt"] else "false",
                             exemption.get("reason", ""), exemption.get("expires", ""), f.get("outcome", ""),
                             f.get("drift", ""), f.get("removed_at", ""), ";".join(f.get("required_by", [])),
                             ";".join(f.get("applied_by_extension", []))))
    got = [tuple(unescape(row[c]) for c in COLUMNS) for row in rows]
    assert got == expected
    # one row per host x finding, plus one per host without findings
    assert len(rows) == report["summary"]["findings"] + sum(
        1 for h in report["hosts"].values() if not h["findings"])
    assert len(rows) == 16
    assert sorted(set(unescape(r["host"]) for r in rows)) == sorted(report["hosts"])


def test_statuses_and_errors_per_host():
    rows = dict((r["host"], r) for r in read_back(report_fleet.report()) if r["finding id"] == "")
    assert rows["clean.example.gov"]["status"] == "compliant"
    assert rows["down.example.gov"]["status"] == "unreachable"
    assert rows["down.example.gov"]["error"] == "ssh: connect timed out"
    assert rows["broken.example.gov"]["status"] == "failed"
    assert rows["broken.example.gov"]["error"] == "collector failed: <rc 1> & more"


def test_formula_injection_is_neutralised():
    rows = read_back(report_fleet.report())
    formula = [r for r in rows if r["finding id"] == "tiktok" and r["host"].startswith("'")]
    assert len(formula) == 1
    row = formula[0]
    assert row["host"] == "'" + report_fleet.FORMULA_HOST
    assert row["name"] == "'-2+3"
    assert row["version"] == "'@SUM(A1)"
    assert row["path"] == "'+cmd|' /C calc'!A0"
    for row in rows:
        for column in COLUMNS:
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, row[column])


def test_neutralise_values():
    assert neutralise(None) == ""
    assert neutralise(True) == "true"
    assert neutralise(False) == "false"
    assert neutralise(["a", "b"]) == "a;b"
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("a=b") == "a=b"
    assert neutralise(3) == "3"


def test_unicode_and_control_characters_survive():
    rows = read_back(report_fleet.report())
    host = u"b\u00fcro-\u5317\u4eac.example.gov"
    mine = [r for r in rows if r["host"] == host]
    assert [r["name"] for r in mine] == [u"wechat-\u5fae\u4fe1", "com.tiktok.App"]
    assert [r["scope"] for r in mine] == ["machine", "user:alice"]
    assert mine[1]["path"] == ""
    exempt = [r for r in rows if r["host"] == "exempt.example.gov"][0]
    assert exempt["exempt"] == "true"
    assert exempt["exemption reason"] == u"Liaison office \u2014 ticket SEC-1234"
    assert exempt["exemption expires"] == "2027-03-31"
    expired = [r for r in rows if r["host"] == "expired.example.gov"][0]
    assert (expired["exempt"], expired["exemption reason"], expired["exemption expires"]) == (
        "false", "pilot", "2026-01-31")
    ctrl = [r for r in rows if r["host"] == "ctrl\x01\x1b.example.gov"][0]
    assert ctrl["name"] == "we\x00chat\x0b"


def test_remediation_outcomes():
    rows = [r for r in read_back(report_fleet.report()) if r["host"] == "remediated.example.gov"]
    assert [(r["finding id"], r["outcome"]) for r in rows] == [
        ("kaspersky-endpoint-security-linux", "removed"), ("wechat", "already_absent"), ("tiktok", "skipped_exempt")]
    assert set(r["status"] for r in rows) == {"remediated"}


def test_write_csv_counts_rows_and_uses_crlf():
    buf = io.StringIO(newline="")
    assert write_csv(report_fleet.report(), buf) == 16
    text = buf.getvalue()
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    assert text.count("\r\n") == 17


def test_existing_columns_keep_their_order_and_drift_is_appended():
    assert COLUMNS[:16] == ("host", "status", "error", "finding id", "product", "vendor", "source", "name", "version",
                            "scope", "path", "policies", "exempt", "exemption reason", "exemption expires", "outcome")
    assert COLUMNS[16:18] == ("drift", "removed at")
    assert COLUMNS[18:] == ("required by", "applied by extension")


def test_reinstalled_findings():
    rows = read_back(report_fleet.report())
    drift = sorted((r["host"], r["finding id"], r["drift"], r["removed at"], r["exempt"], r["outcome"])
                   for r in rows if r["drift"])
    assert drift == [
        (report_fleet.BUERO, "wechat", "reinstalled", "2026-11-01T10:00:00Z", "false", ""),
        ("exempt.example.gov", "wechat", "reinstalled", "2026-10-01T00:00:00Z", "true", ""),
        ("remediated.example.gov", "kaspersky-endpoint-security-linux", "reinstalled", "2026-10-15T08:00:00Z",
         "false", "removed"),
    ]
    assert all(r["removed at"] == "" for r in rows if not r["drift"])


def test_required_and_extension_columns():
    report = report_fleet.report()
    host = sorted(h for h in report["hosts"] if report["hosts"][h]["findings"])[0]
    finding = report["hosts"][host]["findings"][0]
    finding["policies"] = ["us-dhs-bod-17-01", "ca-tbs-2023-10-30"]
    finding["required_by"] = ["us-dhs-bod-17-01"]
    finding["applied_by_extension"] = ["ca-tbs-2023-10-30"]
    row = [r for r in read_back(report) if r["host"] == host][0]
    assert COLUMNS[-2:] == ("required by", "applied by extension")
    assert row["required by"] == "us-dhs-bod-17-01"
    assert row["applied by extension"] == "ca-tbs-2023-10-30"
    assert row["policies"] == "us-dhs-bod-17-01;ca-tbs-2023-10-30"
