# -*- coding: utf-8 -*-
"""Banned products installed the way their real packagings install them, found by the real catalog.

Each tree below lays files out as the packaging does (paths, package names, unit names, plists,
registry hives written with hivex), then runs the real collector and the matcher with the shipped
catalog, and checks the findings and the policies they carry. Sources of every layout: the entry's
``references`` in catalog/entries and docs/catalog.md ("Coverage").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.macos import collect_macos
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.windows_image import (
    collect_windows_image)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import plan_removal
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.tests.unit.helpers import hive as H
from ansible_collections.govsec.banned_software.tests.unit.helpers import macos_tree as M

TEXAS_OTHER = "us-tx-dir-prohibited-technologies-other"
TEXAS = "us-tx-dir-prohibited-technologies"
CA = "ca-tbs-2023-10-30"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def write(root, rel, content=b""):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def package_json(name, version):
    return json.dumps({"name": name, "version": version, "bin": {"x": "lib/bin.js"}})


def no_commands(argv, **kwargs):
    raise AssertionError("no command may run on an image: %r" % (argv,))


def scan(catalog, platform, collect, policies=None):
    entries = catalog.select(policies or ["all"])
    collected = collect(build_query(entries, [platform])[platform])
    findings, warnings = Matcher(entries, policies or ["all"]).match(platform, collected)
    assert warnings == []
    return collected, findings


def matched(catalog, platform, collected):
    """The records of the findings, by finding key, as the matcher hands them to the planner."""
    return Matcher(catalog.select(["all"]), ["all"]).match_records(platform, collected)[2]


def triples(findings):
    return sorted(set((f["id"], f["source"], f["name"]) for f in findings))


# -- Linux -------------------------------------------------------------------------------------------
DPKG = """Package: {name}
Status: install ok installed
Priority: optional
Architecture: amd64
Version: {version}
Description: {name}

"""


@pytest.fixture(scope="module")
def linux(tmp_path_factory):
    root = tmp_path_factory.mktemp("linux") / "root"
    write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n")
    status = ""
    for name, version in (("ksc64", "15.1.0.8873"), ("ksc-web-console", "15.1.0.8873"),
                          ("com.qq.weixin.work.deepin", "4.1.32.6005deepin2"), ("deepin.com.wechat", "2.6.8.65deepin0"),
                          ("nodejs", "18.19.0+dfsg-6"), ("python3-wechatpy", "1.8.18-2"), ("clamav", "1.0.7")):
        status += DPKG.format(name=name, version=version)
    write(root, "var/lib/dpkg/status", status)
    # Kaspersky Security Center Linux: server, web console, units (vendor and scripts' layout)
    write(root, "opt/kaspersky/ksc64/sbin/klserver", b"\x7fELF")
    write(root, "opt/kaspersky/ksc64/lib/bin/setup/postinstall.pl", "#!/usr/bin/perl\n")
    write(root, "opt/kaspersky/ksc-web-console/server/config.json", "{}")
    for unit in ("kladminserver_srv", "klnagent_srv", "kliam_srv", "klwebsrv_srv", "klactprx_srv", "ksc-web-console"):
        write(root, "lib/systemd/system/%s.service" % unit, "[Service]\nExecStart=/opt/kaspersky/ksc64/sbin/klserver\n")
    # WeCom from the deepin-wine packaging (AUR/Spark/linglong): /opt/apps/<id>/files/run.sh
    write(root, "opt/apps/com.qq.weixin.work.deepin/files/run.sh", "#!/bin/sh\n")
    write(root, "home/alice/.deepinwine/Deepin-WXWork/system.reg", "WINE REGISTRY")
    # WeChat from AUR wechat-universal-bwrap (pacman: no package record, the files identify it)
    write(root, "opt/wechat-universal/wechat", b"\x7fELF")
    write(root, "usr/share/applications/wechat-universal.desktop",
          "[Desktop Entry]\nName=WeChat\nExec=/usr/bin/wechat-universal %U\nType=Application\n")
    # DeepSeek's dsh CLI installed with npm: distribution prefix and nvm
    write(root, "usr/lib/node_modules/@deepseek-ai/dsh/package.json", package_json("@deepseek-ai/dsh", "0.1.5-rc.2"))
    write(root, "home/alice/.nvm/versions/node/v22.22.3/lib/node_modules/@deepseek-ai/dsh/package.json",
          package_json("@deepseek-ai/dsh", "0.1.0-rc.6"))
    write(root, "home/alice/.dsh/settings.yaml", "profile: web\n")
    # lookalikes: other npm packages with "deepseek" in their name, a renamed folder of another package
    write(root, "usr/lib/node_modules/deepseek/package.json", package_json("deepseek", "1.0.0"))
    write(root, "usr/lib/node_modules/@ai-sdk/deepseek/package.json", package_json("@ai-sdk/deepseek", "1.0.0"))
    write(root, "usr/lib/node_modules/npm/package.json", package_json("npm", "9.2.0"))
    write(root, "home/alice/.npm-global/lib/node_modules/dsh/package.json", package_json("dsh", "2.0.0"))
    return root


def test_linux_installs_are_found(catalog, linux):
    collected, findings = scan(catalog, "linux", lambda q: collect_linux(str(linux), q, no_commands))
    assert triples(findings) == sorted([
        ("deepseek", "npm", "@deepseek-ai/dsh"),
        ("kaspersky-security-center", "dpkg", "ksc-web-console"),
        ("kaspersky-security-center", "dpkg", "ksc64"),
        ("kaspersky-security-center", "file", "/opt/kaspersky/ksc-web-console"),
        ("kaspersky-security-center", "file", "/opt/kaspersky/ksc64"),
        ("kaspersky-security-center", "service", "ksc-web-console.service"),
        ("kaspersky-security-center", "service", "kladminserver_srv.service"),
        ("kaspersky-security-center", "service", "klactprx_srv.service"),
        ("kaspersky-security-center", "service", "kliam_srv.service"),
        ("kaspersky-security-center", "service", "klnagent_srv.service"),
        ("kaspersky-security-center", "service", "klwebsrv_srv.service"),
        ("wechat", "desktop", "wechat-universal.desktop"),
        ("wechat", "dpkg", "deepin.com.wechat"),
        ("wechat", "file", "/opt/wechat-universal"),
        ("wecom", "dpkg", "com.qq.weixin.work.deepin"),
        ("wecom", "file", "/opt/apps/com.qq.weixin.work.deepin"),
    ])
    npm = sorted((f["scope"], f["path"], f["version"]) for f in findings if f["source"] == "npm")
    assert npm == [("machine", "/usr/lib/node_modules/@deepseek-ai/dsh", "0.1.5-rc.2"),
                   ("user:alice", "/home/alice/.nvm/versions/node/v22.22.3/lib/node_modules/@deepseek-ai/dsh",
                    "0.1.0-rc.6")]
    assert collected["available"]["npm"] is True
    wecom = [f for f in findings if f["id"] == "wecom"][0]
    # Canada's release names WeChat on mobile devices: WeCom is applied by extension; Texas names Tencent.
    assert (wecom["required_by"], wecom["applied_by_extension"]) == ([TEXAS], [CA])
    ksc = [f for f in findings if f["id"] == "kaspersky-security-center"][0]
    assert CA in ksc["applied_by_extension"] and "us-dhs-bod-17-01" in ksc["required_by"]
    # remediation data of the deepin bottle and of dsh are known to the collector
    assert sorted(r["path"] for r in collected["records"]["data"] if r["path"].startswith("/home/alice/.d")) == [
        "/home/alice/.deepinwine/Deepin-WXWork", "/home/alice/.dsh"]


def test_npm_findings_are_report_only(catalog, linux):
    collected, findings = scan(catalog, "linux", lambda q: collect_linux(str(linux), q, no_commands))
    npm = [f for f in findings if f["source"] == "npm"]
    plan = plan_removal("linux", npm, collected, dict((e.id, e) for e in catalog.entries), {"run_id": "R1"},
                        matched(catalog, "linux", collected))
    assert plan["steps"] == []
    reasons = sorted(u["reason"] for u in plan["unplanned"])
    assert len(reasons) == 2 and all(r.startswith("npm global packages are reported, not removed: run "
                                                  "'npm uninstall -g @deepseek-ai/dsh' as the owner of ") for r in reasons)


# -- macOS -------------------------------------------------------------------------------------------
MAC_EXTRA = {
    # TikTok's iPhone/iPad app on an Apple-silicon Mac: /Applications/<name>.app/WrappedBundle
    "Applications/TikTok.app/WrappedBundle/Info.plist": {"CFBundleIdentifier": "com.zhiliaoapp.musically",
                                                         "CFBundleShortVersionString": "37.5.0",
                                                         "CFBundleDisplayName": "TikTok"},
    # Kaspersky for Mac: current system extension in the extensions database is in macos_tree already;
    # the Network Agent's current receipt
    "private/var/db/receipts/com.kaspersky.klnagent.core.plist": {"PackageIdentifier": "com.kaspersky.klnagent.core",
                                                                  "PackageVersion": "15.1.0.1234"},
    "private/var/db/receipts/com.kaspersky.klnagent.core.bom": b"BOM",
    # DeepSeek dsh from Homebrew's node on Apple silicon, and a lookalike
    "opt/homebrew/lib/node_modules/@deepseek-ai/dsh/package.json": package_json("@deepseek-ai/dsh", "0.1.5-rc.2"),
    "opt/homebrew/lib/node_modules/deepseek-cli/package.json": package_json("deepseek-cli", "0.3.0"),
    "Users/alice/.dsh/settings.yaml": b"profile: web\n",
}


def mac_findings(catalog, root, policies=None):
    collected, findings = scan(catalog, "macos", lambda q: collect_macos(str(root), q, no_commands), policies)
    return collected, sorted((f["id"], f["source"], f["name"], f["path"]) for f in findings)


@pytest.fixture(scope="module")
def mac_pair(tmp_path_factory):
    """The same Mac as a whole volume and as its Data volume mounted alone."""
    whole = M.build_macos_tree(tmp_path_factory.mktemp("whole") / "mac", extra=MAC_EXTRA)
    data = tmp_path_factory.mktemp("data") / "Macintosh HD - Data"
    shutil.copytree(str(whole), str(data), symlinks=True)
    # The System volume holds the var/etc/tmp links and System/; the Data volume has private/ only.
    for name in ("var", "etc", "tmp"):
        os.unlink(str(data / name))
    shutil.rmtree(str(data / "System"))
    return whole, data


def test_macos_installs_are_found(catalog, mac_pair):
    whole, dummy = mac_pair
    collected, found = mac_findings(catalog, whole)
    assert ("tiktok", "bundle", "com.zhiliaoapp.musically", "/Applications/TikTok.app") in found
    assert ("kaspersky-network-agent", "pkg-receipt", "com.kaspersky.klnagent.core",
            "/var/db/receipts/com.kaspersky.klnagent.core.plist") in found
    assert ("deepseek", "npm", "@deepseek-ai/dsh", "/opt/homebrew/lib/node_modules/@deepseek-ai/dsh") in found
    assert not [f for f in found if f[2] in ("deepseek-cli", "com.kaspersky.klnagent.core.bom")]
    assert [r for r in collected["records"]["data"] if r["path"] == "/Users/alice/.dsh"]


def test_a_data_volume_alone_scans_like_the_whole_volume(catalog, mac_pair):
    whole, data = mac_pair
    collected_whole, found_whole = mac_findings(catalog, whole)
    collected_data, found_data = mac_findings(catalog, data)
    assert found_data == found_whole
    receipts = [f for f in found_data if f[1] == "pkg-receipt"]
    assert len(receipts) >= 3 and all(f[3].startswith("/var/db/receipts/") for f in receipts)
    assert collected_data["volume"] == "data" and "volume" not in collected_whole
    assert collected_data["users"] == collected_whole["users"]   # root's home found under private/var/root
    assert "os_version" not in collected_data


# -- Windows image -----------------------------------------------------------------------------------
KES12 = "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}"
KAV_WIX = "InstallWIX_{6B5D0C62-8E4A-4F9B-9E7F-2B1B7C2E3F11}"
SOS_GUID = "{2E4C8A10-6D7B-4F3C-A1B2-C3D4E5F60718}"
KSC_GUID = "{A2F9E2C1-0B3D-4C5E-8F71-92A3B4C5D6E7}"
DEEPSEEK_STABLE = "5d7e3f0a-9c2b-5a41-8e6d-0f1a2b3c4d5e"
CAROL_KEYS = {
    # an orphaned profile: the account was deleted, its folder and NTUSER.DAT were left
    "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + DEEPSEEK_STABLE: {
        "DisplayName": "DeepSeek Harness 1.0.0", "Publisher": "DeepSeek", "DisplayVersion": "1.0.0"},
    "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\CapCut": {
        "DisplayName": "CapCut", "Publisher": "Bytedance Pte. Ltd.", "DisplayVersion": "5.8.0.2185"},
}


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    root = tmp_path_factory.mktemp("win") / "win"
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    software = {
        "Microsoft\\Windows NT\\CurrentVersion": {"SystemRoot": "C:\\WINDOWS"},
        H.PROFILES: {"ProfilesDirectory": ("expand", "%SystemDrive%\\Users")},
        H.PROFILES + "\\" + H.ALICE_SID: {"ProfileImagePath": ("expand", "%SystemDrive%\\Users\\alice")},
        H.WOW_UNINSTALL + "\\" + KES12: {"DisplayName": "Kaspersky Endpoint Security for Windows",
                                         "Publisher": "AO Kaspersky Lab", "DisplayVersion": "12.10.0.466",
                                         "WindowsInstaller": 1},
        H.WOW_UNINSTALL + "\\" + KAV_WIX: {"DisplayName": "Kaspersky Antivirus", "Publisher": "AO Kaspersky Lab",
                                           "DisplayVersion": "21.3.10.391"},
        H.WOW_UNINSTALL + "\\" + SOS_GUID: {"DisplayName": "Kaspersky Small Office Security 8",
                                            "Publisher": "AO Kaspersky Lab", "WindowsInstaller": 1},
        H.WOW_UNINSTALL + "\\" + KSC_GUID: {"DisplayName": "Kaspersky Security Center 15.1 Administration Server",
                                            "Publisher": "AO Kaspersky Lab", "WindowsInstaller": 1},
        # lookalikes of the same vendor that are other entries, and UltraAV
        H.WOW_UNINSTALL + "\\{B1C2D3E4-F5A6-4B7C-8D9E-0F1A2B3C4D5E}": {
            "DisplayName": "Kaspersky Security Center Web Console", "Publisher": "AO Kaspersky Lab"},
        H.UNINSTALL + "\\{C1C2D3E4-F5A6-4B7C-8D9E-0F1A2B3C4D5E}": {"DisplayName": "UltraAV", "Publisher": "Pango"},
        # Weixin 4.x with the English signer spelling
        H.UNINSTALL + "\\Weixin": {"DisplayName": "Weixin", "DisplayVersion": "4.0.2.26",
                                   "Publisher": "Tencent Technology(Shenzhen) Company Limited"},
        H.UNINSTALL + "\\Kingsoft Office": {"DisplayName": "WPS Office", "Publisher": "Kingsoft Corp."},
    }
    services = "ControlSet001\\Services\\"
    system = {
        "Select": {"Current": 1},
        services + "AVP.KES.12.10.0": {
            "Type": 0x10, "Start": 2, "ImagePath": '"C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.10.0\\avp.exe" -r'},
        services + "avpsus.KES.12.10.0": {
            "Type": 0x10, "Start": 2, "ImagePath": '"C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.10.0\\avpsus.exe"'},
        services + "kladminserver": {
            "Type": 0x10, "Start": 2,
            "ImagePath": '"C:\\Program Files (x86)\\Kaspersky Lab\\Kaspersky Security Center\\klserver.exe"'},
        # a service named like KES's elsewhere is not KES
        services + "AVP.KES.1": {"Type": 0x10, "Start": 3, "ImagePath": "C:\\Tools\\avp\\avp.exe"},
    }
    H.write_hive(config / "SOFTWARE", software, file_name="SOFTWARE")
    H.write_hive(config / "SYSTEM", system, file_name="SYSTEM")
    for user in ("alice", "carol", "Public", "Default"):
        (root / "Users" / user).mkdir(parents=True)
    H.write_hive(root / "Users/alice/NTUSER.DAT", {"Software\\Tencent": {}}, file_name="ntuser.dat")
    H.write_hive(root / "Users/carol/NTUSER.DAT", CAROL_KEYS, file_name="ntuser.dat")
    H.write_hive(root / "Users/Default/NTUSER.DAT", {}, file_name="ntuser.dat")
    for rel in ("KVRT2020_Data/Reports", "Program Files (x86)/Kaspersky Lab/Kaspersky Security Center"):
        (root / rel).mkdir(parents=True)
    write(root, "Users/alice/AppData/Roaming/npm/node_modules/@deepseek-ai/dsh/package.json",
          package_json("@deepseek-ai/dsh", "0.1.5-rc.2"))
    write(root, "Users/alice/AppData/Roaming/npm/node_modules/deepseek-chat/package.json",
          package_json("deepseek-chat", "1.0.0"))
    return root


def win_scan(catalog, root, policies=None):
    return scan(catalog, "windows", lambda q: collect_windows_image(str(root), q), policies)


def test_windows_installs_are_found(catalog, windows):
    collected, findings = win_scan(catalog, windows)
    assert sorted((f["id"], f["source"], f["name"], f["scope"]) for f in findings) == sorted([
        ("deepseek", "npm", "@deepseek-ai/dsh", "user:alice"),
        ("deepseek", "registry", DEEPSEEK_STABLE, "user:carol"),
        ("kaspersky-consumer", "registry", KAV_WIX, "machine"),
        ("kaspersky-consumer", "registry", SOS_GUID, "machine"),
        ("kaspersky-endpoint-security-windows", "registry", KES12, "machine"),
        ("kaspersky-endpoint-security-windows", "service", "AVP.KES.12.10.0", "machine"),
        ("kaspersky-endpoint-security-windows", "service", "avpsus.KES.12.10.0", "machine"),
        ("kaspersky-security-center", "file", "%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security Center",
         "machine"),
        ("kaspersky-security-center", "registry", KSC_GUID, "machine"),
        ("kaspersky-security-center", "service", "kladminserver", "machine"),
        ("kaspersky-virus-removal-tool", "file", "C:\\KVRT2020_Data", "machine"),
        ("wechat", "registry", "Weixin", "machine"),
    ])
    npm = [f for f in findings if f["source"] == "npm"][0]
    assert npm["path"] == "C:\\Users\\alice\\AppData\\Roaming\\npm\\node_modules\\@deepseek-ai\\dsh"
    carol = [u for u in collected["users"] if u["name"] == "carol"][0]
    assert carol == {"name": "carol", "sid": None, "home": "C:\\Users\\carol", "hive_loaded": True, "orphaned": True}
    key = [f for f in findings if f["scope"] == "user:carol"][0]
    assert key["path"] == ("C:\\Users\\carol\\NTUSER.DAT\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
                           + DEEPSEEK_STABLE)
    assert any("C:\\Users\\carol has an NTUSER.DAT but no ProfileList entry" in w for w in collected["warnings"])
    assert not [u for u in collected["users"] if u["name"] in ("Default", "Public")]


def test_kvrt_traces_are_report_only(catalog, windows):
    collected, findings = win_scan(catalog, windows)
    kvrt = [f for f in findings if f["id"] == "kaspersky-virus-removal-tool"]
    assert kvrt and all(f.get("report_only") is True for f in kvrt)
    plan = plan_removal("windows", kvrt, collected, dict((e.id, e) for e in catalog.entries), {"run_id": "R1"},
                        matched(catalog, "windows", collected))
    assert plan["steps"] == []
    assert [u["reason"].split(":")[0] for u in plan["unplanned"]] == [
        "report only (catalog entry kaspersky-virus-removal-tool)"]


def test_the_optional_texas_set_adds_exactly_its_products(catalog, windows):
    dummy, default = win_scan(catalog, windows)
    dummy, texas = win_scan(catalog, windows, ["all", TEXAS_OTHER])
    added = sorted(set((f["id"], f["name"]) for f in texas) - set((f["id"], f["name"]) for f in default))
    assert added == [("capcut", "CapCut"), ("wps-office", "Kingsoft Office")]
    assert [f for f in texas if f["id"] == "capcut"][0]["policies"] == [TEXAS_OTHER]
    # the findings of the default scope are the same, with the same policies
    assert sorted((f["key"], tuple(f["policies"])) for f in texas if f["id"] not in ("capcut", "wps-office")) == \
        sorted((f["key"], tuple(f["policies"])) for f in default)
    dummy, only = win_scan(catalog, windows, [TEXAS_OTHER])
    assert sorted(set(f["id"] for f in only)) == ["capcut", "wps-office"]
