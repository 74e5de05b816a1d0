# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the one executor call of a host's plan, from an action plugin (remediate, block)."""

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    ARCHIVE_DIRS, QUARANTINE_DIRS, STATE_DIRS)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import executor_steps

EXECUTORS = {"linux": "govsec.banned_software.execute", "windows": "govsec.banned_software.win_execute",
             "macos": "govsec.banned_software.execute"}
# The executors' default directories (module_utils/_host_paths.py), sent with every plan.
DEFAULT_DIRS = dict((platform, (QUARANTINE_DIRS[platform], ARCHIVE_DIRS[platform])) for platform in QUARANTINE_DIRS)


# What the executor says of the run itself besides its steps (docs/design.md, "Run lock and journal").
RUN_KEYS = ("run_lock", "interrupted_run", "package_repair", "run_warnings")


def execute_plan(execute_module, task_vars, platform, steps, run_id, collected, args, secrets=None, run=None,
                 journal=True):
    """Run ``steps`` with the platform's executor in one module call.

    ``args`` gives ``lock_timeout``, ``step_timeout`` and optionally ``quarantine_dir``/``archive_dir``
    (default: the platform's). ``secrets`` (values) go to the executor only, a no_log option there.
    Returns ``(step_results, error)``: ``error`` says why the executor returned no step results.
    ``run`` (a dict), when given, receives the executor's ``RUN_KEYS`` that it returned (``run_lock``: the
    run lock was held by another run, named there), and ``executor_lost`` when the executor ended without
    a result at all (killed, its host gone): then any part of the plan may have run. ``journal=False``: the
    executor takes the run lock but leaves the journal alone (the local fact's own call).
    """
    homes = [u["home"] for u in collected.get("users") or [] if isinstance(u, dict) and u.get("home")]
    quarantine_dir, archive_dir = DEFAULT_DIRS.get(platform, DEFAULT_DIRS["linux"])
    module_args = {
        "steps": executor_steps(steps, platform), "run_id": run_id, "lock_timeout": args["lock_timeout"],
        "default_timeout": args["step_timeout"], "quarantine_dir": args.get("quarantine_dir") or quarantine_dir,
        "archive_dir": args.get("archive_dir") or archive_dir, "homes": homes}
    if platform != "windows":
        # The run lock and the journal (win_execute: a named mutex, and its journal in its fixed state directory).
        module_args["state_dir"] = STATE_DIRS.get(platform, STATE_DIRS["linux"])
    if not journal:
        module_args["journal"] = False
    if secrets:
        module_args["secrets"] = dict((str(k), str(v)) for k, v in secrets.items())
    executed = execute_module(module_name=EXECUTORS[platform], task_vars=task_vars, module_args=module_args)
    step_results = executed.get("steps") if isinstance(executed.get("steps"), list) else []
    if run is not None:
        run.update((key, executed[key]) for key in RUN_KEYS if executed.get(key))
    error = None
    if not step_results and executed.get("failed"):
        error = str(executed.get("msg"))
        lost = executor_lost(executed)
        if lost and run is not None:
            run["executor_lost"] = lost
    return step_results, error


def executor_lost(executed):
    """How the executor ended when it returned no result of its own (Ansible's ``MODULE FAILURE``: no JSON
    came back; ``rc`` 137 is SIGKILL through the shell), else None: a result it returned says it ran nothing."""
    if "module_stdout" not in executed and "module_stderr" not in executed:
        return None
    rc = executed.get("rc")
    if isinstance(rc, int) and rc > 128:
        return "rc %d: killed by signal %d" % (rc, rc - 128)
    if isinstance(rc, int) and rc < 0:
        return "killed by signal %d" % -rc
    return "rc %s, no result" % rc
