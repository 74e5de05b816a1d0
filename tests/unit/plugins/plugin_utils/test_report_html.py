# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html: self-contained, hostile data escaped, embedded JSON and counts agree with the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import (
    JS, embed_json, render_html,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet


class Page(HTMLParser):
    """Collects tags, attributes, script bodies, summary cards and text."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags = []
        self.scripts = []
        self.cards = {}
        self.text = []
        self._script = None
        self._card = None
        self._in_n = False
        self.svg_texts = []
        self._svg_text = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script":
            self._script = (attrs, [])
        if tag == "div" and "card" in (attrs.get("class") or "").split():
            self._card = attrs["data-key"]
        if tag == "span" and attrs.get("class") == "n" and self._card:
            self._in_n = True
        if tag == "text":
            self._svg_text = True

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        if tag == "span":
            self._in_n = False
        if tag == "div":
            self._card = None
        if tag == "text":
            self._svg_text = False

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
            return
        if self._in_n:
            self.cards[self._card] = data
        if self._svg_text:
            self.svg_texts.append(data)
        self.text.append(data)


def parse(report):
    page = Page()
    page.feed(render_html(report))
    page.close()
    return page


def test_no_external_resources():
    text = render_html(report_fleet.report())
    page = parse(report_fleet.report())
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "data", "poster", "srcset"):
            assert name not in attrs, (tag, attrs)
        if tag == "link":
            raise AssertionError("link element %r" % attrs)
    # no attribute holds a URL, except the SVG namespace (an identifier, never fetched)
    values = [(t, k, v) for t, a in page.tags for k, v in a.items() if v and re.search(r"https?:|//", v)]
    # four charts: the trend, hosts by status, by product, by policy
    assert values == [("svg", "xmlns", "http://www.w3.org/2000/svg")] * 4
    # neither the style sheet nor the script loads anything
    style = text[text.index("<style>"):text.index("</style>")]
    for code in (style, JS):
        assert not re.search(r"https?:|//|@import|url\(|fetch\(|XMLHttpRequest|\.src\b|\.href\b", code)
    # the hostile host's URL is only text (escaped in markup and in the JSON blob)
    assert text.count("http://evil.example") == 1
    blob = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"][0]
    assert "http://evil.example" in blob


def test_csp_allows_only_the_inline_script():
    page = parse(report_fleet.report())
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode("ascii")
    assert csp == ["default-src 'none'; script-src 'sha256-%s'; style-src 'unsafe-inline'; img-src data:; "
                   "base-uri 'none'; form-action 'none'" % digest]
    code = [body for attrs, body in page.scripts if "type" not in attrs]
    assert code == [JS]


def test_hostile_names_are_text():
    text = render_html(report_fleet.report())
    page = parse(report_fleet.report())
    # exactly two script elements: the data blob and the page's own code
    assert [t for t, a in page.tags if t == "script"] == ["script", "script"]
    assert [t for t, a in page.tags if t == "img"] == []
    assert '<script>alert("x")' not in text
    assert "<img src=x" not in text
    assert "onerror" not in [k for t, a in page.tags for k in a]
    assert "collector failed: <rc 1> & more" not in text
    # the hostile host is in the data blob, escaped so that it cannot end the script element
    blob = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"][0]
    assert "</script" not in blob and "<" not in blob and "\u2028" not in blob
    assert "\\u003cscript\\u003ealert(\\\"x\\\")\\u003c/script\\u003e\\u0026amp;" in blob


def test_embedded_json_parses_and_matches_the_report():
    report = report_fleet.report()
    page = parse(report)
    blob = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert len(blob) == 1
    data = json.loads(blob[0])
    hosts = data["hosts"]
    assert sorted(h[0] for h in hosts) == sorted(report["hosts"])
    # problem hosts first: unreachable, failed, non_compliant, remediated, compliant
    assert [h[1] for h in hosts] == (["unreachable", "failed"] + ["non_compliant"] * 7 + ["remediated"]
                                     + ["compliant"] * 2)
    assert sum(h[2] for h in hosts) == report["summary"]["findings"] == 13
    assert sum(h[3] for h in hosts) == report["summary"]["exempt_findings"] == 2
    by_name = dict((h[0], h) for h in hosts)
    assert by_name[report_fleet.HOSTILE_HOST][10][0][3] == "<img src=x onerror=alert(1)>"
    assert by_name["ctrl\x01\x1b.example.gov"][10][0][4] == "\u2028line\u2029"
    assert by_name["remediated.example.gov"][5] == "already_absent 1, removed 1, skipped_exempt 1"
    assert by_name["remediated.example.gov"][6] == "yes"
    assert by_name["down.example.gov"][7] == "ssh: connect timed out"
    assert sorted(tuple(e[:2] + e[4:]) for e in data["exemptions"]) == [
        ("exempt.example.gov", "wechat", u"Liaison office \u2014 ticket SEC-1234", "2027-03-31", "CISO", "honoured"),
        ("expired.example.gov", "deepseek", "pilot", "2026-01-31", "", "expired"),
        ("remediated.example.gov", "tiktok", u"Liaison office \u2014 ticket SEC-1234", "2027-03-31", "CISO",
         "honoured"),
    ]


def test_counts_equal_the_summary():
    report = report_fleet.report()
    page = parse(report)
    summary = report["summary"]
    keys = ("hosts", "compliant", "non_compliant", "remediated", "unreachable", "failed", "findings",
            "exempt_findings", "reinstalled_hosts", "reinstalled_findings")
    expected = dict((k, str(summary[k])) for k in keys)
    expected["reboot_required"] = str(len(summary["reboot_required"]))
    assert page.cards == expected
    assert page.cards == {"hosts": "12", "compliant": "2", "non_compliant": "7", "remediated": "1",
                          "unreachable": "1", "failed": "1", "findings": "13", "exempt_findings": "2",
                          "reinstalled_hosts": "2", "reinstalled_findings": "2", "reboot_required": "1"}
    text = "".join(page.text)
    assert "2026-11-29T12:00:00Z" in text
    assert "catalog 2026.11.29" in text
    assert "already_absent 1, failed 1, removed 2, skipped_exempt 1, would_remove 1" in text


def test_charts_by_status_product_and_policy():
    page = parse(report_fleet.report())
    svgs = [a for t, a in page.tags if t == "svg"]
    # the three charts of this run, and the trend over runs
    assert [a["class"] for a in svgs].count("chart") == 3
    assert [a["class"] for a in svgs].count("chart trend") == 1
    # each label is followed by its <title> (the full label), then the bar's total
    texts = page.svg_texts
    # product rows (label, total hosts), sorted by hosts: WeChat on 7 hosts (4 present, 2 removed, 1 exempt)
    assert texts[texts.index("WeChat (Weixin)") + 2] == "7"
    assert texts[texts.index("TikTok") + 2] == "3"
    assert texts[texts.index("Kaspersky Endpoint Security for Linux") + 2] == "2"
    assert texts[texts.index("ca-tbs-2023-10-30") + 2] == "7"
    assert texts[texts.index("gb-2023-03-16-tiktok") + 2] == "3"
    # hosts by status: the one bar totals every host
    assert texts[texts.index("hosts") + 2] == "12"
    titles = render_html(report_fleet.report())
    assert "<title>WeChat (Weixin): 4 host(s) still present</title>" in titles
    assert "<title>WeChat (Weixin): 2 host(s) removed</title>" in titles
    assert "<title>WeChat (Weixin): 1 host(s) only exempt</title>" in titles


def test_embed_json_escapes():
    text = embed_json({"a": u"</script><!-- & \u2028\u2029"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}'
    assert json.loads(text) == {"a": u"</script><!-- & \u2028\u2029"}


def test_reinstalled_badges_filter_and_blocks():
    report = report_fleet.report()
    page = parse(report)
    data = json.loads([body for attrs, body in page.scripts if attrs.get("type") == "application/json"][0])
    by_name = dict((h[0], h) for h in data["hosts"])
    # host rows: reinstalled findings (not exempt) and the block summary, appended after the findings
    assert by_name[report_fleet.BUERO][11] == 1
    assert by_name["remediated.example.gov"][11] == 1          # found again, removed again
    assert by_name["exempt.example.gov"][11] == 0              # marked but exempt
    assert by_name["clean.example.gov"][11:] == [0, ""]
    assert by_name[report_fleet.BUERO][12] == report_fleet.BLOCKS_LINE
    # finding rows: drift and removed_at after the policies
    wechat = [f for f in by_name[report_fleet.BUERO][10] if f[0] == "wechat"][0]
    assert wechat[10:] == ["reinstalled", "2026-11-01T10:00:00Z"]
    assert [f[10:] for f in by_name["down.example.gov"][10]] == []
    exempt = by_name["exempt.example.gov"][10][0]
    assert exempt[8] is True and exempt[10] == "reinstalled"
    # the script draws the badge column, the finding badge, the filter and the block line
    assert '["drift", 11, "badge"]' in JS and 'flagCol: 11' in JS and '"reinstalled only"' in JS
    assert 'el("span", f[10], "badge")' in JS and '"Reinstall " + r[12]' in JS
    text = "".join(page.text)
    assert ("Reinstalled after a remediation removed it, on: %s, remediated.example.gov." % report_fleet.BUERO) in text
    assert "hosts with reinstalls" in text


def test_no_reinstalls_no_note():
    report = build_report({"a": {"status": "non_compliant", "findings": [report_fleet.finding("wechat")]}}, "1",
                          report_fleet.WHEN)
    page = parse(report)
    assert page.cards["reinstalled_hosts"] == "0" and page.cards["reinstalled_findings"] == "0"
    assert "Reinstalled after" not in "".join(page.text)
