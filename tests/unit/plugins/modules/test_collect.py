# -*- coding: utf-8 -*-
"""The collect module: argument handling, check mode, rpm argv, dispatch (Linux, macOS, Windows image)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import loop as _collect_loop
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import rpm as _rpm
from ansible_collections.govsec.banned_software.plugins.modules import collect
from ansible_collections.govsec.banned_software.tests.unit.helpers import module_harness
from ansible_collections.govsec.banned_software.tests.unit.helpers.macos_tree import build_macos_tree
from ansible_collections.govsec.banned_software.tests.unit.helpers.module_harness import patch_exits

QFMT = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n"


@pytest.fixture
def module_env(monkeypatch):
    calls = []

    def run_command(self, args, **kwargs):
        calls.append((args, kwargs, dict(self.run_command_environ_update)))
        return 0, "wechat\t2\t4.0.1.11\t1\tx86_64\tTencent\nbash\t(none)\t5.1\t1\tx86_64\t(none)\n", ""

    patch_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(_rpm, "find_rpm_binary", lambda: "/usr/bin/rpm")
    # No coreutils timeout: the commands exactly as the collectors build them (the timeout wrapper is
    # tested in tests/unit/hostile/test_budget.py).
    monkeypatch.setattr(_collect_loop, "TIMEOUT_DIRS", ())
    return calls


def image(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    (tmp_path / "root").mkdir()
    (tmp_path / "home" / "alice" / ".xwechat").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "rpm").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "rpm" / "rpmdb.sqlite").write_bytes(b"")
    return tmp_path


def run_module(args):
    return module_harness.run_module(collect, args)


@pytest.mark.parametrize("check_mode", [False, True])
def test_collect_image(tmp_path, module_env, check_mode):
    root = image(tmp_path)
    query = {"linux": {"rpm": {"names": ["wechat"]}, "file": {"paths": ["~/.xwechat"]}},
             "macos": {"bundle": {"names": ["com.tencent.xinWeChat"]}}}
    args = {"root": str(root), "query": query}
    if check_mode:
        args["_ansible_check_mode"] = True
    out = run_module(args)
    assert out.kind == "exit"
    res = out.result
    assert res["changed"] is False
    assert module_env == [(
        ["/usr/bin/rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "-qa", "--qf", QFMT],
        {"environ_update": {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}, "expand_user_and_vars": False},
        {"LANG": "C", "LC_ALL": "C", "LANGUAGE": "C"},
    )]
    assert res["records"] == {
        "rpm": [{"name": "wechat", "version": "2:4.0.1.11-1", "arch": "x86_64", "vendor": "Tencent",
                 "scope": "machine", "path": "/var/lib/rpm"}],
        "file": [{"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
                  "type": "dir"}],
    }
    assert res["counts"] == {"rpm": 2, "file": 2}
    assert res["available"]["rpm"] is True
    assert res["incomplete"] == {}
    assert res["users"] == [{"name": "root", "uid": 0, "gid": 0, "home": "/root"},
                            {"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}]
    assert res["collector_warnings"] == []
    assert "warnings" not in res
    json.dumps(res)


def test_sources_choices_are_validated(tmp_path, module_env):
    out = run_module({"root": str(tmp_path), "query": {}, "sources": ["dpkg", "registry"]})
    assert out.kind == "fail"
    assert "registry" in out.result["msg"]
    assert module_env == []


def test_query_is_required(module_env):
    out = run_module({})
    assert out.kind == "fail"
    assert out.result["msg"] == "missing required arguments: query"


def test_root_must_be_a_directory(tmp_path, module_env):
    out = run_module({"root": str(tmp_path / "missing"), "query": {}})
    assert out.kind == "fail"
    assert out.result["msg"] == "root %s is not a directory" % (tmp_path / "missing")


def test_other_systems_fail_clearly(module_env, monkeypatch):
    monkeypatch.setattr(collect, "system_name", lambda: "FreeBSD")
    out = run_module({"root": "/", "query": {}})
    assert out.kind == "fail"
    assert out.result["msg"] == ("govsec.banned_software.collect supports Linux and macOS; this host "
                                 "runs FreeBSD")


def test_macos_image_goes_to_the_macos_collector(tmp_path, module_env):
    root = build_macos_tree(tmp_path / "mac", users=("alice",))
    query = {"linux": {"dpkg": {"names": ["wechat"]}},
             "macos": {"bundle": {"names": ["com.tencent.xinWeChat"]}, "cask": {"names": ["wechat"]},
                       "process": {"names": ["WeChat"]},
                       "data": {"paths": ["~/Library/Containers/com.tencent.xinWeChat"]}},
             "windows": {"registry": {"names": ["WeChat"]}}}
    out = run_module({"root": str(root), "query": query})
    assert out.kind == "exit"
    res = out.result
    assert (res["os"], res["os_version"], res["changed"]) == ("macos", "14.5", False)
    assert res["records"] == {
        "bundle": [
            {"name": "com.tencent.xinWeChat", "scope": "machine", "path": "/Applications/WeChat.app",
             "version": "4.0.1", "display_name": "WeChat"},
            {"name": "com.tencent.xinWeChat", "scope": "machine", "path": "/Applications/\u5fae\u4fe1.app",
             "version": "3.8.10", "display_name": "WeChat"},
            {"name": "com.tencent.xinWeChat", "scope": "user:alice", "path": "/Users/alice/Applications/WeChat.app",
             "version": "4.0.1", "display_name": "WeChat"}],
        "cask": [{"name": "wechat", "scope": "machine", "path": "/opt/homebrew/Caskroom/wechat",
                  "prefix": "/opt/homebrew", "version": "4.0.1", "versions": ["4.0.1"],
                  "uid": (root / "opt/homebrew/Caskroom/wechat").stat().st_uid}],
        "process": [],
        "data": [
            {"name": "/Users/alice/Library/Containers/com.tencent.xinWeChat",
             "path": "/Users/alice/Library/Containers/com.tencent.xinWeChat", "scope": "user:alice", "type": "dir"}],
    }
    assert res["users"] == [{"name": "root", "uid": 0, "gid": 0, "home": "/var/root"},
                            {"name": "alice", "uid": 501, "gid": 20, "home": "/Users/alice"}]
    assert res["available"] == {"applications": True, "homebrew": True, "ps": False}
    assert res["collector_warnings"] == ["process: not examined, %s is not the running system" % root]
    assert (res["tools"], res["reboot_required"]) == ({}, False)
    assert module_env == [], "nothing runs for an image"
    json.dumps(res)


def test_running_mac_goes_to_the_macos_collector(module_env, monkeypatch):
    calls = []

    def run_command(self, args, **kwargs):
        calls.append((args, kwargs, dict(self.run_command_environ_update)))
        return 0, ("    1     0 /sbin/launchd\n  812   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n"
                   "  813   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n"
                   "  900   501 /Applications/QQ.app/Contents/MacOS/QQ\n"), ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(collect, "system_name", lambda: "Darwin")
    out = run_module({"root": "/", "query": {"macos": {"process": {"names": ["WeChat"]}}}, "sources": ["process"]})
    assert out.kind == "exit"
    res = out.result
    assert res["os"] == "macos"
    rec = res["records"]["process"]
    assert len(rec) == 1
    assert dict((k, rec[0][k]) for k in ("name", "scope", "pid", "pids", "exe", "path", "comm", "uid")) == {
        "name": "WeChat", "scope": "machine", "pid": 812, "pids": [812, 813],
        "exe": "/Applications/WeChat.app/Contents/MacOS/WeChat",
        "path": "/Applications/WeChat.app/Contents/MacOS/WeChat",
        "comm": "/Applications/WeChat.app/Contents/MacOS/WeChat", "uid": 501}
    assert res["counts"] == {"process": 4}
    assert res["available"] == {"ps": True}
    assert calls == [(["/bin/ps", "-axo", "pid=,uid=,comm="],
                      {"environ_update": {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}, "expand_user_and_vars": False},
                      {"LANG": "C", "LC_ALL": "C", "LANGUAGE": "C"})]


def test_documentation_is_yaml_and_lists_every_source():
    doc = yaml.safe_load(collect.DOCUMENTATION)
    assert doc["options"]["sources"]["choices"] == [
        "dpkg", "rpm", "flatpak", "snap", "appimage", "file", "desktop", "service", "process", "data", "leftover",
        "npm", "bundle", "pkg-receipt", "launchd", "cask", "sysext"]
    assert sorted(yaml.safe_load(collect.RETURN)) == [
        "available", "block_state", "collector_version", "collector_warnings", "counts", "environment", "incomplete",
        "local_fact", "local_fact_file", "os", "os_version", "reboot_required", "records", "root", "run_state", "tools", "users", "volume"]


def test_linux_sources_on_a_macos_image_are_ignored_with_a_warning(tmp_path, module_env):
    root = build_macos_tree(tmp_path / "mac", users=())
    out = run_module({"root": str(root), "query": {"macos": {"cask": {"names": ["wechat"]}}},
                      "sources": ["dpkg", "cask"]})
    assert out.kind == "exit"
    assert [r["name"] for r in out.result["records"]["cask"]] == ["wechat"]
    assert out.result["collector_warnings"] == [
        "unknown source dpkg ignored (known: bundle, pkg-receipt, launchd, cask, sysext, process, file, data, "
        "leftover, npm)"]


def test_windows_image_goes_to_the_windows_image_collector(tmp_path, module_env):
    # An empty SOFTWARE file: recognised as Windows, read by the image collector, reported as unreadable.
    (tmp_path / "Windows/System32/config").mkdir(parents=True)
    (tmp_path / "Windows/System32/config/SOFTWARE").write_bytes(b"")
    out = run_module({"root": str(tmp_path), "query": {"linux": {"dpkg": {"names": ["wechat"]}},
                                                       "windows": {"registry": {"names": ["WeChat"]}}}})
    assert out.kind == "exit"
    res = out.result
    assert res["os"] == "windows" and res["changed"] is False
    assert res["records"] == {"registry": []}
    assert res["incomplete"] == {"registry": "the SOFTWARE hive could not be read"}
    assert res["collector_warnings"] == [
        "registry hive /Windows/System32/config/SOFTWARE is truncated (0 bytes) (machine-wide uninstall entries, "
        "profiles and AppX packages are incomplete)"]
    assert module_env == []


def test_negative_source_timeout_fails(tmp_path, module_env):
    out = run_module({"root": str(image(tmp_path)), "query": {"linux": {}}, "source_timeout": -1})
    assert out.kind == "fail"
    assert out.result["msg"] == "source_timeout must be 0 (no budget) or a number of seconds, not -1"


def test_image_without_markers_is_linux(tmp_path):
    assert collect.target_os(str(tmp_path)) == "linux"


def test_query_for_another_platform_examines_nothing(tmp_path, module_env):
    root = image(tmp_path)
    out = run_module({"root": str(root), "query": {"macos": {"bundle": {"names": ["x"]}}}})
    assert out.kind == "exit"
    assert out.result["records"] == {}
    assert module_env == []


def test_pseudo_sources_tools_and_reboot(tmp_path, module_env):
    root = image(tmp_path)
    (root / "var" / "opt" / "kaspersky" / "kesl").mkdir(parents=True)
    query = {"linux": {"data": {"paths": ["~/.xwechat", "~/xwechat_files"]},
                       "leftover": {"paths": ["/var/opt/kaspersky/kesl", "/etc/opt/kaspersky/kesl"]},
                       "file": {"paths": ["/opt/wechat"]}}}
    out = run_module({"root": str(root), "query": query, "sources": ["data", "leftover"]})
    assert out.kind == "exit"
    res = out.result
    assert res["records"] == {
        "data": [{"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
                  "type": "dir"}],
        "leftover": [{"name": "/var/opt/kaspersky/kesl", "path": "/var/opt/kaspersky/kesl", "scope": "machine",
                      "type": "dir"}],
    }
    assert res["counts"] == {"data": 4, "leftover": 2}
    assert res["tools"] == {}
    assert res["reboot_required"] is False
    assert module_env == []
    assert collect.DOCUMENTATION.count("choices: [dpkg, rpm, flatpak, snap, appimage, file, desktop, service, "
                                       "process, data, leftover, npm, bundle,\n              pkg-receipt, launchd, cask, "
                                       "sysext]") == 1
