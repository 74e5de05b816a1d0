# -*- coding: utf-8 -*-
"""WindowsPlanner on recorded win_collect inventories: the real catalog, the real matcher, exact steps.

tests/unit/data/windows/workstation.yml is a recorded Windows workstation (Kaspersky MSI, WeChat/Weixin/
WeCom NSIS, per-user DeepSeek, Store apps, lookalikes and hostile uninstall entries). Its exact plan, with
and without unrelated uninstall secrets, is a scenario of plan_cases/windows.yaml; here are the variations
of the inventory, the secrets, the exit codes and the outcomes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    PlanError, executor_steps, judge_outcomes, plan_removal, planner_for,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.windows import (
    WindowsPlanner, command_status, windows_path_protection,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "windows")
MSIEXEC = "C:\\WINDOWS\\System32\\msiexec.exe"
UNINSTALL = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
UNINSTALL64 = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
SID = "S-1-5-21-3623811015-3361044348-30300820-100"
KES = "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}"
AGENT = "{1A7B331A-ABBE-4230-995E-BCD99C5A18CF}"
RC = {"ok_rc": [0, 3010, 1641], "absent_rc": [1605, 1614], "retry_rc": [1618], "reboot_rc": [3010, 1641]}


def load(name):
    with open(os.path.join(DATA, name + ".yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def hku(user_no, key):
    return "HKU\\%s%d\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\%s" % (SID, user_no, key)


def reg(scope, name, path):
    return "|".join(["registry", scope, name, path])


def fkey(scope, path):
    return "|".join(["file", scope, path, path])


K = {
    "kes": reg("machine", KES, UNINSTALL + KES),
    "agent": reg("machine", AGENT, UNINSTALL + AGENT),
    "wechat": reg("machine", "WeChat", UNINSTALL + "WeChat"),
    "weixin": reg("machine", "Weixin", UNINSTALL + "Weixin"),
    "wecom": reg("machine", "企业微信", UNINSTALL + "企业微信"),
    "deepseek": reg("user:alice", "1bf39983-50d0-5fe0-9ef4-cece76f67c5e", hku(1, "1bf39983-50d0-5fe0-9ef4-cece76f67c5e")),
    "cmd": reg("machine", "WeChat", UNINSTALL64 + "WeChat"),
    "temp": reg("user:bob", "WeChat", hku(2, "WeChat")),
    "dotdot": reg("user:carol", "Weixin", hku(3, "Weixin")),
    "unc": reg("machine", "{0B5D2C57-3A3B-4D3E-9B7E-2E5C4E0A7F21}", UNINSTALL + "{0B5D2C57-3A3B-4D3E-9B7E-2E5C4E0A7F21}"),
    "quote": reg("user:dave", "Weixin", hku(4, "Weixin")),
    "nul": reg("machine", "企业微信", UNINSTALL64 + "企业微信"),
    "comspec": reg("user:erin", "WeChat", hku(5, "WeChat")),
    "powershell": reg("machine", "{C4D2E1B0-5A6F-4B8E-9C3D-7E2F1A0B9C8D}",
                      UNINSTALL + "{C4D2E1B0-5A6F-4B8E-9C3D-7E2F1A0B9C8D}"),
    "avp": 'service|machine|AVP|"C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.3.0\\avp.exe" -r',
    "klnagent": 'service|machine|klnagent|"C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\klnagent.exe"',
    "p_wechat": "process|machine|WeChat.exe|",
    "p_weixin": "process|machine|Weixin.exe|",
    "tiktok_m": "appx|machine|BytedancePte.Ltd.TikTok_6yccndn6064se|",
    "tiktok_a": "appx|user:alice|BytedancePte.Ltd.TikTok_6yccndn6064se|",
    "tiktok_b": "appx|user:bob|BytedancePte.Ltd.TikTok_6yccndn6064se|",
    "tiktok_c": "appx|user:carol|BytedancePte.Ltd.TikTok_6yccndn6064se|",
    "store": "appx|user:alice|TencentWeChatLimited.forWindows10_sdtnhv12zgd7a|",
    "f_agent": fkey("machine", "%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent"),
    "f_wechat": fkey("machine", "%ProgramFiles(x86)%\\Tencent\\WeChat"),
    "f_weixin": fkey("machine", "%ProgramFiles%\\Tencent\\Weixin"),
    "f_deepseek": fkey("user:alice", "%LocalAppData%\\Programs\\DeepSeek Harness"),
    "f_carol": fkey("user:carol", "%LocalAppData%\\Programs\\Tencent\\Weixin"),
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def scan(catalog, name="workstation", collected=None):
    collected = collected if collected is not None else load(name)
    # The default selection: optional policy sets (CapCut of the Texas list) are not enforced by default.
    findings, warnings = Matcher(catalog.select()).match("windows", collected)
    assert warnings == []
    return findings, collected


def matched(catalog, collected):
    """The records of the findings, by finding key, as the matcher hands them to the planner."""
    return Matcher(catalog.select()).match_records("windows", collected)[2]


def plan_for(catalog, name="workstation", collected=None, **options):
    findings, collected = scan(catalog, name, collected)
    options.setdefault("run_id", "R1")
    plan = plan_removal("windows", findings, collected, dict((e.id, e) for e in catalog.entries), options,
                        matched(catalog, collected))
    return findings, collected, plan


def acl_like(collected, program, like):
    """Report ``program`` to have the owners and access entries of the program ``like`` (and its folders)."""
    report = copy.deepcopy([a for a in collected["program_acls"] if a["program"] == like][0])
    report["program"] = program
    report["chain"][0]["path"] = program
    collected["program_acls"].append(report)
    return report


def uninstall(sid, exe, arguments, argv, keys, entry, wait=False, secrets=None):
    step = {"id": sid, "kind": "command", "action": "uninstall", "exe": exe, "arguments": arguments, "argv": argv,
            "timeout": 900, "secrets": secrets or [], "wait_children": wait, "entry": entry, "findings": keys}
    step.update(RC)
    return step


def expected_steps(secrets=False):
    kl = (["KLLOGIN={{secret:kaspersky_login}}", "KLPASSWD={{secret:kaspersky_password}}"] if secrets else [])
    names = ["kaspersky_login", "kaspersky_password"] if secrets else []
    msi_tail = " /qn /norestart" + ("".join(" " + p for p in kl))
    return [
        {"id": 1, "kind": "service_stop", "action": "stop_service", "name": "AVP", "findings": [K["avp"]]},
        {"id": 2, "kind": "service_disable", "action": "disable_service", "name": "AVP", "findings": [K["avp"]]},
        {"id": 3, "kind": "service_stop", "action": "stop_service", "name": "klnagent", "findings": [K["klnagent"]]},
        {"id": 4, "kind": "service_disable", "action": "disable_service", "name": "klnagent",
         "findings": [K["klnagent"]]},
        {"id": 5, "kind": "kill", "action": "stop_process", "pids": [6120, 7344],
         "exe": "C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe", "findings": [K["p_wechat"]]},
        {"id": 6, "kind": "kill", "action": "stop_process", "pids": [9012],
         "exe": "C:\\Program Files\\Tencent\\Weixin\\Weixin.exe", "findings": [K["p_weixin"]]},
        uninstall(7, "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe",
                  "/S _?=C:\\Program Files (x86)\\Tencent\\WeChat",
                  ["C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "/S",
                   "_?=C:\\Program Files (x86)\\Tencent\\WeChat"], [K["wechat"]], "wechat"),
        uninstall(8, "C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe", "/S _?=C:\\Program Files\\Tencent\\Weixin",
                  ["C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe", "/S", "_?=C:\\Program Files\\Tencent\\Weixin"],
                  [K["weixin"]], "wechat"),
        uninstall(9, MSIEXEC, "/x " + KES + msi_tail, [MSIEXEC, "/x", KES, "/qn", "/norestart"] + kl, [K["kes"]],
                  "kaspersky-endpoint-security-windows", secrets=names),
        uninstall(10, "C:\\Program Files (x86)\\WXWork\\uninst.exe", "/S _?=C:\\Program Files (x86)\\WXWork",
                  ["C:\\Program Files (x86)\\WXWork\\uninst.exe", "/S", "_?=C:\\Program Files (x86)\\WXWork"],
                  [K["wecom"]], "wecom"),
        # the Network Agent goes after the protection product it manages
        uninstall(11, MSIEXEC, "/x " + AGENT + msi_tail, [MSIEXEC, "/x", AGENT, "/qn", "/norestart"] + kl,
                  [K["agent"]], "kaspersky-network-agent", secrets=names),
        {"id": 12, "kind": "appx_remove", "action": "remove_appx", "all_users": True,
         "package_full_name": "BytedancePte.Ltd.TikTok_1.1.4.0_x64__6yccndn6064se",
         "findings": [K["tiktok_m"], K["tiktok_a"], K["tiktok_b"]]},
        {"id": 13, "kind": "appx_remove", "action": "remove_appx", "all_users": True,
         "package_full_name": "TencentWeChatLimited.forWindows10_3.9.12.51_x86__sdtnhv12zgd7a",
         "findings": [K["store"]]},
        {"id": 14, "kind": "appx_deprovision", "action": "deprovision_appx",
         "name": "BytedancePte.Ltd.TikTok_1.1.4.0_x64__6yccndn6064se", "findings": [K["tiktok_m"]]},
        {"id": 15, "kind": "quarantine", "action": "quarantine", "path": "C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent",
         "type": "dir", "requires": [11], "findings": [K["f_agent"]]},
        {"id": 16, "kind": "quarantine", "action": "quarantine", "path": "C:\\Program Files (x86)\\Tencent\\WeChat",
         "type": "dir", "requires": [7], "findings": [K["f_wechat"]]},
        {"id": 17, "kind": "quarantine", "action": "quarantine", "path": "C:\\Program Files\\Tencent\\Weixin",
         "type": "dir", "requires": [8], "findings": [K["f_weixin"]]},
    ]


def test_registered_for_windows():
    assert planner_for("windows") is WindowsPlanner


def test_matcher_findings_exclude_lookalikes(catalog):
    findings, dummy = scan(catalog)
    keys = sorted(f["key"] for f in findings)
    assert keys == sorted(K.values())
    ids = dict((f["key"], f["id"]) for f in findings)
    assert ids[K["powershell"]] == "kaspersky-password-manager"
    assert ids[K["unc"]] == "kaspersky-endpoint-agent"
    # QQ, WeMeet, CapCut (registry and Store), ESET, the hidden MSI component without DisplayName, the
    # renamed WeChat.exe in Downloads and QQ.exe are not findings
    assert not [k for k in keys if "QQ" in k or "CapCut" in k or "ESET" in k or "6F0C8C1A" in k or "ekrn" in k]


def test_no_hostile_string_reaches_a_step(catalog):
    dummy, dummy2, plan = plan_for(catalog)
    text = repr(plan["steps"]).casefold()
    for bad in ("cmd.exe", "powershell", "attacker", "comspec", "\\\\..\\\\", "temp\\\\x.exe", "calc", "remove-item",
                "\\\\users\\\\"):
        assert bad not in text, bad
    for step in plan["steps"]:
        if step["kind"] == "command":
            assert step["exe"] in (MSIEXEC, step["argv"][0])
            assert step["argv"][0] == step["exe"]


def test_long_uninstall_string_is_refused(catalog):
    findings, dummy, plan = plan_for(catalog, "workstation_long")
    assert [f["id"] for f in findings] == ["kaspersky-security-windows-server"]
    assert plan["steps"] == []
    assert [(s["outcome"], s["reason"]) for s in plan["skipped"]] == [
        ("needs_user_action", "uninstall string refused (uninstall_string: uninstall string longer than 4096 "
         "characters); nothing was run")]


def test_kaspersky_secrets_by_publisher(catalog):
    dummy, dummy2, plan = plan_for(catalog, uninstall_secrets={"kaspersky_login": True, "kaspersky_password": True})
    assert plan["steps"] == expected_steps(secrets=True)
    assert plan["steps"][8]["arguments"] == ("/x " + KES + " /qn /norestart KLLOGIN={{secret:kaspersky_login}} "
                                             "KLPASSWD={{secret:kaspersky_password}}")
    # a Kaspersky MSI entry is recognised by its publisher; another publisher gets no properties
    collected = load("workstation")
    collected["records"]["registry"][0]["publisher"] = "Kaspersky Lab"
    dummy, dummy2, plan = plan_for(catalog, collected=collected,
                                   uninstall_secrets={"kaspersky_login": True, "kaspersky_password": True})
    assert plan["steps"][8]["secrets"] == ["kaspersky_login", "kaspersky_password"]
    with pytest.raises(PlanError, match="kaspersky_login without kaspersky_password"):
        plan_for(catalog, uninstall_secrets={"kaspersky_login": True})


def test_user_hive_rule(catalog):
    """A user-hive uninstaller must be trusted AND an uninstaller inside one of the entry's file paths."""
    collected = load("workstation")
    bob = [r for r in collected["records"]["registry"] if r.get("scope") == "user:bob"][0]
    # trusted location and an uninstaller name inside %ProgramFiles(x86)%\Tencent\WeChat: planned
    bob["uninstall_string"] = "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe"
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    step = [s for s in plan["steps"] if K["temp"] in s["findings"]][0]
    # the same command as the machine entry: one step for both findings
    assert (step["id"], step["findings"]) == (7, sorted([K["wechat"], K["temp"]]))
    # trusted, but not inside a path the wechat entry lists
    bob["uninstall_string"] = "C:\\Program Files\\Tencent\\QQNT\\Uninstall.exe"
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert [s["reason"] for s in plan["skipped"] if s["key"] == K["temp"]] == [
        "uninstaller C:\\Program Files\\Tencent\\QQNT\\Uninstall.exe comes from a user's registry hive and is not an "
        "uninstaller inside a path the catalog entry wechat lists: uninstall it as that user, or check it by hand"]
    # inside the listed path but not an uninstaller by name: no silent method (a catalog hint is needed)
    bob["uninstall_string"] = "C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe --uninstall"
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert [s for s in plan["skipped"] if s["key"] == K["temp"]] == []
    assert [u["reason"] for u in plan["unplanned"] if u["key"] == K["temp"]] == [
        "no silent uninstall method known for WeChat.exe: needs a catalog hint"]
    # a user-hive NSIS uninstaller in the listed path, but the hive's exe name is not an uninstaller's
    bob["uninstall_string"] = '"C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe" --uninstall'
    bob["quiet_uninstall_string"] = '"C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe" --uninstall /S'
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert [s["outcome"] for s in plan["skipped"] if s["key"] == K["temp"]] == ["needs_user_action"]
    # the same string in HKLM is trusted without the catalog rule (an administrator wrote it)
    machine = collected["records"]["registry"][3]
    assert machine["path"] == UNINSTALL + "WeChat"
    machine["uninstall_string"] = '"C:\\Program Files\\Tencent\\QQNT\\Uninstall.exe"'
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert plan["steps"][6]["argv"] == ["C:\\Program Files\\Tencent\\QQNT\\Uninstall.exe", "/S",
                                        "_?=C:\\Program Files\\Tencent\\QQNT"]


def test_quiet_and_inno_strings(catalog):
    collected = load("workstation")
    weixin = collected["records"]["registry"][4]
    weixin["quiet_uninstall_string"] = '"C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe" /S "/D=C:\\a b"'
    wecom = collected["records"]["registry"][5]
    wecom["uninstall_string"] = '"C:\\Program Files (x86)\\WXWork\\unins000.exe"'
    acl_like(collected, "C:\\Program Files (x86)\\WXWork\\unins000.exe", "C:\\Program Files (x86)\\WXWork\\uninst.exe")
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert [(s["exe"], s["arguments"], s["argv"][1:], s["wait_children"]) for s in plan["steps"]
            if s["kind"] == "command" and s["entry"] in ("wechat", "wecom")] == [
        ("C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "/S _?=C:\\Program Files (x86)\\Tencent\\WeChat",
         ["/S", "_?=C:\\Program Files (x86)\\Tencent\\WeChat"], False),
        ("C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe", '/S "/D=C:\\a b"', ["/S", "/D=C:\\a b"], True),
        ("C:\\Program Files (x86)\\WXWork\\unins000.exe", "/VERYSILENT /SUPPRESSMSGBOXES /NORESTART",
         ["/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART"], True)]


def test_plan_is_deterministic(catalog):
    findings, collected = scan(catalog)
    entries = dict((e.id, e) for e in catalog.entries)
    first = plan_removal("windows", copy.deepcopy(findings), copy.deepcopy(collected), entries, {"run_id": "R1"},
                         matched(catalog, copy.deepcopy(collected)))
    findings.reverse()
    for source in collected["records"].values():
        source.reverse()
    second = plan_removal("windows", findings, collected, entries, {"run_id": "R1"}, matched(catalog, collected))
    assert first == second


def test_circuit_breaker_keeps_needs_user_action(catalog):
    findings, dummy, plan = plan_for(catalog, max_removals=9)
    assert plan["removals_by_scope"] == {"machine": 10, "user:alice": 1}
    assert plan["tripped_scopes"] == ["machine"]
    assert plan["tripped"] == ("the plan would remove 10 items in scope machine, more than the maximum of 9 per "
                               "scope; nothing in that scope was removed (raise banned_software_max_removals after "
                               "review)")
    # alice's own Store package is removed; everything of the machine scope is held back
    assert [(s["id"], s["action"], s["findings"]) for s in plan["steps"]] == [
        (1, "remove_appx", [K["store"]])]
    outcomes = dict((s["key"], s["outcome"]) for s in plan["skipped"])
    assert outcomes[K["kes"]] == "skipped_limit"
    assert outcomes[K["cmd"]] == "needs_user_action"
    assert outcomes[K["f_deepseek"]] == "needs_user_action"
    assert K["store"] not in outcomes
    assert len([s for s in plan["skipped"] if s["key"] == K["cmd"]]) == 1
    findings, dummy, plan = plan_for(catalog, max_removals=0)
    assert plan["steps"] == [] and plan["tripped_scopes"] == ["machine", "user:alice"]


def test_exempt_finding(catalog):
    findings, collected = scan(catalog)
    for f in findings:
        if f["key"] == K["kes"]:
            f["exempt"] = True
            f["exemption"] = {"reason": "SEC-1234", "expires": "2099-01-01"}
    plan = plan_removal("windows", findings, collected, dict((e.id, e) for e in catalog.entries), {"run_id": "R1"},
                        matched(catalog, collected))
    assert [s for s in plan["skipped"] if s["key"] == K["kes"]] == [
        {"key": K["kes"], "outcome": "skipped_exempt", "reason": "SEC-1234"}]
    assert KES not in repr(plan["steps"])


@pytest.mark.parametrize("rc, retries, expected", [
    (0, 0, {"status": "changed", "reboot": False, "retry": False}),
    (3010, 0, {"status": "changed", "reboot": True, "retry": False}),
    (1641, 0, {"status": "changed", "reboot": True, "retry": False}),
    (1605, 0, {"status": "absent", "reboot": False, "retry": False}),
    (1614, 0, {"status": "absent", "reboot": False, "retry": False}),
    (1618, 2, {"status": None, "reboot": False, "retry": True}),
    (1618, 0, {"status": "failed", "reboot": False, "retry": False}),
    (1603, 0, {"status": "failed", "reboot": False, "retry": False}),
    (None, 0, {"status": "failed", "reboot": False, "retry": False}),
])
def test_command_status(rc, retries, expected):
    assert command_status(dict(RC), rc, retries) == expected


def test_exit_codes_through_judge_outcomes(catalog):
    findings, dummy, plan = plan_for(catalog)
    rcs = {7: 0, 8: 2, 9: 3010, 10: 1618, 11: 1605}
    results = []
    for step in plan["steps"]:
        status = "changed"
        if step["kind"] == "command":
            status = command_status(step, rcs[step["id"]])["status"]
        elif step.get("requires") and any(rcs.get(r) == 2 for r in step["requires"]):
            status = "skipped"
        results.append({"id": step["id"], "action": step["action"], "status": status, "msg": "rc=%s" % rcs.get(step["id"])})
    remaining = set([K["weixin"], K["wecom"], K["f_weixin"], K["p_weixin"]] + [s["key"] for s in plan["skipped"]]
                    + [u["key"] for u in plan["unplanned"]])
    counts = judge_outcomes(findings, plan, results, remaining)
    outcome = dict((f["key"], f["outcome"]) for f in findings)
    detail = dict((f["key"], f.get("outcome_detail")) for f in findings)
    assert outcome[K["wechat"]] == "removed"
    assert outcome[K["kes"]] == "removed"                 # 3010: success, reboot required
    assert outcome[K["agent"]] == "already_absent"        # 1605
    assert (outcome[K["weixin"]], detail[K["weixin"]]) == ("failed", "step 8 uninstall: rc=2")
    assert (outcome[K["wecom"]], detail[K["wecom"]]) == ("failed", "step 10 uninstall: rc=1618")
    assert outcome[K["cmd"]] == "needs_user_action"
    assert outcome[K["deepseek"]] == "needs_user_action"
    assert outcome[K["tiktok_c"]] == "failed"
    assert outcome[K["p_weixin"]] == "failed"            # still running after the run: killed, then restarted
    assert counts == {"removed": 11, "already_absent": 1, "failed": 6, "needs_user_action": 10}


def test_check_mode_predictions(catalog):
    findings, dummy, plan = plan_for(catalog)
    counts = judge_outcomes(findings, plan, [], None)
    assert counts == {"would_remove": 16, "needs_user_action": 10, "failed": 2}


def test_executor_fields():
    steps = executor_steps(expected_steps(secrets=True), "windows")
    assert steps[8] == {"id": 9, "kind": "command", "action": "uninstall", "exe": MSIEXEC,
                        "arguments": "/x " + KES + " /qn /norestart KLLOGIN={{secret:kaspersky_login}} "
                                     "KLPASSWD={{secret:kaspersky_password}}",
                        "timeout": 900, "ok_rc": [0, 3010, 1641], "absent_rc": [1605, 1614], "retry_rc": [1618],
                        "reboot_rc": [3010, 1641], "secrets": ["kaspersky_login", "kaspersky_password"],
                        "wait_children": False, "findings": [K["kes"]]}
    assert steps[14] == {"id": 15, "kind": "quarantine", "action": "quarantine", "type": "dir", "requires": [11],
                         "path": "C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent", "findings": [K["f_agent"]]}


HOMES = ["C:\\Users\\alice", "D:\\Profiles\\bob"]
ENV = {"ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
       "ProgramData": "C:\\ProgramData", "SystemRoot": "C:\\WINDOWS"}


@pytest.mark.parametrize("path, reason", [
    ("C:\\", "a drive root or a top-level path"),
    ("C:\\Tencent", "a drive root or a top-level path"),
    ("C:\\Program Files", "a drive root or a top-level path"),
    ("C:\\ProgramData", "a drive root or a top-level path"),
    ("C:\\Windows\\System32", "a Windows system directory"),
    ("c:\\windows.old\\x", "a Windows system directory"),
    ("C:\\WINDOWS\\Installer\\{X}", "a Windows system directory"),
    ("C:\\Program Files\\Common Files", "a protected system path"),
    ("C:\\Program Files\\WindowsApps", "a protected system path"),
    ("C:\\ProgramData\\Microsoft", "a protected system path"),
    ("C:\\Users\\alice", "a user profile directory"),
    ("C:\\Users\\zed", "a user profile directory"),
    ("D:\\Profiles\\bob", "a user profile directory"),
    ("D:\\Profiles", "a drive root or a top-level path"),
    ("C:\\Users\\alice\\AppData\\Local", "a shared directory in a user profile"),
    ("C:\\Users\\alice\\appdata\\local\\programs", "a shared directory in a user profile"),
    ("C:\\Users\\alice\\Documents", "a shared directory in a user profile"),
    ("C:\\Users\\Public", "a protected system path"),
    ("C:\\Program Files\\..\\Users\\alice\\x", "not a clean absolute Windows path"),
    ("C:\\PROGRA~1\\X", "not a clean absolute Windows path"),
    ("\\\\srv\\share\\x", "not a clean absolute Windows path"),
    ("relative\\x", "not a clean absolute Windows path"),
    ("C:\\Program Files\\Tencent\\Weixin", None),
    ("C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent", None),
    ("C:\\Users\\alice\\AppData\\Roaming\\Tencent\\WeChat", None),
    ("C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness", None),
    ("C:\\ProgramData\\Kaspersky Lab", None),
])
def test_windows_path_protection(path, reason):
    assert windows_path_protection(path, HOMES, ENV) == reason


def test_data_purge_and_protection(catalog):
    collected = load("workstation")
    collected["records"]["data"].append({"name": "%AppData%\\Tencent\\WeChat", "path": "%AppData%\\Tencent\\WeChat",
                                         "real_path": "C:\\Users\\bob\\AppData\\Roaming", "type": "dir",
                                         "scope": "user:bob"})
    dummy, dummy2, plan = plan_for(catalog, collected=collected, data_policy="purge")
    purges = [(s["action"], s["path"], s["type"]) for s in plan["steps"] if s["kind"] == "purge"]
    # bob's record does not expand to its real path: never touched
    assert purges == [("purge_data", "C:\\Users\\alice\\AppData\\Roaming\\Tencent\\WeChat", "dir")]
    dummy, dummy2, plan = plan_for(catalog, collected=collected, data_policy="archive")
    archives = [(s["id"], s["paths"], s["name"]) for s in plan["steps"] if s["kind"] == "archive"]
    assert archives == [(7, ["C:\\Users\\alice\\AppData\\Roaming\\Tencent\\WeChat"], "wechat-alice-R1")]
    purge = [s for s in plan["steps"] if s["kind"] == "purge"][0]
    assert purge["requires"] == [7]
