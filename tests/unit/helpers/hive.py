# -*- coding: utf-8 -*-
"""Write real Windows registry hive files for tests.

hivex (``hivexsh -w``, Debian package libhivex-bin) edits hives but cannot create one, so
``empty_hive`` writes the smallest valid hive itself, following the public format description
(msuhanov, "Windows registry file format specification"):

* a 4096-byte base block: ``regf``, equal primary and secondary sequence numbers, version 1.3,
  file type 0 (primary), format 1, the root cell offset, the size of the hive bins data, and the
  checksum at offset 508 (XOR of the 127 little-endian dwords before it; 0 becomes 1 and
  0xFFFFFFFF becomes 0xFFFFFFFE);
* one 4096-byte ``hbin`` holding the root key node (``nk``, flags KEY_HIVE_ENTRY | KEY_NO_DELETE |
  KEY_COMP_NAME, no subkeys or values) as its first cell, one security cell (``sk``, a
  self-relative security descriptor, linked to itself, reference count 1) and one free cell
  covering the rest of the bin.

``write_hive`` then adds keys and values by driving ``hivexsh -w`` with a script on stdin, and
commits. A missing hivexsh is an error (the tests must fail, not skip): CI installs it (.ci/run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import struct
import subprocess

BASE_BLOCK = 4096
HBIN_SIZE = 4096
HBIN_HEADER = 32

REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11


def _sid(authority, *subs):
    return struct.pack("<BB", 1, len(subs)) + struct.pack(">Q", authority)[2:] + struct.pack("<%dI" % len(subs), *subs)


def _security_descriptor():
    owner = _sid(5, 32, 544)                # BUILTIN\Administrators
    group = _sid(5, 18)                     # NT AUTHORITY\SYSTEM
    everyone = _sid(1, 0)                   # Everyone
    ace_body = struct.pack("<I", 0x000F003F) + everyone        # KEY_ALL_ACCESS
    ace = struct.pack("<BBH", 0, 0x03, 4 + len(ace_body)) + ace_body   # ACCESS_ALLOWED_ACE, CI|OI
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    header_size = 20
    off_owner = header_size
    off_group = off_owner + len(owner)
    off_dacl = off_group + len(group)
    control = 0x8000 | 0x0004               # SE_SELF_RELATIVE | SE_DACL_PRESENT
    header = struct.pack("<BBHIIII", 1, 0, control, off_owner, off_group, 0, off_dacl)
    return header + owner + group + acl


def _cell(payload):
    size = 4 + len(payload)
    size += (-size) % 8
    return struct.pack("<i", -size) + payload + b"\0" * (size - 4 - len(payload))


def checksum(base):
    """The base block checksum of the first 508 bytes of ``base``."""
    value = 0
    for (dword,) in struct.iter_unpack("<I", base[:508]):
        value ^= dword
    if value == 0xFFFFFFFF:
        return 0xFFFFFFFE
    if value == 0:
        return 1
    return value


def empty_hive_bytes(root_name="ROOT", file_name="emptyhive"):
    """The bytes of an empty hive (root key only)."""
    name = root_name.encode("ascii")
    # Offsets of cells are relative to the start of the hive bins data (the first hbin).
    root_off = HBIN_HEADER
    nk_len = 4 + 76 + len(name)
    nk_len += (-nk_len) % 8
    sk_off = root_off + nk_len
    sd = _security_descriptor()
    sk = b"sk" + struct.pack("<HIIII", 0, sk_off, sk_off, 1, len(sd)) + sd
    nk = (b"nk" + struct.pack("<H", 0x0004 | 0x0008 | 0x0020) + struct.pack("<Q", 0)
          + struct.pack("<I", 0)                   # access bits
          + struct.pack("<I", 0xFFFFFFFF)          # parent (none for the root)
          + struct.pack("<II", 0, 0)               # subkeys, volatile subkeys
          + struct.pack("<II", 0xFFFFFFFF, 0xFFFFFFFF)
          + struct.pack("<II", 0, 0xFFFFFFFF)      # values, values list
          + struct.pack("<I", sk_off)              # security cell
          + struct.pack("<I", 0xFFFFFFFF)          # class name
          + struct.pack("<IIIII", 0, 0, 0, 0, 0)   # max lengths, work var
          + struct.pack("<HH", len(name), 0) + name)
    cells = _cell(nk) + _cell(sk)
    assert len(cells) == nk_len + len(_cell(sk))
    free = HBIN_SIZE - HBIN_HEADER - len(cells)
    cells += struct.pack("<i", free) + b"\0" * (free - 4)
    hbin = b"hbin" + struct.pack("<II", 0, HBIN_SIZE) + b"\0" * 8 + struct.pack("<QI", 0, 0) + cells
    assert len(hbin) == HBIN_SIZE

    base = bytearray(BASE_BLOCK)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 3, 0, 1, root_off, HBIN_SIZE, 1)
    fname = file_name.encode("utf-16-le")[:64]
    base[48:48 + len(fname)] = fname
    struct.pack_into("<I", base, 508, checksum(bytes(base)))
    return bytes(base) + hbin


def empty_hive(path, root_name="ROOT", file_name="emptyhive"):
    with open(str(path), "wb") as handle:
        handle.write(empty_hive_bytes(root_name, file_name))
    return path


def hivexsh():
    """Path of hivexsh, or an AssertionError that names the package to install."""
    found = shutil.which("hivexsh")
    assert found, ("hivexsh not found: install the Debian package libhivex-bin "
                   "(.ci/run installs it) to build the registry hives of these tests")
    return found


def _hex(data):
    return ",".join("%02x" % b for b in bytearray(data))


def encode_value(value):
    """``(type, bytes)`` of a Python test value.

    str -> REG_SZ, ("expand", str) -> REG_EXPAND_SZ, ("multi", [str]) -> REG_MULTI_SZ,
    int -> REG_DWORD, ("qword", int) -> REG_QWORD, bytes -> REG_BINARY, (type, bytes) -> raw.
    """
    if isinstance(value, bool):
        return REG_DWORD, struct.pack("<I", int(value))
    if isinstance(value, int):
        return REG_DWORD, struct.pack("<I", value & 0xFFFFFFFF)
    if isinstance(value, str):
        return REG_SZ, (value + "\0").encode("utf-16-le")
    if isinstance(value, bytes):
        return REG_BINARY, value
    kind, data = value
    if kind == "expand":
        return REG_EXPAND_SZ, (data + "\0").encode("utf-16-le")
    if kind == "multi":
        return REG_MULTI_SZ, "".join(s + "\0" for s in data).encode("utf-16-le") + b"\0\0"
    if kind == "qword":
        return REG_QWORD, struct.pack("<Q", data)
    return int(kind), data


def hivex_script(keys):
    """The hivexsh script that creates ``keys`` ({"A\\B": {value name: value}}) in an empty hive."""
    lines = []
    created = set()
    for path in sorted(keys, key=lambda p: p.lower()):
        parts = path.split("\\")
        for depth in range(len(parts)):
            sub = "\\".join(parts[:depth + 1]).lower()
            if sub in created:
                continue
            parent = "\\".join(parts[:depth])
            lines.append("cd \\%s" % parent if parent else "cd \\ ")
            lines.append("add %s" % parts[depth])
            created.add(sub)
        values = keys[path] or {}
        if values:
            lines.append("cd \\%s" % path)
            lines.append("setval %d" % len(values))
            for name in sorted(values):
                vtype, data = encode_value(values[name])
                lines.append(name if name else "@")
                lines.append("hex:%d:%s" % (vtype, _hex(data)))
    lines.append("commit")
    lines.append("quit")
    return "\n".join(lines) + "\n"


def write_hive(path, keys, root_name="ROOT", file_name="emptyhive"):
    """Write a hive at ``path`` with ``keys`` (see ``hivex_script``); return ``path``."""
    exe = hivexsh()
    empty_hive(path, root_name, file_name)
    script = hivex_script(keys)
    proc = subprocess.run([exe, "-w", str(path)], input=script.encode("utf-8"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    assert proc.returncode == 0, "hivexsh failed (rc %d): %s\n--- script ---\n%s" % (
        proc.returncode, proc.stderr.decode("utf-8", "replace"), script)
    return path


# -- a mounted Windows system drive ------------------------------------------------------------------
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
WOW_UNINSTALL = "WOW6432Node\\" + UNINSTALL
PROFILES = "Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
APPX = "Microsoft\\Windows\\CurrentVersion\\Appx\\AppxAllUserStore"
INSTALLER = "Microsoft\\Windows\\CurrentVersion\\Installer\\UserData"
EDR_GUID = "{5B2C7A43-1E7D-4C2B-9A4A-1B2C3D4E5F60}"   # an installed product that is not banned
ALICE_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
BOB_SID = "S-1-5-21-1004336348-1177238915-682003330-1002"
KES_GUID = "{27534751-4A40-48BD-B393-BC3BF28C876E}"
AGENT_GUID = "{0F05E4E5-5A89-482C-9A62-47CC58643788}"
QQ_GUID = "{052CFB79-9D62-42E3-8A15-DE66C2C97C3E}"
ESET_GUID = "{A8F9B5B0-3E1C-4C55-9F2E-3A5F2B7E0C11}"
NAMELESS_GUID = "{11111111-2222-3333-4444-555555555555}"
DEEPSEEK_KEY = "1bf39983-50d0-5fe0-9ef4-cece76f67c5e"

TENCENT = u"腾讯科技(深圳)有限公司"
WECHAT_APPX = "TencentWeChatLimited.forWindows10_3.9.10.19_x86__sdtnhv12zgd7a"
WECHAT_UWP = "TencentWeChatLimited.WeChatUWP_2.0.0.0_x64__sdtnhv12zgd7a"
TIKTOK_APPX = "BytedancePte.Ltd.TikTok_1.0.0.0_x64__6yccndn6064se"
CALC_APPX = "Microsoft.WindowsCalculator_11.2210.0.0_x64__8wekyb3d8bbwe"


def packed(code):
    """Windows Installer's packed product code, written out independently of the collector's function."""
    groups = code.strip("{}").split("-")
    tail = groups[3] + groups[4]
    return (groups[0][::-1] + groups[1][::-1] + groups[2][::-1]
            + "".join(tail[i:i + 2][::-1] for i in range(0, len(tail), 2))).upper()


def software_keys(extra_profiles=None):
    """The SOFTWARE hive of the test image (see make_windows_image)."""
    keys = {
        "Microsoft\\Windows NT\\CurrentVersion": {"SystemRoot": "C:\\WINDOWS", "ProductName": "Windows 10 Pro"},
        "Microsoft\\Windows\\CurrentVersion": {"ProgramFilesDir": "C:\\Program Files",
                                               "ProgramFilesDir (x86)": "C:\\Program Files (x86)",
                                               "ProgramW6432Dir": "C:\\Program Files"},
        PROFILES: {"ProgramData": ("expand", "%SystemDrive%\\ProgramData"),
                   "ProfilesDirectory": ("expand", "%SystemDrive%\\Users")},
        PROFILES + "\\S-1-5-18": {"ProfileImagePath": ("expand", "%systemroot%\\system32\\config\\systemprofile")},
        PROFILES + "\\" + ALICE_SID: {"ProfileImagePath": ("expand", "%SystemDrive%\\Users\\alice"), "State": 0},
        PROFILES + "\\" + BOB_SID: {"ProfileImagePath": "C:\\Users\\bob", "State": 0},
        WOW_UNINSTALL + "\\" + KES_GUID: {
            "DisplayName": "Kaspersky Endpoint Security for Windows", "Publisher": "AO Kaspersky Lab",
            "DisplayVersion": "12.4.0.467", "UninstallString": "MsiExec.exe /X" + KES_GUID,
            "InstallLocation": "C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.4.0\\", "WindowsInstaller": 1},
        WOW_UNINSTALL + "\\" + AGENT_GUID: {
            "DisplayName": "Kaspersky Security Center Network Agent", "Publisher": "AO Kaspersky Lab",
            "DisplayVersion": "14.2.0.26967", "UninstallString": "MsiExec.exe /I" + AGENT_GUID,
            "WindowsInstaller": 1},
        WOW_UNINSTALL + "\\WeChat": {
            "DisplayName": "WeChat", "Publisher": TENCENT, "DisplayVersion": "3.9.10.19",
            "UninstallString": "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe",
            "InstallLocation": "C:\\Program Files (x86)\\Tencent\\WeChat"},
        WOW_UNINSTALL + u"\\企业微信": {
            "DisplayName": u"企业微信", "Publisher": TENCENT, "DisplayVersion": "4.1.31.6017",
            "UninstallString": "C:\\Program Files (x86)\\WXWork\\uninstall.exe"},
        WOW_UNINSTALL + "\\" + QQ_GUID: {"DisplayName": "Tencent QQ", "Publisher": TENCENT, "WindowsInstaller": 1},
        WOW_UNINSTALL + "\\QQ": {"DisplayName": u"腾讯QQ", "Publisher": TENCENT},
        UNINSTALL + "\\" + ESET_GUID: {
            "DisplayName": "ESET Security", "Publisher": "ESET, spol. s r.o.", "WindowsInstaller": 1,
            "SystemComponent": "0"},
        # no DisplayName, odd value types: a number as DisplayVersion, binary as Publisher
        UNINSTALL + "\\" + NAMELESS_GUID: {
            "DisplayVersion": 65536, "Publisher": b"\xff\xfe\x00", "SystemComponent": 1,
            "WindowsInstaller": ("qword", 1)},
        UNINSTALL + "\\7-Zip": {"DisplayName": "7-Zip 23.01 (x64)", "Publisher": "Igor Pavlov"},
        # Windows Installer's own registration of the MSI products (written by the installer service)
        INSTALLER + "\\S-1-5-18\\Products\\" + packed(KES_GUID) + "\\InstallProperties": {
            "DisplayName": "Kaspersky Endpoint Security for Windows", "Publisher": "AO Kaspersky Lab",
            "DisplayVersion": "12.4.0.467", "LocalPackage": "C:\\WINDOWS\\Installer\\1a2b3c.msi"},
        INSTALLER + "\\S-1-5-18\\Products\\" + packed(EDR_GUID) + "\\InstallProperties": {
            "DisplayName": "CrowdStrike Windows Sensor", "Publisher": "CrowdStrike, Inc.", "DisplayVersion": "7.10"},
        APPX + "\\Applications\\" + TIKTOK_APPX: {"Path": "C:\\Program Files\\WindowsApps\\%s\\AppxManifest.xml" % TIKTOK_APPX},
        APPX + "\\Applications\\" + CALC_APPX: {},
        APPX + "\\" + ALICE_SID + "\\" + WECHAT_UWP: {},
    }
    keys.update(extra_profiles or {})
    return keys


def system_keys():
    services = "ControlSet001\\Services\\"
    return {
        "Select": {"Current": 1, "Default": 1, "LastKnownGood": 2},
        services + "klnagent": {
            "Type": 0x10, "Start": 2, "DisplayName": "Kaspersky Security Center Network Agent",
            "ImagePath": ("expand", '"C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\klnagent.exe"')},
        services + "ekrn": {"Type": 0x10, "Start": 2, "DisplayName": "ESET Service",
                            "ImagePath": '"C:\\Program Files\\ESET\\ESET Security\\ekrn.exe"'},
        # A kernel driver (type 1) named like a banned service: not a Win32 service
        services + "KAVFS": {"Type": 1, "Start": 1, "ImagePath": "system32\\DRIVERS\\kavfs.sys"},
        # Only in the control set that is not current
        "ControlSet002\\Services\\AVP": {
            "Type": 0x10, "Start": 2,
            "ImagePath": '"C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.4.0\\avp.exe" -r'},
    }


ALICE_KEYS = {
    "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + DEEPSEEK_KEY: {
        "DisplayName": "DeepSeek Harness 0.1.7-rc.1", "Publisher": "DeepSeek", "DisplayVersion": "0.1.7-rc.1",
        "UninstallString": '"C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness\\Uninstall DeepSeek Harness.exe"'
                           " /currentuser"},
    "Software\\Tencent\\WeChat": {"InstallPath": "C:\\Program Files (x86)\\Tencent\\WeChat"},
}
BOB_KEYS = {
    "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Spotify": {
        "DisplayName": "Spotify", "Publisher": "Spotify AB"},
}


def make_windows_image(base):
    """A mounted Windows system drive under ``base`` (a pathlib.Path) with real hives.

    Machine: KES and Network Agent (MSI keys under WOW6432Node), WeChat 3.x (NSIS key WeChat),
    WeCom (key 企业微信), Tencent QQ (two keys) and ESET as lookalikes, an entry without
    DisplayName, 7-Zip; service klnagent (current control set), a driver named KAVFS and an AVP
    service only in the control set that is not current; WeChat in Program Files (x86) and a stray
    copy in Program Files; WindowsApps with the WeChat desktop-bridge package and the calculator;
    TikTok provisioned. Users: alice (DeepSeek Harness per-user key and directory, WeChat UWP for
    her SID in the AppX store) and bob (hive file named ntuser.dat, Spotify, WeChat 3.x user data).
    Directory names vary in case where Windows would not care.
    """
    root = base / "win"
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    write_hive(config / "SOFTWARE", software_keys(), file_name="\\SystemRoot\\System32\\Config\\SOFTWARE")
    write_hive(config / "SYSTEM", system_keys(), file_name="SYSTEM")
    for rel in ("Users/alice/AppData/Local/Programs/DeepSeek Harness",
                "Users/alice/AppData/Roaming",
                "Users/bob/AppData/Roaming/Tencent/WeChat",
                "Program Files (x86)/Tencent/WeChat",
                "Program Files (x86)/kaspersky lab/networkagent",
                "Program Files/Tencent/WeChat",
                "Program Files/WindowsApps/%s/WeChatStore" % WECHAT_APPX,
                "Program Files/WindowsApps/%s" % CALC_APPX,
                "Program Files/WindowsApps/Deleted",
                "ProgramData/Microsoft"):
        (root / rel).mkdir(parents=True)
    (root / "Program Files (x86)/Tencent/WeChat/WeChat.exe").write_bytes(b"MZ")
    (root / "Program Files/Tencent/WeChat/WeChat.exe").write_bytes(b"MZ")
    (root / ("Program Files/WindowsApps/%s/WeChatStore/WeChatStore.exe" % WECHAT_APPX)).write_bytes(b"MZ")
    (root / "Users/alice/AppData/Local/Programs/DeepSeek Harness/DeepSeek Harness.exe").write_bytes(b"MZ")
    write_hive(root / "Users/alice/NTUSER.DAT", ALICE_KEYS, file_name="\\??\\C:\\Users\\alice\\ntuser.dat")
    write_hive(root / "Users/bob/ntuser.dat", BOB_KEYS, file_name="\\??\\C:\\Users\\bob\\ntuser.dat")
    return root
