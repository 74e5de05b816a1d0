# -*- coding: utf-8 -*-
"""win_collect's facts that prove an uninstall entry: the fields the planner reads are the ones the
PowerShell writes, and the code paths that keep a user's links and keys from steering SYSTEM.

No PowerShell runs here (docs/windows.md, "What is verified"): these checks read the parse tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan import winacl as _winacl
from ansible_collections.govsec.banned_software.tests.unit.test_powershell import (
    function_text, parse, read, text_of, top_level_value, walk,
)

COLLECT = read(os.path.join("plugins", "modules", "win_collect.ps1"))


def hashtable_keys(source):
    """Every key of every @{...} literal in ``source``, and every ``$x.key = ...`` assignment."""
    data = source if isinstance(source, bytes) else source.encode("utf-8")
    keys = set()
    for node in walk(parse(data).root_node):
        if node.type == "hash_entry":
            keys.add(text_of(data, node.named_children[0]).strip().strip("'\""))
    keys.update(re.findall(r"\$[A-Za-z]+\.([a-z_]+) = ", data.decode("utf-8")))
    return keys


def test_program_acls_carry_every_field_the_planner_reads():
    written = hashtable_keys(function_text(COLLECT, "Get-PathAcl") + function_text(COLLECT, "Get-ProgramAcl")
                             + function_text(COLLECT, "Add-UninstallerAcl"))
    expected = set(_winacl.REPORT_FIELDS + _winacl.NODE_FIELDS + _winacl.ACE_FIELDS)
    assert expected <= written, "win_collect does not write %s" % sorted(expected - written)


def test_installer_products_carry_the_fields_the_planner_reads():
    written = hashtable_keys(function_text(COLLECT, "Get-InstallerProduct"))
    assert set(["source", "sid", "view"]) <= written
    fields = top_level_value(COLLECT, "RegistrationFields")
    assert [f[0] for f in fields][:2] == ["display_name", "publisher"], fields
    assert b"Installer\\UserData" in function_text(COLLECT, "Get-InstallerProduct").encode("utf-8")


def test_a_link_or_junction_is_reported_before_any_permission_is_read():
    body = function_text(COLLECT, "Get-PathAcl")
    check, read_acl = body.find("if ($node.reparse) {"), body.find("GetAccessControl")
    assert 0 < check < read_acl, "Get-PathAcl must return on a reparse point before GetAccessControl"
    assert "return $node" in body[check:read_acl]


def test_the_registry_source_reads_both_facts_after_the_entries_they_prove():
    # Both read the kept uninstall entries ($records['registry']): they run after every entry is read.
    reader = function_text(COLLECT, "Read-RegistrySource")
    entries = max(reader.find("Read-UninstallKey -Root $hklm"), reader.find("Read-UserUninstallKey -User $user"))
    products, acls = reader.find("Get-InstallerProduct"), reader.find("Add-UninstallerAcl")
    assert 0 < entries < products < acls, "Read-RegistrySource must read the entries, then the products and ACLs"
    assert "$records['registry']" in function_text(COLLECT, "Get-RecordText")
    assert "$programAcls.Add((Get-ProgramAcl -Program $program))" in function_text(COLLECT, "Add-UninstallerAcl")


def test_both_facts_are_returned():
    assert b"$module.Result.installer_products = $installerProducts" in COLLECT
    assert b"$module.Result.program_acls = @($programAcls)" in COLLECT
