# -*- coding: utf-8 -*-
"""The archive step as a user attacks it: links swapped in mid-walk, FIFOs, hard links, huge sparse files, floods.

Every test archives a real temporary tree. The user's moves are made at exact moments of the walk
(``SwapHook``) or by a real second user racing (``racer``, root only); a walk that would block on a
FIFO runs in a child with a timeout, so a regression fails instead of hanging.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import stat
import tarfile
import tempfile
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import limits as _execute_limits
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import DEFAULT_MAX_BYTES
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import validate_steps
from ansible_collections.govsec.banned_software.tests.unit.helpers.hostile_fs import (
    NOBODY, SECRET, SwapHook, after_size_walk, alice_data_tree, archive_bytes, can_mount, executor_options, in_child, plant_secret,
    racer, replace_with, tmpfs)

TIB = 1024 ** 4


@pytest.fixture
def tree(tmp_path):
    return alice_data_tree(tmp_path)


opts = executor_options


def archive(root, paths=None, **fields):
    step = {"id": 1, "kind": "archive", "name": "alice-wechat",
            "paths": paths or [str(root / "home" / "alice" / ".xwechat")]}
    step.update(fields)
    return run_plan([step], opts(root))[0]


def members(dest):
    with tarfile.open(dest, "r:gz") as tar:
        return dict((m.name, m) for m in tar.getmembers())


def assert_secret_not_archived(root, res):
    """The secret is in no archive written, and still where and as it was."""
    for name in os.listdir(str(root / "a")) if (root / "a").exists() else ():
        if name.endswith(".tar.gz"):
            stream = archive_bytes(str(root / "a" / name))
            # a file swapped after its size was read leaks only that many bytes: look for the start too
            assert SECRET[:8] not in stream, "the secret file's content was archived (%s)" % res
            inside = [n for n in members(str(root / "a" / name)) if n.endswith("/shadow")]
            assert inside == [], "a file of the secret directory was archived (%s)" % res
    assert (root / "outside" / "secret-dir" / "shadow").read_bytes() == SECRET


# --- a user swaps an entry for a link (or a FIFO) at each moment of the walk ---------------------------

SWAPS = {
    # entry (relative to .xwechat), what replaces it
    "sub-folder": ("sub", "link", "outside/secret-dir"),
    "file": ("sub/msg.db", "link", "outside/secret-dir/shadow"),
    "archived path itself": ("", "link", "outside/secret-dir"),
}


@pytest.mark.parametrize("what, moment", [
    (what, moment) for what in sorted(SWAPS) for moment in ("listed", "lstat", "opened")
    if SWAPS[what][0] or moment != "listed"])      # the archived path's own directory is not listed
def test_archive_a_link_swapped_in_at_any_moment_is_never_followed(tree, monkeypatch, what, moment):
    entry, kind, target = SWAPS[what]
    data = tree / "home" / "alice" / ".xwechat"
    path = data / entry if entry else data
    # Armed once the size walk is over, so the swap hits the walk that reads the data; the archived path's own
    # lstat is taken before the size walk (which starts from it), so that moment is armed from the start.
    armed = moment == "lstat" and not entry
    hook = after_size_walk(monkeypatch, SwapHook(monkeypatch, path.parent, path.name,
                                                 replace_with(kind, str(tree / target)), moment, armed=armed))
    res = archive(tree)
    monkeypatch.undo()
    assert hook.fired, "the swap was never made: the test would prove nothing"
    assert hook.fired_in_size_walk is armed
    assert res["status"] == "changed", res["msg"]
    assert_secret_not_archived(tree, res)
    if moment == "lstat":
        # Checked after its lstat and swapped: the walk sees a different object and leaves it out.
        shown = [e["path"] for e in res["not_archived"]]
        assert shown == [str(path)], res
        assert res["not_archived"][0]["reason"].startswith("replaced while being read"), res
    elif moment == "listed":
        # Swapped before its lstat: it is a link, stored as a link and not followed.
        rel = str(path).lstrip("/")
        link = members(res["dest"])[rel]
        assert (link.issym(), link.linkname) == (True, str(tree / target))
    else:
        # Swapped once opened: the descriptor still reads the user's own data.
        assert res["not_archived"] == []
        if what == "file":
            data_member = members(res["dest"])[str(path).lstrip("/")]
            with tarfile.open(res["dest"], "r:gz") as tar:
                assert tar.extractfile(data_member).read() == b"messages"


@pytest.mark.parametrize("what, moment", [
    ("sub-folder", "listed"), ("sub-folder", "lstat"), ("sub-folder", "opened"), ("file", "listed"), ("file", "lstat"),
    ("archived path itself", "opened")])     # the size walk opens directories only
def test_archive_a_link_swapped_in_during_the_size_walk_is_never_followed(tree, monkeypatch, what, moment):
    """The size walk before the archive meets the swap: neither it nor the archive follows the link."""
    entry, kind, target = SWAPS[what]
    data = tree / "home" / "alice" / ".xwechat"
    path = data / entry if entry else data
    hook = after_size_walk(monkeypatch, SwapHook(monkeypatch, path.parent, path.name,
                                                 replace_with(kind, str(tree / target)), moment))
    res = archive(tree)
    monkeypatch.undo()
    assert hook.fired_in_size_walk, "the swap was not made during the size walk: the test would prove nothing"
    assert res["status"] == "changed", res["msg"]
    assert_secret_not_archived(tree, res)
    rel = str(path).lstrip("/")
    listed = [e["path"] for e in res["not_archived"]]
    stored = members(res["dest"]).get(rel)
    # Either left out as replaced (the archive's lstat came before the swap) or stored as the link it now is.
    assert listed == [str(path)] or (stored is not None and stored.issym()), (listed, stored)


def test_archive_a_fifo_swapped_in_for_a_file_is_never_opened(tree, monkeypatch):
    """A FIFO opened for reading blocks forever: the archive must neither hang nor open it."""
    data = tree / "home" / "alice" / ".xwechat"
    hook = after_size_walk(monkeypatch, SwapHook(monkeypatch, data / "sub", "msg.db", replace_with("fifo", None),
                                                 "lstat", armed=False))
    outcome, res = in_child(lambda: [archive(tree), hook.fired], timeout=15)
    monkeypatch.undo()
    assert outcome == "ok", "the archive %s with a FIFO swapped in for a file" % (
        "hung" if outcome == "hung" else "crashed (%s)" % (res,))
    res, fired = res
    assert fired, "the swap was never made: the test would prove nothing"
    assert stat.S_ISFIFO(os.lstat(str(data / "sub" / "msg.db")).st_mode)
    assert res["status"] == "changed", res["msg"]
    assert res["not_archived"] == [{"path": str(data / "sub" / "msg.db"),
                                    "reason": "replaced while being read (now a fifo)"}]
    assert str(data / "sub" / "msg.db").lstrip("/") not in members(res["dest"])


def test_archive_never_opens_fifos_devices_or_sockets(tree, monkeypatch):
    import socket
    data = tree / "home" / "alice" / ".xwechat"
    os.mkfifo(str(data / "pipe"))
    os.mknod(str(data / "watchdog"), stat.S_IFCHR | 0o600, os.makedev(10, 130))   # /dev/watchdog's numbers
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(data / "sock"))
    opened = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) and not flags & getattr(os, "O_PATH", 0):
            opened.append((path, oct(mode)))
        return fd

    monkeypatch.setattr(os, "open", spy)
    outcome, res = in_child(lambda: [archive(tree), opened], timeout=15)
    monkeypatch.undo()
    sock.close()
    assert outcome == "ok", outcome
    res, opened = res
    assert opened == [], "opened something that is not a directory or a regular file: %s" % opened
    assert res["status"] == "changed"
    assert sorted((e["path"], e["reason"]) for e in res["not_archived"]) == [
        (str(data / "pipe"), "a fifo; never opened"), (str(data / "sock"), "a socket; never opened"),
        (str(data / "watchdog"), "a device; never opened")]
    assert res["not_archived_count"] == 3
    assert "3 entries not archived (not_archived)" in res["msg"]
    names = members(res["dest"])
    rel = str(data).lstrip("/")
    assert sorted(names) == sorted([rel, rel + "/sub", rel + "/sub/msg.db", rel + "/top.txt"])


@pytest.mark.skipif(os.geteuid() != 0, reason="a second, unprivileged user needs root to create")
def test_archive_against_a_real_racing_user(tmp_path):
    """A second user (uid nobody) swaps their sub-folder and file for links to root's secrets, as fast as
    they can, while root archives the folder again and again: the secret is never in an archive."""
    data = tmp_path / "home" / "alice" / ".xwechat"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "msg.db").write_bytes(b"messages")
    (data / "notes.txt").write_bytes(b"notes of alice's")     # longer than the secret's first 8 bytes
    (tmp_path / "outside").mkdir()
    secret_dir, secret = plant_secret(tmp_path / "outside")
    for path in (data, data / "sub", data / "sub" / "msg.db", data / "notes.txt"):
        os.chown(str(path), NOBODY, NOBODY)
    dir_fd = os.open(str(data), os.O_RDONLY | os.O_DIRECTORY)
    seconds = 3.0
    pid = racer(dir_fd, [("sub", secret_dir), ("notes.txt", secret)], NOBODY, seconds)
    os.close(dir_fd)
    runs, raced = 0, 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            runs += 1
            step = {"id": 1, "kind": "archive", "name": "run%d" % runs, "paths": [str(data)]}
            res = run_plan([step], opts(tmp_path))[0]
            if res["status"] != "changed":
                continue
            stream = archive_bytes(res["dest"])
            assert SECRET[:8] not in stream, "run %d archived the secret: %s" % (runs, res)
            names = members(res["dest"])
            assert not [n for n in names if n.endswith("/shadow")], (runs, sorted(names))
            raced += bool(res.get("not_archived")) or any(m.issym() for m in names.values())
            for leftover in (res["dest"], res["sha256_file"]):
                os.unlink(leftover)
    finally:
        os.waitpid(pid, 0)
    assert runs >= 20, "only %d archives in %s s" % (runs, seconds)
    assert raced > 0, "the racer never caught the walk in %d runs: the test proved nothing" % runs
    assert open(secret, "rb").read() == SECRET


# --- what is archived: exactly the user's regular files, directories and links -------------------------

def test_archive_leaves_out_a_hard_link_to_a_file_of_another_owner(tree):
    data = tree / "home" / "alice" / ".xwechat"
    for path in (data, data / "sub", data / "sub" / "msg.db", data / "top.txt"):
        os.chown(str(path), 4242, 4242)
    os.link(str(tree / "outside" / "secret-dir" / "shadow"), str(data / "sub" / "shadow-hardlink"))
    os.link(str(data / "top.txt"), str(data / "sub" / "top-again.txt"))   # the user's own: kept
    res = archive(tree)
    assert res["status"] == "changed", res["msg"]
    assert res["not_archived"] == [{"path": str(data / "sub" / "shadow-hardlink"),
                                    "reason": "a hard link to a file of uid 0, not of the archived path's owner "
                                              "(uid 4242)"}]
    assert SECRET not in archive_bytes(res["dest"])
    names = members(res["dest"])
    rel = str(data).lstrip("/")
    first, again = names[rel + "/sub/top-again.txt"], names[rel + "/top.txt"]    # walked in name order
    assert first.isreg() and again.islnk() and again.linkname == rel + "/sub/top-again.txt"
    assert (first.uid, first.gid, first.size) == (4242, 4242, 3)


@pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root")
def test_archive_does_not_enter_another_file_system(tree):
    data = tree / "home" / "alice" / ".xwechat"
    (data / "mnt").mkdir()
    import subprocess
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data / "mnt")], check=True)
    try:
        (data / "mnt" / "other.txt").write_bytes(b"another file system")
        res = archive(tree)
    finally:
        subprocess.run(["umount", str(data / "mnt")], check=True)
    assert res["status"] == "changed"
    assert res["not_archived"] == [{"path": str(data / "mnt"), "reason": "on another file system; not entered"}]
    assert b"another file system" not in archive_bytes(res["dest"])


@pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root")
def test_archive_does_not_enter_an_archived_path_that_is_a_mount_point(tree):
    """A user may mount a FUSE file system on a folder they own: its reads could stall root for ever."""
    data = tree / "home" / "alice" / ".xwechat"
    with tmpfs("1m") as where:
        res = archive(tree, paths=[where])
        assert res["status"] == "changed", res["msg"]
        assert res["not_archived"] == [{"path": where, "reason": "on another file system; not entered"}]
        assert res["members"] == 0
    res = archive(tree, paths=[str(data)])
    assert (res["status"], res["members"]) == ("changed", 4)


def test_archive_fails_on_a_tree_deeper_than_the_limit_and_keeps_the_data(tree, monkeypatch):
    from ansible_collections.govsec.banned_software.plugins.module_utils._fs import dirwalk as _dirwalk
    monkeypatch.setattr(_dirwalk, "MAX_DEPTH", 3)
    data = tree / "home" / "alice" / ".xwechat"
    (data / "a" / "b" / "c" / "d").mkdir(parents=True)
    (data / "a" / "b" / "c" / "d" / "deep.txt").write_bytes(b"deep")
    step = {"id": 1, "kind": "archive", "name": "n", "paths": [str(data)]}
    purge = {"id": 2, "kind": "purge", "path": str(data), "type": "dir", "requires": [1]}
    res, purged = run_plan([step, purge], opts(tree))
    assert res["status"] == "failed"
    assert res["msg"] == ("archive not written, the data is left as it was: %s: more than 3 directory levels deep"
                          % (data / "a" / "b" / "c"))
    assert purged["status"] == "skipped"
    assert (data / "a" / "b" / "c" / "d" / "deep.txt").read_bytes() == b"deep"
    assert os.listdir(str(tree / "a")) == []


# --- limits: size, time, free space ---------------------------------------------------------------------

def test_archive_over_the_size_limit_fails_cleanly_and_the_purge_does_not_run(tree):
    data = tree / "home" / "alice" / ".xwechat"
    step = {"id": 1, "kind": "archive", "name": "n", "paths": [str(data)], "max_bytes": 10}
    purge = {"id": 2, "kind": "purge", "path": str(data), "type": "dir", "requires": [1]}
    res, purged = run_plan([step, purge], opts(tree))
    assert res["status"] == "failed"
    assert res["msg"] == ("archive not written, the data is left as it was: %s (3 bytes) makes it more than the "
                          "size limit of 10 bytes (max_bytes)" % (data / "top.txt"))
    assert purged["status"] == "skipped"
    assert os.listdir(str(tree / "a")) == []
    assert (data / "sub" / "msg.db").read_bytes() == b"messages"
    res = archive(tree, max_bytes=11)
    assert (res["status"], res["bytes_read"]) == ("changed", 11)


def test_archive_of_a_huge_sparse_file_fails_at_once_without_reading_it(tree):
    """``truncate -s 10T`` costs the user nothing; reading it would cost root hours and fill /var."""
    data = tree / "home" / "alice" / ".xwechat"
    with open(str(data / "sub" / "huge.db"), "wb") as handle:
        handle.truncate(10 * TIB)
    started = time.monotonic()
    outcome, res = in_child(lambda: archive(tree), timeout=20)
    assert outcome == "ok", "the archive %s on a 10 TiB sparse file" % outcome
    assert time.monotonic() - started < 20
    assert res["status"] == "failed"
    assert res["msg"].endswith("huge.db (%d bytes) makes it more than the size limit of %d bytes (max_bytes)"
                               % (10 * TIB, DEFAULT_MAX_BYTES))
    assert os.listdir(str(tree / "a")) == []
    assert os.stat(str(data / "sub" / "huge.db")).st_size == 10 * TIB


def test_archive_over_the_time_limit_fails_cleanly(tree, monkeypatch):
    clock = [1000.0]

    def monotonic():
        clock[0] += 1.0   # every look at the clock costs a second
        return clock[0]

    monkeypatch.setattr(_execute_limits, "_monotonic", monotonic)
    res = archive(tree, timeout=3)
    assert res["status"] == "failed"
    assert res["msg"] == "archive not written, the data is left as it was: stopped after the time limit of 3 s (timeout)"
    assert os.listdir(str(tree / "a")) == []


def test_archive_time_limit_defaults_to_the_step_timeout(tree, monkeypatch):
    clock = [1000.0]

    def monotonic():
        clock[0] += 1.0
        return clock[0]

    monkeypatch.setattr(_execute_limits, "_monotonic", monotonic)
    step = {"id": 1, "kind": "archive", "name": "n", "paths": [str(tree / "home" / "alice" / ".xwechat")]}
    res = run_plan([step], opts(tree, default_timeout=2))[0]
    assert res["msg"].endswith("stopped after the time limit of 2 s (timeout)")
    res = run_plan([step], opts(tree, default_timeout=1000))[0]
    assert res["status"] == "changed"


def test_archive_stops_before_the_file_system_is_full(tree, monkeypatch):
    real_statvfs = os.statvfs

    class Full(object):
        f_blocks, f_bavail, f_frsize = 1000, 40, 1024 * 1024      # 4% free

    monkeypatch.setattr(os, "statvfs", lambda path: Full() if str(path) == str(tree / "a") else real_statvfs(path))
    res = archive(tree)
    assert res["status"] == "failed"
    assert res["msg"] == ("archive not written, the data is left as it was: stopped: less than 5%% of the file "
                          "system of %s is free (40 of 1000 MiB)" % (tree / "a"))
    assert os.listdir(str(tree / "a")) == []


@pytest.mark.parametrize("field, value, message", [
    ("max_bytes", 0, "must be a positive integer (bytes)"),
    ("max_bytes", "1G", "must be a positive integer (bytes)"),
    ("max_bytes", True, "must be a positive integer (bytes)"),
    ("timeout", -1, "must be a positive integer (seconds)"),
    ("timeout", 1.5, "must be a positive integer (seconds)"),
])
@pytest.mark.parametrize("kind", ["archive", "quarantine"])
def test_limit_fields_are_validated(kind, field, value, message):
    step = {"id": 1, "kind": kind, field: value}
    step.update({"paths": ["/home/a/x"], "name": "n"} if kind == "archive" else {"path": "/home/a/x", "type": "dir"})
    assert validate_steps([step]) == ["step 1 (%s): field %s: %s" % (kind, field, message)]
    step[field] = 5
    assert validate_steps([step]) == []


def test_limit_fields_are_unknown_to_purge():
    step = {"id": 1, "kind": "purge", "path": "/home/a/x", "type": "dir", "max_bytes": 5}
    assert validate_steps([step]) == ["step 1 (purge): field max_bytes: unknown field(s) max_bytes for kind purge"]


# --- property: random trees with links, FIFOs and hard links -------------------------------------------


ENTRY = st_.tuples(
    st_.integers(min_value=0, max_value=30),                       # parent: index among directories so far
    st_.sampled_from(["a", "b", "c", "wechat", "\u00e9t\u00e9", "new\nline", "x y"]),
    st_.sampled_from(["dir", "file", "empty", "link-in", "link-out", "link-secret", "fifo", "hardlink-secret",
                      "hardlink-own"]),
    st_.binary(min_size=0, max_size=64),
)


def _build(base, entries):
    """The tree under ``base/data`` (owner uid 4242) and what its archive must hold."""
    data = os.path.join(base, "data")
    os.mkdir(data)
    secret_dir, secret = plant_secret(base)
    dirs, files, expected, left_out = [data], [], {"": ("dir", None)}, set()
    for parent, name, kind, content in entries:
        parent_dir = dirs[parent % len(dirs)]
        path = os.path.join(parent_dir, name)
        if os.path.lexists(path):
            continue
        rel = os.path.relpath(path, data)
        if kind == "dir":
            os.mkdir(path)
            dirs.append(path)
            expected[rel] = ("dir", None)
        elif kind in ("file", "empty"):
            with open(path, "wb") as handle:
                handle.write(content if kind == "file" else b"")
            files.append(path)
            expected[rel] = ("file", content if kind == "file" else b"")
        elif kind.startswith("link-"):
            target = {"link-in": os.path.relpath(dirs[0], parent_dir), "link-out": "/etc",
                      "link-secret": secret_dir}[kind]
            os.symlink(target, path)
            expected[rel] = ("link", target)
        elif kind == "fifo":
            os.mkfifo(path)
            left_out.add(path)
        elif kind == "hardlink-secret":
            os.link(secret, path)
            left_out.add(path)
        elif files:
            os.link(files[0], path)
            expected[rel] = ("file", expected[os.path.relpath(files[0], data)][1])
    for root, dnames, fnames in os.walk(data):
        for name in [root] + [os.path.join(root, n) for n in dnames + fnames]:
            if name not in left_out:      # never the secret itself (a hard link to it is the same file)
                os.chown(name, 4242, 4242, follow_symlinks=False)
    return data, expected, left_out


@settings(max_examples=40, deadline=5000, suppress_health_check=list(HealthCheck))
@given(entries=st_.lists(ENTRY, max_size=25))
def test_property_archive_holds_exactly_the_users_files_dirs_and_links(entries):
    base = tempfile.mkdtemp()
    try:
        data, expected, left_out = _build(base, entries)
        options = {"run_id": "r", "quarantine_dir": os.path.join(base, "q"), "archive_dir": os.path.join(base, "a"),
                   "homes": [], "lock_timeout": 5, "default_timeout": 30}
        res = run_plan([{"id": 1, "kind": "archive", "name": "n", "paths": [data]}], options)[0]
        assert res["status"] == "changed", res["msg"]
        rel = data.lstrip("/")
        seen = {}
        with tarfile.open(res["dest"], "r:gz") as tar:
            for member in tar.getmembers():
                name = os.path.relpath("/" + member.name, data) if member.name != rel else ""
                name = "" if name == "." else name
                if member.isdir():
                    seen[name] = ("dir", None)
                elif member.issym():
                    seen[name] = ("link", member.linkname)
                elif member.islnk():
                    seen[name] = ("file", tar.extractfile(tar.getmember(member.linkname)).read())
                else:
                    assert member.isreg(), member.type
                    seen[name] = ("file", tar.extractfile(member).read())
        assert seen == expected
        # paths are reported as JSON string contents (non-ASCII and control characters escaped)
        assert sorted(e["path"] for e in res["not_archived"]) == sorted(json.dumps(p)[1:-1] for p in left_out)
        assert SECRET not in archive_bytes(res["dest"])
    finally:
        shutil.rmtree(base)
