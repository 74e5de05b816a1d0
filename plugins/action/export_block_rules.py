# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.export_block_rules: write the reinstall-block rules of the
selected catalog for MDM, Santa and Group Policy administrators, on the controller (no host contacted)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.planner import (
    BlockError, blocked_entries,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.rules import (
    APPLOCKER_MODES, ENFORCEMENT_MODES, applocker_policy_xml, applocker_rules, mdm_export,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._atomic_write import write_atomically
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import SELECTION_SPEC
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_blocks import check_block_args
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import (
    VARIABLE_OPTIONS, SelectionAction,
)

MACOS_FILE = "macos-block-rules.json"
WINDOWS_FILE = "windows-applocker-deny.xml"
EXPORT_FORMAT = 1
ARGUMENT_SPEC = dict(
    dict((k, v) for k, v in SELECTION_SPEC.items() if k != "exemptions"),
    dest=dict(type="path", required=True),
    prevent_reinstall=dict(type="bool", default=True),
    prevent_reinstall_entries=dict(type="dict", default={}),
    applocker_enforcement=dict(type="str", choices=list(ENFORCEMENT_MODES), default="AuditOnly"),
    applocker_allow_rest=dict(type="bool", default=False),
    applocker_mode=dict(type="str", choices=list(APPLOCKER_MODES), default="all"),
    appx_publishers=dict(type="dict", default={}),
)


def macos_document(catalog_version, policies, entries):
    """The content of MACOS_FILE: per entry and merged bundle ids, team ids and Santa rules."""
    exported = mdm_export(entries)
    rules = []
    for entry_id in sorted(exported):
        for rule in exported[entry_id]["santa_rules"]:
            rule = dict(rule, custom_msg="Banned software: %s (govsec.banned_software, catalog entry %s)"
                        % (exported[entry_id]["product"], entry_id))
            if rule["identifier"] not in [r["identifier"] for r in rules]:
                rules.append(rule)
    return {
        "format": EXPORT_FORMAT,
        "generator": "govsec.banned_software export_block_rules",
        "catalog_version": catalog_version,
        "policies": sorted(policies),
        "bundle_ids": sorted(set(b for e in exported.values() for b in e["bundle_ids"])),
        "team_ids": sorted(set(t for e in exported.values() for t in e["team_ids"])),
        "santa": {"rules": sorted(rules, key=lambda r: r["identifier"])},
        "entries": exported,
        "not_exportable": [n for entry_id in sorted(exported) for n in exported[entry_id]["not_exportable"]],
    }


def _read(path):
    if os.path.islink(path):
        raise OSError("%s is a symbolic link; not written through" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return None
        raise


class ActionModule(SelectionAction):

    _requires_connection = False
    ARGUMENT_SPEC = ARGUMENT_SPEC
    ARGUMENT_ERRORS = (BlockError,)
    # The roles' variables of the same names (playbooks/export_block_rules.yml sets only dest).
    VARIABLE_OPTIONS = VARIABLE_OPTIONS + (
        "prevent_reinstall", "prevent_reinstall_entries", "applocker_enforcement", "applocker_allow_rest")

    def check_args(self, args, catalog):
        check_block_args(args, catalog)

    def run_selected(self, result, args, selection, task_vars):
        catalog, selected, dummy = selection
        entries, skipped = blocked_entries(selected, [], args["prevent_reinstall"], args["prevent_reinstall_entries"])
        try:
            windows = applocker_rules(entries, args["applocker_mode"], args["appx_publishers"])
        except ValueError as exc:
            result.update(failed=True, msg="appx_publishers: %s" % exc)
            return result
        files = [
            (MACOS_FILE, (json.dumps(macos_document(catalog.version, args["policies"], entries), indent=2,
                                     sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")),
            (WINDOWS_FILE, applocker_policy_xml(windows["rules"], args["applocker_enforcement"],
                                                args["applocker_allow_rest"]).encode("utf-8")),
        ]
        dest = args["dest"]
        report, diffs = [], []
        try:
            if os.path.islink(dest) or (os.path.exists(dest) and not os.path.isdir(dest)):
                raise OSError("%s is not a directory (or is a symbolic link)" % dest)
            for name, data in files:
                path = os.path.join(dest, name)
                before = _read(path) if os.path.isdir(dest) else None
                changed = before != data
                if changed and not self._task.check_mode:
                    if not os.path.isdir(dest):
                        os.makedirs(dest, 0o755)
                    write_atomically(path, lambda handle, data=data: handle.write(data), "wb", None, 0o644)
                report.append({"path": path, "changed": changed, "sha256": hashlib.sha256(data).hexdigest()})
                if changed:
                    diffs.append({"before_header": path, "after_header": path,
                                  "before": (before or b"").decode("utf-8", "replace"), "after": data.decode("utf-8")})
        except (IOError, OSError) as exc:
            result.update(failed=True, msg="cannot write the export to %s: %s" % (dest, exc), files=report)
            return result
        changed = any(f["changed"] for f in report)
        result.update(
            changed=changed, files=report, entries=sorted(e.id for e in entries), skipped_entries=skipped,
            applocker_rules=len(windows["rules"]), windows_not_blockable=windows["not_blockable"],
            msg="%d entries exported to %s (%d AppLocker deny rules)%s"
                % (len(entries), dest, len(windows["rules"]), "" if changed else "; files already up to date"),
        )
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result
