# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.remediate: scan, plan, execute, verify."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.utils.display import Display

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    PlanError, judge_outcomes, plan_removal, validate_options,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    SELECTION_SPEC, preload_builtin,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_blocks import (
    BLOCK_SPEC, BlockError, HostBlocks, check_block_args,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_execute import execute_plan
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_fact import (
    EXECUTOR_PLATFORMS, corrected, fact_step, predicted_report, write_fact)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import (
    ScanFailed, final_status, host_result, now_utc, scan_host)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import (
    VARIABLE_OPTIONS, SelectionAction,
)

display = Display()

ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    users=dict(type="list", elements="str"),
    data_policy=dict(type="str", choices=["keep", "archive", "purge"]),
    data_policies=dict(type="dict", default={}),
    purge_packages=dict(type="bool", default=False),
    remove_leftovers=dict(type="bool", default=False),
    max_removals=dict(type="int", default=25),
    protected_packages=dict(type="list", elements="str", default=[]),
    quarantine_dir=dict(type="str"),
    archive_dir=dict(type="str"),
    uninstall_secrets=dict(type="dict", default={}, no_log=True),
    lock_timeout=dict(type="int", default=300),
    step_timeout=dict(type="int", default=900),
    source_timeout=dict(type="int", default=60),
    # The local fact (docs/awx.md): kept by the executor call that removes (banned_software_local_fact).
    local_fact=dict(type="bool", default=True),
)
ARGUMENT_SPEC.update(BLOCK_SPEC)   # prevent_reinstall, prevent_reinstall_entries, applocker_enforcement
PLAN_OPTIONS = ("data_policy", "data_policies", "purge_packages", "remove_leftovers", "max_removals",
                "protected_packages", "step_timeout")


def describe_step(step):
    """One human line for --diff and the report."""
    if step["kind"] == "command":
        return "%s: %s" % (step["action"], " ".join(step["argv"]))
    if step["kind"] == "kill":
        return "%s: pids %s (%s)" % (step["action"], ",".join(str(p) for p in step["pids"]),
                                     step.get("exe") or step.get("comm") or "?")
    if step["kind"] == "archive":
        return "%s: %s -> %s" % (step["action"], ", ".join(step["paths"]), step["name"])
    target = step.get("path") or step.get("package_full_name") or step.get("name") or ""
    return "%s: %s" % (step["action"], target)


def plan_diff(findings, plan):
    """Before/after text for --diff: what is installed now and what will remain."""
    covered = plan.get("covered") or {}
    before = ["%s %s %s%s (%s)" % (f["source"], f["name"], f.get("version") or "",
                                   " " + f["path"] if f.get("path") else "", f["id"]) for f in findings]
    after = [line for f, line in zip(findings, before) if f["key"] not in covered]
    steps = ["# step %d %s" % (s["id"], describe_step(s)) for s in plan["steps"]]
    return {"before_header": "banned software found", "after_header": "after remediation",
            "before": "\n".join(before) + "\n", "after": "\n".join(steps + after) + "\n"}


# Inherited by the forked workers (see preload_builtin).
preload_builtin()


def plan_options(args, run_id):
    """The planner's options from the action's arguments."""
    options = dict((k, args[k]) for k in PLAN_OPTIONS)
    options["run_id"] = run_id
    # The planner only learns which secrets exist, never their values.
    options["uninstall_secrets"] = dict((str(k), True) for k in args["uninstall_secrets"])
    return options


class ActionModule(SelectionAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC
    ARGUMENT_ERRORS = (PlanError, BlockError)
    # Every option has its banned_software_<option> variable (the remediate role's defaults).
    VARIABLE_OPTIONS = VARIABLE_OPTIONS + tuple(k for k in ARGUMENT_SPEC if k not in VARIABLE_OPTIONS)

    def check_args(self, args, catalog):
        validate_options(plan_options(args, "check"))
        check_block_args(args, catalog)
        unknown = sorted(set(args["data_policies"]) - set(e.id for e in catalog.entries))
        if unknown:
            raise PlanError("banned_software_data_policies names unknown entries: %s" % ", ".join(unknown))

    def run_selected(self, result, args, selection, task_vars):
        catalog, entries, exemptions = selection
        host = task_vars.get("inventory_hostname", "host")
        run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        options = plan_options(args, run_id)
        by_id = dict((e.id, e) for e in entries)
        prevent = args["prevent_reinstall"]

        try:
            facts, collected, records = scan_host(self._execute_module, task_vars, args, catalog, entries, exemptions,
                                                  block_state=prevent)
        except ScanFailed as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        findings = facts["findings"]
        blocks = HostBlocks(facts["os"], "present", args, catalog, entries, exemptions)
        try:
            plan = plan_removal(facts["os"], findings, collected, by_id, options, records)
            block_plan = blocks.plan(collected, len(plan["steps"]) + 1)
        except (PlanError, BlockError, ValueError) as exc:
            result.update(failed=True, msg="cannot plan the removal and reinstall blocks: %s" % exc)
            return result
        if "machine" in (plan.get("tripped_scopes") or []):
            blocks.cancel("the circuit breaker tripped for the machine scope: no block was planned, nothing "
                          "machine-wide was changed on this host")
            block_plan = blocks.planned

        remediation = {"run_id": run_id, "plan": plan, "steps": [], "reboot_required": False,
                       "started_at": facts["scanned_at"]}
        steps = plan["steps"] + block_plan["steps"]
        changed = bool(steps)
        if self._task.diff and changed:
            diffs = ([plan_diff(findings, plan)] if plan["steps"] else []) + block_plan["diff"]
            result["diff"] = diffs[0] if len(diffs) == 1 else diffs

        if self._task.check_mode or not steps:
            judge_outcomes(findings, plan, [], None if self._task.check_mode else set(f["key"] for f in findings))
            remediation["checked_only"] = bool(self._task.check_mode)
            if facts.get("interrupted_run") and not self._task.check_mode and facts["os"] in EXECUTOR_PLATFORMS:
                self._close_journal(facts, remediation, task_vars, collected, run_id, args)
            self._finish(result, facts, remediation, changed, host, blocks, entries, facts)
            return self._keep_fact(result, args, task_vars, collected, run_id)

        # The local fact the run leaves, written in the same executor call, after every step it predicts
        # (docs/awx.md, "Local fact"); corrected after the verification scan when the run went otherwise.
        remediation["executed_at"] = now_utc()
        sent = None
        if args["local_fact"] and "machine" not in (plan.get("tripped_scopes") or []):
            sent = fact_step(facts["os"], predicted_report(facts, plan, remediation, collected), collected,
                             max(s["id"] for s in steps) + 1, requires=[s["id"] for s in steps]).step
        # Secret values go to the executor only (a no_log option there); the plan names them.
        run = {}
        step_results, error = execute_plan(self._execute_module, task_vars, facts["os"], steps + ([sent] if sent else []),
                                           run_id, collected, args, secrets=args["uninstall_secrets"], run=run)
        sent_result = next((r for r in step_results if sent and isinstance(r, dict) and r.get("id") == sent["id"]), None)
        step_results = [r for r in step_results if r is not sent_result]
        removal_ids = set(s["id"] for s in plan["steps"])
        remediation["steps"] = [r for r in step_results if isinstance(r, dict) and r.get("id") in removal_ids]
        if error and run.get("executor_lost"):
            # Killed (or its host gone) while it ran: what it did is only known from the verification scan.
            remediation["error"] = ("executor ended without a result (%s), after running none, part or all of the "
                                    "plan: %s" % (run["executor_lost"], error))
        elif error:
            remediation["error"] = "executor failed before running the plan: %s" % error
            display.warning("%s: %s" % (host, remediation["error"]))
        # The run lock, an interrupted previous run, a repaired package database (docs/usage.md,
        # "When things go wrong"): in the report, and a held run lock fails the task.
        for key in ("run_lock", "interrupted_run", "package_repair"):
            if run.get(key):
                remediation[key] = run[key]
        facts["warnings"].extend(str(w) for w in run.get("run_warnings") or [])
        if error and run.get("run_lock"):
            remediation["refused"] = True

        try:
            after, collected_after, dummy = scan_host(self._execute_module, task_vars, args, catalog, entries,
                                                      exemptions, block_state=prevent)
        except ScanFailed as exc:
            blocks.judge(step_results, None)
            result.update(failed=True, msg="removal ran but the verification scan failed: %s" % exc,
                          changed=True, remediation=remediation, blocks=blocks.result(), **exc.details)
            return self._correct_fact(facts["os"], result, task_vars, collected, run_id, args, sent, sent_result)
        try:
            blocks.judge(step_results, collected_after)
        except (BlockError, ValueError) as exc:
            blocks.judge(step_results, None)
            blocks.detail = "the verification scan's block state could not be planned: %s" % exc
        remaining = set(f["key"] for f in after["findings"])
        judge_outcomes(findings, plan, step_results, remaining)
        if remediation.get("error"):
            for finding in findings:
                if finding.get("outcome_detail") == "still present after the run":
                    finding["outcome_detail"] = remediation["error"]
        remediation["reboot_required"] = bool(collected_after.get("reboot_required"))
        remediation["verified_at"] = after["scanned_at"]
        changed = any(r.get("status") == "changed" for r in step_results)
        # Findings that appeared during the run (or were invisible before) are reported too.
        known = set(f["key"] for f in findings)
        for finding in after["findings"]:
            if finding["key"] not in known:
                if finding.get("exempt"):
                    finding["outcome"] = "skipped_exempt"
                    finding["outcome_detail"] = (finding.get("exemption") or {}).get("reason", "exempt")
                else:
                    finding["outcome"] = "failed"
                    finding["outcome_detail"] = "found by the verification scan only"
                findings.append(finding)
        self._finish(result, facts, remediation, changed, host, blocks, entries, after)
        return self._correct_fact(facts["os"], result, task_vars, collected, run_id, args, sent, sent_result)

    def _close_journal(self, facts, remediation, task_vars, collected, run_id, args):
        """Nothing left to remove, but the last remediation died half-way (its journal says so): one executor
        call with no step takes the run lock, reports that run and closes its journal, so that later scans
        stop reporting it (docs/usage.md, "When things go wrong")."""
        run = {}
        dummy, error = execute_plan(self._execute_module, task_vars, facts["os"], [], run_id, collected, args, run=run)
        for key in ("run_lock", "interrupted_run", "package_repair"):
            if run.get(key):
                remediation[key] = run[key]
        facts["warnings"].extend(str(w) for w in run.get("run_warnings") or [])
        if error:
            remediation["error"] = "the interrupted run's journal was not closed: %s" % error
            facts["warnings"].append(remediation["error"])

    def _keep_fact(self, result, args, task_vars, collected, run_id):
        """A run that sent no executor call for removal (check mode, nothing to remove): the local fact in one
        call of its own when it changes; under check mode, only whether it would."""
        if not args["local_fact"] or result.get("failed") or result.get("os") not in EXECUTOR_PLATFORMS:
            return result
        fact = fact_step(result["os"], result, collected, 1)
        if fact.warning:
            display.warning("%s: %s" % (task_vars.get("inventory_hostname", "host"), fact.warning))
        if fact.step is None:
            result["local_fact"] = {"changed": False}
        elif self._task.check_mode:
            result["local_fact"] = {"changed": True, "path": fact.step["path"]}
            result["changed"] = True
        else:
            self._write_fact(result, task_vars, run_id, args, fact.step)
        return result

    def _correct_fact(self, platform, result, task_vars, collected, run_id, args, sent, sent_result):
        """After a real run: the local fact written with the removal (``sent``), corrected to what the
        verification scan found by one more call only when the run did not go as predicted."""
        if not args["local_fact"]:
            return result
        if sent is None:
            return self._keep_fact(result, args, task_vars, collected, run_id)
        status = "failed" if result.get("failed") else result.get("status")
        fix = corrected(platform, dict(result, status=status), collected, sent, sent_result, sent["id"] + 1)
        if fix is not None:
            self._write_fact(result, task_vars, run_id, args, fix, platform)
            return result
        sent_status = sent_result.get("status") if isinstance(sent_result, dict) else None
        result["local_fact"] = {"changed": sent_status == "changed", "path": sent["path"]}
        if sent_status == "failed":
            result["local_fact"]["error"] = sent_result.get("msg")
        result["changed"] = bool(result.get("changed") or sent_status == "changed")
        return result

    def _write_fact(self, result, task_vars, run_id, args, step, platform=None):
        """One executor call that writes (or removes) the local fact."""
        status, error = write_fact(self._execute_module, task_vars, platform or result["os"], step, run_id, args)
        fact = {"changed": status == "changed", "path": step["path"]}
        if error:
            fact["error"] = error
            display.warning("%s: local fact %s not updated: %s"
                            % (task_vars.get("inventory_hostname", "host"), step["path"], error))
        result["local_fact"] = fact
        result["changed"] = bool(result.get("changed") or fact["changed"])

    def _finish(self, result, facts, remediation, changed, host, blocks, entries, final_scan):
        """``final_scan``: the scan that decides the host's state (the verification scan after a real run)."""
        findings = facts["findings"]
        counts = {}
        for finding in findings:
            counts[finding.get("outcome", "none")] = counts.get(finding.get("outcome", "none"), 0) + 1
        remaining = [f for f in findings if not f.get("exempt")
                     and f.get("outcome") not in ("removed", "already_absent")]
        if not findings or all(f.get("exempt") for f in findings):
            status = "compliant"
        elif remediation.get("checked_only"):
            status = "non_compliant"
        else:
            status = "non_compliant" if remaining else "remediated"
        # A source that could hold a banned product, read only in part: the host's state is unknown.
        status, error = final_status(status, entries, facts["os"], final_scan.get("incomplete") or {})
        remediation["outcomes"] = counts
        remediation["finished_at"] = now_utc()
        facts = dict(facts, status=status, remediation=remediation, blocks=blocks.result(),
                     incomplete=final_scan.get("incomplete") or {})
        facts.pop("error", None)
        if error:
            facts["error"] = error
            result["error"] = error
        for warning in facts["warnings"]:
            display.warning("%s: %s" % (host, warning))
        for item in blocks.failed_items():
            display.warning("%s: reinstall block %s (%s) failed: %s"
                            % (host, item["mechanism"], item["target"], item.get("detail")))
        # The registered result is the host result (banned_software_host_report), as the scan's.
        host_result(result, facts)
        result.update(changed=changed, reboot_required=remediation["reboot_required"])
        plan = remediation["plan"]
        if remediation.pop("refused", False):
            # Nothing ran: another run held the host's run lock.
            result.update(failed=True, msg=remediation["error"])
        elif "machine" in (plan.get("tripped_scopes") or []):
            # Circuit breaker (docs/design.md, "Safety"): nothing machine-wide is removed and the host fails.
            result.update(failed=True, msg=plan["tripped"])
        elif plan.get("tripped"):
            # A user's scope tripped: that scope is held back (skipped_limit), the rest ran; the host
            # stays non_compliant, and a user's files never fail the host's remediation.
            display.warning("%s: %s" % (host, plan["tripped"]))
        return result
