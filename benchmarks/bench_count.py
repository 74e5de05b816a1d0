# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: COUNTS what goes over the wire, per host and task.

Loaded by benchmarks/run.py through its own ansible.cfg (callback_plugins = <workdir>/callback_plugins,
callbacks_enabled = bench_count); never part of the collection.

When Ansible loads this callback (in the controller's main process, before any worker is forked) it
wraps two methods of ``ActionBase`` that every action plugin uses to reach a host:

* ``_execute_module``: one module round trip (the module is sent and run, its JSON comes back);
* ``_low_level_execute_command``: one command over the connection (with pipelining a module is
  exactly one; without it there are also mkdir/chmod/rm commands).

Workers are forked from the main process, so they inherit the wrappers. Each call appends one line
``kind<TAB>host<TAB>task<TAB>module`` to the file named by $BENCH_COUNT_LOG (O_APPEND writes of a
short line are atomic, so concurrent workers do not interleave). run.py adds the lines up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_count
    type: aggregate
    short_description: count module round trips and remote commands (benchmark only)
    description: Appends one line per module call and per remote command to $BENCH_COUNT_LOG.
    requirements: [enabled in ansible.cfg]
"""


def _log(kind, host, task, module=""):
    path = os.environ.get("BENCH_COUNT_LOG")
    if not path:
        return
    line = "%s\t%s\t%s\t%s\n" % (kind, host, str(task).replace("\t", " ").replace("\n", " "), module)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _task_name(action):
    try:
        return action._task.get_name()
    except Exception:  # pylint: disable=broad-except
        return "?"


def _host(action, task_vars=None):
    if task_vars and task_vars.get("inventory_hostname"):
        return task_vars["inventory_hostname"]
    try:
        return action._task_vars_host  # set by the module wrapper below
    except AttributeError:
        pass
    try:
        return action._play_context.remote_addr or "?"
    except Exception:  # pylint: disable=broad-except
        return "?"


if not getattr(ActionBase, "_bench_count_wrapped", False):
    _orig_execute_module = ActionBase._execute_module
    _orig_low_level = ActionBase._low_level_execute_command

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, *args, **kwargs):
        host = _host(self, task_vars)
        self._task_vars_host = host
        _log("module", host, _task_name(self), module_name or self._task.action)
        return _orig_execute_module(self, module_name, module_args, tmp, task_vars, *args, **kwargs)

    def _low_level_execute_command(self, cmd, *args, **kwargs):
        _log("exec", _host(self), _task_name(self))
        return _orig_low_level(self, cmd, *args, **kwargs)

    ActionBase._execute_module = _execute_module
    ActionBase._low_level_execute_command = _low_level_execute_command
    ActionBase._bench_count_wrapped = True


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_count"
    CALLBACK_NEEDS_ENABLED = True
