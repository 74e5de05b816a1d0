# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX files: survey specs (docs/awx/) and the execution environment definitions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def load(path):
    with open(os.path.join(ROOT, path)) as handle:
        return json.load(handle) if path.endswith(".json") else yaml.safe_load(handle)


def policy_ids():
    return ["all"] + [p["id"] for p in load("catalog/policies.yml")["policies"]]


def test_remediate_survey():
    spec = load("docs/awx/survey_remediate.json")
    questions = dict((q["variable"], q) for q in spec["spec"])
    assert sorted(questions) == ["banned_software_allow_reboot", "banned_software_max_removals",
                                 "banned_software_mode", "banned_software_policies"]
    assert (questions["banned_software_mode"]["type"], questions["banned_software_mode"]["choices"],
            questions["banned_software_mode"]["default"]) == ("multiplechoice", ["audit", "remediate", "block", "unblock"],
                                                              "audit")
    assert questions["banned_software_policies"]["type"] == "multiselect"
    assert questions["banned_software_policies"]["choices"] == policy_ids()
    assert questions["banned_software_allow_reboot"]["choices"] == ["false", "true"]
    assert questions["banned_software_allow_reboot"]["default"] == "false"
    assert (questions["banned_software_max_removals"]["type"], questions["banned_software_max_removals"]["default"],
            questions["banned_software_max_removals"]["min"]) == ("integer", 25, 1)
    assert load("roles/remediate/defaults/main.yml")["banned_software_max_removals"] == 25


def test_surveys_are_flat_and_well_formed():
    for name in ("survey_audit.json", "survey_remediate.json"):
        spec = load("docs/awx/" + name)
        assert spec["name"] and spec["description"]
        for question in spec["spec"]:
            assert re.match(r"^[a-z][a-z0-9_]*$", question["variable"]), question["variable"]
            assert question["type"] in SURVEY_TYPES
            assert question["question_name"] and question["question_description"]
            if question["type"] in ("multiplechoice", "multiselect"):
                assert question["default"] in question["choices"]
    audit = dict((q["variable"], q) for q in load("docs/awx/survey_audit.json")["spec"])
    assert audit["banned_software_local_fact"]["choices"] == ["no", "yes"]
    assert audit["banned_software_policies"]["choices"] == policy_ids()


def test_run_playbook_imports_the_mode():
    play = load("playbooks/run.yml")
    assert play == [{"name": "Run the audit, the remediation, or the reinstall blocks", "ansible.builtin.import_playbook":
                     "{{ banned_software_mode | default('audit') }}.yml"}]
    # Every mode the survey offers is a playbook of the collection.
    modes = dict((q["variable"], q) for q in load("docs/awx/survey_remediate.json")["spec"])["banned_software_mode"]
    for mode in modes["choices"]:
        assert os.path.isfile(os.path.join(ROOT, "playbooks", mode + ".yml")), mode


def test_execution_environment_definitions():
    ee = load("execution-environment.yml")
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert (deps["python"], deps["system"]) == ("meta/ee-requirements.txt", "meta/ee-bindep.txt")
    assert deps["galaxy"] == {"collections": [{"name": "ansible.windows"}]}
    meta = load("meta/execution-environment.yml")
    assert meta == {"version": 1, "dependencies": {"python": "meta/ee-requirements.txt",
                                                   "system": "meta/ee-bindep.txt"}}
    with open(os.path.join(ROOT, "meta/ee-requirements.txt")) as handle:
        python = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    # Certification rules: no ansible-core, no pins or upper bounds.
    assert python == ["pywinrm", "pypsrp", "regipy"]
    # The build stops at its first step, with a message, when the collection tarball is missing.
    files = ee["additional_build_files"]
    assert {"src": "build/govsec-banned_software-*.tar.gz", "dest": "collection"} in files
    assert {"src": "meta/execution-environment.yml", "dest": "collection"} in files
    first = ee["additional_build_steps"]["prepend_base"]
    assert first[0] == "COPY _build/collection/ /tmp/govsec-collection/"
    assert "make collection" in first[1] and "exit 1" in first[1]
    with open(os.path.join(ROOT, "meta/ee-bindep.txt")) as handle:
        system = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert system == ["openssh-clients [platform:rpm]", "openssh-client [platform:dpkg]"]
