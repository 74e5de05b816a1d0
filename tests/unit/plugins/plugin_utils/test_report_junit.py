# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.junit.xml: valid against a strict JUnit schema, counts that agree with the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os

from lxml import etree

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.junit_format import (
    render_junit, write_junit, xml_text,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet

XSD = os.path.join(os.path.dirname(__file__), "..", "..", "data", "report", "junit-strict.xsd")
SCHEMA = etree.XMLSchema(etree.parse(XSD))


def parse(report):
    doc = etree.fromstring(render_junit(report))
    SCHEMA.assertValid(doc)
    return doc


def cases(doc, host):
    suite = [s for s in doc.findall("testsuite") if s.get("name") == xml_text(host)]
    assert len(suite) == 1
    return dict((c.get("name"), c) for c in suite[0].findall("testcase")), suite[0]


def kind(case):
    children = [c.tag for c in case if c.tag != "system-out"]
    return children[0] if children else "passed"


def test_valid_and_counts_agree_with_the_report():
    report = report_fleet.report()
    doc = parse(report)
    assert len(doc.findall("testsuite")) == report["summary"]["hosts"] == 12
    # every host x enabled entry (4 enabled entries on every host)
    assert doc.get("tests") == str(12 * 4)
    assert len(doc.findall("testsuite/testcase")) == 48
    failures = len(doc.findall("testsuite/testcase/failure"))
    errors = len(doc.findall("testsuite/testcase/error"))
    skipped = len(doc.findall("testsuite/testcase/skipped"))
    assert (doc.get("failures"), doc.get("errors"), doc.get("skipped")) == (str(failures), str(errors), str(skipped))
    # unreachable + failed hosts: every enabled entry is an error
    assert errors == (report["summary"]["unreachable"] + report["summary"]["failed"]) * 4 == 8
    # failures: non-exempt findings still present, one per host x entry
    assert failures == 8
    assert skipped == 2
    for suite in doc.findall("testsuite"):
        found = suite.findall("testcase")
        assert suite.get("tests") == str(len(found))
        assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
        assert suite.get("errors") == str(len(suite.findall("testcase/error")))
        assert suite.get("skipped") == str(len(suite.findall("testcase/skipped")))
        assert set(c.get("classname") for c in found) == {suite.get("name")}
        assert suite.get("timestamp") == "2026-11-29T12:00:00Z"


def test_host_status_agrees_with_failures():
    report = report_fleet.report()
    doc = parse(report)
    for host, entry in report["hosts"].items():
        by_name, suite = cases(doc, host)
        status = [p.get("value") for p in suite.findall("properties/property") if p.get("name") == "status"]
        assert status == [entry["status"]]
        bad = [n for n, c in by_name.items() if kind(c) in ("failure", "error")]
        assert bool(bad) == (entry["status"] not in ("compliant", "remediated")), host


def test_each_case():
    doc = parse(report_fleet.report())
    by_name, dummy = cases(doc, u"b\u00fcro-\u5317\u4eac.example.gov")
    assert sorted(by_name) == sorted(report_fleet.ENABLED)
    assert dict((n, kind(c)) for n, c in by_name.items()) == {
        "wechat": "failure", "tiktok": "failure", "deepseek": "passed", "kaspersky-endpoint-security-linux": "passed"}
    failure = by_name["wechat"].find("failure")
    assert failure.get("type") == "reinstalled"
    assert failure.get("message") == ("reinstalled: 1 finding(s) of WeChat (Weixin) (not exempt), found again after "
                                      "a remediation removed it on 2026-11-01T10:00:00Z")
    assert failure.text == (u"dpkg wechat-\u5fae\u4fe1 version=1.0 scope=machine path=/var/lib/dpkg/status "
                            u"drift=reinstalled removed_at=2026-11-01T10:00:00Z")
    tiktok = by_name["tiktok"].find("failure")
    assert (tiktok.get("type"), tiktok.get("message")) == ("banned_software", "1 finding(s) of TikTok (not exempt)")

    by_name, dummy = cases(doc, "exempt.example.gov")
    skipped = by_name["wechat"].find("skipped")
    assert skipped.get("message") == (u"exempt: flatpak com.tencent.WeChat version=1.0 scope=machine "
                                      u"path=/var/lib/dpkg/status drift=reinstalled removed_at=2026-10-01T00:00:00Z: "
                                      u"Liaison office \u2014 ticket SEC-1234 (expires 2027-03-31)")

    by_name, dummy = cases(doc, "expired.example.gov")
    assert kind(by_name["deepseek"]) == "failure"

    by_name, dummy = cases(doc, "remediated.example.gov")
    assert dict((n, kind(c)) for n, c in by_name.items()) == {
        "wechat": "passed", "tiktok": "skipped", "deepseek": "passed", "kaspersky-endpoint-security-linux": "passed"}
    assert by_name["wechat"].find("system-out").text.startswith("removed: dpkg wechat")

    by_name, dummy = cases(doc, "partial.example.gov")
    assert kind(by_name["kaspersky-endpoint-security-linux"]) == "failure"
    assert kind(by_name["wechat"]) == "passed"

    by_name, dummy = cases(doc, "checkonly.example.gov")
    assert kind(by_name["wechat"]) == "failure"

    by_name, dummy = cases(doc, "down.example.gov")
    assert sorted(by_name) == sorted(report_fleet.ENABLED)
    error = by_name["wechat"].find("error")
    assert (error.get("type"), error.get("message")) == ("unreachable", "host unreachable: ssh: connect timed out")
    by_name, dummy = cases(doc, "broken.example.gov")
    assert by_name["tiktok"].find("error").get("message") == "host failed: collector failed: <rc 1> & more"


def test_hostile_names_and_control_characters():
    doc = parse(report_fleet.report())
    names = [s.get("name") for s in doc.findall("testsuite")]
    assert report_fleet.HOSTILE_HOST in names
    assert "ctrl.example.gov" in names
    by_name, dummy = cases(doc, "ctrl\x01\x1b.example.gov")
    assert by_name["wechat"].find("failure").text == "dpkg wechat version=\u2028line\u2029 scope=machine " \
                                                     "path=/var/lib/dpkg/status"
    by_name, dummy = cases(doc, report_fleet.HOSTILE_HOST)
    assert "</script>" in by_name["wechat"].find("failure").text
    raw = render_junit(report_fleet.report())
    assert b"<script>" not in raw
    assert b"&lt;script&gt;" in raw
    assert b"\x01" not in raw and b"\x00" not in raw and b"\x1b" not in raw


def test_hosts_without_entries_enabled():
    report = build_report({
        "a": {"status": "unreachable", "findings": [], "error": "down"},
        "b": {"status": "non_compliant", "findings": [report_fleet.finding("tiktok")], "entries_enabled": ["wechat"]},
    }, "1", report_fleet.WHEN)
    doc = parse(report)
    # a: the fleet's union (wechat); b: its own list plus the entry of its finding
    assert sorted(cases(doc, "a")[0]) == ["wechat"]
    assert sorted(cases(doc, "b")[0]) == ["tiktok", "wechat"]
    alone = parse(build_report({"c": {"status": "failed", "findings": [], "error": "x"}}, "1", report_fleet.WHEN))
    assert list(cases(alone, "c")[0]) == ["scan"]
    assert alone.get("errors") == "1"


def test_write_junit_returns_totals():
    buf = io.BytesIO()
    totals = write_junit(report_fleet.report(), buf)
    assert totals == {"tests": 48, "failures": 8, "errors": 8, "skipped": 2}
    assert buf.getvalue().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    SCHEMA.assertValid(etree.fromstring(buf.getvalue()))


def properties(doc, host):
    dummy, suite = cases(doc, host)
    return dict((p.get("name"), p.get("value")) for p in suite.findall("properties/property"))


def test_reinstalled_and_blocks_properties():
    doc = parse(report_fleet.report())
    assert properties(doc, report_fleet.BUERO) == {
        "status": "non_compliant", "catalog_version": "2026.11.29", "reinstalled": "1",
        "blocks": report_fleet.BLOCKS_LINE}
    # removed again in this run: the case passes, the property still tells the software came back
    assert properties(doc, "remediated.example.gov")["reinstalled"] == "1"
    by_name, dummy = cases(doc, "remediated.example.gov")
    assert kind(by_name["kaspersky-endpoint-security-linux"]) == "passed"
    assert "drift=reinstalled" in by_name["kaspersky-endpoint-security-linux"].find("system-out").text
    # an exempt reinstall stays a skipped case without the property
    assert "reinstalled" not in properties(doc, "exempt.example.gov")
    assert kind(cases(doc, "exempt.example.gov")[0]["wechat"]) == "skipped"
    assert [f.get("type") for f in doc.findall("testsuite/testcase/failure")].count("reinstalled") == 1
