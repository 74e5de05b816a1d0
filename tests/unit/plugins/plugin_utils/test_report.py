# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: statuses, never-compliant rules, counts, and the summary table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import (
    REPORT_SCHEMA, block_summary, build_report, summary_lines,
)

WHEN = datetime.datetime(2026, 3, 31, 8, 30, 5, tzinfo=datetime.timezone.utc)


def f(eid="wechat", exempt=False, product="WeChat", vendor="Tencent", **kw):
    data = {"id": eid, "product": product, "vendor": vendor, "source": "dpkg", "name": eid, "exempt": exempt}
    data.update(kw)
    return data


# (case id, host result, expected status, expected number of findings kept, expected error or None)
HOSTS = [
    ("compliant", {"status": "compliant", "findings": []}, "compliant", 0, None),
    ("non-compliant", {"status": "non_compliant", "findings": [f()]}, "non_compliant", 1, None),
    ("all-exempt", {"status": "non_compliant", "findings": [f(exempt=True)]}, "compliant", 1, None),
    ("claims-compliant-with-finding", {"status": "compliant", "findings": [f()]}, "non_compliant", 1, None),
    ("claims-non-compliant-without", {"status": "non_compliant", "findings": []}, "compliant", 0, None),
    ("exempt-string-is-not-exempt", {"status": "compliant", "findings": [f(exempt="yes")]}, "non_compliant", 1, None),
    ("exempt-missing", {"status": "compliant", "findings": [{"id": "wechat"}]}, "non_compliant", 1, None),
    ("unreachable", {"status": "unreachable", "findings": [], "error": "ssh: timeout"}, "unreachable", 0,
     "ssh: timeout"),
    ("unreachable-with-exempt", {"status": "unreachable", "findings": [f(exempt=True)]}, "unreachable", 1, None),
    ("unreachable-no-findings-key", {"status": "unreachable"}, "unreachable", 0, None),
    ("failed", {"status": "failed", "findings": [], "error": "collector failed"}, "failed", 0, "collector failed"),
    ("none", None, "failed", 0, "no scan result for this host"),
    ("list", [], "failed", 0, "no scan result for this host"),
    ("str", "compliant", "failed", 0, "no scan result for this host"),
    ("unknown-status", {"status": "ok", "findings": []}, "failed", 0, "unknown status 'ok'"),
    ("remediated-without-findings", {"status": "remediated", "findings": []}, "compliant", 0, None),
    ("remediated-all-removed", {"status": "remediated", "remediation": {"run_id": "r"},
                                "findings": [f(outcome="removed"), f(outcome="already_absent")]}, "remediated", 2, None),
    ("remediated-claim-but-failed", {"status": "remediated", "remediation": {"run_id": "r"},
                                     "findings": [f(outcome="removed"), f(outcome="failed")]}, "non_compliant", 2, None),
    ("remediation-check-only", {"status": "non_compliant", "remediation": {"checked_only": True},
                                "findings": [f(outcome="would_remove")]}, "non_compliant", 1, None),
    ("remediated-without-run", {"status": "remediated", "findings": [f(outcome="removed")]}, "non_compliant", 1, None),
    ("remediated-exempt-left", {"status": "remediated", "remediation": {"run_id": "r"},
                                "findings": [f(outcome="removed"), f(exempt=True, outcome="skipped_exempt")]},
     "remediated", 2, None),
    ("status-list", {"status": ["compliant"], "findings": []}, "failed", 0, "unknown status ['compliant']"),
    ("status-missing", {"findings": []}, "failed", 0, "unknown status None"),
    ("unknown-status-error", {"status": None, "error": "boom"}, "failed", 0, "boom"),
    ("compliant-findings-missing", {"status": "compliant"}, "failed", 0,
     "malformed scan result (status compliant without a list of findings)"),
    ("non-compliant-findings-str", {"status": "non_compliant", "findings": "wechat"}, "failed", 0,
     "malformed scan result (status non_compliant without a list of findings)"),
    ("non-compliant-findings-garbage", {"status": "non_compliant", "findings": [None, "wechat"]}, "failed", 0,
     "malformed scan result (status non_compliant without a list of findings)"),
]


@pytest.mark.parametrize("result, status, count, error", [c[1:] for c in HOSTS], ids=[c[0] for c in HOSTS])
def test_host_status(result, status, count, error):
    report = build_report({"h1": result}, "2026.03.01", WHEN)
    host = report["hosts"]["h1"]
    assert host["status"] == status
    assert len(host["findings"]) == count
    assert host.get("error") == error
    assert report["summary"][status] == 1
    assert sum(report["summary"][s] for s in ("compliant", "non_compliant", "unreachable", "failed", "remediated")) == 1


def test_unreachable_and_failed_are_never_compliant():
    report = build_report({"a": {"status": "unreachable", "findings": []}, "b": {"status": "failed", "findings": []},
                           "c": None, "d": {}}, "v", WHEN)
    assert report["summary"]["compliant"] == 0
    assert report["summary"]["unreachable"] == 1
    assert report["summary"]["failed"] == 3


def test_report_shape_and_counts():
    results = {
        "web2": {"status": "non_compliant", "os": "linux", "scanned_at": "2026-03-31T08:00:00Z",
                 "catalog_version": "2026.03.01", "policies": ["all"], "warnings": ["w"], "extra": "dropped",
                 "findings": [f(), f(source="flatpak", name="com.tencent.WeChat"),
                              f("kesl", product="KESL", vendor="Kaspersky")]},
        "web1": {"status": "compliant", "findings": [f(exempt=True)]},
        "db1": {"status": "compliant", "findings": []},
        "win1": {"status": "unreachable", "findings": [], "error": "winrm"},
        "mac1": None,
        "odd": {"status": "non_compliant", "findings": [{"product": "?"}]},
    }
    report = build_report(results, "2026.03.01", WHEN, extra={"playbook": "audit.yml"})
    assert report["schema"] == REPORT_SCHEMA == 1
    assert report["generated_at"] == "2026-03-31T08:30:05Z"
    assert report["catalog"] == {"version": "2026.03.01"}
    assert report["playbook"] == "audit.yml"
    assert report["summary"] == {"compliant": 2, "non_compliant": 2, "unreachable": 1, "failed": 1, "hosts": 6,
                                 "findings": 5, "exempt_findings": 1, "remediated": 0,
                                 "reboot_required": [], "reinstalled_hosts": 0, "reinstalled_findings": 0}
    assert report["products"] == {
        "wechat": {"product": "WeChat", "vendor": "Tencent", "hosts": 2, "findings": 3, "exempt": 1},
        "kesl": {"product": "KESL", "vendor": "Kaspersky", "hosts": 1, "findings": 1, "exempt": 0},
        "?": {"product": "?", "vendor": None, "hosts": 1, "findings": 1, "exempt": 0},
    }
    assert sorted(report["hosts"]) == ["db1", "mac1", "odd", "web1", "web2", "win1"]
    assert report["hosts"]["web2"] == {"status": "non_compliant", "os": "linux", "scanned_at": "2026-03-31T08:00:00Z",
                                       "catalog_version": "2026.03.01", "policies": ["all"], "warnings": ["w"],
                                       "findings": results["web2"]["findings"]}


@pytest.mark.parametrize("bad_id", [None, 5, ["wechat"], {"a": 1}, ""])
def test_finding_ids_that_are_not_strings_are_grouped(bad_id):
    report = build_report({"h": {"status": "non_compliant", "findings": [f(bad_id), f(bad_id), f("kesl")]}}, "v", WHEN)
    assert report["products"]["?"]["findings"] == 2
    assert report["products"]["?"]["hosts"] == 1
    assert report["products"]["kesl"]["hosts"] == 1


def test_generated_at_defaults_to_now():
    report = build_report({}, "v")
    stamp = datetime.datetime.strptime(report["generated_at"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs((now - stamp).total_seconds()) < 300
    assert report["summary"] == {"compliant": 0, "non_compliant": 0, "unreachable": 0, "failed": 0, "hosts": 0,
                                 "findings": 0, "exempt_findings": 0, "remediated": 0,
                                 "reboot_required": [], "reinstalled_hosts": 0, "reinstalled_findings": 0}
    assert report["hosts"] == {} and report["products"] == {}


def test_summary_lines_order_and_totals():
    results = {
        "z-ok": {"status": "compliant", "findings": []},
        "a-ok": {"status": "compliant", "findings": [f(exempt=True)]},
        "m-bad": {"status": "non_compliant", "findings": [f("wechat"), f("kesl"), f("wechat")]},
        "b-bad": {"status": "non_compliant", "findings": [f("tiktok")]},
        "x-down": {"status": "unreachable", "findings": [], "error": "ssh timeout"},
        "c-fail": {"status": "failed", "findings": [], "error": "collector crashed"},
        "d-none": None,
    }
    lines = summary_lines(build_report(results, "v", WHEN))
    assert lines[0] == "%-30s %-14s %8s %6s  %s" % ("HOST", "STATUS", "FINDINGS", "EXEMPT", "PRODUCTS / ERROR")
    rows = [(line[:31].strip(), line[31:46].strip(), line[46:55].strip(), line[55:61].strip(), line[63:])
            for line in lines[1:-1]]
    assert rows == [
        ("x-down", "unreachable", "0", "0", "ssh timeout"),
        ("c-fail", "failed", "0", "0", "collector crashed"),
        ("d-none", "failed", "0", "0", "no scan result for this host"),
        ("b-bad", "non_compliant", "1", "0", "tiktok"),
        ("m-bad", "non_compliant", "3", "0", "kesl, wechat"),
        ("a-ok", "compliant", "1", "1", "wechat"),
        ("z-ok", "compliant", "0", "0", "-"),
    ]
    assert lines[-1] == ("TOTAL 7 host(s): 2 compliant, 2 non-compliant, 1 unreachable, 2 failed; "
                         "5 finding(s), 1 exempt")


def test_summary_lines_max_rows():
    results = dict(("h%02d" % i, {"status": "compliant", "findings": []}) for i in range(10))
    results["bad"] = {"status": "non_compliant", "findings": [f()]}
    lines = summary_lines(build_report(results, "v", WHEN), max_rows=3)
    assert [line.split()[0] for line in lines[1:4]] == ["bad", "h00", "h01"]
    assert lines[4] == "... 8 more host(s) in report.json"
    assert lines[5].startswith("TOTAL 11 host(s): 10 compliant, 1 non-compliant")
    assert len(lines) == 6


@pytest.mark.parametrize("host, error, expected_host, expected_detail", [
    ("web\x1b[31m1", "x", "web?[31m1", "x"),
    ("web1", "line1\nline2\r\x00", "web1", "line1?line2??"),
    ("h" * 40, "e" * 80, "h" * 29 + "~", "e" * 59 + "~"),
    ("ホスト", "接続できません", "ホスト", "接続できません"),
    ("tab\there", "\u202eevil", "tab?here", "?evil"),
])
def test_summary_lines_escape_non_printable(host, error, expected_host, expected_detail):
    lines = summary_lines(build_report({host: {"status": "failed", "findings": [], "error": error}}, "v", WHEN))
    row = lines[1]
    assert row.isprintable(), repr(row)
    assert row.startswith(expected_host)
    assert row.endswith("  " + expected_detail)


def test_summary_lines_escape_finding_ids():
    lines = summary_lines(build_report({"h": {"status": "non_compliant", "findings": [f("we\nchat")]}}, "v", WHEN))
    assert lines[1].endswith("  we?chat")


def test_ten_thousand_hosts():
    results = {}
    for i in range(10000):
        name = "host%05d" % i
        if i % 10 == 0:
            results[name] = {"status": "non_compliant", "findings": [f(), f("kesl", exempt=True)]}
        elif i % 10 == 1:
            results[name] = {"status": "unreachable", "findings": [], "error": "timeout"}
        elif i % 10 == 2:
            results[name] = None
        elif i % 10 == 3:
            results[name] = {"status": "compliant", "findings": [f("tiktok", exempt=True)]}
        else:
            results[name] = {"status": "compliant", "findings": []}
    report = build_report(results, "v", WHEN)
    assert report["summary"] == {"compliant": 7000, "non_compliant": 1000, "unreachable": 1000, "failed": 1000,
                                 "hosts": 10000, "findings": 3000, "exempt_findings": 2000,
                                 "remediated": 0, "reboot_required": [], "reinstalled_hosts": 0, "reinstalled_findings": 0}
    assert report["products"]["wechat"] == {"product": "WeChat", "vendor": "Tencent", "hosts": 1000,
                                            "findings": 1000, "exempt": 0}
    assert report["products"]["kesl"]["exempt"] == 1000
    assert report["products"]["tiktok"]["hosts"] == 1000
    lines = summary_lines(report)
    assert len(lines) == 1 + 50 + 2
    assert lines[1].split()[:2] == ["host00001", "unreachable"]
    assert lines[-2] == "... 9950 more host(s) in report.json"


# -- drift (reinstalled) and reinstall blocks ---------------------------------------------------------
def again(eid="wechat", exempt=False, **kw):
    return f(eid, exempt=exempt, key="dpkg|machine|%s|/var/lib/dpkg/status" % eid, drift="reinstalled",
             removed_at="2026-12-01T09:00:42Z", **kw)


@pytest.mark.parametrize("result, reinstalled", [
    ({"status": "non_compliant", "findings": [again(), f("kesl")], "reinstalled": ["dpkg|machine|wechat|/var/lib/dpkg/status"]},
     ["dpkg|machine|wechat|/var/lib/dpkg/status"]),
    # the list always follows the findings: a claim without a marked finding is dropped
    ({"status": "non_compliant", "findings": [f("kesl")], "reinstalled": ["dpkg|machine|kesl|x"]}, []),
    # marked findings without the host list (a hand-made or older result) still count
    ({"status": "non_compliant", "findings": [again("kesl"), again()]},
     ["dpkg|machine|kesl|/var/lib/dpkg/status", "dpkg|machine|wechat|/var/lib/dpkg/status"]),
    # exempt reinstalls are marked on the finding only
    ({"status": "compliant", "findings": [again(exempt=True)], "reinstalled": []}, []),
    # removed again by this run: still reported as reinstalled
    ({"status": "remediated", "remediation": {"run_id": "r"}, "findings": [again(outcome="removed")],
      "reinstalled": ["dpkg|machine|wechat|/var/lib/dpkg/status"]}, ["dpkg|machine|wechat|/var/lib/dpkg/status"]),
])
def test_host_reinstalled_list_agrees_with_findings(result, reinstalled):
    report = build_report({"h": result}, "v", WHEN)
    assert report["hosts"]["h"]["reinstalled"] == reinstalled
    assert report["summary"]["reinstalled_hosts"] == (1 if reinstalled else 0)
    assert report["summary"]["reinstalled_findings"] == len(reinstalled)


def test_no_drift_no_key_and_unscanned_hosts_never_reinstalled():
    report = build_report({"a": {"status": "non_compliant", "findings": [f()]},
                           "b": {"status": "unreachable", "findings": [], "reinstalled": ["x"]}}, "v", WHEN)
    assert "reinstalled" not in report["hosts"]["a"] and "reinstalled" not in report["hosts"]["b"]
    assert report["summary"]["reinstalled_hosts"] == 0


def test_blocks_and_last_remediation_are_kept_only_with_the_right_type():
    blocks = {"prevent_reinstall": True, "mode": "present", "items": [], "not_blockable": []}
    report = build_report({"a": {"status": "compliant", "findings": [], "blocks": blocks,
                                 "last_remediation_at": "2026-12-01T09:00:42Z"},
                           "b": {"status": "compliant", "findings": [], "blocks": "yes", "last_remediation_at": 5}},
                          "v", WHEN)
    assert report["hosts"]["a"]["blocks"] == blocks
    assert report["hosts"]["a"]["last_remediation_at"] == "2026-12-01T09:00:42Z"
    assert "blocks" not in report["hosts"]["b"] and "last_remediation_at" not in report["hosts"]["b"]


@pytest.mark.parametrize("blocks, line", [
    (None, ""),
    ("applied", ""),
    ({"prevent_reinstall": False, "mode": "present", "items": [], "not_blockable": []}, "blocks: off"),
    ({"prevent_reinstall": True, "mode": "present", "items": [], "not_blockable": []}, "blocks (present): none"),
    ({"prevent_reinstall": True, "mode": "absent",
      "items": [{"mechanism": "apt_preferences", "state": "removed"}, {"mechanism": "zypper_lock", "state": "removed"}]},
     "blocks (absent): removed 2"),
    ({"prevent_reinstall": True, "mode": "present",
      "items": [{"mechanism": "dnf_excludepkgs", "state": "failed"}, {"mechanism": "apt_preferences", "state": "applied"},
                {"mechanism": "flatpak_mask", "state": "failed"}, "junk"],
      "not_blockable": [{"entry": "tiktok", "source": "snap"}, "junk"]},
     "blocks (present): applied 1, failed 2 (dnf_excludepkgs, flatpak_mask); 1 not blockable"),
])
def test_block_summary(blocks, line):
    assert block_summary(blocks) == line


def test_summary_lines_mark_reinstalls_and_show_blocks():
    blocks = {"prevent_reinstall": True, "mode": "present",
              "items": [{"mechanism": "apt_preferences", "state": "applied"}], "not_blockable": []}
    results = {
        "web1": {"status": "non_compliant", "findings": [again(), again("kesl"), f("tiktok")], "blocks": blocks},
        "web2": {"status": "non_compliant", "findings": [f()]},
        "web3": {"status": "remediated", "remediation": {"run_id": "r"}, "findings": [again(outcome="removed")]},
    }
    lines = summary_lines(build_report(results, "v", WHEN))
    assert lines[1].startswith("web1") and lines[1].endswith("  [reinstalled 2] kesl, tiktok, wechat")
    assert lines[2] == "%-30s %s" % ("", "blocks (present): applied 1")
    assert lines[3].startswith("web2") and lines[3].endswith("  wechat")
    assert lines[4].endswith("  [reinstalled 1] wechat (removed 1)")
    assert lines[-1] == "REINSTALLED 3 finding(s) on 2 host(s) after a remediation removed them: web1, web3"


class _WarningObject(object):
    """What ansible-core 2.19 puts in a task result's "warnings" (a WarningSummary): not text, not JSON."""


def test_host_warnings_are_the_collectors_text_never_ansibles_own_objects():
    import json
    scanned = {"status": "compliant", "findings": [], "scan_warnings": ["1 process(es) could not be examined", 3],
               "warnings": [_WarningObject()]}
    merged = {"status": "compliant", "findings": [], "warnings": ["from a merged report", _WarningObject()]}
    report = build_report({"a": scanned, "b": merged, "c": {"status": "compliant", "findings": [],
                                                            "warnings": _WarningObject()}}, "1")
    assert report["hosts"]["a"]["warnings"] == ["1 process(es) could not be examined"]
    assert report["hosts"]["b"]["warnings"] == ["from a merged report"]
    assert report["hosts"]["c"]["warnings"] == []
    json.dumps(report)
