# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local fact record: current status, stable across identical runs, last remediation kept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.govsec.banned_software.plugins.filter.local_fact import FilterModule, local_fact


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
