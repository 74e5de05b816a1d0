# -*- coding: utf-8 -*-
"""AppImages, file signatures and desktop entries, including hostile trees."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux_files import (
    is_appimage, list_appimages, list_desktop, list_files, parse_desktop)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

ALICE = {"name": "alice", "vhome": "/home/alice", "rhome": "/home/alice"}
BOB = {"name": "bob", "vhome": "/data/bob", "rhome": "/home/bob"}  # /home/bob -> /data/bob


TYPE2 = b"\x7fELF\x02\x01\x01\x00AI\x02" + b"\0" * 53            # 64 bytes: ELF, AppImage type 2 magic
TYPE1 = b"\x7fELF\x01\x01\x01\x00AI\x01" + b"\0" * 5             # 16 bytes: ELF, AppImage type 1 magic
TYPE1_ISO = b"\x7fELF" + b"\0" * (0x8001 - 4) + b"CD001" + b"\0" * 8  # type 1 without the magic: ELF + ISO 9660


@pytest.fixture
def tree(tmp_path):
    r = tmp_path
    (r / "opt" / "apps").mkdir(parents=True)
    (r / "opt" / "WeChat.AppImage").write_bytes(TYPE2)
    (r / "opt" / "WeChatFake.AppImage").write_bytes(b"#!/bin/sh\necho wechat\n")   # named like one, is not
    (r / "opt" / "WeChatElf.AppImage").write_bytes(b"\x7fELF" + b"\0" * 60)          # ELF without the magic
    (r / "opt" / "apps" / "deepseek-1.0.appimage").write_bytes(TYPE1)
    (r / "opt" / "apps" / "deepseek-old.appimage").write_bytes(TYPE1_ISO)
    (r / "opt" / "apps" / "deep" / "toodeep").mkdir(parents=True)
    (r / "opt" / "apps" / "deep" / "toodeep" / "WeChat.AppImage").write_bytes(TYPE2)
    (r / "opt" / "Dir.AppImage").mkdir()  # a directory is no AppImage
    (r / "usr" / "local" / "bin").mkdir(parents=True)
    os.symlink("/opt/WeChat.AppImage", str(r / "usr" / "local" / "bin" / "wechat.AppImage"))
    (r / "etc").mkdir()
    (r / "etc" / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (r / "srv" / "shared").mkdir(parents=True)
    (r / "srv" / "shared" / "WeChat.AppImage").write_bytes(TYPE2)
    alice = r / "home" / "alice"
    (alice / "Downloads").mkdir(parents=True)
    (alice / "Downloads" / "WeChat.AppImage").write_bytes(TYPE2[:2] + b"")   # truncated: not an AppImage
    (alice / "Downloads" / "WeChat-4.0.AppImage").write_bytes(TYPE2)
    (alice / "Downloads" / "notes.txt").write_bytes(b"")
    (alice / "Applications").mkdir()
    (alice / "tools").mkdir()
    (alice / "tools" / "WeChat-x86_64.AppImage").write_bytes(TYPE2)
    # the user's own links: one that stays in the home (reported), one that leaves it (not the software)
    os.symlink("../tools/WeChat-x86_64.AppImage", str(alice / "Applications" / "WeChat.AppImage"))
    os.symlink("/etc/passwd", str(alice / "Applications" / "WeChatEvil.AppImage"))
    os.symlink("/opt/WeChat.AppImage", str(alice / "Applications" / "WeChatOpt.AppImage"))
    # a per-user directory that leads outside the home is not examined
    os.symlink("/srv/shared", str(alice / "AppImages"))
    (r / "data" / "bob" / "Applications").mkdir(parents=True)
    (r / "data" / "bob" / "Applications" / "TikTok.AppImage").write_bytes(TYPE2)
    return r


def test_appimages_are_identified_by_content_and_links_stay_in_the_home(tree):
    fs = RootFS(str(tree))
    q = compile_query({"appimage": {"regex": ["(?i)wechat.*\\.appimage", "(?i)deepseek.*", "TikTok.*"]}})
    ok, recs, examined = list_appimages(fs, q.sources["appimage"], [ALICE, BOB])
    assert ok is True
    # every regular *.AppImage reached without leaving a home: the directory, the too-deep file and the
    # links that leave alice's home are not examined
    assert examined == 10
    assert [(r["name"], r["path"], r["scope"], r["size"], r["type"], r.get("target")) for r in recs] == [
        ("wechat.AppImage", "/usr/local/bin/wechat.AppImage", "machine", 64, "link", "/opt/WeChat.AppImage"),
        ("WeChat.AppImage", "/opt/WeChat.AppImage", "machine", 64, "file", None),
        ("deepseek-1.0.appimage", "/opt/apps/deepseek-1.0.appimage", "machine", 16, "file", None),
        ("deepseek-old.appimage", "/opt/apps/deepseek-old.appimage", "machine", len(TYPE1_ISO), "file", None),
        ("WeChat.AppImage", "/home/alice/Applications/WeChat.AppImage", "user:alice", 64, "link",
         "/home/alice/tools/WeChat-x86_64.AppImage"),
        ("WeChat-4.0.AppImage", "/home/alice/Downloads/WeChat-4.0.AppImage", "user:alice", 64, "file", None),
        ("TikTok.AppImage", "/home/bob/Applications/TikTok.AppImage", "user:bob", 64, "file", None),
    ]
    assert fs.warnings == ["/home/alice/AppImages of alice leads outside their home (to /srv/shared): not examined "
                           "(AppImages)"]


@pytest.mark.parametrize("head, expected", [
    (TYPE2, True), (TYPE1, True), (TYPE1_ISO, True),
    (b"\x7fELF" + b"\0" * 60, False),             # an ELF program
    (b"\x7fELF\0\0\0\0AI", False),                # magic cut short
    (b"MZ\0\0\0\0\0\0AI\x02", False),            # the magic without ELF
    (b"root:x:0:0:root:/root:/bin/bash\n", False),
    (b"", False),
])
def test_is_appimage(head, expected):
    assert is_appimage(head) is expected


def test_a_planted_link_to_a_device_or_fifo_is_not_examined(tmp_path):
    home = tmp_path / "home" / "alice" / "Applications"
    home.mkdir(parents=True)
    os.mkfifo(str(tmp_path / "fifo"))
    os.symlink("/fifo", str(home / "WeChat.AppImage"))
    os.symlink("/dev/zero", str(home / "WeChat2.AppImage"))
    fs = RootFS(str(tmp_path))
    q = compile_query({"appimage": {"regex": ["(?i)wechat.*\\.appimage"]}})
    ok, recs, examined = list_appimages(fs, q.sources["appimage"], [ALICE])
    assert (recs, examined) == ([], 0)


def test_file_signatures_hostile_link_not_followed(tmp_path):
    r = tmp_path
    (r / "opt").mkdir()
    (r / "etc").mkdir()
    (r / "etc" / "shadow").write_text("root:*:1::::::\n")
    os.symlink("../../../../etc", str(r / "opt" / "wechat"))
    (r / "opt" / "kaspersky" / "kesl").mkdir(parents=True)
    (r / "opt" / "kaspersky" / "klnagent64").mkdir()
    (r / "opt" / "kaspersky" / "kesl.conf").write_text("")
    (r / "home" / "alice" / ".xwechat").mkdir(parents=True)
    (r / "data" / "bob").mkdir(parents=True)
    (r / "data" / "bob" / ".xwechat").write_text("")
    fs = RootFS(str(r))
    paths = ["/opt/wechat", "/opt/wechat/shadow", "/opt/kaspersky/kes?", "/opt/kaspersky/kl*",
             "/opt/missing", "~/.xwechat", "relative/path", "/opt/kaspersky/*.conf"]
    ok, recs, examined = list_files(fs, paths, [ALICE, BOB])
    assert ok is True
    assert recs == [
        {"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "link",
         "target": "../../../../etc"},
        # the parent link is followed inside root only: <root>/etc/shadow, never the host's
        {"name": "/opt/wechat/shadow", "path": "/opt/wechat/shadow", "scope": "machine", "type": "file"},
        {"name": "/opt/kaspersky/kesl", "path": "/opt/kaspersky/kesl", "scope": "machine", "type": "dir"},
        {"name": "/opt/kaspersky/klnagent64", "path": "/opt/kaspersky/klnagent64", "scope": "machine",
         "type": "dir"},
        {"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
         "type": "dir"},
        {"name": "/home/bob/.xwechat", "path": "/home/bob/.xwechat", "scope": "user:bob", "type": "file"},
        {"name": "/opt/kaspersky/kesl.conf", "path": "/opt/kaspersky/kesl.conf", "scope": "machine",
         "type": "file"},
    ]
    assert fs.warnings == ["file path relative/path is neither absolute nor ~/: ignored"]


def test_file_names_with_newline_and_invalid_utf8(tmp_path):
    (tmp_path / "opt").mkdir()
    open(os.path.join(os.fsencode(str(tmp_path)), b"opt", b"wechat\xff"), "wb").close()
    open(os.path.join(str(tmp_path), "opt", "wechat\nfake"), "w").close()
    fs = RootFS(str(tmp_path))
    ok, recs, examined = list_files(fs, ["/opt/wechat*"], [])
    assert [(r["name"], r["type"]) for r in recs] == [
        ("/opt/wechat\nfake", "file"), ("/opt/wechat\\xff", "file")]
    for r in recs:
        r["name"].encode("utf-8")  # valid text, JSON-safe


DESKTOP = b"""[Desktop Entry]
Name=WeChat
Name[zh_CN]=\xe5\xbe\xae\xe4\xbf\xa1
Exec=/opt/wechat/wechat %U
Exec[de]=ignored
Type=Application

[Desktop Action new]
Exec=/opt/wechat/wechat --new
"""


@pytest.mark.parametrize("data,expected", [
    (DESKTOP, {"display_name": "WeChat", "exec": "/opt/wechat/wechat %U"}),
    (b"[Other]\nExec=nope\n[Desktop Entry]\nExec = spaced \n", {"exec": "spaced"}),
    (b"Exec=before-any-group\n", {}),
    (b"[Desktop Entry]\nExec=bad\xffbyte\n", {"exec": "bad\\xffbyte"}),
    (b"", {}),
])
def test_parse_desktop(data, expected):
    assert parse_desktop(data) == expected


def test_desktop_entries(tmp_path):
    apps = tmp_path / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "wechat.desktop").write_bytes(DESKTOP)
    (apps / "firefox.desktop").write_bytes(b"[Desktop Entry]\nExec=firefox\n")
    (apps / "kesl-gui.desktop").mkdir()  # directory: skipped
    os.symlink("/etc/shadow", str(apps / "tiktok.desktop"))  # dangling inside root: skipped
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_bytes(b"[Desktop Entry]\nExec=/bin/sh\n")
    user_apps = tmp_path / "home" / "alice" / ".local" / "share" / "applications"
    user_apps.mkdir(parents=True)
    (user_apps / "wechat.desktop").write_bytes(b"[Desktop Entry]\nExec=/home/alice/wechat\n")
    (tmp_path / "home" / "alice" / "launchers").mkdir()
    (tmp_path / "home" / "alice" / "launchers" / "tt.desktop").write_bytes(b"[Desktop Entry]\nExec=/home/alice/tt\n")
    os.symlink("../../../launchers/tt.desktop", str(user_apps / "tiktok.desktop"))       # stays in the home
    os.symlink("/etc/passwd", str(user_apps / "wechat-evil.desktop"))                  # leaves it: not read
    fs = RootFS(str(tmp_path))
    q = compile_query({"desktop": {"names": ["wechat.desktop", "tiktok.desktop", "wechat-evil.desktop"]}})
    ok, recs, examined = list_desktop(fs, q.sources["desktop"], [ALICE])
    assert examined == 6
    assert recs == [
        {"name": "wechat.desktop", "scope": "machine", "path": "/usr/share/applications/wechat.desktop",
         "type": "file", "display_name": "WeChat", "exec": "/opt/wechat/wechat %U"},
        {"name": "tiktok.desktop", "scope": "user:alice", "type": "link",
         "path": "/home/alice/.local/share/applications/tiktok.desktop",
         "target": "/home/alice/launchers/tt.desktop", "exec": "/home/alice/tt"},
        {"name": "wechat.desktop", "scope": "user:alice", "type": "file",
         "path": "/home/alice/.local/share/applications/wechat.desktop", "exec": "/home/alice/wechat"},
    ]
