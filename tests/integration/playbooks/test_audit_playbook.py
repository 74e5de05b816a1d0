# -*- coding: utf-8 -*-
"""The audit playbook run for real with ansible-playbook against the INSTALLED collection.

Hosts: localhost (a fake image root is not used here: the live controller), a host that is
unreachable (ssh to a closed port on the loopback address) and a host whose module run fails (a
Python interpreter that does not exist). Requires ANSIBLE_COLLECTIONS_PATH to point at the installed
collection (make integration sets it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def _collections_path():
    path = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    installed = os.path.join(path, "ansible_collections", "govsec", "banned_software")
    assert os.path.isdir(installed), "the collection must be installed (make collection), not found at %s" % installed
    assert not os.path.islink(installed), "tests run the installed form, not a link to the source tree"
    return path


def run_playbook(tmp_path, inventory, *extra, **kwargs):
    """ansible-playbook of the audit playbook, or with ``playbook_only=True`` of the playbook in ``extra``."""
    inv = tmp_path / "inventory.yml"
    inv.write_text(inventory)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False")
    playbook = [] if kwargs.get("playbook_only") else ["govsec.banned_software.audit"]
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(inv)] + playbook + list(extra)
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    return proc


INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
    gone.example.invalid:
      ansible_host: 127.0.0.1
      ansible_port: 9
      ansible_connection: ssh
      ansible_ssh_common_args: "-o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    broken.example.invalid:
      ansible_connection: local
      ansible_python_interpreter: /nonexistent/bin/python3
"""


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    proc = run_playbook(tmp, INVENTORY, "-e", "banned_software_report_dir=%s" % (tmp / "out"))
    report_path = tmp / "out" / "report.json"
    assert report_path.exists(), "no report.json; output:\n" + proc.stdout[-4000:]
    return proc, json.loads(report_path.read_text())


def test_unreachable_and_failed_hosts_are_reported_not_compliant(fleet_run):
    proc, report = fleet_run
    hosts = report["hosts"]
    assert sorted(hosts) == ["broken.example.invalid", "gone.example.invalid", "localhost"]
    assert hosts["gone.example.invalid"]["status"] == "unreachable", hosts["gone.example.invalid"]
    assert hosts["broken.example.invalid"]["status"] == "failed", hosts["broken.example.invalid"]
    assert hosts["broken.example.invalid"]["error"]
    assert hosts["localhost"]["status"] in ("compliant", "non_compliant")
    summary = report["summary"]
    assert summary["hosts"] == 3
    assert summary["unreachable"] == 1 and summary["failed"] == 1
    assert summary["compliant"] + summary["non_compliant"] == 1


def test_incomplete_audit_exits_non_zero(fleet_run):
    proc, dummy = fleet_run
    assert proc.returncode != 0, "an audit with unreachable/failed hosts must fail the run"
    assert "TOTAL 3 host(s)" in proc.stdout


def test_report_shape_is_the_contract(fleet_run):
    dummy, report = fleet_run
    for key in ("generated_at", "catalog", "summary", "hosts"):
        assert key in report
    assert report["catalog"]["version"]
    for key in ("hosts", "compliant", "non_compliant", "unreachable", "failed"):
        assert isinstance(report["summary"][key], int)
    for finding in report["hosts"]["localhost"]["findings"]:
        for key in ("id", "product", "vendor", "source", "name", "version", "scope", "path", "policies", "exempt"):
            assert key in finding


def test_bad_variable_fails_before_any_host_is_contacted(tmp_path):
    inventory = """
all:
  hosts:
    gone.example.invalid:
      ansible_host: 127.0.0.1
      ansible_port: 9
      ansible_ssh_common_args: "-o ConnectTimeout=5"
"""
    proc = run_playbook(tmp_path, inventory, "-e", '{"banned_software_policies": ["no-such-policy"]}',
                        "-e", "banned_software_report_dir=%s" % (tmp_path / "out"))
    assert proc.returncode != 0
    assert "field 'banned_software_policies[0]': unknown policy 'no-such-policy'" in proc.stdout
    assert "UNREACHABLE" not in proc.stdout, "the host was contacted although the variables were wrong"
    assert not (tmp_path / "out" / "report.json").exists()


def test_check_mode_gives_the_same_answer_and_changes_nothing(tmp_path):
    inventory = """
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""
    real = run_playbook(tmp_path, inventory, "-e", "banned_software_report_dir=%s" % (tmp_path / "real"))
    check = run_playbook(tmp_path, inventory, "--check", "-e", "banned_software_report_dir=%s" % (tmp_path / "check"))
    assert real.returncode == 0, real.stdout[-3000:]
    assert check.returncode == 0, check.stdout[-3000:]
    for proc in (real, check):
        assert "changed=0" in proc.stdout
    a = json.loads((tmp_path / "real" / "report.json").read_text())["hosts"]["localhost"]
    b = json.loads((tmp_path / "check" / "report.json").read_text())["hosts"]["localhost"]
    assert (a["status"], [f["key"] for f in a["findings"]]) == (b["status"], [f["key"] for f in b["findings"]])


def _play_output(stdout, play_name):
    """The lines of one play's output (from its PLAY header to the next PLAY header)."""
    start = stdout.index("PLAY [%s]" % play_name)
    end = stdout.find("\nPLAY ", start + 1)
    return stdout[start:end if end != -1 else len(stdout)]


def test_follow_up_play_runs_only_on_hosts_that_need_it(fleet_run):
    """The last play costs nothing on compliant hosts: no skipped task per host (docs/performance.md)."""
    proc, dummy = fleet_run
    follow_up = _play_output(proc.stdout, "Follow up on the hosts that need it")
    assert "[gone.example.invalid]" in follow_up and "[broken.example.invalid]" in follow_up, follow_up
    assert "[localhost]" not in follow_up, "the compliant host must not be in the last play:\n" + follow_up
    detect = _play_output(proc.stdout, "Audit hosts for banned software")
    assert "Validating arguments against arg spec" not in detect, detect


def test_local_fact_opt_in_brings_the_host_into_the_last_play(tmp_path):
    """banned_software_local_fact set for one host (as a host variable) makes that host write its fact.

    Run under --check so this machine's /etc/ansible/facts.d is not written.
    """
    inventory = INVENTORY.replace(
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n',
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        '      banned_software_local_fact: true\n', 1)
    proc = run_playbook(tmp_path, inventory, "--check", "-e", "banned_software_report_dir=%s" % (tmp_path / "out"))
    follow_up = _play_output(proc.stdout, "Follow up on the hosts that need it")
    # One task, one executor call: the scan planned the write (this machine keeps no record yet, the run is
    # under --check), the local_fact task reports the change and writes nothing.
    task = "TASK [Keep the host's last status as a local fact (opt-in with banned_software_local_fact)]"
    assert task in follow_up, follow_up
    assert "changed: [localhost]" in follow_up.split(task, 1)[1].split("TASK [", 1)[0], follow_up
    assert not os.path.exists("/etc/ansible/facts.d/banned_software.fact")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["hosts"]["localhost"]["status"] == "compliant", report["hosts"]["localhost"]
