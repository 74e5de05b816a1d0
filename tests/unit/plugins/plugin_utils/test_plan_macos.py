# -*- coding: utf-8 -*-
"""MacosPlanner on a recorded macOS inventory (tests/unit/data/macos/workstation.yml): the real catalog, the real
matcher; variations of the inventory, hostile identifiers, determinism, circuit breaker, outcomes. The scenarios
that are data (the full Mac's exact steps, protected directories and identifiers) are in plan_cases/macos.yaml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import random

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import validate_steps
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    executor_steps, judge_outcomes, plan_removal, planner_for,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.macos import (
    BUNDLE_ID_RE, LABEL_RE, MacosPlanner,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

KAV = "/Library/Application Support/Kaspersky Lab/KAV"
KLN = "/Library/Application Support/Kaspersky Lab/klnagent"
KAPP = "/Applications/Kaspersky Anti-Virus For Mac.app"
WECOM_APP = "/Applications/企业微信.app"
WECHAT_EXE = "/Applications/WeChat.app/Contents/MacOS/WeChat"
SYSEXT = "/Library/SystemExtensions/0A1B/com.kaspersky.kav.sysext.systemextension"
ALICE = {"user": "alice", "uid": 501, "gid": 20, "home": "/Users/alice"}
QUIT_TOL = ["(-600)", "isn't running", "isn\u2019t running", "not running"]
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "macos")
INJECTION = 'com.tencent.xinWeChat" & do shell script "rm -rf /'


def mac():
    """A Mac with WeChat (running, alice's data), WeCom (Homebrew cask) and Kaspersky (daemon, agent,
    receipts, a system extension, both vendor UninstallScripts): tests/unit/data/macos/workstation.yml."""
    with open(os.path.join(DATA, "workstation.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def key(source, name, path, scope="machine"):
    return "|".join([source, scope, name, path])


K = {
    "b_wechat": key("bundle", "com.tencent.xinWeChat", "/Applications/WeChat.app"),
    "f_wechat": key("file", "/Applications/WeChat.app", "/Applications/WeChat.app"),
    "p_wechat": key("process", "WeChat", WECHAT_EXE),
    "b_wecom": key("bundle", "com.tencent.WeWorkMac", WECOM_APP),
    "f_wecom": key("file", WECOM_APP, WECOM_APP),
    "cask": key("cask", "wechatwork", "/opt/homebrew/Caskroom/wechatwork"),
    "b_kav": key("bundle", "com.kaspersky.kav", KAPP),
    "f_kapp": key("file", KAPP, KAPP),
    "f_kav": key("file", KAV, KAV),
    "f_kln": key("file", KLN, KLN),
    "daemon": key("launchd", "com.kaspersky.kav", "/Library/LaunchDaemons/com.kaspersky.kav.plist"),
    "agent": key("launchd", "com.kaspersky.kav.gui", "/Library/LaunchAgents/com.kaspersky.kav.gui.plist"),
    "r_kav": key("pkg-receipt", "com.kaspersky.kav", "/var/db/receipts/com.kaspersky.kav.plist"),
    "r_avscan": key("pkg-receipt", "com.kaspersky.kav.avscan", "/var/db/receipts/com.kaspersky.kav.avscan.plist"),
    "sysext": key("sysext", "com.kaspersky.kav.sysext", SYSEXT),
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def plan_for(catalog, collected=None, findings=None, **options):
    collected = collected if collected is not None else mac()
    matched, warnings, records = Matcher(catalog.entries).match_records("macos", collected)
    if findings is None:
        findings = matched
        assert warnings == []
    options.setdefault("run_id", "R1")
    plan = plan_removal("macos", findings, collected, dict((e.id, e) for e in catalog.entries), options, records)
    return findings, plan


def cmd(sid, action, argv, keys, timeout=900, **extra):
    step = {"id": sid, "kind": "command", "action": action, "argv": argv, "timeout": timeout, "ok_rc": [0],
            "findings": sorted(keys)}
    step.update(extra)
    return step


def quarantine(sid, path, kind, keys, requires=None):
    step = {"id": sid, "kind": "quarantine", "action": "quarantine", "path": path, "type": kind,
            "findings": sorted(keys)}
    if requires:
        step["requires"] = requires
    return step


SYSEXT_REASON = (
    "system extension com.kaspersky.kav.sysext (team TEAMKASP01) is not removed by this collection: deactivation "
    "needs the containing app's own uninstall or an MDM system-extension policy change (removing the allowing "
    "com.apple.system-extension-policy payload deactivates it on macOS 11.3+); deleting the app leaves it running, "
    "systemextensionsctl uninstall needs SIP off; a reboot may be needed")


def test_macos_has_a_planner():
    assert planner_for("macos") is MacosPlanner


def test_full_mac_plan_is_accepted_by_the_executor(catalog):
    """The full Mac's plan (its exact steps: plan_cases/macos.yaml) is one the POSIX executor accepts as it is sent."""
    findings, plan = plan_for(catalog)
    assert [s["id"] for s in plan["steps"]] == list(range(1, 18))
    assert validate_steps(executor_steps(plan["steps"], "macos")) == []


def test_wechat_alone_data_kept_archived_or_purged_and_its_receipt_forgotten(catalog):
    collected = mac()
    recs = collected["records"]
    for source in ("pkg-receipt", "launchd", "cask", "sysext", "leftover"):
        recs[source] = []
    recs["bundle"] = recs["bundle"][:1]
    recs["file"] = recs["file"][:1]
    findings, warnings = Matcher(catalog.entries).match("macos", collected)
    # The catalog's wechat entry has no pkg-receipt signature: a receipt finding is fed in directly.
    receipt = {"id": "wechat", "source": "pkg-receipt", "name": "com.tencent.xinWeChat", "scope": "machine",
               "path": "/var/db/receipts/com.tencent.xinWeChat.plist", "exempt": False,
               "key": key("pkg-receipt", "com.tencent.xinWeChat", "/var/db/receipts/com.tencent.xinWeChat.plist")}
    findings.append(receipt)
    dummy, plan = plan_for(catalog, collected, findings)
    data = "/Users/alice/Library/Containers/com.tencent.xinWeChat"
    common_head = [
        cmd(1, "quit_app", ["/usr/bin/osascript", "-e", 'quit app id "com.tencent.xinWeChat"'], [K["b_wechat"]],
            timeout=60, tolerate=QUIT_TOL, entry="wechat", run_as=ALICE),
        {"id": 2, "kind": "kill", "action": "stop_process", "pids": [4242, 4250], "exe": WECHAT_EXE, "grace": 10,
         "findings": [K["p_wechat"]]},
    ]
    assert plan["steps"] == common_head + [
        quarantine(3, "/Applications/WeChat.app", "dir", [K["b_wechat"], K["f_wechat"]]),
        cmd(4, "forget_receipt", ["/usr/sbin/pkgutil", "--forget", "com.tencent.xinWeChat"], [receipt["key"]],
            timeout=120, absent=["No receipt for"], entry="wechat"),
    ]
    assert plan["data"] == [{"entry": "wechat", "policy": "keep", "path": data, "scope": "user:alice"}]
    assert (plan["needs_mdm"], plan["reboot_may_be_required"]) == ([], False)

    dummy, plan = plan_for(catalog, collected, findings, data_policy="archive")
    assert plan["steps"][2] == {"id": 3, "kind": "archive", "action": "archive_data", "entry": "wechat",
                                "paths": [data], "name": "wechat-alice-R1", "findings": []}
    assert plan["steps"][5] == {"id": 6, "kind": "purge", "action": "purge_data", "path": data, "entry": "wechat",
                                "type": "dir", "requires": [3], "findings": []}
    dummy, plan = plan_for(catalog, collected, findings, data_policy="purge")
    assert [(s["id"], s["kind"], s.get("path")) for s in plan["steps"][2:]] == [
        (3, "quarantine", "/Applications/WeChat.app"), (4, "command", None), (5, "purge", data)]


def test_wecom_cask_runs_as_the_caskroom_owner_or_is_unplanned(catalog):
    collected = mac()
    dummy, plan = plan_for(catalog, collected)
    assert [s for s in plan["steps"] if s["action"] == "uninstall_cask"][0]["run_as"] == ALICE
    cases = [
        ({"uid": 0}, "the owner of /opt/homebrew/Caskroom/wechatwork is unknown or not a usable user, and Homebrew "
                     "refuses to run as root; uninstall the cask as its owner"),
        ({"uid": 777}, "the owner of /opt/homebrew/Caskroom/wechatwork is unknown or not a usable user, and Homebrew "
                       "refuses to run as root; uninstall the cask as its owner"),
        ({"path": "/tmp/Caskroom/wechatwork"}, "Caskroom '/tmp/Caskroom/wechatwork' is not under a known Homebrew "
                                               "prefix (/opt/homebrew, /usr/local); brew not run"),
    ]
    for change, reason in cases:
        collected = mac()
        rec = collected["records"]["cask"][0]
        rec.update(change)
        if change.get("uid") == 0:
            del rec["uid"]
        dummy, plan = plan_for(catalog, collected)
        cask_key = key("cask", "wechatwork", rec["path"])
        assert [s for s in plan["steps"] if s["action"] == "uninstall_cask"] == []
        assert {"key": cask_key, "reason": reason} in plan["unplanned"], plan["unplanned"]
    # /usr/local prefix (Intel Macs): brew from /usr/local/bin
    collected = mac()
    collected["records"]["cask"][0].update(path="/usr/local/Caskroom/wechatwork", prefix="/usr/local")
    dummy, plan = plan_for(catalog, collected)
    step = [s for s in plan["steps"] if s["action"] == "uninstall_cask"][0]
    assert step["argv"] == ["/usr/local/bin/brew", "uninstall", "--cask", "wechatwork"]


def test_kaspersky_without_uninstall_script_is_quarantined_without_requires(catalog):
    collected = mac()
    collected["records"]["leftover"] = [r for r in collected["records"]["leftover"]
                                        if not r["path"].endswith("UninstallScript")]
    dummy, plan = plan_for(catalog, collected)
    assert [s for s in plan["steps"] if s["action"] == "vendor_uninstall"] == []
    kas = [(s["action"], s.get("path") or s["argv"][-1], s.get("requires")) for s in plan["steps"]
           if s.get("entry", "").startswith("kaspersky") or "Kaspersky" in s.get("path", "")
           or "kaspersky" in s.get("path", "")]
    assert kas == [
        ("bootout", "system/com.kaspersky.kav", None),
        ("bootout", "gui/501/com.kaspersky.kav.gui", None),
        ("bootout", "gui/502/com.kaspersky.kav.gui", None),
        ("quarantine", KAPP, None),
        ("quarantine", KAV, None),
        ("quarantine", KLN, None),
        ("quarantine", "/Library/LaunchAgents/com.kaspersky.kav.gui.plist", None),
        ("quarantine", "/Library/LaunchDaemons/com.kaspersky.kav.plist", None),
        ("forget_receipt", "com.kaspersky.kav", None),
        ("forget_receipt", "com.kaspersky.kav.avscan", None),
    ]


def test_uninstall_script_must_be_a_machine_file_record_at_the_exact_path(catalog):
    for change in ({"type": "dir"}, {"scope": "user:alice"}, {"path": KAV + "/Binaries/UninstallScript2"}):
        collected = mac()
        collected["records"]["leftover"][0].update(change)
        collected["records"]["leftover"][0]["name"] = collected["records"]["leftover"][0]["path"]
        dummy, plan = plan_for(catalog, collected)
        assert [s["argv"] for s in plan["steps"] if s["action"] == "vendor_uninstall"] == [
            [KLN + "/Binaries/UninstallScript"]], change


def test_sysext_needs_mdm_and_outcomes(catalog):
    findings, plan = plan_for(catalog)
    results = [{"id": s["id"], "status": "changed"} for s in plan["steps"]]
    remaining = set([K["sysext"]])
    counts = judge_outcomes(findings, plan, results, remaining)
    by_key = dict((f["key"], f) for f in findings)
    assert by_key[K["sysext"]]["outcome"] == "needs_mdm"
    assert by_key[K["sysext"]]["outcome_detail"] == SYSEXT_REASON
    assert counts == {"removed": 14, "needs_mdm": 1}
    # check mode: predictions
    findings, plan = plan_for(catalog)
    counts = judge_outcomes(findings, plan, [], None)
    assert counts == {"would_remove": 14, "needs_mdm": 1}


def test_a_legacy_kext_also_needs_mdm(catalog):
    collected = mac()
    collected["records"]["sysext"] = [{"name": "com.kaspersky.kext.klif", "scope": "machine", "kind": "kext",
                                       "path": "/Library/Extensions/klif.kext"}]
    dummy, plan = plan_for(catalog, collected)
    assert [(s["key"], s["outcome"]) for s in plan["skipped"]] == [
        (key("sysext", "com.kaspersky.kext.klif", "/Library/Extensions/klif.kext"), "needs_mdm")]
    assert plan["needs_mdm"] == [{"entry": "kaspersky-macos", "name": "com.kaspersky.kext.klif", "team_id": None,
                                  "state": None}]


HOSTILE_BUNDLES = [
    INJECTION,
    'com.tencent.xinWeChat"',
    "com.tencent.xinWeChat'",
    "com.tencent.xinWeChat\\",
    "com.tencent.xin WeChat",
    "com.tencent.xinWeChat\n",
    "com.tencent.xinWeChat\r",
    "-com.tencent",
    "xinWeChat",
    "com..tencent",
    "com.tencent.xinWeChat\u00a0",
    "com.tencent.\u0445inWeChat",
    "com.tencent.xinWeChat\u201d",
]


@pytest.mark.parametrize("name", HOSTILE_BUNDLES)
def test_hostile_bundle_ids_never_reach_an_argv(catalog, name):
    assert BUNDLE_ID_RE.match(name) is None
    collected = mac()
    finding = {"id": "wechat", "source": "bundle", "name": name, "scope": "machine",
               "path": "/Applications/WeChat.app", "exempt": False, "key": key("bundle", name, "/Applications/WeChat.app")}
    dummy, plan = plan_for(catalog, collected, [finding])
    argv_text = [a for s in plan["steps"] if s["kind"] == "command" for a in s["argv"]]
    assert not any(name in a for a in argv_text) and not any("do shell script" in a for a in argv_text)
    assert [s["action"] for s in plan["steps"]] == ["quarantine"]
    assert plan["unplanned"] == [{"key": finding["key"], "reason": "bundle id %r is not a valid bundle identifier; "
                                                                   "not passed to osascript" % name}]


def test_the_matcher_drops_control_characters_before_the_planner(catalog):
    collected = mac()
    collected["records"]["bundle"][0]["name"] = "com.tencent.xinWeChat\n"
    findings, warnings = Matcher(catalog.entries).match("macos", collected)
    assert warnings == ["skipped 1 malformed bundle record(s) from the host"]
    assert K["b_wechat"] not in [f["key"] for f in findings]


@pytest.mark.parametrize("source, name, reason", [
    ("launchd", "com.kaspersky.kav/../../system", "launchd label %r is not valid; not passed to launchctl"),
    ("launchd", "com.kaspersky.kav gui", "launchd label %r is not valid; not passed to launchctl"),
    ("launchd", "-com.kaspersky.kav", "launchd label %r is not valid; not passed to launchctl"),
    ("launchd", 'com.kaspersky"kav', "launchd label %r is not valid; not passed to launchctl"),
    ("pkg-receipt", "--forget", "package id %r is not valid; not passed to pkgutil"),
    ("pkg-receipt", "com.kaspersky.kav;rm", "package id %r is not valid; not passed to pkgutil"),
    ("pkg-receipt", "com.kaspersky.kav\n", "package id %r is not valid; not passed to pkgutil"),
    ("cask", "--force", "cask token %r is not valid; not passed to brew"),
    ("cask", "WeChatWork", "cask token %r is not valid; not passed to brew"),
    ("cask", "wechat work", "cask token %r is not valid; not passed to brew"),
])
def test_hostile_labels_receipts_and_tokens_never_reach_an_argv(catalog, source, name, reason):
    collected = mac()
    path = {"launchd": "/Library/LaunchDaemons/x.plist", "pkg-receipt": "/var/db/receipts/x.plist",
            "cask": "/opt/homebrew/Caskroom/x"}[source]
    rec = {"name": name, "scope": "machine", "path": path, "domain": "system", "uid": 501}
    collected["records"] = {source: [rec]}
    finding = {"id": "kaspersky-macos", "source": source, "name": name, "scope": "machine", "path": path,
               "exempt": False, "key": key(source, name, path)}
    dummy, plan = plan_for(catalog, collected, [finding])
    assert [s for s in plan["steps"] if s["kind"] == "command"] == []
    assert {"key": finding["key"], "reason": reason % name} in plan["unplanned"]
    if source == "launchd":
        assert LABEL_RE.match(name) is None


def test_gui_agent_in_a_users_home_is_booted_out_for_that_user_only(catalog):
    collected = mac()
    path = "/Users/bob/Library/LaunchAgents/com.kaspersky.kav.gui.plist"
    collected["records"]["launchd"] = [{"name": "com.kaspersky.kav.gui", "scope": "user:bob", "domain": "gui",
                                        "path": path}]
    dummy, plan = plan_for(catalog, collected)
    agent = key("launchd", "com.kaspersky.kav.gui", path, "user:bob")
    assert [(s["action"], s.get("argv") or s["path"]) for s in plan["steps"] if agent in s["findings"]] == [
        ("bootout", ["/bin/launchctl", "bootout", "gui/502/com.kaspersky.kav.gui"]),
        ("vendor_uninstall", [KAV + "/Binaries/UninstallScript"]),
        ("quarantine", path)]


def test_paths_that_are_not_theirs_are_never_moved(catalog):
    collected = mac()
    recs = collected["records"]
    recs["launchd"][0]["path"] = "/etc/hosts"
    recs["bundle"][1]["path"] = "/Applications"
    findings, plan = plan_for(catalog, collected)
    moved = [s["path"] for s in plan["steps"] if s["kind"] == "quarantine"]
    assert "/etc/hosts" not in moved and "/Applications" not in moved
    unplanned = dict((u["key"], u["reason"]) for u in plan["unplanned"])
    assert unplanned[key("launchd", "com.kaspersky.kav", "/etc/hosts")] == (
        "launchd plist '/etc/hosts' is not in a LaunchDaemons or LaunchAgents directory; not moved")
    assert unplanned[key("bundle", "com.tencent.WeWorkMac", "/Applications")] == (
        "bundle path '/Applications' is not an app bundle (*.app)")


def test_plan_is_deterministic(catalog):
    findings, first = plan_for(catalog)
    rng = random.Random(7)
    for dummy in range(5):
        collected = mac()
        for items in collected["records"].values():
            rng.shuffle(items)
        rng.shuffle(collected["users"])
        shuffled = copy.deepcopy(findings)
        rng.shuffle(shuffled)
        dummy2, again = plan_for(catalog, collected, shuffled)
        assert again == first


def test_circuit_breaker_holds_everything_but_keeps_needs_mdm(catalog):
    findings, plan = plan_for(catalog, max_removals=9)
    assert plan["steps"] == [] and plan["covered"] == {} and plan["unplanned"] == []
    assert plan["tripped"] == ("the plan would remove 10 items in scope machine, more than the maximum of 9 per "
                               "scope; nothing in that scope was removed (raise banned_software_max_removals after "
                               "review)")
    assert plan["tripped_scopes"] == ["machine"]
    outcomes = dict((s["key"], s["outcome"]) for s in plan["skipped"])
    assert outcomes.pop(K["sysext"]) == "needs_mdm"
    assert set(outcomes.values()) == set(["skipped_limit"])
    assert sorted(outcomes) == sorted(k for k in K.values() if k != K["sysext"])
    counts = judge_outcomes(findings, plan, [], set(f["key"] for f in findings))
    assert counts == {"skipped_limit": 14, "needs_mdm": 1}


def test_exempt_finding_is_left_alone(catalog):
    findings, dummy = plan_for(catalog)
    for finding in findings:
        if finding["id"] == "wecom":
            finding["exempt"] = True
            finding["exemption"] = {"reason": "liaison office", "expires": "2027-01-01"}
    dummy, plan = plan_for(catalog, None, findings)
    assert [s for s in plan["steps"] if s.get("entry") == "wecom" or WECOM_APP == s.get("path")] == []
    assert sorted(s["key"] for s in plan["skipped"] if s["outcome"] == "skipped_exempt") == sorted(
        [K["b_wecom"], K["f_wecom"], K["cask"]])


def test_leftovers_only_with_remove_leftovers(catalog):
    dummy, plan = plan_for(catalog, remove_leftovers=True)
    extra = [(s["action"], s["path"]) for s in plan["steps"] if s["action"] == "quarantine_leftover"]
    # the UninstallScripts lie inside the KAV/klnagent directories already moved (covered by those steps)
    assert extra == [("quarantine_leftover", "/Users/alice/Library/Caches/com.tencent.xinWeChat")]
