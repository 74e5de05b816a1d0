# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A managed host whose Python is too old gets a message naming the version found and the one needed.
(Real old interpreters are run by tests/compat/run.sh; here the decisions and the probe command.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils import _interpreter as I

DESERIALIZATION = {"failed": True, "msg": "Module result deserialization failed: No start of json char found",
                   "module_stderr": "SyntaxError: future feature annotations is not defined", "rc": 1}


class FakeAction(object):
    def __init__(self, answer, used="#!/usr/bin/python3.6"):
        self._used_interpreter = used
        self.answer = answer
        self.commands = []
        self._templar = None

    def _low_level_execute_command(self, cmd, sudoable=True, **kwargs):
        self.commands.append(cmd)
        return self.answer


@pytest.mark.parametrize("core, needed", [
    ("2.15.13", (3, 6)), ("2.16.19", (3, 6)), ("2.17.14", (3, 7)), ("2.18.19", (3, 8)), ("2.19.14", (3, 8)),
])
def test_required_python_is_the_stricter_of_the_collection_and_ansible_core(core, needed):
    assert I.required_python(core) == needed


def test_too_old_interpreter_is_named_with_both_minimums():
    action = FakeAction({"rc": 0, "stdout": "3.6.15\n", "stderr": ""})
    message = I.explain_failure(action, {}, DESERIALIZATION)
    needed = I.required_python()
    assert message.startswith("the managed host's Python 3.6.15 (/usr/bin/python3.6) is too old: Python %d.%d or "
                              "later is required on managed hosts (this collection's modules need 3.6; ansible-core "
                              % needed)
    assert action.commands == ["/usr/bin/python3.6 -c " + shlex.quote(I.PROBE)]


def test_a_recent_interpreter_keeps_the_original_failure():
    action = FakeAction({"rc": 0, "stdout": "3.11.7\n"})
    assert I.explain_failure(action, {}, DESERIALIZATION) is None


@pytest.mark.parametrize("result", [
    {"failed": True, "msg": "unsupported system: SunOS"},  # the module's own message
    {"changed": False},  # not a failure
])
def test_no_probe_unless_the_module_could_not_start(result):
    action = FakeAction({"rc": 0, "stdout": "2.7.18\n"})
    assert I.explain_failure(action, {}, result) is None
    assert action.commands == []


def test_unreadable_probe_and_missing_action_keep_the_original_failure():
    assert I.explain_failure(FakeAction({"rc": 127, "stdout": "", "stderr": "not found"}), {}, DESERIALIZATION) is None
    assert I.explain_failure(None, {}, DESERIALIZATION) is None


def test_env_shebang_and_configured_interpreter():
    action = FakeAction({"rc": 0, "stdout": "2.7.18\n"}, used="#!/usr/bin/env python2")
    assert "(/usr/bin/env python2)" in I.explain_failure(action, {}, DESERIALIZATION)
    assert action.commands == ["/usr/bin/env python2 -c " + shlex.quote(I.PROBE)]
    action = FakeAction({"rc": 0, "stdout": "3.5.10\n"}, used=None)
    task_vars = {"ansible_facts": {"discovered_interpreter_python": "/usr/libexec/platform-python"}}
    assert "(/usr/libexec/platform-python)" in I.explain_failure(action, task_vars, DESERIALIZATION)
