# -*- coding: utf-8 -*-
"""Run an action plugin of the collection in a test: a mocked Task, the module calls answered by a callable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import MagicMock

from ansible.playbook.task import Task

TASK_VARS = {"inventory_hostname": "h1", "ansible_connection": "ssh"}


def make_action(action_module, execute_module=None, args=None, check_mode=False, diff=False, templar=None):
    """An ``ActionModule`` of ``action_module`` whose ``_execute_module`` is ``execute_module`` (``templar``: a
    real ``Templar`` when the test reads variables through it, a mock otherwise)."""
    task = MagicMock(Task)
    task.args = dict(args or {})
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    connection = MagicMock()
    connection._shell = MagicMock()
    action = action_module.ActionModule(task, connection, MagicMock(), MagicMock(), templar or MagicMock(), MagicMock())
    if execute_module is not None:
        action._execute_module = execute_module
    return action


def run_action(action_module, execute_module=None, args=None, check_mode=False, diff=False, task_vars=None):
    """Run the action once and return its result."""
    action = make_action(action_module, execute_module, args, check_mode, diff)
    return action.run(task_vars=dict(TASK_VARS if task_vars is None else task_vars))


def recording(answer):
    """``(calls, execute_module)``: an ``_execute_module`` stand-in that records ``(module_name, module_args)``
    of each call and returns ``answer(module_name=..., module_args=..., task_vars=...)``."""
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        return answer(module_name=module_name, module_args=module_args, task_vars=task_vars)

    return calls, execute_module


def without_fact(args):
    """A remediate task's arguments with ``local_fact: false`` unless they set it: the tests of removal see only
    the removal's module calls (the local fact's are tested in test_local_fact_round_trips.py)."""
    return dict({"local_fact": False}, **(args or {}))
