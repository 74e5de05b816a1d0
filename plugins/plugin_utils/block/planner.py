# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: "keep it gone" (reinstall blocks, docs/blocking.md) - which entries a host blocks, the block steps, and
their outcome.

Pure functions (no I/O), shared by the remediate and block actions; docs/blocking.md has the decisions.

    blocked, skipped = blocked_entries(entries, exemptions, global_flag, overrides)
    plan = plan_blocks(platform, blocked, state, mode, options)
    items = judge_blocks(plan["items"], step_results, after)     # after: plan_blocks on the new state

* ``blocked_entries``: an enabled entry is blocked when its effective flag is true and no live
  exemption of this host names it. Effective flag: ``overrides[entry id]`` (the variable
  ``banned_software_prevent_reinstall_entries``) when given, else the catalog field ``prevent_reinstall``
  (default true); ``global_flag`` false (``banned_software_prevent_reinstall``) blocks nothing.
  ``skipped`` lists ``{"entry", "reason"}`` for the others.
* ``plan_blocks``: ``state`` is the collector's ``block_state`` of the host; ``mode`` ``present`` (block
  ``entries``) or ``absent`` (remove every block this collection wrote; ``entries`` unused). The platform
  part (``planner_for``: ``plan_<os>_blocks(entries, state, mode, options)``) returns ``{"steps", "items"}``
  (and may add ``not_blockable`` and ``diff``). Its steps have no ids; a step's ``requires`` and an item's
  ``steps`` are indexes into its list. Here the steps get ids from ``options["first_id"]`` on (after the
  removal steps of the same executor call) and indexes become ids. Returns ``{"steps", "items",
  "not_blockable", "diff"}``.
* ``judge_blocks``: an item whose steps ran is ``applied`` (or ``removed``) when none failed and the
  re-plan against the verification scan's state (``after``, the result of ``plan_blocks`` on it) has
  nothing left to do for that mechanism and target, else ``failed`` with the reason. ``after`` None (no
  verification scan: the block action) judges from the step results alone.

Item: ``{"mechanism", "target", "names", "entries", "state", "detail", "steps"}``, states of the
contract: ``applied``, ``unchanged``, ``would_apply``, ``removed``, ``would_remove``, ``failed``,
``unavailable``, ``not_supported``, ``needs_mdm``.
"""

import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.rules import blocked_names

MODES = ("present", "absent")
PLANNED = {"would_apply": "applied", "would_remove": "removed"}
OVERRIDES_VARIABLE = "banned_software_prevent_reinstall_entries"


class BlockError(ValueError):
    """Invalid block options (a variable error, reported before any host is changed)."""


def validate_overrides(overrides, known_ids):
    """``{entry id: bool}`` or raise BlockError naming the variable and the entry."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise BlockError("%s must map catalog entry ids to true or false, got %r" % (OVERRIDES_VARIABLE, overrides))
    unknown = sorted(str(k) for k in overrides if k not in known_ids)
    if unknown:
        raise BlockError("%s names unknown catalog entries: %s" % (OVERRIDES_VARIABLE, ", ".join(unknown)))
    for key, value in overrides.items():
        if not isinstance(value, bool):
            raise BlockError("%s[%s] must be true or false, got %r" % (OVERRIDES_VARIABLE, key, value))
    return dict(overrides)


def _live_exemption(entry_id, exemptions, today):
    live = [e for e in exemptions or [] if e.get("entry") == entry_id and e.get("expires", "") >= today]
    return max(live, key=lambda e: e["expires"]) if live else None


def blocked_entries(entries, exemptions, global_flag, overrides, today=None):
    """``(entries to block, [{"entry", "reason"}])`` for one host (see the module docstring)."""
    today = (today or datetime.datetime.now(datetime.timezone.utc).date()).isoformat()
    overrides = overrides or {}
    blocked, skipped = [], []
    for entry in entries:
        if not global_flag:
            skipped.append({"entry": entry.id, "reason": "banned_software_prevent_reinstall is false"})
            continue
        if entry.id in overrides:
            flag, origin = overrides[entry.id], OVERRIDES_VARIABLE
        else:
            flag, origin = getattr(entry, "prevent_reinstall", True), "the catalog entry's prevent_reinstall"
        if not flag:
            skipped.append({"entry": entry.id, "reason": "prevent_reinstall is false (%s)" % origin})
            continue
        exemption = _live_exemption(entry.id, exemptions, today)
        if exemption is not None:
            skipped.append({"entry": entry.id, "reason": "exempt on this host until %s: %s"
                            % (exemption["expires"], exemption.get("reason", ""))})
            continue
        blocked.append(entry)
    return blocked, skipped


def planner_for(platform):
    """The platform's ``plan_<os>_blocks`` function (imported on first use: one platform per host)."""
    if platform == "linux":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.linux import plan_linux_blocks
        return plan_linux_blocks
    if platform == "windows":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.windows import plan_windows_blocks
        return plan_windows_blocks
    if platform == "macos":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.macos import plan_macos_blocks
        return plan_macos_blocks
    raise BlockError("reinstall blocks for %s are not available in this release" % (platform,))


def _dedup(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def plan_blocks(platform, entries, state, mode, options):
    """The block steps and items of one host (see the module docstring)."""
    if mode not in MODES:
        raise BlockError("block mode must be one of %s, got %r" % (", ".join(MODES), mode))
    options = dict(options or {})
    first_id = options.get("first_id", 1)
    if isinstance(first_id, bool) or not isinstance(first_id, int) or first_id < 1:
        raise BlockError("first_id must be a whole number >= 1, got %r" % (first_id,))
    entries = list(entries) if mode == "present" else []
    part = planner_for(platform)(entries, state if isinstance(state, dict) else {}, mode, options)
    steps = []
    for index, step in enumerate(part.get("steps") or []):
        step = dict(step)
        step["id"] = first_id + index
        if "requires" in step:
            step["requires"] = [first_id + i for i in step["requires"]]
        steps.append(step)
    items = []
    for item in part.get("items") or []:
        item = dict(item)
        item["steps"] = [first_id + i for i in item.get("steps") or []]
        items.append(item)
    not_blockable = []
    if mode == "present" and platform in ("linux", "windows", "macos"):
        not_blockable = blocked_names(entries, platform)["not_blockable"]
    return {"steps": steps, "items": items,
            "not_blockable": _dedup(not_blockable + list(part.get("not_blockable") or [])),
            "diff": list(part.get("diff") or [])}


def _step_failure(ids, results):
    for sid in ids:
        result = results.get(sid)
        if result is None:
            return "step %s did not run" % sid
        if result.get("status") == "failed":
            return "step %s (%s) failed: %s" % (sid, result.get("action") or result.get("kind"), result.get("msg"))
        if result.get("status") == "skipped":
            what = result.get("action") or result.get("kind")
            return "step %s (%s) was skipped: %s" % (sid, what, result.get("msg"))
    return None


def judge_blocks(items, step_results, after):
    """Final item states after the executor ran (see the module docstring); returns new item dicts."""
    results = dict((r.get("id"), r) for r in step_results or [] if isinstance(r, dict))
    pending = {}
    if after is not None:
        for item in after.get("items") or []:
            if item.get("steps") or item.get("state") == "failed":
                pending[(item.get("mechanism"), item.get("target"))] = item
    out = []
    for item in items:
        item = dict(item)
        if item.get("state") in PLANNED:
            failure = _step_failure(item.get("steps") or [], results)
            left = pending.get((item.get("mechanism"), item.get("target")))
            if failure is None and left is not None:
                failure = "the verification scan still finds work to do: %s" % (
                    left.get("detail") or left.get("state"))
            if failure is None:
                item["state"] = PLANNED[item["state"]]
            else:
                item["state"] = "failed"
                item["detail"] = failure
        out.append(item)
    return out
