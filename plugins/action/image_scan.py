# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.image_scan: scan a mounted image, plan (never run) its removal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import PlanError, plan_removal
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    SELECTION_SPEC, preload_builtin,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._gate import (
    FAIL_ON_CHOICES, gate_message, tripping_findings,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import ScanFailed, scan_host
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import (
    VARIABLE_OPTIONS, SelectionAction,
)

OS_CHOICES = ["auto", "linux", "windows", "macos"]
ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    root=dict(type="path", required=True),
    os=dict(type="str", choices=OS_CHOICES, default="auto"),
    users=dict(type="list", elements="str"),
    source_timeout=dict(type="int", default=60),
    fail_on=dict(type="str", choices=list(FAIL_ON_CHOICES), default="never"),
)


def attach_remediation(findings, plan):
    """Give each finding ``remediation``: the plan's steps that act on it (copies), in plan order.

    A finding the plan skips (exempt, protected, circuit breaker) or cannot remove gets an empty list
    and ``remediation_note`` saying why.
    """
    steps = dict((s["id"], s) for s in plan.get("steps") or [])
    covered = plan.get("covered") or {}
    skipped = dict((s["key"], s) for s in plan.get("skipped") or [])
    unplanned = dict((u["key"], u) for u in plan.get("unplanned") or [])
    for finding in findings:
        key = finding["key"]
        ids = sorted(set(covered.get(key) or []))
        finding["remediation"] = [copy.deepcopy(steps[i]) for i in ids if i in steps]
        if key in skipped:
            finding["remediation_note"] = "%s: %s" % (skipped[key]["outcome"], skipped[key]["reason"])
        elif key in unplanned:
            finding["remediation_note"] = "unplanned: %s" % unplanned[key]["reason"]
        elif not finding["remediation"]:
            finding["remediation_note"] = "no step of its own (removed with its product's other findings)"


# Inherited by the forked workers (see preload_builtin).
preload_builtin()


class ActionModule(SelectionAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC
    VARIABLE_OPTIONS = VARIABLE_OPTIONS + ("fail_on",)

    def run_selected(self, result, args, selection, task_vars):
        catalog, entries, exemptions = selection

        scan_args = dict(args)
        try:
            # The image is a directory on the node: the POSIX collector reads it, whatever the host
            # in the inventory is (the task normally runs with delegate_to: localhost).
            facts, collected, records = scan_host(self._execute_module, task_vars, scan_args, catalog, entries,
                                                  exemptions, family="posix")
        except ScanFailed as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        image_os = facts["os"]
        if args["os"] != "auto" and args["os"] != image_os:
            result.update(failed=True, os=image_os,
                          msg="the image under %s holds a %s system, not %s (os: %s)"
                              % (args["root"], image_os, args["os"], args["os"]))
            return result

        findings = facts["findings"]
        warnings = list(facts["warnings"])
        by_id = dict((e.id, e) for e in entries)
        run_id = "image-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        plan = None
        try:
            plan = plan_removal(image_os, findings, collected, by_id, {"run_id": run_id}, records)
        except Exception as exc:  # pylint: disable=broad-except  # planning never fails the scan
            reason = str(exc) if isinstance(exc, PlanError) else "planner error %s: %s" % (type(exc).__name__, exc)
            warnings.append("removal planning for %s is not available, findings have no remediation: %s"
                            % (image_os, reason))
            for finding in findings:
                finding["remediation"] = None
        if plan is not None:
            attach_remediation(findings, plan)
            if plan.get("tripped"):
                warnings.append(plan["tripped"])

        # Returned as the result's warnings: Ansible shows each of them once, for this host.
        counts = {"findings": len(findings), "exempt": sum(1 for f in findings if f.get("exempt")),
                  "planned": sum(1 for f in findings if f.get("remediation")),
                  "examined": facts["counts"]}
        result.update(changed=False, findings=findings, status=facts["status"], os=image_os,
                      warnings=warnings, counts=counts, root=facts["root"], scanned_at=facts["scanned_at"],
                      catalog_version=facts["catalog_version"], available=facts["available"], plan=plan,
                      incomplete=facts["incomplete"])
        if facts.get("error"):
            result["error"] = facts["error"]
        tripping = tripping_findings(findings, args["fail_on"])
        if tripping:
            # The pipeline gate: the result keeps every finding, the task fails naming the image and products.
            result.update(failed=True, msg=gate_message("the image at %s (host %s)" % (
                facts["root"], task_vars.get("inventory_hostname", "?")), args["fail_on"], tripping))
        return result
