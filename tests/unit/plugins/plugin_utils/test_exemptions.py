# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exemptions: validation, expiry (honoured through the day, UTC), narrowing, precedence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.exemptions import (
    apply_exemptions, validate_exemptions,
)

KNOWN = {"wechat", "kesl", "tiktok"}
VAR = "banned_software_exemptions"
TODAY = datetime.date(2026, 3, 31)


def exemption(**kw):
    data = {"entry": "wechat", "reason": "Liaison office, ticket SEC-1234", "expires": "2026-03-31"}
    data.update(kw)
    return data


def finding(eid="wechat", source="flatpak", name="com.tencent.WeChat"):
    return {"id": eid, "product": eid, "vendor": "v", "source": source, "name": name, "version": None,
            "scope": "machine", "path": None, "policies": ["p"], "exempt": False,
            "key": "%s|machine|%s|" % (source, name)}


@pytest.mark.parametrize("items, expected", [
    (None, []),
    ([], []),
    ([exemption()], [{"entry": "wechat", "reason": "Liaison office, ticket SEC-1234", "expires": "2026-03-31"}]),
    ([exemption(expires=datetime.date(2027, 1, 2), approved_by="CISO", source="dpkg", name="wechat",
                ticket=1234)],
     [{"entry": "wechat", "reason": "Liaison office, ticket SEC-1234", "expires": "2027-01-02",
       "approved_by": "CISO", "source": "dpkg", "name": "wechat", "ticket": "1234"}]),
    ([exemption(approved_by=None, source=None)],
     [{"entry": "wechat", "reason": "Liaison office, ticket SEC-1234", "expires": "2026-03-31"}]),
    ([exemption(), exemption(entry="kesl", expires="2030-12-31")],
     [{"entry": "wechat", "reason": "Liaison office, ticket SEC-1234", "expires": "2026-03-31"},
      {"entry": "kesl", "reason": "Liaison office, ticket SEC-1234", "expires": "2030-12-31"}]),
])
def test_validate_ok(items, expected):
    assert validate_exemptions(items, KNOWN) == expected


@pytest.mark.parametrize("items, entry, field, fragment", [
    ({"entry": "wechat"}, None, VAR, "must be a list of {entry, reason, expires}"),
    ("wechat", None, VAR, "must be a list"),
    (["wechat"], None, VAR + "[0]", "must be a mapping {entry, reason, expires}"),
    ([exemption(), None], None, VAR + "[1]", "must be a mapping"),
    ([exemption(reason=None)], None, VAR + "[0].reason", "is required"),
    ([exemption(reason="")], None, VAR + "[0].reason", "is required"),
    ([{"entry": "wechat", "expires": "2026-01-01"}], None, VAR + "[0].reason", "is required"),
    ([exemption(reason="   ")], "wechat", VAR + "[0].reason", "must be a non-empty string"),
    ([exemption(reason=["ok"])], "wechat", VAR + "[0].reason", "must be a non-empty string"),
    ([{"entry": "wechat", "reason": "r"}], None, VAR + "[0].expires", "is required"),
    ([{"reason": "r", "expires": "2026-01-01"}], None, VAR + "[0].entry", "is required"),
    ([exemption(entry="wechatt")], None, VAR + "[0].entry", "unknown catalog entry 'wechatt'"),
    ([exemption(entry="WeChat")], None, VAR + "[0].entry", "unknown catalog entry 'WeChat'"),
    ([exemption(entry=5)], None, VAR + "[0].entry", "must be a non-empty string, got 5"),
    ([exemption(entry=["wechat"])], None, VAR + "[0].entry", "must be a non-empty string"),
    ([exemption(expires="2026-02-30")], "wechat", VAR + "[0].expires", "is not a valid date: '2026-02-30'"),
    ([exemption(expires="31/03/2026")], "wechat", VAR + "[0].expires", "must be a date YYYY-MM-DD"),
    ([exemption(expires="2026-03-31T00:00:00")], "wechat", VAR + "[0].expires", "must be a date YYYY-MM-DD"),
    ([exemption(expires=20260331)], "wechat", VAR + "[0].expires", "must be a date YYYY-MM-DD"),
    ([exemption(expires=datetime.datetime(2026, 3, 31, 12))], "wechat", VAR + "[0].expires",
     "must be a date YYYY-MM-DD"),
    ([exemption(expires="never")], "wechat", VAR + "[0].expires", "must be a date YYYY-MM-DD"),
    ([exemption(expire="2026-01-01")], "wechat", "expire", "unknown field(s) expire in %s[0]" % VAR),
    ([exemption(host="web1")], "wechat", "host", "unknown field(s) host"),
    ([exemption(approved_by=["CISO"])], "wechat", VAR + "[0].approved_by", "must be a non-empty string"),
    ([exemption(name={"a": 1})], "wechat", VAR + "[0].name", "must be a non-empty string"),
    ([exemption(source=True)], "wechat", VAR + "[0].source", "must be a non-empty string, got True"),
    ([exemption(source="")], "wechat", VAR + "[0].source", "must be a non-empty string"),
])
def test_validate_errors(items, entry, field, fragment):
    with pytest.raises(CatalogError) as info:
        validate_exemptions(items, KNOWN, origin="host web1")
    exc = info.value
    assert (exc.origin, exc.entry, exc.field) == ("host web1", entry, field), str(exc)
    assert fragment in str(exc), str(exc)


# (exemptions, finding, today, expected exempt, expected exemption / exemption_expired "expires", warnings)
APPLY = [
    ([exemption(expires="2026-03-31")], finding(), TODAY, True, "2026-03-31", None),
    ([exemption(expires="2026-03-31")], finding(), datetime.date(2026, 3, 30), True, "2026-03-31", None),
    ([exemption(expires="2026-03-31")], finding(), datetime.date(2026, 4, 1), False, None, "2026-03-31"),
    ([exemption(expires="2025-12-31")], finding(), datetime.date(2026, 1, 1), False, None, "2025-12-31"),
    ([exemption(expires="2026-03-31", entry="kesl")], finding(), TODAY, False, None, None),
    ([exemption(source="flatpak")], finding(), TODAY, True, "2026-03-31", None),
    ([exemption(source="dpkg")], finding(), TODAY, False, None, None),
    ([exemption(name="com.tencent.WeChat")], finding(), TODAY, True, "2026-03-31", None),
    ([exemption(name="com.tencent.wechat")], finding(), TODAY, False, None, None),
    ([exemption(source="flatpak", name="wechat")], finding(), TODAY, False, None, None),
    ([exemption(source="flatpak", name="com.tencent.WeChat")], finding(), TODAY, True, "2026-03-31", None),
    # the latest-expiring exemption applies
    ([exemption(expires="2026-04-30", reason="b"), exemption(expires="2026-12-31", reason="c"),
      exemption(expires="2026-03-31", reason="a")], finding(), TODAY, True, "2026-12-31", None),
    # a live one beats an expired one, and no expiry warning is given then
    ([exemption(expires="2026-01-01", reason="old"), exemption(expires="2026-06-30", reason="new")], finding(),
     TODAY, True, "2026-06-30", None),
    # among expired ones, the latest is reported
    ([exemption(expires="2025-01-01"), exemption(expires="2026-03-30"), exemption(expires="2025-06-30")], finding(),
     TODAY, False, None, "2026-03-30"),
    # a narrower live exemption for another source does not rescue this finding
    ([exemption(expires="2025-01-01"), exemption(expires="2027-01-01", source="dpkg")], finding(), TODAY, False,
     None, "2025-01-01"),
]


@pytest.mark.parametrize("items, finding_, today, exempt, live, expired", APPLY)
def test_apply(items, finding_, today, exempt, live, expired):
    exemptions = validate_exemptions(items, KNOWN)
    findings = [copy.deepcopy(finding_)]
    warnings = apply_exemptions(findings, exemptions, today)
    result = findings[0]
    assert result["exempt"] is exempt
    if live:
        assert result["exemption"]["expires"] == live
        assert "entry" not in result["exemption"]
        assert "exemption_expired" not in result
    else:
        assert "exemption" not in result
    if expired:
        assert result["exemption_expired"]["expires"] == expired
        assert warnings == ["exemption for wechat (flatpak com.tencent.WeChat) expired on %s and is not honoured"
                            % expired]
    else:
        assert "exemption_expired" not in result
        assert warnings == []


def test_exemption_payload():
    findings = [finding(), finding("kesl", "dpkg", "kesl")]
    exemptions = validate_exemptions([exemption(approved_by="CISO", ticket="SEC-1")], KNOWN)
    assert apply_exemptions(findings, exemptions, TODAY) == []
    assert findings[0]["exemption"] == {"reason": "Liaison office, ticket SEC-1234", "expires": "2026-03-31",
                                        "approved_by": "CISO", "ticket": "SEC-1"}
    assert findings[1]["exempt"] is False
    assert "exemption" not in findings[1]


def test_expired_payload():
    findings = [finding()]
    apply_exemptions(findings, validate_exemptions([exemption(expires="2020-01-01")], KNOWN), TODAY)
    assert findings[0]["exempt"] is False
    assert findings[0]["exemption_expired"] == {"reason": "Liaison office, ticket SEC-1234", "expires": "2020-01-01"}


def test_default_today_is_utc():
    utc_today = datetime.datetime.now(datetime.timezone.utc).date()
    findings = [finding(), finding(name="other")]
    exemptions = validate_exemptions([exemption(expires=utc_today.isoformat(), name="com.tencent.WeChat"),
                                      exemption(expires=(utc_today - datetime.timedelta(days=1)).isoformat(),
                                                name="other")], KNOWN)
    warnings = apply_exemptions(findings, exemptions)
    assert [f["exempt"] for f in findings] == [True, False]
    assert len(warnings) == 1


def test_no_exemptions_changes_nothing():
    findings = [finding()]
    before = copy.deepcopy(findings)
    assert apply_exemptions(findings, [], TODAY) == []
    assert findings == before
