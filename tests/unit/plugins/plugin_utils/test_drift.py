# -*- coding: utf-8 -*-
"""Drift marking: findings a remediation removed before are "reinstalled"; the host lists the keys of
those that are not exempt; the collector's state is untrusted and checked again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.drift import (
    collected_drift_state, mark_drift)
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import WINDOWS_FACT

WECHAT = "dpkg|machine|wechat|/var/lib/dpkg/status"
KESL = "dpkg|machine|kesl|/var/lib/dpkg/status"
TIKTOK = "flatpak|user:alice|com.tiktok.App|"
STATE = {"path": "/etc/ansible/facts.d/banned_software.fact", "last_remediation_at": "2026-12-01T09:00:42Z",
         "removals": [{"key": WECHAT, "id": "wechat", "removed_at": "2026-12-01T09:00:42Z"},
                      {"key": KESL, "id": "kesl", "removed_at": "2026-11-02T10:00:00Z"},
                      {"key": TIKTOK, "id": "tiktok", "removed_at": "2026-11-02T10:00:00Z"}]}


def finding(key, exempt=False):
    return {"id": key.split("|")[2], "key": key, "exempt": exempt}


def test_marks_reinstalled_findings_and_lists_the_host_keys():
    findings = [finding(WECHAT), finding("dpkg|machine|deepseek|/var/lib/dpkg/status"), finding(TIKTOK, exempt=True),
                finding(KESL)]
    facts = mark_drift(findings, STATE)
    assert facts == {"reinstalled": [KESL, WECHAT], "last_remediation_at": "2026-12-01T09:00:42Z"}
    assert [(f.get("drift"), f.get("removed_at")) for f in findings] == [
        ("reinstalled", "2026-12-01T09:00:42Z"), (None, None), ("reinstalled", "2026-11-02T10:00:00Z"),
        ("reinstalled", "2026-11-02T10:00:00Z")]
    # the exempt one is marked but does not make the host "reinstalled"
    assert findings[2]["exempt"] is True and TIKTOK not in facts["reinstalled"]


@pytest.mark.parametrize("state", [None, {}, {"removals": []}])
def test_no_record_no_drift(state):
    findings = [finding(WECHAT)]
    assert mark_drift(findings, state) == {"reinstalled": [], "last_remediation_at": None}
    assert "drift" not in findings[0]


def test_state_from_a_posix_collector_is_checked_again():
    hostile = dict(STATE, last_remediation_at="<b>", removals=STATE["removals"] + [{"key": WECHAT}, "x"])
    state, warnings = collected_drift_state({"local_fact": hostile})
    assert state["last_remediation_at"] is None
    assert [r["key"] for r in state["removals"]] == sorted([WECHAT, KESL, TIKTOK])
    assert warnings == ["local fact /etc/ansible/facts.d/banned_software.fact: 2 malformed removal record(s) ignored"]
    state, warnings = collected_drift_state({"local_fact": ["x"]})
    assert state is None and warnings == [
        "collector returned local_fact as list instead of a mapping; reinstalls are not reported for this host"]
    assert collected_drift_state({"local_fact": None}) == (None, [])
    assert collected_drift_state({}) == (None, [])
    assert collected_drift_state("garbage") == (None, [])


def test_windows_raw_text_is_parsed_on_the_controller():
    record = {"schema": 1, "status": "compliant", "removals": STATE["removals"],
              "last_remediation": {"at": "2026-12-01T09:00:42Z", "removed": []}}
    state, warnings = collected_drift_state({"local_fact_text": json.dumps(record)})
    assert warnings == []
    assert state["path"] == WINDOWS_FACT and len(state["removals"]) == 3
    state, warnings = collected_drift_state({"local_fact_text": "{oops"})
    assert state is None and warnings[0].startswith("local fact %s: not valid JSON" % WINDOWS_FACT)
