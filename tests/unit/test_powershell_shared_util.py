# -*- coding: utf-8 -*-
"""The PowerShell code win_collect and win_execute share lives in one module util
(plugins/module_utils/AppLockerAppxFacts.psm1): both modules require it, Ansible's own dependency
finder ships it with both, it exports exactly the functions they call, and neither module keeps a
copy of it. What the executor checks again before it acts (the local AppLocker policy's text and
sha256, the size limit, a provisioned AppX package's family name) is therefore read one way.

No PowerShell runs here (docs/windows.md, "What is verified"): these checks read the parse tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from ansible_collections.govsec.banned_software.tests.unit.test_powershell import (
    PSM1_FILES, UTIL_PREFIX, commands, function_text, functions, parse, read, syntax_problem, text_of,
    top_level_statements, top_level_value,
)

UTIL_NAME = "AppLockerAppxFacts"
UTIL = os.path.join("plugins", "module_utils", UTIL_NAME + ".psm1")
COLLECT = os.path.join("plugins", "modules", "win_collect.ps1")
EXECUTE = os.path.join("plugins", "modules", "win_execute.ps1")
MODULES = {COLLECT: "win_collect", EXECUTE: "win_execute"}
REQUIRES = "#AnsibleRequires -PowerShell %s%s" % (UTIL_PREFIX, UTIL_NAME)


def util_functions():
    return [name for name, _node in functions(read(UTIL))]


def exported():
    members = top_level_value(read(UTIL), "exportMembers")
    assert isinstance(members, dict), "%s: no top-level $exportMembers = @{...}" % UTIL
    assert sorted(members) == ["Function"], "%s exports %s; only functions are shared" % (UTIL, sorted(members))
    names = members["Function"]
    return names if isinstance(names, list) else [names]


def calls(path, names):
    """The names of ``names`` that the script at ``path`` calls as commands (case-insensitive)."""
    wanted = dict((name.lower(), name) for name in names)
    return set(wanted[name] for name, _node in commands(read(path)) if name in wanted)


def test_the_util_is_the_only_psm1_and_parses():
    assert PSM1_FILES == [UTIL], "expected one PowerShell module util, %s; found %s" % (UTIL, PSM1_FILES)
    assert syntax_problem(read(UTIL)) is None


def test_the_util_exports_exactly_its_functions_with_export_module_member():
    data = read(UTIL)
    statements = top_level_statements(parse(data))
    last = text_of(data, statements[-1]).strip()
    assert last == "Export-ModuleMember @exportMembers", "%s ends with %r, not the export" % (UTIL, last)
    defined = util_functions()
    assert sorted(exported()) == sorted(defined), "%s defines %s but exports %s" % (UTIL, defined, exported())
    for statement in statements[:-1]:
        kind = statement.named_children[0].type if statement.named_children else statement.type
        text = text_of(data, statement)
        assert statement.type == "function_statement" or text.startswith("$exportMembers = "), \
            "%s runs %r at load time; a shared util only defines functions" % (UTIL, text[:60] or kind)


def test_the_util_exports_exactly_the_functions_the_modules_call():
    used = calls(COLLECT, exported()) | calls(EXECUTE, exported())
    assert sorted(used) == sorted(exported()), "exported %s, called by the modules %s (unused: %s)" % (
        sorted(exported()), sorted(used), sorted(set(exported()) - used))
    # What both sides must read alike is called by both.
    for name in ("Get-AppLockerPolicyText", "Get-AppLockerPolicyLimit", "Get-TextSha256", "Get-ProvisionedFamilyName"):
        for path in MODULES:
            assert name in calls(path, [name]), "%s does not call %s" % (path, name)


@pytest.mark.parametrize("path", sorted(MODULES))
def test_each_module_requires_the_util_and_defines_none_of_its_functions(path):
    text = read(path).decode("utf-8")
    assert re.search(r"(?m)^%s$" % re.escape(REQUIRES), text), "%s lacks %r" % (path, REQUIRES)
    for name in util_functions():
        assert function_text(read(path), name) is None, "%s defines its own %s (it is shared in %s)" % (
            path, name, UTIL)


@pytest.mark.parametrize("path", sorted(MODULES))
def test_ansible_ships_the_util_with_each_module(path):
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder
    finder = PSModuleDepFinder()
    fqn = "ansible_collections.govsec.banned_software.plugins.modules." + MODULES[path]
    shipped = finder.scan_module(read(path), fqn=fqn)
    assert UTIL_PREFIX + UTIL_NAME + ".psm1" in shipped, "Ansible would not ship %s with %s: %s" % (
        UTIL, MODULES[path], sorted(shipped))


def test_the_policy_is_read_and_hashed_only_by_the_util():
    util = function_text(read(UTIL), "Get-AppLockerPolicyText")
    assert '[string]::Join("`n", @(Get-AppLockerPolicy @policyArgs))' in util, util
    assert "$policyArgs = @{ Xml = $true; ErrorAction = 'Stop' }" in util and "$policyArgs[$Scope] = $true" in util
    assert "[ValidateSet('Local', 'Effective')]" in util
    sha = function_text(read(UTIL), "Get-TextSha256")
    assert "[System.Text.Encoding]::UTF8.GetBytes($Text)" in sha and ".ToLowerInvariant()" in sha, sha
    for path in MODULES:
        data = read(path)
        direct = [node.start_point[0] + 1 for name, node in commands(data) if name == "get-applockerpolicy"]
        assert not direct, "%s line %s reads the policy itself, not through %s" % (path, direct, UTIL)
        assert b"SHA256" not in data, "%s hashes by itself, not through Get-TextSha256" % path
        assert b"4194304" not in data, "%s has its own policy size limit, not Get-AppLockerPolicyLimit" % path


def test_the_collector_reports_what_the_executor_compares():
    state = function_text(read(COLLECT), "Add-AppLockerPolicyState")
    assert "foreach ($scope in @('Local', 'Effective'))" in state
    assert "$text = Get-AppLockerPolicyText -Scope $scope" in state
    assert '$State["${key}_sha256"] = Get-TextSha256 -Text $text' in state
    assert '$State["${key}_xml"] = $text' in state and "$text.Length -gt $maxChars" in state
    assert "$maxChars = Get-AppLockerPolicyLimit" in state
    step = function_text(read(EXECUTE), "Invoke-AppLockerPolicyStep")
    assert "$before = Get-AppLockerPolicyText -Scope Local" in step
    assert "$Result.sha256_before = Get-TextSha256 -Text $before" in step
    assert step.index("$Result.sha256_before -ne $Step['expect_sha256']") < step.index("Set-AppLockerPolicy"), step
    assert "$after = Get-AppLockerPolicyText -Scope Local" in step
    check = function_text(read(EXECUTE), "Get-AppLockerPolicyStepError")
    assert "$maxChars = Get-AppLockerPolicyLimit" in check and "$xml.Length -gt $maxChars" in check


def test_the_policy_limit_is_the_planners():
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.windows import MAX_POLICY_CHARS
    body = function_text(read(UTIL), "Get-AppLockerPolicyLimit")
    numbers = re.findall(r"^\s+(\d+)\s*$", body, re.M)
    assert numbers == [str(MAX_POLICY_CHARS)], "the util's limit %s, the planner's %d" % (numbers, MAX_POLICY_CHARS)


def test_provisioned_packages_are_named_by_family_only_in_the_util():
    util = function_text(read(UTIL), "Get-ProvisionedFamilyName")
    assert "$parts = $PackageName.Split('_')" in util and "if ($parts.Count -lt 5) {" in util
    assert "$parts[0] + '_' + $parts[$parts.Count - 1]" in util
    for path in MODULES:
        assert b".Split('_')" not in read(path), "%s splits package names itself" % path
    appx = function_text(read(COLLECT), "Read-ProvisionedAppx")
    assert "$family = Get-ProvisionedFamilyName -PackageName ([string]$package.PackageName)" in appx
    assert "if ($null -eq $family) {" in appx and "$family = [string]$package.DisplayName" in appx
    step = function_text(read(EXECUTE), "Invoke-AppxDeprovisionStep")
    assert "$family = Get-ProvisionedFamilyName -PackageName ([string]$_.PackageName)" in step
    assert "$_.PackageName -eq $name -or ($null -ne $family -and $family -eq $name)" in step
