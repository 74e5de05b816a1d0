# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.scan: one collector call per host, matching here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.govsec.banned_software.plugins.module_utils._catalog import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils._catalog_files import (
    SELECTION_SPEC, load_selection,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import ScanFailed, scan_host

display = Display()

ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    sources=dict(type="list", elements="str"),
    users=dict(type="list", elements="str"),
    root=dict(type="path"),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        try:
            catalog, entries, exemptions = load_selection(args)
        except CatalogError as exc:
            result.update(failed=True, msg="catalog or variable error: %s" % exc, catalog_error=True)
            return result

        try:
            facts, dummy = scan_host(self._execute_module, task_vars, args, catalog, entries, exemptions)
        except ScanFailed as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        for warning in facts["warnings"]:
            display.warning("%s: %s" % (task_vars.get("inventory_hostname", "host"), warning))
        result.update(changed=False, findings=facts["findings"], status=facts["status"],
                      ansible_facts={"banned_software": facts})
        return result
