# -*- coding: utf-8 -*-
"""The roles' meta/argument_specs.yml is the one description of the role variables; the rest agrees with it.

A variable ``banned_software_<option>`` is described once, in the argument_specs of the role entry point
that uses it. Held to it here:

* the role's defaults/main.yml (same variables, same defaults);
* every action option read from its variable (plugins/plugin_utils/_selection_action.py): same type,
  elements, default and choices, except that for the options where an empty variable means "not set"
  (``EMPTY_IS_UNSET``) the role's default is that empty value and the action's is none;
* each action's documentation (the doc stub with its fragments) and its ARGUMENT_SPEC;
* the default limits of the executor (module_utils/_execute/schema.py) and of the planner.

The list options of catalog data (custom entries, custom policies, exemptions) take mappings everywhere
(``elements: dict``): an element that is not a mapping fails the task naming the option and its variable.
"""

import importlib
import os

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT)
from ansible_collections.govsec.banned_software.plugins.plugin_utils import _selection_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import SELECTION_SPEC
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import DEFAULTS as PLAN_DEFAULTS
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = "ansible_collections.govsec.banned_software.plugins."
PREFIX = _selection_action.VARIABLE_PREFIX
ROLES = ("detect", "remediate", "report")
# action -> the role entry point whose variables it reads
ENTRY_POINTS = {
    "scan": ("detect", "main"),
    "catalog": ("detect", "main"),
    "image_scan": ("detect", "main"),
    "remediate": ("remediate", "main"),
    "block": ("remediate", "block"),
    "export_block_rules": ("remediate", "main"),
}
# Variables an action reads that no role uses, with where they are documented.
NOT_ROLE_VARIABLES = {
    ("export_block_rules", "applocker_allow_rest"): "docs/macos.md (playbooks/export_block_rules.yml)",
}
# Role variables no action reads, with who reads them.
ROLE_ONLY = {
    "banned_software_allow_reboot": "roles/remediate/tasks/reboot.yml",
    "banned_software_block_state": "roles/remediate/tasks/block.yml, as the block action's state",
    "banned_software_fail_on": "the report role (and image_scan's fail_on)",
}
# The report role passes its variables to the report action by name.
REPORT_OPTIONS = {"max_rows": "banned_software_report_max_rows", "formats": "banned_software_report_formats",
                  "fail_on": "banned_software_fail_on"}
CATALOG_DATA = ("custom_entries", "custom_policies", "exemptions")


def read_yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


def argument_specs(role):
    return read_yaml("roles", role, "meta", "argument_specs.yml")["argument_specs"]


def action(name):
    return importlib.import_module(PLUGINS + "action." + name).ActionModule


def action_spec(name):
    """An action's ARGUMENT_SPEC (the selection actions' class attribute, else the module's)."""
    module = importlib.import_module(PLUGINS + "action." + name)
    return getattr(module.ActionModule, "ARGUMENT_SPEC", None) or module.ARGUMENT_SPEC


def spec_of(option):
    """type, elements, default, choices of an ArgumentSpec or argument_specs.yml option (type str when unset)."""
    return (option.get("type", "str"), option.get("elements"), option.get("default"), option.get("choices"))


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_are_the_argument_specs_defaults(role):
    defaults = read_yaml("roles", role, "defaults", "main.yml")
    documented = {}
    for entry_point, spec in argument_specs(role).items():
        for name, option in spec["options"].items():
            assert name in defaults, "%s (%s) has no default in roles/%s/defaults/main.yml" % (name, entry_point, role)
            assert defaults[name] == option.get("default"), "%s: defaults/main.yml %r, argument_specs (%s) %r" % (
                name, defaults[name], entry_point, option.get("default"))
            assert documented.setdefault(name, option) == option, "%s differs between entry points" % name
    assert sorted(set(defaults) - set(documented)) == [], "defaults/main.yml of %s: variables no entry point has" % role


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_the_options_read_from_variables_are_the_role_variables(name):
    module = action(name)
    role, entry_point = ENTRY_POINTS[name]
    variables = argument_specs(role)[entry_point]["options"]
    checked = 0
    for option in module.VARIABLE_OPTIONS:
        if option not in module.ARGUMENT_SPEC:
            continue
        if (name, option) in NOT_ROLE_VARIABLES:
            assert PREFIX + option not in variables
            continue
        assert PREFIX + option in variables, "%s reads %s%s, which roles/%s (%s) does not describe" % (
            name, PREFIX, option, role, entry_point)
        kind, elements, default, choices = spec_of(module.ARGUMENT_SPEC[option])
        role_spec = spec_of(variables[PREFIX + option])
        if option in _selection_action.EMPTY_IS_UNSET:
            # An empty variable leaves the option unset: the role's default is that empty value.
            assert default is None and role_spec[2] in ("", []), (option, default, role_spec[2])
            default = role_spec[2]
            if choices is not None:
                choices = [""] + list(choices)
        assert (kind, elements, default, choices) == role_spec, "%s's %s: action %r, roles/%s (%s) %r" % (
            name, option, (kind, elements, default, choices), role, entry_point, role_spec)
        checked += 1
    assert checked >= 6, name


@pytest.mark.parametrize("role", ["detect", "remediate"])
def test_every_role_variable_is_read_by_an_action_or_named_here(role):
    read = set()
    for name, (action_role, dummy) in ENTRY_POINTS.items():
        if action_role == role:
            module = action(name)
            read.update(PREFIX + o for o in module.VARIABLE_OPTIONS if o in module.ARGUMENT_SPEC)
    for entry_point, spec in argument_specs(role).items():
        for variable in spec["options"]:
            assert variable in read or variable in ROLE_ONLY, "%s (%s %s) is read by no action" % (
                variable, role, entry_point)


def test_the_report_actions_options_are_the_report_roles_variables():
    spec = action_spec("report")
    variables = argument_specs("report")["main"]["options"]
    for option, variable in REPORT_OPTIONS.items():
        ours, theirs = spec_of(spec[option]), spec_of(variables[variable])
        # The report action checks fail_on itself, after the report is written (no choices in its spec).
        assert ours[:3] == theirs[:3], (option, ours, theirs)
        assert ours[3] in (None, theirs[3]), (option, ours, theirs)


def documented_options(module_name):
    """The options of a module's documentation, its fragments included."""
    doc = yaml.safe_load(importlib.import_module(PLUGINS + "modules." + module_name).DOCUMENTATION)
    fragments = importlib.import_module(PLUGINS + "doc_fragments.attributes").ModuleDocFragment
    options = {}
    for name in doc.get("extends_documentation_fragment") or []:
        part = name.rsplit(".", 1)[-1] if name.count(".") == 3 else "DOCUMENTATION"
        options.update(yaml.safe_load(getattr(fragments, part)).get("options") or {})
    options.update(doc.get("options") or {})
    return options


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS) + ["report", "merge_reports"])
def test_the_documentation_of_each_action_is_its_argument_spec(name):
    spec = action_spec(name)
    documented = documented_options(name)
    assert sorted(documented) == sorted(spec), name
    for option, value in spec.items():
        assert spec_of(documented[option]) == spec_of(value), "%s's %s: documented %r, spec %r" % (
            name, option, spec_of(documented[option]), spec_of(value))


def test_catalog_data_options_take_mappings_everywhere():
    for option in CATALOG_DATA:
        assert SELECTION_SPEC[option]["elements"] == "dict"
        for role in ("detect", "remediate"):
            for spec in argument_specs(role).values():
                if PREFIX + option in spec["options"]:
                    assert spec["options"][PREFIX + option]["elements"] == "dict"


@pytest.mark.parametrize("option", CATALOG_DATA)
def test_an_element_that_is_not_a_mapping_fails_naming_the_option_and_its_variable(option):
    scan = importlib.import_module(PLUGINS + "action.scan")
    runner = action_runner.make_action(scan, templar=Templar(loader=DataLoader()))
    with pytest.raises(AnsibleActionFail) as exc:
        runner.run(task_vars={"inventory_hostname": "h1", PREFIX + option: ["wechat"]})
    assert option in str(exc.value) and PREFIX + option in str(exc.value), str(exc.value)


def test_the_executors_default_limits_are_the_role_defaults():
    variables = argument_specs("remediate")["main"]["options"]
    assert variables["banned_software_step_timeout"]["default"] == DEFAULT_TIMEOUT == PLAN_DEFAULTS["step_timeout"]
    assert variables["banned_software_lock_timeout"]["default"] == DEFAULT_LOCK_TIMEOUT
    execute = yaml.safe_load(importlib.import_module(PLUGINS + "modules.execute").DOCUMENTATION)["options"]
    assert execute["default_timeout"]["default"] == DEFAULT_TIMEOUT
    assert execute["lock_timeout"]["default"] == DEFAULT_LOCK_TIMEOUT
