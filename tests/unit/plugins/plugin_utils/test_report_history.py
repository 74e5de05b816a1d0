# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""History: what changed since the last run (report.json ``changes``), the trend, the kept copies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

import jsonschema
import yaml

from ansible_collections.govsec.banned_software.plugins.action import merge_reports as merge_action
from ansible_collections.govsec.banned_software.plugins.action import report as report_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import history
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import (
    CHANGE_KEYS, build_report, summary_lines)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import render_html
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.merge import merge_reports
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
NIGHT1 = datetime.datetime(2026, 12, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)
NIGHT2 = NIGHT1 + datetime.timedelta(days=1)
NIGHT3 = NIGHT2 + datetime.timedelta(days=1)


def finding(eid, **kw):
    data = {"id": eid, "product": eid.title(), "vendor": "V", "source": "dpkg", "name": eid, "scope": "machine",
            "path": "/var/lib/dpkg/status", "policies": ["ca-tbs-2023-10-30"], "exempt": False,
            "key": "dpkg|machine|%s|/var/lib/dpkg/status" % eid}
    data.update(kw)
    return data


def scanned(status, findings=(), **kw):
    data = {"status": status, "findings": list(findings), "os": "linux", "policies": ["all"],
            "catalog_version": "2026.11.29"}
    data.update(kw)
    return data


# Night 1: fix-me has WeChat, goes-dark is clean, relapse was cleaned before, steady has TikTok.
NIGHT1_FLEET = {
    "fix-me.example.gov": scanned("non_compliant", [finding("wechat")]),
    "goes-dark.example.gov": scanned("compliant"),
    "relapse.example.gov": scanned("compliant"),
    "steady.example.gov": scanned("non_compliant", [finding("tiktok")]),
}
# Night 2: fix-me remediated, goes-dark unreachable, WeChat reinstalled on relapse, steady unchanged.
AGAIN = finding("wechat", drift="reinstalled", removed_at="2026-11-20T02:00:00Z")
NIGHT2_FLEET = {
    "fix-me.example.gov": scanned("remediated", [finding("wechat", outcome="removed")],
                                  remediation={"run_id": "r2", "reboot_required": False}),
    "goes-dark.example.gov": {"unreachable": True, "msg": "Failed to connect to the host via ssh: timed out"},
    "relapse.example.gov": scanned("non_compliant", [AGAIN], reinstalled=[AGAIN["key"]]),
    "steady.example.gov": scanned("non_compliant", [finding("tiktok")]),
}


def schema():
    with open(os.path.join(ROOT, "docs", "report.schema.json"), encoding="utf-8") as handle:
        return jsonschema.Draft202012Validator(json.load(handle))


def run_report(monkeypatch, dest, fleet, when, **args):
    monkeypatch.setattr(report_action, "build_report",
                        lambda results, version: build_report(results, version, generated_at=when))
    action = action_runner.make_action(report_action, args=dict(args, dest=dest))
    hostvars = dict((h, {"banned_software_host_report": r}) for h, r in fleet.items())
    result = action.run(task_vars={"hostvars": hostvars, "groups": {"all": sorted(fleet)}})
    with open(os.path.join(dest, "report.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    schema().validate(data)
    return result, data


def stats_data():
    """The set_stats data of the report role (the AWX artifacts) as templates."""
    with open(os.path.join(ROOT, "roles", "report", "tasks", "stats.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)[0]["ansible.builtin.set_stats"]["data"]


EXPECTED_NIGHT2 = {
    "previous_generated_at": "2026-12-01T02:00:00Z",
    "new_non_compliant": ["relapse.example.gov"],
    "resolved": ["fix-me.example.gov"],
    "reinstalled": ["relapse.example.gov"],
    "newly_unreachable": ["goes-dark.example.gov"],
    "new_findings": [{"host": "relapse.example.gov", "key": AGAIN["key"], "id": "wechat", "product": "Wechat",
                      "source": "dpkg", "name": "wechat", "exempt": False}],
    "removed_findings": [{"host": "fix-me.example.gov", "key": AGAIN["key"], "id": "wechat", "product": "Wechat",
                          "source": "dpkg", "name": "wechat", "exempt": False}],
}


def test_two_runs_name_exactly_the_changed_hosts_and_a_third_run_none(monkeypatch, tmp_path):
    dest = str(tmp_path / "reports")
    result, first = run_report(monkeypatch, dest, NIGHT1_FLEET, NIGHT1)
    assert "changes" not in first  # nothing earlier to compare with
    assert result["changes"] == history.empty_changes() and result["has_changes"] is False
    assert [r["generated_at"] for r in first["trend"]] == ["2026-12-01T02:00:00Z"]

    result, second = run_report(monkeypatch, dest, NIGHT2_FLEET, NIGHT2)
    assert second["changes"] == EXPECTED_NIGHT2
    assert sorted(second["changes"]) == sorted(CHANGE_KEYS)
    # the AWX artifacts come from the action's result
    assert result["changes"] == EXPECTED_NIGHT2 and result["has_changes"] is True
    data = stats_data()
    assert data["banned_software_changes"] == "{{ _banned_software_report.changes | default({}) }}"
    assert data["banned_software_has_changes"] == "{{ _banned_software_report.has_changes | default(false) }}"
    # the summary table
    table = "\n".join(result["table"])
    assert "CHANGES since 2026-12-01T02:00:00Z:" in table
    assert "  new non-compliant 1: relapse.example.gov" in table
    assert "  resolved 1: fix-me.example.gov" in table
    assert "  reinstalled 1: relapse.example.gov" in table
    assert "  newly unreachable 1: goes-dark.example.gov" in table
    assert "  new findings 1, removed findings 1" in table
    # the HTML page: one list per kind of change, the summary cards' deltas
    with open(os.path.join(dest, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    for key in ("new_non_compliant", "resolved", "reinstalled", "newly_unreachable"):
        block = re.search(r'data-change="%s"[^>]*>(.*?)</div>' % key, page).group(1)
        # host names may wrap only after a dot (each label unbreakable)
        items = re.findall(r'<li class="hw">(.*?)</li>', block)
        assert [re.sub(r"<[^>]+>", "", i) for i in items] == EXPECTED_NIGHT2[key], key
        assert all(re.fullmatch(r'(<span class="nw">[^<]+</span>)(<wbr><span class="nw">[^<]+</span>)*', i) for i in items)
    assert re.search(r'data-key="unreachable"><span class="n">1</span><span class="l">unreachable</span>'
                     r'<span class="d"[^>]*>\+1 since last run</span>', page)
    assert [r["generated_at"] for r in second["trend"]] == ["2026-12-01T02:00:00Z", "2026-12-02T02:00:00Z"]

    result, third = run_report(monkeypatch, dest, NIGHT2_FLEET, NIGHT3)
    assert third["changes"] == dict(history.empty_changes("2026-12-02T02:00:00Z"))
    assert all(third["changes"][key] == [] for key in CHANGE_KEYS[1:])
    assert result["has_changes"] is False
    assert "CHANGES since 2026-12-02T02:00:00Z: none" in result["table"]
    with open(os.path.join(dest, "report.html"), encoding="utf-8") as handle:
        assert 'data-changes="0"' in handle.read()
    assert [r["non_compliant"] for r in third["trend"]] == [2, 2, 2]
    assert [r["remediated"] for r in third["trend"]] == [0, 1, 1]
    assert [r["unreachable"] for r in third["trend"]] == [0, 1, 1]
    # each run kept its copy
    assert sorted(os.listdir(os.path.join(dest, "history"))) == [
        "report-20261201T020000Z.json", "report-20261202T020000Z.json", "report-20261203T020000Z.json"]


def test_a_history_directory_outside_the_report_directory(monkeypatch, tmp_path):
    """AWX: a new report directory each job, one persistent history directory."""
    kept = str(tmp_path / "persistent")
    run_report(monkeypatch, str(tmp_path / "job1"), NIGHT1_FLEET, NIGHT1, history_dir=kept)
    result, second = run_report(monkeypatch, str(tmp_path / "job2"), NIGHT2_FLEET, NIGHT2, history_dir=kept)
    assert second["changes"] == EXPECTED_NIGHT2
    assert result["history_path"] == os.path.join(kept, "report-20261202T020000Z.json")
    assert not os.path.exists(str(tmp_path / "job2" / "history"))


def test_merged_slice_reports_compare_with_the_previous_merge(monkeypatch, tmp_path):
    def slices(fleet, when, night):
        paths = []
        for index, names in enumerate((["fix-me.example.gov", "goes-dark.example.gov"],
                                       ["relapse.example.gov", "steady.example.gov"])):
            directory = tmp_path / night / ("slice%d" % index)
            directory.mkdir(parents=True)
            report = build_report(dict((n, fleet[n]) for n in names), "2026.11.29", generated_at=when)
            (directory / "report.json").write_text(json.dumps(report), encoding="utf-8")
            paths.append(str(directory))
        return paths

    merged_dir = str(tmp_path / "merged")
    results = []
    for night, fleet, when in (("n1", NIGHT1_FLEET, NIGHT1), ("n2", NIGHT2_FLEET, NIGHT2), ("n3", NIGHT2_FLEET, NIGHT3)):
        monkeypatch.setattr(merge_action, "merge_reports",
                            lambda reports, when=when: merge_reports(reports, generated_at=when))
        action = action_runner.make_action(merge_action, args={"src": slices(fleet, when, night), "dest": merged_dir})
        results.append(action.run(task_vars={}))
        with open(os.path.join(merged_dir, "report.json"), encoding="utf-8") as handle:
            schema().validate(json.load(handle))
    assert results[0]["has_changes"] is False and results[0]["changes"] == history.empty_changes()
    assert results[1]["changes"] == EXPECTED_NIGHT2 and results[1]["has_changes"] is True
    assert results[2]["changes"] == history.empty_changes("2026-12-02T02:00:00Z")
    assert len(results[2]["trend"]) == 3
    # the playbook publishes the same artifacts as the report role
    with open(os.path.join(ROOT, "playbooks", "merge_reports.yml"), encoding="utf-8") as handle:
        play = yaml.safe_load(handle)[0]
    data = [t for t in play["tasks"] if "ansible.builtin.set_stats" in t][0]["ansible.builtin.set_stats"]["data"]
    assert data["banned_software_changes"] == "{{ _banned_software_merged.changes }}"
    assert data["banned_software_has_changes"] == "{{ _banned_software_merged.has_changes }}"


def test_unusable_earlier_reports_are_warnings_never_failures(monkeypatch, tmp_path):
    dest = tmp_path / "reports"
    (dest / "history").mkdir(parents=True)
    (dest / "report.json").write_text("{not json", encoding="utf-8")
    (dest / "history" / "report-20261130T020000Z.json").write_text('["not", "a", "report"]', encoding="utf-8")
    (dest / "history" / "notes.txt").write_text("kept as is", encoding="utf-8")
    result, data = run_report(monkeypatch, str(dest), NIGHT1_FLEET, NIGHT1)
    assert "changes" not in data and result["has_changes"] is False
    assert len(result["warnings"]) == 2
    assert "report.json skipped" in result["warnings"][0]
    assert "not a report.json document" in result["warnings"][1]
    assert (dest / "history" / "notes.txt").exists()


def test_an_earlier_report_is_read_bounded(tmp_path):
    report = build_report(NIGHT1_FLEET, "v", generated_at=NIGHT1)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    found, warnings = history.load_previous([str(path)], "2026-12-02T00:00:00Z", max_bytes=100)
    assert found is None and "more than the 100 read" in warnings[0]
    found, warnings = history.load_previous([str(path)], "2026-12-02T00:00:00Z")
    assert found["generated_at"] == "2026-12-01T02:00:00Z" and warnings == []
    # a report of this same run or a later one is not an earlier report
    assert history.load_previous([str(path)], "2026-12-01T02:00:00Z") == (None, [])


def test_the_latest_earlier_report_wins_and_reads_stay_few(tmp_path):
    kept = tmp_path / "history"
    kept.mkdir()
    for day in range(1, 9):
        report = build_report({"h": scanned("compliant")}, "v",
                              generated_at=datetime.datetime(2026, 11, day, tzinfo=datetime.timezone.utc))
        (kept / ("report-202611%02dT000000Z.json" % day)).write_text(json.dumps(report), encoding="utf-8")
    (kept / "report-20261108T000000Z.json").write_text("{broken", encoding="utf-8")
    paths = history.candidate_paths(None, str(kept))
    assert os.path.basename(paths[0]) == "report-20261108T000000Z.json"
    found, warnings = history.load_previous(paths, "2026-12-01T00:00:00Z")
    assert found["generated_at"] == "2026-11-07T00:00:00Z"
    assert len(warnings) == 1


def test_kept_copies_are_bounded_oldest_removed(tmp_path):
    kept = str(tmp_path / "history")
    written = []
    for day in range(1, 6):
        report = build_report({"h": scanned("compliant")}, "v",
                              generated_at=datetime.datetime(2026, 11, day, tzinfo=datetime.timezone.utc))
        path, removed = history.keep_report(report, history_dir=kept, keep=3)
        written.append((path, removed))
    assert sorted(os.listdir(kept)) == ["report-20261103T000000Z.json", "report-20261104T000000Z.json",
                                        "report-20261105T000000Z.json"]
    assert [os.path.basename(p) for p in written[-1][1]] == ["report-20261102T000000Z.json"]


def test_the_trend_is_one_row_per_run_and_bounded():
    previous = build_report({"h": scanned("compliant")}, "v", generated_at=NIGHT1)
    previous["trend"] = [dict(history.trend_row(previous), generated_at="2026-10-%02dT00:00:00Z" % d)
                         for d in range(1, 31)] + [{"generated_at": "garbage"}, "not a row"]
    report = build_report({"h": scanned("non_compliant", [finding("wechat")])}, "v", generated_at=NIGHT2)
    rows = history.trend_rows(previous, report, limit=10)
    assert len(rows) == 10
    assert rows[-1] == {"generated_at": "2026-12-02T02:00:00Z", "hosts": 1, "compliant": 0, "non_compliant": 1,
                        "remediated": 0, "unreachable": 0, "failed": 0, "findings": 1, "reinstalled_hosts": 0}
    assert rows[0]["generated_at"] == "2026-10-22T00:00:00Z"
    # an earlier report without a trend contributes its own summary
    del previous["trend"]
    assert [r["generated_at"] for r in history.trend_rows(previous, report)] == [
        "2026-12-01T02:00:00Z", "2026-12-02T02:00:00Z"]


def test_findings_of_an_unreachable_host_are_unknown_not_removed():
    before = build_report({"h": scanned("non_compliant", [finding("wechat")])}, "v", generated_at=NIGHT1)
    after = build_report({"h": {"status": "unreachable", "findings": [], "error": "timeout"}}, "v",
                         generated_at=NIGHT2)
    changes = history.compute_changes(before, after)
    assert changes["removed_findings"] == [] and changes["resolved"] == []
    assert changes["newly_unreachable"] == ["h"]
    # back again with the same finding: no new finding is claimed against an unreachable run, but compared
    # with the last run that scanned it nothing is known, so it is reported as new
    back = build_report({"h": scanned("non_compliant", [finding("wechat")])}, "v", generated_at=NIGHT3)
    changes = history.compute_changes(after, back)
    assert changes["new_non_compliant"] == ["h"]
    assert [f["id"] for f in changes["new_findings"]] == ["wechat"]


def test_summary_lines_without_history_have_no_change_line():
    report = build_report(NIGHT1_FLEET, "v", generated_at=NIGHT1)
    assert not [line for line in summary_lines(report) if line.startswith("CHANGES")]
    assert 'data-changes="none"' in render_html(history.apply_history(report, None))
