# -*- coding: utf-8 -*-
"""dpkg status parsing: states, multi-arch, lookalikes, hostile files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._dpkg import list_dpkg, parse_status
from ansible_collections.govsec.banned_software.plugins.module_utils._query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import RootFS


def stanza(name, version, arch="amd64", status="install ok installed", extra=""):
    return ("Package: %s\nStatus: %s\nPriority: optional\nSection: misc\nInstalled-Size: 1234\n"
            "Maintainer: Someone <someone@example.org>\nArchitecture: %s\nVersion: %s\n%s"
            "Description: %s package\n long description line one\n .\n Package: not-a-field\n"
            % (name, status, arch, version, extra, name))


FILLER = ["libc6", "bash", "coreutils", "dpkg", "apt", "openssh-server", "python3", "systemd",
          "tzdata", "zlib1g", "libssl3", "ca-certificates", "curl", "gzip", "tar", "sed", "grep"]

STATUS = "\n".join(
    [stanza(n, "1.%d-1" % i) for i, n in enumerate(FILLER)]
    + [
        stanza("wechat", "4.0.1.11"),
        stanza("kesl", "12.2.0.2412", extra="Depends: libc6\n"),
        stanza("kesl-gui", "12.2.0.2412", status="install ok half-configured"),
        stanza("klnagent64", "15.1.0-20748", status="install reinstreq half-installed"),
        stanza("linuxqq", "3.2.9"),
        stanza("python3-wechatpy", "1.8.18-1", arch="all"),
        stanza("clamav", "1.0.7+dfsg-1"),
        stanza("libfoo1", "2.0", arch="amd64", extra="Multi-Arch: same\n"),
        stanza("libfoo1", "2.0", arch="i386", extra="Multi-Arch: same\n"),
        stanza("oldpkg", "0.1", status="deinstall ok config-files"),
        stanza("gone", "0.2", status="purge ok not-installed"),
        stanza("unpackedpkg", "0.3", status="install ok unpacked"),
    ])

QUERY = compile_query({"dpkg": {"names": ["wechat", "klnagent64", "libfoo1", "oldpkg", "gone",
                                          "unpackedpkg"],
                                "regex": ["kesl(-gui)?(-astra)?"]}})


def write_status(root, data):
    d = root / "var" / "lib" / "dpkg"
    d.mkdir(parents=True)
    (d / "status").write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def test_banned_packages_found_lookalikes_not(tmp_path):
    write_status(tmp_path, STATUS)
    fs = RootFS(str(tmp_path))
    ok, recs, examined = list_dpkg(fs, QUERY.sources["dpkg"])
    assert ok is True
    assert examined == len(FILLER) + 10  # config-files and not-installed are not "present"
    got = [(r["name"], r.get("version"), r.get("arch"), r["state"]) for r in recs]
    assert got == [
        ("wechat", "4.0.1.11", "amd64", "installed"),
        ("kesl", "12.2.0.2412", "amd64", "installed"),
        ("kesl-gui", "12.2.0.2412", "amd64", "half-configured"),
        ("klnagent64", "15.1.0-20748", "amd64", "half-installed"),
        ("libfoo1", "2.0", "amd64", "installed"),
        ("libfoo1", "2.0", "i386", "installed"),
        ("unpackedpkg", "0.3", "amd64", "unpacked"),
    ]
    assert all(r["scope"] == "machine" and r["path"] == "/var/lib/dpkg/status" for r in recs)
    assert fs.warnings == []


@pytest.mark.parametrize("status,present,state", [
    ("install ok installed", True, "installed"),
    ("hold ok installed", True, "installed"),
    ("install ok half-installed", True, "half-installed"),
    ("install ok unpacked", True, "unpacked"),
    ("install ok half-configured", True, "half-configured"),
    ("install ok triggers-awaited", True, "triggers-awaited"),
    ("install ok triggers-pending", True, "triggers-pending"),
    ("deinstall ok config-files", False, None),
    ("purge ok not-installed", False, None),
])
def test_states(status, present, state):
    warnings = []
    recs, examined = parse_status(stanza("wechat", "1", status=status), QUERY.sources["dpkg"], warnings)
    assert examined == (1 if present else 0)
    assert [r["state"] for r in recs] == ([state] if present else [])
    assert warnings == []


def test_truncated_final_stanza_and_non_utf8(tmp_path):
    data = (STATUS.encode("utf-8") + b"\nPackage: wechat\nStatus: install ok installed\n"
            b"Architecture: amd64\nVersion: 4.0\xff.1\nDescription: broken \xfe\n"
            b"\nPackage: kesl\nStatus: install ok inst")
    write_status(tmp_path, data)
    fs = RootFS(str(tmp_path))
    ok, recs, examined = list_dpkg(fs, QUERY.sources["dpkg"])
    assert ok is True
    wechat = [r for r in recs if r["name"] == "wechat"]
    assert [r["version"] for r in wechat] == ["4.0.1.11", "4.0\\xff.1"]
    assert [r["name"] for r in recs].count("kesl") == 1  # the truncated one is not reported
    assert fs.warnings == [
        "/var/lib/dpkg/status does not end with a newline: its last stanza may be truncated",
        "/var/lib/dpkg/status: 1 malformed or truncated stanza(s) ignored",
    ]


def test_missing_status_is_unavailable(tmp_path):
    fs = RootFS(str(tmp_path))
    assert list_dpkg(fs, QUERY.sources["dpkg"]) == (False, [], 0)
    assert fs.warnings == []


def test_unreadable_status_is_a_warning(tmp_path):
    d = tmp_path / "var" / "lib" / "dpkg"
    d.mkdir(parents=True)
    (d / "status").mkdir()  # a directory where the file should be
    fs = RootFS(str(tmp_path))
    assert list_dpkg(fs, QUERY.sources["dpkg"]) == (False, [], 0)


def test_status_link_outside_root_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "status").write_text(stanza("wechat", "9"))
    root = tmp_path / "root"
    d = root / "var" / "lib" / "dpkg"
    d.mkdir(parents=True)
    import os
    os.symlink(str(outside / "status"), str(d / "status"))
    fs = RootFS(str(root))
    ok, recs, examined = list_dpkg(fs, QUERY.sources["dpkg"])
    assert (recs, examined) == ([], 0)
