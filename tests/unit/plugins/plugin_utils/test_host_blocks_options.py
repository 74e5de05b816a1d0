# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The block options of the remediate/block actions reach the planners (applocker_all_editions)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_blocks import BLOCK_SPEC, HostBlocks
from ansible_collections.govsec.banned_software.tests.unit.plugins.plugin_utils.test_block_plan_windows import host


@pytest.mark.parametrize("all_editions, expected", [(False, "unavailable"), (True, "would_apply")])
def test_applocker_all_editions_decides_for_a_pro_host(all_editions, expected):
    catalog = load_catalog()
    entries = catalog.select()
    args = {"prevent_reinstall": True, "prevent_reinstall_entries": {}, "applocker_enforcement": "AuditOnly",
            "applocker_all_editions": all_editions}
    blocks = HostBlocks("windows", "present", args, catalog, entries, [])
    planned = blocks.plan({"block_state": host(edition="Professional")}, 1)
    applocker = [i for i in planned["items"] if i["mechanism"] == "applocker"]
    assert applocker and all(i["state"] == expected for i in applocker), applocker
    assert bool(planned["steps"]) is all_editions


def test_the_option_is_in_the_action_spec_with_a_safe_default():
    assert BLOCK_SPEC["applocker_all_editions"] == {"type": "bool", "default": False}
