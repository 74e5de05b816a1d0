# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local fact record: current status, stable across identical runs, last remediation kept, a bounded
history of removals that keeps a reinstall visible until a remediation removes it again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.govsec.banned_software.plugins.filter.local_fact import FilterModule, local_fact
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.local_fact import MAX_REMOVALS


def finding(eid, **kw):
    data = {"id": eid, "source": "dpkg", "name": eid, "scope": "machine", "path": "/var/lib/dpkg/status",
            "policies": ["ca-tbs-2023-10-30"], "exempt": False, "key": "dpkg|machine|%s|/var/lib/dpkg/status" % eid}
    data.update(kw)
    return data


AUDIT_DIRTY = {"status": "non_compliant", "scanned_at": "2026-12-01T08:00:00Z", "catalog_version": "2026.11.29",
               "os": "linux", "findings": [finding("wechat"), finding("kesl", exempt=True)]}
REMEDIATED = {"status": "remediated", "scanned_at": "2026-12-01T09:00:00Z", "catalog_version": "2026.11.29",
              "os": "linux",
              "findings": [finding("wechat", outcome="removed"), finding("kesl", exempt=True, outcome="skipped_exempt")],
              "remediation": {"run_id": "20261201T090000Z", "steps": [{"id": 1, "rc": 0}], "reboot_required": False,
                              "started_at": "2026-12-01T09:00:00Z", "finished_at": "2026-12-01T09:00:42Z"}}
SECOND_RUN = {"status": "compliant", "scanned_at": "2026-12-01T10:00:00Z", "catalog_version": "2026.11.29",
              "os": "linux", "findings": [finding("kesl", exempt=True, outcome="skipped_exempt")],
              "remediation": {"run_id": "20261201T100000Z", "steps": [], "reboot_required": False,
                              "started_at": "2026-12-01T10:00:00Z", "finished_at": "2026-12-01T10:00:03Z"}}

LAST = {"run_id": "20261201T090000Z", "at": "2026-12-01T09:00:42Z", "reboot_required": False, "failed": [],
        "removed": [{"key": "dpkg|machine|wechat|/var/lib/dpkg/status", "id": "wechat", "source": "dpkg",
                     "name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status", "outcome": "removed",
                     "at": "2026-12-01T09:00:42Z"}]}


def test_audit_record():
    assert local_fact(AUDIT_DIRTY) == {
        "schema": 1, "status": "non_compliant", "status_since": "2026-12-01T08:00:00Z",
        "catalog_version": "2026.11.29", "findings": 1, "exempt_findings": 1, "products": ["wechat"],
        "policies": ["ca-tbs-2023-10-30"]}


def test_remediation_then_identical_second_run_gives_the_same_bytes():
    first = local_fact(REMEDIATED, json.dumps(local_fact(AUDIT_DIRTY)))
    assert first["status"] == "compliant"
    assert first["status_since"] == "2026-12-01T09:00:00Z"
    assert first["findings"] == 0 and first["products"] == [] and first["exempt_findings"] == 1
    assert first["last_remediation"] == LAST
    text = json.dumps(first, sort_keys=True, indent=4)
    second = local_fact(SECOND_RUN, text)
    assert json.dumps(second, sort_keys=True, indent=4) == text
    third = local_fact(dict(SECOND_RUN, scanned_at="2026-12-02T10:00:00Z"), json.dumps(second))
    assert third == first


def test_state_change_moves_status_since_and_keeps_last_remediation():
    clean = local_fact(REMEDIATED)
    reinstalled = dict(AUDIT_DIRTY, scanned_at="2026-12-05T08:00:00Z")
    drift = local_fact(reinstalled, clean)
    assert drift["status"] == "non_compliant" and drift["status_since"] == "2026-12-05T08:00:00Z"
    assert drift["last_remediation"] == LAST


def test_check_mode_remediation_is_not_recorded_as_done():
    checked = dict(AUDIT_DIRTY, findings=[finding("wechat", outcome="would_remove")],
                   remediation={"run_id": "x", "checked_only": True, "steps": [], "finished_at": "t"})
    record = local_fact(checked)
    assert record["status"] == "non_compliant" and "last_remediation" not in record


def test_failed_removal_is_recorded_and_host_stays_non_compliant():
    partial = dict(REMEDIATED, status="non_compliant",
                   findings=[finding("wechat", outcome="removed"), finding("tiktok", outcome="failed")])
    record = local_fact(partial)
    assert record["status"] == "non_compliant" and record["products"] == ["tiktok"]
    assert [i["id"] for i in record["last_remediation"]["removed"]] == ["wechat"]
    assert record["last_remediation"]["failed"] == [{
        "key": "dpkg|machine|tiktok|/var/lib/dpkg/status", "id": "tiktok", "source": "dpkg", "name": "tiktok",
        "scope": "machine", "path": "/var/lib/dpkg/status", "outcome": "failed"}]


@pytest.mark.parametrize("previous", ["", "not json", "[]", '{"schema": 99, "status_since": "x"}', None])
def test_unusable_previous_record_is_ignored(previous):
    assert local_fact(AUDIT_DIRTY, previous)["status_since"] == "2026-12-01T08:00:00Z"


@pytest.mark.parametrize("report", [{"status": "unreachable", "findings": []}, {"status": "failed"}, None])
def test_no_fact_for_hosts_that_were_not_scanned(report):
    with pytest.raises(AnsibleFilterError) as exc:
        local_fact(report)
    assert "no local fact for a host that was not scanned" in str(exc.value)


def test_filter_is_registered():
    assert FilterModule().filters() == {"local_fact": local_fact}


# -- the removal history (drift) ---------------------------------------------------------------------
WECHAT_KEY = "dpkg|machine|wechat|/var/lib/dpkg/status"
WECHAT_REMOVAL = {"key": WECHAT_KEY, "id": "wechat", "source": "dpkg", "name": "wechat", "scope": "machine",
                  "path": "/var/lib/dpkg/status", "removed_at": "2026-12-01T09:00:42Z"}


def remediation(at, *removed, **kw):
    """A remediate result that removed the entries ``removed`` at ``at``."""
    findings = [finding(eid, outcome="removed") for eid in removed] + kw.pop("extra", [])
    return {"status": "remediated", "scanned_at": at, "catalog_version": "2026.11.29", "os": "linux",
            "findings": findings,
            "remediation": {"run_id": at, "steps": [{"id": 1, "rc": 0}], "reboot_required": False,
                            "started_at": at, "finished_at": at}}


def test_a_remediation_records_its_removals():
    record = local_fact(REMEDIATED, json.dumps(local_fact(AUDIT_DIRTY)))
    assert record["removals"] == [WECHAT_REMOVAL]
    assert "reinstalled" not in record


def test_a_reinstall_is_recorded_and_not_forgotten_until_removed_again():
    clean = local_fact(REMEDIATED)
    audit = dict(AUDIT_DIRTY, scanned_at="2026-12-05T08:00:00Z")
    drift = local_fact(audit, json.dumps(clean))
    assert drift["status"] == "non_compliant"
    assert drift["removals"] == [WECHAT_REMOVAL]      # found again: kept
    assert drift["reinstalled"] == [WECHAT_KEY]
    # the same audit again: the same bytes (idempotent)
    text = json.dumps(drift, sort_keys=True, indent=4)
    again = local_fact(dict(audit, scanned_at="2026-12-06T08:00:00Z"), text)
    assert json.dumps(again, sort_keys=True, indent=4) == text
    # removed again: removed_at moves, the reinstall is over
    removed = local_fact(remediation("2026-12-07T10:00:00Z", "wechat"), json.dumps(again))
    assert removed["removals"] == [dict(WECHAT_REMOVAL, removed_at="2026-12-07T10:00:00Z")]
    assert "reinstalled" not in removed and removed["status"] == "compliant"


def test_history_is_cumulative_across_runs():
    first = local_fact(remediation("2026-12-01T09:00:00Z", "wechat"))
    second = local_fact(remediation("2026-12-03T09:00:00Z", "tiktok"), json.dumps(first))
    assert [(r["id"], r["removed_at"]) for r in second["removals"]] == [
        ("tiktok", "2026-12-03T09:00:00Z"), ("wechat", "2026-12-01T09:00:00Z")]
    assert [r["id"] for r in second["last_remediation"]["removed"]] == ["tiktok"]
    # a run with nothing to remove (and a check-mode run) keeps the history as it is
    checked = dict(AUDIT_DIRTY, findings=[finding("kesl", outcome="would_remove")],
                   remediation={"run_id": "x", "checked_only": True, "steps": [], "finished_at": "2026-12-04T00:00:00Z"})
    third = local_fact(checked, json.dumps(second))
    assert third["removals"] == second["removals"]
    assert third["last_remediation"] == second["last_remediation"]


def test_history_is_bounded_newest_kept():
    previous = local_fact(REMEDIATED)
    previous["removals"] = [{"key": "file|machine|/opt/x%04d|/opt/x%04d" % (i, i), "id": "wechat",
                             "removed_at": "2026-11-%02dT00:00:%02dZ" % (1 + i // 60, i % 60)}
                            for i in range(MAX_REMOVALS)]
    record = local_fact(remediation("2026-12-09T00:00:00Z", "tiktok"), json.dumps(previous))
    assert len(record["removals"]) == MAX_REMOVALS == 500
    keys = [r["key"] for r in record["removals"]]
    assert "file|machine|/opt/x0000|/opt/x0000" not in keys            # the oldest went
    assert "dpkg|machine|tiktok|/var/lib/dpkg/status" in keys           # the newest is kept
    assert keys == sorted(keys)


def test_a_record_written_before_the_history_is_migrated():
    legacy = local_fact(REMEDIATED)
    del legacy["removals"]
    record = local_fact(dict(AUDIT_DIRTY, scanned_at="2026-12-05T08:00:00Z"), json.dumps(legacy))
    assert record["removals"] == [WECHAT_REMOVAL]
    assert record["reinstalled"] == [WECHAT_KEY]


def test_exempt_findings_are_not_reinstalled_in_the_record():
    clean = local_fact(remediation("2026-12-01T09:00:00Z", "kesl"))
    audit = dict(AUDIT_DIRTY, scanned_at="2026-12-05T08:00:00Z")   # kesl is exempt there
    record = local_fact(audit, clean)
    assert "reinstalled" not in record
    assert [r["id"] for r in record["removals"]] == ["kesl"]
