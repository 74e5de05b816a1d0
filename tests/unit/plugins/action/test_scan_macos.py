# -*- coding: utf-8 -*-
"""macOS end to end: the shipped catalog -> query -> the collect module's dispatch (the real macOS
collector on a simulated macOS volume with real plists) -> matcher, through the scan action (``root``)
and the image_scan action."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.action import image_scan as image_scan_action
from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.macos import collect_macos
from ansible_collections.govsec.banned_software.plugins.modules import collect as collect_module
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.helpers import macos_tree as M

NOT_USED = (1, "", "no command may run for an image scan")


@pytest.fixture(scope="module")
def mac(tmp_path_factory):
    return M.build_macos_tree(tmp_path_factory.mktemp("image") / "mac", hostile=True)


def fake_collect(module_name=None, module_args=None, task_vars=None, **kwargs):
    """What the collect module does with these arguments (its dispatch, without AnsibleModule)."""
    root = module_args["root"]
    assert collect_module.target_os(root) == "macos"
    commands = []

    def run_command(argv, **kw):
        commands.append(argv)
        return NOT_USED

    result = collect_macos(root, module_args["query"].get("macos") or {}, run_command,
                           users=module_args.get("users"), sources=module_args.get("sources"))
    assert commands == []
    result["collector_warnings"] = result.pop("warnings")
    return result


def make_action(plugin, args, monkeypatch, task_vars_extra=None):
    action = action_runner.make_action(plugin, args=args)
    calls, execute_module = action_runner.recording(fake_collect)
    monkeypatch.setattr(action, "_execute_module", execute_module)
    task_vars = {"inventory_hostname": "mac", "ansible_connection": "local"}
    task_vars.update(task_vars_extra or {})
    return action, calls, task_vars


def found(result):
    return sorted((f["id"], f["source"], f["name"], f["scope"], f["path"]) for f in result["findings"])


EXPECTED = sorted(M.BANNED + M.BANNED_HOSTILE)

HOSTILE_WARNINGS = [
    "/Applications/Broken.app/Contents/Info.plist is not a valid property list (ExpatError) (bundle skipped)",
    "/Applications/Escape.app/Contents/Info.plist is not a readable regular file inside root: not read (bundle skipped)",
    "/Applications/Huge.app/Contents/Info.plist is larger than 4194304 bytes: not read (bundle skipped)",
    "/Applications/Laughs.app/Contents/Info.plist declares XML entities: not read (bundle skipped)",
    "cannot read /Applications/Loop.app: symbolic link loop",
    "/Applications/Passwd.app/Contents/Info.plist is not a readable regular file inside root: not read (bundle skipped)",
    "/Library/LaunchDaemons/com.kaspersky.avscan.plist is not a valid property list (InvalidFileException) "
    "(launchd job)",
]


def test_scan_with_root_finds_exactly_the_banned_software(mac, monkeypatch):
    action, calls, task_vars = make_action(scan_action, {"root": str(mac)}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert found(result) == EXPECTED
    assert (result["status"], result["changed"]) == ("non_compliant", False)
    assert [c[0] for c in calls] == ["govsec.banned_software.collect"]
    assert calls[0][1]["root"] == str(mac)
    assert sorted(calls[0][1]["query"]) == ["linux", "macos", "windows"]
    facts = result["ansible_facts"]["banned_software"]
    assert facts["os"] == "macos"
    assert sorted(facts["warnings"]) == sorted(HOSTILE_WARNINGS + [
        "process: not examined, %s is not the running system" % mac])
    names = set(f["name"] for f in result["findings"])
    for lookalike in M.LOOKALIKES:
        assert lookalike not in names
    assert facts["available"] == {"applications": True, "receipts": True, "launchd": True, "homebrew": True,
                                  "sysext_db": True, "ps": False, "npm": False}
    # every application bundle, receipt, job, cask and extension was looked at, not only the banned ones
    # (bundles: 10 in /Applications and its folders, 6 hostile ones that are directories, alice's WeChat)
    assert facts["counts"] == {"bundle": 17, "pkg-receipt": 5, "launchd": 6, "cask": 4, "sysext": 3,
                               "process": 0, "file": 8,
                               "data": 15, "leftover": 28, "npm": 0}
    wechat = [f for f in result["findings"] if f["source"] == "bundle" and f["path"] == "/Applications/WeChat.app"][0]
    assert (wechat["version"], wechat["details"]) == ("4.0.1", {"display_name": "WeChat"})
    sysext = [f for f in result["findings"] if f["name"] == "com.kaspersky.kav.netfilter"][0]
    assert (sysext["version"], sysext["details"]) == ("16.0.0", {"state": "activated_enabled", "team_id": "2Y8XE5CQ94"})


def test_scan_limited_to_one_user(mac, monkeypatch):
    action, calls, task_vars = make_action(scan_action, {"root": str(mac), "users": ["bob"]}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert calls[0][1]["users"] == ["bob"]
    assert [f for f in found(result) if f[3] != "machine"] == []
    assert found(result) == [f for f in EXPECTED if f[3] == "machine"]


def test_policy_selection_on_macos(mac, monkeypatch):
    action, dummy, task_vars = make_action(scan_action, {"root": str(mac), "policies": ["au-pspf-002-2025-kaspersky"]},
                                           monkeypatch)
    result = action.run(task_vars=task_vars)
    assert sorted(set(f["id"] for f in result["findings"])) == ["kaspersky-macos", "kaspersky-network-agent"]


def test_image_scan_of_a_macos_volume(mac, monkeypatch):
    action, calls, task_vars = make_action(image_scan_action, {"root": str(mac), "os": "macos"}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert (result["changed"], result["status"], result["os"]) == (False, "non_compliant", "macos")
    assert found(result) == EXPECTED
    assert [c[0] for c in calls] == ["govsec.banned_software.collect"]
    assert result["counts"]["findings"] == len(EXPECTED) == 23
    assert result["counts"]["exempt"] == 0
    assert result["root"] == str(mac)


def test_image_scan_refuses_a_macos_volume_announced_as_linux(mac, monkeypatch):
    action, calls, task_vars = make_action(image_scan_action, {"root": str(mac), "os": "linux"}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert result["msg"] == "the image under %s holds a macos system, not linux (os: linux)" % mac
    assert len(calls) == 1
