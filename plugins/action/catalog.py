# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.catalog: validate and summarise, touching no host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.module_utils._catalog import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils._catalog_files import (
    SELECTION_SPEC, load_selection,
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=SELECTION_SPEC)
        try:
            catalog, entries, exemptions = load_selection(args)
        except CatalogError as exc:
            result.update(failed=True, msg="catalog or variable error: %s" % exc, catalog_error=True)
            return result
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
