# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.local_fact: write the step the scan planned, in one executor call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import FACT_PATHS
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_fact import ACTION, write_fact

ARGUMENT_SPEC = dict(
    result_var=dict(type="str", default="banned_software_host_report"),
    lock_timeout=dict(type="int", default=300),
)
FACT_KINDS = ("write_file",)


def checked_step(host_result, result_var):
    """The local fact step of the scan result ``host_result``, or None; refuses anything else."""
    if not isinstance(host_result, dict):
        raise AnsibleActionFail("%s is not a scan result (%s)" % (result_var, type(host_result).__name__))
    step = host_result.get("local_fact_step")
    if step is None:
        return None
    platform = host_result.get("os")
    if (not isinstance(step, dict) or step.get("kind") not in FACT_KINDS or step.get("action") != ACTION
            or platform not in FACT_PATHS or step.get("path") != FACT_PATHS[platform]):
        raise AnsibleActionFail("%s.local_fact_step is not the local fact's step of a %s host" % (result_var, platform))
    return step


class ActionModule(ActionBase):

    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        task_vars = task_vars or {}
        host_result = task_vars.get(args["result_var"])
        step = checked_step(host_result, args["result_var"])
        if step is None:
            result.update(changed=False, msg="the local fact is up to date")
            return result
        result["path"] = step["path"]
        if self._task.check_mode:
            result.update(changed=True, msg="would write %s" % step["path"])
            return result
        run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        status, error = write_fact(self._execute_module, task_vars, host_result["os"], step, run_id,
                                   {"lock_timeout": args["lock_timeout"], "step_timeout": 60})
        if error:
            result.update(failed=True, changed=False, msg="local fact %s not written: %s" % (step["path"], error))
            return result
        done = "written" if status == "changed" else "already up to date"
        result.update(changed=status == "changed", msg="%s %s" % (step["path"], done))
        return result
