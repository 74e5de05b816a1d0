# -*- coding: utf-8 -*-
"""The offline Windows image collector on a fake mounted system drive with real registry hives.

The hives are written by tests/unit/helpers/hive.py (an empty hive of our own, then hivexsh -w) and
read back by regipy, so the whole path of a real image is exercised: hive parsing, ProfileList,
per-user NTUSER.DAT, services of the current control set, AppX, case-insensitive files, the query's
pre-filter, and the shipped catalog and matcher on top.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import windows_image as cwi
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.windows_image import (
    MissingLibrary, collect_windows_image)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.tests.unit.helpers import hive as H

from regipy.registry import RegistryHive

PROCESS_WARNING = "process: not examined, %s is an offline Windows image (nothing runs in it)"

EXPECTED = sorted([
    ("deepseek", "file", "%LocalAppData%\\Programs\\DeepSeek Harness", "user:alice"),
    ("deepseek", "registry", H.DEEPSEEK_KEY, "user:alice"),
    ("kaspersky-endpoint-security-windows", "registry", H.KES_GUID, "machine"),
    ("kaspersky-network-agent", "file", "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent", "machine"),
    ("kaspersky-network-agent", "registry", H.AGENT_GUID, "machine"),
    ("kaspersky-network-agent", "service", "klnagent", "machine"),
    ("tiktok", "appx", "BytedancePte.Ltd.TikTok_6yccndn6064se", "machine"),
    ("wechat", "appx", "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a", "machine"),
    ("wechat", "appx", "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a", "user:alice"),
    ("wechat", "file", "%ProgramFiles(x86)%\\Tencent\\WeChat", "machine"),
    ("wechat", "registry", "WeChat", "machine"),
    ("wecom", "registry", u"企业微信", "machine"),
])


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return H.make_windows_image(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="module")
def catalog_entries():
    return load_catalog().select(policies=["all"], disabled=[])


@pytest.fixture
def copy_image(image, tmp_path):
    """A private copy of the image that a test may damage."""
    target = tmp_path / "win"
    shutil.copytree(str(image), str(target), symlinks=True)
    return target


def windows_query(entries):
    return build_query(entries, ["windows"])["windows"]


def scan(root, entries, **kwargs):
    collected = collect_windows_image(str(root), windows_query(entries), **kwargs)
    findings, warnings = Matcher(entries).match("windows", collected)
    return collected, findings, warnings


def found(findings):
    return sorted((f["id"], f["source"], f["name"], f["scope"]) for f in findings)


def by_name(records, name, scope=None):
    hits = [r for r in records if r["name"] == name and (scope is None or r["scope"] == scope)]
    assert len(hits) == 1, (name, records)
    return hits[0]


# -- the hive writer -----------------------------------------------------------------------------
def test_empty_hive_has_a_valid_base_block_and_root(tmp_path):
    data = H.empty_hive_bytes()
    assert len(data) == 8192
    assert data[:4] == b"regf" and data[4096:4100] == b"hbin"
    xor = 0
    for (dword,) in struct.iter_unpack("<I", data[:508]):
        xor ^= dword
    assert struct.unpack_from("<I", data, 508)[0] == xor
    path = H.empty_hive(tmp_path / "empty")
    hive = RegistryHive(str(path))
    assert hive.root.name == "ROOT"
    assert hive.root.subkey_count == 0 and hive.root.values_count == 0
    proc = subprocess.run([H.hivexsh(), str(path)], input=b"ls\nlsval\nquit\n", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_hive_writer_round_trips_every_value_type(tmp_path):
    path = H.write_hive(tmp_path / "h", {
        u"A\\B\\企业微信": {
            "S": u"腾讯科技(深圳)有限公司", "E": ("expand", "%SystemDrive%\\x"), "D": 3010,
            "Q": ("qword", 2 ** 40), "M": ("multi", ["a", "b"]), "B": b"\x01\x02", "": "default"},
        "A\\C": {},
    })
    hive = RegistryHive(str(path))
    key = hive.get_key(u"\\A\\B\\企业微信")
    values = dict((v.name, (v.value, v.value_type)) for v in key.iter_values(trim_values=False))
    assert values == {"S": (u"腾讯科技(深圳)有限公司", "REG_SZ"), "E": ("%SystemDrive%\\x", "REG_EXPAND_SZ"),
                      "D": (3010, "REG_DWORD"), "Q": (2 ** 40, "REG_QWORD"), "M": (["a", "b"], "REG_MULTI_SZ"),
                      "B": (b"\x01\x02", "REG_BINARY"), "(default)": ("default", "REG_SZ")}
    assert sorted(k.name for k in hive.get_key("\\A").iter_subkeys()) == ["B", "C"]


def test_hivex_script_creates_parents_once():
    script = H.hivex_script({"A\\B": {"X": 1}, "A\\C": {}})
    assert script.splitlines() == ["cd \\ ", "add A", "cd \\A", "add B", "cd \\A\\B", "setval 1", "X",
                                   "hex:4:01,00,00,00", "cd \\A", "add C", "commit", "quit"]


# -- the whole image through the catalog and the matcher -------------------------------------------
def test_findings_are_exactly_the_banned_software(image, catalog_entries):
    collected, findings, warnings = scan(image, catalog_entries)
    assert found(findings) == EXPECTED
    assert warnings == []
    assert collected["warnings"] == [PROCESS_WARNING % image]
    names = set(f["name"] for f in findings)
    for lookalike in (H.QQ_GUID, "QQ", H.ESET_GUID, H.NAMELESS_GUID, "7-Zip", "Spotify", "ekrn", "KAVFS", "AVP",
                      "%ProgramFiles%\\Tencent\\Weixin", "Microsoft.WindowsCalculator_8wekyb3d8bbwe"):
        assert lookalike not in names
    wechat = [f for f in findings if f["source"] == "registry" and f["name"] == "WeChat"][0]
    assert wechat["path"] == "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\WeChat"
    assert wechat["key"] == "registry|machine|WeChat|" + wechat["path"]
    assert wechat["version"] == "3.9.10.19"
    assert wechat["details"] == {"display_name": "WeChat", "publisher": H.TENCENT,
                                 "install_location": "C:\\Program Files (x86)\\Tencent\\WeChat"}


def test_registry_records(image, catalog_entries):
    collected = collect_windows_image(str(image), windows_query(catalog_entries))
    records = collected["records"]["registry"]
    # The pre-filter keeps GUID-named keys (the Kaspersky MSI signatures) and the named ones, nothing else.
    assert sorted((r["scope"], r["view"], r["name"]) for r in records) == sorted([
        ("machine", "32", H.AGENT_GUID), ("machine", "32", H.QQ_GUID), ("machine", "32", H.KES_GUID),
        ("machine", "32", "WeChat"), ("machine", "32", u"企业微信"),
        ("machine", "64", H.NAMELESS_GUID), ("machine", "64", H.ESET_GUID),
        ("user:alice", "64", H.DEEPSEEK_KEY)])
    assert by_name(records, H.KES_GUID) == {
        "name": H.KES_GUID, "scope": "machine", "hive": "HKLM", "view": "32",
        "path": "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + H.KES_GUID,
        "display_name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
        "version": "12.4.0.467", "uninstall_string": "MsiExec.exe /X" + H.KES_GUID,
        "install_location": "C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.4.0\\",
        "windows_installer": True, "system_component": False}
    # No DisplayName; a DWORD DisplayVersion becomes text, a binary Publisher is left out, a QWORD flag counts.
    assert by_name(records, H.NAMELESS_GUID) == {
        "name": H.NAMELESS_GUID, "scope": "machine", "hive": "HKLM", "view": "64",
        "path": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + H.NAMELESS_GUID,
        "version": "65536", "windows_installer": True, "system_component": True}
    assert by_name(records, H.ESET_GUID)["system_component"] is False   # REG_SZ "0"
    assert by_name(records, H.DEEPSEEK_KEY) == {
        "name": H.DEEPSEEK_KEY, "scope": "user:alice", "hive": "HKU", "view": "64", "sid": H.ALICE_SID,
        "path": "HKU\\%s\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\%s" % (H.ALICE_SID, H.DEEPSEEK_KEY),
        "display_name": "DeepSeek Harness 0.1.7-rc.1", "publisher": "DeepSeek", "version": "0.1.7-rc.1",
        "uninstall_string": '"C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness\\Uninstall DeepSeek '
                            'Harness.exe" /currentuser',
        "windows_installer": False, "system_component": False}
    # Every uninstall key was examined: 9 machine keys, 1 of alice, 1 of bob.
    assert collected["counts"]["registry"] == 11


def test_services_appx_files_users_and_environment(image, catalog_entries):
    collected = collect_windows_image(str(image), windows_query(catalog_entries))
    records = collected["records"]
    assert records["service"] == [{
        "name": "klnagent", "scope": "machine", "service_type": 16,
        "registry_path": "HKLM\\SYSTEM\\ControlSet001\\Services\\klnagent",
        "display_name": "Kaspersky Security Center Network Agent",
        "path": '"C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\klnagent.exe"', "start_mode": "Auto"}]
    assert collected["counts"]["service"] == 2     # klnagent and ekrn; the KAVFS driver is not a service
    assert records["appx"] == [
        {"name": "BytedancePte.Ltd.TikTok_6yccndn6064se", "package_full_name": H.TIKTOK_APPX, "version": "1.0.0.0",
         "architecture": "x64", "scope": "machine", "provisioned": True, "package_full_names": [H.TIKTOK_APPX]},
        {"name": "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a", "package_full_name": H.WECHAT_APPX,
         "version": "3.9.10.19", "architecture": "x86", "scope": "machine", "provisioned": False,
         "package_full_names": [H.WECHAT_APPX],
         "install_location": "C:\\Program Files\\WindowsApps\\" + H.WECHAT_APPX},
        {"name": "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a", "package_full_name": H.WECHAT_UWP,
         "version": "2.0.0.0", "architecture": "x64", "scope": "user:alice", "provisioned": False,
         "package_full_names": [H.WECHAT_UWP]},
    ]
    assert records["file"] == [
        {"name": "%LocalAppData%\\Programs\\DeepSeek Harness", "path": "%LocalAppData%\\Programs\\DeepSeek Harness",
         "real_path": "C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness", "scope": "user:alice",
         "type": "dir"},
        {"name": "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent",
         "path": "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent",
         "real_path": "C:\\Program Files (x86)\\kaspersky lab\\networkagent", "scope": "machine", "type": "dir"},
        {"name": "%ProgramFiles(x86)%\\Tencent\\WeChat", "path": "%ProgramFiles(x86)%\\Tencent\\WeChat",
         "real_path": "C:\\Program Files (x86)\\Tencent\\WeChat", "scope": "machine", "type": "dir"},
    ]
    assert records["data"] == [
        {"name": "%AppData%\\Tencent\\WeChat", "path": "%AppData%\\Tencent\\WeChat",
         "real_path": "C:\\Users\\bob\\AppData\\Roaming\\Tencent\\WeChat", "scope": "user:bob", "type": "dir"}]
    assert records["process"] == []
    assert collected["available"] == {"registry": True, "appx": True, "service": True, "process": False,
                                      "file": True, "data": True, "npm": False}
    assert collected["users"] == [
        {"name": "alice", "sid": H.ALICE_SID, "home": "C:\\Users\\alice", "hive_loaded": True},
        {"name": "bob", "sid": H.BOB_SID, "home": "C:\\Users\\bob", "hive_loaded": True}]
    assert collected["environment"] == {
        "SystemDrive": "C:", "SystemRoot": "C:\\WINDOWS", "windir": "C:\\WINDOWS",
        "ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
        "ProgramW6432": "C:\\Program Files", "ProgramData": "C:\\ProgramData",
        "users": {"alice": {"USERPROFILE": "C:\\Users\\alice", "LocalAppData": "C:\\Users\\alice\\AppData\\Local",
                            "AppData": "C:\\Users\\alice\\AppData\\Roaming"},
                  "bob": {"USERPROFILE": "C:\\Users\\bob", "LocalAppData": "C:\\Users\\bob\\AppData\\Local",
                          "AppData": "C:\\Users\\bob\\AppData\\Roaming"}}}
    assert (collected["os"], collected["root"], collected["tools"], collected["reboot_required"]) == (
        "windows", str(image), {}, False)


def test_users_and_sources_limit_the_scan(image, catalog_entries):
    collected = collect_windows_image(str(image), windows_query(catalog_entries), users=["BOB"],
                                      sources=["registry", "file", "nonsense"])
    assert sorted(collected["records"]) == ["file", "registry"]
    assert [u["name"] for u in collected["users"]] == ["bob"]
    assert [r["name"] for r in collected["records"]["registry"] if r["scope"] != "machine"] == []
    assert [r["name"] for r in collected["records"]["file"]] == [
        "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent", "%ProgramFiles(x86)%\\Tencent\\WeChat"]
    assert collected["warnings"] == [
        "unknown source nonsense ignored (known: registry, appx, service, process, file, data, leftover, npm)"]


def test_globs_and_drive_paths_and_unknown_variables(image):
    query = {"file": {"paths": ["%ProgramFiles%\\WindowsApps\\tencentwechatlimited.*",
                                "C:\\program files (x86)\\TENCENT\\wechat\\WeChat.exe",
                                "D:\\Tencent\\WeChat", "%Temp%\\x", "%ProgramData%\\..\\Windows"]}}
    collected = collect_windows_image(str(image), query)
    assert collected["records"]["file"] == [
        {"name": "%ProgramFiles%\\WindowsApps\\" + H.WECHAT_APPX, "path": "%ProgramFiles%\\WindowsApps\\" + H.WECHAT_APPX,
         "real_path": "C:\\Program Files\\WindowsApps\\" + H.WECHAT_APPX, "scope": "machine", "type": "dir"},
        {"name": "C:\\program files (x86)\\TENCENT\\wechat\\WeChat.exe",
         "path": "C:\\program files (x86)\\TENCENT\\wechat\\WeChat.exe",
         "real_path": "C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe", "scope": "machine", "type": "file"},
    ]
    assert collected["warnings"] == [
        "file: path %Temp%\\x ignored (unknown variable %Temp%)",
        "file: path %ProgramData%\\..\\Windows ignored (empty, '.' or '..' component)"]
    assert collected["counts"]["file"] == 3


def test_current_control_set_is_followed(copy_image, catalog_entries):
    keys = H.system_keys()
    keys["Select"] = {"Current": 2}
    H.write_hive(copy_image / "Windows/System32/config/SYSTEM", keys)
    collected, findings, dummy = scan(copy_image, catalog_entries, sources=["service"])
    assert found(findings) == [("kaspersky-endpoint-security-windows", "service", "AVP", "machine")]
    assert collected["records"]["service"][0]["registry_path"] == "HKLM\\SYSTEM\\ControlSet002\\Services\\AVP"


# -- hostile and broken images -------------------------------------------------------------------
def _with_profiles(root, profiles):
    keys = H.software_keys()
    for sid, path in profiles.items():
        keys[H.PROFILES + "\\" + sid] = {"ProfileImagePath": path}
    H.write_hive(root / "Windows/System32/config/SOFTWARE", keys)


def test_profile_paths_outside_the_system_drive_are_refused(copy_image, catalog_entries, tmp_path):
    os.makedirs(str(copy_image / "etc"))
    H.write_hive(copy_image / "etc/NTUSER.DAT", H.ALICE_KEYS)
    _with_profiles(copy_image, {"S-1-5-21-1-2-3-1003": "C:\\Users\\..\\..\\..\\etc",
                                "S-1-5-21-1-2-3-1004": "D:\\Users\\carol",
                                "S-1-5-21-1-2-3-1005": "Users\\dave"})
    collected, findings, dummy = scan(copy_image, catalog_entries)
    assert found(findings) == EXPECTED      # the hive under etc was never read
    assert [u["name"] for u in collected["users"]] == ["alice", "bob"]
    assert collected["warnings"] == [
        "profile etc of S-1-5-21-1-2-3-1003 (C:\\Users\\..\\..\\..\\etc) is not a directory on the system drive C: "
        "of the image; its per-user sources are not examined",
        "profile carol of S-1-5-21-1-2-3-1004 (D:\\Users\\carol) is not a directory on the system drive C: of the "
        "image; its per-user sources are not examined",
        "profile dave of S-1-5-21-1-2-3-1005 (Users\\dave) is not a directory on the system drive C: of the image; "
        "its per-user sources are not examined",
        PROCESS_WARNING % copy_image]


@pytest.mark.parametrize("absolute", [True, False])
def test_a_symlinked_users_directory_never_leads_out_of_root(copy_image, catalog_entries, tmp_path, absolute):
    outside = tmp_path / "outside" / "Users"
    shutil.move(str(copy_image / "Users"), str(outside))
    os.symlink(str(outside) if absolute else "../outside/Users", str(copy_image / "Users"))
    assert (copy_image / "Users/alice/NTUSER.DAT").exists()     # the host would follow it
    collected, findings, dummy = scan(copy_image, catalog_entries)
    assert [f for f in found(findings) if f[3] != "machine"] == []
    assert found(findings) == [f for f in EXPECTED if f[3] == "machine"]
    assert collected["users"] == []
    assert collected["warnings"] == [
        "profile directory C:\\Users\\alice of alice not found in the image; its per-user sources are not examined",
        "profile directory C:\\Users\\bob of bob not found in the image; its per-user sources are not examined",
        PROCESS_WARNING % copy_image]


def test_a_symlinked_hive_is_followed_inside_root_only(copy_image, catalog_entries, tmp_path):
    elsewhere = tmp_path / "elsewhere.dat"
    shutil.move(str(copy_image / "Users/alice/NTUSER.DAT"), str(elsewhere))
    os.symlink(str(elsewhere), str(copy_image / "Users/alice/NTUSER.DAT"))
    collected, findings, dummy = scan(copy_image, catalog_entries)
    assert ("deepseek", "registry", H.DEEPSEEK_KEY, "user:alice") not in found(findings)
    assert collected["users"][0] == {"name": "alice", "sid": H.ALICE_SID, "home": "C:\\Users\\alice",
                                     "hive_loaded": False}
    assert collected["warnings"][0] == (
        "cannot read the registry hive /Users/alice/NTUSER.DAT: No such file or directory "
        "(per-user uninstall entries of alice are incomplete)")


@pytest.mark.parametrize("damage, warning", [
    (lambda data: data[:6000], "registry hive /Users/bob/ntuser.dat is truncated (6000 bytes) "
                               "(per-user uninstall entries of bob are incomplete)"),
    (lambda data: data[:4096 + 4096], "registry hive /Users/bob/ntuser.dat is truncated: %d bytes of hive bins "
                                      "announced, 4096 present (per-user uninstall entries of bob are incomplete)"),
    (lambda data: b"MZ" + data[2:], "cannot parse the registry hive /Users/bob/ntuser.dat: ConstError: "),
])
def test_a_corrupt_user_hive_is_a_warning_not_a_crash(copy_image, catalog_entries, damage, warning):
    path = copy_image / "Users/bob/ntuser.dat"
    data = path.read_bytes()
    announced = struct.unpack_from("<I", data, 40)[0]
    path.write_bytes(damage(data))
    collected, findings, dummy = scan(copy_image, catalog_entries)
    assert found(findings) == EXPECTED
    assert [u["hive_loaded"] for u in collected["users"]] == [True, False]
    first = collected["warnings"][0]
    expected = warning % announced if "%d" in warning else warning
    assert first.startswith(expected), first
    assert collected["warnings"][1:] == [PROCESS_WARNING % copy_image]


def test_a_missing_or_unreadable_software_hive(copy_image, catalog_entries):
    os.remove(str(copy_image / "Windows/System32/config/SOFTWARE"))
    collected, findings, dummy = scan(copy_image, catalog_entries)
    # Without ProfileList the profile folders that hold an NTUSER.DAT are still scanned (as orphaned
    # profiles, without a SID): the per-user DeepSeek install is found, not silently missed.
    users = [(u["name"], u["sid"], u.get("orphaned")) for u in collected["users"]]
    assert users == [("alice", None, True), ("bob", None, True)]
    assert found(findings) == [("deepseek", "file", "%LocalAppData%\\Programs\\DeepSeek Harness", "user:alice"),
                               ("deepseek", "registry", "1bf39983-50d0-5fe0-9ef4-cece76f67c5e", "user:alice"),
                               ("kaspersky-network-agent", "file", "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent",
                                "machine"),
                               ("kaspersky-network-agent", "service", "klnagent", "machine"),
                               ("wechat", "appx", "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a", "machine"),
                               ("wechat", "file", "%ProgramFiles(x86)%\\Tencent\\WeChat", "machine")]
    assert collected["available"]["registry"] is False
    assert collected["warnings"][0] == ("\\Windows\\System32\\config\\SOFTWARE not found under %s: machine-wide "
                                        "sources are not examined" % copy_image)


def test_a_hive_not_cleanly_written_is_read_with_a_warning(copy_image, catalog_entries):
    path = copy_image / "Windows/System32/config/SYSTEM"
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 8, struct.unpack_from("<I", data, 4)[0] + 1)
    struct.pack_into("<I", data, 508, H.checksum(bytes(data)))
    path.write_bytes(bytes(data))
    collected, findings, dummy = scan(copy_image, catalog_entries)
    assert found(findings) == EXPECTED
    assert collected["warnings"][0] == ("registry hive /Windows/System32/config/SYSTEM was not cleanly written (its "
                                        "transaction logs are not applied): recent changes may be missing")


def test_without_regipy_the_message_names_the_package(image, monkeypatch):
    monkeypatch.setattr(cwi, "HAS_REGIPY", False)
    monkeypatch.setattr(cwi, "REGIPY_IMPORT_ERROR", "ModuleNotFoundError: No module named 'regipy'")
    with pytest.raises(MissingLibrary) as err:
        collect_windows_image(str(image), {})
    assert str(err.value) == (
        "scanning an offline Windows image needs the Python library regipy on the node that reads the image (the "
        "one running the collect module, usually the controller through delegate_to: localhost): install it there "
        "for the Python that runs the module, e.g. 'python3 -m pip install regipy==6.5.0' (import error: "
        "ModuleNotFoundError: No module named 'regipy')")


def test_requirements_pin_the_same_regipy():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "..", "..", "requirements-dev.txt")) as handle:
        pins = [line.strip() for line in handle if line.startswith("regipy")]
    assert pins == [cwi.REGIPY_REQUIREMENT]


# -- the pre-filter's casefold -----------------------------------------------------------------------
def test_casefold_query_matches_names_and_patterns_regardless_of_case():
    q = compile_query({"registry": {"names": ["WeChat", u"企业微信"], "regex": [r"\{[0-9a-f-]{36}\}"], "casefold": True},
                       "service": {"names": ["klnagent"]}})
    assert q.match("registry", "WECHAT") and q.match("registry", "wechat") and q.match("registry", u"企业微信")
    assert q.match("registry", "{0F05E4E5-5A89-482C-9A62-47CC58643788}")
    assert not q.match("registry", "WeChatX")
    # Without casefold, matching stays exact (Linux and macOS).
    assert q.match("service", "klnagent") and not q.match("service", "KLNAGENT")


def test_casefold_keeps_leading_flags_and_lone_patterns_working():
    q = compile_query({"appx": {"regex": ["(?i)tencent.*", r"(a)\1x"], "casefold": True}})
    assert q.match("appx", "TENCENTWeChat") and q.match("appx", "AAX") and not q.match("appx", "ab")


# -- the local fact (drift check) ------------------------------------------------------------------
WIN_FACT = ('{"schema": 1, "status": "compliant", "removals": [{"key": "registry|machine|WeChat|HKLM\\\\SOFTWARE",'
            ' "id": "wechat", "removed_at": "2026-12-01T09:00:42Z"}]}')


def test_the_local_fact_of_the_image_is_read_case_insensitively(copy_image, catalog_entries):
    collected, dummy, dummy2 = scan(copy_image, catalog_entries)
    assert collected["local_fact"] is None
    facts_d = copy_image / "ProgramData" / "GovSec-Banned-Software" / "Facts.d"   # the image has ProgramData
    facts_d.mkdir(parents=True)
    (facts_d / "Banned_Software.JSON").write_text(WIN_FACT)
    collected, dummy, dummy2 = scan(copy_image, catalog_entries)
    assert collected["local_fact"]["path"] == "C:\\ProgramData\\govsec-banned-software\\facts.d\\banned_software.json"
    assert [r["key"] for r in collected["local_fact"]["removals"]] == ["registry|machine|WeChat|HKLM\\SOFTWARE"]


def test_a_linked_local_fact_in_the_image_is_refused(copy_image, catalog_entries):
    facts_d = copy_image / "ProgramData" / "govsec-banned-software" / "facts.d"
    facts_d.mkdir(parents=True)
    (copy_image / "fact.json").write_text(WIN_FACT)
    os.symlink("/fact.json", str(facts_d / "banned_software.json"))
    collected, dummy, dummy2 = scan(copy_image, catalog_entries)
    assert collected["local_fact"] is None
    assert ("local fact C:\\ProgramData\\govsec-banned-software\\facts.d\\banned_software.json: is a symbolic "
            "link, not read; reinstalls are not reported for this host") in collected["warnings"]


# -- Windows Installer registrations (what proves an MSI product code) ----------------------------
def test_packed_product_code():
    # Office's well-known code and its packed form under Installer\Products
    assert cwi.packed_product_code("{90120000-0030-0000-0000-0000000FF1CE}") == "00002109030000000000000000F01FEC"
    assert cwi.packed_product_code(H.KES_GUID.lower()) == H.packed(H.KES_GUID)


def test_product_codes_are_taken_from_names_and_uninstall_strings_bounded():
    records = [{"name": H.KES_GUID.lower()}, {"name": "WeChat", "uninstall_string": "MsiExec.exe /X" + H.EDR_GUID},
               {"name": "x", "quiet_uninstall_string": "msiexec /x%s /qn {not-a-guid}" % H.KES_GUID},
               {"name": None, "uninstall_string": 3}]
    assert cwi.product_codes(records) == [H.KES_GUID, H.EDR_GUID]
    many = [{"name": "{%08X-0000-0000-0000-000000000000}" % n} for n in range(cwi.MAX_PRODUCT_CODES + 5)]
    assert len(cwi.product_codes(many)) == cwi.MAX_PRODUCT_CODES


def test_installer_registrations_of_the_codes_the_entries_name(image, catalog_entries):
    collected, dummy, dummy2 = scan(image, catalog_entries)
    products = collected["installer_products"]
    assert products[H.KES_GUID] == [
        {"source": "installer", "sid": "S-1-5-18", "display_name": "Kaspersky Endpoint Security for Windows",
         "publisher": "AO Kaspersky Lab", "version": "12.4.0.467"},
        {"source": "uninstall", "view": "32", "display_name": "Kaspersky Endpoint Security for Windows",
         "publisher": "AO Kaspersky Lab", "version": "12.4.0.467",
         "install_location": "C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.4.0\\"}]
    # the Network Agent has no Installer registration in this image: its machine key still says what it is
    assert [p["source"] for p in products[H.AGENT_GUID]] == ["uninstall"]
    # the CrowdStrike registration is not looked up: no kept record names its code
    assert H.EDR_GUID not in products
