# -*- coding: utf-8 -*-
"""The scan action end to end on a fake Linux root: catalog -> query -> real collector -> matcher.

The module call is replaced by a direct call of the collector code on a directory tree, so the whole
pipeline that runs on a real host (query built from the shipped catalog, pre-filter on the host,
matching and exemptions on the controller) is exercised on realistic and lookalike software.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import host_platform_family
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

TODAY = datetime.date.today()

BANNED_DEBS = ["wechat", "kesl", "kesl-gui", "klnagent64", "com.tencent.weixin"]
LOOKALIKE_DEBS = ["linuxqq", "python3-wechatpy", "golang-github-silenceper-wechat-dev", "clamav",
                  "bytedance-feishu-stable", "wemeet", "libc6", "bash", "openssh-server", "wechat-bridge",
                  "kesl-tools-unrelated", "matrix-wechat"]


def _stanza(name, version="1.0-1"):
    return ("Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n"
            "Maintainer: test <t@example.invalid>\nDescription: test\n" % (name, version))


def make_root(tmp_path):
    root = tmp_path / "img"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("\n".join(_stanza(n) for n in BANNED_DEBS + LOOKALIKE_DEBS))
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                     "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n")
    (root / "root").mkdir()
    for d in ("opt/wechat", "opt/kaspersky/kesl/bin", "opt/kaspersky/klnagent64/bin", "opt/qq",
              "home/alice/Applications", "home/alice/.xwechat", "usr/share/applications",
              "lib/systemd/system"):
        (root / d).mkdir(parents=True)
    # AppImages by content (ELF with the type 2 magic); the lookalike is a real AppImage of another name
    (root / "home/alice/Applications/WeChatLinux_x86_64.AppImage").write_bytes(b"\x7fELF\x02\x01\x01\x00AI\x02")
    (root / "home/alice/Applications/wechat-exporter.AppImage").write_bytes(b"\x7fELF\x02\x01\x01\x00AI\x02")
    (root / "usr/share/applications/wechat.desktop").write_text("[Desktop Entry]\nName=WeChat\nExec=/opt/wechat/wechat\n")
    (root / "usr/share/applications/qq.desktop").write_text("[Desktop Entry]\nName=QQ\nExec=/opt/qq/qq\n")
    (root / "lib/systemd/system/kesl.service").write_text("[Service]\nExecStart=/opt/kaspersky/kesl/libexec/kesl\n")
    (root / "lib/systemd/system/clamav-daemon.service").write_text("[Service]\n")
    return root


def make_action(args, monkeypatch, root, task_vars_extra=None):
    def collect(module_name=None, module_args=None, task_vars=None):
        query = module_args["query"]["linux"]
        result = collect_linux(str(root), query, lambda *a, **k: (1, "", "not used"),
                               users=module_args.get("users"), sources=module_args.get("sources"))
        result["collector_warnings"] = result.pop("warnings")
        return result

    action = action_runner.make_action(scan_action, args=args)
    calls, execute_module = action_runner.recording(collect)
    monkeypatch.setattr(action, "_execute_module", execute_module)
    task_vars = {"inventory_hostname": "img", "ansible_connection": "local"}
    task_vars.update(task_vars_extra or {})
    return action, calls, task_vars


def found(result):
    return sorted((f["id"], f["source"], f["name"]) for f in result["findings"])


EXPECTED = [
    ("kaspersky-endpoint-security-linux", "dpkg", "kesl"),
    ("kaspersky-endpoint-security-linux", "dpkg", "kesl-gui"),
    ("kaspersky-endpoint-security-linux", "file", "/opt/kaspersky/kesl"),
    ("kaspersky-endpoint-security-linux", "service", "kesl.service"),
    ("kaspersky-network-agent", "dpkg", "klnagent64"),
    ("kaspersky-network-agent", "file", "/opt/kaspersky/klnagent64"),
    ("wechat", "appimage", "WeChatLinux_x86_64.AppImage"),
    ("wechat", "desktop", "wechat.desktop"),
    ("wechat", "dpkg", "com.tencent.weixin"),
    ("wechat", "dpkg", "wechat"),
    ("wechat", "file", "/opt/wechat"),
]


def test_scan_finds_exactly_the_banned_software(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, calls, task_vars = make_action({"root": str(root)}, monkeypatch, root)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert found(result) == EXPECTED
    assert result["status"] == "non_compliant"
    assert result["changed"] is False
    assert len(calls) == 1, "one collector call per host"
    assert calls[0][0] == "govsec.banned_software.collect"
    assert calls[0][1]["root"] == str(root)
    facts = result["ansible_facts"]["banned_software"]
    assert facts["findings"] == result["findings"]
    assert facts["os"] == "linux"
    names = set(finding[2] for finding in found(result))
    for lookalike in LOOKALIKE_DEBS + ["wechat-exporter.AppImage", "qq.desktop", "clamav-daemon.service", "/opt/qq"]:
        assert lookalike not in names


def test_query_sent_to_host_is_small_and_linux_and_macos_only(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, calls, task_vars = make_action({}, monkeypatch, root)
    action.run(task_vars=task_vars)
    query = calls[0][1]["query"]
    assert sorted(query) == ["linux", "macos"]
    assert "wechat" in query["linux"]["dpkg"]["names"]


def test_image_scan_query_also_carries_windows(tmp_path, monkeypatch):
    # A mounted image may hold Windows: the collector picks the part for what it finds there.
    root = make_root(tmp_path)
    action, calls, task_vars = make_action({"root": str(root)}, monkeypatch, root)
    action.run(task_vars=task_vars)
    query = calls[0][1]["query"]
    assert sorted(query) == ["linux", "macos", "windows"]
    assert query["windows"]["registry"]["casefold"] is True
    assert "WeChat" in query["windows"]["registry"]["names"]


def test_policy_selection_limits_findings(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    args = {"root": str(root), "policies": ["au-pspf-002-2025-kaspersky"]}
    action, dummy, task_vars = make_action(args, monkeypatch, root)
    result = action.run(task_vars=task_vars)
    ids = sorted(set(finding[0] for finding in found(result)))
    assert ids == ["kaspersky-endpoint-security-linux", "kaspersky-network-agent"]
    for finding in result["findings"]:
        assert finding["policies"] == ["au-pspf-002-2025-kaspersky"]


def test_exemption_live_and_expired(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    args = {"root": str(root), "exemptions": [
        {"entry": "wechat", "reason": "liaison office", "expires": tomorrow},
        {"entry": "kaspersky-network-agent", "reason": "old ticket", "expires": yesterday},
    ]}
    action, dummy, task_vars = make_action(args, monkeypatch, root)
    result = action.run(task_vars=task_vars)
    by_id = {}
    for f in result["findings"]:
        by_id.setdefault(f["id"], []).append(f)
    assert all(f["exempt"] and f["exemption"]["reason"] == "liaison office" for f in by_id["wechat"])
    assert all(not f["exempt"] and f["exemption_expired"]["expires"] == yesterday
               for f in by_id["kaspersky-network-agent"])
    assert result["status"] == "non_compliant"
    assert any("expired" in w for w in result["ansible_facts"]["banned_software"]["warnings"])


def test_everything_exempt_is_compliant(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    far = (TODAY + datetime.timedelta(days=30)).isoformat()
    ids = ["wechat", "kaspersky-endpoint-security-linux", "kaspersky-network-agent"]
    args = {"root": str(root), "exemptions": [{"entry": i, "reason": "r", "expires": far} for i in ids]}
    action, dummy, task_vars = make_action(args, monkeypatch, root)
    result = action.run(task_vars=task_vars)
    assert result["status"] == "compliant"
    assert len(result["findings"]) == len(EXPECTED)


@pytest.mark.parametrize("args, message", [
    ({"policies": ["no-such-policy"]}, "field 'banned_software_policies[0]': unknown policy 'no-such-policy'"),
    ({"disabled_entries": ["wechatt"]}, "field 'banned_software_disabled_entries[0]': unknown entry 'wechatt'"),
    ({"exemptions": [{"entry": "wechat", "reason": "r"}]}, "field 'banned_software_exemptions[0].expires': is required"),
    ({"custom_entries": [{"id": "x", "vendor": "v", "product": "p", "policies": ["ca-tbs-2023-10-30"],
                          "references": [{"url": "https://e.example"}],
                          "signatures": {"linux": {"dpkg": [{"name_regex": "("}]}}}]},
     "variables (banned_software_custom_entries), entry 'x', field 'signatures.linux.dpkg[0].name_regex'"),
])
def test_bad_variables_fail_before_the_host_is_contacted(tmp_path, monkeypatch, args, message):
    root = make_root(tmp_path)
    action, calls, task_vars = make_action(dict(args, root=str(root)), monkeypatch, root)
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert message in result["msg"], result["msg"]
    assert calls == []


def test_collector_failure_is_reported(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, dummy, task_vars = make_action({"root": str(root)}, monkeypatch, root)
    monkeypatch.setattr(action, "_execute_module",
                        lambda **kw: {"failed": True, "msg": "boom", "rc": 3, "module_stderr": "trace"})
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert result["msg"] == "collector govsec.banned_software.collect failed: boom"
    assert result["rc"] == 3 and result["module_stderr"] == "trace"


def test_collector_reporting_another_os_is_refused(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, dummy, task_vars = make_action({"root": str(root)}, monkeypatch, root)
    monkeypatch.setattr(action, "_execute_module", lambda **kw: {"os": "freebsd", "records": {}})
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert "reported os 'freebsd', expected one of linux, macos, windows" in result["msg"]


def test_live_scan_refuses_windows_from_the_posix_collector(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, dummy, task_vars = make_action({}, monkeypatch, root)
    monkeypatch.setattr(action, "_execute_module", lambda **kw: {"os": "windows", "records": {}})
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert "reported os 'windows', expected one of linux, macos" in result["msg"]


@pytest.mark.parametrize("task_vars, expected", [
    ({"ansible_connection": "winrm"}, "windows"),
    ({"ansible_connection": "ssh", "ansible_shell_type": "powershell"}, "windows"),
    ({"ansible_connection": "ssh"}, "posix"),
    ({"ansible_facts": {"os_family": "Windows"}}, "windows"),
    ({"ansible_facts": {"system": "Linux"}, "ansible_connection": "psrp"}, "posix"),
    ({}, "posix"),
])
def test_platform_family(task_vars, expected):
    assert host_platform_family(task_vars) == expected
