# -*- coding: utf-8 -*-
"""The remediate action with reinstall blocks (docs/blocking.md): one collector call with block_state, the block steps
in the same executor call after the removal steps, check mode and --diff, a second run with changed=0,
clean hosts, the circuit breaker, options and failures. The host is simulated (records + block_state)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import run_action
from ansible_collections.govsec.banned_software.tests.unit.helpers.block_host import COLLECT, EXECUTE, BlockHost, check, items
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import without_fact


def run(host_, args=None, check_mode=False, diff=False):
    return run_action(remediate_action, host_, without_fact(args), check_mode, diff)


def test_check_mode_predicts_blocks_and_shows_the_files():
    h = BlockHost()
    before = copy.deepcopy(h.state)
    result = run(h, check_mode=True, diff=True)
    check(h.modules(), [COLLECT], "one collector call")
    check(h.calls[0][1]["block_state"], True, "block_state asked for")
    check(h.state, before, "nothing changed")
    check(result["changed"], True, "changed")
    check(items(result), [("apt_preferences", APT_PREFERENCES_PATH, "would_apply"),
                          ("flatpak_mask", "system", "would_apply")], "items")
    diffs = result["diff"]
    check([d["before_header"] for d in diffs],
          ["banned software found", APT_PREFERENCES_PATH + " (absent)", STATE_PATH + " (absent)"], "diff headers")
    assert "Package: wechat\nPin: version *\nPin-Priority: -1" in diffs[1]["after"]
    facts = result["ansible_facts"]["banned_software"]
    check(facts["blocks"]["prevent_reinstall"], True, "facts carry the blocks")


def test_real_run_blocks_in_the_same_executor_call_then_changes_nothing():
    h = BlockHost()
    result = run(h)
    check(h.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    sent = h.calls[1][1]["steps"]
    check([(s["id"], s["kind"], s.get("action")) for s in sent], [
        (1, "command", "remove_packages"), (2, "write_file", "apt_preferences"),
        (3, "write_file", "block_state_file"), (4, "command", "flatpak_mask")], "one executor call")
    check(sent[3]["requires"], [3], "the mask requires the record")
    check(h.calls[2][1]["block_state"], True, "verification scan reads the blocks too")
    check((result["changed"], result["status"]), (True, "remediated"), "first run")
    check(items(result), [("apt_preferences", APT_PREFERENCES_PATH, "applied"),
                          ("flatpak_mask", "system", "applied")], "items")
    check([r["id"] for r in result["remediation"]["steps"]], [1], "removal results stay in remediation")
    check([r["id"] for r in result["blocks"]["results"]], [2, 3, 4], "block results")
    check(json.loads(h.state["files"][STATE_PATH]["content"])["flatpak_masks"], {"system": ["com.tencent.WeChat"]},
          "record")
    again = run(h)
    check(h.modules()[3:], [COLLECT], "second run: one collector call, no executor")
    check(again["changed"], False, "second run changed")
    check(set(i[2] for i in items(again)), {"unchanged"}, "second run items")


def test_clean_host_is_blocked_too_and_prevention_off_does_nothing():
    h = BlockHost(packages=["linuxqq"])
    result = run(h)
    check(h.modules(), [COLLECT, EXECUTE, COLLECT], "blocks on a clean host")
    check((result["changed"], result["status"]), (True, "compliant"), "clean host")
    off = BlockHost(packages=["linuxqq"])
    result = run(off, {"prevent_reinstall": False})
    check(off.modules(), [COLLECT], "prevention off")
    check("block_state" in off.calls[0][1], False, "block_state not asked for")
    check((result["changed"], result["blocks"]["prevent_reinstall"], result["blocks"]["items"]), (False, False, []),
          "no blocks")


def test_per_entry_override_and_unknown_entry():
    h = BlockHost(packages=[])
    result = run(h, {"prevent_reinstall_entries": {"wechat": False}}, check_mode=True)
    assert {"entry": "wechat", "reason": "prevent_reinstall is false (banned_software_prevent_reinstall_entries)"} \
        in result["blocks"]["skipped"]
    apt = [i for i in result["blocks"]["items"] if i["mechanism"] == "apt_preferences"][0]
    assert "wechat" not in apt["names"] and "kesl" in apt["names"]
    bad = BlockHost()
    result = run(bad, {"prevent_reinstall_entries": {"no-such-entry": True}})
    check((result.get("failed"), bad.modules()), (True, []), "variable error before any host call")
    assert "banned_software_prevent_reinstall_entries names unknown catalog entries: no-such-entry" in result["msg"]


def test_circuit_breaker_plans_no_block():
    h = BlockHost()
    result = run(h, {"max_removals": 0})
    check((result.get("failed"), h.modules()), (True, [COLLECT]), "tripped")
    check((result["blocks"]["items"], result["blocks"]["steps"]), ([], []), "no block")
    assert "circuit breaker" in result["blocks"]["detail"]


def test_a_failed_block_step_is_reported():
    h = BlockHost(packages=[], fail_kinds=("write_file",))
    result = run(h)
    check(items(result), [("apt_preferences", APT_PREFERENCES_PATH, "failed"),
                          ("flatpak_mask", "system", "failed")], "items")
    assert "Read-only file system" in result["blocks"]["items"][0]["detail"]
    check(result["blocks"]["items"][1]["detail"], "step 2 (block_state_file) failed: Read-only file system",
          "the mask waits for its record")
    check([r["status"] for r in result["blocks"]["results"]], ["failed", "failed", "changed"],
          "executor results (the simulated executor does not skip)")
