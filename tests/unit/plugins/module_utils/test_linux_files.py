# -*- coding: utf-8 -*-
"""AppImages, file signatures and desktop entries, including hostile trees."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._linux_files import (
    list_appimages, list_desktop, list_files, parse_desktop)
from ansible_collections.govsec.banned_software.plugins.module_utils._query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import RootFS

ALICE = {"name": "alice", "vhome": "/home/alice", "rhome": "/home/alice"}
BOB = {"name": "bob", "vhome": "/data/bob", "rhome": "/home/bob"}  # /home/bob -> /data/bob


@pytest.fixture
def tree(tmp_path):
    r = tmp_path
    (r / "opt" / "apps").mkdir(parents=True)
    (r / "opt" / "WeChat.AppImage").write_bytes(b"\x7fELF" + b"\0" * 60)
    (r / "opt" / "apps" / "deepseek-1.0.appimage").write_bytes(b"\x7fELF")
    (r / "opt" / "apps" / "deep" / "toodeep").mkdir(parents=True)
    (r / "opt" / "apps" / "deep" / "toodeep" / "WeChat.AppImage").write_bytes(b"x")
    (r / "opt" / "Dir.AppImage").mkdir()  # a directory is no AppImage
    (r / "usr" / "local" / "bin").mkdir(parents=True)
    os.symlink("/opt/WeChat.AppImage", str(r / "usr" / "local" / "bin" / "wechat.AppImage"))
    (r / "home" / "alice" / "Downloads").mkdir(parents=True)
    (r / "home" / "alice" / "Downloads" / "WeChat.AppImage").write_bytes(b"xx")
    (r / "home" / "alice" / "Downloads" / "notes.txt").write_bytes(b"")
    (r / "data" / "bob" / "Applications").mkdir(parents=True)
    (r / "data" / "bob" / "Applications" / "TikTok.AppImage").write_bytes(b"xyz")
    return r


def test_appimages(tree):
    fs = RootFS(str(tree))
    q = compile_query({"appimage": {"regex": ["(?i)wechat.*\\.appimage", "(?i)deepseek.*", "TikTok.*"]}})
    ok, recs, examined = list_appimages(fs, q.sources["appimage"], [ALICE, BOB])
    assert ok is True
    assert examined == 5  # the directory and the too-deep file are not examined
    assert [(r["name"], r["path"], r["scope"], r["size"], r.get("link")) for r in recs] == [
        ("wechat.AppImage", "/usr/local/bin/wechat.AppImage", "machine", 64, True),
        ("WeChat.AppImage", "/opt/WeChat.AppImage", "machine", 64, None),
        ("deepseek-1.0.appimage", "/opt/apps/deepseek-1.0.appimage", "machine", 4, None),
        ("WeChat.AppImage", "/home/alice/Downloads/WeChat.AppImage", "user:alice", 2, None),
        ("TikTok.AppImage", "/home/bob/Applications/TikTok.AppImage", "user:bob", 3, None),
    ]


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
    user_apps = tmp_path / "home" / "alice" / ".local" / "share" / "applications"
    user_apps.mkdir(parents=True)
    (user_apps / "wechat.desktop").write_bytes(b"[Desktop Entry]\nExec=/home/alice/wechat\n")
    fs = RootFS(str(tmp_path))
    q = compile_query({"desktop": {"names": ["wechat.desktop", "tiktok.desktop"]}})
    ok, recs, examined = list_desktop(fs, q.sources["desktop"], [ALICE])
    assert examined == 4
    assert recs == [
        {"name": "wechat.desktop", "scope": "machine", "path": "/usr/share/applications/wechat.desktop",
         "display_name": "WeChat", "exec": "/opt/wechat/wechat %U"},
        {"name": "wechat.desktop", "scope": "user:alice",
         "path": "/home/alice/.local/share/applications/wechat.desktop", "exec": "/home/alice/wechat"},
    ]
