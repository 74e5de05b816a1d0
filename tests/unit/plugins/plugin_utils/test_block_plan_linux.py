# -*- coding: utf-8 -*-
"""Linux reinstall blocks (_block_plan + _block_plan_linux): planner tables, a simulated host that applies
the steps, idempotent re-plans, unblock, hostile files, and the judging of items."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import planner as bp
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_CONF_PATH, DNF_DROPIN_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.dnf_conf import BEGIN_LINE, END
from ansible_collections.govsec.banned_software.tests.unit.helpers.block_host import (
    ALICE, FLATPAK, ZYPPER, apply, file_, host, sha,
)

HEADER = {"catalog_version": "2026.11.29", "policies": ["p1"]}


def entry(eid, linux, prevent=None):
    data = {"id": eid, "vendor": "V", "product": eid.upper(), "policies": ["p1"],
            "references": [{"url": "https://example.org/"}], "signatures": {"linux": linux}}
    if prevent is not None:
        data["prevent_reinstall"] = prevent
    return Entry("test", data)


WECHAT = entry("wechat", {"packages": [{"name": "wechat"}], "flatpak": [{"name": "com.tencent.WeChat"}],
                          "appimage": [{"name_regex": "WeChat.*\\.AppImage"}]})
KESL = entry("kesl", {"dpkg": [{"name": "kesl"}], "rpm": [{"name": "kesl"}, {"name": "kics", "vendor_regex": "K.*"}]})
ENTRIES = [WECHAT, KESL]


def plan(state, mode="present", entries=None, first_id=1):
    entries = ENTRIES if entries is None else entries
    return bp.plan_blocks("linux", entries, state, mode, {"first_id": first_id, "header": HEADER})


def summary(result):
    return [(i["mechanism"], i["target"], i["state"], i["names"]) for i in result["items"]]


def commands(result):
    return [(s["kind"], s.get("argv") or s["path"], s.get("requires", [])) for s in result["steps"]]


def check(seen, expected, what):
    assert seen == expected, "%s:\nexpected %r\nseen     %r" % (what, expected, seen)


def assert_idempotent(state, mode="present", entries=None):
    entries = ENTRIES if entries is None else entries
    first = plan(state, mode, entries)
    after = apply(state, first["steps"])
    again = plan(after, mode, entries)
    check(again["steps"], [], "re-plan after the steps ran")
    assert all(i["state"] in ("unchanged", "not_supported", "failed") for i in again["items"]), summary(again)
    return first, after, again


# --- apt ------------------------------------------------------------------------------------------------

def test_apt_pins_every_dpkg_name_and_reports_not_blockable():
    result, after, again = assert_idempotent(host(apt=True))
    check(summary(result), [("apt_preferences", APT_PREFERENCES_PATH, "would_apply", ["kesl", "wechat"])], "items")
    check(result["items"][0]["entries"], ["kesl", "wechat"], "entries")
    check(commands(result), [("write_file", APT_PREFERENCES_PATH, [])], "steps")
    content = result["steps"][0]["content"]
    assert "Package: kesl\nPin: version *\nPin-Priority: -1" in content and "Package: wechat\n" in content
    check([(n["entry"], n["source"]) for n in result["not_blockable"]], [("kesl", "rpm"), ("wechat", "appimage")],
          "not_blockable")
    check(summary(again), [("apt_preferences", APT_PREFERENCES_PATH, "unchanged", ["kesl", "wechat"])], "again")
    check(result["diff"][0]["before"], "", "diff before")
    check(result["diff"][0]["after"], content, "diff after")


def test_apt_file_removed_when_nothing_is_blocked_and_apt_absent_leaves_it():
    state = host(apt=True, files={APT_PREFERENCES_PATH: file_("old\n")})
    result = plan(state, entries=[])
    check(commands(result), [("remove_file", APT_PREFERENCES_PATH, [])], "no name: our file goes")
    check(result["items"][0]["state"], "would_remove", "state")
    check(plan(host(apt=False, files={APT_PREFERENCES_PATH: file_("old\n")}))["steps"], [], "apt absent: untouched")


# --- dnf ------------------------------------------------------------------------------------------------

def test_dnf4_with_admin_excludes_keeps_them_first():
    conf = "# admin\n[main]\ngpgcheck=1\nexcludepkgs=kernel*,foo\n\n[updates]\nenabled=1\n"
    state = host(dnf="dnf4", files={DNF_CONF_PATH: file_(conf)})
    result, after, again = assert_idempotent(state)
    check(commands(result), [("write_file", DNF_CONF_PATH, [])], "steps")
    check(result["steps"][0]["expect_sha256"], sha(conf), "expected sha")
    check(after["files"][DNF_CONF_PATH]["content"],
          "# admin\n[main]\ngpgcheck=1\nexcludepkgs=kernel*,foo\n" + BEGIN_LINE
          + "\nexcludepkgs=kernel*,foo,kesl,wechat\n" + END + "\n\n[updates]\nenabled=1\n", "dnf.conf")
    assert "kept first: kernel*,foo" in result["items"][0]["detail"]
    # The administrator changes the own line later: the block follows.
    edited = copy.deepcopy(after)
    edited["files"][DNF_CONF_PATH] = file_(after["files"][DNF_CONF_PATH]["content"].replace(
        "excludepkgs=kernel*,foo\n#", "excludepkgs=kernel*\n#"))
    follow = plan(edited)
    assert "excludepkgs=kernel*,kesl,wechat\n" in follow["steps"][0]["content"]
    # unblock gives the file back byte for byte
    unblock, restored, dummy = assert_idempotent(after, mode="absent")
    check(summary(unblock), [("dnf_excludepkgs", DNF_CONF_PATH, "would_remove", ["kesl", "wechat"])], "unblock items")
    check(restored["files"][DNF_CONF_PATH]["content"], conf, "restored dnf.conf")


def test_dnf4_without_main_and_without_file():
    state = host(dnf="dnf4", files={DNF_CONF_PATH: file_("[repo]\nname=r\n")})
    result, after, dummy = assert_idempotent(state)
    check(after["files"][DNF_CONF_PATH]["content"],
          "[repo]\nname=r\n" + BEGIN_LINE + "\n[main]\nexcludepkgs=kesl,wechat\n" + END + "\n", "no [main]")
    missing = host(dnf="dnf4")
    result, after, dummy = assert_idempotent(missing)
    check(result["steps"][0]["expect_sha256"], None, "must not exist")
    unblock = plan(after, mode="absent")
    check(commands(unblock), [("remove_file", DNF_CONF_PATH, [])], "a file holding only our block is removed")


def test_dnf5_drop_in_and_yum_only():
    state = host(dnf="dnf5", dnf5=True, files={DNF_CONF_PATH: file_("[main]\nexcludepkgs=foo\n")})
    result, after, dummy = assert_idempotent(state)
    check(commands(result), [("write_file", DNF_DROPIN_PATH, [])], "dnf5 writes only the drop-in")
    assert "[main]\nexcludepkgs=foo,kesl,wechat\n" in result["steps"][0]["content"]
    assert "not verified on a dnf 5 host" in result["items"][0]["detail"]
    unblock = plan(after, mode="absent")
    check(commands(unblock), [("remove_file", DNF_DROPIN_PATH, [])], "unblock removes the drop-in")
    yum = plan(host(dnf="yum"))
    check(summary(yum), [("dnf_excludepkgs", "/etc/yum.conf", "not_supported", ["kesl", "wechat"])], "yum only")
    check(yum["steps"], [], "yum: no step")


@pytest.mark.parametrize("conf, detail", [
    ({"exists": True, "sha256": None, "content": None, "error": "is a symbolic link; refused"}, "symbolic link"),
    (file_("[main]\n" + BEGIN_LINE + "\nexcludepkgs=x\n"), "marker lines"),
    (file_("[main]\nexcludepkgs=a=b\n"), "cannot be carried over"),
])
def test_dnf_conf_that_cannot_be_edited_fails_the_item(conf, detail):
    result = plan(host(dnf="dnf4", files={DNF_CONF_PATH: conf}))
    check(result["steps"], [], "no step")
    check(result["items"][0]["state"], "failed", "state")
    assert detail in result["items"][0]["detail"], result["items"][0]["detail"]


def test_symlinked_apt_file_fails_without_step():
    link = {"exists": True, "sha256": None, "content": None, "error": "is a symbolic link; refused"}
    result = plan(host(apt=True, files={APT_PREFERENCES_PATH: link}))
    check((summary(result), result["steps"]),
          ([("apt_preferences", APT_PREFERENCES_PATH, "failed", ["kesl", "wechat"])], []), "refused")


# --- zypper and flatpak: commands recorded in the state file ---------------------------------------------

def test_zypper_keeps_admin_locks_and_records_only_ours():
    state = host(zypper=["kesl", "other"])
    result, after, again = assert_idempotent(state)
    check(commands(result), [
        ("write_file", STATE_PATH, []),
        ("command", [ZYPPER, "--non-interactive", "addlock", "--", "wechat"], [1]),
    ], "state written before the lock (the command requires it)")
    check(json.loads(after["files"][STATE_PATH]["content"]),
          {"schema": 1, "zypper_locks": ["wechat"], "flatpak_masks": {}}, "record")
    assert "left alone): kesl" in result["items"][0]["detail"]
    check(result["items"][0]["steps"], [1, 2], "item steps")
    unblock, restored, dummy = assert_idempotent(after, mode="absent")
    check(commands(unblock), [
        ("command", [ZYPPER, "--non-interactive", "removelock", "--", "wechat"], []),
        ("remove_file", STATE_PATH, [1]),
    ], "unblock removes our lock, then the record")
    check(restored["zypper"]["locks"], ["kesl", "other"], "the administrator's locks stay")


def test_entry_no_longer_blocked_loses_our_lock():
    state = host(zypper=["kesl", "wechat"], files={STATE_PATH: file_(json.dumps(
        {"schema": 1, "zypper_locks": ["kesl", "wechat"], "flatpak_masks": {}}))})
    result, after, dummy = assert_idempotent(state, entries=[KESL])
    check(commands(result), [
        ("command", [ZYPPER, "--non-interactive", "removelock", "--", "wechat"], []),
        ("write_file", STATE_PATH, [1]),
    ], "removal first, record cut down after it")
    check(after["zypper"]["locks"], ["kesl"], "locks")


def test_flatpak_system_and_user_and_old_version():
    state = host(flatpak={"system": [], "user:alice": ["com.tencent.WeChat"]})
    result, after, again = assert_idempotent(state)
    check(summary(result), [("flatpak_mask", "system", "would_apply", ["com.tencent.WeChat"]),
                            ("flatpak_mask", "user:alice", "unchanged", ["com.tencent.WeChat"])], "items")
    check(commands(result)[1], ("command", [FLATPAK, "mask", "--system", "--", "com.tencent.WeChat"], [1]), "mask")
    assert "a manual 'flatpak install' is still possible" in result["items"][0]["detail"]
    user_only = host(flatpak={"system": ["com.tencent.WeChat"], "user:alice": []})
    result = plan(user_only)
    step = [s for s in result["steps"] if s["kind"] == "command"][0]
    check((step["argv"][1:3], step["run_as"]), (["mask", "--user"], ALICE), "per-user mask runs as the user")
    old = host(flatpak={"system": []})
    old["flatpak"]["version"] = "Flatpak 1.4.3"
    check(summary(plan(old)), [("flatpak_mask", "system", "not_supported", ["com.tencent.WeChat"])], "flatpak 1.4")
    bad_user = host(flatpak={"user:alice": []})
    bad_user["flatpak"]["installations"][0]["user"]["uid"] = 0
    check(plan(bad_user)["items"][0]["state"], "failed", "run_as root refused")


def test_unblock_everything():
    state = host(apt=True, dnf="dnf4", zypper=[], flatpak={"system": [], "user:alice": []},
                 files={DNF_CONF_PATH: file_("[main]\ngpgcheck=1\n")})
    result, blocked, dummy = assert_idempotent(state)
    unblock, after, dummy = assert_idempotent(blocked, mode="absent")
    check(sorted(set(i["state"] for i in unblock["items"])), ["would_remove"], "every item removed")
    check(after["files"][DNF_CONF_PATH]["content"], "[main]\ngpgcheck=1\n", "dnf.conf restored")
    check([after["files"][p]["exists"] for p in (APT_PREFERENCES_PATH, STATE_PATH)], [False, False], "files gone")
    check((after["zypper"]["locks"], [i["masked"] for i in after["flatpak"]["installations"]]),
          ([], [[], []]), "locks and masks gone")


def test_nothing_available_plans_nothing():
    check(plan(host()), {"steps": [], "items": [], "not_blockable": plan(host())["not_blockable"], "diff": []},
          "no manager")
    check(plan(host(), mode="absent")["items"], [], "nothing to unblock")


@pytest.mark.parametrize("content", ["not json", json.dumps({"schema": 2}),
                                     json.dumps({"schema": 1, "zypper_locks": ["a b"]})])
def test_hostile_state_file_fails_command_items(content):
    result = plan(host(zypper=[], flatpak={"system": []}, files={STATE_PATH: file_(content)}))
    check([i["state"] for i in result["items"]], ["failed", "failed"], "items")
    check(result["steps"], [], "no command without a trusted record")


def test_hostile_names_never_reach_a_file_or_argv():
    odd = entry("odd", {"dpkg": [{"name": "ok-name"}], "flatpak": [{"name": "com.example.App"}]})
    result = plan(host(apt=True, flatpak={"system": []}), entries=[odd])
    for step in result["steps"]:
        for arg in step.get("argv") or []:
            assert "\n" not in arg
    with pytest.raises(ValueError):
        bp.plan_blocks("linux", [entry("bad", {"dpkg": [{"name": "Bad\nName"}]})], host(apt=True), "present",
                       {"header": HEADER})


# --- dispatcher -------------------------------------------------------------------------------------------

def test_ids_follow_the_removal_steps():
    result = plan(host(apt=True, zypper=[]), first_id=7)
    check([(s["id"], s.get("requires", [])) for s in result["steps"]], [(7, []), (8, []), (9, [8])], "ids")
    check([i["steps"] for i in result["items"]], [[7], [8, 9]], "item steps")


def test_blocked_entries_flags_overrides_and_exemptions():
    off = entry("off", {"dpkg": [{"name": "off"}]}, prevent=False)
    today = datetime.date(2026, 11, 29)
    exemptions = [{"entry": "kesl", "reason": "lab", "expires": "2026-12-31", "source": "dpkg"},
                  {"entry": "wechat", "reason": "old", "expires": "2026-01-01"}]
    blocked, skipped = bp.blocked_entries([WECHAT, KESL, off], exemptions, True, {}, today=today)
    check([e.id for e in blocked], ["wechat"], "blocked")
    check(skipped, [{"entry": "kesl", "reason": "exempt on this host until 2026-12-31: lab"},
                    {"entry": "off", "reason": "prevent_reinstall is false (the catalog entry's prevent_reinstall)"}],
          "skipped")
    blocked, skipped = bp.blocked_entries([WECHAT, off], [], True, {"off": True, "wechat": False}, today=today)
    check(([e.id for e in blocked], skipped[0]["reason"]),
          (["off"], "prevent_reinstall is false (banned_software_prevent_reinstall_entries)"), "overrides")
    blocked, skipped = bp.blocked_entries([WECHAT], [], False, {"wechat": True}, today=today)
    check((blocked, skipped[0]["reason"]), ([], "banned_software_prevent_reinstall is false"), "global off")


def test_validate_overrides():
    check(bp.validate_overrides({"wechat": False}, {"wechat"}), {"wechat": False}, "valid")
    with pytest.raises(bp.BlockError, match="unknown catalog entries: nope"):
        bp.validate_overrides({"nope": True}, {"wechat"})
    with pytest.raises(bp.BlockError, match=r"\[wechat\] must be true or false"):
        bp.validate_overrides({"wechat": "no"}, {"wechat"})
    with pytest.raises(bp.BlockError, match="unknown platform|not available"):
        bp.plan_blocks("plan9", [], {}, "present", {})


def test_judge_blocks():
    state = host(apt=True, zypper=[])
    planned = plan(state)
    ok = [{"id": s["id"], "status": "changed"} for s in planned["steps"]]
    judged = bp.judge_blocks(planned["items"], ok, plan(apply(state, planned["steps"])))
    check([i["state"] for i in judged], ["applied", "applied"], "all ran")
    failed = [dict(ok[0]), dict(ok[1], status="failed", msg="read-only file system"),
              dict(ok[2], status="skipped", msg="required step failed")]
    judged = bp.judge_blocks(planned["items"], failed, None)
    check([i["state"] for i in judged], ["applied", "failed"], "a failed step")
    assert "read-only file system" in judged[1]["detail"]
    # The steps said changed but the verification scan still sees work to do.
    judged = bp.judge_blocks(planned["items"], ok, plan(state))
    check([i["state"] for i in judged], ["failed", "failed"], "verification disagrees")
    assert "still finds work to do" in judged[0]["detail"]
    unblock = plan(apply(state, planned["steps"]), mode="absent")
    judged = bp.judge_blocks(unblock["items"], [{"id": s["id"], "status": "changed"} for s in unblock["steps"]], None)
    check([i["state"] for i in judged], ["removed", "removed"], "unblock")


def test_unblock_names_what_it_unpins_and_unexcludes():
    """The report of an unblock lists the names the removed files blocked (from the files themselves)."""
    state = host(apt=True, dnf="dnf4", files={DNF_CONF_PATH: file_("[main]\nexcludepkgs=foo\n")})
    dummy, blocked, dummy2 = assert_idempotent(state)
    unblock = plan(blocked, mode="absent")
    check(sorted(summary(unblock)), [("apt_preferences", APT_PREFERENCES_PATH, "would_remove", ["kesl", "wechat"]),
                                     ("dnf_excludepkgs", DNF_CONF_PATH, "would_remove", ["kesl", "wechat"])],
          "names of the removed blocks (the administrator's foo is not ours)")
