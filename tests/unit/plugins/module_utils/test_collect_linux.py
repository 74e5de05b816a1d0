# -*- coding: utf-8 -*-
"""collect_linux end to end on a fake image, including hostile homes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils import _collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect_linux import collect_linux

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
slash:x:999:999::/:/bin/sh
alice:x:1000:1000:Alice:/home/alice:/bin/bash
bob:x:1001:1001:Bob:/home/bob:/bin/bash
eve:x:1002:1002:Eve:/home/eve:/bin/bash
mallory:x:1003:1003::/home/mallory:/bin/bash
loopy:x:1004:1004::/home/loopy:/bin/bash
ghost:x:1005:1005::/home/ghost:/bin/bash
broken line without enough fields
"""

STATUS = """Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b8

Package: wechat
Status: install ok installed
Architecture: amd64
Version: 4.0.1.11

Package: python3-wechatpy
Status: install ok installed
Architecture: all
Version: 1.8.18-1
"""

QUERY = {
    "dpkg": {"names": ["wechat", "kesl"], "regex": []},
    "rpm": {"names": ["wechat"]},
    "flatpak": {"names": ["com.tencent.WeChat"]},
    "snap": {"names": ["wechat"]},
    "appimage": {"regex": ["(?i)wechat.*\\.appimage"]},
    "desktop": {"names": ["wechat.desktop"]},
    "service": {"names": ["kesl.service"]},
    "process": {"names": ["wechat"]},
    "file": {"paths": ["/opt/wechat", "~/.xwechat"]},
}


@pytest.fixture
def image(tmp_path):
    r = tmp_path / "img"
    outside = tmp_path / "outside"
    (outside / ".xwechat").mkdir(parents=True)
    (r / "etc").mkdir(parents=True)
    (r / "etc" / "passwd").write_text(PASSWD)
    (r / "var" / "lib" / "dpkg").mkdir(parents=True)
    (r / "var" / "lib" / "dpkg" / "status").write_text(STATUS)
    for d in ["root", "usr/sbin", "bin", "home/alice/.xwechat", "opt"]:
        (r / d).mkdir(parents=True, exist_ok=True)
    os.symlink("/etc", str(r / "home" / "bob"))            # home is a link to /etc (re-rooted)
    os.symlink(str(outside), str(r / "home" / "eve"))      # home points outside root: not followed out
    os.symlink("/", str(r / "home" / "mallory"))           # home is the root directory
    os.symlink("loopy", str(r / "home" / "loopy"))         # home is a link loop
    os.symlink("../../../../etc", str(r / "opt" / "wechat"))
    return r


def test_image_scan(image):
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        return 0, "", ""

    res = collect_linux(str(image), QUERY, run)
    assert set(res) == {"os", "root", "collector_version", "available", "counts", "users", "records",
                        "warnings"}
    assert (res["os"], res["root"], res["collector_version"]) == ("linux", str(image), "1")
    assert res["available"] == {"dpkg": True, "rpm": False, "flatpak": False, "snap": False,
                                "systemd": False, "sysv": False, "proc": False}
    assert res["users"] == [
        {"name": "root", "uid": 0, "home": "/root"},
        {"name": "daemon", "uid": 1, "home": "/usr/sbin"},
        {"name": "sync", "uid": 4, "home": "/bin"},      # proxy shares /bin: scanned once
        {"name": "alice", "uid": 1000, "home": "/home/alice"},
        {"name": "bob", "uid": 1001, "home": "/home/bob"},
    ]
    assert res["counts"] == {"dpkg": 3, "rpm": 0, "flatpak": 0, "snap": 0, "appimage": 0, "file": 6,
                             "desktop": 0, "service": 0, "process": 0}
    assert res["records"]["dpkg"] == [{"name": "wechat", "version": "4.0.1.11", "arch": "amd64",
                                       "state": "installed", "scope": "machine",
                                       "path": "/var/lib/dpkg/status"}]
    assert res["records"]["file"] == [
        {"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "link",
         "target": "../../../../etc"},
        {"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
         "type": "dir"},
    ]
    for source in ("rpm", "flatpak", "snap", "appimage", "desktop", "service", "process"):
        assert res["records"][source] == []
    assert calls == []  # no rpm database: rpm is never run
    assert res["warnings"] == [
        "home of mallory (/home/mallory) resolves to the root directory: not scanned as a home",
        "cannot read /home/loopy: symbolic link loop (per-user sources for loopy are incomplete)",
        "process: not examined, %s is not the running system" % image,
    ]


def test_sources_subset_and_users_option(image):
    res = collect_linux(str(image), QUERY, None, users=["alice", "nosuchuser"], sources=["dpkg", "file", "bogus"])
    assert sorted(res["records"]) == ["dpkg", "file"]
    assert res["users"] == [{"name": "alice", "uid": 1000, "home": "/home/alice"}]
    assert [r["scope"] for r in res["records"]["file"]] == ["machine", "user:alice"]
    assert res["warnings"] == [
        "unknown source bogus ignored (known: dpkg, rpm, flatpak, snap, appimage, file, desktop, "
        "service, process)",
        "user nosuchuser was requested but has no scannable home under root",
    ]


def test_source_not_in_query_is_not_examined(image):
    res = collect_linux(str(image), {"dpkg": {"names": ["kesl"]}}, None)
    assert res["records"] == {"dpkg": []}
    assert res["counts"] == {"dpkg": 3}
    assert res["available"] == {"dpkg": True}  # sources not examined have no key


def test_a_crashing_source_is_a_warning(image, monkeypatch):
    def boom(fs, query):
        raise RuntimeError("unexpected")
    monkeypatch.setattr(_collect_linux, "list_dpkg", boom)
    res = collect_linux(str(image), QUERY, lambda *a, **k: (0, "", ""), sources=["dpkg", "file"])
    assert res["available"]["dpkg"] is False
    assert res["records"]["dpkg"] == []
    assert res["warnings"][2] == ("dpkg: collector error, records from this source are incomplete: "
                                  "RuntimeError: unexpected")
    assert len(res["warnings"]) == 3  # the two user warnings come first
    assert len(res["records"]["file"]) == 2


def test_rpm_database_in_image(image):
    db = image / "var" / "lib" / "rpm"
    db.mkdir(parents=True)
    (db / "Packages").write_bytes(b"")
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        return 0, "wechat\t(none)\t4.0.1.11\t1\tx86_64\tTencent\nbash\t(none)\t5\t1\tx86_64\t(none)\n", ""

    res = collect_linux(str(image), QUERY, run, sources=["rpm"], rpm_bin="/usr/bin/rpm")
    assert calls == [["/usr/bin/rpm", "--root", str(image), "--dbpath", "/var/lib/rpm", "-qa", "--qf",
                      "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n"]]
    assert res["available"]["rpm"] is True
    assert res["counts"] == {"rpm": 2}
    assert res["records"]["rpm"] == [{"name": "wechat", "version": "4.0.1.11-1", "arch": "x86_64",
                                      "vendor": "Tencent", "scope": "machine", "path": "/var/lib/rpm"}]


def test_invalid_query_shapes(image):
    res = collect_linux(str(image), {"dpkg": "wechat", "snap": {"names": "x"}, "rpm": {"regex": ["("]}}, None)
    assert res["records"] == {}
    assert res["warnings"][:3] == [
        "query: dpkg: expected a mapping",
        "query: snap: names and regex must be lists",
        "query: invalid regular expression '(' ignored: missing ), unterminated subpattern at position 0",
    ]


def test_live_root_smoke():
    res = collect_linux("/", {"process": {"regex": ["python.*", "pytest.*"]}, "dpkg": {"names": ["bash"]}},
                        lambda *a, **k: (1, "", "no"))
    assert res["available"]["proc"] is True
    assert res["counts"]["process"] >= 1
    assert any(os.getpid() in r["pids"] for r in res["records"]["process"])
