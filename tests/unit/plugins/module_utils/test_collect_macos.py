# -*- coding: utf-8 -*-
"""The macOS collector on a simulated macOS volume with real XML and binary plists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import plistlib

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import macos as C
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS
from ansible_collections.govsec.banned_software.tests.unit.helpers import macos_tree as M

WECHAT = "com.tencent.xinWeChat"
KASPERSKY = r"com\.kaspersky\.(?!klnagent)[A-Za-z0-9][A-Za-z0-9.-]*"
KAV_UUID = "9D1A3C4E-1B2C-4D5E-8F90-A1B2C3D4E5F6"
EVERYTHING = {"regex": [".*"]}


def no_commands(argv, **kwargs):
    raise AssertionError("no command may run: %r" % (argv,))


@pytest.fixture(scope="module")
def mac(tmp_path_factory):
    return M.build_macos_tree(tmp_path_factory.mktemp("m") / "mac", hostile=True)


@pytest.fixture
def plain(tmp_path):
    return M.build_macos_tree(tmp_path / "mac")


def collect(root, query, **kwargs):
    return C.collect_macos(str(root), query, kwargs.pop("run_command", no_commands), **kwargs)


# -- users -------------------------------------------------------------------------------------
def test_users_from_the_users_folder_and_the_local_directory_node(plain):
    res = collect(plain, {})
    # binary record for alice, XML for bob; Shared, Guest and .localized are not users
    assert res["users"] == [{"name": "root", "uid": 0, "gid": 0, "home": "/var/root"},
                            {"name": "alice", "uid": 501, "gid": 20, "home": "/Users/alice"},
                            {"name": "bob", "uid": 502, "gid": 20, "home": "/Users/bob"}]
    assert (res["os"], res["os_version"], res["records"], res["warnings"]) == ("macos", "14.5", {}, [])


def test_user_names_come_from_the_record_whose_home_it_is(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=("alice",), extra={
        M.DSLOCAL + "/carol.plist": {"name": ["carol"], "uid": ["503"], "gid": ["20"], "home": ["/Users/Carol Smith"]},
        "Users/Carol Smith/Library/Preferences": None,
        "Users/dave/Library": None,   # no record: name from the folder, ids unknown in an image
    })
    res = collect(root, {})
    assert res["users"] == [{"name": "root", "uid": 0, "gid": 0, "home": "/var/root"},
                            {"name": "carol", "uid": 503, "gid": 20, "home": "/Users/Carol Smith"},
                            {"name": "alice", "uid": 501, "gid": 20, "home": "/Users/alice"},
                            {"name": "dave", "home": "/Users/dave"}]


def test_users_limit_and_unknown_user(plain):
    res = collect(plain, {"file": {"paths": ["~/Library/Preferences"]}}, users=["bob", "zoe"])
    assert res["users"] == [{"name": "bob", "uid": 502, "gid": 20, "home": "/Users/bob"}]
    assert [r["path"] for r in res["records"]["file"]] == ["/Users/bob/Library/Preferences"]
    assert res["warnings"] == ["user zoe was requested but has no scannable home under root"]


def test_live_system_without_a_readable_node_uses_pwd(tmp_path, monkeypatch):
    root = M.build_macos_tree(tmp_path / "mac", users=("alice",))
    os.rename(str(root / M.DSLOCAL), str(tmp_path / "elsewhere"))
    monkeypatch.setattr(C, "_pwd_by_home", lambda: {"/Users/alice": {"name": "alice", "uid": 777, "gid": 20}})
    fs = RootFS(str(root))
    assert [u.get("uid") for u in C.list_users(fs)] == [0, None]   # an image: ids unknown
    fs.live = True
    users = C.list_users(fs)
    assert [(u["name"], u.get("uid"), u.get("gid"), u["vhome"]) for u in users] == [
        ("root", 0, 0, "/private/var/root"), ("alice", 777, 20, "/Users/alice")]
    assert fs.warnings == []


def test_a_home_linked_out_of_the_image_stays_inside(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=("alice",), extra={
        "Users/mallory": ("link", "/../../../../"),
    })
    res = collect(root, {"file": {"paths": ["~/Library"]}})
    assert [u["name"] for u in res["users"]] == ["root", "alice"]
    assert res["warnings"] == ["home of mallory (/Users/mallory) resolves to the root directory: not scanned as a home"]


# -- bundles -----------------------------------------------------------------------------------
def test_bundles_pass_the_prefilter_by_identifier(mac):
    res = collect(mac, {"bundle": {"names": [WECHAT, "com.tencent.WeWorkMac"], "regex": [KASPERSKY]}},
                  sources=["bundle"])
    # in directory order (sorted names; the sub-folder when its name comes)
    assert res["records"]["bundle"] == [
        {"name": "com.kaspersky.kav", "scope": "machine", "path": "/Applications/Kaspersky Anti-Virus For Mac.app",
         "version": "16.0.0", "display_name": "Kaspersky Anti-Virus"},
        {"name": "com.kaspersky.kes", "scope": "machine", "path": "/Applications/Kaspersky Lab/Kaspersky Security.app",
         "version": "12.0.0", "display_name": "Kaspersky Security"},
        {"name": WECHAT, "scope": "machine", "path": "/Applications/WeChat.app", "version": "4.0.1",
         "display_name": "WeChat"},
        {"name": "com.tencent.WeWorkMac", "scope": "machine", "path": "/Applications/企业微信.app",
         "version": "4.1.20", "display_name": "企业微信"},
        {"name": WECHAT, "scope": "machine", "path": "/Applications/微信.app", "version": "3.8.10",
         "display_name": "WeChat"},
        {"name": WECHAT, "scope": "machine", "path": "/Applications/\\xff\\xfeWeChat.app", "version": "4.0.1"},
        {"name": WECHAT, "scope": "user:alice", "path": "/Users/alice/Applications/WeChat.app", "version": "4.0.1",
         "display_name": "WeChat"},
    ]
    assert res["counts"] == {"bundle": 17}
    assert res["available"] == {"applications": True}
    # the plist outside root (com.kaspersky.escape) was never read
    assert "com.kaspersky.escape" not in str(res)


def test_hostile_bundles_are_warnings(mac):
    res = collect(mac, {"bundle": EVERYTHING}, sources=["bundle"])
    assert res["warnings"] == [
        "/Applications/Broken.app/Contents/Info.plist is not a valid property list (ExpatError) (bundle skipped)",
        "/Applications/Escape.app/Contents/Info.plist is not a readable regular file inside root: not read "
        "(bundle skipped)",
        "/Applications/Huge.app/Contents/Info.plist is larger than 4194304 bytes: not read (bundle skipped)",
        "/Applications/Laughs.app/Contents/Info.plist declares XML entities: not read (bundle skipped)",
        "cannot read /Applications/Loop.app: symbolic link loop",
        "/Applications/Passwd.app/Contents/Info.plist is not a readable regular file inside root: not read "
        "(bundle skipped)",
    ]
    names = sorted(r["name"] for r in res["records"]["bundle"])
    assert names == sorted([WECHAT] * 4 + ["com.apple.Terminal", "com.kaspersky.kav", "com.kaspersky.kes",
                                           "com.lemon.lvoverseas", "com.tencent.WeWorkMac", "com.tencent.meeting",
                                           "com.tencent.qq", "uk.co.markallan.clamxav"])


def test_bundle_odd_shapes(tmp_path):
    info = {"CFBundleIdentifier": "com.example.ios", "CFBundleVersion": "7", "CFBundleDisplayName": "iOS App"}
    root = M.build_macos_tree(tmp_path / "mac", users=(), extra={
        # an iOS app on Apple silicon: the wrapper points at the iOS bundle (flat layout)
        "Applications/Game.app/Wrapper/Game.app/Info.plist": ("binary", info),
        "Applications/Game.app/WrappedBundle": ("link", "Wrapper/Game.app"),
        # a link to an application elsewhere in the volume
        "Applications/Linked.app": ("link", "/opt/Linked.app"),
        "opt/Linked.app/Contents/Info.plist": {"CFBundleIdentifier": "com.example.linked"},
        # a folder that is a link is not entered; folders deeper than one level are not entered
        "Applications/LinkedFolder": ("link", "/opt/folder"),
        "opt/folder/Hidden.app/Contents/Info.plist": {"CFBundleIdentifier": "com.example.hidden"},
        "Applications/A/B/Deep.app/Contents/Info.plist": {"CFBundleIdentifier": "com.example.deep"},
        # no Info.plist, an Info.plist that is no dictionary, no identifier, a file named .app
        "Applications/Empty.app/Contents/MacOS/x": b"",
        "Applications/List.app/Contents/Info.plist": ["not", "a", "dict"],
        "Applications/NoId.app/Contents/Info.plist": {"CFBundleName": "x"},
        "Applications/File.app": b"zip",
    })
    res = collect(root, {"bundle": {"regex": [r"com\.example\..*"]}}, sources=["bundle"])
    assert res["records"]["bundle"] == [
        {"name": "com.example.ios", "scope": "machine", "path": "/Applications/Game.app", "version": "7",
         "display_name": "iOS App", "wrapped": True},
        {"name": "com.example.linked", "scope": "machine", "path": "/Applications/Linked.app", "link": True},
    ]
    assert res["warnings"] == [
        "/Applications/Empty.app has no Contents/Info.plist: bundle skipped",
        "/Applications/List.app: Info.plist is not a dictionary: bundle skipped",
        "/Applications/NoId.app has no CFBundleIdentifier: bundle skipped",
    ]


def test_team_id_from_codesign_only_for_matching_bundles_of_a_live_system(plain):
    calls = []

    def run_command(argv, **kwargs):
        calls.append((argv, kwargs))
        if argv[-1] == str(plain / "Applications/WeChat.app"):
            return 0, "", ("Executable=%s/Contents/MacOS/WeChat\nIdentifier=com.tencent.xinWeChat\n"
                           "Authority=Developer ID Application: Tencent (5A4RE8SF68)\nTeamIdentifier=5A4RE8SF68\n"
                           % argv[-1])
        if argv[-1].endswith("微信.app"):
            return 0, "", "Executable=x\nTeamIdentifier=not set\n"
        return 1, "", "%s: code object is not signed at all\n" % argv[-1]

    fs = RootFS(str(plain))
    q = compile_query({"bundle": {"names": [WECHAT]}}).sources["bundle"]
    ok, recs, n = C.list_bundles(fs, q, C.list_users(fs), run_command, True)
    assert (ok, n) == (True, 11)
    assert [(r["path"], r.get("team_id")) for r in recs] == [
        ("/Applications/WeChat.app", "5A4RE8SF68"), ("/Applications/微信.app", None),
        ("/Users/alice/Applications/WeChat.app", None)]
    assert [c[0] for c in calls] == [
        ["/usr/bin/codesign", "-dv", "--verbose=2", str(plain / "Applications/WeChat.app")],
        ["/usr/bin/codesign", "-dv", "--verbose=2", str(plain / "Applications/微信.app")],
        ["/usr/bin/codesign", "-dv", "--verbose=2", str(plain / "Users/alice/Applications/WeChat.app")]]
    assert calls[0][1] == {"environ_update": C.ENV, "expand_user_and_vars": False}
    assert fs.warnings == ["codesign failed for /Users/alice/Applications/WeChat.app (rc 1): %s: code object is "
                           "not signed at all (team_id unknown)" % (plain / "Users/alice/Applications/WeChat.app")]


# -- receipts ----------------------------------------------------------------------------------
def test_receipts(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=(), extra={
        "Library/Receipts/Kaspersky Anti-Virus.pkg/Contents/Info.plist":
            {"CFBundleIdentifier": "com.kaspersky.kav.pkg", "CFBundleShortVersionString": "8.0"},
        "Library/Receipts/Kaspersky Network Agent.pkg/Contents/Archive.bom": b"BOMStore",
        "Library/Receipts/InstallHistory.plist": [{"displayName": "x"}],
        "Library/Receipts/com.kaspersky.old.plist": {"PackageIdentifier": "com.kaspersky.old", "PackageVersion": "1"},
        # a receipt named differently from its package id; a malformed one keeps its file name
        "private/var/db/receipts/renamed.plist": ("binary", {"PackageIdentifier": "com.kaspersky.kav.renamed"}),
        "private/var/db/receipts/com.kaspersky.kav.broken.plist": b"garbage",
    })
    res = collect(root, {"pkg-receipt": {"regex": [KASPERSKY, "Kaspersky .*"]}})
    assert res["records"]["pkg-receipt"] == [
        {"name": "com.kaspersky.kav.application", "scope": "machine",
         "path": "/var/db/receipts/com.kaspersky.kav.application.plist", "version": "16.0.0", "install_prefix": "/",
         "package_file": "com.kaspersky.kav.application.pkg"},
        {"name": "com.kaspersky.kav.broken", "scope": "machine", "path": "/var/db/receipts/com.kaspersky.kav.broken.plist"},
        {"name": "com.kaspersky.kav.kext", "scope": "machine", "path": "/var/db/receipts/com.kaspersky.kav.kext.plist",
         "version": "16.0.0", "install_prefix": "/", "package_file": "com.kaspersky.kav.kext.pkg"},
        {"name": "com.kaspersky.kav.uninstaller", "scope": "machine",
         "path": "/var/db/receipts/com.kaspersky.kav.uninstaller.bom"},
        {"name": "com.kaspersky.kav.renamed", "scope": "machine", "path": "/var/db/receipts/renamed.plist"},
        {"name": "com.kaspersky.kav.pkg", "scope": "machine", "path": "/Library/Receipts/Kaspersky Anti-Virus.pkg",
         "version": "8.0"},
        {"name": "Kaspersky Network Agent", "scope": "machine", "path": "/Library/Receipts/Kaspersky Network Agent.pkg"},
        {"name": "com.kaspersky.old", "scope": "machine", "path": "/Library/Receipts/com.kaspersky.old.plist",
         "version": "1"},
    ]
    assert res["counts"] == {"pkg-receipt": 10}
    assert res["warnings"] == ["/var/db/receipts/com.kaspersky.kav.broken.plist is not a valid property list "
                               "(InvalidFileException) (package receipt)"]


# -- launchd -----------------------------------------------------------------------------------
def test_launchd_jobs(mac):
    labels = ["com.kaspersky.kav", "com.kaspersky.kav.gui", "com.kaspersky.avscan", "com.tencent.meeting.daemon"]
    res = collect(mac, {"launchd": {"names": labels}}, sources=["launchd"])
    assert res["records"]["launchd"] == [
        {"name": "com.kaspersky.avscan", "scope": "machine", "path": "/Library/LaunchDaemons/com.kaspersky.avscan.plist",
         "domain": "system", "label_missing": True},
        {"name": "com.kaspersky.kav", "scope": "machine", "path": "/Library/LaunchDaemons/com.kaspersky.kav.plist",
         "domain": "system", "program": "/Library/Application Support/Kaspersky Lab/KAV/Binaries/kav"},
        {"name": "com.tencent.meeting.daemon", "scope": "machine",
         "path": "/Library/LaunchAgents/com.tencent.meeting.daemon.plist", "domain": "gui",
         "program": "/Applications/Tencent Meeting.app/x"},
        {"name": "com.kaspersky.kav.gui", "scope": "user:alice",
         "path": "/Users/alice/Library/LaunchAgents/com.kaspersky.kav.gui.plist", "domain": "gui",
         "program": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac"},
        {"name": "com.tencent.meeting.daemon", "scope": "user:alice",
         "path": "/Users/alice/Library/LaunchAgents/com.tencent.meeting.daemon.plist", "domain": "gui",
         "program": "/Applications/Tencent Meeting.app/Contents/MacOS/TencentMeetingDaemon"},
    ]
    assert res["counts"] == {"launchd": 6}
    assert res["warnings"] == ["/Library/LaunchDaemons/com.kaspersky.avscan.plist is not a valid property list "
                               "(InvalidFileException) (launchd job)"]


def test_launchd_label_wins_over_the_file_name(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=(), extra={
        "Library/LaunchDaemons/innocent.plist": ("binary", {"Label": "com.kaspersky.kav", "Program": "/x",
                                                            "Disabled": True}),
        "Library/LaunchDaemons/com.kaspersky.sysextctrld.plist": {"Label": "org.example.other"},
    })
    res = collect(root, {"launchd": {"names": ["com.kaspersky.kav", "com.kaspersky.sysextctrld"]}})
    assert [(r["name"], r["path"], r.get("disabled")) for r in res["records"]["launchd"]] == [
        ("com.kaspersky.kav", "/Library/LaunchDaemons/com.kaspersky.kav.plist", None),
        ("com.kaspersky.kav", "/Library/LaunchDaemons/innocent.plist", True)]


# -- casks -------------------------------------------------------------------------------------
def test_casks_in_both_prefixes(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=(), extra={
        "opt/homebrew/Caskroom/wechat/4.0.10": None, "opt/homebrew/Caskroom/wechat/4.0.9": None,
        "opt/homebrew/Caskroom/wechat/notes.txt": b"",
    })
    res = collect(root, {"cask": {"names": ["wechat", "wechatwork", "tiktok"]}})
    uid = os.stat(str(root / "opt")).st_uid
    assert res["records"]["cask"] == [
        {"name": "wechat", "scope": "machine", "path": "/opt/homebrew/Caskroom/wechat", "prefix": "/opt/homebrew",
         "version": "4.0.10", "versions": ["4.0.1", "4.0.9", "4.0.10"], "uid": uid},
        {"name": "wechatwork", "scope": "machine", "path": "/usr/local/Caskroom/wechatwork", "prefix": "/usr/local",
         "version": "4.1.20", "versions": ["4.1.20"], "uid": uid},
    ]
    assert (res["counts"], res["available"]) == ({"cask": 4}, {"homebrew": True})


def test_no_homebrew(tmp_path):
    bare = tmp_path / "bare"
    (bare / "System/Library/CoreServices").mkdir(parents=True)
    res = collect(bare, {"cask": {"names": ["wechat"]}})
    assert (res["records"], res["counts"], res["available"], res["users"]) == (
        {"cask": []}, {"cask": 0}, {"homebrew": False}, [])


# -- system extensions ---------------------------------------------------------------------------
def test_system_extensions_from_the_database_and_kexts(mac):
    res = collect(mac, {"sysext": {"regex": [KASPERSKY]}}, sources=["sysext"])
    assert res["records"]["sysext"] == [
        {"name": "com.kaspersky.kav.netfilter", "scope": "machine",
         "path": "/Library/SystemExtensions/%s/com.kaspersky.kav.netfilter.systemextension" % KAV_UUID,
         "kind": "system_extension", "team_id": "2Y8XE5CQ94", "state": "activated_enabled",
         "origin_path": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/Library/SystemExtensions/"
                        "com.kaspersky.kav.netfilter.systemextension", "version": "16.0.0"},
        {"name": "com.kaspersky.kext.klif", "scope": "machine", "path": "/Library/Extensions/klif.kext",
         "version": "16.0.0", "display_name": "klif", "kind": "kext"},
    ]
    assert (res["counts"], res["available"], res["warnings"]) == ({"sysext": 3}, {"sysext_db": True}, [])


def test_system_extensions_without_a_database(tmp_path):
    root = M.build_macos_tree(tmp_path / "mac", users=())
    (root / "Library/SystemExtensions/db.plist").unlink()
    res = collect(root, {"sysext": {"regex": [KASPERSKY]}})
    assert res["records"]["sysext"] == [
        {"name": "com.kaspersky.kav.netfilter", "scope": "machine",
         "path": "/Library/SystemExtensions/%s/com.kaspersky.kav.netfilter.systemextension" % KAV_UUID,
         "version": "16.0.0", "display_name": "netfilter", "kind": "system_extension"},
        {"name": "com.kaspersky.kext.klif", "scope": "machine", "path": "/Library/Extensions/klif.kext",
         "version": "16.0.0", "display_name": "klif", "kind": "kext"},
    ]
    assert (res["available"], res["warnings"]) == ({"sysext_db": False}, [])


def test_staged_bundle_urls_outside_the_extensions_folder_are_not_paths(tmp_path):
    exts = [{"identifier": "com.kaspersky.a", "stagedBundleURL": {"relative": "file:///etc/../x.systemextension/"}},
            {"identifier": "com.kaspersky.b", "stagedBundleURL": "file:///Library/SystemExtensions/U/b%20c.systemextension/"},
            {"identifier": "com.kaspersky.c", "stagedBundleURL": {"relative": "file:///Library/SystemExtensions/../../etc"}},
            {"identifier": 7}, "junk"]
    root = M.build_macos_tree(tmp_path / "mac", users=(), extra={
        "Library/SystemExtensions/db.plist": ("binary", {"extensions": exts})})
    res = collect(root, {"sysext": {"regex": [r"com\.kaspersky\.[abc]"]}})
    assert [(r["name"], r["path"]) for r in res["records"]["sysext"]] == [
        ("com.kaspersky.a", "/Library/SystemExtensions/db.plist"),
        ("com.kaspersky.b", "/Library/SystemExtensions/U/b c.systemextension"),
        ("com.kaspersky.c", "/Library/SystemExtensions/db.plist")]
    assert res["counts"] == {"sysext": 4}


# -- processes ---------------------------------------------------------------------------------
PS = ("    1     0 /sbin/launchd\n"
      "  400   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n"
      "  401   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n"
      "  402   502 /Applications/微信.app/Contents/MacOS/WeChat\n"
      "  500   501 /Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac\n"
      "  600     0 kernel_task\n"
      "  garbage line\n")


def test_processes_of_a_live_system(plain):
    calls = []

    def run_command(argv, **kwargs):
        calls.append((argv, kwargs))
        return 0, PS, ""

    fs = RootFS(str(plain))
    q = compile_query({"process": {"names": ["WeChat", "Kaspersky Anti-Virus For Mac", "kernel_task"]}})
    ok, recs, n = C.list_processes(fs, q, run_command, C.list_users(fs))
    assert (ok, n) == (True, 6)
    assert recs == [
        {"name": "WeChat", "scope": "machine", "pid": 400, "pids": [400, 401], "uid": 501, "user": "alice",
         "comm": "/Applications/WeChat.app/Contents/MacOS/WeChat",
         "exe": "/Applications/WeChat.app/Contents/MacOS/WeChat", "path": "/Applications/WeChat.app/Contents/MacOS/WeChat"},
        {"name": "WeChat", "scope": "machine", "pid": 402, "pids": [402], "uid": 502, "user": "bob",
         "comm": "/Applications/微信.app/Contents/MacOS/WeChat",
         "exe": "/Applications/微信.app/Contents/MacOS/WeChat", "path": "/Applications/微信.app/Contents/MacOS/WeChat"},
        {"name": "Kaspersky Anti-Virus For Mac", "scope": "machine", "pid": 500, "pids": [500], "uid": 501,
         "user": "alice",
         "comm": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac",
         "exe": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac",
         "path": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac"},
        {"name": "kernel_task", "scope": "machine", "pid": 600, "pids": [600], "uid": 0, "user": "root",
         "comm": "kernel_task"},
    ]
    assert calls == [(["/bin/ps", "-axo", "pid=,uid=,comm="], {"environ_update": C.ENV, "expand_user_and_vars": False})]


def test_ps_failure_is_a_warning(plain):
    fs = RootFS(str(plain))
    q = compile_query({"process": {"names": ["WeChat"]}})
    assert C.list_processes(fs, q, lambda argv, **kw: (1, "", "ps: operation not permitted\n"), []) == (False, [], 0)
    assert fs.warnings == ["ps failed (rc 1): ps: operation not permitted (processes were not examined)"]


def test_live_collection_lists_processes_and_tools(plain, monkeypatch, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("launchctl", "pkgutil", "brew"):
        (bindir / tool).write_bytes(b"")
        os.chmod(str(bindir / tool), 0o755)
    (bindir / "profiles").write_bytes(b"")   # not executable
    monkeypatch.setattr(C, "TOOL_DIRS", (str(bindir),))
    monkeypatch.setattr(C, "BREW_DIRS", (str(tmp_path / "none"), str(bindir)))
    res = C.collect_macos(str(plain), {"process": {"names": ["WeChat"]}}, lambda argv, **kw: (0, PS, ""), live=True)
    assert [(r["name"], r["pids"]) for r in res["records"]["process"]] == [("WeChat", [400, 401]), ("WeChat", [402])]
    assert res["tools"] == {"launchctl": str(bindir / "launchctl"), "pkgutil": str(bindir / "pkgutil"),
                            "brew": str(bindir / "brew")}
    assert (res["available"], res["reboot_required"], res["warnings"]) == ({"ps": True}, False, [])


# -- files, sources, failures ------------------------------------------------------------------
def test_file_data_and_leftover_paths(plain):
    res = collect(plain, {
        "file": {"paths": ["/Applications/WeChat.app", "/Applications/微信.app", "/Applications/TikTok.app"]},
        "data": {"paths": ["~/Library/Containers/com.tencent.xinWeChat",
                           "~/Library/Group Containers/5A4RE8SF68.com.tencent.xinWeChat"]},
        "leftover": {"paths": ["/Library/Caches/com.kaspersky.kav", "~/Library/Preferences/com.kaspersky.*.plist"]},
    })
    assert res["records"] == {
        "file": [{"name": "/Applications/WeChat.app", "path": "/Applications/WeChat.app", "scope": "machine",
                  "type": "dir"},
                 {"name": "/Applications/微信.app", "path": "/Applications/微信.app", "scope": "machine", "type": "dir"}],
        "data": [{"name": p, "path": p, "scope": "user:" + p.split("/")[2], "type": "dir"} for p in (
            "/Users/alice/Library/Containers/com.tencent.xinWeChat",
            "/Users/bob/Library/Containers/com.tencent.xinWeChat",
            "/Users/alice/Library/Group Containers/5A4RE8SF68.com.tencent.xinWeChat")],
        "leftover": [{"name": "/Library/Caches/com.kaspersky.kav", "path": "/Library/Caches/com.kaspersky.kav",
                      "scope": "machine", "type": "dir"},
                     {"name": "/Users/bob/Library/Preferences/com.kaspersky.kav.plist",
                      "path": "/Users/bob/Library/Preferences/com.kaspersky.kav.plist", "scope": "user:bob",
                      "type": "file"}],
    }
    assert res["counts"] == {"file": 3, "data": 6, "leftover": 1 + 0 + 1 + 2}


def test_sources_filter_and_unknown_sources(plain):
    res = collect(plain, {"cask": {"names": ["wechat"]}, "bundle": {"names": [WECHAT]}}, sources=["cask", "rpm"])
    assert sorted(res["records"]) == ["cask"]
    assert res["warnings"] == ["unknown source rpm ignored (known: bundle, pkg-receipt, launchd, cask, sysext, "
                               "process, file, data, leftover, npm)"]


def test_a_failing_source_never_stops_the_others(plain, monkeypatch):
    def boom(*args):
        raise ValueError("bad")
    monkeypatch.setattr(C, "list_casks", boom)
    res = collect(plain, {"cask": {"names": ["wechat"]}, "launchd": {"names": ["com.kaspersky.kav"]}})
    assert res["records"]["cask"] == [] and [r["name"] for r in res["records"]["launchd"]] == ["com.kaspersky.kav"]
    assert res["available"] == {"homebrew": False, "launchd": True}
    assert res["warnings"] == ["cask: collector error, records from this source are incomplete: ValueError: bad"]


def test_plists_are_parsed_in_both_formats(tmp_path):
    value = {"Label": "x", "ProgramArguments": ["/bin/x"]}
    for fmt, name in ((plistlib.FMT_XML, "xml"), (plistlib.FMT_BINARY, "bin")):
        with open(str(tmp_path / name), "wb") as f:
            plistlib.dump(value, f, fmt=fmt)
    fs = RootFS(str(tmp_path))
    assert C.read_plist(fs, "/xml") == value and C.read_plist(fs, "/bin") == value
    assert C.read_plist(fs, "/missing") is None and fs.warnings == []


# -- the local fact (drift check) ------------------------------------------------------------------
def test_the_local_fact_is_read_through_the_etc_link_into_private(plain):
    facts_d = plain / "private" / "etc" / "ansible" / "facts.d"
    facts_d.mkdir(parents=True)
    (facts_d / "banned_software.fact").write_text(
        '{"schema": 1, "removals": [{"key": "bundle|machine|com.tencent.xinWeChat|/Applications/WeChat.app",'
        ' "id": "wechat", "removed_at": "2026-12-01T09:00:42Z"}]}')
    res = collect(plain, {})
    assert res["local_fact"]["path"] == "/etc/ansible/facts.d/banned_software.fact"
    assert [r["key"] for r in res["local_fact"]["removals"]] == [
        "bundle|machine|com.tencent.xinWeChat|/Applications/WeChat.app"]
    assert res["local_fact"]["last_remediation_at"] is None


def test_no_local_fact_on_a_mac_is_none(plain):
    res = collect(plain, {})
    assert res["local_fact"] is None
    assert not [w for w in res["warnings"] if "local fact" in w]
