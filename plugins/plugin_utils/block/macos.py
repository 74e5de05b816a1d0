# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the macOS part of "keep it gone" (reinstall blocks, docs/blocking.md): nothing is written on the host.

    plan = plan_macos_blocks(entries, state, mode, options)   # {"steps": [], "items", "not_blockable"}

macOS has no local mechanism that refuses an installation without MDM: Gatekeeper and XProtect are
Apple's, a configuration profile that blocks apps (or Santa's rules) comes from an MDM server, and a
locally installed profile can be removed by the user it was meant to stop. So every blocked entry
that has macOS identifiers gets one item with the state ``needs_mdm`` and no step; the detail points
at the export for MDM and Santa administrators (``playbooks/export_block_rules.yml`` writes
``macos-block-rules.json`` from ``rules.mdm_export``). Unblock has nothing to undo on the host.
``state`` and ``options`` are not used.
"""

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.rules import mdm_export

EXPORT = "macos-block-rules.json (playbooks/export_block_rules.yml)"
TARGET = "mdm"


def plan_macos_blocks(entries, state, mode, options):
    """One ``needs_mdm`` item per entry with macOS identifiers (see the module docstring)."""
    if mode not in ("present", "absent"):
        raise ValueError("block mode must be present or absent, got %r" % (mode,))
    del state, options
    exported = mdm_export(entries)
    refused = [n for entry_id in sorted(exported) for n in exported[entry_id]["not_exportable"]]
    if mode == "absent":
        # The dispatcher unblocks without entries: one item says that there is nothing to undo here.
        return {"steps": [], "not_blockable": [], "items": [{
            "mechanism": "mdm", "target": TARGET, "names": sorted(set(n for f in exported.values() for n in _names(f))),
            "entries": sorted(exported), "state": "needs_mdm", "steps": [],
            "detail": "nothing was written on this host; remove the rules from your MDM or Santa configuration "
                      "for what is no longer banned"}]}
    items = []
    for entry_id in sorted(exported):
        found = exported[entry_id]
        what = []
        if found["bundle_ids"]:
            what.append("bundle ids")
        if found["team_ids"]:
            what.append("team ids")
        if found["santa_rules"]:
            what.append("%d Santa rules" % len(found["santa_rules"]))
        detail = ("macOS has no local install block without MDM: deploy the %s of %s with your MDM or Santa"
                  % (" and ".join(what) or "identifiers", EXPORT))
        if found["not_exportable"]:
            detail += "; %d identifiers are regular expressions and cannot be exported" % len(found["not_exportable"])
        items.append({"mechanism": "mdm", "target": TARGET, "names": _names(found), "entries": [entry_id],
                      "state": "needs_mdm", "detail": detail, "steps": []})
    return {"steps": [], "items": items, "not_blockable": refused}


def _names(found):
    return found["bundle_ids"] + ["team:%s" % t for t in found["team_ids"]]
