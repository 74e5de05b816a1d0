# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the base of the action plugins that read the catalog selection (scan, image_scan, catalog,
remediate, block): argument validation, then the catalog, the selected entries and the exemptions.

A wrong catalog or variable fails the task with ``catalog_error`` and a message that names the file,
entry or field; it is never the host's fault.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.module_utils._catalog import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils._catalog_files import (
    SELECTION_SPEC, load_selection,
)


class SelectionAction(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC`` (SELECTION_SPEC and their own options), ``ARGUMENT_ERRORS`` (the
    exception types of their own checks), may override ``check_args`` and implement ``run_selected``."""

    TRANSFERS_FILES = False
    _requires_connection = True
    ARGUMENT_SPEC = SELECTION_SPEC
    ARGUMENT_ERRORS = ()

    def check_args(self, args, catalog):
        """Checks of the subclass's own options against the loaded catalog (raise one of ARGUMENT_ERRORS)."""

    def run_selected(self, result, args, selection, task_vars):
        """The action's work once the arguments and the catalog are valid; returns the task result.

        ``selection`` is ``(catalog, entries, exemptions)``.
        """
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(SelectionAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            selection = load_selection(args)
            self.check_args(args, selection[0])
        except (CatalogError,) + tuple(self.ARGUMENT_ERRORS) as exc:
            result.update(failed=True, msg="catalog or variable error: %s" % exc, catalog_error=True)
            return result
        return self.run_selected(result, args, selection, task_vars)
