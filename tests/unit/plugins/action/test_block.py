# -*- coding: utf-8 -*-
"""The block action (playbooks/block.yml, playbooks/unblock.yml): one collector call and at most one executor
call; present blocks a clean host, absent removes only what this collection wrote; check mode and --diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.govsec.banned_software.plugins.action import block as block_action
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_CONF_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import run_action
from ansible_collections.govsec.banned_software.tests.unit.helpers.block_host import (
    COLLECT, check, items, EXECUTE, BlockHost, file_, host,
)

DNF_CONF = "[main]\ngpgcheck=1\nexcludepkgs=kernel*\n"


def run(host_, args=None, check_mode=False, diff=False):
    return run_action(block_action, host_, args, check_mode, diff)


def rpm_host():
    return BlockHost(packages=[], state=host(apt=True, dnf="dnf4", zypper=["kesl"], flatpak={"system": []},
                                             files={DNF_CONF_PATH: file_(DNF_CONF)}))


def test_block_then_unblock_leaves_the_host_as_it_was():
    h = rpm_host()
    before = copy.deepcopy(h.state)
    predicted = run(h, {"state": "present"}, check_mode=True, diff=True)
    check((h.modules(), predicted["changed"], h.state), ([COLLECT], True, before), "check mode changes nothing")
    check([d["after_header"] for d in predicted["diff"]], [APT_PREFERENCES_PATH, DNF_CONF_PATH, STATE_PATH], "diff")
    blocked = run(h, {"state": "present"})
    check(h.modules(), [COLLECT, COLLECT, EXECUTE], "one collector and one executor call")
    check(items(blocked), [("apt_preferences", APT_PREFERENCES_PATH, "applied"),
                           ("dnf_excludepkgs", DNF_CONF_PATH, "applied"), ("zypper_lock", "system", "applied"),
                           ("flatpak_mask", "system", "applied")], "applied")
    check((blocked["changed"], blocked["status"], blocked.get("failed")), (True, "compliant", None), "result")
    check(json.loads(h.state["files"][STATE_PATH]["content"])["zypper_locks"],
          sorted(set(blocked["blocks"]["items"][2]["names"]) - {"kesl"}), "our locks, not the administrator's")
    again = run(h, {"state": "present"})
    check((again["changed"], h.modules()[3:]), (False, [COLLECT]), "second block run")
    unblocked = run(h, {"state": "absent"})
    check(set(i[2] for i in items(unblocked)), {"removed"}, "unblock")
    check(h.state["zypper"]["locks"], ["kesl"], "the administrator's lock stays")
    check(h.state["files"][DNF_CONF_PATH]["content"], DNF_CONF, "dnf.conf back as it was")
    check([h.state["files"][p]["exists"] for p in (APT_PREFERENCES_PATH, STATE_PATH)], [False, False], "files")
    once_more = run(h, {"state": "absent"})
    check((once_more["changed"], once_more["blocks"]["items"]), (False, []), "nothing left to unblock")


def test_failed_item_fails_the_task_with_the_blocks():
    h = BlockHost(packages=[], state=host(apt=True), fail_kinds=("write_file",))
    result = run(h, {"state": "present"})
    check((result.get("failed"), items(result)), (True, [("apt_preferences", APT_PREFERENCES_PATH, "failed")]),
          "failed")
    assert result["msg"].startswith("1 reinstall block(s) failed: apt_preferences %s: step 1" % APT_PREFERENCES_PATH)


def test_variable_error_before_any_host_call():
    h = BlockHost()
    result = run(h, {"prevent_reinstall_entries": {"wechat": "yes"}})
    check((result.get("failed"), h.modules()), (True, []), "no host call")
    assert "banned_software_prevent_reinstall_entries[wechat] must be true or false" in result["msg"]
