# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the collector's ``run_state`` (the executor's journal and run lock, read in the scan's call) as
the host result states it (docs/usage.md, "When things go wrong").

* ``interrupted_run``: the last remediation died before it finished. The host result carries the record
  (``interrupted_run``) and a warning; the next remediation finishes the job (the executor closes the
  journal even when nothing is left to remove), and the local fact records what the dead run removed
  (``report/local_fact.py``).
* ``running``: a remediation is running on the host at this moment: a warning (the scan may see the host
  half-way through it).

The record is host data: only the known fields, with their types and bounded sizes, are kept.
"""

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import is_timestamp

MAX_TEXT = 1024
MAX_STEPS = 1000
MAX_KEYS = 64
STATUSES = ("changed", "ok", "absent", "failed", "skipped")


def _text(value, limit=MAX_TEXT):
    return value[:limit] if isinstance(value, str) else None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value):
    return value if is_timestamp(value) else None


def _done(item):
    if not isinstance(item, dict) or _int(item.get("id")) is None or item.get("status") not in STATUSES:
        return None
    out = {"id": item["id"], "status": item["status"]}
    if _time(item.get("at")):
        out["at"] = item["at"]
    keys = item.get("findings")
    if isinstance(keys, list):
        out["findings"] = [k for k in keys[:MAX_KEYS] if isinstance(k, str) and 0 < len(k) <= MAX_TEXT]
    return out


def clean_interrupted(record):
    """The known fields of an ``interrupted_run`` record, typed and bounded; None when it is not a mapping."""
    if not isinstance(record, dict):
        return None
    done = [d for d in (_done(item) for item in (record.get("steps_done") or [])[:MAX_STEPS]
                        if isinstance(record.get("steps_done"), list)) if d]
    not_run = record.get("steps_not_run")
    return {
        "run_id": _text(record.get("run_id")), "pid": _int(record.get("pid")),
        "started": _time(record.get("started")), "updated": _time(record.get("updated")),
        "steps_done": done, "step_interrupted": _int(record.get("step_interrupted")),
        "steps_not_run": [i for i in not_run[:MAX_STEPS] if _int(i) is not None] if isinstance(not_run, list) else [],
        "detail": _text(record.get("detail")) or "the previous remediation ended before it finished",
    }


def collected_run_state(collected):
    """``(interrupted_run, warnings)`` from a collector result: the cleaned record (or None) and what the
    host result says of it."""
    state = collected.get("run_state") if isinstance(collected, dict) else None
    if state is None:
        return None, []
    if not isinstance(state, dict):
        return None, ["collector returned run_state as %s instead of a mapping; ignored" % type(state).__name__]
    if "running" in state:
        holder = state["running"] if isinstance(state["running"], dict) else {}
        known = [("pid", _int(holder.get("pid"))), ("started", _time(holder.get("started"))),
                 ("run", _text(holder.get("run_id"), 64))]
        who = ", ".join("%s %s" % (name, value) for name, value in known if value is not None) or "unknown run"
        return None, ["a remediation is running on this host now (%s): this scan may see the host half-way "
                      "through it" % who]
    record = clean_interrupted(state.get("interrupted_run"))
    if record is None:
        return None, []
    return record, ["%s; the next remediation finishes the job" % record["detail"]]


def removed_by_dead_run(record, findings):
    """Removal items (``key``, ``removed_at``) for what the dead run of ``record`` removed: the finding keys of
    its steps that changed the host and that no finding of this scan still holds (found now, not removed)."""
    if not isinstance(record, dict):
        return []
    present = set(f.get("key") for f in findings if isinstance(f, dict)
                  and f.get("outcome") not in ("removed", "already_absent"))
    items = []
    for step in record.get("steps_done") or []:
        at = step.get("at") or record.get("updated") or record.get("started")
        if step.get("status") != "changed" or not is_timestamp(at):
            continue
        items.extend({"key": key, "removed_at": at} for key in step.get("findings") or [] if key not in present)
    return items
