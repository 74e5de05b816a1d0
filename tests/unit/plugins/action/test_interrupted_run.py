# -*- coding: utf-8 -*-
"""A remediation that died half-way, as the next scans see it (the collector's ``run_state``).

``JournalHost`` is the local-fact host plus the executor's journal: the collector reports it as the real one
does (``interrupted_run`` when the last run died, ``running`` while a run holds the lock), and an executor call
reports the dead run and closes the journal, as ``run_guarded`` does. Proved: the audit states it (one call,
nothing changed); a remediation with nothing left to remove still closes the journal (one executor call with no
step) so that later scans stop reporting it; what the dead run removed enters the local fact's removal history
once, with the time its journal gives; check mode makes no executor call; hostile records are cut to their
known, typed fields.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_run_state import (
    clean_interrupted, collected_run_state, removed_by_dead_run)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.local_fact import fact_record
from ansible_collections.govsec.banned_software.tests.unit.plugins.action.test_local_fact_round_trips import (
    FactHost, audit, clean_records, remediate)
from ansible_collections.govsec.banned_software.tests.unit.plugins.action.test_remediate import COLLECT, EXECUTE

WECHAT = "dpkg|machine|wechat|/var/lib/dpkg/status"
DEAD = {"run_id": "20261201T090000Z", "pid": 4242, "started": "2026-12-01T09:00:01Z",
        "updated": "2026-12-01T09:00:09Z",
        "steps_done": [{"id": 1, "status": "changed", "at": "2026-12-01T09:00:05Z", "findings": [WECHAT]},
                       {"id": 2, "status": "failed", "at": "2026-12-01T09:00:07Z",
                        "findings": ["file|machine|/opt/kaspersky|/opt/kaspersky"]}],
        "step_interrupted": 3, "steps_not_run": [4],
        "detail": "the previous run (20261201T090000Z, pid 4242, started 2026-12-01T09:00:01Z) ended before it "
                  "finished: 2 of 4 steps done, interrupted in step 3"}


class JournalHost(FactHost):
    """``run_state``: what the collector reports (None: the last run finished)."""

    def __init__(self, run_state=None, **kwargs):
        FactHost.__init__(self, **kwargs)
        self.run_state = run_state

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        result = FactHost.__call__(self, module_name, module_args, task_vars, **kwargs)
        if module_name == COLLECT and not result.get("failed"):
            result["run_state"] = copy.deepcopy(self.run_state)
        elif module_name == EXECUTE and self.run_state and "interrupted_run" in self.run_state:
            # The executor, under the lock, reports the dead run and replaces its journal with its own.
            result.update(interrupted_run=self.run_state["interrupted_run"],
                          run_warnings=[self.run_state["interrupted_run"]["detail"]])
            self.run_state = None
        return result


def test_the_audit_reports_a_dead_run_in_its_one_call_and_changes_nothing():
    host = JournalHost(run_state={"interrupted_run": DEAD}, records=clean_records())
    result, written = audit(host, local_fact=False)
    assert host.modules() == [COLLECT] and written is None and result["changed"] is False
    assert result["interrupted_run"]["run_id"] == DEAD["run_id"]
    assert result["interrupted_run"]["steps_done"] == DEAD["steps_done"]
    assert DEAD["detail"] + "; the next remediation finishes the job" in result["scan_warnings"]


def test_the_audit_names_a_remediation_running_now():
    holder = {"pid": 77, "started": "2026-12-01T09:00:01Z", "run_id": "20261201T090000Z"}
    host = JournalHost(run_state={"running": holder}, records=clean_records())
    result, dummy = audit(host, local_fact=False)
    assert "interrupted_run" not in result
    assert ("a remediation is running on this host now (pid 77, started 2026-12-01T09:00:01Z, run 20261201T090000Z): "
            "this scan may see the host half-way through it") in result["scan_warnings"]


def test_nothing_left_to_remove_still_closes_the_dead_runs_journal_and_keeps_its_removals():
    host = JournalHost(run_state={"interrupted_run": DEAD}, records=clean_records())
    result = remediate(host)
    # collect; the empty executor call that closes the journal; the local fact's own call.
    assert host.modules() == [COLLECT, EXECUTE, EXECUTE]
    assert host.calls[1][1]["steps"] == []
    assert result["remediation"]["interrupted_run"]["run_id"] == DEAD["run_id"]
    assert result["status"] == "compliant" and not result.get("failed")
    removals = dict((r["key"], r["removed_at"]) for r in host.record()["removals"])
    # Step 1 changed the host and wechat is gone: removed then. Step 2 failed: nothing recorded of it.
    assert removals == {WECHAT: "2026-12-01T09:00:05Z"}
    # The next run: nothing to report, nothing to write, the history unchanged (never twice).
    host.calls = []
    again = remediate(host)
    assert host.modules() == [COLLECT] and again["changed"] is False
    assert "interrupted_run" not in again and "interrupted_run" not in again["remediation"]
    assert dict((r["key"], r["removed_at"]) for r in host.record()["removals"]) == removals


def test_check_mode_reports_the_dead_run_without_an_executor_call():
    host = JournalHost(run_state={"interrupted_run": DEAD}, records=clean_records())
    result = remediate(host, check_mode=True)
    assert host.modules() == [COLLECT]
    assert result["interrupted_run"]["run_id"] == DEAD["run_id"]
    assert host.run_state == {"interrupted_run": DEAD}


def test_a_removal_run_records_the_dead_runs_removals_in_the_fact_it_writes():
    gone = "file|machine|/opt/wechat-old|/opt/wechat-old"
    dead = dict(DEAD, steps_done=[{"id": 1, "status": "changed", "at": "2026-12-01T09:00:05Z", "findings": [gone, WECHAT]}])
    host = JournalHost(run_state={"interrupted_run": dead})
    result = remediate(host)
    # No extra call: the fact the removal's executor call writes already holds the dead run's removals.
    assert host.modules() == [COLLECT, EXECUTE, COLLECT]
    assert result["remediation"]["interrupted_run"]["run_id"] == DEAD["run_id"]
    removals = dict((r["key"], r["removed_at"]) for r in host.record()["removals"])
    # What the dead run removed for good, at its time; wechat was found again (its step had not finished the
    # job) and this run removed it, at this run's time.
    assert removals[gone] == "2026-12-01T09:00:05Z"
    assert removals[WECHAT] == result["remediation"]["executed_at"]


# -- the record, as host data ---------------------------------------------------------------------

def test_a_hostile_record_keeps_only_known_typed_bounded_fields():
    hostile = {"run_id": ["x"], "pid": True, "started": "yesterday", "updated": "2026-12-01T09:00:09Z",
               "steps_done": [{"id": "1", "status": "changed"}, {"id": 2, "status": "exploded"}, "junk",
                              {"id": 3, "status": "changed", "at": "now", "findings": ["k", 5, "x" * 5000] + ["y"] * 100},
                              {"id": 4, "status": "ok", "argv": ["/bin/sh"]}],
               "step_interrupted": "3", "steps_not_run": [5, "6", None], "detail": "d" * 5000, "extra": {"a": 1}}
    clean = clean_interrupted(hostile)
    assert clean == {"run_id": None, "pid": None, "started": None, "updated": "2026-12-01T09:00:09Z",
                     "steps_done": [{"id": 3, "status": "changed", "findings": ["k"] + ["y"] * 61},
                                    {"id": 4, "status": "ok"}],
                     "step_interrupted": None, "steps_not_run": [5], "detail": "d" * 1024}
    assert clean_interrupted("junk") is None
    assert clean_interrupted({"steps_done": "junk"})["steps_done"] == []


def test_collected_run_state_of_odd_collector_results():
    assert collected_run_state({}) == (None, [])
    assert collected_run_state({"run_state": None}) == (None, [])
    assert collected_run_state({"run_state": ["x"]}) == (
        None, ["collector returned run_state as list instead of a mapping; ignored"])
    assert collected_run_state({"run_state": {"running": "junk"}})[1] == [
        "a remediation is running on this host now (unknown run): this scan may see the host half-way through it"]
    record, warnings = collected_run_state({"run_state": {"interrupted_run": {}}})
    assert record["detail"] == "the previous remediation ended before it finished"
    assert warnings == ["the previous remediation ended before it finished; the next remediation finishes the job"]


def test_removed_by_dead_run_skips_what_is_found_again_and_steps_without_a_time():
    record = clean_interrupted(dict(DEAD, updated=None, started=None, steps_done=[
        {"id": 1, "status": "changed", "at": "2026-12-01T09:00:05Z", "findings": ["a", "b", "c"]},
        {"id": 2, "status": "changed", "findings": ["d"]}]))
    findings = [{"key": "a"}, {"key": "b", "outcome": "removed"}, {"key": "c", "outcome": "failed"}]
    assert removed_by_dead_run(record, findings) == [{"key": "b", "removed_at": "2026-12-01T09:00:05Z"}]
    assert removed_by_dead_run(None, findings) == []


def test_the_fact_record_is_the_same_however_often_the_dead_run_is_merged():
    report = {"status": "compliant", "scanned_at": "2026-12-02T00:00:00Z", "findings": [], "interrupted_run": DEAD}
    first = fact_record(report)
    assert first["removals"] == [{"key": WECHAT, "removed_at": "2026-12-01T09:00:05Z"}]
    assert fact_record(report, first) == first
    # A later removal of the same key moves its time; the dead run's older one never comes back.
    later = dict(first, removals=[{"key": WECHAT, "removed_at": "2026-12-03T00:00:00Z"}])
    assert fact_record(report, later)["removals"] == [{"key": WECHAT, "removed_at": "2026-12-03T00:00:00Z"}]
