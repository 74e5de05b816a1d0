# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the base of the action plugins that read the catalog selection (scan, image_scan, catalog,
remediate, block, export_block_rules): argument validation, then the catalog, the selected entries and the
exemptions.

A wrong catalog or variable fails the task with ``catalog_error`` and a message that names the file,
entry or field; it is never the host's fault.

An option of ``VARIABLE_OPTIONS`` that the task does not give is read from the variable
``banned_software_<option>`` (the roles' variables), so the roles' tasks need no argument templates: Ansible
compiles every argument template again in every forked worker, once per host (docs/performance.md).
"""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    SELECTION_SPEC, load_selection,
)

VARIABLE_PREFIX = "banned_software_"
# Options read from banned_software_<option> when the task does not give them (an action may add its own).
VARIABLE_OPTIONS = tuple(SELECTION_SPEC) + ("sources", "users", "source_timeout")
# For these an empty variable means "not set", as in the roles (the option's own default applies).
EMPTY_IS_UNSET = frozenset(["sources", "users", "data_policy", "quarantine_dir", "archive_dir"])


class SelectionAction(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC`` (SELECTION_SPEC and their own options), ``ARGUMENT_ERRORS`` (the
    exception types of their own checks), may extend ``VARIABLE_OPTIONS``, may override ``check_args`` and
    implement ``run_selected``."""

    TRANSFERS_FILES = False
    _requires_connection = True
    ARGUMENT_SPEC = SELECTION_SPEC
    ARGUMENT_ERRORS = ()
    VARIABLE_OPTIONS = VARIABLE_OPTIONS

    def check_args(self, args, catalog):
        """Checks of the subclass's own options against the loaded catalog (raise one of ARGUMENT_ERRORS)."""

    def run_selected(self, result, args, selection, task_vars):
        """The action's work once the arguments and the catalog are valid; returns the task result.

        ``selection`` is ``(catalog, entries, exemptions)``.
        """
        raise NotImplementedError

    def args_with_variables(self, task_vars):
        """``(args, from_variables)``: the task's arguments plus the options of ``VARIABLE_OPTIONS`` it does not
        give, read (and templated) from ``banned_software_<option>``; ``from_variables`` maps each of those
        options to its variable's name."""
        args = dict(self._task.args)
        from_variables = {}
        for option in self.VARIABLE_OPTIONS:
            name = VARIABLE_PREFIX + option
            if option in args or option not in self.ARGUMENT_SPEC or name not in task_vars:
                continue
            value = self._templar.template(task_vars[name])
            if option in EMPTY_IS_UNSET and (value is None or value == [] or value == ""):
                continue
            args[option] = value
            from_variables[option] = name
        return args, from_variables

    def validated_args(self, task_vars):
        """The arguments (task + variables) validated against ARGUMENT_SPEC, with defaults; a wrong value
        fails the task naming the option and, when it came from a variable, the variable."""
        args, from_variables = self.args_with_variables(task_vars)
        validation = ArgumentSpecValidator(self.ARGUMENT_SPEC).validate(args)
        if validation.error_messages:
            msg = validation.errors.msg
            if from_variables:
                msg += " (options not given in the task are read from the variables: %s)" % ", ".join(
                    "%s from %s" % (option, from_variables[option]) for option in sorted(from_variables))
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (self._task.action, msg)
            raise AnsibleActionFail(msg, obj=self._task.args)
        validated = dict(args)
        validated.update(validation.validated_parameters)
        return validated

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(SelectionAction, self).run(tmp, task_vars)
        args = self.validated_args(task_vars)
        try:
            selection = load_selection(args)
            self.check_args(args, selection[0])
        except (CatalogError,) + tuple(self.ARGUMENT_ERRORS) as exc:
            result.update(failed=True, msg="catalog or variable error: %s" % exc, catalog_error=True)
            return result
        return self.run_selected(result, args, selection, task_vars)
