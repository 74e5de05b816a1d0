# -*- coding: utf-8 -*-
"""dpkg status parsing: states, multi-arch, lookalikes, hostile files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import dpkg as _dpkg
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.dpkg import list_dpkg, parse_status
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS


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


# -- ownership ---------------------------------------------------------------------------------
def write_list(root, name, lines):
    d = root / "var" / "lib" / "dpkg" / "info"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(lines if isinstance(lines, bytes) else "".join(l + "\n" for l in lines).encode("utf-8"))
    return d / name


WECHAT_LIST = ["/.", "/opt", "/opt/wechat", "/opt/wechat/wechat", "/opt/wechat/my lib dir",
               "/usr", "/usr/share", "/usr/share/applications", "/usr/share/applications/wechat.desktop"]


def test_owners_from_list_files_of_the_given_packages_only(tmp_path):
    write_list(tmp_path, "wechat.list", WECHAT_LIST)
    write_list(tmp_path, "kesl.list", ["/opt/kaspersky", "/opt/kaspersky/kesl", "/lib/systemd/system/kesl.service"])
    write_list(tmp_path, "kesl-gui.list", ["/opt/kaspersky", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl/gui"])
    write_list(tmp_path, "libfoo1:i386.list", ["/usr/lib/i386-linux-gnu/libfoo.so.1"])
    write_list(tmp_path, "bystander.list", ["/opt/wechat/extra", "/opt/other"])  # never read
    fs = RootFS(str(tmp_path))
    packages = [{"name": "wechat", "arch": "amd64"}, {"name": "kesl", "arch": "amd64"},
                {"name": "kesl-gui", "arch": "amd64"}, {"name": "libfoo1", "arch": "i386"},
                {"name": "missing", "arch": "amd64"}]
    paths = ["/opt/wechat", "/opt/wechat/my lib dir", "/usr/share/applications/wechat.desktop",
             "/opt/kaspersky/kesl", "/lib/systemd/system/kesl.service",
             "/usr/lib/systemd/system/kesl.service",  # not usr-merged here: a different path
             "/usr/lib/i386-linux-gnu/libfoo.so.1", "/opt/wechat/extra", "/opt/other", "/opt/wechat/"]
    assert _dpkg.dpkg_owners(fs, packages, paths) == {
        "/opt/wechat": ["wechat"],
        "/opt/wechat/my lib dir": ["wechat"],
        "/usr/share/applications/wechat.desktop": ["wechat"],
        "/opt/kaspersky/kesl": ["kesl", "kesl-gui"],
        "/lib/systemd/system/kesl.service": ["kesl"],
        "/usr/lib/i386-linux-gnu/libfoo.so.1": ["libfoo1"],
    }
    assert fs.warnings == []


def test_owners_usr_merged(tmp_path):
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    os.symlink("usr/lib", str(tmp_path / "lib"))
    os.symlink("/usr/bin", str(tmp_path / "bin"))  # absolute link, re-rooted: still merged
    (tmp_path / "usr" / "bin").mkdir()
    (tmp_path / "sbin").mkdir()                      # a real directory: not an alias
    write_list(tmp_path, "kesl.list", ["/lib/systemd/system/kesl.service", "/usr/bin/kesl-control",
                                       "/sbin/kesl-tool"])
    fs = RootFS(str(tmp_path))
    assert _dpkg.merged_aliases(fs) == [("/bin/", "/usr/bin/"), ("/lib/", "/usr/lib/")]
    paths = ["/usr/lib/systemd/system/kesl.service", "/bin/kesl-control", "/usr/sbin/kesl-tool"]
    assert _dpkg.dpkg_owners(fs, [{"name": "kesl"}], paths) == {
        "/usr/lib/systemd/system/kesl.service": ["kesl"],
        "/bin/kesl-control": ["kesl"],
    }


def test_hostile_list_files(tmp_path, monkeypatch):
    outside = tmp_path / "outside.list"
    outside.write_text("/opt/wechat\n")
    root = tmp_path / "root"
    info = root / "var" / "lib" / "dpkg" / "info"
    info.mkdir(parents=True)
    os.symlink(str(outside), str(info / "wechat.list"))          # a link: never read
    os.mkfifo(str(info / "kesl.list"))                             # a FIFO: never opened
    big = write_list(root, "klnagent64.list", ["/opt/kaspersky/klnagent64", "/opt/kaspersky/klnagent64/bin",
                                               "/opt/kaspersky/klnagent64/lib"])
    with open(str(big), "r+b") as f:                             # huge (sparse) tail
        f.truncate(1024 * 1024 * 1024)
    monkeypatch.setattr(_dpkg, "MAX_LIST_BYTES", 60)
    (root / "etc").mkdir()
    (root / "etc" / "shadow.list").write_text("/opt/wechat\n")
    fs = RootFS(str(root))
    packages = [{"name": "wechat"}, {"name": "kesl"}, {"name": "klnagent64"},
                {"name": "../../../etc/shadow"}, {"name": "kesl", "arch": "../x"}, {"name": 7}]
    paths = ["/opt/wechat", "/opt/kaspersky/klnagent64", "/opt/kaspersky/klnagent64/bin",
             "/opt/kaspersky/klnagent64/lib"]
    # the first 60 bytes hold two whole lines (56 bytes); the cut third line is dropped
    assert _dpkg.dpkg_owners(fs, packages, paths) == {
        "/opt/kaspersky/klnagent64": ["klnagent64"],
        "/opt/kaspersky/klnagent64/bin": ["klnagent64"],
    }
    assert fs.warnings == [
        "/var/lib/dpkg/info/wechat.list is not a regular file: not read (package ownership unknown)",
        "/var/lib/dpkg/info/kesl.list is not a regular file: not read (package ownership unknown)",
        "/var/lib/dpkg/info/klnagent64.list is larger than 60 bytes: only the start was read "
        "(package ownership may be incomplete)",
    ]


def test_list_files_of_validates_names():
    assert _dpkg.list_files_of(None, "libfoo1", "i386") == [
        "/var/lib/dpkg/info/libfoo1.list", "/var/lib/dpkg/info/libfoo1:i386.list"]
    assert _dpkg.list_files_of(None, "g++-12", None) == ["/var/lib/dpkg/info/g++-12.list"]
    assert _dpkg.list_files_of(None, "Wechat", "amd64") == []
    assert _dpkg.list_files_of(None, "a/b", "amd64") == []
    assert _dpkg.list_files_of(None, "kesl", "amd64/../../x") == ["/var/lib/dpkg/info/kesl.list"]


def test_no_packages_or_no_paths_reads_nothing(tmp_path):
    fs = RootFS(str(tmp_path / "nonexistent"))
    assert _dpkg.dpkg_owners(fs, [], ["/opt/wechat"]) == {}
    assert _dpkg.dpkg_owners(fs, [{"name": "wechat"}], []) == {}
