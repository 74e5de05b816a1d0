# -*- coding: utf-8 -*-
"""Flatpak installs read from the file system: system, extra and per-user installations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.flatpak import (
    extra_installations, list_flatpak)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

Q = compile_query({"flatpak": {"names": ["com.tencent.WeChat"], "regex": ["com\\.qq\\..*"]}}).sources["flatpak"]

METAINFO = b"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>com.tencent.WeChat</id>
  <releases>
    <release version="4.0.1.11" date="2025-01-01"/>
    <release version="3.9" date="2024-01-01"/>
  </releases>
</component>
"""


def deploy(base, app_id, arch="x86_64", branch="stable", commit="abc123", metainfo=None, active=True):
    d = base / "app" / app_id / arch / branch
    (d / commit / "files" / "share" / "metainfo").mkdir(parents=True)
    if active:
        os.symlink(commit, str(d / "active"))
    if metainfo is not None:
        (d / commit / "files" / "share" / "metainfo" / (app_id + ".metainfo.xml")).write_bytes(metainfo)
    cur = base / "app" / app_id / "current"
    if not os.path.lexists(str(cur)):
        os.symlink("%s/%s" % (arch, branch), str(cur))


def test_system_user_and_extra(tmp_path):
    sysbase = tmp_path / "var" / "lib" / "flatpak"
    deploy(sysbase, "com.tencent.WeChat", metainfo=METAINFO)
    deploy(sysbase, "com.tencent.WeChat", arch="aarch64", commit="def")
    deploy(sysbase, "org.mozilla.firefox")
    deploy(sysbase, "com.qq.QQ", branch="beta", active=False)  # not deployed
    home = tmp_path / "home" / "alice"
    deploy(home / ".local" / "share" / "flatpak", "com.qq.Music", branch="master")
    conf = tmp_path / "etc" / "flatpak" / "installations.d"
    conf.mkdir(parents=True)
    (conf / "extra.conf").write_text('[Installation "extra"]\nPath=/srv/flatpak\nDisplayName=Extra\n')
    deploy(tmp_path / "srv" / "flatpak", "com.tencent.WeChat", branch="stable", commit="e1")
    fs = RootFS(str(tmp_path))
    users = [{"name": "alice", "vhome": "/home/alice", "rhome": "/home/alice"}]
    ok, recs, examined = list_flatpak(fs, Q, users)
    assert ok is True
    assert examined == 5  # ids: 3 system, 1 extra, 1 user
    assert recs == [
        {"name": "com.tencent.WeChat", "scope": "machine", "arch": "aarch64", "branch": "stable",
         "path": "/var/lib/flatpak/app/com.tencent.WeChat/aarch64/stable", "commit": "def"},
        {"name": "com.tencent.WeChat", "scope": "machine", "arch": "x86_64", "branch": "stable",
         "path": "/var/lib/flatpak/app/com.tencent.WeChat/x86_64/stable", "commit": "abc123",
         "version": "4.0.1.11"},
        {"name": "com.tencent.WeChat", "scope": "machine", "arch": "x86_64", "branch": "stable",
         "path": "/srv/flatpak/app/com.tencent.WeChat/x86_64/stable", "commit": "e1",
         "installation": "extra"},
        {"name": "com.qq.Music", "scope": "user:alice", "arch": "x86_64", "branch": "master",
         "path": "/home/alice/.local/share/flatpak/app/com.qq.Music/x86_64/master", "commit": "abc123"},
    ]
    assert fs.warnings == []


def test_no_flatpak_is_unavailable(tmp_path):
    fs = RootFS(str(tmp_path))
    assert list_flatpak(fs, Q, []) == (False, [], 0)


def test_extra_installations_parsing(tmp_path):
    conf = tmp_path / "etc" / "flatpak" / "installations.d"
    conf.mkdir(parents=True)
    (conf / "a.conf").write_text('# comment\n[Installation "one"]\nPath=/opt/fp1\n\n'
                                 '[Other]\nPath=/not/this\n[Installation "two"]\nPath = relative\n'
                                 '[Installation "three"]\nPath=/opt/fp3\n')
    (conf / "ignored.txt").write_text('[Installation "x"]\nPath=/x\n')
    assert extra_installations(RootFS(str(tmp_path))) == [("one", "/opt/fp1"), ("three", "/opt/fp3")]
