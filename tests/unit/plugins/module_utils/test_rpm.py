# -*- coding: utf-8 -*-
"""rpm: database discovery, exact argv, output parsing, failures as warnings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import rpm as _rpm
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

QFMT = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n"
Q = compile_query({"rpm": {"names": ["wechat", "klnagent64"], "regex": ["kesl(-gui)?"]}}).sources["rpm"]

OUTPUT = "".join([
    "bash\t(none)\t5.1.8\t9.el9\tx86_64\tRed Hat, Inc.\n",
    "wechat\t2\t4.0.1.11\t1\tx86_64\tTencent\n",
    "kesl\t(none)\t12.2.0\t2954\tx86_64\t(none)\n",
    "kesl-gui\t(none)\t12.2.0\t2954\tx86_64\tAO Kaspersky Lab\twith\ttabs\n",
    "gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n",
    "keslx\t(none)\t1\t1\tnoarch\t(none)\n",
    "garbage line without tabs\n",
])


class Runner:
    def __init__(self, results):
        self.results = list(results)
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        return self.results.pop(0)


def make_db(root, dbpath, dbfile="rpmdb.sqlite"):
    d = root / dbpath.lstrip("/")
    d.mkdir(parents=True, exist_ok=True)
    (d / dbfile).write_bytes(b"")
    return d


@pytest.mark.parametrize("layout,expected", [
    ({"/var/lib/rpm": "Packages"}, ["/var/lib/rpm"]),
    ({"/usr/lib/sysimage/rpm": "rpmdb.sqlite"}, ["/usr/lib/sysimage/rpm"]),
    ({"/var/lib/rpm": "Packages.db"}, ["/var/lib/rpm"]),
    ({"/root/.rpmdb": "rpmdb.sqlite"}, ["/root/.rpmdb"]),
    ({"/var/lib/rpm": None}, []),  # an empty directory (Debian with the rpm package) is no database
    ({}, []),
])
def test_find_databases(tmp_path, layout, expected):
    for dbpath, dbfile in layout.items():
        if dbfile:
            make_db(tmp_path, dbpath, dbfile)
        else:
            (tmp_path / dbpath.lstrip("/")).mkdir(parents=True)
    assert _rpm.find_databases(RootFS(str(tmp_path))) == expected


def test_fedora_var_lib_rpm_link_is_read_once(tmp_path):
    make_db(tmp_path, "/usr/lib/sysimage/rpm")
    (tmp_path / "var" / "lib").mkdir(parents=True)
    os.symlink("../../usr/lib/sysimage/rpm", str(tmp_path / "var" / "lib" / "rpm"))
    assert _rpm.find_databases(RootFS(str(tmp_path))) == ["/usr/lib/sysimage/rpm"]


def test_hostile_dbpath_link_is_resolved_inside_root(tmp_path):
    outside = tmp_path / "outside"
    make_db(outside, "/db")
    root = tmp_path / "root"
    (root / "var" / "lib").mkdir(parents=True)
    os.symlink(str(outside / "db"), str(root / "var" / "lib" / "rpm"))
    assert _rpm.find_databases(RootFS(str(root))) == []


def test_query_argv_and_records(tmp_path):
    make_db(tmp_path, "/var/lib/rpm", "Packages")
    fs = RootFS(str(tmp_path))
    run = Runner([(0, OUTPUT, "")])
    ok, recs, examined = _rpm.list_rpm(fs, Q, run, rpm_bin="/usr/bin/rpm")
    assert run.calls == [(
        ["/usr/bin/rpm", "--root", str(tmp_path), "--dbpath", "/var/lib/rpm", "-qa", "--qf", QFMT],
        {"environ_update": {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}, "expand_user_and_vars": False},
    )]
    assert ok is True
    assert examined == 6
    assert recs == [
        {"name": "wechat", "version": "2:4.0.1.11-1", "arch": "x86_64", "vendor": "Tencent",
         "scope": "machine", "path": "/var/lib/rpm"},
        {"name": "kesl", "version": "12.2.0-2954", "arch": "x86_64", "scope": "machine",
         "path": "/var/lib/rpm"},
        {"name": "kesl-gui", "version": "12.2.0-2954", "arch": "x86_64",
         "vendor": "AO Kaspersky Lab\twith\ttabs", "scope": "machine", "path": "/var/lib/rpm"},
    ]
    assert fs.warnings == ["rpm query of /var/lib/rpm: 1 unparsable line(s) ignored"]


def test_no_database_never_runs_rpm(tmp_path):
    (tmp_path / "var" / "lib" / "rpm").mkdir(parents=True)
    run = Runner([])
    fs = RootFS(str(tmp_path))
    assert _rpm.list_rpm(fs, Q, run, rpm_bin="/usr/bin/rpm") == (False, [], 0)
    assert run.calls == [] and fs.warnings == []


def test_database_without_binary_warns(tmp_path, monkeypatch):
    make_db(tmp_path, "/var/lib/rpm")
    monkeypatch.setattr(_rpm, "find_rpm_binary", lambda: None)
    fs = RootFS(str(tmp_path))
    assert _rpm.list_rpm(fs, Q, Runner([])) == (False, [], 0)
    assert fs.warnings == ["an rpm database exists (/var/lib/rpm) but no rpm binary was found on this host: "
                           "rpm packages were not examined"]


def test_failed_query_warns_and_other_db_still_read(tmp_path):
    make_db(tmp_path, "/usr/lib/sysimage/rpm")
    make_db(tmp_path, "/root/.rpmdb")
    fs = RootFS(str(tmp_path))
    run = Runner([(1, "", "error: db5 error(-30969) from dbenv->open\nmore\n"),
                  (0, "wechat\t(none)\t4.0\t1\tx86_64\t(none)\n", "")])
    ok, recs, examined = _rpm.list_rpm(fs, Q, run, rpm_bin="/bin/rpm")
    assert [c[0][4] for c in run.calls] == ["/usr/lib/sysimage/rpm", "/root/.rpmdb"]
    assert (ok, examined) == (True, 1)
    assert recs == [{"name": "wechat", "version": "4.0-1", "arch": "x86_64", "scope": "machine",
                     "path": "/root/.rpmdb"}]
    assert fs.warnings == ["rpm query of /usr/lib/sysimage/rpm failed (rc=1): error: db5 "
                           "error(-30969) from dbenv->open: rpm packages there were not examined"]


def test_runner_exception_is_a_warning(tmp_path):
    make_db(tmp_path, "/var/lib/rpm")
    fs = RootFS(str(tmp_path))

    def boom(argv, **kwargs):
        raise OSError("exec format error")
    assert _rpm.list_rpm(fs, Q, boom, rpm_bin="/bin/rpm") == (False, [], 0)
    assert fs.warnings == ["rpm query of /var/lib/rpm failed: exec format error"]


def test_find_rpm_binary(tmp_path):
    b = tmp_path / "bin"
    b.mkdir()
    rpm = b / "rpm"
    rpm.write_text("#!/bin/sh\n")
    rpm.chmod(0o755)
    assert _rpm.find_rpm_binary(str(b)) == str(rpm)


# -- ownership ---------------------------------------------------------------------------------
OWNER_FMT = "[%{FILENAMES}\\t%{=NAME}\\n]"
OWNER_OUT = "".join([
    "/opt/kaspersky\tkesl\n",
    "/opt/kaspersky/kesl\tkesl\n",
    "/opt/kaspersky/kesl/bin/kesl-control\tkesl\n",
    "/usr/lib/systemd/system/kesl.service\tkesl\n",
    "/opt/kaspersky/kesl\tkesl-gui\n",
    "/usr/share/applications/kesl gui.desktop\tkesl-gui\n",
    "/opt/wechat\tnot-in-prefilter\n",           # owner whose package did not pass the pre-filter
    "file /opt/stray is not owned by any package\n",
])
RECS = [{"name": "kesl", "scope": "machine", "path": "/var/lib/rpm"},
        {"name": "kesl-gui", "scope": "machine", "path": "/var/lib/rpm"}]


def test_owner_argv_and_parse(tmp_path):
    fs = RootFS(str(tmp_path))
    run = Runner([(1, OWNER_OUT, "")])
    paths = ["/opt/kaspersky/kesl", "/usr/lib/systemd/system/kesl.service",
             "/usr/share/applications/kesl gui.desktop", "/opt/wechat", "/opt/stray"]
    owners = _rpm.rpm_owners(fs, run, RECS, paths, rpm_bin="/usr/bin/rpm")
    assert run.calls == [(
        ["/usr/bin/rpm", "--root", str(tmp_path), "--dbpath", "/var/lib/rpm", "-qf", "--qf", OWNER_FMT, "--",
         "/opt/kaspersky/kesl", "/usr/lib/systemd/system/kesl.service",
         "/usr/share/applications/kesl gui.desktop", "/opt/wechat", "/opt/stray"],
        {"environ_update": {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}, "expand_user_and_vars": False},
    )]
    assert owners == {
        "/opt/kaspersky/kesl": ["kesl", "kesl-gui"],
        "/usr/lib/systemd/system/kesl.service": ["kesl"],
        "/usr/share/applications/kesl gui.desktop": ["kesl-gui"],
        # owned by a package that is not banned: reported, so that removal leaves the path alone
        "/opt/wechat": ["not-in-prefilter"],
    }
    assert fs.warnings == []  # rc=1 only says a path is not owned


def test_owner_query_per_database_and_usr_merge(tmp_path):
    fs = RootFS(str(tmp_path))
    recs = [{"name": "kesl", "scope": "machine", "path": "/var/lib/rpm"},
            {"name": "wechat", "scope": "machine", "path": "/usr/lib/sysimage/rpm"}]
    run = Runner([(0, "/opt/wechat\twechat\n/opt/kaspersky/kesl\twechat\n", ""),
                  (0, "/usr/lib/systemd/system/kesl.service\tkesl\n/opt/wechat\tkesl\n", "")])
    owners = _rpm.rpm_owners(fs, run, recs, ["/lib/systemd/system/kesl.service", "/opt/wechat"],
                             rpm_bin="/bin/rpm", aliases=[("/lib/", "/usr/lib/")])
    assert [c[0][4] for c in run.calls] == ["/usr/lib/sysimage/rpm", "/var/lib/rpm"]
    # an owner only counts in the database its package record came from
    assert owners == {"/opt/wechat": ["kesl", "wechat"], "/lib/systemd/system/kesl.service": ["kesl"]}


def test_owner_query_not_run_without_packages_paths_or_binary(tmp_path, monkeypatch):
    fs = RootFS(str(tmp_path))
    run = Runner([])
    assert _rpm.rpm_owners(fs, run, [], ["/opt/x"], rpm_bin="/bin/rpm") == {}
    assert _rpm.rpm_owners(fs, run, RECS, [], rpm_bin="/bin/rpm") == {}
    monkeypatch.setattr(_rpm, "find_rpm_binary", lambda: None)
    assert _rpm.rpm_owners(fs, run, RECS, ["/opt/x"]) == {}
    assert run.calls == [] and fs.warnings == []


def test_owner_query_failures_are_warnings(tmp_path):
    fs = RootFS(str(tmp_path))
    run = Runner([(1, "", "error: file /opt/gone: No such file or directory\n"
                          "error: rpmdb: BDB0113 Thread/process failed\n")])
    assert _rpm.rpm_owners(fs, run, RECS, ["/opt/gone"], rpm_bin="/bin/rpm") == {}

    def boom(argv, **kwargs):
        raise OSError("exec format error")
    assert _rpm.rpm_owners(fs, boom, RECS, ["/opt/x"], rpm_bin="/bin/rpm") == {}
    assert fs.warnings == [
        "rpm ownership query of /var/lib/rpm failed (rc=1): error: rpmdb: BDB0113 Thread/process failed: "
        "package ownership unknown",
        "rpm ownership query of /var/lib/rpm failed: exec format error",
    ]
