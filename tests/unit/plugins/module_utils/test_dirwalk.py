# -*- coding: utf-8 -*-
"""The descriptor walk shared by archive, quarantine copies and purge (``_dirwalk.walk_at``, ``open_verified``),
and the size walk built on it (``tree_usage``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._fs import dirwalk as _dirwalk
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import (
    EntryChanged, lstat_at, open_verified, tree_usage, walk_at)
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


# --- tree_usage: the size walk before a copy or an archive -------------------------------------------------

def usage_of(top, **kwargs):
    parent_fd = os.open(os.path.dirname(str(top)), os.O_RDONLY | os.O_DIRECTORY)
    try:
        return tree_usage([(parent_fd, os.path.basename(str(top)), lstat_at(parent_fd, os.path.basename(str(top))))],
                          **kwargs)
    finally:
        os.close(parent_fd)


def lstat_sums(paths):
    """What the entries ``paths`` take, from ``os.lstat`` of each: (allocated bytes, sizes of the regular files)."""
    sts = [os.lstat(str(p)) for p in paths]
    return sum(st.st_blocks * 512 for st in sts), sum(st.st_size for st in sts if stat.S_ISREG(st.st_mode))


def test_tree_usage_counts_allocated_blocks_sizes_and_entries(tmp_path):
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "a.db").write_bytes(os.urandom(200000))
    (top / "b.txt").write_bytes(b"b" * 5000)
    os.symlink("sub/a.db", str(top / "link"))
    os.mkfifo(str(top / "pipe"))
    with open(str(top / "sparse"), "wb") as handle:      # 1 GiB apparent size, one block of data
        handle.write(b"x")
        handle.truncate(1 << 30)
    entries = [top, top / "sub", top / "sub" / "a.db", top / "b.txt", top / "link", top / "pipe", top / "sparse"]
    allocated, file_bytes = lstat_sums(entries)
    usage = usage_of(top)
    assert (usage.allocated, usage.file_bytes, usage.entries, usage.unread, usage.complete) == (
        allocated, file_bytes, len(entries), 0, True)
    assert usage.allocated < 1 << 20, "a hole was counted as allocated"


def test_tree_usage_counts_a_link_to_a_huge_tree_as_the_link_only(tmp_path):
    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "big.bin").write_bytes(os.urandom(4 << 20))
    top = tmp_path / "top"
    top.mkdir()
    os.symlink(str(huge), str(top / "to-huge"))
    os.symlink(str(huge / "big.bin"), str(top / "to-big"))
    usage = usage_of(top)
    assert (usage.allocated, usage.file_bytes, usage.entries) == (
        lstat_sums([top, top / "to-huge", top / "to-big"])[0], 0, 3)
    assert usage.allocated < 1 << 20, "the link's target was counted"


def test_tree_usage_of_a_top_that_is_a_link_is_the_link(tmp_path):
    (tmp_path / "huge").mkdir()
    (tmp_path / "huge" / "big.bin").write_bytes(os.urandom(1 << 20))
    os.symlink(str(tmp_path / "huge"), str(tmp_path / "top"))
    usage = usage_of(tmp_path / "top")
    assert (usage.allocated, usage.entries) == (lstat_sums([tmp_path / "top"])[0], 1)


def test_tree_usage_stops_at_its_entry_bound_with_a_lower_bound(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    for number in range(10):
        (top / ("f%d" % number)).write_bytes(os.urandom(10000))
    full = usage_of(top)
    assert (full.entries, full.complete) == (11, True)
    bounded = usage_of(top, max_entries=4)
    assert (bounded.entries, bounded.complete) == (4, False)
    assert bounded.allocated == lstat_sums([top] + [top / ("f%d" % n) for n in range(3)])[0]
    assert usage_of(top, max_entries=11).complete is True      # exactly the bound: nothing was left out


def test_tree_usage_stops_when_its_time_is_over(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    for number in range(10):
        (top / ("f%d" % number)).write_bytes(b"x")
    asked = []

    def expired():
        asked.append(1)
        return len(asked) > 5
    usage = usage_of(top, expired=expired)
    assert (usage.entries, usage.complete) == (5, False)


def test_tree_usage_counts_an_unreadable_sub_folder_as_nothing_and_goes_on(tmp_path, monkeypatch):
    top = tmp_path / "top"
    (top / "a-locked").mkdir(parents=True)
    (top / "a-locked" / "inside.bin").write_bytes(os.urandom(1 << 20))
    (top / "b.txt").write_bytes(b"b" * 5000)
    locked = os.stat(str(top / "a-locked"))
    real_listdir = os.listdir

    def listdir(path="."):
        if isinstance(path, int) and (os.fstat(path).st_dev, os.fstat(path).st_ino) == (locked.st_dev, locked.st_ino):
            raise OSError(errno.EACCES, "Permission denied")     # what root meets on a FUSE or NFS root_squash dir
        return real_listdir(path)
    monkeypatch.setattr(os, "listdir", listdir)
    before = open_fds()
    usage = usage_of(top)
    assert open_fds() == before
    allocated, file_bytes = lstat_sums([top, top / "b.txt"])
    assert (usage.allocated, usage.file_bytes, usage.entries, usage.unread, usage.complete) == (
        allocated, file_bytes, 2, 1, True)


def test_tree_usage_stopped_at_its_bound_closes_its_descriptors(tmp_path):
    top = tmp_path / "top"
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "a" / "b" / "c" / "f").write_bytes(b"f")
    before = open_fds()
    assert usage_of(top, max_entries=3).complete is False
    assert open_fds() == before
