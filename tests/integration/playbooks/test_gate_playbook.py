# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline gate (banned_software_fail_on) and module_defaults groups, with ansible-playbook against the
INSTALLED collection and this machine.

A catalog file of the test bans the package `make` (installed on every machine that runs the tests: the
tests are started by make) under a policy of its own, selected alone, so the audit of localhost has exactly
one finding; the host is only read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os

import pytest


def _sibling(name):
    """A test module next to this one (pytest runs with --import-mode=importlib: no sys.path entry)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                     name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_playbook = _sibling("test_audit_playbook").run_playbook

CATALOG = """
policies:
  - id: test-gate-policy
    title: Test policy that bans the make package
    jurisdiction: EU
    instrument: integration test
    date: 2026-01-01
    url: https://example.org/test-gate-policy
entries:
  - id: test-make
    vendor: GNU
    product: GNU Make (test ban)
    policies: [test-gate-policy]
    references:
      - url: https://example.org/make
        note: test entry
    signatures:
      linux:
        dpkg:
          - name: make
"""

INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def audit(tmp_path, *extra):
    catalog = tmp_path / "test-catalog.yml"
    catalog.write_text(CATALOG)
    variables = {"banned_software_catalog_files": [str(catalog)], "banned_software_policies": ["test-gate-policy"],
                 "banned_software_report_dir": str(tmp_path / "out")}
    proc = run_playbook(tmp_path, INVENTORY, "-e", json.dumps(variables), *extra)
    report = tmp_path / "out" / "report.json"
    assert report.exists(), "no report.json; output:\n" + proc.stdout[-4000:]
    return proc, json.loads(report.read_text())


@pytest.fixture(scope="module", autouse=True)
def make_is_installed():
    import subprocess
    status = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status}", "make"], stdout=subprocess.PIPE,
                            universal_newlines=True, check=False).stdout
    assert status == "installed", "these tests need the make package installed (tests/host/setup.sh installs it)"


def test_default_gate_keeps_a_non_compliant_audit_at_exit_0(tmp_path):
    proc, report = audit(tmp_path)
    assert report["hosts"]["localhost"]["status"] == "non_compliant", report["hosts"]["localhost"]
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_gate_non_compliant_fails_the_host_naming_it_and_the_product(tmp_path):
    proc, report = audit(tmp_path, "-e", "banned_software_fail_on=non_compliant")
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert ('"msg": "banned software on localhost (banned_software_fail_on=non_compliant): '
            'GNU Make (test ban) (test-make); 1 finding(s)"') in proc.stdout, proc.stdout[-3000:]
    assert "GATE (banned_software_fail_on): 1 host(s) fail: localhost" in proc.stdout
    assert report["hosts"]["localhost"]["status"] == "non_compliant", "the report is written before the gate"


def test_an_exempt_finding_passes_non_compliant_and_fails_findings(tmp_path):
    exemption = json.dumps({"banned_software_exemptions": [
        {"entry": "test-make", "reason": "build host", "expires": "2999-12-31"}]})
    proc, report = audit(tmp_path, "-e", exemption, "-e", "banned_software_fail_on=non_compliant")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert report["hosts"]["localhost"]["status"] == "compliant"
    proc, dummy = audit(tmp_path, "-e", exemption, "-e", "banned_software_fail_on=findings")
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "(banned_software_fail_on=findings): GNU Make (test ban) (test-make); 1 finding(s) (1 exempt)" in proc.stdout


def test_a_wrong_gate_value_fails_before_any_host_is_contacted(tmp_path):
    catalog = tmp_path / "test-catalog.yml"
    catalog.write_text(CATALOG)
    proc = run_playbook(tmp_path, INVENTORY, "-e", "banned_software_fail_on=noncompliant",
                        "-e", "banned_software_report_dir=%s" % (tmp_path / "out"))
    assert proc.returncode != 0
    assert "banned_software_fail_on: expected one of never, non_compliant, findings; got noncompliant" in proc.stdout
    assert "Scan for banned software" not in proc.stdout, "the host was scanned although the gate value was wrong"


def test_module_defaults_group_sets_the_selection_of_every_action_in_it(tmp_path):
    catalog = tmp_path / "test-catalog.yml"
    catalog.write_text(CATALOG)
    playbook = tmp_path / "defaults.yml"
    playbook.write_text("""
- name: module_defaults for the selection actions
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/govsec.banned_software.selection:
      policies: [test-gate-policy]
      catalog_files: [%s]
  tasks:
    - name: Catalog
      govsec.banned_software.catalog: {}
      register: catalog
    - name: Scan
      govsec.banned_software.scan: {}
      register: scan
    - name: Show
      ansible.builtin.debug:
        msg: "RESULT {{ catalog.enabled | to_json }} {{ scan.findings | map(attribute='id') | list | to_json }}"
""" % catalog)
    proc = run_playbook(tmp_path, INVENTORY, str(playbook), playbook_only=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'RESULT [\\"test-make\\"] [\\"test-make\\"]' in proc.stdout or 'RESULT ["test-make"] ["test-make"]' in proc.stdout, \
        proc.stdout[-3000:]
