# -*- coding: utf-8 -*-
"""The shape of the PowerShell modules: win_collect reads each source in one function behind a
dispatch table ($SourceReaders) whose names are exactly the spec's source choices, and its top level
only defines, then runs; win_execute validates each step kind in one function behind $StepValidators,
whose kinds are its $KindFields and $Runners; no function in either module (or the shared util) is
longer than MAX_FUNCTION_LINES.

No PowerShell runs here (docs/windows.md, "What is verified"): these checks read the parse tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from ansible_collections.govsec.banned_software.tests.unit.test_powershell import (
    MODULES, PSM1_FILES, function_text, functions, module_spec, parse, read, text_of, top_level_statements,
    top_level_value, walk,
)

COLLECT = os.path.join("plugins", "modules", "win_collect.ps1")
EXECUTE = os.path.join("plugins", "modules", "win_execute.ps1")
# A function, from "function" to its closing brace, is at most this many lines.
MAX_FUNCTION_LINES = 60
# The run at the end of win_collect (after $SourceReaders, to ExitJson) is at most this many lines.
MAX_RUN_LINES = 75
# Sections a collect call returns besides the sources, each read by its own function.
COLLECT_SECTIONS = {"Read-ProfileList": "users", "Get-BlockState": "block_state",
                    "Get-RebootReason": "reboot_required", "Read-LocalFact": "local_fact_text"}


def source_readers():
    table = top_level_value(read(COLLECT), "SourceReaders")
    assert isinstance(table, dict), "%s: no top-level $SourceReaders = [ordered]@{...}" % COLLECT
    return table


def line_count(node):
    return node.end_point[0] - node.start_point[0] + 1


# --- win_collect: one function per source, behind the table --------------------------------------

def test_the_dispatch_table_names_exactly_the_source_choices():
    choices = module_spec(read(COLLECT))["options"]["sources"]["choices"]
    table = source_readers()
    assert sorted(table) == sorted(choices), "$SourceReaders has %s, the spec's choices are %s" % (
        sorted(table), sorted(choices))


@pytest.mark.parametrize("source", sorted(source_readers()))
def test_every_source_has_a_reader_function_and_a_failure_text(source):
    entry = source_readers()[source]
    assert sorted(entry) == ["fails", "read"], "%s: %r" % (source, entry)
    reader = function_text(read(COLLECT), entry["read"])
    assert reader is not None, "%s: the reader %s is not defined in %s" % (source, entry["read"], COLLECT)
    assert re.search(r"^\s+param\(\[string\]\$Source\)$", reader, re.M), \
        "%s must take param([string]$Source): the run calls every reader with -Source" % entry["read"]
    assert isinstance(entry["fails"], str) and entry["fails"].strip(), "%s: no failure text" % source


def test_path_sources_share_one_reader_and_name_sources_have_their_own():
    table = source_readers()
    assert {table[s]["read"] for s in ("file", "data", "leftover")} == {"Read-PathSource"}
    named = [table[s]["read"] for s in ("registry", "appx", "service", "process", "npm")]
    assert len(set(named)) == len(named), named
    assert top_level_value(read(COLLECT), "NameSources") == ["registry", "appx", "service", "process", "npm"]


def test_the_run_calls_every_wanted_source_through_the_table_and_keeps_going_on_failure():
    data = read(COLLECT).decode("utf-8")
    run = data[data.index("$SourceReaders = [ordered]@{"):]
    loop = run[run.index("foreach ($source in $wanted) {"):]
    loop = loop[:loop.index("\n}\n") + 3]
    expected = [
        "$reader = $SourceReaders[$source]",
        "$read = $reader.read",
        "$null = & $read -Source $source",
        "catch {",
        "$available[$source] = $false",
        'Add-CollectorWarning -Message ("{0}: {1}: {2}" -f $source, $reader.fails, $_.Exception.Message)',
    ]
    positions = [loop.find(line) for line in expected]
    assert -1 not in positions and positions == sorted(positions), "the run loop is not as expected:\n%s" % loop
    # The sources that are read are those of the table (nothing else adds to $wanted).
    assert "foreach ($source in $SourceReaders.Keys) {" in run
    assert data.count("$wanted.Add(") == 1


def test_no_reader_is_called_but_through_the_table():
    data = read(COLLECT)
    readers = {entry["read"].lower() for entry in source_readers().values()}
    for node in walk(parse(data).root_node):
        if node.type == "command_name" and text_of(data, node).lower() in readers:
            raise AssertionError("%s line %d calls %s directly" % (COLLECT, node.start_point[0] + 1, text_of(data, node)))


def test_the_collect_top_level_only_defines_then_runs():
    """Before the run: assignments of constants and state, and function definitions; no source body."""
    data = read(COLLECT)
    statements = top_level_statements(parse(data))
    starts = [i for i, s in enumerate(statements) if text_of(data, s).startswith("$SourceReaders = ")]
    assert len(starts) == 1, "no single top-level $SourceReaders assignment"
    for statement in statements[:starts[0]]:
        text = text_of(data, statement)
        assert statement.type == "function_statement" or re.match(r"\$\w+ = ", text), \
            "%s line %d: %r runs before the run section" % (COLLECT, statement.start_point[0] + 1, text[:70])
    run = statements[starts[0] + 1:]
    lines = run[-1].end_point[0] - run[0].start_point[0] + 1
    assert lines <= MAX_RUN_LINES, "the run is %d lines (at most %d)" % (lines, MAX_RUN_LINES)
    assert not [s for s in run if s.type == "function_statement"], "a function is defined inside the run"


def test_each_section_is_read_by_its_function_and_returned():
    data = read(COLLECT).decode("utf-8")
    run = data[data.index("$SourceReaders = [ordered]@{"):]
    for function, returned in COLLECT_SECTIONS.items():
        assert function_text(read(COLLECT), function) is not None, "%s is not defined" % function
        assert function in run, "the run does not call %s" % function
        assert "$module.Result.%s = " % returned in run, "the run does not return %s" % returned
    assert "if ($module.Params.block_state) {\n    $module.Result.block_state = Get-BlockState\n}" in run


def test_every_result_field_of_a_collect_call_is_still_returned():
    """The fields the planner, the report and the docs read (win_collect.py RETURN)."""
    data = read(COLLECT).decode("utf-8")
    returned = set(re.findall(r"\$module\.Result\.(\w+) = ", data))
    assert returned == {"changed", "os", "collector_version", "records", "users", "environment", "reboot_required",
                        "reboot_reasons", "counts", "available", "local_fact_text", "local_fact_file", "installer_products",
                        "program_acls", "collector_warnings", "block_state"}, sorted(returned)


# --- win_execute: one validator per step kind, behind the table ----------------------------------

def test_every_step_kind_has_a_validator_and_a_runner():
    data = read(EXECUTE)
    kinds = sorted(top_level_value(data, "KindFields"))
    validators = top_level_value(data, "StepValidators")
    runners = top_level_value(data, "Runners")
    assert isinstance(validators, dict) and sorted(validators) == kinds, "validators %s, kinds %s" % (
        sorted(validators or {}), kinds)
    assert isinstance(runners, dict) and sorted(runners) == kinds, "runners %s, kinds %s" % (sorted(runners or {}), kinds)
    for kind in kinds:
        for table, name in (("$StepValidators", validators[kind]), ("$Runners", runners[kind])):
            assert function_text(data, name) is not None, "%s.%s names %s, which is not defined" % (table, kind, name)


def test_get_step_error_checks_the_common_fields_then_calls_the_kinds_validator():
    body = function_text(read(EXECUTE), "Get-StepError")
    assert "switch" not in body.lower(), "Get-StepError branches on the kind again instead of using $StepValidators"
    assert "$validate = $StepValidators[$kind]" in body
    assert "foreach ($problem in @(& $validate -Step $Step -Label $label)) {" in body
    assert body.index("$KindFields.Contains($kind)") < body.index("$validate = $StepValidators[$kind]")


@pytest.mark.parametrize("name", sorted(set(top_level_value(read(EXECUTE), "StepValidators").values())
                                        | {"Get-SecretError"}))
def test_every_validator_message_names_the_step(name):
    """A validator returns its problems as strings, each starting with the step's label."""
    body = function_text(read(EXECUTE), name)
    assert re.search(r"^\s+param\(\$Step, \[string\]\$Label\)$", body, re.M), "%s: param($Step, [string]$Label)" % name
    outputs = re.findall(r"^\s+(\".*\")\s*$", body, re.M)
    assert outputs, "%s returns no problem" % name
    for text in outputs:
        assert text.startswith('"${Label}: '), "%s: %s does not start with the step's label" % (name, text)
    assert "$errors" not in body.lower(), "%s writes to a list; a validator returns its problems" % name


# --- long functions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", MODULES + PSM1_FILES)
def test_no_function_is_longer_than_the_bound(path):
    data = read(path)
    found = list(functions(data))
    assert found, "%s defines no function" % path
    long = ["%s (%d lines, line %d)" % (name, line_count(node), node.start_point[0] + 1)
            for name, node in found if line_count(node) > MAX_FUNCTION_LINES]
    assert not long, "%s: functions longer than %d lines: %s" % (path, MAX_FUNCTION_LINES, ", ".join(long))


def test_the_length_check_sees_a_long_function():
    source = "function Get-Long {\n" + "    $x = 1\n" * MAX_FUNCTION_LINES + "}\n"
    [(name, node)] = list(functions(source.encode("utf-8")))
    assert name == "Get-Long" and line_count(node) == MAX_FUNCTION_LINES + 2
