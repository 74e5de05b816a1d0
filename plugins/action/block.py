# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.block: apply (present) or remove (absent) the reinstall blocks.

One collector call (scan + block state), at most one executor call; nothing is removed but blocks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.utils.display import Display

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    SELECTION_SPEC, preload_builtin,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_blocks import (
    BLOCK_SPEC, BlockError, HostBlocks, check_block_args,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_execute import execute_plan
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import (
    ScanFailed, host_result, scan_host)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import (
    VARIABLE_OPTIONS, SelectionAction,
)

display = Display()

ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    state=dict(type="str", default="present", choices=["present", "absent"]),
    users=dict(type="list", elements="str"),
    step_timeout=dict(type="int", default=900),
    lock_timeout=dict(type="int", default=300),
    source_timeout=dict(type="int", default=60),
)
ARGUMENT_SPEC.update((k, v) for k, v in BLOCK_SPEC.items() if k != "prevent_reinstall")


# Inherited by the forked workers (see preload_builtin).
preload_builtin()


class ActionModule(SelectionAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC
    ARGUMENT_ERRORS = (BlockError,)
    # Every option but state has its banned_software_<option> variable (the remediate role's defaults).
    VARIABLE_OPTIONS = VARIABLE_OPTIONS + tuple(k for k in ARGUMENT_SPEC if k not in VARIABLE_OPTIONS + ("state",))

    def check_args(self, args, catalog):
        check_block_args(args, catalog)

    def run_selected(self, result, args, selection, task_vars):
        catalog, entries, exemptions = selection
        host = task_vars.get("inventory_hostname", "host")
        run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")

        try:
            facts, collected, dummy = scan_host(self._execute_module, task_vars, args, catalog, entries, exemptions,
                                                block_state=True)
        except ScanFailed as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        blocks = HostBlocks(facts["os"], args["state"], dict(args, prevent_reinstall=True), catalog, entries,
                            exemptions)
        try:
            plan = blocks.plan(collected, 1)
        except (BlockError, ValueError) as exc:
            result.update(failed=True, msg="cannot plan the reinstall blocks: %s" % exc)
            return result
        changed = bool(plan["steps"])
        if self._task.diff and changed and plan["diff"]:
            result["diff"] = plan["diff"]

        if changed and not self._task.check_mode:
            step_results, error = execute_plan(self._execute_module, task_vars, facts["os"], plan["steps"], run_id,
                                               collected, args)
            if error:
                blocks.detail = "executor failed before running the steps: %s" % error
            blocks.judge(step_results, None)
            changed = any(r.get("status") == "changed" for r in blocks.results)

        facts = dict(facts, blocks=blocks.result())
        for warning in facts["warnings"]:
            display.warning("%s: %s" % (host, warning))
        # The registered result is the host result (banned_software_host_report), as the scan's.
        host_result(result, facts)["changed"] = changed
        failed = blocks.failed_items()
        if failed:
            result.update(failed=True, msg="%d reinstall block(s) failed: %s" % (len(failed), "; ".join(
                "%s %s: %s" % (i["mechanism"], i["target"], i.get("detail")) for i in failed)))
        return result
