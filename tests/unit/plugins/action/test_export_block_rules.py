# -*- coding: utf-8 -*-
"""The export_block_rules action: files from the real catalog, idempotence, check/diff mode, flags, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.action import export_block_rules as export
from ansible_collections.govsec.banned_software.plugins.doc_fragments.attributes import ModuleDocFragment
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
WINDOWS_PATHS = sorted([
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\Endpoint Agent\\*",
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\Kaspersky Security Center\\*",
    "%OSDRIVE%\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\*",
    "%OSDRIVE%\\Program Files (x86)\\Tencent\\WeChat\\*", "%OSDRIVE%\\Program Files\\Tencent\\Weixin\\*",
    "%OSDRIVE%\\Users\\*\\AppData\\Local\\Programs\\DeepSeek Harness\\*",
    "%OSDRIVE%\\Users\\*\\AppData\\Local\\Programs\\Tencent\\Weixin\\*"])


def run(args, check=False, diff=False):
    return action_runner.make_action(export, args=args, check_mode=check, diff=diff).run(task_vars={})


def files(dest):
    with open(os.path.join(dest, export.MACOS_FILE), encoding="utf-8") as handle:
        macos = json.load(handle)
    root = ET.parse(os.path.join(dest, export.WINDOWS_FILE)).getroot()
    return macos, root


def test_real_catalog_export_and_second_run(tmp_path):
    dest = str(tmp_path / "out")
    result = run({"dest": dest})
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and [f["changed"] for f in result["files"]] == [True, True]
    macos, root = files(dest)
    assert macos["bundle_ids"] == ["com.tencent.WeWorkMac", "com.tencent.xinWeChat", "com.zhiliaoapp.musically"]
    assert macos["team_ids"] == [] and macos["santa"] == {"rules": []}
    assert sorted(macos["entries"]) == ["kaspersky-macos", "tiktok", "wechat", "wecom"]
    assert macos["policies"] == ["all"] and macos["format"] == 1
    assert [n["source"] for n in macos["not_exportable"]] == ["bundle", "sysext"]
    exe, appx = root.findall("RuleCollection")
    modes = (exe.get("Type"), exe.get("EnforcementMode"), appx.get("EnforcementMode"))
    assert modes == ("Exe", "AuditOnly", "NotConfigured")
    assert sorted(c.get("Path") for c in exe.iter("FilePathCondition")) == WINDOWS_PATHS
    assert set(r.get("Action") for r in exe) == {"Deny"}
    assert result["applocker_rules"] == 7
    assert "tiktok" in [n["entry"] for n in result["windows_not_blockable"]]
    assert oct(os.stat(os.path.join(dest, export.WINDOWS_FILE)).st_mode & 0o777) == "0o644"
    stamp = os.stat(os.path.join(dest, export.MACOS_FILE))
    again = run({"dest": dest})
    assert again["changed"] is False and [f["changed"] for f in again["files"]] == [False, False]
    assert again["files"] == [dict(f, changed=False) for f in result["files"]]
    assert os.stat(os.path.join(dest, export.MACOS_FILE)).st_ino == stamp.st_ino
    assert sorted(os.listdir(dest)) == [export.MACOS_FILE, export.WINDOWS_FILE], "no temporary file left"


def test_check_mode_writes_nothing_and_diff_shows_the_files(tmp_path):
    dest = str(tmp_path / "out")
    result = run({"dest": dest}, check=True, diff=True)
    assert result["changed"] is True and not os.path.exists(dest)
    expected = [os.path.join(dest, export.MACOS_FILE), os.path.join(dest, export.WINDOWS_FILE)]
    assert [d["after_header"] for d in result["diff"]] == expected
    assert result["diff"][0]["before"] == ""
    real = run({"dest": dest})
    assert [f["sha256"] for f in real["files"]] == [f["sha256"] for f in result["files"]]
    changed = run({"dest": dest, "applocker_enforcement": "Enabled", "applocker_allow_rest": True}, check=True,
                  diff=True)
    assert [f["changed"] for f in changed["files"]] == [False, True]
    assert 'EnforcementMode="AuditOnly"' in changed["diff"][0]["before"]
    assert 'EnforcementMode="Enabled"' in changed["diff"][0]["after"]
    macos, root = files(dest)
    assert root.find("RuleCollection").get("EnforcementMode") == "AuditOnly", "check mode wrote the file"


def test_enforced_with_allow_rest(tmp_path):
    dest = str(tmp_path)
    run({"dest": dest, "applocker_enforcement": "Enabled", "applocker_allow_rest": True, "policies": ["all"]})
    exe = files(dest)[1].find("RuleCollection")
    assert exe.get("EnforcementMode") == "Enabled"
    assert [r.get("Action") for r in exe] == ["Deny"] * 7 + ["Allow"]


def test_flags_and_overrides(tmp_path):
    result = run({"dest": str(tmp_path / "a"), "prevent_reinstall_entries": {"wechat": False, "wecom": True}})
    assert "wechat" not in result["entries"] and "wecom" in result["entries"]
    assert {"entry": "wechat", "reason": "prevent_reinstall is false (banned_software_prevent_reinstall_entries)"} \
        in result["skipped_entries"]
    macos = files(str(tmp_path / "a"))[0]
    assert macos["bundle_ids"] == ["com.tencent.WeWorkMac", "com.zhiliaoapp.musically"]
    assert result["applocker_rules"] == 4
    none = run({"dest": str(tmp_path / "b"), "prevent_reinstall": False})
    assert none["entries"] == [] and none["applocker_rules"] == 0
    macos, root = files(str(tmp_path / "b"))
    assert macos["bundle_ids"] == [] and macos["entries"] == {}
    assert [c.get("EnforcementMode") for c in root.findall("RuleCollection")] == ["NotConfigured", "NotConfigured"]


def test_santa_rules_from_custom_entries(tmp_path):
    custom = [{"id": "example-app", "vendor": "Example", "product": "Example App", "policies": ["p-test"],
               "references": [{"url": "https://example.org/"}],
               "signatures": {"macos": {"bundle": [{"name": "com.example.app", "team_id": "ABCDE12345"}]}}}]
    policy = [{"id": "p-test", "title": "Test", "jurisdiction": "XX", "instrument": "Test order", "date": "2026-01-01",
               "url": "https://example.org/p"}]
    result = run({"dest": str(tmp_path), "policies": ["p-test"], "custom_entries": custom,
                  "custom_policies": policy})
    assert result.get("failed") is not True, result.get("msg")
    macos = files(str(tmp_path))[0]
    assert macos["santa"]["rules"] == [{"identifier": "ABCDE12345:com.example.app", "policy": "BLOCKLIST",
                                        "rule_type": "SIGNINGID", "custom_msg": "Banned software: Example App "
                                        "(govsec.banned_software, catalog entry example-app)"}]
    assert macos["team_ids"] == ["ABCDE12345"] and macos["policies"] == ["p-test"]
    custom[0]["prevent_reinstall"] = False
    result = run({"dest": str(tmp_path), "policies": ["p-test"], "custom_entries": custom,
                  "custom_policies": policy})
    assert result["entries"] == [] and result["skipped_entries"] == [
        {"entry": "example-app", "reason": "prevent_reinstall is false (the catalog entry's prevent_reinstall)"}]
    assert files(str(tmp_path))[0]["santa"]["rules"] == []


@pytest.mark.parametrize("args, message", [
    ({"prevent_reinstall_entries": {"nope": False}},
     "banned_software_prevent_reinstall_entries names unknown catalog entries: nope"),
    ({"prevent_reinstall_entries": {"wechat": "no"}}, "banned_software_prevent_reinstall_entries[wechat] must be"),
    ({"policies": ["no-such-policy"]}, "catalog or variable error"),
    ({"appx_publishers": {"TencentWeChatLimited.forWindows10_sdtnhv12zgd7a": "CN=Evil"}},
     "appx_publishers: appx publisher 'CN=Evil' does not hash to the publisher id"),
])
def test_errors_name_the_variable(tmp_path, args, message):
    result = run(dict(args, dest=str(tmp_path / "x")))
    assert result["failed"] is True and message in result["msg"]
    assert not os.path.exists(str(tmp_path / "x"))


def test_symbolic_links_are_refused(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    dest = tmp_path / "out"
    dest.mkdir()
    os.symlink(str(target), str(dest / export.MACOS_FILE))
    result = run({"dest": str(dest)})
    assert result["failed"] is True and "is a symbolic link; not written through" in result["msg"]
    assert target.read_text() == "keep"
    os.symlink(str(dest), str(tmp_path / "linked"))
    result = run({"dest": str(tmp_path / "linked")})
    assert result["failed"] is True and "is not a directory (or is a symbolic link)" in result["msg"]


def test_documentation_matches_the_argument_spec():
    with open(os.path.join(ROOT, "plugins", "modules", "export_block_rules.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    docs = dict((s.targets[0].id, s.value.value) for s in tree.body if isinstance(s, ast.Assign)
                and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))
    documentation = yaml.safe_load(docs["DOCUMENTATION"])
    options = dict(documentation["options"])
    # The options of the doc fragments it extends, as ansible-doc merges them.
    for fragment in documentation["extends_documentation_fragment"]:
        name = fragment.rsplit(".", 1)[-1]
        if name != "attributes":
            options.update(yaml.safe_load(getattr(ModuleDocFragment, name))["options"])
    assert "govsec.banned_software.attributes.SELECTION" in documentation["extends_documentation_fragment"]
    assert sorted(options) == sorted(export.ARGUMENT_SPEC)
    for name, spec in export.ARGUMENT_SPEC.items():
        doc = options[name]
        assert (doc.get("type", "str"), doc.get("default"), doc.get("choices"), bool(doc.get("required"))) == \
            (spec.get("type", "str"), spec.get("default"), spec.get("choices"), bool(spec.get("required"))), name
    yaml.safe_load(docs["EXAMPLES"])
    yaml.safe_load(docs["RETURN"])


def test_options_not_set_come_from_the_roles_variables(tmp_path):
    """As for the other selection actions: banned_software_<option> when the task does not set it."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    variables = {"banned_software_prevent_reinstall_entries": {"wechat": False},
                 "banned_software_applocker_enforcement": "Enabled"}
    action = action_runner.make_action(export, args={"dest": str(tmp_path / "out")},
                                       templar=Templar(loader=DataLoader()))
    result = action.run(task_vars=variables)
    assert result.get("failed") is not True, result.get("msg")
    assert "wechat" not in result["entries"] and result["entries"]
    # the report-only KVRT entry has prevent_reinstall: false in the catalog
    assert [s["entry"] for s in result["skipped_entries"]] == ["kaspersky-virus-removal-tool", "wechat"]
    assert "skipped" not in result and result["changed"] is True  # the task is not reported as skipped
    macos, root = files(str(tmp_path / "out"))
    assert "wechat" not in macos["entries"]
    modes = {c.get("EnforcementMode") for c in root.findall("RuleCollection")}
    assert "Enabled" in modes and "AuditOnly" not in modes

    variables["banned_software_policies"] = ["no-such-policy"]
    failed = action.run(task_vars=variables)
    assert failed["failed"] is True and failed["catalog_error"] is True and "no-such-policy" in failed["msg"]
