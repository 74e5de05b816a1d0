# -*- coding: utf-8 -*-
"""macOS reinstall blocks (_block_plan_macos): no local block, one needs_mdm item per entry, no steps."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import macos as bpm
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog


@pytest.fixture(scope="module")
def enabled():
    return load_catalog().select()


def test_real_catalog_items(enabled):
    plan = bpm.plan_macos_blocks(enabled, {"anything": 1}, "present", {"applocker_enforcement": "Enabled"})
    assert plan["steps"] == []
    assert [(i["entries"], i["names"], i["state"], i["steps"]) for i in plan["items"]] == [
        (["kaspersky-macos"], [], "needs_mdm", []),
        (["tiktok"], ["com.zhiliaoapp.musically"], "needs_mdm", []),
        (["wechat"], ["com.tencent.xinWeChat"], "needs_mdm", []),
        (["wecom"], ["com.tencent.WeWorkMac"], "needs_mdm", []),
    ]
    assert set(i["mechanism"] for i in plan["items"]) == {"mdm"}
    assert plan["items"][1]["detail"] == (
        "macOS has no local install block without MDM: deploy the bundle ids of macos-block-rules.json "
        "(playbooks/export_block_rules.yml) with your MDM or Santa")
    assert plan["items"][0]["detail"].endswith("deploy the identifiers of macos-block-rules.json "
                                               "(playbooks/export_block_rules.yml) with your MDM or Santa; "
                                               "2 identifiers are regular expressions and cannot be exported")
    refused = [(n["entry"], n["source"]) for n in plan["not_blockable"]]
    assert refused == [("kaspersky-macos", "bundle"), ("kaspersky-macos", "sysext")]


def test_team_ids_and_santa_rules_are_named():
    ents = [Entry("test", {"id": "m", "vendor": "V", "product": "M", "policies": ["p1"],
                           "references": [{"url": "https://example.org/"}],
                           "signatures": {"macos": {"bundle": [{"name": "com.example.app", "team_id": "ABCDE12345"}]}}})]
    item = bpm.plan_macos_blocks(ents, None, "present", None)["items"][0]
    assert item["names"] == ["com.example.app", "team:ABCDE12345"]
    assert "bundle ids and team ids and 1 Santa rules of macos-block-rules.json" in item["detail"]


def test_unblock_has_nothing_to_undo(enabled):
    for entries in (enabled, []):
        plan = bpm.plan_macos_blocks(entries, {}, "absent", {})
        assert plan["steps"] == [] and plan["not_blockable"] == []
        assert len(plan["items"]) == 1 and plan["items"][0]["state"] == "needs_mdm"
        assert plan["items"][0]["detail"].startswith("nothing was written on this host")
    assert bpm.plan_macos_blocks(enabled, {}, "absent", {})["items"][0]["names"] == [
        "com.tencent.WeWorkMac", "com.tencent.xinWeChat", "com.zhiliaoapp.musically"]
    with pytest.raises(ValueError, match="block mode must be present or absent"):
        bpm.plan_macos_blocks([], {}, "audit", {})
