# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small mixed fleet for the report format tests: every status, exemptions (honoured and expired),
remediation outcomes, drift (reinstalled findings, exempt and removed again too), reinstall blocks,
unicode, hostile host data (markup, formulas, control characters)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report

WHEN = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.timezone.utc)
ENABLED = ["deepseek", "kaspersky-endpoint-security-linux", "tiktok", "wechat"]
HOSTILE_HOST = '<script>alert("x")</script>&amp;'
FORMULA_HOST = "=HYPERLINK(\"http://evil.example\",\"click\")"
BUERO = u"b\u00fcro-\u5317\u4eac.example.gov"
BUERO_WECHAT_KEY = u"dpkg|machine|wechat-\u5fae\u4fe1|/var/lib/dpkg/status"
KESL_KEY = "dpkg|machine|kesl|/var/lib/dpkg/status"
BLOCKS = {"prevent_reinstall": True, "mode": "present",
          "items": [{"mechanism": "apt_preferences", "target": "/etc/apt/preferences.d/govsec-banned-software.pref",
                     "names": ["wechat"], "entries": ["wechat"], "state": "applied", "detail": "pin -1"},
                    {"mechanism": "flatpak_mask", "target": "user:alice", "names": ["com.tiktok.App"],
                     "entries": ["tiktok"], "state": "failed", "detail": "flatpak mask: <rc 1> & more"}],
          "not_blockable": [{"entry": "tiktok", "source": "snap", "identifier": "tiktok",
                             "reason": "snap has no native block"}]}
BLOCKS_LINE = "blocks (present): applied 1, failed 1 (flatpak_mask); 1 not blockable"


def finding(eid, source="dpkg", name=None, exempt=False, **extra):
    products = {"wechat": ("WeChat (Weixin)", "Tencent", ["ca-tbs-2023-10-30"]),
                "tiktok": ("TikTok", "ByteDance", ["us-no-tiktok-act-omb-m-23-13", "gb-2023-03-16-tiktok"]),
                "deepseek": ("DeepSeek", "Hangzhou DeepSeek", ["ca-tbs-2025-02-06-deepseek"]),
                "kaspersky-endpoint-security-linux": ("Kaspersky Endpoint Security for Linux", "Kaspersky",
                                                      ["us-bis-icts-kaspersky-2024-06-20"])}
    product, vendor, policies = products[eid]
    name = name or eid
    data = {"id": eid, "product": product, "vendor": vendor, "source": source, "name": name, "version": "1.0",
            "scope": "machine", "path": "/var/lib/dpkg/status", "policies": list(policies), "exempt": exempt,
            "key": "%s|machine|%s|/var/lib/dpkg/status" % (source, name), "matched_by": {"name": name}}
    if exempt:
        data["exemption"] = {"reason": u"Liaison office \u2014 ticket SEC-1234", "expires": "2027-03-31",
                             "approved_by": "CISO"}
    data.update(extra)
    return data


def scanned(status, findings, **extra):
    data = {"status": status, "findings": findings, "os": "linux", "scanned_at": "2026-11-29T11:59:00Z",
            "catalog_version": "2026.11.29", "policies": ["all"], "entries_enabled": list(ENABLED),
            "warnings": []}
    data.update(extra)
    return data


def fleet():
    """{host: result} as the detect and remediate roles set banned_software_host_report."""
    return {
        "clean.example.gov": scanned("compliant", []),
        BUERO: scanned("non_compliant", [
            finding("wechat", name=u"wechat-\u5fae\u4fe1", drift="reinstalled", removed_at="2026-11-01T10:00:00Z"),
            finding("tiktok", source="flatpak", name="com.tiktok.App", scope="user:alice", path=None)],
            reinstalled=[BUERO_WECHAT_KEY], last_remediation_at="2026-11-01T10:00:00Z", blocks=BLOCKS),
        "exempt.example.gov": scanned("compliant", [finding("wechat", source="flatpak", name="com.tencent.WeChat",
                                                            exempt=True, drift="reinstalled",
                                                            removed_at="2026-10-01T00:00:00Z")],
                                      reinstalled=[], last_remediation_at="2026-10-01T00:00:00Z"),
        "expired.example.gov": scanned("non_compliant", [finding("deepseek", source="appimage",
                                                                 name="DeepSeek.AppImage",
                                                                 exemption_expired={"reason": "pilot",
                                                                                    "expires": "2026-01-31"})]),
        HOSTILE_HOST: scanned("non_compliant", [finding("wechat", name='<img src=x onerror=alert(1)>',
                                                        path="/opt/</script><script>alert(2)</script>")]),
        FORMULA_HOST: scanned("non_compliant", [finding("tiktok", name="-2+3", version="@SUM(A1)",
                                                        path="+cmd|' /C calc'!A0")]),
        "ctrl\x01\x1b.example.gov": scanned("non_compliant", [finding("wechat", name="we\x00chat\x0b",
                                                                      version="\u2028line\u2029")]),
        "remediated.example.gov": scanned("remediated", [
            finding("kaspersky-endpoint-security-linux", name="kesl", outcome="removed", drift="reinstalled",
                    removed_at="2026-10-15T08:00:00Z"),
            finding("wechat", outcome="already_absent"),
            finding("tiktok", source="flatpak", name="com.tiktok.App", exempt=True, outcome="skipped_exempt")],
            remediation={"run_id": "20261129T120000Z", "reboot_required": True, "steps": [],
                         "plan": {"version": 1, "steps": []}}),
        "partial.example.gov": scanned("non_compliant", [
            finding("kaspersky-endpoint-security-linux", name="kesl", outcome="failed"),
            finding("wechat", outcome="removed")],
            remediation={"run_id": "20261129T120000Z", "reboot_required": False, "steps": []}),
        "checkonly.example.gov": scanned("non_compliant", [finding("wechat", outcome="would_remove")],
                                         remediation={"run_id": "r", "checked_only": True}),
        "down.example.gov": {"status": "unreachable", "findings": [], "error": "ssh: connect timed out"},
        "broken.example.gov": {"status": "failed", "findings": [], "error": "collector failed: <rc 1> & more"},
    }


def report():
    return build_report(fleet(), "2026.11.29", WHEN)
