# -*- coding: utf-8 -*-
"""RootFS: resolution never leaves root; listings are bounded; hostile names survive."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import (
    RootFS, quote, safe_text, vjoin)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "opt").mkdir()
    (root / "home" / "alice").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("outside root\n")
    # /opt/wechat -> ../../../../etc : ".." stops at root, so this is <root>/etc
    os.symlink("../../../../etc", str(root / "opt" / "wechat"))
    # absolute target: re-rooted
    os.symlink("/etc", str(root / "home" / "etclink"))
    # a link that names the real outside directory by its host path: re-rooted too (missing)
    os.symlink(str(outside), str(root / "home" / "escape"))
    os.symlink("loop2", str(root / "home" / "loop1"))
    os.symlink("loop1", str(root / "home" / "loop2"))
    return root, outside


@pytest.mark.parametrize("vpath,expected", [
    ("/opt/wechat", "/etc"),
    ("/opt/wechat/passwd", "/etc/passwd"),
    ("/home/etclink/passwd", "/etc/passwd"),
    ("/home/alice/../../etc", "/etc"),
    ("/../../../etc", "/etc"),
    ("/home/./alice", "/home/alice"),
])
def test_resolve_stays_inside_root(tree, vpath, expected):
    root, dummy = tree
    fs = RootFS(str(root))
    assert fs.resolve(vpath) == expected
    assert fs.real(fs.resolve(vpath)) == str(root) + expected


def test_link_to_host_path_outside_root_is_rerooted(tree):
    root, outside = tree
    fs = RootFS(str(root))
    with pytest.raises(OSError) as exc:
        fs.resolve("/home/escape/secret")
    assert exc.value.errno == errno.ENOENT
    data, truncated = fs.read_bytes("/home/escape/secret")
    assert (data, truncated) == (None, False)
    assert fs.warnings == []  # "does not exist" is not a problem worth a warning


def test_loop_is_eloop_and_a_warning(tree):
    root, dummy = tree
    fs = RootFS(str(root))
    with pytest.raises(OSError) as exc:
        fs.resolve("/home/loop1/x")
    assert exc.value.errno == errno.ELOOP
    assert fs.listdir("/home/loop1") == []
    assert fs.warnings == ["cannot read /home/loop1: symbolic link loop"]


def test_lstat_does_not_follow_last_component(tree):
    root, dummy = tree
    fs = RootFS(str(root))
    import stat
    assert stat.S_ISLNK(fs.lstat("/opt/wechat").st_mode)
    assert stat.S_ISDIR(fs.stat("/opt/wechat").st_mode)
    assert fs.readlink("/opt/wechat") == "../../../../etc"
    assert fs.lstat("/opt/nothing") is None


def test_listdir_is_sorted_typed_and_bounded(tmp_path):
    d = tmp_path / "r" / "big"
    d.mkdir(parents=True)
    for i in range(25):
        (d / ("f%02d" % i)).write_text("")
    (d / "sub").mkdir()
    fs = RootFS(str(tmp_path / "r"), max_entries=10)
    out = fs.listdir("/big")
    assert len(out) == 10
    assert fs.warnings == ["/big has more than 10 entries: only the first 10 were examined"]
    fs2 = RootFS(str(tmp_path / "r"))
    full = fs2.listdir("/big")
    assert full[0] == ("f00", "file") and full[-1] == ("sub", "dir") and len(full) == 26
    assert fs2.warnings == []


def test_listdir_without_scandir_of_a_descriptor_lists_the_same(tmp_path, monkeypatch):
    """Python 3.6's os.scandir takes no descriptor: the listing then uses listdir and lstat by the descriptor."""
    d = tmp_path / "r" / "d"
    d.mkdir(parents=True)
    (d / "file").write_text("x")
    (d / "dir").mkdir()
    (d / "link").symlink_to("/etc/passwd")
    os.mkfifo(str(d / "fifo"))
    expected = RootFS(str(tmp_path / "r")).listdir("/d")
    monkeypatch.setattr(os, "supports_fd", set(f for f in os.supports_fd if f is not os.scandir))
    fs = RootFS(str(tmp_path / "r"), max_entries=3)
    assert RootFS(str(tmp_path / "r")).listdir("/d") == expected == [
        ("dir", "dir"), ("fifo", "other"), ("file", "file"), ("link", "link")]
    assert len(fs.listdir("/d")) == 3 and fs.warnings == ["/d has more than 3 entries: only the first 3 were examined"]


def test_read_bytes_caps_and_refuses_non_regular(tmp_path):
    r = tmp_path / "r"
    r.mkdir()
    (r / "f").write_bytes(b"x" * 100)
    os.mkfifo(str(r / "fifo"))
    fs = RootFS(str(r))
    assert fs.read_bytes("/f", max_bytes=10) == (b"x" * 10, True)
    assert fs.read_bytes("/f", max_bytes=100) == (b"x" * 100, False)
    assert fs.read_bytes("/fifo") == (None, False)
    assert fs.read_bytes("/") == (None, False)


def test_hostile_names(tmp_path):
    r = tmp_path / "r"
    r.mkdir()
    bad = os.path.join(os.fsencode(str(r)), b"we\xffchat")
    open(bad, "wb").close()
    open(os.path.join(str(r), "new\nline"), "w").close()
    fs = RootFS(str(r))
    names = [n for n, dummy in fs.listdir("/")]
    assert sorted(safe_text(n) for n in names) == ["new\nline", "we\\xffchat"]
    assert quote("new\nline") == "new\\x0aline"
    assert fs.lstat("/" + os.fsdecode(b"we\xffchat")) is not None


def test_vjoin_and_live():
    assert vjoin("/home/a/", ".local/share", "x") == "/home/a/.local/share/x"
    assert vjoin("/") == "/"
    fs = RootFS("/")
    assert fs.live is True and fs.real("/etc") == "/etc"
