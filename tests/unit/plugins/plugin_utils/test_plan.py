# -*- coding: utf-8 -*-
"""The removal planner (plugin_utils/plan/planner.py): what is more than a scenario; and the outcomes.

The scenarios (records in, steps out) are data: plan_cases/linux.yaml, run by test_plan_cases.py. Here are the
checks with logic of their own: determinism under shuffling, inputs left unmodified, filtered expectations,
the circuit breaker per scope, options, the fields sent to the executor, judge_outcomes. The host data is built
from records exactly as the collector returns them, and the findings from those records with the key format
of plugin_utils/match/matcher.py ("source|scope|name|path").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import random

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    KIND_FIELDS as EXECUTOR_FIELDS)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    PlanError, executor_steps, judge_outcomes, plan_removal, validate_options,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers.linux_plan_host import (
    ALICE, DPKG, RPMDB, STATUS, Host, key,
)


def summary(plan):
    """One tuple per step: (id, action, what it acts on, finding keys)."""
    out = []
    for step in plan["steps"]:
        if step["kind"] == "command":
            what = step["argv"]
        elif step["kind"] == "kill":
            what = step["pids"]
        elif step["kind"] == "archive":
            what = step["paths"]
        else:
            what = step["path"]
        out.append((step["id"], step["action"], what, step["findings"]))
    return out


def check(seen, expected, what="plan"):
    assert seen == expected, "%s:\nexpected %s\nseen     %s" % (
        what, json.dumps(expected, indent=1, default=str), json.dumps(seen, indent=1, default=str))


def full_host():
    h = Host()
    h.add("kesl", "dpkg", "kesl", STATUS)
    h.add("kesl", "dpkg", "kesl-gui", STATUS)
    h.add("wechat", "dpkg", "wechat", STATUS)
    h.add("kesl", "service", "kesl.service", "/lib/systemd/system/kesl.service", type="systemd",
          owner="kesl", owner_source="dpkg")
    h.add("wechat", "process", "wechat", scope="user:alice", pids=[4243, 4242], exe="/opt/wechat/wechat", comm="wechat")
    h.add("wechat", "flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat")
    h.add("wechat", "flatpak", "com.tencent.WeChat", "/home/alice/.local/share/flatpak/app/com.tencent.WeChat",
          scope="user:alice")
    h.add("wechat", "snap", "wechat", "/snap/wechat")
    h.add("wechat", "appimage", "WeChatLinux_x86_64.AppImage", "/home/alice/Applications/WeChatLinux_x86_64.AppImage",
          scope="user:alice", type="file")
    h.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir", owner="wechat", owner_source="dpkg")
    h.add("kesl", "file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl", type="dir")
    h.add("wechat", "desktop", "wechat.desktop", "/home/alice/.local/share/applications/wechat.desktop",
          scope="user:alice", type="file")
    h.data("/home/alice/.xwechat")
    h.data("/home/alice/xwechat_files")
    h.data("/var/opt/kaspersky/kesl", scope="machine", source="leftover")
    h.data("/var/opt/wechat", scope="machine", source="leftover")
    return h


K_SVC = key("service", "kesl.service", "/lib/systemd/system/kesl.service")
K_PROC = key("process", "wechat", None, "user:alice")
K_KESL = key("dpkg", "kesl", STATUS)
K_GUI = key("dpkg", "kesl-gui", STATUS)
K_WECHAT = key("dpkg", "wechat", STATUS)
K_FP_SYS = key("flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat")
K_FP_USER = key("flatpak", "com.tencent.WeChat", "/home/alice/.local/share/flatpak/app/com.tencent.WeChat", "user:alice")
K_SNAP = key("snap", "wechat", "/snap/wechat")
K_APPIMAGE = key("appimage", "WeChatLinux_x86_64.AppImage", "/home/alice/Applications/WeChatLinux_x86_64.AppImage",
                 "user:alice")
K_OPT_WECHAT = key("file", "/opt/wechat", "/opt/wechat")
K_OPT_KESL = key("file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl")
K_DESKTOP = key("desktop", "wechat.desktop", "/home/alice/.local/share/applications/wechat.desktop", "user:alice")


# -- 1. the whole plan: determinism, inputs untouched ----------------------------------------------


def test_plan_is_json_serialisable_and_deterministic():
    host = full_host()
    plan = host.plan(data_policy="archive", remove_leftovers=True)
    text = json.dumps(plan, sort_keys=True)
    check(json.loads(text), plan, "JSON round trip")
    rng = random.Random(7)
    for dummy in range(20):
        shuffled = copy.deepcopy(host)
        rng.shuffle(shuffled.findings)
        for items in shuffled.records.values():
            rng.shuffle(items)
        seen = json.dumps(shuffled.plan(data_policy="archive", remove_leftovers=True), sort_keys=True)
        assert seen == text, "same host in another order gave another plan:\nexpected %s\nseen     %s" % (text, seen)


def test_inputs_are_not_modified():
    host = full_host()
    before = copy.deepcopy((host.findings, host.collected()))
    host.plan(data_policy="purge", remove_leftovers=True)
    check((host.findings, host.collected()), before, "inputs after planning")


# -- package ownership -----------------------------------------------------------------------------


@pytest.mark.parametrize("owner, owners, pkg_finding, reason_names", [
    ("wechat-bridge", None, None, "wechat-bridge"),                        # an unrelated package
    ("libc6", None, ("dpkg", "libc6"), "libc6"),                           # a protected one, found
    ("wechat", ["wechat", "wechat-data"], ("dpkg", "wechat"), "wechat-data"),   # one of two owners stays
    ("wechat", None, ("rpm", "wechat"), "wechat"),                         # same name, other manager
])
def test_owned_by_a_package_that_stays_is_never_quarantined(owner, owners, pkg_finding, reason_names):
    host = Host()
    if pkg_finding:
        host.add("wechat", pkg_finding[0], pkg_finding[1], STATUS if pkg_finding[0] == "dpkg" else RPMDB)
    extra = {"owners": owners} if owners else {}
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir", owner=owner, owner_source="dpkg", **extra)
    host.add("wechat", "service", "wechat.service", "/lib/systemd/system/wechat.service", type="systemd", owner=owner,
             owner_source="dpkg", **extra)
    plan = host.plan()
    assert not [s for s in plan["steps"] if s["kind"] == "quarantine" or "systemctl" in s.get("argv", [""])[0]], \
        "expected no quarantine and no systemctl step, seen %s" % summary(plan)
    reason = "owned by package %s, which is not being removed" % reason_names
    check([u for u in plan["unplanned"] if not u["key"].startswith(("dpkg", "rpm"))], [
        {"key": key("file", "/opt/wechat", "/opt/wechat"), "reason": reason},
        {"key": key("service", "wechat.service", "/lib/systemd/system/wechat.service"), "reason": reason},
    ], "unplanned")


# -- user data -------------------------------------------------------------------------------------

def data_host(exempt_flatpak=False):
    host = Host(users=[ALICE, {"name": "bob", "uid": 1001, "gid": 1001, "home": "/home/bob"}])
    host.add("wechat", "dpkg", "wechat", STATUS)
    if exempt_flatpak:
        host.add("wechat", "flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat", exempt=True)
    host.data("/home/alice/.xwechat")
    host.data("/home/bob/xwechat_files", scope="user:bob")
    host.data("/home/bob/.xwechat", scope="user:bob")
    host.data("/home/bob/.cache", scope="user:bob")      # matches no data signature of the entry
    return host


def test_data_of_an_entry_with_an_exempt_finding_is_kept():
    plan = data_host(exempt_flatpak=True).plan(data_policy="purge")
    check(summary(plan), [(1, "remove_packages", [DPKG, "--remove", "--", "wechat"], [key("dpkg", "wechat", STATUS)])])
    check(sorted(set(d["policy"] for d in plan["data"])), ["keep"], "data policies")


def test_data_of_an_invalid_user_is_neither_archived_nor_purged():
    host = Host(users=[ALICE, {"name": "eve$", "uid": 1002, "gid": 1002, "home": "/home/eve"}])
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/home/alice/.xwechat")
    host.data("/home/eve/.xwechat", scope="user:eve$")
    plan = host.plan(data_policy="archive")
    check([s[1:3] for s in summary(plan)], [("archive_data", ["/home/alice/.xwechat"]),
                                            ("remove_packages", [DPKG, "--remove", "--", "wechat"]),
                                            ("purge_data", "/home/alice/.xwechat")])
    check([(d["path"], d["policy"]) for d in plan["data"]],
          [("/home/alice/.xwechat", "archive"), ("/home/eve/.xwechat", "keep")], "data")


# -- leftovers -------------------------------------------------------------------------------------

def leftover_host(exempt=False):
    host = Host()
    host.add("kesl", "dpkg", "kesl", STATUS, exempt=exempt)
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/var/opt/kaspersky/kesl", scope="machine", source="leftover")
    host.data("/var/opt/wechat", scope="machine", source="leftover")
    return host


@pytest.mark.parametrize("remove_leftovers, exempt, expected", [
    (False, False, []),
    (True, False, ["/var/opt/kaspersky/kesl", "/var/opt/wechat"]),
    (True, True, ["/var/opt/wechat"]),
    (False, True, []),
])
def test_leftovers_only_with_the_option_and_never_for_exempt_entries(remove_leftovers, exempt, expected):
    plan = leftover_host(exempt).plan(remove_leftovers=remove_leftovers)
    check([s["path"] for s in plan["steps"] if s["action"] == "quarantine_leftover"], expected, "leftovers")
    check(plan["steps"][-1]["action"] if expected else None, "quarantine_leftover" if expected else None, "last step")


# -- circuit breaker -------------------------------------------------------------------------------

MACHINE_ACTIONS = ["stop_service", "disable_service", "remove_packages", "uninstall_flatpak", "remove_snap",
                   "quarantine", "quarantine_leftover", "quarantine_leftover"]
ALICE_ACTIONS = ["stop_process", "archive_data", "uninstall_flatpak", "quarantine", "quarantine", "purge_data",
                 "purge_data"]
MACHINE_KEYS = [K_SVC, K_KESL, K_GUI, K_WECHAT, K_FP_SYS, K_SNAP, K_OPT_WECHAT, K_OPT_KESL]
ALICE_KEYS = [K_PROC, K_FP_USER, K_APPIMAGE, K_DESKTOP]


def _breaker_message(count, scope, limit):
    return ("the plan would remove %d items in scope %s, more than the maximum of %d per scope; nothing in that "
            "scope was removed (raise banned_software_max_removals after review)" % (count, scope, limit))


@pytest.mark.parametrize("max_removals, tripped", [
    (25, []), (8, []),                      # machine removes 8 items, alice's scope 5
    (7, ["machine"]), (5, ["machine"]),
    (4, ["machine", "user:alice"]), (0, ["machine", "user:alice"]),
])
def test_circuit_breaker_counts_per_scope(max_removals, tripped):
    """A scope (the machine, or one user) that would remove more than max_removals items is held back
    whole; the other scopes go on."""
    host = full_host()
    host.add("other", "dpkg", "wechat-beta", STATUS, exempt=True)
    host.add("kesl", "dpkg", "libc6", STATUS)
    plan = host.plan(data_policy="archive", remove_leftovers=True, max_removals=max_removals)
    check((plan["removals"], plan["removals_by_scope"]), (13, {"machine": 8, "user:alice": 5}), "removals")
    protected_and_exempt = [
        {"key": key("dpkg", "libc6", STATUS), "outcome": "skipped_protected",
         "reason": "package libc6 is protected and is never removed"},
        {"key": key("dpkg", "wechat-beta", STATUS), "outcome": "skipped_exempt", "reason": "approved other"}]
    counts = {"machine": 8, "user:alice": 5}
    messages = dict((s, _breaker_message(counts[s], s, max_removals)) for s in tripped)
    expected_actions = ((MACHINE_ACTIONS if "machine" not in tripped else []) +
                        (ALICE_ACTIONS if "user:alice" not in tripped else []))
    check(sorted(s["action"] for s in plan["steps"]), sorted(expected_actions), "steps that go on")
    check([s["id"] for s in plan["steps"]], list(range(1, len(plan["steps"]) + 1)), "steps renumbered")
    check(plan["tripped_scopes"], tripped, "tripped scopes")
    check(plan["tripped"], "; ".join(messages[s] for s in tripped) or None, "message")
    limited = [s for s in plan["skipped"] if s["outcome"] == "skipped_limit"]
    keys_by_scope = {"machine": MACHINE_KEYS, "user:alice": ALICE_KEYS}
    check(sorted(s["key"] for s in limited), sorted(k for t in tripped for k in keys_by_scope[t]), "skipped_limit")
    for item in limited:
        scope = "machine" if item["key"] in MACHINE_KEYS else "user:alice"
        check(item["reason"], messages[scope], "reason names its own scope")
    check(plan["skipped"][:2], protected_and_exempt, "protected and exempt kept")
    # every reference to a step is to a step of the plan (renumbered requires and covered)
    ids = set(s["id"] for s in plan["steps"])
    check(sorted(set(r for s in plan["steps"] for r in s.get("requires", [])) - ids), [], "requires")
    check(sorted(set(i for v in plan["covered"].values() for i in v) - ids), [], "covered")
    if "user:alice" in tripped and "machine" not in tripped:
        archive = [s for s in plan["steps"] if s["action"] == "archive_data"]
        check(archive, [], "the held scope's data is not archived either")


def test_a_user_flood_does_not_stop_machine_removal():
    """26 banned AppImages in one user's home trip that user's scope only: root-installed packages and
    another user's install are still removed."""
    bob = {"name": "bob", "uid": 1001, "gid": 1001, "home": "/home/bob"}
    host = Host(users=(ALICE, bob))
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.add("wechat", "dpkg", "wechat", STATUS)
    for n in range(26):
        path = "/home/alice/Downloads/wechat-%d.AppImage" % n
        host.add("wechat", "appimage", "wechat-%d.AppImage" % n, path, scope="user:alice", type="file")
    host.add("wechat", "appimage", "WeChat.AppImage", "/home/bob/Applications/WeChat.AppImage", scope="user:bob",
             type="file")
    plan = host.plan()
    check(plan["tripped_scopes"], ["user:alice"], "only alice's scope trips")
    check(summary(plan), [
        (1, "remove_packages", [DPKG, "--remove", "--", "kesl", "wechat"],
         sorted([key("dpkg", "kesl", STATUS), key("dpkg", "wechat", STATUS)])),
        (2, "quarantine", "/home/bob/Applications/WeChat.AppImage",
         [key("appimage", "WeChat.AppImage", "/home/bob/Applications/WeChat.AppImage", "user:bob")]),
    ])
    limited = [s for s in plan["skipped"] if s["outcome"] == "skipped_limit"]
    check(len(limited), 26, "alice's AppImages are skipped_limit")
    check(set(s["reason"] for s in limited), set([_breaker_message(26, "user:alice", 25)]), "reason")


def test_circuit_breaker_counts_packages_flatpaks_snaps_and_paths_not_stops_kills_archives():
    host = Host()
    host.add("kesl", "service", "kesl.service", "/lib/systemd/system/kesl.service", type="systemd", owner="kesl",
             owner_source="dpkg")
    host.add("kesl", "process", "kesl", pids=[100], exe="/opt/kaspersky/kesl/bin/kesl")
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.add("kesl", "dpkg", "kesl-gui", STATUS)
    plan = host.plan(max_removals=2)
    check(([s["action"] for s in plan["steps"]], plan["removals"], plan["tripped"]),
          (["stop_service", "disable_service", "stop_process", "remove_packages"], 2, None), "plan")
    # one less trips the machine scope: its stops and kills are held back with its removals
    check(host.plan(max_removals=1)["steps"], [], "one less trips")


# -- options ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"data_policy": "delete"}, "banned_software_data_policy must be one of keep, archive, purge, got 'delete'"),
    ({"data_policies": ["wechat"]}, "banned_software_data_policies must map entry ids to keep, archive or purge"),
    ({"data_policies": {"wechat": "delete"}},
     "banned_software_data_policies[wechat] must be one of keep, archive, purge, got 'delete'"),
    ({"max_removals": -1}, "banned_software_max_removals must be a whole number >= 0, got -1"),
    ({"max_removals": True}, "banned_software_max_removals must be a whole number >= 0, got True"),
    ({"max_removals": "5"}, "banned_software_max_removals must be a whole number >= 0, got '5'"),
    ({"step_timeout": 0}, "banned_software_step_timeout must be a whole number of seconds > 0, got 0"),
    ({"protected_packages": "libc6"}, "banned_software_protected_packages must be a list of package names or patterns"),
    ({"protected_packages": [""]}, "banned_software_protected_packages must be a list of package names or patterns"),
])
def test_invalid_options_raise_plan_error(options, message):
    with pytest.raises(PlanError) as err:
        validate_options(options)
    check(str(err.value), message, "message")
    with pytest.raises(PlanError):
        plan_removal("linux", [], {}, {}, options, {})


def test_valid_options_and_defaults():
    opts = validate_options({"max_removals": 0, "data_policy": None, "data_policies": {"wechat": "purge"}})
    check((opts["max_removals"], opts["data_policy"], opts["data_policies"], opts["purge_packages"],
           opts["remove_leftovers"], opts["step_timeout"]), (0, None, {"wechat": "purge"}, False, False, 900), "opts")


@pytest.mark.parametrize("platform", ["freebsd", "solaris"])
def test_other_platforms_are_refused(platform):
    with pytest.raises(PlanError) as err:
        plan_removal(platform, [], {}, {}, {}, {})
    check(str(err.value), "removal planning for %s is not available in this release" % platform, "message")


def test_executor_steps_keep_only_the_fields_the_executor_knows():
    plan = full_host().plan(data_policy="archive", remove_leftovers=True)
    for step in executor_steps(plan["steps"]):
        extra = set(step) - set(("id", "kind", "action", "findings", "requires") + EXECUTOR_FIELDS[step["kind"]])
        assert not extra, "step %s sent with fields the executor does not know: %s" % (step["id"], sorted(extra))
    sent = executor_steps(plan["steps"])
    check([s["id"] for s in sent], list(range(1, 16)), "ids")
    check(sorted(sent[4]), sorted(["id", "kind", "action", "findings", "argv", "timeout", "ok_rc", "lock", "env",
                                   "absent"]), "package step fields")
    check("packages" in plan["steps"][4], True, "the plan keeps its bookkeeping for the report")


# -- 2. judge_outcomes -----------------------------------------------------------------------------

def judge_plan():
    return {"steps": [], "covered": {"a": [1], "b": [1, 2], "c": [3], "d": [4], "e": [5, 6], "g": [1]},
            "skipped": [{"key": "x", "outcome": "skipped_exempt", "reason": "ticket 1"},
                        {"key": "p", "outcome": "skipped_protected", "reason": "package libc6 is protected"},
                        {"key": "l", "outcome": "skipped_limit", "reason": "too many"}],
            "unplanned": [{"key": "u", "reason": "dpkg is not installed on the host"},
                          {"key": "g", "reason": "owned by package other, which is not being removed"}]}


RESULTS = [{"id": 1, "action": "remove_packages", "status": "changed"},
           {"id": 2, "action": "quarantine", "status": "absent"},
           {"id": 3, "action": "quarantine", "status": "absent"},
           {"id": 4, "action": "uninstall_flatpak", "status": "failed", "msg": "rc 1 (expected 0)", "stderr": "boom"},
           {"id": 5, "action": "stop_service", "status": "ok"},
           {"id": 6, "action": "quarantine", "status": "absent"}]


@pytest.mark.parametrize("keyname, remaining, outcome, detail", [
    ("a", set(), "removed", None),
    ("b", set(), "removed", None),                          # one step changed it
    ("c", set(), "already_absent", None),
    ("e", set(), "already_absent", None),                   # tolerated + absent: nothing was there
    ("z", set(), "removed", None),                          # gone, no step of ours
    ("d", {"d"}, "failed", "step 4 uninstall_flatpak: rc 1 (expected 0)"),
    ("a", {"a"}, "failed", "still present after the run"),
    ("u", {"u"}, "failed", "dpkg is not installed on the host"),
    ("x", {"x"}, "skipped_exempt", "ticket 1"),
    ("p", {"p"}, "skipped_protected", "package libc6 is protected"),
    ("l", {"l"}, "skipped_limit", "too many"),
    ("a", None, "would_remove", None),
    ("u", None, "failed", "dpkg is not installed on the host"),
    ("g", None, "failed", "owned by package other, which is not being removed"),   # stopped, not removable
    ("z", None, "failed", None),
    ("x", None, "skipped_exempt", "ticket 1"),
    ("l", None, "skipped_limit", "too many"),
])
def test_judge_outcomes(keyname, remaining, outcome, detail):
    finding = {"key": keyname}
    counts = judge_outcomes([finding], judge_plan(), [] if remaining is None else RESULTS, remaining)
    check((finding["outcome"], finding.get("outcome_detail")), (outcome, detail), "outcome of %s" % keyname)
    check(counts, {outcome: 1}, "counts")


def test_judge_outcomes_counts_and_stderr_when_no_msg():
    findings = [{"key": k} for k in ("a", "b", "c", "d", "u", "x", "p")]
    results = [dict(r, msg="") if r["id"] == 4 else r for r in RESULTS]
    counts = judge_outcomes(findings, judge_plan(), results, {"d", "u", "p"})
    check(counts, {"removed": 2, "already_absent": 1, "failed": 2, "skipped_exempt": 1, "skipped_protected": 1},
          "counts")
    check(findings[3]["outcome_detail"], "step 4 uninstall_flatpak: boom", "detail from stderr")


def test_judge_outcomes_after_a_real_plan():
    host = full_host()
    plan = host.plan()
    check_mode = copy.deepcopy(host.findings)
    check(judge_outcomes(check_mode, plan, [], None), {"would_remove": len(check_mode)}, "check mode")
    results = [{"id": s["id"], "action": s["action"], "status": "changed"} for s in plan["steps"]]
    real = copy.deepcopy(host.findings)
    check(judge_outcomes(real, plan, results, set()), {"removed": len(real)}, "real run")
    again = copy.deepcopy(host.findings)
    failing = [dict(r, status="failed", msg="rc 2 (expected 0)") if r["action"] == "remove_packages" else r
               for r in results]
    check(judge_outcomes(again, plan, failing, {K_KESL, K_OPT_WECHAT}), {"removed": 10, "failed": 2}, "failure")
    check([(f["key"], f["outcome_detail"]) for f in again if f["outcome"] == "failed"],
          [(K_KESL, "step 4 remove_packages: rc 2 (expected 0)"),
           (K_OPT_WECHAT, "step 4 remove_packages: rc 2 (expected 0)")], "details")


# -- a user's own files and links ------------------------------------------------------------------


def test_user_data_outside_the_users_home_is_never_touched():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/home/alice/.xwechat")
    host.data("/etc", scope="user:alice")
    host.data("/home/alice2/.xwechat", scope="user:alice")
    plan = host.plan(data_policy="purge")
    check([(s["action"], s.get("path")) for s in plan["steps"] if s["kind"] == "purge"],
          [("purge_data", "/home/alice/.xwechat")], "purges")
    check(plan["data"], [{"entry": "wechat", "policy": "purge", "path": "/home/alice/.xwechat", "scope": "user:alice"}],
          "data")
