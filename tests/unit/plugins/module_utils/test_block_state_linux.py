# -*- coding: utf-8 -*-
"""The collector's reinstall-block state (_block_state_linux) on real trees under a temporary root:
files (symbolic links refused), dnf family, zypper locks, flatpak masks written by a real `flatpak mask`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import block_state_linux as bs
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_CONF_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

ZYPP_LOCKS = """# zypper locks
type: package
match_type: glob
case_sensitive: on
solvable_name: wechat

type: package
match_type: glob
case_sensitive: on
solvable_name: kernel-default
version: = 6.1

type: pattern
solvable_name: kesl

type: package
solvable_name: kics*
match_type: glob
"""


def put(root, vpath, data, mode=0o644):
    path = os.path.join(str(root), vpath.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.chmod(path, mode)
    return path


def never(argv):
    raise AssertionError("no command expected for an image: %r" % (argv,))


def users(root):
    home = root / "home" / "alice"
    home.mkdir(parents=True, exist_ok=True)
    return [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice", "vhome": "/home/alice",
             "rhome": "/home/alice"}]


def test_files_are_read_and_links_refused(tmp_path):
    put(tmp_path, DNF_CONF_PATH, "[main]\ngpgcheck=1\n")
    outside = put(tmp_path, "/outside/secret", "secret\n")
    os.makedirs(str(tmp_path / "etc/apt/preferences.d"))
    os.symlink(outside, str(tmp_path / APT_PREFERENCES_PATH.lstrip("/")))
    real_dir = tmp_path / "elsewhere"
    real_dir.mkdir()
    put(tmp_path, "/elsewhere/blocks.json", "{}")
    os.makedirs(str(tmp_path / "var/lib"))
    os.symlink(str(real_dir), str(tmp_path / "var/lib/govsec-banned-software"))
    state = bs.read_block_state(RootFS(str(tmp_path)), [], never)
    conf = state["files"][DNF_CONF_PATH]
    assert conf == {"exists": True, "sha256": hashlib.sha256(b"[main]\ngpgcheck=1\n").hexdigest(),
                    "content": "[main]\ngpgcheck=1\n", "error": None}
    apt = state["files"][APT_PREFERENCES_PATH]
    assert (apt["exists"], apt["content"], apt["error"]) == (True, None, "is a symbolic link; refused")
    record = state["files"][STATE_PATH]
    assert record["content"] is None and "is a symbolic link or not a directory; refused" in record["error"]
    assert state["files"]["/etc/dnf/libdnf5.conf.d/80-govsec-banned-software.conf"]["exists"] is False


def test_large_and_binary_files_are_refused(tmp_path):
    put(tmp_path, DNF_CONF_PATH, "x" * (bs.MAX_FILE_BYTES + 1))
    put(tmp_path, APT_PREFERENCES_PATH, b"\xff\xfe")
    state = bs.read_block_state(RootFS(str(tmp_path)), [], never)
    assert "larger than" in state["files"][DNF_CONF_PATH]["error"]
    assert state["files"][APT_PREFERENCES_PATH]["error"] == "is not UTF-8 text; refused"
    assert state["files"][APT_PREFERENCES_PATH]["sha256"] == hashlib.sha256(b"\xff\xfe").hexdigest()


@pytest.mark.parametrize("programs, links, expected", [
    ([], {}, ("none", False)),
    (["/usr/bin/yum"], {}, ("yum", False)),
    (["/usr/bin/dnf-3"], {"/usr/bin/dnf": "dnf-3"}, ("dnf4", False)),
    (["/usr/bin/dnf-3", "/usr/bin/dnf5"], {"/usr/bin/dnf": "dnf-3"}, ("dnf4", True)),
    (["/usr/bin/dnf5"], {"/usr/bin/dnf": "dnf5"}, ("dnf5", True)),
])
def test_dnf_family(tmp_path, programs, links, expected):
    for program in programs:
        put(tmp_path, program, "#!/bin/sh\n", 0o755)
    for link, target in links.items():
        os.symlink(target, str(tmp_path / link.lstrip("/")))
    assert bs.dnf_family(RootFS(str(tmp_path))) == expected


def test_zypper_locks(tmp_path):
    assert bs.parse_zypp_locks(ZYPP_LOCKS) == ["wechat"]
    put(tmp_path, "/usr/bin/zypper", "#!/bin/sh\n", 0o755)
    state = bs.zypper_state(RootFS(str(tmp_path)))
    assert state == {"present": True, "path": "/usr/bin/zypper", "locks": [], "error": None}
    put(tmp_path, "/etc/zypp/locks", ZYPP_LOCKS)
    assert bs.zypper_state(RootFS(str(tmp_path)))["locks"] == ["wechat"]


def test_flatpak_masks_from_the_repo_config(tmp_path):
    put(tmp_path, "/usr/bin/flatpak", "#!/bin/sh\n", 0o755)
    put(tmp_path, "/var/lib/flatpak/repo/config",
        "[core]\nrepo_version=1\nxa.masked=com.tencent.WeChat;org.x.Y\n\n[remote \"f\"]\nxa.masked=no.Such\n")
    os.makedirs(str(tmp_path / "home/alice/.local/share/flatpak"))
    state = bs.read_block_state(RootFS(str(tmp_path)), users(tmp_path), never)
    assert state["flatpak"] == {
        "present": True, "path": "/usr/bin/flatpak", "version": None, "installations": [
            {"scope": "system", "path": "/var/lib/flatpak", "masked": ["com.tencent.WeChat", "org.x.Y"], "error": None},
            {"scope": "user:alice", "path": "/home/alice/.local/share/flatpak", "masked": [], "error": None,
             "user": {"user": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}}]}
    assert bs.parse_masks("[core]\nxa.masked=\n") == []


@pytest.mark.skipif(shutil.which("flatpak") is None, reason="needs the flatpak program (apt-get install flatpak)")
def test_masks_written_by_a_real_flatpak_mask_are_read(tmp_path):
    """What `flatpak mask --user` writes is what the collector reads (no mocked format)."""
    home = tmp_path / "home" / "alice"
    home.mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), LC_ALL="C")
    env.pop("XDG_DATA_HOME", None)
    env.pop("FLATPAK_USER_DIR", None)
    for argv in (["flatpak", "mask", "--user", "--", "com.tencent.WeChat", "org.example.Other"],
                 ["flatpak", "mask", "--user", "--remove", "--", "org.example.Other"]):
        subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    put(tmp_path, "/usr/bin/flatpak", "#!/bin/sh\n", 0o755)
    state = bs.flatpak_state(RootFS(str(tmp_path)), users(tmp_path), never)
    assert [(i["scope"], i["masked"]) for i in state["installations"]] == [("user:alice", ["com.tencent.WeChat"])]


def test_collect_linux_returns_block_state_only_when_asked(tmp_path):
    put(tmp_path, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    put(tmp_path, "/usr/bin/apt-get", "#!/bin/sh\n", 0o755)
    plain = collect_linux(str(tmp_path), {}, never)
    assert "block_state" not in plain
    asked = collect_linux(str(tmp_path), {}, never, block_state=True)
    assert asked["block_state"]["apt"] == {"present": True}
    assert asked["block_state"]["dnf"] == {"family": "none", "dnf5": False}


@pytest.mark.skipif(shutil.which("zypper") is None, reason="needs the zypper program (Debian: apt-get install zypper)")
def test_locks_written_by_a_real_zypper_are_read(tmp_path):
    """`zypper addlock` / `removelock` in a scratch root: the lock file the collector parses, and an
    administrator's versioned lock of the same name that `removelock <name>` leaves alone."""
    os.makedirs(str(tmp_path / "etc/zypp"))

    def zypper(*args):
        subprocess.run(["zypper", "--root", str(tmp_path), "--non-interactive"] + list(args), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))

    zypper("addlock", "--", "wechat", "kesl")
    with open(str(tmp_path / "etc/zypp/locks"), "a") as handle:
        handle.write("type: package\nmatch_type: glob\ncase_sensitive: on\nsolvable_name: wechat\nversion: = 1.0\n\n")
    put(tmp_path, "/usr/bin/zypper", "#!/bin/sh\n", 0o755)
    assert bs.zypper_state(RootFS(str(tmp_path)))["locks"] == ["kesl", "wechat"]
    zypper("removelock", "--", "wechat")
    with open(str(tmp_path / "etc/zypp/locks")) as handle:
        text = handle.read()
    assert bs.parse_zypp_locks(text) == ["kesl"]
    assert "version: == 1.0" in text and "solvable_name: wechat" in text
