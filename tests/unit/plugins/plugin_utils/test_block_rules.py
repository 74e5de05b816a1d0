# -*- coding: utf-8 -*-
"""Reinstall-block rules as data (_block_rules): the real catalog and synthetic entries, exact outputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import rules as br
from ansible_collections.govsec.banned_software.plugins.module_utils import _host_paths as block_paths
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

HEADER = {"catalog_version": "2026.11.29", "policies": ["ca-tbs-2023-10-30", "au-pspf-002-2025-kaspersky"]}
KASPERSKY_POLICIES = ["au-pspf-002-2025-kaspersky", "ca-tbs-2023-10-30", "us-bis-icts-kaspersky-2024-06-20",
                      "us-dhs-bod-17-01", "us-ndaa-fy2018-1634", "us-tx-dir-prohibited-technologies"]
LINUX_PACKAGES = ["com.qq.weixin.deepin", "com.qq.weixin.work.deepin", "com.qq.weixin.work.deepin-x11",
                  "com.tencent.wechat", "com.tencent.weixin", "deepin.com.wechat", "deepin.com.weixin.work", "kav4fs",
                  "kesl", "kesl-astra", "kesl-gui", "kesl-gui-astra", "klnagent", "klnagent64", "klnagent64-astra",
                  "ksc-web-console", "ksc64", "wechat", "wechat-beta", "wechat-bin", "wechat-universal-bwrap",
                  "wechat-uos"]
MS_PUBLISHER = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"


def entry(eid, signatures, policies=None, product=None):
    return Entry("test", {"id": eid, "vendor": "V", "product": product or eid.upper(),
                          "policies": policies or ["p1"], "references": [{"url": "https://example.org/"}],
                          "signatures": signatures})


@pytest.fixture(scope="module")
def enabled():
    return load_catalog().select()


# --- blocked_names -------------------------------------------------------------------------------------

def test_real_catalog_linux(enabled):
    got = br.blocked_names(enabled, "linux")
    assert got["names"] == {"dpkg": LINUX_PACKAGES, "rpm": LINUX_PACKAGES, "flatpak": ["com.tencent.WeChat"]}
    assert got["by_entry"]["kaspersky-anti-virus-file-servers-linux"] == {"dpkg": ["kav4fs"], "rpm": ["kav4fs"]}
    assert got["by_entry"]["wechat"]["flatpak"] == ["com.tencent.WeChat"]
    assert "kics" not in got["names"]["rpm"] and "kess" not in got["names"]["rpm"]
    assert [(n["entry"], n["source"], n["identifier"]) for n in got["not_blockable"]] == [
        ("kaspersky-embedded-systems-security-linux", "rpm", "kess"),
        ("kaspersky-industrial-cybersecurity-linux", "rpm", "kics"),
        ("wechat", "appimage", "(?i)(WeChatLinux|wechat)([-_.]v?\\d+(\\.\\d+)*)?"
                               "([-_.](x86_64|amd64|arm64|aarch64|loongarch64|loongarch))?\\.AppImage"),
    ]
    assert got["not_blockable"][1]["reason"] == \
        "banned only when qualified by vendor_regex; a name block would be broader"
    assert got["not_blockable"][2]["reason"] == "AppImages are plain files with no install step to block"


def test_real_catalog_windows(enabled):
    got = br.blocked_names(enabled, "windows")
    assert got["names"] == {
        "appx": ["BytedancePte.Ltd.TikTok_6yccndn6064se", "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a",
                 "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a"],
        "publisher": [],
        "path": ["%LocalAppData%\\Programs\\DeepSeek Harness", "%LocalAppData%\\Programs\\Tencent\\Weixin",
                 "%ProgramFiles%\\Tencent\\Weixin", "%ProgramFiles(x86)%\\Kaspersky Lab\\Endpoint Agent",
                 "%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security Center",
                 "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent", "%ProgramFiles(x86)%\\Tencent\\WeChat"],
    }
    reasons = dict(((n["entry"], n["identifier"]), n["reason"]) for n in got["not_blockable"])
    assert reasons[("deepseek", "1bf39983-50d0-5fe0-9ef4-cece76f67c5e")] == \
        "an uninstall key name is neither a signer nor a path"
    assert reasons[("wechat", "WeChat")] == "publisher is a regular expression; a signer rule must be exact"
    assert reasons[("wecom", "企业微信")] == "publisher is a regular expression; a signer rule must be exact"
    # 13 before, plus the Administration Server's GUID-shaped key and the DeepSeek key of any channel (regexes)
    assert reasons[("kaspersky-security-center", None)] == "publisher is a regular expression; a signer rule must be exact"
    assert len(got["not_blockable"]) == 15


def test_real_catalog_macos(enabled):
    got = br.blocked_names(enabled, "macos")
    assert got["names"] == {"bundle_id": ["com.tencent.WeWorkMac", "com.tencent.xinWeChat", "com.zhiliaoapp.musically"],
                            "team_id": []}
    assert got["not_blockable"] == [
        {"entry": "kaspersky-macos", "source": "bundle",
         "identifier": "com\\.kaspersky\\.(?!klnagent)[A-Za-z0-9][A-Za-z0-9.-]*",
         "reason": "identified by a regular expression; a block must be exact"},
        {"entry": "kaspersky-macos", "source": "sysext",
         "identifier": "com\\.kaspersky\\.(?!klnagent)[A-Za-z0-9][A-Za-z0-9.-]*",
         "reason": "identified by a regular expression; a block must be exact"},
    ]


def test_synthetic_linux_exact_regex_qualified_and_snap():
    ents = [entry("a", {"linux": {"packages": [{"name": "zed"}, {"name_regex": "zed-.*"}],
                                  "dpkg": [{"name": "alpha", "arch": "amd64"}, {"name": "alpha", "note": "x"}],
                                  "snap": [{"name": "zsnap"}], "service": [{"name": "zed.service"}]}}),
            entry("b", {"linux": {"rpm": [{"name": "zed"}], "flatpak": [{"name": "org.example.App"}]}})]
    got = br.blocked_names(ents, "linux")
    assert got["names"] == {"dpkg": ["alpha", "zed"], "rpm": ["zed"], "flatpak": ["org.example.App"]}
    assert got["by_entry"] == {"a": {"dpkg": ["alpha", "zed"], "rpm": ["zed"]},
                               "b": {"rpm": ["zed"], "flatpak": ["org.example.App"]}}
    assert got["not_blockable"] == [
        {"entry": "a", "source": "dpkg", "identifier": "alpha",
         "reason": "banned only when qualified by arch; a name block would be broader"},
        {"entry": "a", "source": "dpkg", "identifier": "zed-.*",
         "reason": "identified by a regular expression; a block must be exact"},
        {"entry": "a", "source": "rpm", "identifier": "zed-.*",
         "reason": "identified by a regular expression; a block must be exact"},
        {"entry": "a", "source": "snap", "identifier": "zsnap",
         "reason": "snap has no native install block (snapd cannot refuse a snap name)"},
    ]


def test_synthetic_windows_publisher_needs_exact_product():
    ents = [entry("k", {"windows": {"registry": [
        {"name_regex": "\\{.*\\}", "publisher": "AO Kaspersky Lab", "display_name": "Kaspersky VPN"},
        {"name_regex": "\\{.*\\}", "publisher": "AO Kaspersky Lab"}]}})]
    got = br.blocked_names(ents, "windows")
    assert got["names"]["publisher"] == [{"publisher": "AO Kaspersky Lab", "product": "Kaspersky VPN"}]
    assert got["not_blockable"] == [{
        "entry": "k", "source": "registry", "identifier": "AO Kaspersky Lab",
        "reason": "no exact display_name: a publisher-wide rule would block every product of the signer"}]


def test_synthetic_macos_team_ids():
    ents = [entry("m", {"macos": {"bundle": [{"name": "com.example.app", "team_id": "ABCDE12345"}],
                                  "sysext": [{"name_regex": "com\\.example\\..*", "team_id": "ZZZZZ99999"}],
                                  "launchd": [{"name": "com.example.agent"}]}})]
    got = br.blocked_names(ents, "macos")
    assert got["names"] == {"bundle_id": ["com.example.app"], "team_id": ["ABCDE12345", "ZZZZZ99999"]}
    assert [n["identifier"] for n in got["not_blockable"]] == ["com\\.example\\..*"]


def test_blocked_names_unknown_platform():
    with pytest.raises(ValueError, match="unknown platform 'aix'"):
        br.blocked_names([], "aix")


# --- Linux texts and argv ----------------------------------------------------------------------------

def test_apt_preferences_exact():
    assert br.apt_preferences(["wechat", "kesl", "wechat"], HEADER) == (
        "# Managed by govsec.banned_software: reinstall block of banned software.\n"
        "# Catalog version: 2026.11.29\n"
        "# Policies: au-pspf-002-2025-kaspersky, ca-tbs-2023-10-30\n"
        "# Remove with playbooks/unblock.yml; manual edits are overwritten.\n"
        "\n"
        "Package: kesl\nPin: version *\nPin-Priority: -1\n"
        "\n"
        "Package: wechat\nPin: version *\nPin-Priority: -1\n")


def test_apt_preferences_real_catalog_is_deterministic(enabled):
    names = br.blocked_names(enabled, "linux")["names"]["dpkg"]
    text = br.apt_preferences(list(reversed(names)), HEADER)
    assert text == br.apt_preferences(names, HEADER)
    assert text.count("Pin-Priority: -1\n") == 22
    assert [line[9:] for line in text.splitlines() if line.startswith("Package: ")] == LINUX_PACKAGES


@pytest.mark.parametrize("name", ["wechat\nPackage: *", "*", "WeChat", "a b", "", "-x", "x" * 129, 7])
def test_apt_preferences_rejects_hostile_names(name):
    with pytest.raises(ValueError, match="invalid dpkg name"):
        br.apt_preferences([name], HEADER)


@pytest.mark.parametrize("header", [
    {"catalog_version": "1\nPackage: *", "policies": []},
    {"catalog_version": "1", "policies": ["p\rq"]},
    {"catalog_version": "1"},
    "2026.11.29",
])
def test_header_rejects_injection_and_bad_shape(header):
    with pytest.raises(ValueError):
        br.apt_preferences(["wechat"], header)


def test_names_must_be_a_list():
    with pytest.raises(ValueError, match="must be a list"):
        br.apt_preferences("wechat", HEADER)


def test_dnf_excludes_exact():
    assert br.dnf_excludes(["wechat", "kesl", "Foo_bar+1"], HEADER) == (
        "# Managed by govsec.banned_software: reinstall block of banned software.\n"
        "# Catalog version: 2026.11.29\n"
        "# Policies: au-pspf-002-2025-kaspersky, ca-tbs-2023-10-30\n"
        "# Remove with playbooks/unblock.yml; manual edits are overwritten.\n"
        "[main]\n"
        "excludepkgs=Foo_bar+1,kesl,wechat\n")
    assert block_paths.DNF_DROPIN_PATH == "/etc/dnf/libdnf5.conf.d/80-govsec-banned-software.conf"
    assert block_paths.APT_PREFERENCES_PATH == "/etc/apt/preferences.d/govsec-banned-software"


def test_dnf_excludes_real_catalog(enabled):
    names = br.blocked_names(enabled, "linux")["names"]["rpm"]
    assert br.dnf_excludes(names, HEADER).splitlines()[-1] == "excludepkgs=" + ",".join(LINUX_PACKAGES)


@pytest.mark.parametrize("name", ["a,b", "*", "wechat\n[main]", "a b", "x=y", "", "-rf"])
def test_rpm_names_rejected(name):
    with pytest.raises(ValueError, match="invalid rpm name"):
        br.dnf_excludes([name], HEADER)
    with pytest.raises(ValueError, match="invalid rpm name"):
        br.zypper_lock_argv([name])


def test_zypper_lock_argv():
    assert br.zypper_lock_argv(["wechat", "kesl"]) == [
        ["zypper", "--non-interactive", "addlock", "--", "kesl"],
        ["zypper", "--non-interactive", "addlock", "--", "wechat"]]
    assert br.zypper_lock_argv([]) == []


def test_flatpak_mask_argv():
    assert br.flatpak_mask_argv(["com.tencent.WeChat"], "system") == [
        ["flatpak", "mask", "--system", "--", "com.tencent.WeChat"]]
    assert br.flatpak_mask_argv(["org.b.App", "com.tencent.WeChat"], "user") == [
        ["flatpak", "mask", "--user", "--", "com.tencent.WeChat"],
        ["flatpak", "mask", "--user", "--", "org.b.App"]]


@pytest.mark.parametrize("app_id,scope,match", [
    ("--system", "system", "invalid flatpak name"), ("com.*.x", "user", "invalid flatpak name"),
    ("wechat", "user", "invalid flatpak name"), ("com.tencent.WeChat", "both", "scope must be one of"),
])
def test_flatpak_mask_rejects(app_id, scope, match):
    with pytest.raises(ValueError, match=match):
        br.flatpak_mask_argv([app_id], scope)


# --- AppLocker -----------------------------------------------------------------------------------------

REAL_PATHS = {
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\Endpoint Agent\\*": "kaspersky-endpoint-agent",
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\Kaspersky Security Center\\*": "kaspersky-security-center",
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\*": "kaspersky-network-agent",
    "%OSDRIVE%\\Program Files (x86)\\Tencent\\WeChat\\*": "wechat",
    "%OSDRIVE%\\Program Files\\Tencent\\Weixin\\*": "wechat",
    "%OSDRIVE%\\Users\\*\\AppData\\Local\\Programs\\DeepSeek Harness\\*": "deepseek",
    "%OSDRIVE%\\Users\\*\\AppData\\Local\\Programs\\Tencent\\Weixin\\*": "wechat",
}


def test_publisher_id_known_vector():
    assert br.appx_publisher_id(MS_PUBLISHER) == "8wekyb3d8bbwe"


@pytest.mark.parametrize("path,expected", [
    ("%ProgramFiles%\\Tencent\\Weixin", "%OSDRIVE%\\Program Files\\Tencent\\Weixin\\*"),
    ("%programfiles(x86)%\\A", "%OSDRIVE%\\Program Files (x86)\\A\\*"),
    ("%ProgramW6432%\\A", "%OSDRIVE%\\Program Files\\A\\*"),
    ("%ProgramData%\\A", "%OSDRIVE%\\ProgramData\\A\\*"),
    ("%AppData%\\A", "%OSDRIVE%\\Users\\*\\AppData\\Roaming\\A\\*"),
    ("%SystemRoot%\\A", "%WINDIR%\\A\\*"),
    ("C:\\Tools\\A*", "C:\\Tools\\A*\\*"),
    ("C:\\Tools\\A?", None),
])
def test_applocker_path(path, expected):
    assert br.applocker_path(path) == expected


def test_applocker_rules_real_catalog(enabled):
    got = br.applocker_rules(enabled)
    rules = got["rules"]
    assert [(r["collection"], r["type"], r["action"], r["user_or_group_sid"]) for r in rules] == \
        [("Exe", "FilePathRule", "Deny", "S-1-1-0")] * 7
    assert dict((r["conditions"]["path"], r["entries"][0]) for r in rules) == REAL_PATHS
    kea = rules[0]
    assert kea["id"] == "dda83fb2-a179-5143-a91c-58140c84d634"
    assert kea["policies"] == KASPERSKY_POLICIES
    assert kea["name"] == ("govsec.banned_software: deny Kaspersky Endpoint Agent (KEA, EDR / KATA agent, "
                           "Windows) (%ProgramFiles(x86)%\\Kaspersky Lab\\Endpoint Agent)")
    assert kea["description"] == ("Banned software (catalog entries kaspersky-endpoint-agent; policies "
                                  + ", ".join(KASPERSKY_POLICIES) + "). Remove with playbooks/unblock.yml.")
    appx = [n for n in got["not_blockable"] if n["source"] == "appx"]
    assert [n["identifier"] for n in appx] == ["BytedancePte.Ltd.TikTok_6yccndn6064se",
                                               "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a",
                                               "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a"]
    assert appx[0]["reason"] == "publisher subject unknown (give it in appx_publishers); deprovision only"
    assert br.applocker_rules(enabled, "publisher")["rules"] == []
    assert len(br.applocker_rules(enabled, "path")["rules"]) == 7


def test_applocker_rule_ids_stable_and_content_derived(enabled):
    first = br.applocker_rules(enabled)["rules"]
    again = br.applocker_rules(list(reversed(enabled)))["rules"]
    assert [r["id"] for r in first] == [r["id"] for r in again]
    assert sorted(r["id"] for r in first) == [
        "2ae733c2-f748-57ae-adf6-0d01f543bf13", "2b960c9d-05a3-56cf-9227-ab34382f4317",
        "91f8108a-7d03-5df3-86fd-aaa5a7c6bd81",
        "9e06505e-a6f3-5b31-b4a9-f1398982facc", "a5538f90-e32e-50a1-8a14-0fbab5038cdf",
        "bfcb0579-d677-5b13-ab5e-d76251425b58", "dda83fb2-a179-5143-a91c-58140c84d634"]
    assert br.applocker_policy_xml(first, "Enabled", False) == br.applocker_policy_xml(again, "Enabled", False)


def synthetic_windows():
    return [
        entry("wc", {"windows": {"registry": [{"name": "WeChat", "publisher": "腾讯科技(深圳)有限公司",
                                               "display_name": "微信 & <WeChat>"}],
                                 "appx": [{"name": "Contoso.App_8wekyb3d8bbwe"}],
                                 "file": [{"path": "%ProgramFiles%\\Tencent\\WeChat"}]}},
              policies=["p1", "p2"], product="WeChat \"quoted\""),
        entry("kav", {"windows": {"registry": [{"name_regex": "\\{.*\\}", "publisher": "AO Kaspersky Lab",
                                                "display_name": "Kaspersky VPN"}],
                                  "file": [{"path": "%ProgramFiles%\\Tencent\\WeChat"}]}}, policies=["p3"]),
    ]


def test_applocker_rules_synthetic_publishers_and_appx():
    got = br.applocker_rules(synthetic_windows(), appx_publishers={"Contoso.App_8wekyb3d8bbwe": MS_PUBLISHER})
    rules = got["rules"]
    assert [(r["collection"], r["type"], r["conditions"]) for r in rules] == [
        ("Appx", "FilePublisherRule", {"publisher": MS_PUBLISHER, "product": "Contoso.App", "binary": "*",
                                       "low": "*", "high": "*"}),
        ("Exe", "FilePathRule", {"path": "%OSDRIVE%\\Program Files\\Tencent\\WeChat\\*"}),
        ("Exe", "FilePublisherRule", {"publisher": "O=AO Kaspersky Lab", "product": "Kaspersky VPN",
                                      "binary": "*", "low": "*", "high": "*"}),
        ("Exe", "FilePublisherRule", {"publisher": "O=腾讯科技(深圳)有限公司", "product": "微信 & <WeChat>",
                                      "binary": "*", "low": "*", "high": "*"}),
    ]
    shared = rules[1]
    assert shared["entries"] == ["kav", "wc"]
    assert shared["policies"] == ["p1", "p2", "p3"]
    assert got["not_blockable"] == []


def test_applocker_appx_publisher_must_hash_to_family():
    with pytest.raises(ValueError, match="does not hash to the publisher id"):
        br.applocker_rules(synthetic_windows(), appx_publishers={"Contoso.App_8wekyb3d8bbwe": "CN=Evil"})


def test_applocker_mode_rejected():
    with pytest.raises(ValueError, match="mode must be one of"):
        br.applocker_rules([], "deny")


def test_policy_xml_parses_back_with_escaping():
    rules = br.applocker_rules(synthetic_windows(),
                               appx_publishers={"Contoso.App_8wekyb3d8bbwe": MS_PUBLISHER})["rules"]
    text = br.applocker_policy_xml(rules, "AuditOnly", True)
    assert "O=腾讯科技(深圳)有限公司" in text
    assert "微信 &amp; &lt;WeChat&gt;" in text
    assert 'WeChat &quot;quoted&quot;' in text
    root = ET.fromstring(text)
    assert root.tag == "AppLockerPolicy" and root.get("Version") == "1"
    collections = root.findall("RuleCollection")
    assert [(c.get("Type"), c.get("EnforcementMode")) for c in collections] == \
        [("Exe", "AuditOnly"), ("Appx", "AuditOnly")]
    exe = collections[0]
    exe_rules = sorted((x for x in rules if x["collection"] == "Exe"), key=lambda x: x["id"])
    assert [(r.tag, r.get("Id"), r.get("Action"), r.get("UserOrGroupSid")) for r in exe] == \
        [(r["type"], r["id"], "Deny", "S-1-1-0") for r in exe_rules] + \
        [("FilePathRule", "b3bc29d7-b2dd-57ba-a7ce-1852079ae160", "Allow", "S-1-1-0")]
    pubs = sorted((c.get("PublisherName"), c.get("ProductName"), c.get("BinaryName"))
                  for c in exe.iter("FilePublisherCondition"))
    assert pubs == [("O=AO Kaspersky Lab", "Kaspersky VPN", "*"), ("O=腾讯科技(深圳)有限公司", "微信 & <WeChat>", "*")]
    assert [c.get("Path") for c in exe.iter("FilePathCondition")] == \
        ["%OSDRIVE%\\Program Files\\Tencent\\WeChat\\*", "*"]
    ranges = [(b.get("LowSection"), b.get("HighSection")) for b in exe.iter("BinaryVersionRange")]
    assert ranges == [("*", "*"), ("*", "*")]
    appx = collections[1]
    assert [(r.get("Action"), r.find("Conditions/FilePublisherCondition").get("PublisherName"),
             r.find("Conditions/FilePublisherCondition").get("ProductName")) for r in appx] == \
        [("Deny", MS_PUBLISHER, "Contoso.App"), ("Allow", "*", "*")]
    wc = [r for r in rules if r["conditions"].get("product") == "微信 & <WeChat>"][0]
    element = [r for r in exe if r.get("Id") == wc["id"]][0]
    assert element.get("Name") == wc["name"] == \
        "govsec.banned_software: deny WeChat \"quoted\" (微信 & <WeChat>)"
    assert element.get("Description") == \
        "Banned software (catalog entries wc; policies p1, p2). Remove with playbooks/unblock.yml."


def test_policy_xml_without_allow_rest_and_empty_collection(enabled):
    rules = br.applocker_rules(enabled)["rules"]
    root = ET.fromstring(br.applocker_policy_xml(rules, "Enabled", False))
    exe, appx = root.findall("RuleCollection")
    assert (exe.get("EnforcementMode"), appx.get("EnforcementMode")) == ("Enabled", "NotConfigured")
    assert sorted(r.get("Id") for r in exe) == sorted(r["id"] for r in rules)
    assert all(r.get("Action") == "Deny" for r in exe)
    assert sorted(c.get("Path") for c in exe.iter("FilePathCondition")) == sorted(REAL_PATHS)
    assert list(appx) == []


def test_allow_rest_ids_are_fixed():
    text = br.applocker_policy_xml(br.applocker_rules(synthetic_windows(), appx_publishers={
        "Contoso.App_8wekyb3d8bbwe": MS_PUBLISHER})["rules"], "Enabled", True)
    root = ET.fromstring(text)
    allow = [r.get("Id") for r in root.iter() if r.get("Action") == "Allow"]
    assert allow == ["b3bc29d7-b2dd-57ba-a7ce-1852079ae160", br._allow_rest("Appx")["id"]]
    assert allow[1] == br._rule_id(br._allow_rest("Appx"))


@pytest.mark.parametrize("enforcement,allow_rest,match", [
    ("Audit", True, "enforcement must be one of"), ("Enabled", "yes", "allow_rest must be true or false"),
])
def test_policy_xml_rejects_bad_arguments(enforcement, allow_rest, match):
    with pytest.raises(ValueError, match=match):
        br.applocker_policy_xml([], enforcement, allow_rest)


def test_policy_xml_rejects_tampered_id_and_control_chars(enabled):
    rules = br.applocker_rules(enabled)["rules"]
    rules[0] = dict(rules[0], conditions={"path": "C:\\*"})
    with pytest.raises(ValueError, match="id does not match its content"):
        br.applocker_policy_xml(rules, "AuditOnly", False)
    bad = [entry("x", {"windows": {"registry": [{"name": "X", "publisher": "Evil\x07Corp", "display_name": "X"}]}})]
    with pytest.raises(ValueError, match="single-line string"):
        br.applocker_rules(bad)


# --- macOS ---------------------------------------------------------------------------------------------

def test_mdm_export_real_catalog(enabled):
    got = br.mdm_export(enabled)
    assert sorted(got) == ["kaspersky-macos", "tiktok", "wechat", "wecom"]
    assert got["tiktok"]["bundle_ids"] == ["com.zhiliaoapp.musically"]
    assert got["wechat"] == {"product": got["wechat"]["product"], "vendor": "Tencent",
                             "policies": ["ca-tbs-2023-10-30", "us-tx-dir-prohibited-technologies"],
                             "bundle_ids": ["com.tencent.xinWeChat"],
                             "team_ids": [], "santa_rules": [], "not_exportable": []}
    assert got["wecom"]["bundle_ids"] == ["com.tencent.WeWorkMac"]
    assert got["kaspersky-macos"]["bundle_ids"] == []
    assert got["kaspersky-macos"]["policies"] == KASPERSKY_POLICIES
    assert [n["source"] for n in got["kaspersky-macos"]["not_exportable"]] == ["bundle", "sysext"]


def test_mdm_export_synthetic_santa_rules():
    ents = [entry("m", {"macos": {"bundle": [{"name": "com.example.app", "team_id": "ABCDE12345"},
                                             {"name": "com.example.app", "team_id": "ABCDE12345", "note": "dup"},
                                             {"name": "com.example.solo"},
                                             {"name": "com.example.bad", "team_id": "lower"}],
                                  "sysext": [{"name": "com.example.ext", "team_id": "ZZZZZ99999"}]}}),
            entry("nomac", {"linux": {"dpkg": [{"name": "x"}]}})]
    got = br.mdm_export(ents)
    assert list(got) == ["m"]
    assert got["m"]["bundle_ids"] == ["com.example.app", "com.example.bad", "com.example.solo"]
    assert got["m"]["team_ids"] == ["ABCDE12345", "ZZZZZ99999", "lower"]
    assert got["m"]["santa_rules"] == [
        {"identifier": "ABCDE12345:com.example.app", "rule_type": "SIGNINGID", "policy": "BLOCKLIST"}]
    assert all(r["rule_type"] != "TEAMID" for r in got["m"]["santa_rules"])
