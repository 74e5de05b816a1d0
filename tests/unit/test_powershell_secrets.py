# -*- coding: utf-8 -*-
"""Uninstall secrets (KLLOGIN/KLPASSWD) reach msiexec as whole MSI property values: always quoted, a
quote inside doubled (Microsoft's msiexec command-line rules), so that no value is read as another
msiexec option; secrets go to msiexec.exe only, as NAME={{secret:x}}.

PowerShell does not run here: the substitution is read from win_execute.ps1's parse tree, and the
quoting rule it applies is checked against a model of how msiexec reads properties.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.govsec.banned_software.tests.unit.test_powershell import function_text, read

EXECUTE = read(os.path.join("plugins", "modules", "win_execute.ps1"))


def msi_quote(value):
    """What ConvertTo-MsiPropertyValue does: '"' + $Value.Replace('"', '""') + '"'."""
    return '"' + value.replace('"', '""') + '"'


def msiexec_tokens(tail):
    """How msiexec reads a command-line tail: options (/x, /qn ...) and NAME=VALUE properties, a value in
    quotes running to the next quote that is not doubled (a doubled quote is one quote)."""
    out, i, n = [], 0, len(tail)
    while i < n:
        if tail[i] in " \t":
            i += 1
            continue
        start = i
        while i < n and tail[i] not in " \t=":
            i += 1
        if i < n and tail[i] == "=":
            name = tail[start:i]
            i += 1
            if i < n and tail[i] == '"':
                i += 1
                value = []
                while i < n:
                    if tail[i] == '"' and i + 1 < n and tail[i + 1] == '"':
                        value.append('"')
                        i += 2
                    elif tail[i] == '"':
                        i += 1
                        break
                    else:
                        value.append(tail[i])
                        i += 1
                out.append(("property", name, "".join(value)))
            else:
                vstart = i
                while i < n and tail[i] not in " \t":
                    i += 1
                out.append(("property", name, tail[vstart:i]))
        else:
            out.append(("option", tail[start:i]))
    return out


def test_the_substitution_quotes_every_secret():
    step = function_text(EXECUTE, "Invoke-CommandStep")
    assert '(ConvertTo-MsiPropertyValue -Value ([string]$secrets[$name]))' in step
    assert step.count(".Replace(\"{{secret:$name}}\"") == 1
    quote = function_text(EXECUTE, "ConvertTo-MsiPropertyValue")
    assert "'\"' + $Value.Replace('\"', '\"\"') + '\"'" in quote


@pytest.mark.parametrize("password", [
    "a b", 'say "hi"', '" /i \\\\evil\\share\\x.msi ', "/qb", "x REBOOT=Force", '""', "", "=", "p%PATH%",
    "тест пароль", "\\\\\\", 'end"',
])
def test_no_secret_value_is_ever_read_as_another_msiexec_option(password):
    tail = "/x {9A017278-F7F4-4DF9-A482-0B97B70DD7ED} /qn /norestart KLLOGIN=%s KLPASSWD=%s" % (
        msi_quote("KLAdmin"), msi_quote(password))
    assert msiexec_tokens(tail) == [
        ("option", "/x"), ("option", "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}"), ("option", "/qn"),
        ("option", "/norestart"), ("property", "KLLOGIN", "KLAdmin"), ("property", "KLPASSWD", password)]


def test_unquoted_substitution_would_split_the_value():
    """The attack the quoting closes: a blank in the value starts another msiexec option."""
    tokens = msiexec_tokens("/x {X} /qn KLPASSWD=a /i \\\\evil\\x.msi")
    assert ("option", "/i") in tokens


def test_the_executor_refuses_secrets_it_cannot_pass_safely():
    body = EXECUTE.decode("utf-8")
    assert "secrets are passed to msiexec.exe only (as MSI property values)" in body
    assert "must be a whole MSI property value (NAME={{secret:$name}})" in body
    assert "contains a control character" in body
