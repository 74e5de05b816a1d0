# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The selection actions read an option the task does not set from the variable banned_software_<option>.

The roles' tasks set no per-host argument templates (docs/performance.md): the scan, catalog, remediate and
block actions take policies, exemptions, sources, users and the remediation options from the roles'
variables. An option set in the task wins; a templated variable is templated; a wrong value names the
variable; every option read this way has its variable in the role's defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.govsec.banned_software.plugins.action import block as block_action
from ansible_collections.govsec.banned_software.plugins.action import catalog as catalog_action
from ansible_collections.govsec.banned_software.plugins.action import image_scan as image_scan_action
from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.plugin_utils import _selection_action
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.plugins.action import test_scan

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def scan(tmp_path, monkeypatch, args, variables):
    root = test_scan.make_root(tmp_path)
    action, calls, task_vars = test_scan.make_action(args, monkeypatch, root, variables)
    action._templar = Templar(loader=DataLoader(), variables=task_vars)
    return action.run(task_vars=task_vars), calls


def test_scan_takes_the_selection_from_the_variables(tmp_path, monkeypatch):
    result, calls = scan(tmp_path, monkeypatch, {}, {
        "banned_software_policies": ["ca-tbs-2023-10-30"],
        "banned_software_exemptions": [{"entry": "wechat", "reason": "liaison office", "expires": "2999-12-31"}],
        "banned_software_sources": ["dpkg"],
        "banned_software_users": [],
    })
    assert not result.get("failed"), result
    assert result["policies"] == ["ca-tbs-2023-10-30"]
    (module, module_args), = calls
    assert module_args["sources"] == ["dpkg"]
    assert "users" not in module_args  # an empty banned_software_users means every user, as in the role
    assert {f["source"] for f in result["findings"]} == {"dpkg"}
    wechat = [f for f in result["findings"] if f["id"] == "wechat"]
    assert wechat and all(f["exempt"] for f in wechat)
    assert any(not f["exempt"] for f in result["findings"])


def test_an_option_set_in_the_task_wins(tmp_path, monkeypatch):
    result, calls = scan(tmp_path, monkeypatch, {"policies": ["all"], "sources": ["file"]}, {
        "banned_software_policies": ["ca-tbs-2023-10-30"], "banned_software_sources": ["dpkg"]})
    assert result["policies"] == ["all"]
    assert calls[0][1]["sources"] == ["file"]


def test_a_variable_that_is_a_template_is_templated(tmp_path, monkeypatch):
    result, calls = scan(tmp_path, monkeypatch, {}, {
        "site_sources": ["service"],
        "banned_software_sources": trust_as_template("{{ site_sources }}"),
    })
    assert calls[0][1]["sources"] == ["service"]
    assert {f["source"] for f in result["findings"]} == {"service"}


def test_without_the_variables_the_options_keep_their_defaults(tmp_path, monkeypatch):
    result, calls = scan(tmp_path, monkeypatch, {}, {})
    assert result["policies"] == ["all"]
    assert "sources" not in calls[0][1] and "users" not in calls[0][1]


def test_an_unknown_policy_in_the_variable_is_a_catalog_error(tmp_path, monkeypatch):
    result, calls = scan(tmp_path, monkeypatch, {}, {"banned_software_policies": ["no-such-policy"]})
    assert result["failed"] and result["catalog_error"] and "no-such-policy" in result["msg"]
    assert calls == []


def test_a_wrong_type_in_a_variable_names_the_variable():
    action = action_runner.make_action(remediate_action, templar=Templar(loader=DataLoader()))
    task_vars = {"inventory_hostname": "h1", "banned_software_max_removals": "many"}
    with pytest.raises(AnsibleActionFail) as exc:
        action.run(task_vars=task_vars)
    assert "max_removals" in str(exc.value) and "banned_software_max_removals" in str(exc.value)


def test_an_unknown_task_option_is_still_refused():
    action = action_runner.make_action(scan_action, args={"polices": ["all"]}, templar=Templar(loader=DataLoader()))
    with pytest.raises(AnsibleActionFail) as exc:
        action.run(task_vars={"inventory_hostname": "h1"})
    assert "Unsupported parameters" in str(exc.value) and "polices" in str(exc.value)


def test_empty_remediation_paths_leave_the_options_unset():
    action = action_runner.make_action(remediate_action, templar=Templar(loader=DataLoader()))
    args, from_variables = action.args_with_variables({
        "banned_software_data_policy": "", "banned_software_quarantine_dir": "", "banned_software_archive_dir": "",
        "banned_software_max_removals": 3, "banned_software_purge_packages": True})
    assert args == {"max_removals": 3, "purge_packages": True}
    assert from_variables == {"max_removals": "banned_software_max_removals",
                              "purge_packages": "banned_software_purge_packages"}


def test_block_state_is_never_read_from_a_variable():
    action = action_runner.make_action(block_action, templar=Templar(loader=DataLoader()))
    args, dummy = action.args_with_variables({"banned_software_state": "absent", "banned_software_lock_timeout": 5})
    assert args == {"lock_timeout": 5}


def _defaults(role):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("module, role", [
    (scan_action, "detect"), (catalog_action, "detect"), (image_scan_action, "detect"),
    (remediate_action, "remediate"), (block_action, "remediate"),
])
def test_every_option_read_from_a_variable_has_it_in_the_role_defaults(module, role):
    spec = module.ActionModule.ARGUMENT_SPEC
    options = [o for o in module.ActionModule.VARIABLE_OPTIONS if o in spec]
    assert options, module
    defaults = _defaults(role)
    missing = [o for o in options if _selection_action.VARIABLE_PREFIX + o not in defaults]
    assert missing == []


def test_remediate_reads_every_option_from_its_variable():
    spec = remediate_action.ActionModule.ARGUMENT_SPEC
    assert set(spec) <= set(remediate_action.ActionModule.VARIABLE_OPTIONS)
