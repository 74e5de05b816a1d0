# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.catalog: validate and summarise, touching no host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import preload_builtin
from ansible_collections.govsec.banned_software.plugins.plugin_utils._selection_action import SelectionAction

# The catalog task runs first: loading the built-in catalog here, in the controller's main process, also
# serves the scan's workers (see preload_builtin).
preload_builtin()


class ActionModule(SelectionAction):

    _requires_connection = False

    def run_selected(self, result, args, selection, task_vars):
        catalog, entries, exemptions = selection
        enabled = set(e.id for e in entries)
        result.update(
            changed=False,
            version=catalog.version,
            policies=dict((pid, dict((k, v) for k, v in p.items() if k != "origin"))
                          for pid, p in catalog.policies.items()),
            entries=[dict(e.summary(), enabled=e.id in enabled) for e in catalog.entries],
            enabled=sorted(enabled),
            exemptions=exemptions,
            msg="catalog %s: %d of %d entries enabled by policies %s"
                % (catalog.version, len(enabled), len(catalog.entries), ", ".join(args["policies"])),
        )
        return result
