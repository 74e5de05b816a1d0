# -*- coding: utf-8 -*-
"""The descriptor walk shared by archive, quarantine copies and purge (``_dirwalk.walk_at``, ``open_verified``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._fs import dirwalk as _dirwalk
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import (
    EntryChanged, lstat_at, open_verified, walk_at)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.tests.unit.helpers.hostile_fs import (
    SECRET, SwapHook, plant_secret, replace_with)


def walk(top, **kwargs):
    parent_fd = os.open(os.path.dirname(str(top)), os.O_RDONLY | os.O_DIRECTORY)
    try:
        st = lstat_at(parent_fd, os.path.basename(str(top)))
        out = []
        for node in walk_at(parent_fd, os.path.basename(str(top)), st, **kwargs):
            out.append(("/".join(node.parts), node.kind, node.link or node.reason,
                        None if node.fd is None else stat.S_IFMT(os.fstat(node.fd).st_mode)))
        return out
    finally:
        os.close(parent_fd)


def open_fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def test_walk_order_kinds_and_descriptors(tmp_path):
    top = tmp_path / "top"
    (top / "b" / "c").mkdir(parents=True)
    (top / "a.txt").write_bytes(b"a")
    (top / "b" / "c" / "d.txt").write_bytes(b"d")
    os.symlink("/etc/passwd", str(top / "b" / "link"))
    os.mkfifo(str(top / "fifo"))
    before = open_fds()
    assert walk(top) == [
        ("", "dir", None, stat.S_IFDIR),
        ("a.txt", "file", None, stat.S_IFREG),
        ("b", "dir", None, stat.S_IFDIR),
        ("b/c", "dir", None, stat.S_IFDIR),
        ("b/c/d.txt", "file", None, stat.S_IFREG),
        ("b/c", "leave", None, stat.S_IFDIR),
        ("b/link", "link", "/etc/passwd", None),
        ("b", "leave", None, stat.S_IFDIR),
        ("fifo", "special", "a fifo; never opened", None),
        ("", "leave", None, stat.S_IFDIR),
    ]
    assert open_fds() == before
    assert [k for p, k, r, t in walk(top, open_files=False) if p == "a.txt"] == ["file"]
    assert [t for p, k, r, t in walk(top, open_files=False) if p == "a.txt"] == [None]


def test_a_walk_stopped_early_closes_its_descriptors(tmp_path):
    top = tmp_path / "top"
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "a" / "b" / "c" / "f").write_bytes(b"f")
    before = open_fds()
    parent_fd = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    walker = walk_at(parent_fd, "top", lstat_at(parent_fd, "top"))
    for node in walker:
        if node.kind == "file":
            break
    walker.close()
    os.close(parent_fd)
    assert open_fds() == before


def test_depth_limit(tmp_path, monkeypatch):
    top = tmp_path / "top"
    (top / "1" / "2" / "3").mkdir(parents=True)
    monkeypatch.setattr(_dirwalk, "MAX_DEPTH", 2)
    assert [(p, k, r) for p, k, r, t in walk(top) if k in ("dir", "error")] == [
        ("", "dir", None), ("1", "dir", None), ("1/2", "error", "more than 2 directory levels deep")]


@pytest.mark.parametrize("kind", ["link", "fifo"])
@pytest.mark.parametrize("entry", ["dir", "file"])
def test_open_verified_refuses_what_was_swapped_after_the_lstat(tmp_path, kind, entry):
    top = tmp_path / "top"
    top.mkdir()
    if entry == "dir":
        (top / "x").mkdir()
    else:
        (top / "x").write_bytes(b"x")
    secret_dir, secret = plant_secret(tmp_path)
    fd = os.open(str(top), os.O_RDONLY | os.O_DIRECTORY)
    try:
        st = lstat_at(fd, "x")
        replace_with(kind, secret_dir if entry == "dir" else secret)(str(top / "x"))
        with pytest.raises(EntryChanged) as caught:
            open_verified(fd, "x", st)
        assert str(caught.value).startswith("replaced while being read")
        # a plain rename of another object of the same type onto the name is caught by the inode
        os.unlink(str(top / "x"))
        if entry == "dir":
            (top / "y").mkdir()
        else:
            (top / "y").write_bytes(b"y")
        os.rename(str(top / "y"), str(top / "x"))
        with pytest.raises(EntryChanged):
            open_verified(fd, "x", st)
    finally:
        os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0 or not hasattr(os, "O_PATH"), reason="mknod needs root; O_PATH is Linux")
def test_a_device_node_swapped_in_for_a_file_is_never_opened(tmp_path, monkeypatch):
    """Linux: the file is opened O_PATH first; its type is checked before anything is opened for reading."""
    top = tmp_path / "top"
    top.mkdir()
    (top / "x").write_bytes(b"x")
    opened = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if stat.S_ISCHR(os.fstat(fd).st_mode) and not flags & os.O_PATH:
            opened.append(path)
        return fd

    fd = real_open(str(top), os.O_RDONLY | os.O_DIRECTORY)
    try:
        st = lstat_at(fd, "x")
        os.unlink(str(top / "x"))
        os.mknod(str(top / "x"), stat.S_IFCHR | 0o600, os.makedev(1, 3))
        monkeypatch.setattr(os, "open", spy)
        with pytest.raises(EntryChanged) as caught:
            open_verified(fd, "x", st)
        monkeypatch.undo()
    finally:
        os.close(fd)
    assert str(caught.value) == "replaced while being read (now a device)"
    assert opened == []


def test_purge_of_a_sub_folder_swapped_for_a_link_keeps_the_target(tmp_path, monkeypatch):
    data = tmp_path / "home" / "alice" / ".xwechat"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "msg.db").write_bytes(b"m")
    secret_dir, secret = plant_secret(tmp_path)
    hook = SwapHook(monkeypatch, data, "sub", replace_with("link", secret_dir), "lstat")
    options = {"run_id": "r1", "quarantine_dir": str(tmp_path / "q"), "archive_dir": str(tmp_path / "a"),
               "homes": [str(tmp_path / "home" / "alice")]}
    res = run_plan([{"id": 1, "kind": "purge", "path": str(data), "type": "dir"}], options)[0]
    monkeypatch.undo()
    assert hook.fired
    assert res["status"] == "failed"
    assert "sub: replaced while being read" in res["msg"]
    assert open(secret, "rb").read() == SECRET
    assert os.readlink(str(data / "sub")) == secret_dir
