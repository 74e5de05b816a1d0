# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Matcher: precision (never match what is not banned), recall, and robustness against hostile records."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import MAX_TEXT, Matcher, host_status
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "engine")
USERS = [{"name": "alice", "uid": 1000, "home": "/home/alice"}, {"name": "bob", "uid": 1001, "home": "/home/bob"}]


def load_yaml(name):
    with open(os.path.join(DATA, name)) as handle:
        return yaml.safe_load(handle)


CATALOG = Catalog.from_documents([("catalog.yml", load_yaml("catalog.yml"))])
BOOKWORM = load_yaml("debian_bookworm_packages.yml")["packages"]


def entries(*ids):
    return [e for e in CATALOG.entries if not ids or e.id in ids]


def rec(name, **kw):
    data = {"name": name, "scope": "machine"}
    data.update(kw)
    return data


def collected(records, users=None):
    return {"os": "linux", "root": "/", "collector_version": "1", "users": USERS if users is None else users,
            "records": records}


def triples(findings):
    return [(f["id"], f["source"], f["name"]) for f in findings]


def dpkg_inventory(extra):
    return [rec(n, version=v, arch=a, path="/var/lib/dpkg/status") for n, v, a in BOOKWORM] + extra


LOOKALIKE_PACKAGES = [
    "linuxqq", "python3-wechatpy", "golang-github-silenceper-wechat-dev", "wechat-bridge", "clamav", "clamav-daemon",
    "bytedance-feishu-stable", "wemeet", "UltraAV", "ultraav", "kaspersky-like", "kasperskyx", "kesl-gui-extra",
    "kesl2", "xkesl", "KESL", "WeChat", "wechat-uos-lookalike", "electronic-wechat", "wechaty", "wewechat",
    "com.tencent.wechat.devtools", "com.tencent.qq", "com.tencent.meeting", "wechat ", " wechat", "wechat.",
    "tiktok-desktop", "deepseek", "deepseek-coder", "python3-deepseek", "feishu", "lark", "douyin",
]


def test_bookworm_fixture_is_realistic():
    names = [n for n, dummy, dummy in BOOKWORM]
    assert len(names) >= 500
    assert len(set(names)) == len(names)
    for expected in ("adduser", "apt", "bash", "coreutils", "dpkg", "libc6", "openssh-client", "python3", "systemd"):
        assert expected in names


def test_bookworm_alone_matches_nothing():
    findings, warnings = Matcher(entries()).match("linux", collected({"dpkg": dpkg_inventory([])}))
    assert findings == []
    assert warnings == []


def test_realistic_debian_inventory_precision_and_recall():
    extra = [rec(n, version="1.0", arch="amd64") for n in LOOKALIKE_PACKAGES]
    extra += [rec("wechat", version="4.0.1.11", arch="amd64", path="/var/lib/dpkg/status"),
              rec("kesl", version="12.1.0.1297", arch="amd64", path="/var/lib/dpkg/status"),
              rec("kesl-gui", version="12.1.0.1297", arch="i386", path="/var/lib/dpkg/status")]
    records = {"dpkg": dpkg_inventory(extra),
               "flatpak": [rec("com.tencent.WeChat", branch="stable"), rec("com.tencent.wechat"),
                           rec("org.mozilla.firefox"), rec("com.tencent.WeChat.Locale")],
               "snap": [rec("tiktok-desktop"), rec("tiktok"), rec("core22")],
               "desktop": [rec("wechat.desktop", exec="/opt/wechat/wechat %U"),
                           rec("wechat.desktop", exec="/usr/bin/wechat-bridge", scope="user:bob",
                               path="/home/bob/.local/share/applications/wechat.desktop"),
                           rec("wechat-bridge.desktop", exec="wechat")]}
    findings, warnings = Matcher(entries()).match("linux", collected(records))
    assert warnings == []
    assert triples(findings) == [
        ("kaspersky-family", "dpkg", "kesl"),
        ("kaspersky-family", "dpkg", "kesl-gui"),
        ("kesl", "dpkg", "kesl"),
        ("tiktok", "snap", "tiktok-desktop"),
        ("wechat", "desktop", "wechat.desktop"),
        ("wechat", "dpkg", "wechat"),
        ("wechat", "flatpak", "com.tencent.WeChat"),
    ]
    # kesl-gui is i386 here: the kesl entry's kesl-gui signature needs arch amd64.
    assert [f["details"] for f in findings if f["name"] == "kesl-gui"] == [{"arch": "i386"}]


@pytest.mark.parametrize("source", ["dpkg", "rpm", "flatpak", "snap", "service", "desktop", "process", "appimage"])
def test_lookalikes_never_match_test_catalog(source):
    records = {source: [rec(n, arch="amd64", vendor="AO Kaspersky Lab", exec="wechat", exe="/opt/wechat/wechat",
                            path="/opt/x/" + n.strip() if n.strip() else "/opt/x/y")
                        for n in LOOKALIKE_PACKAGES if n not in ("tiktok-desktop",)]}
    findings, warnings = Matcher(entries()).match("linux", collected(records))
    assert triples(findings) == []
    assert warnings == []


def test_real_catalog_precision_on_lookalikes_and_bookworm():
    real = load_catalog()
    matcher = Matcher(real.select())
    lookalikes = [n for n in LOOKALIKE_PACKAGES if n not in ("deepseek", "tiktok-desktop")]
    records = {src: [rec(n, arch="amd64", vendor="Tencent", path="/var/lib/dpkg/status") for n in lookalikes]
               for src in ("dpkg", "rpm", "flatpak", "snap", "service")}
    records["dpkg"] += dpkg_inventory([])
    findings, warnings = matcher.match("linux", collected(records))
    assert triples(findings) == []
    assert warnings == []
    hit, dummy = matcher.match("linux", collected({"dpkg": [rec("wechat", arch="amd64"), rec("kesl", arch="amd64")]}))
    assert sorted(f["name"] for f in hit) == ["kesl", "wechat"]
    assert "wechat" in [f["id"] for f in hit]


def test_regex_is_fullmatch():
    findings, dummy = Matcher(entries("kesl")).match("linux", collected({"dpkg": [
        rec("kesl"), rec("kesl-gui-extra"), rec("kesl-gui", arch="amd64"), rec("akesl"), rec("kesl\n")]}))
    assert triples(findings) == [("kesl", "dpkg", "kesl"), ("kesl", "dpkg", "kesl-gui")]


def test_linux_names_are_case_sensitive():
    records = collected({"dpkg": [rec("WeChat"), rec("WECHAT")], "flatpak": [rec("com.tencent.wechat")]})
    findings, dummy = Matcher(entries("wechat")).match("linux", records)
    assert findings == []


@pytest.mark.parametrize("record, expected", [
    (rec("WeChat", publisher="腾讯科技(深圳)有限公司", display_name="WeChat"), [("wechat", "registry", "WeChat")]),
    (rec("wechat", publisher="腾讯科技(深圳)有限公司", display_name="微信"), [("wechat", "registry", "wechat")]),
    (rec("WECHAT", publisher="腾讯科技(深圳)有限公司"), [("wechat", "registry", "WECHAT")]),
    (rec("WeChat", publisher="Open Source WeChat Fans", display_name="WeChat"), []),
    (rec("WeChat", display_name="WeChat"), []),
    (rec("WeChat", publisher=None), []),
    (rec("WeChat", publisher=["腾讯科技(深圳)有限公司"]), []),
    (rec("WeChatSetup", publisher="腾讯科技(深圳)有限公司"), []),
    (rec("{0F4C5F12-1234-4A3B-9C7D-111122223333}", display_name="Kaspersky Endpoint Security 12.1 for Windows",
         publisher="AO Kaspersky Lab"), [("kaspersky-family", "registry", "{0F4C5F12-1234-4A3B-9C7D-111122223333}")]),
    (rec("{0F4C5F12-1234-4A3B-9C7D-111122223333}", display_name="Kaspersky Endpoint Security 12.1 for Windows",
         publisher="UltraAV"), []),
    (rec("{0F4C5F12-1234-4A3B-9C7D-111122223333}", display_name="kaspersky endpoint security",
         publisher="AO Kaspersky Lab"), []),
    (rec("{0F4C5F12-1234-4A3B-9C7D-111122223333}", publisher="AO Kaspersky Lab"), []),
])
def test_windows_registry(record, expected):
    findings, warnings = Matcher(entries()).match("windows", {"records": {"registry": [record]}})
    assert triples(findings) == expected
    assert warnings == []


def test_windows_process_and_appx_casefold():
    findings, dummy = Matcher(entries()).match("windows", {"records": {
        "process": [rec("wechat.exe", exe="C:\\x\\wechat.exe"), rec("WeChatApp.exe")],
        "appx": [rec("bytedancepte.ltd.tiktok_6yccndn6064se"), rec("BytedancePte.Ltd.TikTokLite_6yccndn6064se")]}})
    assert triples(findings) == [("tiktok", "appx", "bytedancepte.ltd.tiktok_6yccndn6064se"),
                                 ("wechat", "process", "wechat.exe")]


def test_platform_separation():
    records = {"dpkg": [rec("wechat")], "registry": [rec("WeChat", publisher="腾讯科技(深圳)有限公司")],
               "bundle": [rec("com.tencent.xinWeChat", team_id="5A4RE8SF68")]}
    matcher = Matcher(entries())
    assert triples(matcher.match("linux", {"records": records})[0]) == [("wechat", "dpkg", "wechat")]
    assert triples(matcher.match("windows", {"records": records})[0]) == [("wechat", "registry", "WeChat")]
    assert triples(matcher.match("macos", {"records": records})[0]) == [("wechat", "bundle", "com.tencent.xinWeChat")]
    assert matcher.match("aix", {"records": records}) == ([], [])


@pytest.mark.parametrize("record, expected", [
    (rec("kesl", vendor="AO Kaspersky Lab"), [("kesl", "rpm", "kesl")]),
    (rec("kesl", vendor="Kaspersky Lab"), [("kesl", "rpm", "kesl")]),
    (rec("kesl", vendor="kaspersky"), [("kesl", "rpm", "kesl")]),
    (rec("kesl", vendor="Red Hat, Inc."), []),
    (rec("kesl", vendor="AO Kaspersky Lab Fan Club"), []),
    (rec("kesl"), []),
    (rec("kesl", vendor=None), []),
    (rec("kesl", vendor=12), []),
])
def test_rpm_vendor_qualifier(record, expected):
    findings, dummy = Matcher(entries("kesl")).match("linux", collected({"rpm": [record]}))
    assert triples(findings) == expected


def test_packages_alias_matches_dpkg_and_rpm():
    findings, dummy = Matcher(entries("wechat")).match("linux", collected({
        "dpkg": [rec("wechat"), rec("com.tencent.wechat")],
        "rpm": [rec("wechat", vendor="Tencent"), rec("com.tencent.wechat")],
        "flatpak": [rec("wechat")]}))
    assert triples(findings) == [("wechat", "dpkg", "com.tencent.wechat"), ("wechat", "dpkg", "wechat"),
                                 ("wechat", "rpm", "com.tencent.wechat"), ("wechat", "rpm", "wechat")]
    assert set(f["matched_by"] for f in findings) == {"name=wechat", "name=com.tencent.wechat"}


@pytest.mark.parametrize("record, expected", [
    (rec("/opt/wechat", path="/opt/wechat", type="dir"), True),
    (rec("/opt/wechat", path="/opt/wechat/", type="dir"), False),
    (rec("/opt/wechat-beta", path="/opt/wechat-beta"), False),
    (rec("/opt/kaspersky/kesl", path="/opt/kaspersky/kesl"), True),
    (rec("/opt/kaspersky/kesl/bin", path="/opt/kaspersky/kesl/bin"), False),
    (rec("/opt/kaspersky", path="/opt/kaspersky"), False),
    (rec("x", path="/home/alice/Applications/WeChat-4.0.AppImage", scope="user:alice"), True),
    (rec("x", path="/home/alice/Applications/WeChat.AppImage", scope="user:alice"), True),
    (rec("x", path="/home/alice/Applications/WeChat-4.0.AppImage", scope="machine"), False),
    (rec("x", path="/home/alice/Applications/WeChat-4.0.AppImage", scope="user:bob"), False),
    (rec("x", path="/home/alice/Applications/WeChat-4.0.AppImage", scope="user:carol"), False),
    (rec("x", path="/home/alice/Applications/sub/WeChat-4.0.AppImage", scope="user:alice"), False),
    (rec("x", path="/home/alice/Applications/WeChat-4.0.AppImage.sig/x", scope="user:alice"), False),
    (rec("x", path="/home/bob/Applications/WeChat.AppImage", scope="user:bob"), True),
    (rec("x", path="/root/Applications/WeChat.AppImage", scope="user:root"), False),
    (rec("x", path=None), False),
])
def test_file_signatures(record, expected):
    findings, warnings = Matcher(entries()).match("linux", collected({"file": [record]}))
    assert bool(findings) is expected, findings
    assert warnings == []
    if expected:
        assert findings[0]["path"] == record["path"]
        assert findings[0]["source"] == "file"


def test_home_file_needs_users_list():
    record = rec("x", path="/home/alice/Applications/WeChat.AppImage", scope="user:alice")
    matcher = Matcher(entries("wechat"))
    assert matcher.match("linux", {"records": {"file": [record]}}) == ([], [])
    for users in ("alice", 5, {"alice": "/home/alice"}, [{"name": "alice", "home": 5}], [None, "x"],
                  [{"name": "alice", "home": "home/alice"}]):
        assert matcher.match("linux", {"users": users, "records": {"file": [record]}}) == ([], []), users
    users = [None, {"name": "alice", "home": "/home/alice/"}]
    found, dummy = matcher.match("linux", {"users": users, "records": {"file": [record]}})
    assert triples(found) == [("wechat", "file", "x")]


def test_multiple_entries_match_one_record_and_duplicates_collapse():
    kesl = rec("kesl", version="12", arch="amd64", path="/var/lib/dpkg/status")
    findings, warnings = Matcher(entries()).match("linux", collected({"dpkg": [kesl, dict(kesl), dict(kesl)]}))
    assert warnings == []
    assert triples(findings) == [("kaspersky-family", "dpkg", "kesl"), ("kesl", "dpkg", "kesl")]
    assert len(set((f["id"], f["key"]) for f in findings)) == 2
    # Same name, other scope or path: separate findings with distinct keys.
    findings, dummy = Matcher(entries("kesl")).match("linux", collected({"dpkg": [
        kesl, rec("kesl", scope="user:alice"), rec("kesl", path="/srv/chroot/var/lib/dpkg/status")]}))
    assert [f["key"] for f in findings] == ["dpkg|machine|kesl|/srv/chroot/var/lib/dpkg/status",
                                            "dpkg|machine|kesl|/var/lib/dpkg/status", "dpkg|user:alice|kesl|"]


def test_the_planner_gets_the_record_each_finding_was_made_of():
    first = rec("kesl", version="12", arch="amd64", path="/var/lib/dpkg/status")
    second = rec("kesl", version="12", arch="i386", path="/var/lib/dpkg/status")   # the same key
    other = rec("wechat", version="4", arch="amd64", path="/var/lib/dpkg/status")
    host = collected({"dpkg": [first, second, other, rec("kesl-x"), {"name": 3}]})
    matcher = Matcher(entries())
    findings, warnings, records = matcher.match_records("linux", host)
    assert (findings, warnings) == matcher.match("linux", host)
    assert sorted(records) == sorted(set(f["key"] for f in findings))
    assert records["dpkg|machine|kesl|/var/lib/dpkg/status"] is first
    assert records["dpkg|machine|wechat|/var/lib/dpkg/status"] is other
    assert matcher.match_records("linux", {"records": "x"})[2] == {}


def test_one_record_matched_by_two_signatures_of_one_entry_is_one_finding():
    findings, dummy = Matcher(entries("kesl")).match("linux", collected({"dpkg": [rec("kesl-gui", arch="amd64")]}))
    assert triples(findings) == [("kesl", "dpkg", "kesl-gui")]
    assert findings[0]["matched_by"] == "arch=amd64, name=kesl-gui"


@pytest.mark.parametrize("selected, expected", [
    (None, {"kesl": ["pol-us", "pol-ca"], "kaspersky-family": ["pol-us"], "wechat": ["pol-ca"]}),
    (["all"], {"kesl": ["pol-us", "pol-ca"], "kaspersky-family": ["pol-us"], "wechat": ["pol-ca"]}),
    ("all", {"kesl": ["pol-us", "pol-ca"], "kaspersky-family": ["pol-us"], "wechat": ["pol-ca"]}),
    (["pol-ca"], {"kesl": ["pol-ca"], "wechat": ["pol-ca"]}),
    ("pol-ca", {"kesl": ["pol-ca"], "wechat": ["pol-ca"]}),
    (["pol-us"], {"kesl": ["pol-us"], "kaspersky-family": ["pol-us"]}),
    (["pol-eu"], {}),
])
def test_policies_restricted_to_selection(selected, expected):
    enabled = CATALOG.select(selected if selected is not None else ["all"])
    findings, dummy = Matcher(enabled, selected).match("linux", collected({"dpkg": [rec("kesl"), rec("wechat")]}))
    assert dict((f["id"], f["policies"]) for f in findings) == expected


def test_finding_shape():
    record = rec("wechat", version="4.0.1.11", arch="amd64", path="/var/lib/dpkg/status", status="installed",
                 pid=4, comm=["x"], enabled=True, extra="ignored")
    findings, warnings = Matcher(entries("wechat")).match("linux", collected({"dpkg": [record]}))
    assert warnings == []
    assert findings == [{
        "id": "wechat", "product": "WeChat", "vendor": "Tencent", "source": "dpkg", "name": "wechat",
        "version": "4.0.1.11", "scope": "machine", "path": "/var/lib/dpkg/status", "policies": ["pol-ca"],
        "exempt": False, "key": "dpkg|machine|wechat|/var/lib/dpkg/status", "matched_by": "name=wechat",
        "required_by": ["pol-ca"], "applied_by_extension": [],
        "details": {"arch": "amd64", "pid": 4, "enabled": True},
    }]


def test_findings_are_sorted():
    records = {"snap": [rec("tiktok-desktop")], "flatpak": [rec("com.tencent.WeChat", scope="user:bob"),
                                                            rec("com.tencent.WeChat")],
               "dpkg": [rec("wechat", path="/b"), rec("wechat", path="/a"), rec("wechat"), rec("kesl")]}
    findings, dummy = Matcher(entries()).match("linux", collected(records))
    assert [(f["id"], f["source"], f["scope"], f["name"], f["path"]) for f in findings] == [
        ("kaspersky-family", "dpkg", "machine", "kesl", None),
        ("kesl", "dpkg", "machine", "kesl", None),
        ("tiktok", "snap", "machine", "tiktok-desktop", None),
        ("wechat", "dpkg", "machine", "wechat", None),
        ("wechat", "dpkg", "machine", "wechat", "/a"),
        ("wechat", "dpkg", "machine", "wechat", "/b"),
        ("wechat", "flatpak", "machine", "com.tencent.WeChat", None),
        ("wechat", "flatpak", "user:bob", "com.tencent.WeChat", None),
    ]


# ------------------------------------------------------------------ hostile records

SURROGATE = b"wechat\xff".decode("utf-8", "surrogateescape")

# (case id, record, well formed?) -- every record's name would be banned if it were well formed.
HOSTILE_RECORDS = [
    ("none", None, False),
    ("str", "wechat", False),
    ("list", ["wechat", "machine"], False),
    ("int", 5, False),
    ("name-missing", {"scope": "machine"}, False),
    ("name-int", {"name": 1, "scope": "machine"}, False),
    ("name-list", {"name": ["wechat"], "scope": "machine"}, False),
    ("name-bytes", {"name": b"wechat", "scope": "machine"}, False),
    ("name-dict", {"name": {"wechat": 1}, "scope": "machine"}, False),
    ("name-empty", {"name": "", "scope": "machine"}, False),
    ("name-huge", {"name": "wechat" * 100000, "scope": "machine"}, False),
    ("name-newline", {"name": "wechat\n", "scope": "machine"}, False),
    ("name-embedded-newline", {"name": "wechat\nkesl", "scope": "machine"}, False),
    ("name-nul", {"name": "wechat\x00", "scope": "machine"}, False),
    ("name-escape", {"name": "\x1b[2Jwechat", "scope": "machine"}, False),
    ("scope-missing", {"name": "wechat"}, False),
    ("scope-none", {"name": "wechat", "scope": None}, False),
    ("scope-other", {"name": "wechat", "scope": "global"}, False),
    ("scope-user-empty", {"name": "wechat", "scope": "user:"}, False),
    ("scope-user-control", {"name": "wechat", "scope": "user:bob\x1b[31m"}, False),
    ("scope-user-newline", {"name": "wechat", "scope": "user:bob\n"}, False),
    ("scope-machine-newline", {"name": "wechat", "scope": "machine\n"}, False),
    ("scope-user-del", {"name": "wechat", "scope": "user:bob\x7f"}, False),
    ("scope-user-huge", {"name": "wechat", "scope": "user:" + "b" * 300}, False),
    ("scope-int", {"name": "wechat", "scope": 0}, False),
    ("path-int", {"name": "wechat", "scope": "machine", "path": 5}, False),
    ("path-list", {"name": "wechat", "scope": "machine", "path": ["/x"]}, False),
    ("path-huge", {"name": "wechat", "scope": "machine", "path": "/" + "x" * (MAX_TEXT + 1)}, False),
    ("path-newline", {"name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status\n"}, False),
    ("version-int", {"name": "wechat", "scope": "machine", "version": 4}, False),
    ("version-dict", {"name": "wechat", "scope": "machine", "version": {}}, False),
    ("ok-machine", {"name": "wechat", "scope": "machine"}, True),
    ("ok-user", {"name": "wechat", "scope": "user:alice"}, True),
    ("ok-user-unicode", {"name": "wechat", "scope": "user:ユーザー"}, True),
    ("ok-max-path", {"name": "wechat", "scope": "machine", "path": "/" + "x" * (MAX_TEXT - 1)}, True),
    ("ok-version-none", {"name": "wechat", "scope": "machine", "version": None, "path": None}, True),
    ("ok-extra-garbage", {"name": "wechat", "scope": "machine", "arch": ["amd64"], "vendor": {"a": 1},
                          1: 2, None: "x"}, True),
]


@pytest.mark.parametrize("record, well_formed", [c[1:] for c in HOSTILE_RECORDS], ids=[c[0] for c in HOSTILE_RECORDS])
def test_hostile_record(record, well_formed):
    findings, warnings = Matcher(entries("wechat")).match("linux", collected({"dpkg": [record, copy.deepcopy(record)]}))
    if well_formed:
        assert triples(findings) == [("wechat", "dpkg", "wechat")]
        assert warnings == []
    else:
        assert findings == []
        assert warnings == ["skipped 2 malformed dpkg record(s) from the host"]


def test_surrogate_escaped_names_do_not_crash_or_match_exact_names():
    records = {"dpkg": [rec(SURROGATE), rec("wechat", version=SURROGATE, path="/x" + SURROGATE)],
               "registry": [rec(SURROGATE)]}
    findings, warnings = Matcher(entries()).match("linux", collected(records))
    assert warnings == []
    assert triples(findings) == [("wechat", "dpkg", "wechat")]
    assert findings[0]["version"] == SURROGATE
    assert findings[0]["key"] == "dpkg|machine|wechat|/x" + SURROGATE
    assert Matcher(entries()).match("windows", {"records": records}) == ([], [])


def test_long_values_are_truncated_but_keys_stay_unique():
    long_a = "/" + "a" * (MAX_TEXT - 2) + "1"
    long_b = "/" + "a" * (MAX_TEXT - 2) + "2"
    findings, dummy = Matcher(entries("wechat")).match("linux", collected({"dpkg": [
        rec("wechat", path=long_a, version="v" * 10000), rec("wechat", path=long_b)]}))
    assert len(findings) == 2
    assert len(set(f["key"] for f in findings)) == 2
    assert findings[0]["version"] == "v" * MAX_TEXT


@pytest.mark.parametrize("collected_value, warning", [
    (None, "collector returned NoneType instead of a mapping; nothing could be matched"),
    ([], "collector returned list instead of a mapping; nothing could be matched"),
    ("records", "collector returned str instead of a mapping; nothing could be matched"),
    ({}, "collector returned no 'records' mapping; nothing could be matched"),
    ({"records": None}, "collector returned no 'records' mapping; nothing could be matched"),
    ({"records": [{"name": "wechat"}]}, "collector returned no 'records' mapping; nothing could be matched"),
    ({"records": "dpkg"}, "collector returned no 'records' mapping; nothing could be matched"),
])
def test_unusable_collector_output(collected_value, warning):
    assert Matcher(entries()).match("linux", collected_value) == ([], [warning])


def test_malformed_sources_are_skipped_with_warnings():
    records = {
        "dpkg": {"name": "wechat", "scope": "machine"},
        "rpm": "wechat",
        "snap": None,
        "nonsense": 5,
        "pacman": [rec("wechat")],
        "registry": [rec("WeChat", publisher="腾讯科技(深圳)有限公司")],
        3: [rec("wechat")],
        None: [rec("wechat")],
        "flatpak": [rec("com.tencent.WeChat"), None, rec("com.tencent.WeChat", scope="user:\x00")],
    }
    findings, warnings = Matcher(entries()).match("linux", collected(records))
    assert triples(findings) == [("wechat", "flatpak", "com.tencent.WeChat")]
    assert warnings == [
        "collector source 'dpkg' returned dict instead of a list; skipped",
        "skipped 2 malformed flatpak record(s) from the host",
        "collector source 'nonsense' returned int instead of a list; skipped",
        "collector source 'rpm' returned str instead of a list; skipped",
        "collector source 'snap' returned NoneType instead of a list; skipped",
    ]


def test_no_entries_no_findings():
    assert Matcher([]).match("linux", collected({"dpkg": [rec("wechat")]})) == ([], [])


@pytest.mark.parametrize("findings, expected", [
    ([], "compliant"),
    ([{"exempt": True}], "compliant"),
    ([{"exempt": True}, {"exempt": False}], "non_compliant"),
    ([{"exempt": False}], "non_compliant"),
    ([{}], "non_compliant"),
])
def test_host_status(findings, expected):
    assert host_status(findings) == expected
