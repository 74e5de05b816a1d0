# -*- coding: utf-8 -*-
"""Quarantine and archive under faults: killed at every system call, a full disk, a read-only file system.

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


def test_a_directory_that_does_not_fit_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    data = tmp_path / "opt" / "wechat-universal"
    for number in range(3):
        (data / ("d%d" % number)).mkdir(parents=True)
        (data / ("d%d" % number) / "blob").write_bytes(os.urandom(1024 * 1024 + 1))
    os.symlink("d0/blob", str(data / "link"))
    before = checksums(data)

    class Small(object):
        f_blocks, f_bavail, f_frsize = 10000, 1000, 4096     # 39 MiB, 3.9 MiB free: over its 5% reserve

    real_statvfs = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda p: Small() if str(p).startswith(str(tmp_path / "q")) else real_statvfs(p))
    with monkeypatch.context() as patch:
        calls = KillAt(patch, exdev=True).calls
        res = quarantine(tmp_path, data)
    assert res["status"] == "failed"
    # 3 files of 1 MiB and 1 byte: their allocated blocks, over 3 MiB, are 4 MiB rounded up.
    assert res["msg"] == ("copy across file systems failed, original left in place: not enough space on the file system "
                          "of %s: 4 MiB needed and 5%% of it kept free, 3 of 39 MiB free; nothing was written"
                          % os.path.dirname(str(tmp_path / "q" / "r1") + str(data)))
    assert "pwrite" not in calls and "mkdir" not in calls[calls.index("write"):]   # only the manifest lines were written
    assert checksums(data) == before
    assert [line.get("state") for line in manifest(tmp_path)] == ["moving", "not_moved"]
    leftovers = [n for d, dirs, files in os.walk(str(tmp_path / "q")) for n in dirs + files if ".partial" in n]
    assert leftovers == []


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
    # The need is the tree's allocated blocks (about 84 KiB here), rounded up to whole MiB.
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
