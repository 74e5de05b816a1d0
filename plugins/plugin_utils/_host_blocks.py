# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the reinstall blocks of one host, for the remediate and block actions (docs/blocking.md).

    blocks = HostBlocks(platform, mode, args, catalog, entries, exemptions)
    plan = blocks.plan(collected, first_id)          # before the executor call
    blocks.judge(step_results, collected_after)      # after it (collected_after None: no verification scan)
    facts["blocks"] = blocks.result()

The host result's ``blocks``: ``{"prevent_reinstall", "mode", "items", "not_blockable", "skipped",
"steps", "results", "detail"}`` (items and not_blockable as in the contract; ``skipped`` the entries not
blocked on this host with the reason; ``steps`` the planned executor steps; ``results`` what the
executor reported for them).
"""

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.planner import (
    BlockError, blocked_entries, judge_blocks, plan_blocks, validate_overrides,
)

BLOCK_SPEC = dict(
    prevent_reinstall=dict(type="bool", default=True),
    prevent_reinstall_entries=dict(type="dict", default={}),
    applocker_enforcement=dict(type="str", default="AuditOnly", choices=["AuditOnly", "Enabled"]),
    applocker_all_editions=dict(type="bool", default=False),
)


def check_block_args(args, catalog):
    """Raise BlockError for variable errors (unknown entry ids, non-boolean values)."""
    validate_overrides(args.get("prevent_reinstall_entries"), set(e.id for e in catalog.entries))


class HostBlocks:

    def __init__(self, platform, mode, args, catalog, entries, exemptions):
        self.platform = platform
        self.mode = mode
        self.prevent = bool(args.get("prevent_reinstall", True)) if mode == "present" else True
        if mode == "present":
            self.blocked, self.skipped = blocked_entries(entries, exemptions, self.prevent,
                                                         args.get("prevent_reinstall_entries") or {})
        else:
            self.blocked, self.skipped = [], []
        if not self.prevent:
            self.skipped = []
        policies = sorted(set(p for e in self.blocked for p in e.policies))
        self.options = {"header": {"catalog_version": catalog.version, "policies": policies},
                        "applocker_enforcement": args.get("applocker_enforcement") or "AuditOnly",
                        "applocker_all_editions": bool(args.get("applocker_all_editions", False))}
        self.planned = {"steps": [], "items": [], "not_blockable": [], "diff": []}
        self.items = []
        self.results = []
        self.detail = None if self.prevent else "banned_software_prevent_reinstall is false: no block was planned"

    @property
    def active(self):
        return self.prevent

    def plan(self, collected, first_id):
        """Plan the blocks from the collector result; returns the planned dict (steps have ids)."""
        if not self.prevent:
            return self.planned
        options = dict(self.options, first_id=first_id)
        self.planned = plan_blocks(self.platform, self.blocked, (collected or {}).get("block_state") or {},
                                   self.mode, options)
        self.items = [dict(i) for i in self.planned["items"]]
        return self.planned

    def replan(self, collected_after):
        options = dict(self.options, first_id=1)
        return plan_blocks(self.platform, self.blocked, (collected_after or {}).get("block_state") or {},
                           self.mode, options)

    def cancel(self, reason):
        """Nothing is done (the circuit breaker tripped): no step, no item."""
        self.planned = {"steps": [], "items": [], "not_blockable": self.planned.get("not_blockable") or [],
                        "diff": []}
        self.items = []
        self.detail = reason

    def judge(self, step_results, collected_after):
        ids = set(s["id"] for s in self.planned["steps"])
        self.results = [r for r in step_results or [] if isinstance(r, dict) and r.get("id") in ids]
        after = self.replan(collected_after) if collected_after is not None else None
        self.items = judge_blocks(self.items, self.results, after)

    def failed_items(self):
        return [i for i in self.items if i.get("state") == "failed"]

    def result(self):
        out = {"prevent_reinstall": self.prevent, "mode": self.mode, "items": self.items,
               "not_blockable": self.planned.get("not_blockable") or [], "skipped": self.skipped,
               "steps": self.planned.get("steps") or [], "results": self.results}
        if self.detail:
            out["detail"] = self.detail
        return out


__all__ = ["BLOCK_SPEC", "BlockError", "HostBlocks", "check_block_args"]
