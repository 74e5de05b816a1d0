# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the local fact a host keeps about its last status (facts.d, see docs/awx.md).

The record changes only when the host's state changes, so that writing it is idempotent: a second
identical run (same findings, nothing removed) yields the same bytes and the copy reports no change.

* ``status`` is the host's current state: ``compliant`` or ``non_compliant``. A run that removed
  everything banned leaves the host ``compliant`` (the report's ``remediated`` describes the run,
  the fact describes the host); what the run removed is in ``last_remediation``.
* ``status_since`` is the ``scanned_at`` of the scan that first saw this state; a later scan that
  sees the same state keeps it (a per-run time would rewrite the file on every run).
* ``last_remediation`` is replaced only by a remediation that acted (ran steps on the host); a run
  with nothing to remove keeps the previous record.
* ``removals`` is the cumulative history the drift check compares with (``plugin_utils/match/drift.py``): per finding
  key (with entry id, source, name, scope, path) the last time a remediation removed it
  (``removed_at``). It is kept across later runs: a key found again stays (so the reinstall is
  reported until a remediation removes it again, which moves its ``removed_at``). At most
  ``MAX_REMOVALS`` keys, the most recently removed kept; sorted by key. Records written before this
  list existed contribute their ``last_remediation.removed`` items, and a remediation that died before
  it wrote the record contributes what its journal says it removed (``interrupted_run`` of the host
  result, ``_host_run_state.removed_by_dead_run``): merged by key, so never lost and never twice.
  Absent while empty.
* ``reinstalled``: the keys of the findings that make the host non-compliant now and that a
  remediation removed before (sorted). Absent while empty.
"""

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import (
    FACT_SCHEMA, MAX_REMOVALS, merge_removals, record_removals)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_run_state import removed_by_dead_run

__all__ = ("FACT_SCHEMA", "MAX_REMOVALS", "fact_record")

GONE = ("removed", "already_absent")


def _live(findings):
    """Findings that make a host non-compliant now: not exempt and not removed by this run."""
    return [f for f in findings if isinstance(f, dict) and f.get("exempt") is not True
            and f.get("outcome") not in GONE]


def _remediation_record(remediation, findings):
    """The record of a remediation that acted on the host, or None."""
    if not isinstance(remediation, dict) or remediation.get("checked_only") or not remediation.get("steps"):
        return None
    # executed_at: when the executor call was sent, known before it runs (the record is written in that call).
    at = (remediation.get("executed_at") or remediation.get("finished_at") or remediation.get("verified_at")
          or remediation.get("started_at"))
    items = []
    for finding in findings:
        if not isinstance(finding, dict) or finding.get("outcome") not in ("removed", "failed"):
            continue
        items.append(dict((k, finding.get(k)) for k in ("key", "id", "source", "name", "scope", "path", "outcome")
                          if finding.get(k) is not None))
    items.sort(key=lambda item: (str(item.get("key")), str(item.get("outcome"))))
    return {
        "run_id": remediation.get("run_id"),
        "at": at,
        "removed": [dict(item, at=at) for item in items if item["outcome"] == "removed"],
        "failed": [item for item in items if item["outcome"] == "failed"],
        "reboot_required": remediation.get("reboot_required") is True,
    }


def fact_record(host_report, previous=None):
    """The local fact for ``host_report`` (a scanned host's result), given the ``previous`` record."""
    scanned = ("compliant", "non_compliant", "remediated")
    if not isinstance(host_report, dict) or host_report.get("status") not in scanned:
        raise ValueError("no local fact for a host that was not scanned (status %r)"
                         % (host_report.get("status") if isinstance(host_report, dict) else None,))
    previous = previous if isinstance(previous, dict) and previous.get("schema") == FACT_SCHEMA else {}
    findings = host_report.get("findings") if isinstance(host_report.get("findings"), list) else []
    live = _live(findings)
    status = "non_compliant" if live else "compliant"
    record = {
        "schema": FACT_SCHEMA,
        "status": status,
        "catalog_version": host_report.get("catalog_version"),
        "findings": len(live),
        "exempt_findings": sum(1 for f in findings if isinstance(f, dict) and f.get("exempt") is True),
        "products": sorted(set(str(f.get("id")) for f in live)),
        "policies": sorted(set(str(p) for f in live for p in (f.get("policies") or []))),
    }
    same_state = all(previous.get(k) == record[k] for k in ("status", "findings", "products"))
    record["status_since"] = (previous.get("status_since") if same_state and previous.get("status_since")
                              else host_report.get("scanned_at"))
    acted = _remediation_record(host_report.get("remediation"), findings)
    last = acted if acted is not None else previous.get("last_remediation")
    if last:
        record["last_remediation"] = last
    removals = merge_removals(record_removals(previous)[0], _removed_now(acted),
                              removed_by_dead_run(host_report.get("interrupted_run"), findings))
    if removals:
        record["removals"] = removals
    removed_keys = set(r["key"] for r in removals)
    reinstalled = sorted(set(f["key"] for f in live if isinstance(f.get("key"), str) and f["key"] in removed_keys))
    if reinstalled:
        record["reinstalled"] = reinstalled
    return record


def _removed_now(acted):
    """The removal items of this run's remediation record (None: it did not act)."""
    if acted is None:
        return []
    items, dummy = record_removals({"last_remediation": {"removed": acted["removed"]}})
    return items
