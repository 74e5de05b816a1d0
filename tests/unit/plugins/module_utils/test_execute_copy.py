# -*- coding: utf-8 -*-
"""Quarantine across file systems (rename says EXDEV): copied by verified descriptors, sparse-aware, bounded.

Where the test runs as root, the quarantine directory is a real tmpfs (a real EXDEV); otherwise, and in
the ``simulated`` cases, ``os.rename`` is made to answer EXDEV and the destination's writes are capped
as a small file system would cap them (the test names say which).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat
import time

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import paths
from ansible_collections.govsec.banned_software.plugins.module_utils._execute import limits as _execute_limits
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import DEFAULT_MAX_BYTES
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.tests.unit.helpers.hostile_fs import (
    SECRET, SwapHook, after_size_walk, alice_data_tree, can_mount, executor_options, in_child, replace_with, tmpfs)

TIB = 1024 ** 4
MIB = 1024 ** 2
SMALL_FS = 64 * MIB


@pytest.fixture
def tree(tmp_path):
    return alice_data_tree(tmp_path)


def opts(root, quarantine_dir=None, **extra):
    return executor_options(root, quarantine_dir=quarantine_dir or str(root / "q"), **extra)


def exdev(monkeypatch):
    """``os.rename`` of the quarantined path (the one given a ``src_dir_fd``) says EXDEV."""
    real_rename = os.rename

    def rename(src, dst, src_dir_fd=None, dst_dir_fd=None):
        if src_dir_fd is not None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(os, "rename", rename)


def small_destination(monkeypatch, limit=SMALL_FS):
    """Writes fail with ENOSPC once ``limit`` bytes were written, like a small file system."""
    written = [0]
    for name in ("write", "pwrite"):
        real = getattr(os, name)

        def capped(fd, data, *args, real=real):
            written[0] += len(data)
            if written[0] > limit:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(fd, data, *args)
        monkeypatch.setattr(os, name, capped)


def quarantine(root, path, kind="dir", quarantine_dir=None, **fields):
    step = {"id": 1, "kind": "quarantine", "path": str(path), "type": kind}
    step.update(fields)
    return run_plan([step], opts(root, quarantine_dir))[0]


def partials(where):
    found = []
    for dirpath, dirnames, filenames in os.walk(str(where)):
        found.extend(n for n in dirnames + filenames if ".partial" in n)
    return found


def make_sparse(path):
    """A 10 TiB file with 3 bytes at 0 and 4 bytes at 5 TiB: what ``truncate -s 10T`` and two writes make."""
    with open(str(path), "wb") as handle:
        handle.write(b"ELF")
        handle.seek(5 * TIB)
        handle.write(b"tail")
        handle.truncate(10 * TIB)


def sparse_checks(dest):
    st = os.stat(dest)
    fd = os.open(dest, os.O_RDONLY)
    try:
        return {"size": st.st_size, "allocated": st.st_blocks * 512, "head": os.pread(fd, 3, 0).decode(),
                "middle": os.pread(fd, 4, 5 * TIB).decode(), "zeros": os.pread(fd, 8, TIB).decode()}
    finally:
        os.close(fd)


# --- sparse files ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("destination", ["tmpfs", "simulated"])
def test_quarantine_of_a_10tib_sparse_file_across_file_systems_does_not_fill_the_disk(tree, monkeypatch, destination):
    apps = tree / "home" / "alice" / "Applications"
    apps.mkdir()
    src = apps / "WeChat.AppImage"
    make_sparse(src)

    def run(quarantine_dir):
        res = quarantine(tree, src, "file", quarantine_dir)
        return [res, sparse_checks(res["dest"]) if res.get("dest") else None]

    if destination == "tmpfs":
        if not can_mount():
            pytest.skip("a real second file system needs root (the simulated case runs instead)")
        with tmpfs("64m") as where:
            outcome, out = in_child(lambda: run(where), timeout=60)
            vfs = os.statvfs(where)
            used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
    else:
        exdev(monkeypatch)
        small_destination(monkeypatch)
        outcome, out = in_child(lambda: run(None), timeout=60)
        used = None
    assert outcome == "ok", (outcome, out)
    res, dest = out
    assert res["status"] == "changed", res["msg"]
    assert res["msg"] == "%s copied across file systems and removed to %s" % (src, res["dest"])
    assert dest == {"size": 10 * TIB, "allocated": dest["allocated"], "head": "ELF", "middle": "tail",
                    "zeros": "\x00" * 8}
    assert dest["allocated"] < 1 * MIB, "the copy allocated %d bytes" % dest["allocated"]
    if used is not None:
        assert used < 1 * MIB, "the destination file system has %d bytes used" % used
    assert not os.path.lexists(str(src))
    assert (res["manifest"]["size"], res["manifest"]["sha256"]) == (10 * TIB, None)


def test_quarantine_copy_without_seek_data_refuses_a_huge_sparse_file_at_once(tree, monkeypatch):
    """Where holes cannot be seen (no SEEK_DATA), a file larger than the limit is refused before it is read."""
    monkeypatch.delattr(os, "SEEK_DATA", raising=False)
    exdev(monkeypatch)
    small_destination(monkeypatch)
    src = tree / "home" / "alice" / ".xwechat" / "sub" / "huge.db"
    make_sparse(src)
    started = time.monotonic()
    outcome, res = in_child(lambda: quarantine(tree, src.parent.parent), timeout=30)
    assert outcome == "ok", (outcome, res)
    assert time.monotonic() - started < 30
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: %s (%d bytes) makes it more "
                          "than the size limit of %d bytes (max_bytes)"
                          % (src, 10 * TIB, DEFAULT_MAX_BYTES))
    assert os.stat(str(src)).st_size == 10 * TIB
    assert (src.parent / "msg.db").read_bytes() == b"messages"
    assert partials(tree / "q") == []


def test_quarantine_copy_without_seek_data_still_writes_zeros_as_holes(tree, monkeypatch):
    monkeypatch.delattr(os, "SEEK_DATA", raising=False)
    exdev(monkeypatch)
    src = tree / "home" / "alice" / "wechat-app"
    src.mkdir()
    body = b"A" * MIB + bytes(4 * MIB) + b"Z"
    (src / "app.bin").write_bytes(body)        # zeros written for real: allocated in the source
    res = quarantine(tree, src)
    assert res["status"] == "changed", res["msg"]
    copied = os.path.join(res["dest"], "app.bin")
    assert open(copied, "rb").read() == body
    assert os.stat(str(res["dest"])).st_size  # a directory
    allocated = os.stat(copied).st_blocks * 512
    assert allocated < 2 * MIB, "the 4 MiB of zeros were written (%d bytes allocated)" % allocated


# --- limits ------------------------------------------------------------------------------------------------

def test_quarantine_copy_over_the_size_limit_keeps_the_original(tree, monkeypatch):
    exdev(monkeypatch)
    data = tree / "home" / "alice" / ".xwechat"
    res = quarantine(tree, data, max_bytes=10)
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: %s (3 bytes) makes it more "
                          "than the size limit of 10 bytes (max_bytes)" % (data / "top.txt"))
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    assert partials(tree / "q") == []
    res = quarantine(tree, data, max_bytes=11)
    assert res["status"] == "changed", res["msg"]


def test_quarantine_copy_over_the_time_limit_keeps_the_original(tree, monkeypatch):
    exdev(monkeypatch)
    clock = [0.0]

    def monotonic():
        clock[0] += 1.0
        return clock[0]

    monkeypatch.setattr(_execute_limits, "_monotonic", monotonic)
    data = tree / "home" / "alice" / ".xwechat"
    res = quarantine(tree, data, timeout=2)
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: stopped after the time "
                          "limit of 2 s (timeout)")
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    assert partials(tree / "q") == []


def test_quarantine_copy_stops_before_the_destination_is_full(tree, monkeypatch):
    exdev(monkeypatch)

    class Full(object):
        f_blocks, f_bavail, f_frsize = 1000, 10, 4096

    real_statvfs = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda path: Full() if str(path).startswith(str(tree / "q")) else real_statvfs(path))
    data = tree / "home" / "alice" / ".xwechat"
    res = quarantine(tree, data)
    assert res["status"] == "failed"
    assert res["msg"].startswith("copy across file systems failed, original left in place: stopped: less than 5%% "
                                 "of the file system of %s" % (tree / "q"))
    assert (data / "top.txt").read_bytes() == b"top"


# --- a user racing the copy ----------------------------------------------------------------------------------

# What a user swaps in for an entry of their data (under tree/home/alice/.xwechat) while root copies it.
SWAPS = [
    ("sub", "link", "outside/secret-dir"),
    ("sub/msg.db", "link", "outside/secret-dir/shadow"),
    ("sub/msg.db", "fifo", None),
]


@pytest.mark.parametrize("entry, kind, target", SWAPS)
def test_quarantine_copy_of_an_entry_swapped_after_its_lstat_keeps_the_original(tree, monkeypatch, entry, kind, target):
    exdev(monkeypatch)
    data = tree / "home" / "alice" / ".xwechat"
    path = data / entry
    hook = after_size_walk(monkeypatch, SwapHook(monkeypatch, path.parent, path.name,
                                                 replace_with(kind, str(tree / target) if target else None), "lstat",
                                                 armed=False))
    outcome, res = in_child(lambda: [quarantine(tree, data), hook.fired], timeout=15)
    monkeypatch.undo()
    assert outcome == "ok", (outcome, res)
    res, fired = res
    assert fired
    assert res["status"] == "failed"
    assert res["msg"].startswith("copy across file systems failed, original left in place: %s: replaced while "
                                 "being read" % path), res["msg"]
    assert (path.parent / (path.name + ".moved")).exists()           # the user's own data, where they put it
    assert (data / "top.txt").read_bytes() == b"top"
    assert partials(tree / "q") == []
    for dirpath, dirnames, filenames in os.walk(str(tree / "q")):
        assert "shadow" not in filenames
    assert (tree / "outside" / "secret-dir" / "shadow").read_bytes() == SECRET


@pytest.mark.parametrize("entry, kind, target", SWAPS)
def test_quarantine_copy_of_an_entry_swapped_during_the_size_walk_never_follows_it(tree, monkeypatch, entry, kind, target):
    exdev(monkeypatch)
    data = tree / "home" / "alice" / ".xwechat"
    path = data / entry
    hook = after_size_walk(monkeypatch, SwapHook(monkeypatch, path.parent, path.name,
                                                 replace_with(kind, str(tree / target) if target else None), "lstat"))
    outcome, res = in_child(lambda: [quarantine(tree, data), hook.fired_in_size_walk], timeout=15)
    monkeypatch.undo()
    assert outcome == "ok", (outcome, res)
    res, fired_in_size_walk = res
    assert fired_in_size_walk, "the swap was not made during the size walk: the test would prove nothing"
    # The copy then meets the entry as what it now is: a link copied as a link, a FIFO recreated, never opened.
    assert res["status"] == "changed", res["msg"]
    moved = os.path.join(res["dest"], entry)
    if kind == "link":
        assert os.readlink(moved) == str(tree / target)
    else:
        assert stat.S_ISFIFO(os.lstat(moved).st_mode)
    for dirpath, dirnames, filenames in os.walk(str(tree / "q")):
        assert "shadow" not in filenames
    assert partials(tree / "q") == []
    assert (tree / "outside" / "secret-dir" / "shadow").read_bytes() == SECRET


def test_quarantine_copy_of_a_file_that_changes_while_read_keeps_the_original(tree, monkeypatch):
    exdev(monkeypatch)
    data = tree / "home" / "alice" / ".xwechat"
    real_pread = os.pread

    def pread(fd, size, offset):
        chunk = real_pread(fd, size, offset)
        with open(str(data / "top.txt"), "ab") as handle:   # the user appends meanwhile
            handle.write(b"+")
        return chunk

    monkeypatch.setattr(os, "pread", pread)
    res = quarantine(tree, data)
    assert res["status"] == "failed"
    assert res["msg"].endswith("changed while it was copied")
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    assert partials(tree / "q") == []


def test_quarantine_copy_keeps_the_original_when_it_is_replaced_before_removal(tree, monkeypatch):
    exdev(monkeypatch)
    data = tree / "home" / "alice" / ".xwechat"
    real_copy_tree = paths.copy_tree

    def copy_then_swap(*args, **kwargs):
        real_copy_tree(*args, **kwargs)
        os.rename(str(data), str(data) + ".moved")
        os.symlink(str(tree / "outside" / "secret-dir"), str(data))

    monkeypatch.setattr(paths, "copy_tree", copy_then_swap)
    res = quarantine(tree, data)
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: %s was replaced while it was "
                          "copied" % data)
    assert os.readlink(str(data)) == str(tree / "outside" / "secret-dir")
    assert (tree / "outside" / "secret-dir" / "shadow").read_bytes() == SECRET
    assert (tree / "home" / "alice" / ".xwechat.moved" / "top.txt").read_bytes() == b"top"
    assert partials(tree / "q") == []


# --- a real second file system ------------------------------------------------------------------------------

@pytest.mark.skipif(not can_mount(), reason="a real second file system needs root (simulated EXDEV cases run)")
def test_quarantine_of_a_tree_onto_a_real_tmpfs(tree):
    data = tree / "home" / "alice" / ".xwechat"
    os.symlink("/etc/shadow", str(data / "shadow-link"))
    os.mkfifo(str(data / "pipe"))
    os.chmod(str(data / "sub" / "msg.db"), 0o640)
    os.chown(str(data / "sub" / "msg.db"), 4242, 4243)
    os.utime(str(data / "sub" / "msg.db"), (1000000000, 1100000000))
    os.utime(str(data / "sub"), (1000000000, 1200000000))
    with tmpfs("16m") as where:
        res = quarantine(tree, data, quarantine_dir=where)
        assert res["status"] == "changed", res["msg"]
        dest = res["dest"]
        assert dest == where + "/r1" + str(data)
        assert res["msg"].endswith("copied across file systems and removed to %s" % dest)
        copied = os.lstat(os.path.join(dest, "sub", "msg.db"))
        assert (stat.S_IMODE(copied.st_mode), copied.st_uid, copied.st_gid, int(copied.st_mtime)) == (
            0o640, 4242, 4243, 1100000000)
        assert int(os.lstat(os.path.join(dest, "sub")).st_mtime) == 1200000000
        assert os.readlink(os.path.join(dest, "shadow-link")) == "/etc/shadow"
        assert stat.S_ISFIFO(os.lstat(os.path.join(dest, "pipe")).st_mode)
        assert open(os.path.join(dest, "top.txt"), "rb").read() == b"top"
        with open(os.path.join(where, "r1", "MANIFEST.jsonl")) as handle:
            moving, full = [json.loads(line) for line in handle]
            assert (moving["state"], moving["quarantined"]) == ("moving", dest)
            assert full["size"] == len(b"messages") + len(b"top")
        assert partials(where) == []
    assert not os.path.lexists(str(data))
    assert (tree / "outside" / "secret-dir" / "shadow").read_bytes() == SECRET
