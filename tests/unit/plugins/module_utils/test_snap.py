# -*- coding: utf-8 -*-
"""Snaps from /var/lib/snapd/snaps and /snap/<name>/current."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.snap import list_snap

Q = compile_query({"snap": {"names": ["wechat", "tiktok"], "regex": ["deepseek.*"]}}).sources["snap"]


def test_image_and_live_layouts(tmp_path):
    snaps = tmp_path / "var" / "lib" / "snapd" / "snaps"
    snaps.mkdir(parents=True)
    for f in ["core22_1380.snap", "wechat_7.snap", "wechat_9.snap", "deepseek-desktop_x1.snap",
              "wechat_work_3.snap", "partial.snap", "notasnap.txt"]:
        (snaps / f).write_bytes(b"hsqs")
    (snaps / "tiktok_5.snap").mkdir()  # a directory is not a snap file
    (snaps / "partial").mkdir()
    mnt = tmp_path / "snap"
    (mnt / "wechat" / "9" / "meta").mkdir(parents=True)
    (mnt / "wechat" / "9" / "meta" / "snap.yaml").write_text(
        "name: wechat\nversion: '4.0.1.11' # upstream\nsummary: x\n")
    os.symlink("9", str(mnt / "wechat" / "current"))
    (mnt / "bin").mkdir()
    (mnt / "README").write_text("x")
    fs = RootFS(str(tmp_path))
    ok, recs, examined = list_snap(fs, Q)
    assert ok is True
    assert examined == 4  # core22, deepseek-desktop, wechat, wechat_work
    assert recs == [
        {"name": "deepseek-desktop", "scope": "machine", "revision": "x1",
         "path": "/var/lib/snapd/snaps/deepseek-desktop_x1.snap", "revisions": ["x1"]},
        {"name": "wechat", "scope": "machine", "version": "4.0.1.11", "path": "/snap/wechat",
         "revision": "9", "revisions": ["7", "9"]},
        {"name": "wechat", "instance": "wechat_work", "scope": "machine", "revision": "3",
         "path": "/var/lib/snapd/snaps/wechat_work_3.snap", "revisions": ["3"]},
    ]


def test_no_snapd(tmp_path):
    assert list_snap(RootFS(str(tmp_path)), Q) == (False, [], 0)
