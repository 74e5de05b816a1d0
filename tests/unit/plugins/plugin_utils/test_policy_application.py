# -*- coding: utf-8 -*-
"""Optional policies, policies applied by extension and report-only entries: schema, selection,
findings and every report format."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.callback.summary import summarise
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Catalog, CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report, summary_lines
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import render_csv
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import render_html
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.junit_format import render_junit
from ansible_collections.govsec.banned_software.tests.unit.helpers import report_fleet

POL = "catalog/policies.yml"
ENT = "catalog/entries/x.yml"


def policy(pid, **kw):
    data = {"id": pid, "title": pid, "jurisdiction": "CA", "instrument": "i", "date": "2023-10-30",
            "url": "https://example.org/%s" % pid}
    data.update(kw)
    return data


def entry(eid, policies, **kw):
    data = {"id": eid, "vendor": "V", "product": eid.upper(), "policies": policies,
            "references": [{"url": "https://example.org/ref"}], "signatures": {"linux": {"dpkg": [{"name": eid}]}}}
    data.update(kw)
    return data


def catalog(entries, policies=None):
    policies = policies if policies is not None else [
        policy("ca-mobile", application="by_extension", extension="names mobile devices only"),
        policy("us-law"),
        policy("tx-other", default=False)]
    return Catalog.from_documents([(POL, {"policies": policies}), (ENT, {"entries": entries})])


ENTRIES = [
    entry("wechat", ["ca-mobile", "tx-other"]),
    entry("kes", ["us-law", "ca-mobile"]),
    entry("wecom", [{"id": "ca-mobile", "application": "by_extension", "extension": "WeCom is not named"},
                    "us-law"]),
    entry("lark", [{"id": "us-law", "application": "by_extension", "extension": "an affiliate's app"}]),
    entry("capcut", ["tx-other"]),
    entry("kvrt", ["us-law"], report_only="portable scanner: report it, never remove it"),
]


def scan(cat, policies):
    entries = cat.select(policies)
    records = [{"name": e.id, "scope": "machine", "path": "/var/lib/dpkg/status"} for e in cat.entries]
    findings, warnings = Matcher(entries, policies).match("linux", {"records": {"dpkg": records}, "users": []})
    assert warnings == []
    return dict((f["id"], f) for f in findings)


def test_all_means_the_default_policies_and_optional_ones_are_added_by_name():
    cat = catalog(ENTRIES)
    assert [e.id for e in cat.select(["all"])] == ["wechat", "kes", "wecom", "lark", "kvrt"]
    assert [e.id for e in cat.select(["all", "tx-other"])] == ["wechat", "kes", "wecom", "lark", "capcut", "kvrt"]
    assert [e.id for e in cat.select(["tx-other"])] == ["wechat", "capcut"]
    assert cat.selected_policy_ids(["all"]) == {"ca-mobile", "us-law"}
    default = scan(cat, ["all"])
    assert sorted(default) == ["kes", "kvrt", "lark", "wechat", "wecom"]
    assert default["wechat"]["policies"] == ["ca-mobile"]        # the optional policy is not listed
    texas = scan(cat, ["all", "tx-other"])
    assert sorted(set(texas) - set(default)) == ["capcut"]
    assert texas["wechat"]["policies"] == ["ca-mobile", "tx-other"]
    assert texas["capcut"]["policies"] == ["tx-other"]


def test_required_by_and_applied_by_extension():
    findings = scan(catalog(ENTRIES), ["all", "tx-other"])
    got = dict((k, (f["required_by"], f["applied_by_extension"])) for k, f in findings.items())
    assert got == {"wechat": (["tx-other"], ["ca-mobile"]),          # the policy applies by extension
                   "kes": (["us-law"], ["ca-mobile"]),
                   "wecom": (["us-law"], ["ca-mobile"]),             # the entry's link says so too
                   "lark": ([], ["us-law"]),                         # only this entry's link is by extension
                   "capcut": (["tx-other"], []),
                   "kvrt": (["us-law"], [])}
    assert findings["kvrt"]["report_only"] is True and "report_only" not in findings["kes"]
    cat = catalog(ENTRIES)
    assert cat.entries[3].extensions == {"us-law": "an affiliate's app"}
    assert cat.entries[0].summary()["applied_by_extension"] == ["ca-mobile"]


@pytest.mark.parametrize("bad, field, fragment", [
    (policy("p", default="no"), "default", "must be true or false"),
    (policy("p", application="maybe"), "application", "must be one of required, by_extension"),
    (policy("p", application="by_extension"), "extension", "must be a non-empty string"),
    (policy("p", extension="why"), "extension", "only allowed with application: by_extension"),
])
def test_policy_schema_errors(bad, field, fragment):
    with pytest.raises(CatalogError) as err:
        catalog([entry("x", ["p"])], [bad])
    assert err.value.field == field and fragment in str(err.value)


@pytest.mark.parametrize("link, field, fragment", [
    ({"id": "us-law", "why": "x"}, "why", "unknown field(s) why in policies[0]"),
    ({"application": "by_extension", "extension": "x"}, "policies[0].id", "must match"),
    ({"id": "us-law", "application": "by_extension"}, "policies[0].extension", "must be a non-empty string"),
    ({"id": "nope"}, "policies[0]", "unknown policy 'nope'"),
])
def test_entry_link_errors(link, field, fragment):
    with pytest.raises(CatalogError) as err:
        catalog([entry("x", [link])])
    assert err.value.field == field and fragment in str(err.value)


def test_report_only_must_say_why():
    with pytest.raises(CatalogError) as err:
        catalog([entry("x", ["us-law"], report_only="")])
    assert err.value.field == "report_only"


def extended_report():
    fleet = report_fleet.fleet()
    host = sorted(h for h in fleet if fleet[h].get("findings"))[0]
    finding = fleet[host]["findings"][0]
    finding["policies"] = ["us-law", "ca-mobile"]
    finding["required_by"] = ["us-law"]
    finding["applied_by_extension"] = ["ca-mobile"]
    return host, finding, build_report(fleet, "2026.12.03", report_fleet.WHEN)


def test_every_report_format_says_applied_by_extension():
    host, finding, report = extended_report()
    assert report["hosts"][host]["findings"][0]["applied_by_extension"] == ["ca-mobile"]
    assert "ca-mobile (applied by extension)" in render_html(report)
    junit = render_junit(report)
    assert "applied_by_extension=ca-mobile" in (junit.decode("utf-8") if isinstance(junit, bytes) else junit)
    assert "required by,applied by extension" in render_csv(report).splitlines()[0]
    assert [line for line in summary_lines(report) if line.startswith("APPLIED BY EXTENSION")] == [
        "APPLIED BY EXTENSION (beyond the measure's wording; docs/catalog.md): ca-mobile"]
    hosts = dict((name, {"name": name, "status": entry["status"], "findings": entry["findings"]})
                 for name, entry in report["hosts"].items())
    lines = summarise(hosts, {})
    assert any(finding["product"] in line and line.endswith("; applied by extension: ca-mobile") for line in lines)


def test_without_extensions_the_reports_say_nothing_of_it():
    report = report_fleet.report()
    assert not [line for line in summary_lines(report) if line.startswith("APPLIED BY EXTENSION")]
    assert "applied by extension)" not in render_html(report)
