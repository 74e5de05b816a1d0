# -*- coding: utf-8 -*-
"""What a standard user's registry hive can make SYSTEM run: at most which catalog-known uninstaller,
never another product's code, never their arguments, never a program they can replace.

Each test is an attack a user with a normal account can mount (they write HKCU, which is
HKU\\<their SID>), played on the recorded workstation through the real matcher and planner.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

# pylint: disable-next=unused-import
from ansible_collections.govsec.banned_software.tests.unit.plugins.plugin_utils.test_plan_windows import (
    K, KES, MSIEXEC, SID, acl_like, catalog, expected_steps, hku, load, plan_for, reg,  # noqa: F401 (fixture)
)

EDR = "{5B2C7A43-1E7D-4C2B-9A4A-1B2C3D4E5F60}"       # an installed product that is not banned
EDR_REGISTRATION = [{"source": "installer", "sid": "S-1-5-18", "display_name": "CrowdStrike Windows Sensor",
                     "publisher": "CrowdStrike, Inc."}]
SECRETS = {"kaspersky_login": True, "kaspersky_password": True}
WECHAT_DIR = "C:\\Program Files (x86)\\Tencent\\WeChat"
WECHAT_UNINSTALL = WECHAT_DIR + "\\Uninstall.exe"


def user_key(collected, user_no, name, **values):
    """A key the user wrote in their own hive (HKU\\<SID>...\\Uninstall\\<name>); it replaces a key of the same
    path the recorded hive had (a registry path names one key)."""
    user = "user:%s" % ["", "alice", "bob", "carol", "dave", "erin"][user_no]
    rec = {"name": name, "hive": "HKU", "view": "64", "scope": user, "sid": "%s%d" % (SID, user_no),
           "path": hku(user_no, name), "windows_installer": False, "system_component": False}
    rec.update(values)
    registry = collected["records"]["registry"]
    registry[:] = [r for r in registry if r.get("path") != rec["path"]] + [rec]
    return reg(user, name, hku(user_no, name))


def steps_with(plan, text):
    return [s for s in plan["steps"] if text.casefold() in repr(s).casefold()]


def skipped(plan, key):
    return [(s["outcome"], s["reason"]) for s in plan["skipped"] if s["key"] == key]


# -- 1. a user's hive cannot choose an MSI product ------------------------------------------------

def test_a_user_key_dressed_as_wechat_cannot_uninstall_another_product(catalog):
    collected = load("workstation")
    collected["installer_products"][EDR] = EDR_REGISTRATION
    key = user_key(collected, 2, "WeChat", display_name=u"微信", publisher=u"腾讯科技(深圳)有限公司",
                   uninstall_string="MsiExec.exe /X" + EDR)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert steps_with(plan, EDR) == []
    assert skipped(plan, key) == [("needs_user_action", (
        "product code %s is not proven to be wechat: neither the catalog nor Windows Installer's registration in "
        "HKLM names it as such, so msiexec is not run with SYSTEM rights on it (an uninstall entry a user can write "
        "could name any installed product); check it by hand" % EDR))]
    # the genuine machine-wide removals are planned exactly as before
    assert [s for s in plan["steps"] if s["kind"] == "command"] == [
        s for s in expected_steps() if s["kind"] == "command"]


@pytest.mark.parametrize("uninstall_string", ["", "MsiExec.exe /I" + EDR, "MsiExec.exe /X" + EDR])
def test_a_user_key_named_after_another_products_code_and_dressed_as_kes_gets_nothing(catalog, uninstall_string):
    collected = load("workstation")
    collected["installer_products"][EDR] = EDR_REGISTRATION
    key = user_key(collected, 2, EDR, display_name="Kaspersky Endpoint Security for Windows",
                   publisher="AO Kaspersky Lab", uninstall_string=uninstall_string, windows_installer=True)
    findings, dummy, plan = plan_for(catalog, collected=collected, uninstall_secrets=SECRETS)
    assert key in [f["key"] for f in findings]          # reported: the user's hive says it is there
    assert steps_with(plan, EDR) == []
    assert [o for o, dummy in skipped(plan, key)] == ["needs_user_action"]
    # the vaulted secrets go to the proven KES and Network Agent products only
    assert sorted((s["argv"][2], s["secrets"]) for s in plan["steps"] if s.get("secrets")) == sorted(
        [(KES, ["kaspersky_login", "kaspersky_password"]),
         ("{1A7B331A-ABBE-4230-995E-BCD99C5A18CF}", ["kaspersky_login", "kaspersky_password"])])


def test_a_code_with_no_registration_at_all_is_not_run(catalog):
    collected = load("workstation")
    code = "{00000000-1111-2222-3333-444444444444}"
    key = user_key(collected, 2, code, display_name="Kaspersky Endpoint Security for Windows",
                   publisher="AO Kaspersky Lab", windows_installer=True)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert steps_with(plan, code) == [] and [o for o, d in skipped(plan, key)] == ["needs_user_action"]


def test_a_per_user_msi_install_proven_by_windows_installer_is_removed(catalog):
    """A genuine per-user MSI (registered by the installer service under UserData\\<user SID>)."""
    collected = load("workstation")
    code = "{7D3C1A00-0B1E-4F6A-8C2D-5E4F3A2B1C0D}"
    collected["installer_products"][code] = [{"source": "installer", "sid": SID + "1",
                                              "display_name": "Kaspersky Password Manager",
                                              "publisher": "AO Kaspersky Lab"}]
    key = user_key(collected, 1, code, display_name="Kaspersky Password Manager", publisher="AO Kaspersky Lab",
                   uninstall_string="MsiExec.exe /X" + code, windows_installer=True)
    dummy, dummy2, plan = plan_for(catalog, collected=collected, uninstall_secrets=SECRETS)
    step = steps_with(plan, code)
    assert [(s["argv"], s["findings"]) for s in step] == [
        ([MSIEXEC, "/x", code, "/qn", "/norestart", "KLLOGIN={{secret:kaspersky_login}}",
          "KLPASSWD={{secret:kaspersky_password}}"], [key])]


def test_the_registration_must_agree_with_the_entry_not_only_exist(catalog):
    """An HKLM registration of another vendor's product under the code the user names: not proven."""
    collected = load("workstation")
    eset = "{2F7E1D5C-9E3B-4C3C-8A0C-6C1F0B8B0E11}"       # installed, registered: ESET
    key = user_key(collected, 2, "KES", display_name="Kaspersky Endpoint Security for Windows",
                   publisher="AO Kaspersky Lab", uninstall_string="MsiExec.exe /X" + eset)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    # the key name is no GUID: the catalog's KES signature does not even match it
    assert key not in [s["key"] for s in plan["skipped"]] and steps_with(plan, eset) == []
    collected = load("workstation")
    key = user_key(collected, 2, eset, display_name="Kaspersky Endpoint Security for Windows",
                   publisher="AO Kaspersky Lab", uninstall_string="MsiExec.exe /X" + eset)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert steps_with(plan, eset) == [] and [o for o, d in skipped(plan, key)] == ["needs_user_action"]


def test_hklm_uninstall_key_proves_its_own_code_without_installer_facts(catalog):
    collected = load("workstation")
    del collected["installer_products"]
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert plan["steps"] == expected_steps()


# -- 2. no argument from a user's hive reaches a SYSTEM uninstaller -------------------------------

def test_a_users_quiet_string_cannot_choose_the_nsis_directory(catalog):
    collected = load("workstation")
    key = user_key(collected, 2, "WeChat", display_name=u"微信", publisher=u"腾讯科技(深圳)有限公司",
                   uninstall_string=WECHAT_UNINSTALL,
                   quiet_uninstall_string='"%s" /S _?=C:\\Windows\\System32' % WECHAT_UNINSTALL)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert "_?=c:\\windows" not in repr(plan["steps"]).casefold()
    step = [s for s in plan["steps"] if key in s["findings"]]
    # the same command as the machine's own entry, built from the catalog's switches and the program's folder
    assert [(s["exe"], s["arguments"], sorted(s["findings"])) for s in step] == [
        (WECHAT_UNINSTALL, "/S _?=" + WECHAT_DIR, sorted([K["wechat"], key]))]


@pytest.mark.parametrize("quiet", [
    '"%s" /S /D=C:\\Windows' % WECHAT_UNINSTALL,
    '"%s" /S _?=C:\\Users\\bob\\evil' % WECHAT_UNINSTALL,
    '"%s" /VERYSILENT /LOG=C:\\Windows\\win.ini' % (WECHAT_DIR + "\\unins000.exe"),
])
def test_no_argument_text_of_a_users_hive_reaches_a_step(catalog, quiet):
    collected = load("workstation")
    acl_like(collected, WECHAT_DIR + "\\unins000.exe", WECHAT_UNINSTALL)
    user_key(collected, 2, "WeChat", publisher=u"腾讯科技(深圳)有限公司", uninstall_string=WECHAT_UNINSTALL,
             quiet_uninstall_string=quiet)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    text = repr(plan["steps"]).casefold()
    for bad in ("/d=", "evil", "win.ini", "/log"):
        assert bad not in text, bad


def test_an_uninstaller_in_a_folder_users_can_write_is_never_run_as_system(catalog):
    collected = load("workstation")
    acl = [a for a in collected["program_acls"] if a["program"] == WECHAT_UNINSTALL][0]
    acl["chain"][1]["aces"] = acl["chain"][1]["aces"] + [
        {"sid": "S-1-5-32-545", "allow": True, "rights": 1245631, "inherit_only": False}]
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert steps_with(plan, WECHAT_UNINSTALL) == []
    assert skipped(plan, K["wechat"]) == [("needs_user_action", (
        "C:\\Program Files (x86)\\Tencent\\WeChat: S-1-5-32-545 (Users) may write data / add file, append data / "
        "add subfolder, delete, so a non-administrator could change what SYSTEM runs: running it with SYSTEM "
        "rights could run a program a user put there; have an administrator fix the folder's permissions, or "
        "uninstall it by hand"))]
    # its folder stays for the administrator to run the uninstaller
    assert skipped(plan, K["f_wechat"])[0][0] == "needs_user_action"


@pytest.mark.parametrize("damage", ["missing", "reparse", "owner"])
def test_an_uninstaller_whose_folder_is_unknown_or_odd_is_not_run(catalog, damage):
    collected = load("workstation")
    acl = [a for a in collected["program_acls"] if a["program"] == WECHAT_UNINSTALL][0]
    if damage == "missing":
        collected["program_acls"].remove(acl)
    elif damage == "reparse":
        acl["chain"][2] = dict(acl["chain"][2], reparse=True)
    else:
        acl["chain"][0] = dict(acl["chain"][0], owner=SID + "2")
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert steps_with(plan, WECHAT_UNINSTALL) == []
    assert [o for o, d in skipped(plan, K["wechat"])] == ["needs_user_action"]


def test_a_live_host_without_acl_facts_runs_no_recorded_uninstaller(catalog):
    collected = load("workstation")
    del collected["program_acls"]
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    commands = [s for s in plan["steps"] if s["kind"] == "command"]
    assert [s["exe"] for s in commands] == [MSIEXEC, MSIEXEC]
    assert skipped(plan, K["wechat"]) == [("needs_user_action", (
        "the collector did not report who can write to %s: running it with SYSTEM rights could run a program a "
        "user put there; have an administrator fix the folder's permissions, or uninstall it by hand"
        % WECHAT_UNINSTALL))]


def test_an_offline_image_is_judged_by_location(catalog):
    collected = load("workstation")
    del collected["program_acls"]
    collected["root"] = "/mnt/win"
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    assert plan["steps"] == expected_steps()


# -- 7. a user's hive cannot veto the machine-wide removal ----------------------------------------

@pytest.mark.parametrize("values", [
    {"uninstall_string": '"%s\\WeChat.exe" --uninstall' % WECHAT_DIR,
     "quiet_uninstall_string": '"%s\\WeChat.exe" --uninstall /S' % WECHAT_DIR},
    {"uninstall_string": '"%s\\WeChat.exe"' % WECHAT_DIR, "quiet_uninstall_string": "cmd.exe /c whoami"},
    {"uninstall_string": "C:\\Users\\bob\\x.exe"},
])
def test_a_users_hive_cannot_hold_back_the_machine_install(catalog, values):
    collected = load("workstation")
    key = user_key(collected, 2, "WeChat", publisher=u"腾讯科技(深圳)有限公司", **values)
    dummy, dummy2, plan = plan_for(catalog, collected=collected)
    quarantine = [s for s in plan["steps"] if s["kind"] == "quarantine" and s["path"] == WECHAT_DIR]
    assert [(s["findings"], s["requires"]) for s in quarantine] == [([K["f_wechat"]], [7])]
    assert skipped(plan, K["f_wechat"]) == []
    assert key not in [k for s in plan["steps"] for k in s["findings"]]


def test_a_users_hive_still_holds_back_their_own_files(catalog):
    """DeepSeek's per-user uninstaller is left to alice: her DeepSeek folder stays for her to run it."""
    dummy, dummy2, plan = plan_for(catalog, collected=load("workstation"))
    assert skipped(plan, K["f_deepseek"])[0][0] == "needs_user_action"


def test_the_hostile_keys_together_leave_the_genuine_plan_unchanged(catalog):
    collected = load("workstation")
    collected["installer_products"][EDR] = EDR_REGISTRATION
    user_key(collected, 2, "WeChat", publisher=u"腾讯科技(深圳)有限公司", uninstall_string="MsiExec.exe /X" + EDR)
    user_key(collected, 3, EDR, display_name="Kaspersky Endpoint Security for Windows", publisher="AO Kaspersky Lab",
             windows_installer=True)
    user_key(collected, 4, "Weixin", publisher="Tencent", uninstall_string=WECHAT_UNINSTALL,
             quiet_uninstall_string='"%s" /S _?=C:\\Windows\\System32' % WECHAT_UNINSTALL)
    user_key(collected, 5, "WeChat", publisher="Tencent", uninstall_string='"%s\\WeChat.exe" -u' % WECHAT_DIR,
             quiet_uninstall_string='"%s\\WeChat.exe" -u /S' % WECHAT_DIR)
    dummy, dummy2, plan = plan_for(catalog, collected=collected, uninstall_secrets=SECRETS)
    genuine = copy.deepcopy(expected_steps(secrets=True))
    # the Weixin key of dave names WeChat's own uninstaller: it joins the machine WeChat step
    for step in genuine:
        if step["id"] == 7:
            step["findings"] = sorted(step["findings"] + [reg("user:dave", "Weixin", hku(4, "Weixin"))])
    assert [s for s in plan["steps"] if s["kind"] in ("command", "quarantine")] == [
        s for s in genuine if s["kind"] in ("command", "quarantine")]
