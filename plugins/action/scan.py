# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.scan: one collector call per host, matching here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.utils.display import Display

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    SELECTION_SPEC, preload_builtin,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_fact import EXECUTOR_PLATFORMS, fact_step
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import (
    ScanFailed, host_result, scan_host)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import SelectionAction

display = Display()

ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    sources=dict(type="list", elements="str"),
    users=dict(type="list", elements="str"),
    root=dict(type="path"),
    record_failures=dict(type="bool", default=False),
    source_timeout=dict(type="int", default=60),
    # Opt-in (banned_software_local_fact): the step that keeps the local fact, for the local_fact task.
    local_fact=dict(type="bool", default=False),
)


# Inherited by the forked workers (see preload_builtin).
preload_builtin()


class ActionModule(SelectionAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC
    VARIABLE_OPTIONS = SelectionAction.VARIABLE_OPTIONS + ("local_fact",)

    def run_selected(self, result, args, selection, task_vars):
        catalog, entries, exemptions = selection

        try:
            facts, collected, dummy = scan_host(self._execute_module, task_vars, args, catalog, entries, exemptions)
        except ScanFailed as exc:
            if args["record_failures"]:
                result.update(changed=False, status="failed", findings=[], error=str(exc), **exc.details)
            else:
                result.update(failed=True, msg=str(exc), **exc.details)
            return result
        except AnsibleConnectionFailure as exc:
            if not args["record_failures"]:
                raise
            # Recorded as the host's result instead of marking the host unreachable: the report counts it
            # and the playbook fails the host in its last play (docs/performance.md).
            result.update(changed=False, status="unreachable", findings=[], error=to_text(exc))
            return result
        for warning in facts["warnings"]:
            display.warning("%s: %s" % (task_vars.get("inventory_hostname", "host"), warning))
        host_result(result, facts)["changed"] = False
        if args["local_fact"] and not args.get("root") and facts["os"] in EXECUTOR_PLATFORMS:
            # What the local_fact task writes (audit, opt-in): nothing here, the scan never changes the host.
            fact = fact_step(facts["os"], facts, collected, 1)
            if fact.warning:
                display.warning("%s: %s" % (task_vars.get("inventory_hostname", "host"), fact.warning))
            result["local_fact"] = {"changed": fact.changed, "path": fact.step["path"] if fact.step else None}
            if fact.step:
                result["local_fact_step"] = fact.step
        if facts["status"] == "failed" and not args["record_failures"]:
            # Sources that could hold a banned product were read only in part (facts "incomplete").
            result.update(failed=True, msg=facts["error"])
        return result
