# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merging slice reports: host union, newest entry wins, totals recomputed, catalog versions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.govsec.banned_software.plugins.action.merge_reports import find_reports, load_reports
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.merge import MergeError, merge_reports
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report

WHEN = datetime.datetime(2026, 12, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)


def finding(eid, exempt=False, **kw):
    data = {"id": eid, "product": eid.title(), "vendor": "V", "source": "dpkg", "name": eid, "scope": "machine",
            "path": "/var/lib/dpkg/status", "exempt": exempt, "key": "dpkg|machine|%s|/var/lib/dpkg/status" % eid}
    data.update(kw)
    return data


def report(hosts, at, version="2026.11.29"):
    results = dict((name, dict(result, catalog_version=version) if result.get("status") in (
        "compliant", "non_compliant") else result) for name, result in hosts.items())
    return build_report(results, version, generated_at=at)


SLICE_A = {"web01": {"status": "non_compliant", "findings": [finding("wechat")]},
           "web02": {"status": "compliant", "findings": []}}
SLICE_B = {"db01": {"status": "unreachable", "findings": [], "error": "ssh: connect to host refused"},
           "db02": {"status": "non_compliant", "findings": [finding("kesl"), finding("wechat", exempt=True,
                                                                                     exemption={"reason": "r"})]}}


def test_disjoint_slices_merge_to_the_unsliced_report():
    a = report(SLICE_A, WHEN)
    b = report(SLICE_B, WHEN + datetime.timedelta(minutes=1))
    whole = report(dict(SLICE_A, **SLICE_B), WHEN)
    merged = merge_reports([("a.json", a), ("b.json", b)], generated_at=WHEN)
    assert merged["hosts"] == whole["hosts"]
    assert merged["summary"] == whole["summary"]
    assert merged["summary"]["hosts"] == 4
    assert (merged["summary"]["compliant"], merged["summary"]["non_compliant"], merged["summary"]["unreachable"]) == (1, 2, 1)
    assert merged["summary"]["findings"] == 3 and merged["summary"]["exempt_findings"] == 1
    assert merged["products"] == whole["products"]
    assert merged["products"]["wechat"] == {"product": "Wechat", "vendor": "V", "hosts": 2, "findings": 2, "exempt": 1}
    assert merged["catalog"] == {"version": "2026.11.29"}
    assert merged["merge"]["duplicates"] == []
    assert merged["merge"]["sources"] == [
        {"source": "a.json", "generated_at": "2026-12-01T09:00:00Z", "hosts": 2},
        {"source": "b.json", "generated_at": "2026-12-01T09:01:00Z", "hosts": 2}]
    assert merged["generated_at"] == "2026-12-01T09:00:00Z"


@pytest.mark.parametrize("order", [("old", "new"), ("new", "old")])
def test_a_host_in_two_reports_keeps_the_newer_entry_and_records_it(order):
    old = report({"web01": {"status": "non_compliant", "findings": [finding("wechat")]}}, WHEN)
    new = report({"web01": {"status": "compliant", "findings": []}}, WHEN + datetime.timedelta(hours=2))
    reports = {"old": ("old/report.json", old), "new": ("new/report.json", new)}
    merged = merge_reports([reports[name] for name in order], generated_at=WHEN)
    assert merged["hosts"]["web01"]["status"] == "compliant"
    assert merged["summary"]["compliant"] == 1 and merged["summary"]["non_compliant"] == 0
    assert merged["summary"]["findings"] == 0
    assert merged["merge"]["duplicates"] == [{
        "host": "web01", "kept": "new/report.json", "kept_generated_at": "2026-12-01T11:00:00Z",
        "dropped": "old/report.json", "dropped_generated_at": "2026-12-01T09:00:00Z"}]


def test_same_time_the_report_given_last_wins():
    first = report({"h": {"status": "compliant", "findings": []}}, WHEN)
    second = report({"h": {"status": "non_compliant", "findings": [finding("tiktok")]}}, WHEN)
    merged = merge_reports([("1", first), ("2", second)])
    assert merged["hosts"]["h"]["status"] == "non_compliant"
    assert merged["merge"]["duplicates"][0]["kept"] == "2"


def test_different_catalog_versions_are_listed():
    a = report({"a": {"status": "compliant", "findings": []}}, WHEN, version="2026.11.29")
    b = report({"b": {"status": "compliant", "findings": []}}, WHEN, version="2026.12.01")
    merged = merge_reports([("a", a), ("b", b)])
    assert merged["catalog"] == {"version": "2026.11.29, 2026.12.01", "versions": ["2026.11.29", "2026.12.01"]}
    assert merged["hosts"]["a"]["catalog_version"] == "2026.11.29"


def test_remediated_and_reboot_pending_survive_a_merge():
    host = {"status": "remediated", "catalog_version": "v1",
            "findings": [finding("wechat", outcome="removed")],
            "remediation": {"run_id": "20261201T090000Z", "reboot_required": True, "steps": [{"id": 1}]}}
    merged = merge_reports([("a", build_report({"r1": host}, "v1", generated_at=WHEN))])
    assert merged["hosts"]["r1"]["status"] == "remediated"
    assert merged["summary"]["remediated"] == 1
    assert merged["summary"]["reboot_required"] == ["r1"]
    assert merged["summary"]["outcomes"] == {"removed": 1}


def test_a_merged_report_merges_again_identically():
    a = report(SLICE_A, WHEN)
    b = report(SLICE_B, WHEN)
    once = merge_reports([("a", a), ("b", b)], generated_at=WHEN)
    twice = merge_reports([("m", once)], generated_at=WHEN)
    assert twice["hosts"] == once["hosts"] and twice["summary"] == once["summary"]


@pytest.mark.parametrize("bad, message", [
    ({"summary": {}}, "x is not a report.json document (no 'hosts' mapping)"),
    ({"hosts": {}, "generated_at": "yesterday"}, "x has no valid generated_at (YYYY-MM-DDTHH:MM:SSZ): 'yesterday'"),
    ([], "x is not a report.json document (no 'hosts' mapping)"),
])
def test_not_a_report_is_an_error(bad, message):
    with pytest.raises(MergeError) as exc:
        merge_reports([("x", bad)])
    assert str(exc.value) == message


def test_nothing_to_merge_is_an_error():
    with pytest.raises(MergeError) as exc:
        merge_reports([])
    assert str(exc.value) == "no report to merge"


def test_find_reports_walks_directories_and_keeps_files(tmp_path):
    for sub in ("slice-2", "slice-1", "slice-1/nested"):
        (tmp_path / "d" / sub).mkdir(parents=True)
        (tmp_path / "d" / sub / "report.json").write_text(json.dumps(report(SLICE_A, WHEN)))
    (tmp_path / "d" / "slice-1" / "other.json").write_text("{}")
    single = tmp_path / "single.json"
    single.write_text(json.dumps(report(SLICE_B, WHEN)))
    found = find_reports([str(tmp_path / "d"), str(single), str(tmp_path / "d" / "slice-2" / "report.json")])
    assert found == [str(tmp_path / "d" / "slice-1" / "nested" / "report.json"),
                     str(tmp_path / "d" / "slice-1" / "report.json"),
                     str(tmp_path / "d" / "slice-2" / "report.json"), str(single)]
    assert [len(r["hosts"]) for dummy, r in load_reports(found)] == [2, 2, 2, 2]


def test_find_reports_errors(tmp_path):
    with pytest.raises(MergeError) as exc:
        find_reports([str(tmp_path / "missing")])
    assert str(exc.value) == "%s: no such file or directory" % (tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MergeError) as exc:
        find_reports([str(tmp_path / "empty")])
    assert str(exc.value) == "no report.json under %s" % (tmp_path / "empty")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(MergeError) as exc:
        load_reports([str(tmp_path / "bad.json")])
    assert str(exc.value).startswith("cannot read %s: " % (tmp_path / "bad.json"))


def test_merged_report_keeps_reinstalls_and_blocks():
    blocks = {"prevent_reinstall": True, "mode": "present", "items": [{"mechanism": "apt_preferences",
                                                                       "state": "applied"}], "not_blockable": []}
    drift = dict(drift="reinstalled", removed_at="2026-11-30T08:00:00Z")
    a = report({"web01": {"status": "non_compliant", "findings": [finding("wechat", **drift)],
                          "reinstalled": ["dpkg|machine|wechat|/var/lib/dpkg/status"], "blocks": blocks}}, WHEN)
    b = report({"web02": {"status": "non_compliant", "findings": [finding("kesl", **drift), finding("tiktok")]}},
               WHEN + datetime.timedelta(minutes=1))
    merged = merge_reports([("a", a), ("b", b)], generated_at=WHEN)
    assert merged["summary"]["reinstalled_hosts"] == 2 and merged["summary"]["reinstalled_findings"] == 2
    assert merged["hosts"]["web01"]["reinstalled"] == ["dpkg|machine|wechat|/var/lib/dpkg/status"]
    assert merged["hosts"]["web02"]["reinstalled"] == ["dpkg|machine|kesl|/var/lib/dpkg/status"]
    assert merged["hosts"]["web01"]["blocks"] == blocks
