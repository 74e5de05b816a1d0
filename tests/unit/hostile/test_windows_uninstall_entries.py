# -*- coding: utf-8 -*-
"""Hostile uninstall entries, generated: whatever a user writes in their hive (any text, any value
type, any number of keys), the parsers finish quickly and never raise, a malformed neighbour never hides
a finding, and the plan runs only what trusted data allows: msiexec on a proven product code, or a
catalog-known uninstaller with the catalog's switches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ntpath

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import plan_removal
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.wincmd import (
    INNO_SILENT, MSI_SILENT, NSIS_SILENT, classify, join_arguments, normalise_windows_path, parse_uninstall_string,
    split_arguments, split_command_line,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.tests.unit.plugins.plugin_utils.test_plan_windows import (
    MSIEXEC, load,
)

CATALOG = load_catalog()
ENTRIES = dict((e.id, e) for e in CATALOG.entries)
MATCHER = Matcher(CATALOG.entries)
WORKSTATION = load("workstation")


def plan_of(collected):
    """``(findings, warnings, plan)``: the matcher's findings of ``collected`` and the plan of them."""
    findings, warnings, records = MATCHER.match_records("windows", collected)
    return findings, warnings, plan_removal("windows", findings, collected, ENTRIES, {"run_id": "R1"}, records)


GENUINE = [s for s in plan_of(copy.deepcopy(WORKSTATION))[2]["steps"] if s["kind"] == "command"]
ENV = {"ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
       "ProgramW6432": "C:\\Program Files", "SystemRoot": "C:\\WINDOWS", "ProgramData": "C:\\ProgramData"}
FAST = settings(deadline=2000, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

# Text a user would try: pieces of real uninstall strings, paths, switches, quotes, variables, GUIDs.
PIECES = st.sampled_from([
    '"', " ", "\t", "\\", "/", "%", "%ProgramFiles(x86)%", "%COMSPEC%", "%LocalAppData%", "C:\\", "\\\\srv\\s\\",
    "Program Files (x86)\\Tencent\\WeChat\\", "Uninstall.exe", "unins000.exe", "uninst.exe", "WeChat.exe",
    "msiexec", "MsiExec.exe", " /X", " /I", "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}",
    "{5B2C7A43-1E7D-4C2B-9A4A-1B2C3D4E5F60}", " /S", " _?=", "C:\\Windows\\System32", "..", ".", "cmd.exe /c ",
    "powershell ", "~1", ":", "\x00", "\n", "\u202e", "PROGRA~1", " & calc", "KLPASSWD=", "'"])
HOSTILE_TEXT = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join),
                         st.text(min_size=4000, max_size=9000))
ANY_VALUE = st.one_of(HOSTILE_TEXT, st.none(), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=3),
                      st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))


@FAST
@given(HOSTILE_TEXT)
def test_uninstall_strings_parse_quickly_and_never_raise(text):
    parsed = parse_uninstall_string(text, ENV)
    assert (parsed["exe"] is None) == (parsed["error"] is not None) or parsed["form"] == "msiexec"
    info = classify({"name": "x", "uninstall_string": text, "quiet_uninstall_string": text}, ENV)
    assert info["kind"] in ("msi", "nsis", "inno", "quiet", "unknown", "refused")
    if info["kind"] in ("nsis", "inno", "quiet"):
        assert normalise_windows_path(info["exe"]) == info["exe"]
    split_command_line(text)


@FAST
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=30), max_size=8))
def test_arguments_round_trip_through_the_windows_command_line_rules(args):
    args = [a for a in args if not a.startswith("_?=")]
    assert split_arguments(join_arguments(args)) == args


def hive_record(user_no, name, values):
    rec = {"name": name, "hive": "HKU", "view": "64", "scope": "user:%s" % ["alice", "bob", "carol"][user_no],
           "path": "HKU\\S-1-5-21-1-2-3-100%d\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\%s"
                   % (user_no + 1, name)}
    rec.update(values)
    return rec


PROGRAMS = st.sampled_from([
    "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "C:\\Program Files (x86)\\Tencent\\WeChat\\unins000.exe",
    "C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe", "%ProgramFiles(x86)%\\Tencent\\WeChat\\Uninstall.exe",
    "C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe", "C:\\Program Files (x86)\\WXWork\\uninst.exe",
    "C:\\Program Files\\CrowdStrike\\CSFalconService.exe", "C:\\Users\\bob\\Uninstall.exe", "MsiExec.exe",
    "C:\\WINDOWS\\System32\\msiexec.exe", "C:\\WINDOWS\\System32\\cmd.exe"])
# An uninstall string as a user would forge one: a program (quoted or not) and arguments of their choice.
FORGED = st.builds(lambda quoted, program, tail: ('"%s"' % program if quoted else program) + tail,
                   st.booleans(), PROGRAMS, st.lists(PIECES, max_size=12).map("".join))
USER_KEY = st.fixed_dictionaries({}, optional={
    "display_name": st.one_of(ANY_VALUE, st.sampled_from([u"微信", "Kaspersky Endpoint Security for Windows"])),
    "publisher": st.one_of(ANY_VALUE, st.sampled_from([u"腾讯科技(深圳)有限公司", "AO Kaspersky Lab", "Tencent"])),
    "uninstall_string": st.one_of(FORGED, ANY_VALUE), "quiet_uninstall_string": st.one_of(FORGED, ANY_VALUE),
    "install_location": ANY_VALUE, "windows_installer": ANY_VALUE, "version": ANY_VALUE})
TENCENT = u"腾讯科技(深圳)有限公司"
WECHAT_UNINSTALL = "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe"
EDR = "{5B2C7A43-1E7D-4C2B-9A4A-1B2C3D4E5F60}"
KEY_NAME = st.one_of(st.sampled_from(["WeChat", "Weixin", u"企业微信", "{5B2C7A43-1E7D-4C2B-9A4A-1B2C3D4E5F60}",
                                      "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}", "KES"]), st.text(max_size=40))


def allowed_commands(collected):
    """Every (exe, arguments) a plan may contain: the machine's own entries' commands, msiexec on the codes
    HKLM registers, and the catalog-known uninstallers of the machine installs with the catalog's switches."""
    allowed = set()
    for code in collected["installer_products"]:
        allowed.add((MSIEXEC, join_arguments(["/x", code] + MSI_SILENT)))
    for program in (a["program"] for a in collected["program_acls"]):
        folder = ntpath.dirname(program)
        allowed.add((program, join_arguments(NSIS_SILENT + ["_?=" + folder])))
        allowed.add((program, join_arguments(INNO_SILENT)))
    return allowed


@settings(deadline=5000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), KEY_NAME, USER_KEY), min_size=1, max_size=6))
# the attacks seen in the wild of this project, always tried
@example([(1, "WeChat", {"publisher": TENCENT, "uninstall_string": "MsiExec.exe /X" + EDR})])
@example([(1, EDR, {"display_name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
                    "windows_installer": True, "uninstall_string": "MsiExec.exe /X" + EDR})])
@example([(1, "WeChat", {"publisher": TENCENT, "uninstall_string": WECHAT_UNINSTALL,
                         "quiet_uninstall_string": '"%s" /S _?=C:\\Windows\\System32' % WECHAT_UNINSTALL})])
@example([(2, "Weixin", {"publisher": "Tencent", "quiet_uninstall_string": WECHAT_UNINSTALL.replace(
    "Uninstall.exe", "WeChat.exe") + " --uninstall /S"})])
def test_user_hive_keys_never_choose_what_system_runs(keys):
    collected = copy.deepcopy(WORKSTATION)
    genuine = GENUINE
    allowed = allowed_commands(collected) | set((s["exe"], s["arguments"]) for s in genuine)
    for user_no, name, values in keys:
        collected["records"]["registry"].append(hive_record(user_no, name, values))
    dummy, dummy, plan = plan_of(collected)
    for step in plan["steps"]:
        if step["kind"] == "command":
            assert (step["exe"], step["arguments"]) in allowed, step
    # the genuine machine-wide commands are all still there
    planned = set((s["exe"], s["arguments"]) for s in plan["steps"] if s["kind"] == "command")
    assert set((s["exe"], s["arguments"]) for s in genuine) <= planned
    quarantined = set(s["path"] for s in plan["steps"] if s["kind"] == "quarantine")
    assert "C:\\Program Files (x86)\\Tencent\\WeChat" in quarantined


@settings(deadline=5000, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(["name", "scope", "path", "display_name", "publisher", "hive",
                                                 "uninstall_string"]), ANY_VALUE, max_size=7), max_size=20),
       st.integers(0, 20))
def test_malformed_neighbours_never_hide_a_finding(junk, position):
    collected = copy.deepcopy(WORKSTATION)
    records = collected["records"]["registry"]
    genuine = [r for r in records if r["name"] == "WeChat" and r["hive"] == "HKLM" and
               r["path"].endswith("WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\WeChat")]
    records[:] = junk[:position] + genuine + junk[position:]
    findings, warnings, dummy = plan_of(collected)
    assert genuine[0]["path"] in [f["path"] for f in findings if f["source"] == "registry"]
