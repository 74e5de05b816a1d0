# -*- coding: utf-8 -*-
"""collect_linux end to end on a fake image, including hostile homes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import linux as _collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux

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
    assert set(res) == {"os", "root", "collector_version", "available", "incomplete", "counts", "users", "records",
                        "tools", "reboot_required", "local_fact", "local_fact_file", "run_state", "warnings"}
    assert (res["local_fact"], res["local_fact_file"], res["run_state"]) == (None, None, None)  # an image: no local fact, no run
    assert (res["tools"], res["reboot_required"]) == ({}, False)  # an image: nothing of this host
    assert (res["os"], res["root"], res["collector_version"]) == ("linux", str(image), "1")
    assert res["available"] == {"dpkg": True, "rpm": False, "flatpak": False, "snap": False,
                                "systemd": False, "sysv": False, "proc": False}
    assert res["users"] == [
        {"name": "root", "uid": 0, "gid": 0, "home": "/root"},
        {"name": "daemon", "uid": 1, "gid": 1, "home": "/usr/sbin"},
        {"name": "sync", "uid": 4, "gid": 65534, "home": "/bin"},      # proxy shares /bin: scanned once
        {"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"},
        {"name": "bob", "uid": 1001, "gid": 1001, "home": "/home/bob"},
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
    assert res["users"] == [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}]
    assert [r["scope"] for r in res["records"]["file"]] == ["machine", "user:alice"]
    assert res["warnings"] == [
        "unknown source bogus ignored (known: dpkg, rpm, flatpak, snap, appimage, file, desktop, "
        "service, process, data, leftover, npm)",
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

    res = collect_linux(str(image), QUERY, run, sources=["rpm"], rpm_bin="/usr/bin/rpm",
                        source_timeout=0)  # no budget: the rpm argv as given (the timeout wrapper: tests/unit/hostile)
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


# -- remediation pseudo-sources, ownership, tools, reboot -------------------------------------------
KESL_STATUS = STATUS + """
Package: kesl
Status: install ok installed
Architecture: amd64
Version: 12.2.0.2412
"""

OWN_QUERY = {
    "dpkg": {"names": ["wechat", "kesl"]},
    "desktop": {"names": ["wechat.desktop"]},
    "service": {"names": ["kesl.service"]},
    "file": {"paths": ["/opt/wechat", "/opt/kaspersky/kesl", "~/.xwechat", "/opt/apps/com.tencent.wechat"]},
    "data": {"paths": ["~/.xwechat", "~/xwechat_files", "~/Documents/xwechat_files", "/nonexistent"]},
    "leftover": {"paths": ["/var/opt/kaspersky/kesl", "/etc/opt/kaspersky/kesl", "/var/log/kaspersky/kesl",
                           "/var/opt/kaspersky/klnagent*", "/opt/kaspersky"]},
}


def owned_image(tmp_path):
    r = tmp_path / "img"
    for d in ["etc", "home/alice/.xwechat", "home/alice/Documents/xwechat_files", "opt/wechat",
              "opt/kaspersky/kesl", "opt/apps/com.tencent.wechat", "usr/share/applications",
              "usr/lib/systemd/system", "var/lib/dpkg/info", "var/opt/kaspersky/kesl",
              "var/opt/kaspersky/klnagent64", "var/log/kaspersky/kesl"]:
        (r / d).mkdir(parents=True)
    (r / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    (r / "var" / "opt" / "kaspersky" / "klnagent.conf").write_text("")
    (r / "var" / "lib" / "dpkg" / "status").write_text(KESL_STATUS)
    (r / "usr" / "share" / "applications" / "wechat.desktop").write_text("[Desktop Entry]\nExec=/opt/wechat/wechat\n")
    (r / "usr" / "lib" / "systemd" / "system" / "kesl.service").write_text("[Service]\n")
    os.symlink("usr/lib", str(r / "lib"))
    info = r / "var" / "lib" / "dpkg" / "info"
    (info / "wechat.list").write_text("/.\n/opt\n/opt/wechat\n/opt/wechat/wechat\n/usr/share/applications/wechat.desktop\n")
    (info / "kesl:amd64.list").write_text("/opt/kaspersky\n/opt/kaspersky/kesl\n/lib/systemd/system/kesl.service\n")
    # a package that did not pass the pre-filter: its list is never read
    (info / "com.tencent.wechat.list").write_text("/opt/apps/com.tencent.wechat\n")
    return r


def test_data_leftover_and_dpkg_ownership(tmp_path):
    image = owned_image(tmp_path)
    res = collect_linux(str(image), OWN_QUERY, None)
    assert res["warnings"] == []
    # one user (root's home is missing); the klnagent* glob examines the 3 names in /var/opt/kaspersky
    assert res["users"] == [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}]
    assert res["counts"] == {"dpkg": 4, "file": 4, "desktop": 1, "service": 1, "data": 4, "leftover": 7}
    assert res["records"]["file"] == [
        {"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "dir",
         "owner": "wechat", "owner_source": "dpkg"},
        {"name": "/opt/kaspersky/kesl", "path": "/opt/kaspersky/kesl", "scope": "machine", "type": "dir",
         "owner": "kesl", "owner_source": "dpkg"},
        {"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice", "type": "dir"},
        # owned by com.tencent.wechat, which did not pass the pre-filter: found in every package's lists
        {"name": "/opt/apps/com.tencent.wechat", "path": "/opt/apps/com.tencent.wechat", "scope": "machine",
         "type": "dir", "owner": "com.tencent.wechat", "owner_source": "dpkg"},
    ]
    assert res["records"]["desktop"] == [
        {"name": "wechat.desktop", "scope": "machine", "path": "/usr/share/applications/wechat.desktop",
         "type": "file", "exec": "/opt/wechat/wechat", "owner": "wechat", "owner_source": "dpkg"}]
    assert res["records"]["service"] == [
        {"name": "kesl.service", "scope": "machine", "type": "systemd",
         "path": "/usr/lib/systemd/system/kesl.service", "enabled": False, "owner": "kesl", "owner_source": "dpkg"}]
    assert res["records"]["data"] == [
        {"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice", "type": "dir"},
        {"name": "/home/alice/Documents/xwechat_files", "path": "/home/alice/Documents/xwechat_files",
         "scope": "user:alice", "type": "dir"},
    ]
    assert res["records"]["leftover"] == [
        {"name": "/var/opt/kaspersky/kesl", "path": "/var/opt/kaspersky/kesl", "scope": "machine", "type": "dir"},
        {"name": "/var/log/kaspersky/kesl", "path": "/var/log/kaspersky/kesl", "scope": "machine", "type": "dir"},
        {"name": "/var/opt/kaspersky/klnagent.conf", "path": "/var/opt/kaspersky/klnagent.conf",
         "scope": "machine", "type": "file"},
        {"name": "/var/opt/kaspersky/klnagent64", "path": "/var/opt/kaspersky/klnagent64", "scope": "machine",
         "type": "dir"},
        {"name": "/opt/kaspersky", "path": "/opt/kaspersky", "scope": "machine", "type": "dir"},
    ]


def test_pseudo_sources_alone_and_in_sources_option(tmp_path):
    image = owned_image(tmp_path)
    res = collect_linux(str(image), OWN_QUERY, None, sources=["data"])
    assert sorted(res["records"]) == ["data"] and res["counts"] == {"data": 4}
    res = collect_linux(str(image), {"leftover": {"paths": ["/opt/kaspersky", "/opt/kaspersky", "/", "//",
                                                            "/opt/../etc", "/opt/./kaspersky"]},
                                     "data": {"paths": ["~/", "~/Documents/..", "~/.xwechat"]}}, None)
    assert res["records"] == {
        "leftover": [{"name": "/opt/kaspersky", "path": "/opt/kaspersky", "scope": "machine", "type": "dir"}],
        "data": [{"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
                  "type": "dir"}]}
    assert res["counts"] == {"data": 1, "leftover": 1}
    assert res["warnings"] == [
        "file path %s names the root or a home directory itself or contains . or ..: ignored" % p
        for p in ("~/", "~/Documents/..", "/", "//", "/opt/../etc", "/opt/./kaspersky")]
    # without the dpkg source no banned package passed the pre-filter, but the paths still belong to
    # packages (read from every .list file): remediation must know they are owned
    res = collect_linux(str(image), OWN_QUERY, None, sources=["file"])
    assert [(r.get("owner"), r.get("owner_source")) for r in res["records"]["file"]] == [
        ("wechat", "dpkg"), ("kesl", "dpkg"), (None, None), ("com.tencent.wechat", "dpkg")]


def test_rpm_ownership_one_extra_command(tmp_path):
    image = owned_image(tmp_path)
    shutil.rmtree(str(image / "var" / "lib" / "dpkg"))   # an RPM-only host
    (image / "var" / "lib" / "rpm").mkdir(parents=True)
    (image / "var" / "lib" / "rpm" / "rpmdb.sqlite").write_bytes(b"")
    calls = []
    answers = [
        (0, "kesl\t(none)\t12.2.0\t2412\tx86_64\tAO Kaspersky Lab\nbash\t(none)\t5\t1\tx86_64\t(none)\n", ""),
        (1, "/opt/kaspersky/kesl\tkesl\n/usr/lib/systemd/system/kesl.service\tkesl\n"
            "file /opt/wechat is not owned by any package\n", ""),
    ]

    def run(argv, **kw):
        calls.append(argv)
        return answers.pop(0)

    query = dict(OWN_QUERY, rpm={"names": ["kesl"]})
    del query["dpkg"]
    res = collect_linux(str(image), query, run, rpm_bin="/usr/bin/rpm", source_timeout=0)
    assert calls[1] == ["/usr/bin/rpm", "--root", str(image), "--dbpath", "/var/lib/rpm", "-qf", "--qf",
                        "[%{FILENAMES}\\t%{=NAME}\\n]", "--", "/opt/apps/com.tencent.wechat",
                        "/opt/kaspersky/kesl", "/opt/wechat", "/usr/lib/systemd/system/kesl.service",
                        "/usr/share/applications/wechat.desktop"]
    assert len(calls) == 2
    assert [(r["path"], r.get("owner"), r.get("owner_source")) for s in ("file", "desktop", "service")
            for r in res["records"][s]] == [
        ("/opt/wechat", None, None),
        ("/opt/kaspersky/kesl", "kesl", "rpm"),
        ("/home/alice/.xwechat", None, None),
        ("/opt/apps/com.tencent.wechat", None, None),
        ("/usr/share/applications/wechat.desktop", None, None),
        ("/usr/lib/systemd/system/kesl.service", "kesl", "rpm"),
    ]
    assert res["warnings"] == []


def test_rpm_ownership_asks_every_database_without_matching_packages(tmp_path):
    image = owned_image(tmp_path)
    (image / "var" / "lib" / "rpm").mkdir(parents=True)
    (image / "var" / "lib" / "rpm" / "Packages").write_bytes(b"")
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        return 0, "bash\t(none)\t5\t1\tx86_64\t(none)\n", ""

    res = collect_linux(str(image), dict(OWN_QUERY, rpm={"names": ["kesl"]}), run, rpm_bin="/usr/bin/rpm",
                        source_timeout=0)
    # no banned rpm matched, yet the paths dpkg does not own are still looked up in the rpm database
    assert [c[5] for c in calls] == ["-qa", "-qf"]
    assert calls[1][4] == "/var/lib/rpm"
    assert res["records"]["file"][0]["owner"] == "wechat"  # from dpkg


def test_ownership_error_keeps_records(tmp_path, monkeypatch):
    image = owned_image(tmp_path)

    def boom(*args):
        raise ValueError("bad")
    monkeypatch.setattr(_collect_linux, "dpkg_owners", boom)
    res = collect_linux(str(image), OWN_QUERY, None)
    assert len(res["records"]["file"]) == 4
    assert res["warnings"] == ["package ownership: collector error, owners are incomplete: ValueError: bad"]


def test_multiple_owners(tmp_path):
    image = owned_image(tmp_path)
    info = image / "var" / "lib" / "dpkg" / "info"
    (info / "wechat.list").write_text("/opt/kaspersky/kesl\n")
    res = collect_linux(str(image), OWN_QUERY, None, sources=["dpkg", "file"])
    kesl = [r for r in res["records"]["file"] if r["path"] == "/opt/kaspersky/kesl"][0]
    assert (kesl["owner"], kesl["owner_source"], kesl["owners"]) == ("kesl", "dpkg", ["kesl", "wechat"])


def make_tool(d, name, mode=0o755):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text("#!/bin/sh\n")
    (d / name).chmod(mode)


def test_find_tools(tmp_path):
    first, second = tmp_path / "usr-local-sbin", tmp_path / "usr-bin"
    make_tool(first, "tar")
    make_tool(second, "tar")
    make_tool(second, "dpkg")
    make_tool(first, "rpm", 0o644)          # not executable: skipped
    make_tool(second, "rpm")
    (first / "dnf").mkdir()                 # a directory: skipped
    make_tool(second, "apt-get")
    make_tool(second, "apt")                # not a tool we report
    os.symlink(str(second / "dpkg"), str(first / "systemctl"))
    os.symlink(str(tmp_path / "missing"), str(first / "snap"))
    assert _collect_linux.find_tools([str(first), str(second)]) == {
        "dpkg": str(second / "dpkg"), "apt-get": str(second / "apt-get"), "rpm": str(second / "rpm"),
        "systemctl": str(first / "systemctl"), "tar": str(first / "tar")}
    assert _collect_linux.TOOL_DIRS == ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                                        "/bin")


def test_reboot_required(tmp_path):
    flag = tmp_path / "run-reboot-required"
    assert _collect_linux.reboot_required([str(flag), str(tmp_path / "other")]) is False
    flag.write_text("")
    assert _collect_linux.reboot_required([str(tmp_path / "other"), str(flag)]) is True
    assert _collect_linux.REBOOT_FLAGS == ("/run/reboot-required", "/var/run/reboot-required")


def test_tools_and_reboot_live_only(tmp_path, monkeypatch):
    make_tool(tmp_path / "bin", "flatpak")
    (tmp_path / "reboot-required").write_text("")
    monkeypatch.setattr(_collect_linux, "TOOL_DIRS", (str(tmp_path / "bin"),))
    monkeypatch.setattr(_collect_linux, "REBOOT_FLAGS", (str(tmp_path / "reboot-required"),))
    live = collect_linux("/", {}, None)
    assert (live["tools"], live["reboot_required"]) == ({"flatpak": str(tmp_path / "bin" / "flatpak")}, True)
    image = collect_linux(str(tmp_path), {}, None)
    assert (image["tools"], image["reboot_required"]) == ({}, False)


def test_paths_owned_by_packages_that_are_not_banned(tmp_path):
    """A matched path that another (benign) package owns is reported with that owner."""
    image = owned_image(tmp_path)
    info = image / "var" / "lib" / "dpkg" / "info"
    (info / "wechat.list").unlink()
    (info / "benign-thing.list").write_text("/.\n/opt\n/opt/wechat\n/opt/wechat/README\n")
    (info / "libfoo1:amd64.list").write_text("/usr/lib/libfoo.so.1\n")
    (info / "not-a-list.md5sums").write_text("x  /opt/wechat\n")
    res = collect_linux(str(image), OWN_QUERY, None, sources=["dpkg", "file"])
    owners = dict((r["path"], (r.get("owner"), r.get("owner_source"))) for r in res["records"]["file"])
    assert owners["/opt/wechat"] == ("benign-thing", "dpkg")
    assert owners["/home/alice/.xwechat"] == (None, None)


def test_image_tools_are_the_images_own(tmp_path):
    """An image's plan names the tools of the system deployed from it, found inside the image."""
    image = tmp_path / "img"
    for rel in ("usr/bin/dpkg", "bin/systemctl", "usr/sbin/runuser"):
        (image / rel).parent.mkdir(parents=True, exist_ok=True)
        (image / rel).write_bytes(b"\x7fELF")
    (image / "usr/bin/rpm").mkdir(parents=True)          # a directory is not a tool
    (image / "usr/bin/flatpak").symlink_to("/usr/bin/true")  # a link out of the image: not followed out
    res = collect_linux(str(image), {}, None)
    assert res["tools"] == {"dpkg": "/usr/bin/dpkg", "systemctl": "/bin/systemctl", "runuser": "/usr/sbin/runuser"}


# -- the local fact (drift check) ------------------------------------------------------------------
FACT = ('{"schema": 1, "status": "compliant", "last_remediation": {"at": "2026-12-01T09:00:42Z", "removed": []},'
        ' "removals": [{"key": "dpkg|machine|wechat|/var/lib/dpkg/status", "id": "wechat",'
        ' "removed_at": "2026-12-01T09:00:42Z"}]}')


def test_the_local_fact_under_root_is_read_in_the_same_call(image):
    facts_d = image / "etc" / "ansible" / "facts.d"
    facts_d.mkdir(parents=True)
    (facts_d / "banned_software.fact").write_text(FACT)
    res = collect_linux(str(image), QUERY, lambda *a, **k: (0, "", ""))
    assert res["local_fact"] == {
        "path": "/etc/ansible/facts.d/banned_software.fact", "last_remediation_at": "2026-12-01T09:00:42Z",
        "removals": [{"key": "dpkg|machine|wechat|/var/lib/dpkg/status", "id": "wechat",
                      "removed_at": "2026-12-01T09:00:42Z"}]}
    assert not [w for w in res["warnings"] if "local fact" in w]


@pytest.mark.parametrize("hostile, warning", [
    ("link", "is a symbolic link, not read"),
    ("json", "not valid JSON"),
    ("schema", "not a schema 1 record (schema 7)"),
])
def test_a_hostile_local_fact_is_a_warning_and_the_scan_goes_on(image, hostile, warning):
    facts_d = image / "etc" / "ansible" / "facts.d"
    facts_d.mkdir(parents=True)
    target = facts_d / "banned_software.fact"
    if hostile == "link":
        os.symlink("/etc/passwd", str(target))
    else:
        target.write_text("{" if hostile == "json" else '{"schema": 7}')
    res = collect_linux(str(image), QUERY, lambda *a, **k: (0, "", ""))
    assert res["local_fact"] is None
    assert [w for w in res["warnings"] if w.startswith("local fact /etc/ansible/facts.d/banned_software.fact: ")
            and warning in w and w.endswith("reinstalls are not reported for this host")]
    assert [r["name"] for r in res["records"]["dpkg"]] == ["wechat"]
