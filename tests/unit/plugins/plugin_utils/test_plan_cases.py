# -*- coding: utf-8 -*-
"""The removal planner's scenarios as data: ``plan_cases/<os>.yaml``, records in, steps out.

Each case is a host as the collector reports it and the options of the run; ``expected`` is what the plan must
hold. The file's ``defaults`` give the users, tools and catalog entries a case does not name.

A case::

    - id: one_dpkg_package_is_removed          # the pytest id
      users: [...]                              # optional: the host's users (default: defaults.users)
      tools: {dpkg: /usr/bin/dpkg}              # optional: the host's tools (default: defaults.tools)
      entries: {kesl: {leftovers: [...]}}       # optional: the catalog entries (default: defaults.entries)
      wechat_data_policy: purge                 # optional: the default entries, with this data_policy for wechat
      records:                                  # as the collector returns them, with two keys of the test's own:
        - {entry: kesl, source: dpkg, name: kesl, path: /var/lib/dpkg/status}
        #   entry: the catalog entry the matcher finds the record banned by (none: a record without a finding,
        #          such as a data directory or a leftover); exempt: true makes the finding exempt
      options: {purge_packages: true}           # the planner's options (run_id defaults to R1)
      expected:
        steps:          # every step of the plan, in order, each compared on the fields it lists
                        # (a missing field reads as null; the value "<absent>" requires the field to be missing)
        full_steps: [3]         # ids of steps compared in full: every field, no more, no less
        argvs: [[...]]          # the argv of every command step, in order
        never_in_argv: libc6    # no argument of any command step contains this string
        covered_includes: {key: [ids]}   # these keys of plan["covered"]
        # any other key: that key of the plan, compared in full (covered, skipped, unplanned, data, removals,
        # removals_by_scope, tripped, tripped_scopes, ...)

The finding key of a record is built as plugins/plugin_utils/match/matcher.py builds it
(``source|scope|name|path``); the expected values spell keys out in that form.

A file whose ``defaults`` name a ``catalog`` plays recorded inventories through the shipped catalog and the real
matcher instead (macos.yaml, windows.yaml)::

    defaults:
      catalog: all                    # the matcher runs over every entry ("default": the default selection)
      inventory: macos/workstation.yml   # a collect result under tests/unit/data/
    cases:
      - id: ...
        inventory: ...                # optional: another recorded inventory
        collected_records: {file: [...]}   # optional: the records of the inventory replaced (source -> records)
        findings: [...]               # optional: the findings handed to the planner instead of the matcher's
                                      # (the records the planner reads are still the matcher's)
        options: {...}
        expected:
          finding_keys: [...]         # the sorted keys of the matcher's findings
          full_steps: all             # every step compared in full
          ...                         # as above; the matcher must warn of nothing when its findings are used
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import functools
import json
import os

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import plan_removal
from ansible_collections.govsec.banned_software.tests.unit.helpers.linux_plan_host import Host, entry

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plan_cases")
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
ABSENT = "<absent>"


def load_cases():
    params = []
    for name in sorted(os.listdir(CASES_DIR)):
        if not name.endswith(".yaml"):
            continue
        platform = name[:-len(".yaml")]
        with open(os.path.join(CASES_DIR, name), encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        ids = [case["id"] for case in doc["cases"]]
        duplicates = sorted(set(i for i in ids if ids.count(i) > 1))
        assert not duplicates, "%s: duplicate case ids %s" % (name, duplicates)
        for case in doc["cases"]:
            params.append(pytest.param(platform, doc["defaults"], case, id="%s:%s" % (platform, case["id"])))
    return params


def linux_host(defaults, case):
    """The case's host (tests/unit/helpers/linux_plan_host.py): its records, and a finding of each record that
    names an entry."""
    host = Host(users=case.get("users", defaults["users"]), tools=case.get("tools", defaults["tools"]))
    for item in case.get("records", []):
        item = dict(item)
        eid = item.pop("entry", None)
        host.add(eid, item.pop("source"), item.pop("name"), item.pop("path", None), item.pop("scope", "machine"),
                 exempt=item.pop("exempt", False), finding=eid is not None, **item)
    return host


def case_entries(defaults, case):
    specs = case.get("entries", defaults["entries"])
    if "wechat_data_policy" in case:
        specs = dict(specs, wechat=dict(specs["wechat"], data_policy=case["wechat_data_policy"]))
    return dict((eid, entry(eid, spec.get("data_policy", "keep"), spec.get("data"), spec.get("leftovers")))
                for eid, spec in specs.items())


def show(value):
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def check(case_id, what, seen, expected):
    if seen != expected:
        diff = "\n".join(difflib.unified_diff(show(expected), show(seen), "expected", "seen", lineterm=""))
        pytest.fail("case %s, %s:\n%s" % (case_id, what, diff), pytrace=False)


def project(step, fields):
    return dict((f, step[f] if f in step else (ABSENT if fields[f] == ABSENT else None)) for f in fields)


@functools.lru_cache(maxsize=None)
def shipped_catalog():
    return load_catalog()


@functools.lru_cache(maxsize=None)
def inventory(name):
    with open(os.path.join(DATA_DIR, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def catalog_inputs(platform, defaults, case):
    """``(findings, collected, matched, entries, matcher's findings)`` of a case played through the shipped
    catalog and the real matcher."""
    collected = copy.deepcopy(inventory(case.get("inventory", defaults["inventory"])))
    if "collected_records" in case:
        collected["records"] = copy.deepcopy(case["collected_records"])
    catalog = shipped_catalog()
    selected = {"all": catalog.entries, "default": catalog.select()}[defaults["catalog"]]
    found, warnings, matched = Matcher(selected).match_records(platform, collected)
    if "findings" in case:
        findings = copy.deepcopy(case["findings"])
    else:
        check(case["id"], "matcher warnings", warnings, [])
        findings = found
    return findings, collected, matched, dict((e.id, e) for e in catalog.entries), found


@pytest.mark.parametrize("platform, defaults, case", load_cases())
def test_plan_case(platform, defaults, case):
    cid = case["id"]
    if "catalog" in defaults:
        findings, collected, matched, entries, found = catalog_inputs(platform, defaults, case)
    else:
        host = linux_host(defaults, case)
        findings, collected, matched = host.findings, host.collected(), host.matched
        entries, found = case_entries(defaults, case), findings
    options = dict(case.get("options", {}))
    options.setdefault("run_id", "R1")
    plan = plan_removal(platform, findings, collected, entries, options, matched)
    expected = dict(case["expected"])
    if "finding_keys" in expected:
        check(cid, "keys of the matcher's findings", sorted(f["key"] for f in found), expected.pop("finding_keys"))
    steps = plan["steps"]
    if "steps" in expected:
        want = expected.pop("steps")
        check(cid, "steps (each on the fields the case lists)", [project(s, w) for s, w in zip(steps, want)]
              + steps[len(want):], want)
    full = expected.pop("full_steps", [])
    if full == "all":
        check(cid, "steps in full", steps, case["expected"]["steps"])
    for sid in full if full != "all" else []:
        check(cid, "step %d in full" % sid, [s for s in steps if s["id"] == sid],
              [s for s in case["expected"]["steps"] if s["id"] == sid])
    if "argvs" in expected:
        check(cid, "argv of the command steps", [s["argv"] for s in steps if s["kind"] == "command"],
              expected.pop("argvs"))
    if "never_in_argv" in expected:
        text = expected.pop("never_in_argv")
        check(cid, "arguments containing %r" % text,
              [arg for s in steps if s["kind"] == "command" for arg in s["argv"] if text in arg], [])
    for k, ids in expected.pop("covered_includes", {}).items():
        check(cid, "covered[%s]" % k, plan["covered"].get(k), ids)
    for name, value in expected.items():
        check(cid, name, plan.get(name, ABSENT), value)
