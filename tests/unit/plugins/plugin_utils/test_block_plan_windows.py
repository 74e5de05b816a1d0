# -*- coding: utf-8 -*-
"""Windows reinstall blocks (plugin_utils.block.windows): AppLocker merge tables, availability, hostile XML, AppX.

The policies in tests/unit/data/windows/applocker/ are written the way ``Get-AppLockerPolicy -Local -Xml``
prints them (one line, the five collections in alphabetical order, NotConfigured ones empty, the default
rules with the ids Windows gives them, ``RuleCollectionExtensions`` last in Exe); org_draft_pretty.xml is
an indented export of draft rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import windows as bp
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import rules as br
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import executor_steps
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "data", "windows", "applocker")
MS_PUBLISHER = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
OUR_EXE_IDS = sorted(["2ae733c2-f748-57ae-adf6-0d01f543bf13", "2b960c9d-05a3-56cf-9227-ab34382f4317", "91f8108a-7d03-5df3-86fd-aaa5a7c6bd81",
                      "9e06505e-a6f3-5b31-b4a9-f1398982facc", "a5538f90-e32e-50a1-8a14-0fbab5038cdf",
                      "bfcb0579-d677-5b13-ab5e-d76251425b58", "dda83fb2-a179-5143-a91c-58140c84d634"])
ALLOW_EXE = "b3bc29d7-b2dd-57ba-a7ce-1852079ae160"
ORG_EXE_IDS = ["921cc481-6e17-4653-8f75-050b80acca20", "a61c8b2c-a319-4cd0-9690-d2177cad7b51",
               "fd686d83-a829-4351-8ff4-27c7de5755d2"]
WECHAT_UWP = "TencentWeChatLimited.forWindows10_sdtnhv12zgd7a"


def xml(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return handle.read()


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def enabled():
    return load_catalog().select()


def host(local="empty.xml", effective=None, edition="Enterprise", service=("Running", "Automatic"), **extra):
    local_text = xml(local) if local.endswith(".xml") else local
    state = {"edition": {"edition_id": edition, "installation_type": "Client",
                         "product_name": "Windows 11 %s" % edition, "build": "22631"},
             "applocker_cmdlets": True,
             "appidsvc": {"status": service[0], "start_type": service[1]} if service else None,
             "applocker_local_xml": local_text,
             "applocker_effective_xml": local_text if effective is None else
             (xml(effective) if effective.endswith(".xml") else effective),
             "appx_provisioned": []}
    state.update(extra)
    return state


def collections(text):
    root = ET.fromstring(text)
    return [(c.get("Type"), c.get("EnforcementMode"), [r.get("Id") for r in c if r.tag.endswith("Rule")])
            for c in root.findall("RuleCollection")]


def rules_by_id(text):
    return dict((r.get("Id"), r) for r in ET.fromstring(text).iter() if r.tag in bp.RULE_TAGS)


def only_item(plan, mechanism):
    found = [i for i in plan["items"] if i["mechanism"] == mechanism]
    assert len(found) == 1, "expected one %s item, got %r" % (mechanism, found)
    return found[0]


def rerun(plan, state, entries, mode="present", options=None):
    """The host after the step ran: local and effective policy are the written XML."""
    written = plan["steps"][0]["xml"]
    after = dict(state, applocker_local_xml=written, applocker_effective_xml=written)
    after.pop("applocker_local_sha256", None)
    return bp.plan_windows_blocks(entries, after, mode, options or {}), after


# --- merge tables ---------------------------------------------------------------------------------------

def test_empty_policy_gets_our_collection_audit_only_with_allow_rest(enabled):
    state = host("empty.xml")
    plan = bp.plan_windows_blocks(enabled, state, "present", {})
    step = plan["steps"][0]
    assert step["kind"] == "applocker_policy" and step["action"] == "set_applocker_policy"
    assert step["expect_sha256"] == sha('<AppLockerPolicy Version="1" />')
    assert collections(step["xml"]) == [("Exe", "AuditOnly", OUR_EXE_IDS + [ALLOW_EXE])]
    item = only_item(plan, "applocker")
    assert item["state"] == "would_apply" and item["steps"] == [0]
    assert item["target"] == "local AppLocker policy"
    assert item["entries"] == ["deepseek", "kaspersky-endpoint-agent", "kaspersky-network-agent",
                               "kaspersky-security-center", "wechat"]
    assert "%OSDRIVE%\\Program Files (x86)\\Tencent\\WeChat\\*" in item["names"] and len(item["names"]) == 7
    assert item["detail"] == ("Exe: 8 rules to add; allow-everything rule for the rest (no other rules in the "
                              "collection); enforcement AuditOnly (was NotConfigured)")
    assert [r.get("Action") for r in rules_by_id(step["xml"]).values()].count("Allow") == 1


def test_not_configured_collections_keep_their_order_and_the_others(enabled):
    plan = bp.plan_windows_blocks(enabled, host("not_configured.xml"), "present", {"applocker_enforcement": "Enabled"})
    assert collections(plan["steps"][0]["xml"]) == [
        ("Appx", "NotConfigured", []), ("Dll", "NotConfigured", []), ("Exe", "Enabled", OUR_EXE_IDS + [ALLOW_EXE]),
        ("Msi", "NotConfigured", []), ("Script", "NotConfigured", [])]


def test_organisation_allow_rules_kept_no_allow_rest_mode_kept(enabled):
    state = host("org_enforced.xml")
    plan = bp.plan_windows_blocks(enabled, state, "present", {"applocker_enforcement": "AuditOnly"})
    written = plan["steps"][0]["xml"]
    assert plan["steps"][0]["expect_sha256"] == sha(xml("org_enforced.xml"))
    got = collections(written)
    assert got[2] == ("Exe", "Enabled", ORG_EXE_IDS + OUR_EXE_IDS)
    assert got[0] == ("Appx", "Enabled", ["a9e18c21-ff8f-43cf-b9fc-db40eed693ba"])
    assert got[3] == ("Msi", "AuditOnly", ["b7af7102-efde-4369-8a89-7a6a392d1473", "5b290184-345a-4453-b184-45305f6d9a54",
                                           "64ad46ff-0d71-4fa0-a30b-3f3d30c5433d"])
    before, after = rules_by_id(xml("org_enforced.xml")), rules_by_id(written)
    for rid, element in before.items():
        assert ET.tostring(after[rid]) == ET.tostring(element), "rule %s of the organisation changed" % rid
    exe = [c for c in ET.fromstring(written).findall("RuleCollection") if c.get("Type") == "Exe"][0]
    assert list(exe)[-1].tag == "RuleCollectionExtensions", "the extensions must stay after the rules"
    assert ET.tostring(list(exe)[-1]) == ET.tostring(
        list(ET.fromstring(xml("org_enforced.xml")).iter("RuleCollectionExtensions"))[0])
    item = only_item(plan, "applocker")
    assert item["detail"] == "Exe: 7 rules to add; 3 rules of the organisation kept; enforcement Enabled"


def test_organisation_deny_rules_kept_and_audit_mode_kept_even_when_enabled_asked(enabled):
    plan = bp.plan_windows_blocks(enabled, host("org_deny_audit.xml"), "present", {"applocker_enforcement": "Enabled"})
    got = collections(plan["steps"][0]["xml"])
    assert got[2] == ("Exe", "AuditOnly", ["3d57af4a-6cf8-4e5b-acfc-c2c2956061fa", "0f1e1ad8-6c07-4e2a-9a48-0c4c2c2a0a11"]
                      + OUR_EXE_IDS)
    hash_rule = rules_by_id(plan["steps"][0]["xml"])["0f1e1ad8-6c07-4e2a-9a48-0c4c2c2a0a11"]
    assert hash_rule.find("Conditions/FileHashCondition/FileHash").get("SourceFileLength") == "716176"


def test_draft_rules_in_a_not_configured_collection_are_never_enforced(enabled):
    plan = bp.plan_windows_blocks(enabled, host("org_draft_pretty.xml"), "present", {"applocker_enforcement": "Enabled"})
    got = collections(plan["steps"][0]["xml"])
    assert got == [("Exe", "AuditOnly", ORG_EXE_IDS[:2] + OUR_EXE_IDS), ("Msi", "NotConfigured", [])]
    assert "never Enabled" in only_item(plan, "applocker")["detail"]


def test_domain_rules_in_the_effective_policy_forbid_allow_rest(enabled):
    state = host("empty.xml", effective="org_enforced.xml")
    plan = bp.plan_windows_blocks(enabled, state, "present", {"applocker_enforcement": "Enabled"})
    assert collections(plan["steps"][0]["xml"]) == [("Exe", "AuditOnly", OUR_EXE_IDS)]
    assert ALLOW_EXE not in plan["steps"][0]["xml"]


@pytest.mark.parametrize("local, enforcement", [
    ("empty.xml", "AuditOnly"), ("empty.xml", "Enabled"), ("not_configured.xml", "AuditOnly"),
    ("org_enforced.xml", "AuditOnly"), ("org_deny_audit.xml", "Enabled"), ("org_draft_pretty.xml", "Enabled"),
])
def test_second_run_plans_nothing(enabled, local, enforcement):
    options = {"applocker_enforcement": enforcement}
    state = host(local)
    first = bp.plan_windows_blocks(enabled, state, "present", options)
    assert len(first["steps"]) == 1
    second, dummy = rerun(first, state, enabled, options=options)
    assert second["steps"] == []
    item = only_item(second, "applocker")
    assert item["state"] == "unchanged" and item["steps"] == []


def test_enforcement_option_applies_to_a_collection_that_holds_only_our_rules(enabled):
    state = host("empty.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {"applocker_enforcement": "AuditOnly"})
    again, dummy = rerun(first, state, enabled, options={"applocker_enforcement": "Enabled"})
    assert collections(again["steps"][0]["xml"]) == [("Exe", "Enabled", OUR_EXE_IDS + [ALLOW_EXE])]
    assert only_item(again, "applocker")["detail"].endswith("enforcement Enabled (was AuditOnly)")


def test_stale_rule_of_ours_removed_and_lookalike_of_the_organisation_kept(enabled):
    stale = ('<FilePathRule Id="0b3e3c6e-1f0a-5d7e-8e44-3b0c2f9d8a11" Name="govsec.banned_software: deny Old '
             '(C:\\Old)" Description="x" UserOrGroupSid="S-1-1-0" Action="Deny"><Conditions><FilePathCondition '
             'Path="C:\\Old\\*" /></Conditions></FilePathRule>')
    theirs = ('<FilePathRule Id="6f2c0e1a-1f0a-4d7e-8e44-3b0c2f9d8a11" Name="govsec.banned_software: copied by '
              'hand" Description="x" UserOrGroupSid="S-1-1-0" Action="Deny"><Conditions><FilePathCondition '
              'Path="C:\\Hand\\*" /></Conditions></FilePathRule>')
    local = xml("org_deny_audit.xml").replace("</FileHashRule>", "</FileHashRule>" + stale + theirs)
    plan = bp.plan_windows_blocks(enabled, host(local), "present", {})
    ids = collections(plan["steps"][0]["xml"])[2][2]
    assert "0b3e3c6e-1f0a-5d7e-8e44-3b0c2f9d8a11" not in ids
    assert "6f2c0e1a-1f0a-4d7e-8e44-3b0c2f9d8a11" in ids
    assert only_item(plan, "applocker")["detail"].startswith("Exe: 7 rules to add; 1 rules to remove; 3 rules")


def test_changed_name_of_our_rule_is_rewritten(enabled):
    state = host("empty.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {})
    tampered = first["steps"][0]["xml"].replace("Remove with playbooks/unblock.yml.", "edited", 1)
    plan = bp.plan_windows_blocks(enabled, host(tampered), "present", {})
    assert len(plan["steps"]) == 1
    assert plan["steps"][0]["xml"] == first["steps"][0]["xml"]


def test_unblock_removes_only_ours(enabled):
    state = host("org_enforced.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {})
    plan, after = rerun(first, state, enabled, mode="absent")
    assert collections(plan["steps"][0]["xml"]) == collections(xml("org_enforced.xml"))
    assert ET.tostring(ET.fromstring(plan["steps"][0]["xml"])) == ET.tostring(ET.fromstring(xml("org_enforced.xml")))
    item = only_item(plan, "applocker")
    assert item["state"] == "would_remove" and item["steps"] == [0]
    assert item["entries"] == ["deepseek", "kaspersky-endpoint-agent", "kaspersky-network-agent",
                               "kaspersky-security-center", "wechat"]
    assert item["detail"] == "Exe: 7 rules to remove; 3 rules of the organisation kept; enforcement Enabled"
    gone, dummy = rerun(plan, after, enabled, mode="absent")
    assert gone["steps"] == [] and only_item(gone, "applocker")["state"] == "unchanged"


def test_unblock_without_entries_finds_our_rules_by_name_and_id(enabled):
    """The dispatcher unblocks with no entries: our rules are still recognised, their entries read back."""
    state = host("org_enforced.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {})
    plan, dummy = rerun(first, state, [], mode="absent")
    assert ET.tostring(ET.fromstring(plan["steps"][0]["xml"])) == ET.tostring(ET.fromstring(xml("org_enforced.xml")))
    item = only_item(plan, "applocker")
    assert item["entries"] == ["deepseek", "kaspersky-endpoint-agent", "kaspersky-network-agent",
                               "kaspersky-security-center", "wechat"]
    assert len(item["names"]) == 7 and item["state"] == "would_remove"
    assert bp.plan_windows_blocks([], host("org_enforced.xml"), "absent", {})["items"] == [
        only_item(bp.plan_windows_blocks([], host(), "absent", {}), "appx_deprovision")]


def test_diff_shows_the_policy_line_by_line(enabled):
    plan = bp.plan_windows_blocks(enabled, host("org_enforced.xml"), "present", {})
    diff = plan["diff"][0]
    assert diff["before_header"] == "local AppLocker policy (Get-AppLockerPolicy -Local)"
    assert diff["before"].count("\n") > 20 and diff["after"].count("\n") > diff["before"].count("\n")
    assert '    <FilePathRule Id="2b960c9d-05a3-56cf-9227-ab34382f4317"' in diff["after"]
    second, dummy = rerun(plan, host("org_enforced.xml"), enabled)
    assert second["diff"] == []


def test_unblock_of_our_own_collection_returns_it_to_not_configured(enabled):
    state = host("not_configured.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {"applocker_enforcement": "Enabled"})
    plan, dummy = rerun(first, state, enabled, mode="absent")
    assert collections(plan["steps"][0]["xml"]) == collections(xml("not_configured.xml"))
    item = only_item(plan, "applocker")
    assert "allow everything not denied (%s)" % ALLOW_EXE in item["names"]
    assert item["detail"] == "Exe: 8 rules to remove; enforcement NotConfigured (was Enabled)"


def test_unblock_works_on_an_edition_that_does_not_enforce(enabled):
    state = host("empty.xml")
    first = bp.plan_windows_blocks(enabled, state, "present", {})
    plan, dummy = rerun(first, dict(state, edition={"edition_id": "Core"}, appidsvc=None), enabled, mode="absent")
    assert only_item(plan, "applocker")["state"] == "would_remove"


def test_unblock_without_our_rules_plans_nothing(enabled):
    plan = bp.plan_windows_blocks(enabled, host("org_enforced.xml"), "absent", {})
    assert plan["steps"] == []
    item = only_item(plan, "applocker")
    assert item["state"] == "unchanged" and item["detail"] == "no rule of govsec.banned_software in the local policy"


def entry(eid, signatures, product=None):
    return Entry("test", {"id": eid, "vendor": "V", "product": product or eid.upper(), "policies": ["p1"],
                          "references": [{"url": "https://example.org/"}], "signatures": signatures})


def test_appx_publisher_rules_join_the_organisations_appx_collection():
    ents = [entry("app", {"windows": {"appx": [{"name": "Contoso.App_8wekyb3d8bbwe"}]}})]
    options = {"appx_publishers": {"Contoso.App_8wekyb3d8bbwe": MS_PUBLISHER}}
    plan = bp.plan_windows_blocks(ents, host("org_enforced.xml"), "present", options)
    rule = br.applocker_rules(ents, "all", options["appx_publishers"])["rules"][0]
    got = collections(plan["steps"][0]["xml"])
    assert got[0] == ("Appx", "Enabled", ["a9e18c21-ff8f-43cf-b9fc-db40eed693ba", rule["id"]])
    assert got[2][2] == ORG_EXE_IDS
    assert only_item(plan, "applocker")["names"] == [MS_PUBLISHER + " / Contoso.App"]


def test_no_applocker_item_when_nothing_is_blockable_by_applocker():
    ents = [entry("regex", {"windows": {"registry": [{"name_regex": "X.*"}]}})]
    plan = bp.plan_windows_blocks(ents, host("empty.xml"), "present", {})
    assert plan == {"steps": [], "items": [], "diff": [], "not_blockable": [
        {"entry": "regex", "source": "registry", "identifier": None,
         "reason": "an uninstall key name is neither a signer nor a path"}]}


def test_collector_hash_is_the_expected_hash(enabled):
    state = host("empty.xml", applocker_local_sha256="A" * 64)
    assert bp.plan_windows_blocks(enabled, state, "present", {})["steps"][0]["expect_sha256"] == "a" * 64


def test_executor_fields_keep_the_policy(enabled):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml"), "present", {})
    steps = [dict(s, id=i + 1) for i, s in enumerate(plan["steps"])]
    assert executor_steps(steps, "windows") == steps


# --- availability ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("edition, installation, all_editions, missing", [
    ("Enterprise", "Client", False, None),
    ("EnterpriseS", "Client", False, None),
    ("Education", "Client", False, None),
    ("IoTEnterprise", "Client", False, None),
    ("ServerStandard", "Server", False, None),
    ("ServerDatacenter", "Server Core", False, None),
    ("Professional", "Client", False, "edition Professional (Windows 11 Professional) does not enforce AppLocker"),
    ("Core", "Client", False, "edition Core (Windows 11 Core) does not enforce AppLocker"),
    ("Core", "Client", True, None),
])
def test_editions(enabled, edition, installation, all_editions, missing):
    state = host("empty.xml", edition=edition)
    state["edition"]["installation_type"] = installation
    plan = bp.plan_windows_blocks(enabled, state, "present", {"applocker_all_editions": all_editions})
    item = only_item(plan, "applocker")
    if missing is None:
        assert item["state"] == "would_apply"
    else:
        assert item["state"] == "unavailable" and item["steps"] == []
        assert item["detail"].startswith("not written: " + missing)
        assert [s["kind"] for s in plan["steps"]] == []


@pytest.mark.parametrize("service, state_expected, text", [
    (None, "unavailable", "the Application Identity service (AppIDSvc) does not exist"),
    (("Stopped", "Manual"), "unavailable", "AppIDSvc) is Stopped with start type Manual"),
    (("Stopped", "Disabled"), "unavailable", "is Stopped with start type Disabled"),
    (("Running", "Manual"), "would_apply", "AppIDSvc runs but starts Manual"),
    (("Stopped", "Automatic"), "would_apply", "enforcement AuditOnly (was NotConfigured)"),
])
def test_appidsvc(enabled, service, state_expected, text):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml", service=service), "present", {})
    item = only_item(plan, "applocker")
    assert item["state"] == state_expected
    assert text in item["detail"]


def test_missing_cmdlets_and_missing_block_state(enabled):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml", applocker_cmdlets=False), "absent", {})
    item = only_item(plan, "applocker")
    assert item["state"] == "unavailable"
    assert item["detail"] == "not written: the AppLocker cmdlets (Get-/Set-AppLockerPolicy) are not available"
    plan = bp.plan_windows_blocks(enabled, None, "present", {})
    assert plan["steps"] == []
    assert set(i["state"] for i in plan["items"]) == {"unavailable"}
    assert only_item(plan, "applocker")["detail"] == \
        "not written: the collector returned no block state (win_collect without block_state)"
    assert plan["items"][1]["detail"] == ("provisioned packages cannot be read: the collector returned no block "
                                          "state (win_collect without block_state)")


@pytest.mark.parametrize("options, message", [
    ({"applocker_enforcement": "Audit"}, "banned_software_applocker_enforcement must be one of AuditOnly, Enabled"),
    ({"applocker_mode": "hash"}, "banned_software_applocker_mode must be one of"),
    ({"applocker_all_editions": "yes"}, "banned_software_applocker_all_editions must be true or false"),
])
def test_bad_options(enabled, options, message):
    with pytest.raises(ValueError, match=message):
        bp.plan_windows_blocks(enabled, host(), "present", options)
    with pytest.raises(ValueError, match="block mode must be present or absent"):
        bp.plan_windows_blocks(enabled, host(), "enforce", {})


# --- hostile XML ------------------------------------------------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE AppLockerPolicy [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
          '<AppLockerPolicy Version="1"><RuleCollection Type="Exe" EnforcementMode="NotConfigured">&b;'
          '</RuleCollection></AppLockerPolicy>')
EXTERNAL = ('<!DOCTYPE AppLockerPolicy [<!ENTITY x SYSTEM "file:///etc/passwd">]><AppLockerPolicy Version="1">'
            '<RuleCollection Type="Exe" EnforcementMode="NotConfigured" Name="&x;" /></AppLockerPolicy>')


@pytest.mark.parametrize("text, message", [
    (LAUGHS, "holds a DTD, entity, comment or CDATA section"),
    (EXTERNAL, "holds a DTD, entity, comment or CDATA section"),
    ('<AppLockerPolicy Version="1"><!-- x --></AppLockerPolicy>', "holds a DTD, entity, comment or CDATA"),
    ('<AppLockerPolicy Version="1">' + " " * bp.MAX_POLICY_CHARS + "</AppLockerPolicy>", "more than 4194304"),
    ('<Policy Version="1" />', "the root element is 'Policy', not AppLockerPolicy"),
    ('<x:AppLockerPolicy xmlns:x="urn:x" />', "not AppLockerPolicy"),
    ('<AppLockerPolicy Version="1"><RuleCollection Type="Exe">', "is not well-formed XML"),
    ('<AppLockerPolicy Version="1"><RuleCollection Type="Exe" /><RuleCollection Type="Exe" /></AppLockerPolicy>',
     "lists a rule collection twice"),
])
def test_hostile_local_policy_is_never_merged(enabled, text, message):
    for mode in ("present", "absent"):
        plan = bp.plan_windows_blocks(enabled, host(text), mode, {})
        item = only_item(plan, "applocker")
        assert plan["steps"] == [] and item["state"] == "unavailable"
        assert message in item["detail"] and item["detail"].startswith("not written: the local AppLocker policy")


def test_hostile_or_unreadable_effective_policy_blocks_only_present(enabled):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml", effective=EXTERNAL), "present", {})
    assert only_item(plan, "applocker")["detail"].startswith("not written: the effective AppLocker policy holds a DTD")
    state = host("empty.xml", applocker_effective_error="the policy has 5000000 characters, more than 4194304")
    plan = bp.plan_windows_blocks(enabled, state, "present", {})
    assert only_item(plan, "applocker")["detail"] == ("not written: the effective AppLocker policy cannot be read: "
                                                      "the policy has 5000000 characters, more than 4194304")
    assert only_item(bp.plan_windows_blocks(enabled, state, "absent", {}), "applocker")["state"] == "unchanged"


def test_parse_policy_accepts_bom_declaration_and_blank():
    assert bp.parse_policy(u"\ufeff<?xml version=\"1.0\" encoding=\"utf-16\"?>" + xml("empty.xml"), "p").tag == \
        "AppLockerPolicy"
    assert ET.tostring(bp.parse_policy("  ", "p")) == b'<AppLockerPolicy Version="1" />'
    assert ET.tostring(bp.parse_policy(None, "p")) == b'<AppLockerPolicy Version="1" />'
    with pytest.raises(bp.PolicyXmlError, match="p is not text"):
        bp.parse_policy(b"<AppLockerPolicy/>", "p")


# --- AppX deprovisioning --------------------------------------------------------------------------------

def package(name, publisher_id=None):
    match = name.split("_")
    return {"display_name": match[0], "package_name": name, "version": match[1] if len(match) > 1 else "",
            "publisher_id": publisher_id if publisher_id is not None else match[-1]}


PROVISIONED = [
    package("TencentWeChatLimited.forWindows10_3.9.12.51_x86__sdtnhv12zgd7a"),
    package("TencentWeChatLimited.forWindows10_3.9.10.19_x64__sdtnhv12zgd7a"),
    package("tencentwechatlimited.forwindows10_3.9.8.1_neutral_~_sdtnhv12zgd7a"),    # same family, other case
    package("TencentWeChatLimited.forWindows10Beta_1.0.0.0_x64__sdtnhv12zgd7a"),     # lookalike: longer name
    package("TencentWeChatLimited.forWindows1_1.0.0.0_x64__sdtnhv12zgd7a"),          # lookalike: shorter name
    package("TencentWeChatLimited.forWindows10_3.9.12.51_x86__sdtnhv12zgd7b"),       # other publisher id
    package("TencentWeChatLimited.forWindows10_3.9.12.51_x86__sdtnhv12zgd7a", "8wekyb3d8bbwe"),  # inconsistent
    {"display_name": "TencentWeChatLimited.forWindows10", "package_name": WECHAT_UWP},  # family name, not full
    package("Microsoft.BingWeather_4.25.20211.0_neutral_~_8wekyb3d8bbwe"),
    {"package_name": None}, "junk",
]


def test_appx_exact_family_only(enabled):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml", appx_provisioned=PROVISIONED), "present", {})
    appx = [i for i in plan["items"] if i["mechanism"] == "appx_deprovision"]
    names = [i["names"] for i in appx]
    assert names == [["BytedancePte.Ltd.TikTok_6yccndn6064se"], ["TencentWeChatLimited.forWindows10_sdtnhv12zgd7a"],
                     ["TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a"]]
    assert [i["state"] for i in appx] == ["unchanged", "would_apply", "unchanged"]
    wechat = appx[1]
    assert wechat["entries"] == ["wechat"] and wechat["target"] == "provisioned:" + WECHAT_UWP
    assert [plan["steps"][i] for i in wechat["steps"]] == [
        {"kind": "appx_deprovision", "action": "deprovision_appx",
         "name": "TencentWeChatLimited.forWindows10_3.9.10.19_x64__sdtnhv12zgd7a"},
        {"kind": "appx_deprovision", "action": "deprovision_appx",
         "name": "TencentWeChatLimited.forWindows10_3.9.12.51_x86__sdtnhv12zgd7a"},
        {"kind": "appx_deprovision", "action": "deprovision_appx",
         "name": "tencentwechatlimited.forwindows10_3.9.8.1_neutral_~_sdtnhv12zgd7a"}]
    assert wechat["steps"] == [1, 2, 3] and plan["steps"][0]["kind"] == "applocker_policy"
    assert "not undone by unblock" in wechat["detail"]
    assert appx[0]["detail"] == "not provisioned"


def test_appx_second_run_and_unblock(enabled):
    plan = bp.plan_windows_blocks(enabled, host("empty.xml", appx_provisioned=PROVISIONED[3:]), "present", {})
    assert [s["kind"] for s in plan["steps"]] == ["applocker_policy"]
    unblock = bp.plan_windows_blocks(enabled, host("empty.xml", appx_provisioned=PROVISIONED), "absent", {})
    assert unblock["steps"] == []
    assert only_item(unblock, "appx_deprovision") == {
        "mechanism": "appx_deprovision", "target": "provisioned", "steps": [], "state": "not_supported",
        "names": ["BytedancePte.Ltd.TikTok_6yccndn6064se", WECHAT_UWP, "TencentWeChatLimited.WeChatUWP_sdtnhv12zgd7a"],
        "entries": ["tiktok", "wechat"], "detail": bp.NOT_REVERSIBLE}
    assert only_item(bp.plan_windows_blocks([], host(), "absent", {}), "appx_deprovision")["names"] == []


def test_appx_unreadable(enabled):
    state = host("empty.xml", appx_provisioned_error="Class not registered")
    state.pop("appx_provisioned")
    plan = bp.plan_windows_blocks(enabled, state, "present", {})
    appx = [i for i in plan["items"] if i["mechanism"] == "appx_deprovision"]
    assert set((i["state"], i["detail"]) for i in appx) == {
        ("unavailable", "provisioned packages cannot be read: Class not registered")}


@pytest.mark.parametrize("record, family", [
    (package("A.B_1.2.3.4_x64__8wekyb3d8bbwe"), "A.B_8wekyb3d8bbwe"),
    (package("A.B_1.2.3.4_x64__8wekyb3d8bbwe", ""), "A.B_8wekyb3d8bbwe"),
    (package("A.B_1.2.3.4_x64__8wekyb3d8bbwe", "8WEKYB3D8BBWE"), "A.B_8wekyb3d8bbwe"),
    (package("A.B_1.2.3_x64__8wekyb3d8bbwe"), None),
    (package("A.B_1.2.3.4_x64__8wekyb3d8bbwe\n"), None),
    ({"package_name": 5}, None),
])
def test_provisioned_family(record, family):
    assert bp.provisioned_family(record) == family


def test_allow_rest_rule_is_the_fixed_rule_of_the_policy_xml():
    assert br.allow_rest_rule("Exe")["id"] == ALLOW_EXE
    assert br.allow_rest_rule("Appx") == br._allow_rest("Appx")
    assert bp.ALLOW_REST_IDS == frozenset([ALLOW_EXE, br._allow_rest("Appx")["id"]])
    with pytest.raises(ValueError, match="collection must be Exe or Appx"):
        br.allow_rest_rule("Dll")
