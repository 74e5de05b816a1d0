# -*- coding: utf-8 -*-
"""Quarantine and archive under faults: killed at every system call, a full disk, a read-only file system.

A copy across file systems and an archive measure the data first (``Limits.measure``) and are refused before
anything is written when it does not fit above the destination's reserve; ``os.statvfs`` is mocked for that.

The promise checked after each fault: every byte of the data is either at its original path or in the
quarantine with a manifest line naming it (never neither), and a failed copy or archive leaves no partial file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import limits as _limits
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan

SYSCALLS = ("open", "write", "pwrite", "fsync", "sync", "rename", "mkdir", "unlink", "rmdir", "symlink", "ftruncate",
            "chmod", "utime", "fchown", "fchmod")


class Killed(BaseException):
    """What SIGKILL would do at that point: nothing after it runs (not an error any handler catches)."""


def make_data(root):
    data = root / "home" / "alice" / ".xwechat"
    (data / "sub" / "deep").mkdir(parents=True)
    (data / "sub" / "msg.db").write_bytes(b"messages" * 1000)
    (data / "sub" / "deep" / "photo.jpg").write_bytes(os.urandom(70000))
    (data / "top.txt").write_bytes(b"top")
    os.symlink("sub/msg.db", str(data / "link"))
    return data


def checksums(top):
    sums = {}
    for dirpath, dirnames, filenames in os.walk(str(top)):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    sums[os.path.relpath(path, str(top))] = hashlib.sha256(handle.read()).hexdigest()
    return sums


def manifest(root):
    path = root / "q" / "r1" / "MANIFEST.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def assert_nothing_lost(root, data, before):
    """Each file: at its original path, or in the quarantine under a path a manifest line names for ``data``."""
    named = [line["quarantined"] for line in manifest(root) if line["original"] == str(data)
             and line.get("state") != "not_moved"]
    for rel, digest in before.items():
        places = [os.path.join(str(data), rel)] + [os.path.join(q, rel) for q in named]
        found = [p for p in places if os.path.isfile(p) and checksums(os.path.dirname(p)).get(os.path.basename(p)) == digest]
        assert found, "%s is neither in place nor in the quarantine with a manifest line (manifest: %s)" % (
            rel, manifest(root))


def options(root):
    return {"run_id": "r1", "quarantine_dir": str(root / "q"), "archive_dir": str(root / "a"), "homes": [],
            "lock_timeout": 5, "default_timeout": 30}


def quarantine(root, data):
    return run_plan([{"id": 1, "kind": "quarantine", "path": str(data), "type": "dir"}], options(root))[0]


class KillAt(object):
    """Count the calls of ``SYSCALLS`` (``os`` functions); raise Killed at call number ``at`` (0: never)."""

    def __init__(self, monkeypatch, at=0, exdev=False):
        self.calls = []
        self.at = at
        for name in SYSCALLS:
            real = getattr(os, name)

            def wrapper(*args, __name=name, __real=real, **kwargs):
                self.calls.append(__name)
                if len(self.calls) == self.at:
                    raise Killed("killed in %s (call %d)" % (__name, self.at))
                if exdev and __name == "rename" and kwargs.get("src_dir_fd") is not None:
                    raise OSError(errno.EXDEV, "Invalid cross-device link")
                return __real(*args, **kwargs)
            monkeypatch.setattr(os, name, wrapper)


def count_calls(tmp_path, monkeypatch, exdev):
    root = tmp_path / "count"
    data = make_data(root)
    with monkeypatch.context() as patch:
        counter = KillAt(patch, exdev=exdev)
        result = quarantine(root, data)
    assert result["status"] == "changed", result
    return len(counter.calls)


@pytest.mark.parametrize("exdev", [False, True], ids=["same file system", "across file systems"])
def test_a_quarantine_killed_at_any_system_call_loses_nothing(tmp_path, monkeypatch, exdev):
    total = count_calls(tmp_path, monkeypatch, exdev)
    assert total > (20 if exdev else 5)
    for at in range(1, total + 1):
        root = tmp_path / ("k%d" % at)
        data = make_data(root)
        before = checksums(data)
        with monkeypatch.context() as patch:
            KillAt(patch, at=at, exdev=exdev)
            with pytest.raises(Killed):
                quarantine(root, data)
        assert_nothing_lost(root, data, before)
        # The next run (the data re-scanned, its plan the same) completes the move.
        if os.path.lexists(str(data)):
            with monkeypatch.context() as patch:
                KillAt(patch, exdev=exdev)
                again = quarantine(root, data)
            assert again["status"] == "changed", (at, again)
            assert_nothing_lost(root, data, before)
            assert not os.path.lexists(str(data))


def test_a_copy_that_does_not_fit_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    big = tmp_path / "opt" / "wechat.bin"
    big.parent.mkdir()
    big.write_bytes(os.urandom(3 * 1024 * 1024))

    class Small(object):
        f_blocks, f_bavail, f_frsize = 10000, 1000, 4096     # 39 MiB, 3.9 MiB free: over its 5% reserve

    real_statvfs = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda p: Small() if str(p).startswith(str(tmp_path / "q")) else real_statvfs(p))
    with monkeypatch.context() as patch:
        calls = KillAt(patch, exdev=True).calls
        res = run_plan([{"id": 1, "kind": "quarantine", "path": str(big), "type": "file"}], options(tmp_path))[0]
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: not enough space on the file system "
                          "of %s: 3 MiB needed and 5%% of it kept free, 3 of 39 MiB free; nothing was written"
                          % os.path.dirname(str(tmp_path / "q" / "r1") + str(big)))
    assert "pwrite" not in calls and "write" in calls      # only the manifest lines were written
    assert big.stat().st_size == 3 * 1024 * 1024
    assert [line.get("state") for line in manifest(tmp_path)] == ["moving", "not_moved"]


@pytest.mark.parametrize("code, text", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")])
def test_a_copy_stopped_by_a_full_or_read_only_destination_removes_the_partial_copy(tmp_path, monkeypatch, code, text):
    data = make_data(tmp_path)
    before = checksums(data)
    real_pwrite = os.pwrite
    written = []

    def pwrite(fd, chunk, offset):
        written.append(len(chunk))
        if len(written) == 2:
            raise OSError(code, text)
        return real_pwrite(fd, chunk, offset)
    with monkeypatch.context() as patch:
        KillAt(patch, exdev=True)
        patch.setattr(os, "pwrite", pwrite)
        res = quarantine(tmp_path, data)
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: %s (writing to %s, 1 MiB needed)"
                          % (text, os.path.dirname(str(tmp_path / "q" / "r1") + str(data))))
    assert checksums(data) == before
    leftovers = [n for d, dirs, files in os.walk(str(tmp_path / "q")) for n in dirs + files if ".partial" in n]
    assert leftovers == []
    assert [line.get("state") for line in manifest(tmp_path)] == ["moving", "not_moved"]


def test_a_path_on_a_read_only_file_system_is_not_moved_and_says_so(tmp_path, monkeypatch):
    data = make_data(tmp_path)
    real_rename = os.rename

    def rename(src, dst, src_dir_fd=None, dst_dir_fd=None):
        if src_dir_fd is not None:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_rename(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    res = quarantine(tmp_path, data)
    dest = str(tmp_path / "q" / "r1") + str(data)
    assert (res["status"], res["msg"]) == (
        "failed", "%s cannot be moved to %s: Read-only file system; nothing was moved" % (data, dest))
    assert (data / "top.txt").read_bytes() == b"top"


def test_an_archive_on_a_full_disk_is_removed_and_names_the_directory(tmp_path, monkeypatch):
    data = make_data(tmp_path)
    before = checksums(data)
    real_fdopen = os.fdopen

    class Full(object):
        """The archive's file: the disk is full after 1000 bytes."""

        def __init__(self, handle):
            self.handle = handle
            self.written = 0

        def write(self, chunk):
            self.written += len(chunk)
            if self.written > 1000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(chunk)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *args: Full(real_fdopen(fd, mode, *args)))
    res = run_plan([{"id": 1, "kind": "archive", "paths": [str(data)], "name": "alice-wechat"}], options(tmp_path))[0]
    assert res["status"] == "failed"
    assert res["msg"].startswith("archive not written, the data is left as it was: No space left on device (writing to %s"
                                 % (tmp_path / "a")), res["msg"]
    assert os.listdir(str(tmp_path / "a")) == []
    assert checksums(data) == before


# --- the data's size, checked before anything is written ---------------------------------------------------

MIB = 1024 * 1024
FRSIZE = 4096
BLOCKS = 100000          # a 390 MiB file system: its 5% reserve is 5000 blocks


def measured_need(*tops):
    """What the executor should need for ``tops``: every entry's allocated blocks plus the per-entry allowance."""
    sts = []
    for top in tops:
        sts.append(os.lstat(str(top)))
        for dirpath, dirnames, filenames in os.walk(str(top)):
            sts.extend(os.lstat(os.path.join(dirpath, name)) for name in dirnames + filenames)
    return sum(st.st_blocks * 512 + _limits.ENTRY_ALLOWANCE for st in sts)


def file_system(free_bytes):
    """A statvfs answer with ``free_bytes`` (rounded up to a block) available above the 5% reserve."""
    class Vfs(object):
        f_blocks, f_frsize = BLOCKS, FRSIZE
        f_bavail = BLOCKS * _limits.FREE_RESERVE_PERCENT // 100 + -(-free_bytes // FRSIZE)
    return Vfs()


def statvfs_of(monkeypatch, where, vfs):
    real_statvfs = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda p: vfs if str(p).startswith(str(where)) else real_statvfs(p))


def refused_space_msg(where, need, vfs, at_least=False):
    return ("not enough space on the file system of %s: %s%d MiB needed and 5%% of it kept free, %d of %d MiB free; "
            "nothing was written" % (where, "at least " if at_least else "", -(-need // MIB),
                                     vfs.f_bavail * FRSIZE // MIB, BLOCKS * FRSIZE // MIB))


def big_data(root):
    data = make_data(root)
    (data / "sub" / "video.mp4").write_bytes(os.urandom(3 * MIB))
    return data


def test_a_directory_that_does_not_fit_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    data = big_data(tmp_path)
    before = checksums(data)
    need = measured_need(data)
    vfs = file_system(0)
    statvfs_of(monkeypatch, tmp_path / "q", vfs)
    with monkeypatch.context() as patch:
        calls = KillAt(patch, exdev=True).calls
        res = quarantine(tmp_path, data)
    dest_parent = os.path.dirname(str(tmp_path / "q" / "r1") + str(data))
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: "
                          + refused_space_msg(dest_parent, need, vfs))
    assert need > 3 * MIB
    assert "pwrite" not in calls and "symlink" not in calls      # no data, no link copied
    assert os.listdir(dest_parent) == []                          # not even the .partial directory
    assert checksums(data) == before
    assert os.readlink(str(data / "link")) == "sub/msg.db"
    assert [line.get("state") for line in manifest(tmp_path)] == ["moving", "not_moved"]


@pytest.mark.parametrize("short", [0, 1], ids=["fits exactly", "one block short"])
def test_a_directory_is_copied_when_its_measured_size_fits_and_only_then(tmp_path, monkeypatch, short):
    data = big_data(tmp_path)
    before = checksums(data)
    need = measured_need(data)
    statvfs_of(monkeypatch, tmp_path / "q", file_system(need - short * FRSIZE))
    with monkeypatch.context() as patch:
        KillAt(patch, exdev=True)
        res = quarantine(tmp_path, data)
    dest = str(tmp_path / "q" / "r1") + str(data)
    if short:
        assert res["status"] == "failed"
        assert "%d MiB needed" % -(-need // MIB) in res["msg"], res["msg"]
        assert checksums(data) == before and not os.path.lexists(dest)
    else:
        assert (res["status"], res["msg"]) == ("changed", "%s copied across file systems and removed to %s" % (data, dest))
        assert checksums(dest) == before
        assert not os.path.lexists(str(data))


def test_a_link_to_a_huge_tree_counts_as_the_link_only(tmp_path, monkeypatch):
    data = make_data(tmp_path)
    huge = tmp_path / "opt" / "huge"
    huge.mkdir(parents=True)
    (huge / "disk.img").write_bytes(os.urandom(4 * MIB))
    os.symlink(str(huge), str(data / "to-huge"))
    need = measured_need(data)          # os.walk does not follow links either
    assert need < MIB
    statvfs_of(monkeypatch, tmp_path / "q", file_system(need))     # far too small for the link's target
    with monkeypatch.context() as patch:
        KillAt(patch, exdev=True)
        res = quarantine(tmp_path, data)
    dest = str(tmp_path / "q" / "r1") + str(data)
    assert res["status"] == "changed", res["msg"]
    assert os.readlink(os.path.join(dest, "to-huge")) == str(huge)
    assert len((huge / "disk.img").read_bytes()) == 4 * MIB


def test_a_size_walk_stopped_at_its_entry_bound_checks_what_it_counted(tmp_path, monkeypatch):
    data = tmp_path / "home" / "alice" / ".xwechat"
    data.mkdir(parents=True)
    (data / "a.bin").write_bytes(os.urandom(3 * MIB))
    for number in range(5):
        (data / ("b%d" % number)).write_bytes(os.urandom(MIB))
    monkeypatch.setattr(_limits, "SIZE_WALK_MAX_ENTRIES", 2)          # the top and a.bin
    counted = measured_need(data) - sum(measured_need(data / ("b%d" % n)) for n in range(5))
    vfs = file_system(MIB)
    statvfs_of(monkeypatch, tmp_path / "q", vfs)
    with monkeypatch.context() as patch:
        KillAt(patch, exdev=True)
        res = quarantine(tmp_path, data)
    dest_parent = os.path.dirname(str(tmp_path / "q" / "r1") + str(data))
    assert res["status"] == "failed"
    assert res["msg"] == ("copy across file systems failed, original left in place: "
                          + refused_space_msg(dest_parent, counted, vfs, at_least=True))
    assert os.listdir(dest_parent) == []
    # Where the lower bound fits, the copy goes on (the checks while copying remain).
    statvfs_of(monkeypatch, tmp_path / "q", file_system(counted))
    with monkeypatch.context() as patch:
        KillAt(patch, exdev=True)
        res = quarantine(tmp_path, data)
    assert res["status"] == "changed", res["msg"]


def test_a_size_walk_takes_at_most_its_share_of_the_step_time(tmp_path, monkeypatch):
    data = big_data(tmp_path)
    clock = [1000.0]

    def monotonic():
        clock[0] += 1.0   # every look at the clock costs a second
        return clock[0]
    monkeypatch.setattr(_limits, "_monotonic", monotonic)
    limits = _limits.Limits(1 << 40, 20, None)
    start = clock[0]
    parent_fd = os.open(str(data.parent), os.O_RDONLY | os.O_DIRECTORY)
    try:
        need, complete = limits.measure([(parent_fd, data.name, os.lstat(str(data)))])
    finally:
        os.close(parent_fd)
    assert complete is False
    assert 0 < need < measured_need(data)
    # A quarter of the 20 s, and the two looks at the clock that start the walk and find its time over.
    assert clock[0] - start <= 20 * _limits.SIZE_WALK_TIME_SHARE + 2


class OpenSpy(object):
    """Records the paths ``os.open`` is asked to create (``O_CREAT``)."""

    def __init__(self, monkeypatch):
        self.created = []
        real_open = os.open

        def spy(path, flags, *args, **kwargs):
            if flags & os.O_CREAT:
                self.created.append(path)
            return real_open(path, flags, *args, **kwargs)
        monkeypatch.setattr(os, "open", spy)


def archive_plan(tmp_path, *paths):
    return run_plan([{"id": 1, "kind": "archive", "paths": [str(p) for p in paths], "name": "alice-wechat"}],
                    options(tmp_path))[0]


def test_an_archive_is_refused_before_it_is_created_when_the_data_does_not_fit(tmp_path, monkeypatch):
    data = big_data(tmp_path)
    other = tmp_path / "home" / "alice" / ".wechat-cache"
    other.mkdir()
    (other / "cache.bin").write_bytes(os.urandom(MIB))
    before = checksums(data)
    need = measured_need(data, other)
    (tmp_path / "a").mkdir()
    vfs = file_system(need - FRSIZE)
    statvfs_of(monkeypatch, tmp_path / "a", vfs)
    spy = OpenSpy(monkeypatch)
    res = archive_plan(tmp_path, data, other)
    assert res["status"] == "failed"
    assert res["msg"] == ("archive not written, the data is left as it was: "
                          + refused_space_msg(tmp_path / "a", need, vfs))
    assert [p for p in spy.created if str(p).startswith(str(tmp_path / "a"))] == []
    assert os.listdir(str(tmp_path / "a")) == []
    assert checksums(data) == before


def test_an_archive_needs_the_uncompressed_size_even_of_data_that_compresses_well(tmp_path, monkeypatch):
    data = tmp_path / "home" / "alice" / ".xwechat"
    data.mkdir(parents=True)
    (data / "chat.log").write_bytes(b"hello " * MIB)         # 6 MiB that gzip makes a few KiB
    need = measured_need(data)
    (tmp_path / "a").mkdir()
    vfs = file_system(need // 2)
    statvfs_of(monkeypatch, tmp_path / "a", vfs)
    res = archive_plan(tmp_path, data)
    assert res["status"] == "failed"
    assert res["msg"] == ("archive not written, the data is left as it was: "
                          + refused_space_msg(tmp_path / "a", need, vfs))
    statvfs_of(monkeypatch, tmp_path / "a", file_system(need))
    res = archive_plan(tmp_path, data)
    assert res["status"] == "changed", res["msg"]
    assert os.path.getsize(res["dest"]) < need // 100
