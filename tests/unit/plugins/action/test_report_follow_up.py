# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report action tells the playbooks which hosts need the last play (hosts_by_status, local_fact_hosts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.action import report as report_action
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

FLEET = {
    "clean": {"status": "compliant", "findings": []},
    "dirty": {"status": "non_compliant", "findings": [{"id": "wechat", "key": "dpkg:wechat", "name": "wechat"}]},
    "gone": {"status": "unreachable", "findings": [], "error": "ssh: timeout"},
    "broken": {"status": "failed", "findings": [], "error": "collector failed"},
    "garbage": {"status": "weird"},
}


def run(fleet, host_settings, **args):
    action = action_runner.make_action(report_action, args=args)
    hostvars = {}
    for name, result in fleet.items():
        hostvars[name] = dict(host_settings.get(name, {}), banned_software_host_report=result)
    return action.run(task_vars={"hostvars": hostvars, "groups": {"all": sorted(fleet)}})


def test_hosts_by_status_lists_every_reported_host_once():
    result = run(FLEET, {})
    assert result["hosts_by_status"] == {
        "compliant": ["clean"], "non_compliant": ["dirty"], "unreachable": ["gone"],
        "failed": ["broken", "garbage"]}


@pytest.mark.parametrize("default, settings, expected", [
    (False, {}, []),
    (True, {}, ["clean", "dirty"]),
    (False, {"clean": {"banned_software_local_fact": True}}, ["clean"]),
    (False, {"clean": {"banned_software_local_fact": "yes"}, "dirty": {"banned_software_local_fact": "no"}}, ["clean"]),
    (True, {"dirty": {"banned_software_local_fact": False}}, ["clean"]),
    # Hosts that were not scanned never write a fact, whatever they ask for.
    (True, {"gone": {"banned_software_local_fact": True}, "broken": {"banned_software_local_fact": True}},
     ["clean", "dirty"]),
])
def test_local_fact_hosts_follow_the_host_variable_then_the_default(default, settings, expected):
    # The scan planned the write on the scanned hosts; "current" (record up to date) never needs the last play.
    fleet = dict(FLEET)
    for name in ("clean", "dirty"):
        fleet[name] = dict(FLEET[name], local_fact_step={"kind": "write_file", "action": "local_fact"})
    fleet["current"] = {"status": "compliant", "findings": [], "local_fact": {"changed": False}}
    settings = dict(settings, current={"banned_software_local_fact": True})
    assert run(fleet, settings, local_fact_default=default)["local_fact_hosts"] == expected


def test_reinstalled_hosts_are_listed():
    fleet = dict(FLEET)
    fleet["back"] = {"status": "non_compliant", "reinstalled": ["dpkg|machine|wechat|/var/lib/dpkg/status"],
                     "findings": [{"id": "wechat", "key": "dpkg|machine|wechat|/var/lib/dpkg/status",
                                   "name": "wechat", "drift": "reinstalled", "removed_at": "2026-11-01T00:00:00Z"}]}
    assert run(fleet, {})["reinstalled_hosts"] == ["back"]
    assert run(FLEET, {})["reinstalled_hosts"] == []


def test_results_are_read_from_real_hostvars_without_templating(tmp_path):
    """Through Ansible's own HostVars: results as stored (a host string that looks like a template stays
    text), an unknown host in ``hosts`` recorded as missing, a templated local fact setting templated in the
    host's own variables."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    inventory_file = tmp_path / "hosts.yml"
    inventory_file.write_text(
        "all:\n  hosts:\n"
        "    clean:\n      site_local_fact: true\n      banned_software_local_fact: '{{ site_local_fact }}'\n"
        "    dirty:\n      banned_software_local_fact: false\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variables = VariableManager(loader=loader, inventory=inventory)
    forged = {"id": "wechat", "key": "dpkg:wechat", "name": "{{ lookup('pipe', 'id') }}"}
    step = {"kind": "write_file", "action": "local_fact"}
    variables.set_nonpersistent_facts("clean", {"banned_software_host_report": dict(FLEET["clean"], local_fact_step=step)})
    variables.set_nonpersistent_facts("dirty", {"banned_software_host_report": {
        "status": "non_compliant", "findings": [forged], "local_fact_step": step}})
    hostvars = HostVars(inventory=inventory, variable_manager=variables, loader=loader)

    action = action_runner.make_action(report_action, args={"hosts": ["clean", "dirty", "nowhere"]})
    result = action.run(task_vars={"hostvars": hostvars, "groups": {"all": ["clean", "dirty"]}})

    assert result["hosts_by_status"] == {"compliant": ["clean"], "non_compliant": ["dirty"], "failed": ["nowhere"]}
    assert result["local_fact_hosts"] == ["clean"]
    assert report_action.raw_host_vars(hostvars, "dirty")["banned_software_host_report"]["findings"][0]["name"] \
        == "{{ lookup('pipe', 'id') }}"
    assert report_action.raw_host_vars(hostvars, "nowhere") is None
