# -*- coding: utf-8 -*-
"""Build a simulated macOS system volume under a directory, with real XML and binary plists.

    root = build_macos_tree(tmp_path / "mac", users=("alice", "bob"), extra=None, hostile=False)

The layout follows a real macOS volume: ``/var``, ``/etc`` and ``/tmp`` are relative symbolic links
into ``/private``; users live in ``/Users`` (plus ``Shared``, ``Guest`` and ``.localized``, which
are not users) with their records in the local directory node
(``/private/var/db/dslocal/nodes/Default/users/<name>.plist``: attribute arrays, binary for the
first user, XML for the others, as both occur); root's home is ``/var/root``.

Contents (``BANNED`` / ``LOOKALIKES`` below list what a scan must and must not find):

* applications: ``WeChat.app`` (``com.tencent.xinWeChat``, binary Info.plist), ``微信.app`` (same id,
  XML), ``企业微信.app`` (``com.tencent.WeWorkMac``), ``Kaspersky Anti-Virus For Mac.app``
  (``com.kaspersky.kav``, the legacy product of the public removal script) and, one folder down,
  ``Kaspersky Lab/Kaspersky Security.app`` (``com.kaspersky.kes``: a made-up id in Kaspersky's
  namespace, modern ids are unconfirmed); lookalikes ``QQ.app`` (``com.tencent.qq``),
  ``Tencent Meeting.app`` (``com.tencent.meeting``), ``CapCut.app`` (``com.lemon.lvoverseas``),
  ``ClamXAV.app`` (``uk.co.markallan.clamxav``), ``Utilities/Terminal.app``; the first user has
  ``~/Applications/WeChat.app`` too;
* receipts in ``/var/db/receipts``: ``com.kaspersky.kav.application`` and ``com.kaspersky.kav.kext``
  (``.plist`` + ``.bom``), ``com.kaspersky.kav.uninstaller`` (``.bom`` only), lookalikes
  ``com.tencent.xinWeChat`` (WeChat ships as a DMG; no receipt signature exists) and
  ``com.apple.pkg.MRTConfigData``;
* launchd: ``/Library/LaunchDaemons/com.kaspersky.kav.plist``, the first user's
  ``~/Library/LaunchAgents/com.kaspersky.kav.gui.plist``; lookalikes ``com.tencent.meeting.daemon``
  and ``uk.co.markallan.clamxav.clamscheduler``;
* ``/Library/SystemExtensions/db.plist`` with a Kaspersky network extension (made-up id
  ``com.kaspersky.kav.netfilter``, team ``2Y8XE5CQ94``) and LuLu (``com.objective-see.lulu.extension``),
  and the legacy kext ``/Library/Extensions/klif.kext`` (``com.kaspersky.kext.klif``);
* Homebrew casks: ``/opt/homebrew/Caskroom/wechat/4.0.1`` (+ ``.metadata``), ``qq/6.9.50``,
  ``/usr/local/Caskroom/wechatwork/4.1.20``, ``wechatwebdevtools/1.06``;
* files: ``/Library/Application Support/Kaspersky Lab/KAV/Binaries``,
  ``/Library/Application Support/Kaspersky Lab/klnagent``, ``/Library/Caches/com.kaspersky.kav``;
  per user ``~/Library/Containers/com.tencent.xinWeChat/Data/Documents/xwechat_files``, for the
  first user also ``~/Library/Group Containers/5A4RE8SF68.com.tencent.xinWeChat`` and for the
  second ``~/Library/Preferences/com.kaspersky.kav.plist``.

``hostile=True`` adds: ``Passwd.app`` whose Info.plist links to ``/etc/passwd`` (absent in the
image), ``Escape.app`` whose Info.plist links (``../`` x 40) to a valid plist *outside* root
(``<root>/../outside/Info.plist``, id ``com.kaspersky.escape``), ``Huge.app`` (a 50 MB Info.plist,
sparse), ``Broken.app`` (malformed), ``Laughs.app`` (XML with entity declarations), ``Loop.app`` (a
link to itself), ``\\xff\\xfeWeChat.app`` (a non-UTF-8 name holding ``com.tencent.xinWeChat``) and a
malformed ``/Library/LaunchDaemons/com.kaspersky.avscan.plist``.

``extra`` maps paths relative to root to content: a dict/list (XML plist), ``("binary", value)``
(binary plist), ``bytes``/``str`` (file), ``None`` (directory) or ``("link", target)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import plistlib
from pathlib import Path

WECHAT = "com.tencent.xinWeChat"
DSLOCAL = "private/var/db/dslocal/nodes/Default/users"
FIRST_UID = 501


def _write(path, content):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, tuple) and content[0] == "link":
        os.symlink(content[1], str(path))
    elif isinstance(content, tuple) and content[0] == "binary":
        with open(str(path), "wb") as f:
            plistlib.dump(content[1], f, fmt=plistlib.FMT_BINARY)
    elif isinstance(content, (dict, list)):
        with open(str(path), "wb") as f:
            plistlib.dump(content, f, fmt=plistlib.FMT_XML)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is None:
        path.mkdir(parents=True, exist_ok=True)
    else:
        raise TypeError("unsupported content for %s: %r" % (path, content))


def app(root, rel, bundle_id, version, name, binary=False, executable=None):
    """An application bundle ``rel`` (``Applications/X.app``) with Contents/Info.plist."""
    info = {"CFBundleIdentifier": bundle_id, "CFBundleShortVersionString": version, "CFBundleVersion": version + ".1",
            "CFBundleName": name, "CFBundlePackageType": "APPL", "CFBundleExecutable": executable or name,
            "LSMinimumSystemVersion": "11.0"}
    _write(Path(root) / rel / "Contents/Info.plist", ("binary", info) if binary else info)
    _write(Path(root) / rel / "Contents/MacOS" / (executable or name), b"\xcf\xfa\xed\xfe")


def receipt(root, ident, version, bom=True):
    base = Path(root) / "private/var/db/receipts"
    _write(base / (ident + ".plist"), {"PackageIdentifier": ident, "PackageVersion": version,
                                       "InstallPrefixPath": "/", "InstallProcessName": "installer",
                                       "PackageFileName": ident + ".pkg"})
    if bom:
        _write(base / (ident + ".bom"), b"BOMStore")


def launchd(path, label, program):
    _write(path, {"Label": label, "ProgramArguments": [program, "--daemon"], "RunAtLoad": True,
                  "KeepAlive": True})


# What a scan of the default tree (users alice and bob) must find, as (id, source, name, scope, path).
BANNED = [
    ("kaspersky-macos", "bundle", "com.kaspersky.kav", "machine", "/Applications/Kaspersky Anti-Virus For Mac.app"),
    ("kaspersky-macos", "bundle", "com.kaspersky.kes", "machine", "/Applications/Kaspersky Lab/Kaspersky Security.app"),
    ("kaspersky-macos", "file", "/Applications/Kaspersky Anti-Virus For Mac.app", "machine",
     "/Applications/Kaspersky Anti-Virus For Mac.app"),
    ("kaspersky-macos", "file", "/Library/Application Support/Kaspersky Lab/KAV", "machine",
     "/Library/Application Support/Kaspersky Lab/KAV"),
    ("kaspersky-macos", "launchd", "com.kaspersky.kav", "machine", "/Library/LaunchDaemons/com.kaspersky.kav.plist"),
    ("kaspersky-macos", "launchd", "com.kaspersky.kav.gui", "user:alice",
     "/Users/alice/Library/LaunchAgents/com.kaspersky.kav.gui.plist"),
    ("kaspersky-macos", "pkg-receipt", "com.kaspersky.kav.application", "machine",
     "/var/db/receipts/com.kaspersky.kav.application.plist"),
    ("kaspersky-macos", "pkg-receipt", "com.kaspersky.kav.kext", "machine", "/var/db/receipts/com.kaspersky.kav.kext.plist"),
    ("kaspersky-macos", "pkg-receipt", "com.kaspersky.kav.uninstaller", "machine",
     "/var/db/receipts/com.kaspersky.kav.uninstaller.bom"),
    ("kaspersky-macos", "sysext", "com.kaspersky.kav.netfilter", "machine",
     "/Library/SystemExtensions/9D1A3C4E-1B2C-4D5E-8F90-A1B2C3D4E5F6/com.kaspersky.kav.netfilter.systemextension"),
    ("kaspersky-macos", "sysext", "com.kaspersky.kext.klif", "machine", "/Library/Extensions/klif.kext"),
    ("kaspersky-network-agent", "file", "/Library/Application Support/Kaspersky Lab/klnagent", "machine",
     "/Library/Application Support/Kaspersky Lab/klnagent"),
    ("wechat", "bundle", WECHAT, "machine", "/Applications/WeChat.app"),
    ("wechat", "bundle", WECHAT, "machine", "/Applications/微信.app"),
    ("wechat", "bundle", WECHAT, "user:alice", "/Users/alice/Applications/WeChat.app"),
    ("wechat", "cask", "wechat", "machine", "/opt/homebrew/Caskroom/wechat"),
    ("wechat", "file", "/Applications/WeChat.app", "machine", "/Applications/WeChat.app"),
    ("wechat", "file", "/Applications/微信.app", "machine", "/Applications/微信.app"),
    ("wecom", "bundle", "com.tencent.WeWorkMac", "machine", "/Applications/企业微信.app"),
    ("wecom", "cask", "wechatwork", "machine", "/usr/local/Caskroom/wechatwork"),
    ("wecom", "file", "/Applications/企业微信.app", "machine", "/Applications/企业微信.app"),
]
# Extra findings in a hostile tree.
BANNED_HOSTILE = [
    ("kaspersky-macos", "launchd", "com.kaspersky.avscan", "machine", "/Library/LaunchDaemons/com.kaspersky.avscan.plist"),
    ("wechat", "bundle", WECHAT, "machine", "/Applications/\\xff\\xfeWeChat.app"),
]
# Identifiers present in the tree that no finding may name.
LOOKALIKES = ["com.tencent.qq", "com.tencent.meeting", "com.lemon.lvoverseas", "uk.co.markallan.clamxav",
              "com.apple.Terminal", "com.apple.pkg.MRTConfigData", "com.tencent.meeting.daemon",
              "uk.co.markallan.clamxav.clamscheduler", "com.objective-see.lulu.extension", "qq", "wechatwebdevtools",
              "com.tencent.xinWeChat.pkg", "com.kaspersky.escape"]


def build_macos_tree(root, users=("alice", "bob"), extra=None, hostile=False):
    """Create the tree under ``root`` (created if needed) and return ``root`` as a Path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for d in ("private/var/root", "private/etc", "private/tmp", "Library/Preferences"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for name in ("var", "etc", "tmp"):
        os.symlink("private/" + name, str(root / name))
    _write(root / "System/Library/CoreServices/SystemVersion.plist",
           {"ProductName": "macOS", "ProductVersion": "14.5", "ProductBuildVersion": "23F79",
            "ProductCopyright": "1983-2024 Apple Inc."})
    _write(root / "Users/.localized", b"")
    _write(root / "Users/Shared/.localized", b"")
    (root / "Users/Guest").mkdir()

    # local directory node: root, a daemon account and the users
    _write(root / DSLOCAL / "root.plist", {"name": ["root"], "uid": ["0"], "gid": ["0"], "home": ["/var/root"],
                                           "shell": ["/bin/sh"]})
    _write(root / DSLOCAL / "_www.plist", {"name": ["_www"], "uid": ["70"], "gid": ["70"], "home": ["/Library/WebServer"]})
    for i, user in enumerate(users):
        record = {"name": [user], "uid": [str(FIRST_UID + i)], "gid": ["20"], "home": ["/Users/" + user],
                  "shell": ["/bin/zsh"], "realname": [user.title()], "jpegphoto": [b"\xff\xd8" * 1000]}
        _write(root / DSLOCAL / (user + ".plist"), ("binary", record) if i == 0 else record)
        home = root / "Users" / user
        for d in ("Desktop", "Documents", "Library/Preferences", "Library/LaunchAgents"):
            (home / d).mkdir(parents=True, exist_ok=True)
        _write(home / "Library/Containers" / WECHAT / "Data/Documents/xwechat_files/wxid_x/msg/file", b"chat")
        _write(home / "Library/Preferences/com.apple.finder.plist", {"ShowPathbar": True})
        if i == 0:
            _write(home / "Library/Group Containers" / ("5A4RE8SF68." + WECHAT) / "Library/data", b"x")
            app(root, "Users/%s/Applications/WeChat.app" % user, WECHAT, "4.0.1", "WeChat", binary=True)
            launchd(home / "Library/LaunchAgents/com.kaspersky.kav.gui.plist", "com.kaspersky.kav.gui",
                    "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/MacOS/Kaspersky Anti-Virus For Mac")
            launchd(home / "Library/LaunchAgents/com.tencent.meeting.daemon.plist", "com.tencent.meeting.daemon",
                    "/Applications/Tencent Meeting.app/Contents/MacOS/TencentMeetingDaemon")
        if i == 1:
            _write(home / "Library/Preferences/com.kaspersky.kav.plist", {"LastScan": 1})

    # applications
    app(root, "Applications/WeChat.app", WECHAT, "4.0.1", "WeChat", binary=True)
    app(root, "Applications/微信.app", WECHAT, "3.8.10", "WeChat", executable="WeChat")
    app(root, "Applications/企业微信.app", "com.tencent.WeWorkMac", "4.1.20", "企业微信", executable="WeWorkMac")
    app(root, "Applications/Kaspersky Anti-Virus For Mac.app", "com.kaspersky.kav", "16.0.0", "Kaspersky Anti-Virus")
    app(root, "Applications/Kaspersky Lab/Kaspersky Security.app", "com.kaspersky.kes", "12.0.0", "Kaspersky Security")
    app(root, "Applications/QQ.app", "com.tencent.qq", "6.9.50", "QQ", binary=True)
    app(root, "Applications/Tencent Meeting.app", "com.tencent.meeting", "3.28.0", "TencentMeeting")
    app(root, "Applications/CapCut.app", "com.lemon.lvoverseas", "4.0.0", "CapCut")
    app(root, "Applications/ClamXAV.app", "uk.co.markallan.clamxav", "3.7.1", "ClamXAV")
    app(root, "Applications/Utilities/Terminal.app", "com.apple.Terminal", "2.14", "Terminal")
    _write(root / "Applications/.localized", b"")

    # receipts
    receipt(root, "com.kaspersky.kav.application", "16.0.0")
    receipt(root, "com.kaspersky.kav.kext", "16.0.0")
    _write(root / "private/var/db/receipts/com.kaspersky.kav.uninstaller.bom", b"BOMStore")
    receipt(root, WECHAT + ".pkg", "4.0.1")
    receipt(root, "com.apple.pkg.MRTConfigData", "1.93")

    # launchd
    launchd(root / "Library/LaunchDaemons/com.kaspersky.kav.plist", "com.kaspersky.kav",
            "/Library/Application Support/Kaspersky Lab/KAV/Binaries/kav")
    launchd(root / "Library/LaunchDaemons/uk.co.markallan.clamxav.clamscheduler.plist",
            "uk.co.markallan.clamxav.clamscheduler", "/Applications/ClamXAV.app/Contents/MacOS/ClamScheduler")
    _write(root / "Library/LaunchAgents/com.tencent.meeting.daemon.plist",
           ("binary", {"Label": "com.tencent.meeting.daemon", "Program": "/Applications/Tencent Meeting.app/x"}))

    # system and kernel extensions
    kav_uuid = "9D1A3C4E-1B2C-4D5E-8F90-A1B2C3D4E5F6"
    lulu_uuid = "0F0E0D0C-0B0A-0908-0706-050403020100"
    _write(root / "Library/SystemExtensions/db.plist", {
        "version": 1,
        "extensions": [
            {"identifier": "com.kaspersky.kav.netfilter", "teamID": "2Y8XE5CQ94", "state": "activated_enabled",
             "originPath": "/Applications/Kaspersky Anti-Virus For Mac.app/Contents/Library/SystemExtensions/"
                           "com.kaspersky.kav.netfilter.systemextension",
             "stagedBundleURL": {"relative": "file:///Library/SystemExtensions/%s/"
                                             "com.kaspersky.kav.netfilter.systemextension/" % kav_uuid},
             "bundleVersion": {"CFBundleShortVersionString": "16.0.0", "CFBundleVersion": "16.0.0.100"},
             "categories": ["com.apple.system_extension.network_extension"], "uniqueID": kav_uuid},
            {"identifier": "com.objective-see.lulu.extension", "teamID": "VBG97UB4TA", "state": "activated_enabled",
             "originPath": "/Applications/LuLu.app/Contents/Library/SystemExtensions/"
                           "com.objective-see.lulu.extension.systemextension",
             "stagedBundleURL": {"relative": "file:///Library/SystemExtensions/%s/"
                                             "com.objective-see.lulu.extension.systemextension/" % lulu_uuid},
             "bundleVersion": {"CFBundleShortVersionString": "2.6.0"}, "uniqueID": lulu_uuid},
        ],
        "extensionPolicies": [],
    })
    app(root, "Library/SystemExtensions/%s/com.kaspersky.kav.netfilter.systemextension" % kav_uuid,
        "com.kaspersky.kav.netfilter", "16.0.0", "netfilter")
    app(root, "Library/Extensions/klif.kext", "com.kaspersky.kext.klif", "16.0.0", "klif")

    # Homebrew
    for d in ("opt/homebrew/Caskroom/wechat/4.0.1", "opt/homebrew/Caskroom/wechat/.metadata/4.0.1",
              "opt/homebrew/Caskroom/qq/6.9.50", "usr/local/Caskroom/wechatwork/4.1.20",
              "usr/local/Caskroom/wechatwebdevtools/1.06"):
        (root / d).mkdir(parents=True)

    # plain files and directories
    for d in ("Library/Application Support/Kaspersky Lab/KAV/Binaries",
              "Library/Application Support/Kaspersky Lab/klnagent/Binaries",
              "Library/Caches/com.kaspersky.kav"):
        (root / d).mkdir(parents=True)

    if hostile:
        _add_hostile(root)
    for rel, content in sorted((extra or {}).items()):
        _write(root / rel, content)
    return root


def _add_hostile(root):
    apps = root / "Applications"
    _write(apps / "Passwd.app/Contents/Info.plist", ("link", "/etc/passwd"))
    outside = root.parent / "outside"
    _write(outside / "Info.plist", {"CFBundleIdentifier": "com.kaspersky.escape", "CFBundleShortVersionString": "1"})
    _write(apps / "Escape.app/Contents/Info.plist", ("link", "../" * 40 + os.path.relpath(str(outside), "/")
                                                     + "/Info.plist"))
    huge = apps / "Huge.app/Contents/Info.plist"
    huge.parent.mkdir(parents=True)
    with open(str(huge), "wb") as f:
        f.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>')
        f.truncate(50 * 1024 * 1024)
    _write(apps / "Broken.app/Contents/Info.plist", b"<?xml version='1.0'?><plist><dict><key>CFBundleIdentifier")
    _write(apps / "Laughs.app/Contents/Info.plist",
           b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "com.tencent.xinWeChat">]>'
           b'<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>&a;</string></dict></plist>')
    os.symlink("Loop.app", str(apps / "Loop.app"))
    weird = os.path.join(os.fsencode(str(apps)), b"\xff\xfeWeChat.app", b"Contents")
    os.makedirs(weird)
    with open(os.path.join(weird, b"Info.plist"), "wb") as f:
        plistlib.dump({"CFBundleIdentifier": WECHAT, "CFBundleShortVersionString": "4.0.1"}, f,
                      fmt=plistlib.FMT_BINARY)
    _write(root / "Library/LaunchDaemons/com.kaspersky.avscan.plist", b"\x00\x01 not a plist")
