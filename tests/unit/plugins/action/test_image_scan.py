# -*- coding: utf-8 -*-
"""The image_scan action end to end: catalog -> query -> the collect module's dispatch (Linux collector
or the Windows image collector on real hives) -> matcher -> removal planner, on fake mounted images."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.govsec.banned_software.plugins.action import image_scan as image_scan_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan import planner as _plan
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.windows_image import (
    MissingLibrary, collect_windows_image)
from ansible_collections.govsec.banned_software.plugins.modules import collect as collect_module
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.helpers import hive as H
from ansible_collections.govsec.banned_software.tests.unit.plugins.action.test_scan import (
    EXPECTED as LINUX_EXPECTED, make_root)

MSIEXEC = "C:\\WINDOWS\\System32\\msiexec.exe"


@pytest.fixture(scope="module")
def windows_image(tmp_path_factory):
    return H.make_windows_image(tmp_path_factory.mktemp("image"))


def fake_collect(module_name=None, module_args=None, task_vars=None, **kwargs):
    """What the collect module does with these arguments (its dispatch, without AnsibleModule)."""
    root = module_args["root"]
    if collect_module.target_os(root) == "windows":
        try:
            result = collect_windows_image(root, module_args["query"].get("windows") or {},
                                           users=module_args.get("users"))
        except MissingLibrary as exc:
            return {"failed": True, "msg": str(exc)}
    else:
        result = collect_linux(root, module_args["query"]["linux"], lambda *a, **k: (1, "", "not used"),
                               users=module_args.get("users"))
    result["collector_warnings"] = result.pop("warnings")
    return result


def make_action(args, monkeypatch, task_vars_extra=None, execute=fake_collect):
    action = action_runner.make_action(image_scan_action, args=args)
    calls, execute_module = action_runner.recording(execute)
    monkeypatch.setattr(action, "_execute_module", execute_module)
    task_vars = {"inventory_hostname": "golden", "ansible_connection": "local"}
    task_vars.update(task_vars_extra or {})
    return action, calls, task_vars


def summary(step):
    kind = step["kind"]
    if kind == "command":
        return (kind, step["action"], tuple(step["argv"]))
    if kind in ("service_stop", "service_disable"):
        return (kind, step["name"])
    if kind == "appx_remove":
        return (kind, step["package_full_name"], step["all_users"])
    if kind == "appx_deprovision":
        return (kind, step["name"])
    return (kind, step["action"], step.get("path"), step.get("type"))


def remediations(result):
    return dict(((f["id"], f["source"], f["name"], f["scope"]),
                 None if f["remediation"] is None else [summary(s) for s in f["remediation"]])
                for f in result["findings"])


def test_linux_image_findings_carry_their_planned_steps(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    action, calls, task_vars = make_action({"root": str(root), "os": "linux"}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert sorted((f["id"], f["source"], f["name"]) for f in result["findings"]) == LINUX_EXPECTED
    assert (result["changed"], result["status"], result["os"]) == (False, "non_compliant", "linux")
    assert [c[0] for c in calls] == ["govsec.banned_software.collect"]
    assert calls[0][1]["root"] == str(root)
    assert sorted(calls[0][1]["query"]) == ["linux", "macos", "windows"]
    assert remediations(result) == {
        ("kaspersky-endpoint-security-linux", "dpkg", "kesl", "machine"): [],
        ("kaspersky-endpoint-security-linux", "dpkg", "kesl-gui", "machine"): [],
        ("kaspersky-endpoint-security-linux", "file", "/opt/kaspersky/kesl", "machine"):
            [("quarantine", "quarantine", "/opt/kaspersky/kesl", "dir")],
        ("kaspersky-endpoint-security-linux", "service", "kesl.service", "machine"):
            [("quarantine", "quarantine", "/lib/systemd/system/kesl.service", "file")],
        ("kaspersky-network-agent", "dpkg", "klnagent64", "machine"): [],
        ("kaspersky-network-agent", "file", "/opt/kaspersky/klnagent64", "machine"):
            [("quarantine", "quarantine", "/opt/kaspersky/klnagent64", "dir")],
        ("wechat", "appimage", "WeChatLinux_x86_64.AppImage", "user:alice"):
            [("quarantine", "quarantine", "/home/alice/Applications/WeChatLinux_x86_64.AppImage", "file")],
        ("wechat", "desktop", "wechat.desktop", "machine"):
            [("quarantine", "quarantine", "/usr/share/applications/wechat.desktop", "file")],
        ("wechat", "dpkg", "com.tencent.weixin", "machine"): [],
        ("wechat", "dpkg", "wechat", "machine"): [],
        ("wechat", "file", "/opt/wechat", "machine"): [("quarantine", "quarantine", "/opt/wechat", "dir")],
    }
    dpkg = [f for f in result["findings"] if f["source"] == "dpkg"]
    assert set(f["remediation_note"] for f in dpkg) == set(["unplanned: dpkg is not installed on the host"])
    assert result["counts"]["findings"] == 11 and result["counts"]["planned"] == 6 and result["counts"]["exempt"] == 0
    assert result["counts"]["examined"]["dpkg"] == 17
    assert result["warnings"] == ["process: not examined, %s is not the running system" % root]
    assert result["plan"]["os"] == "linux" and result["plan"]["run_id"].startswith("image-")


WINDOWS_REMEDIATION = {
    ("deepseek", "file", "%LocalAppData%\\Programs\\DeepSeek Harness", "user:alice"): [],
    ("deepseek", "registry", H.DEEPSEEK_KEY, "user:alice"): [],
    ("kaspersky-endpoint-security-windows", "registry", H.KES_GUID, "machine"):
        [("command", "uninstall", (MSIEXEC, "/x", H.KES_GUID, "/qn", "/norestart"))],
    ("kaspersky-network-agent", "file", "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent", "machine"):
        [("quarantine", "quarantine", "C:\\Program Files (x86)\\kaspersky lab\\networkagent", "dir")],
    ("kaspersky-network-agent", "registry", H.AGENT_GUID, "machine"):
        [("command", "uninstall", (MSIEXEC, "/x", H.AGENT_GUID, "/qn", "/norestart"))],
    ("kaspersky-network-agent", "service", "klnagent", "machine"):
        [("service_stop", "klnagent"), ("service_disable", "klnagent")],
    ("tiktok", "appx", "BytedancePte.Ltd.TikTok_6yccndn6064se", "machine"):
        [("appx_remove", H.TIKTOK_APPX, True), ("appx_deprovision", H.TIKTOK_APPX)],
    ("wechat", "appx", "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a", "machine"):
        [("appx_remove", H.WECHAT_APPX, True)],
    ("wechat", "appx", "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a", "user:alice"):
        [("appx_remove", H.WECHAT_UWP, True)],
    ("wechat", "file", "%ProgramFiles(x86)%\\Tencent\\WeChat", "machine"):
        [("quarantine", "quarantine", "C:\\Program Files (x86)\\Tencent\\WeChat", "dir")],
    ("wechat", "registry", "WeChat", "machine"):
        [("command", "uninstall", ("C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "/S",
                                   "_?=C:\\Program Files (x86)\\Tencent\\WeChat"))],
    ("wecom", "registry", u"企业微信", "machine"):
        [("command", "uninstall", ("C:\\Program Files (x86)\\WXWork\\uninstall.exe", "/S",
                                   "_?=C:\\Program Files (x86)\\WXWork"))],
}


def test_windows_image_findings_and_windows_planner_steps(windows_image, monkeypatch):
    # The inventory host is a Windows machine: the image is still read by the POSIX collect module.
    action, calls, task_vars = make_action({"root": str(windows_image)}, monkeypatch,
                                           {"ansible_connection": "winrm", "ansible_facts": {"os_family": "Windows"}})
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert (result["changed"], result["status"], result["os"]) == (False, "non_compliant", "windows")
    assert [c[0] for c in calls] == ["govsec.banned_software.collect"]
    assert remediations(result) == WINDOWS_REMEDIATION
    notes = dict((f["source"], f["remediation_note"]) for f in result["findings"] if f["id"] == "deepseek")
    assert notes["registry"].startswith("needs_user_action: uninstaller C:\\Users\\alice\\AppData\\Local\\Programs\\"
                                        "DeepSeek Harness\\Uninstall DeepSeek Harness.exe is not in a trusted location")
    assert notes["file"].startswith("needs_user_action: C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness "
                                    "holds the uninstaller of registry|user:alice|" + H.DEEPSEEK_KEY)
    assert result["warnings"] == ["process: not examined, %s is an offline Windows image (nothing runs in it)"
                                  % windows_image]
    assert result["counts"]["findings"] == 12 and result["counts"]["planned"] == 10
    assert result["counts"]["examined"]["registry"] == 11


def test_windows_planning_unavailable_leaves_remediation_null(windows_image, monkeypatch):
    def refuse(platform):
        raise _plan.PlanError("removal planning for %s is not available in this release" % platform)
    monkeypatch.setattr(_plan, "planner_for", refuse)
    action, dummy, task_vars = make_action({"root": str(windows_image), "os": "windows"}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    assert remediations(result) == dict((k, None) for k in WINDOWS_REMEDIATION)
    assert result["plan"] is None
    assert result["counts"]["planned"] == 0
    assert result["warnings"][-1] == ("removal planning for windows is not available, findings have no remediation: "
                                      "removal planning for windows is not available in this release")


def test_a_planner_crash_never_fails_the_scan(windows_image, monkeypatch):
    monkeypatch.setattr(image_scan_action, "plan_removal", MagicMock(side_effect=KeyError("exe")))
    action, dummy, task_vars = make_action({"root": str(windows_image)}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True
    assert all(f["remediation"] is None for f in result["findings"]) and len(result["findings"]) == 12
    assert result["warnings"][-1] == ("removal planning for windows is not available, findings have no remediation: "
                                      "planner error KeyError: 'exe'")


def test_exempt_findings_are_planned_as_skipped(windows_image, monkeypatch):
    args = {"root": str(windows_image), "exemptions": [{"entry": "wecom", "reason": "ticket SEC-9", "expires": "2999-12-31"}]}
    action, dummy, task_vars = make_action(args, monkeypatch)
    result = action.run(task_vars=task_vars)
    wecom = [f for f in result["findings"] if f["id"] == "wecom"][0]
    assert (wecom["exempt"], wecom["remediation"], wecom["remediation_note"]) == (
        True, [], "skipped_exempt: ticket SEC-9")
    assert result["counts"]["exempt"] == 1


@pytest.mark.parametrize("image, wanted, found", [("windows", "linux", "windows"), ("linux", "windows", "linux")])
def test_os_mismatch_is_an_error(windows_image, tmp_path, monkeypatch, image, wanted, found):
    root = windows_image if image == "windows" else make_root(tmp_path)
    action, calls, task_vars = make_action({"root": str(root), "os": wanted}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert result["msg"] == "the image under %s holds a %s system, not %s (os: %s)" % (root, found, wanted, wanted)
    assert result["os"] == found
    assert "findings" not in result
    assert len(calls) == 1


def test_users_limit_is_passed_to_the_collector(windows_image, monkeypatch):
    action, calls, task_vars = make_action({"root": str(windows_image), "users": ["bob"]}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert calls[0][1]["users"] == ["bob"]
    assert [f for f in result["findings"] if f["scope"] != "machine"] == []
    assert len(result["findings"]) == 9


def test_bad_catalog_variables_fail_before_the_node_is_contacted(windows_image, monkeypatch):
    action, calls, task_vars = make_action({"root": str(windows_image), "policies": ["no-such-policy"]}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True and result["catalog_error"] is True
    assert "field 'banned_software_policies[0]': unknown policy 'no-such-policy'" in result["msg"]
    assert calls == []


def test_missing_regipy_fails_with_the_package_name(windows_image, monkeypatch):
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import windows_image as cwi
    monkeypatch.setattr(cwi, "HAS_REGIPY", False)
    action, dummy, task_vars = make_action({"root": str(windows_image)}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result["failed"] is True
    assert result["msg"].startswith("collector govsec.banned_software.collect failed: scanning an offline Windows "
                                    "image needs the Python library regipy on the node that reads the image")
    assert "pip install regipy==6.5.0" in result["msg"]


def test_root_is_required(monkeypatch):
    action, calls, task_vars = make_action({}, monkeypatch)
    with pytest.raises(AnsibleActionFail) as err:
        action.run(task_vars=task_vars)
    assert "missing required arguments: root" in str(err.value)
    assert calls == []


def test_a_users_hive_in_an_image_chooses_no_product_code_and_no_directory(windows_image, tmp_path, monkeypatch):
    """bob and alice wrote hostile uninstall keys in their own hives; the planner proves every MSI code
    against HKLM and builds every NSIS command from the catalog's switches and the machine install."""
    image = tmp_path / "win"
    shutil.copytree(str(windows_image), str(image), symlinks=True)
    uninstall = "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
    wechat_dir = "C:\\Program Files (x86)\\Tencent\\WeChat"
    H.write_hive(image / "Users/bob/ntuser.dat", {
        # dressed as WeChat, uninstalling the EDR
        uninstall + "WeChat": {"DisplayName": u"微信", "Publisher": H.TENCENT,
                               "UninstallString": "MsiExec.exe /X" + H.EDR_GUID},
        # named after the EDR's code, dressed as Kaspersky Endpoint Security (to get the vaulted password)
        uninstall + H.EDR_GUID: {"DisplayName": "Kaspersky Endpoint Security for Windows",
                                 "Publisher": "AO Kaspersky Lab", "WindowsInstaller": 1,
                                 "UninstallString": "MsiExec.exe /X" + H.EDR_GUID},
        # WeChat's real uninstaller with the user's own _?= directory
        uninstall + "Weixin": {"Publisher": H.TENCENT, "UninstallString": wechat_dir + "\\Uninstall.exe",
                               "QuietUninstallString": '"%s\\Uninstall.exe" /S _?=C:\\Windows\\System32' % wechat_dir},
    }, file_name="\\??\\C:\\Users\\bob\\ntuser.dat")
    keys = dict(H.ALICE_KEYS)
    keys[uninstall + "WeChat"] = {"Publisher": H.TENCENT, "UninstallString": '"%s\\WeChat.exe" --uninstall' % wechat_dir,
                                  "QuietUninstallString": '"%s\\WeChat.exe" --uninstall /S' % wechat_dir}
    H.write_hive(image / "Users/alice/NTUSER.DAT", keys, file_name="\\??\\C:\\Users\\alice\\ntuser.dat")
    action, dummy, task_vars = make_action({"root": str(image)}, monkeypatch)
    result = action.run(task_vars=task_vars)
    assert result.get("failed") is not True, result.get("msg")
    steps = result["plan"]["steps"]
    text = repr(steps)
    assert H.EDR_GUID not in text
    nsis_dirs = sorted(set(a for s in steps if s["kind"] == "command" for a in s["argv"] if a.startswith("_?=")))
    assert nsis_dirs == ["_?=" + wechat_dir, "_?=C:\\Program Files (x86)\\WXWork"]
    # the genuine machine-wide removals are planned exactly as on the clean image
    genuine = remediations(result)
    for key, expected in WINDOWS_REMEDIATION.items():
        assert genuine[key] == expected, key
    notes = dict(((f["name"], f["scope"]), f.get("remediation_note")) for f in result["findings"])
    assert notes[("WeChat", "user:bob")].startswith("needs_user_action: product code %s is not proven" % H.EDR_GUID)
    assert notes[(H.EDR_GUID, "user:bob")].startswith("needs_user_action: product code %s is not proven" % H.EDR_GUID)
    assert notes[("WeChat", "user:alice")].startswith("needs_user_action: uninstaller %s\\WeChat.exe comes from a "
                                                      "user's registry hive" % wechat_dir)
