# -*- coding: utf-8 -*-
"""_winacl: who can change a program before SYSTEM runs it, decided on win_collect's ACL facts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.winacl import acl_index, writable_reason

ENV = {"ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
       "ProgramW6432": "C:\\Program Files", "SystemRoot": "C:\\WINDOWS"}
TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
PROGRAM = "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe"
READ_RUN = 1179817


def ace(sid, rights, inherit_only=False, allow=True):
    return {"sid": sid, "allow": allow, "rights": rights, "inherit_only": inherit_only}


def node(path, directory, owner="S-1-5-32-544", aces=None):
    return {"path": path, "exists": True, "directory": directory, "reparse": False, "owner": owner,
            "aces": aces if aces is not None else [ace("S-1-5-18", 2032127), ace("S-1-5-32-544", 2032127),
                                                   ace("S-1-5-32-545", READ_RUN), ace("S-1-3-0", 268435456, True)]}


def report():
    return {"program": PROGRAM, "chain": [
        node(PROGRAM, False), node("C:\\Program Files (x86)\\Tencent\\WeChat", True),
        node("C:\\Program Files (x86)\\Tencent", True), node("C:\\Program Files (x86)", True, owner=TI),
        # above the trusted root: Authenticated Users may create folders in C:\ (Windows' default); not examined
        node("C:\\", True, owner=TI, aces=[ace("S-1-5-11", 4)])]}


def reason(rep, program=PROGRAM, env=None):
    return writable_reason(program, ENV if env is None else env, acl_index([rep]))


def test_windows_defaults_are_admin_only():
    assert reason(report()) is None


def test_the_program_is_looked_up_case_insensitively_and_normalised():
    rep = report()
    rep["program"] = "c:/program files (x86)/TENCENT/wechat/uninstall.exe"
    assert reason(rep) is None


@pytest.mark.parametrize("index, change, expected", [
    # a user-mode updater left the install folder writable by Users
    (1, {"aces": [ace("S-1-5-18", 2032127), ace("S-1-5-32-545", 1245631)]},
     "C:\\Program Files (x86)\\Tencent\\WeChat: S-1-5-32-545 (Users) may write data / add file, append data / add "
     "subfolder, delete"),
    # only adding files (a DLL next to the uninstaller) is enough
    (1, {"aces": [ace("S-1-5-11", 2)]}, "C:\\Program Files (x86)\\Tencent\\WeChat: S-1-5-11 (Authenticated Users) "
     "may write data / add file"),
    (0, {"aces": [ace("S-1-1-0", 0x40000000)]}, PROGRAM + ": S-1-1-0 (Everyone) may generic write"),
    (0, {"aces": [ace("S-1-5-21-1-2-3-1001", -1073741824)]}, PROGRAM + ": S-1-5-21-1-2-3-1001 may generic write"),
    (2, {"aces": [ace("S-1-5-21-1-2-3-1001", 0x40000)]},
     "C:\\Program Files (x86)\\Tencent: S-1-5-21-1-2-3-1001 may change permissions"),
    (1, {"owner": "S-1-5-21-1-2-3-1001"}, "C:\\Program Files (x86)\\Tencent\\WeChat: it is owned by "
     "S-1-5-21-1-2-3-1001"),
    (1, {"owner": None}, "C:\\Program Files (x86)\\Tencent\\WeChat: it is owned by an unknown account"),
    (1, {"reparse": True}, "C:\\Program Files (x86)\\Tencent\\WeChat: it is a junction or symbolic link"),
    (0, {"reparse": None}, PROGRAM + ": it is a junction or symbolic link"),
    (0, {"directory": True}, PROGRAM + ": it is not a file"),
    (1, {"directory": False}, "C:\\Program Files (x86)\\Tencent\\WeChat: it is not a folder"),
    (0, {"exists": False}, PROGRAM + ": it does not exist"),
    (1, {"error": "access denied"}, "C:\\Program Files (x86)\\Tencent\\WeChat: its permissions could not be read "
     "(access denied)"),
    (3, {"aces": [ace("S-1-5-32-545", 0x10000000)]}, "C:\\Program Files (x86): S-1-5-32-545 (Users) may generic all"),
    (1, {"aces": "everyone"}, "C:\\Program Files (x86)\\Tencent\\WeChat: its access list was not reported"),
    (1, {"aces": [{"sid": "S-1-5-32-545", "allow": True, "rights": "full"}]},
     "C:\\Program Files (x86)\\Tencent\\WeChat: its access list is malformed"),
])
def test_anything_a_non_administrator_can_change_is_refused(index, change, expected):
    rep = report()
    rep["chain"][index].update(change)
    assert reason(rep) == expected + ", so a non-administrator could change what SYSTEM runs"


@pytest.mark.parametrize("aces", [
    [ace("S-1-5-32-545", 2032127, allow=False)],            # a deny entry takes rights away
    [ace("S-1-5-32-545", 2032127, inherit_only=True)],      # applies to children created later, not to this
    [ace("S-1-3-0", 2032127)],                              # CREATOR OWNER grants nothing on the object itself
    [ace(TI, 2032127), ace("S-1-5-32-545", 0x100 | 0x10 | READ_RUN)],   # attributes and extended attributes only
])
def test_entries_that_grant_no_write_are_accepted(aces):
    rep = report()
    rep["chain"][1]["aces"] = aces
    assert reason(rep) is None


def test_a_missing_folder_of_the_chain_is_unknown():
    rep = report()
    del rep["chain"][2]
    assert reason(rep) == "who can write to C:\\Program Files (x86)\\Tencent is unknown (not reported)"


def test_no_report_or_a_failed_report():
    assert writable_reason(PROGRAM, ENV, {}) == "the collector did not report who can write to " + PROGRAM
    rep = {"program": PROGRAM, "error": "path too long"}
    assert reason(rep) == "who can write to %s is unknown: path too long" % PROGRAM


def test_a_program_outside_the_trusted_roots():
    rep = copy.deepcopy(report())
    rep["program"] = "C:\\Tools\\Uninstall.exe"
    assert reason(rep, "C:\\Tools\\Uninstall.exe") == "C:\\Tools\\Uninstall.exe is not under a trusted root"


def test_malformed_reports_are_ignored():
    index = acl_index([None, "x", {"program": 3}, {"program": "\\\\srv\\share\\u.exe"}, report()])
    assert list(index) == [PROGRAM.casefold()]
    assert acl_index("not a list") == {}
