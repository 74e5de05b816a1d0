# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: bring the package database back to a consistent state before a plan removes anything.

A package transaction killed half-way (``kill -9``, a reboot, a run of another tool) leaves dpkg with
packages half-configured or half-removed. Before the first step of a plan that runs dpkg or apt, the
executor asks ``dpkg --audit``; when it reports anything, ``dpkg --configure -a`` finishes the interrupted
work first, the way dpkg itself asks for (its own message says so), with the dpkg lock waited for like any
step's. What it cannot finish is reported (``status: failed``) and the plan still runs: a removal killed in
its ``prerm`` leaves the package half-configured and selected for removal, which ``--configure -a`` leaves
alone and the plan's own ``dpkg --remove`` completes (the verification scan then says what is left).
rpm needs no such step: an rpm transaction is applied package by package in its database, so the
next scan sees each package either installed or gone, and the plan removes what is still there.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.process import (
    _command_env, _full_text, _truncate, run_command)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.steps import StepError

AUDIT = ["dpkg", "--audit"]
CONFIGURE = ["dpkg", "--configure", "-a"]
AUDIT_TIMEOUT = 120


def needs_dpkg(steps):
    """Whether the plan runs dpkg or apt (a command step waiting on the dpkg lock)."""
    return any(s.get("kind") == "command" and s.get("lock") == "dpkg" for s in steps)


def repair_dpkg(options, runner):
    """Audit dpkg; finish an interrupted transaction. Returns None (clean) or the record for the result.

    The record: ``audit`` (what ``dpkg --audit`` printed), ``status`` (``changed``: ``dpkg --configure -a``
    ran and the audit is clean now; ``failed``), ``msg``, ``rc``, ``stdout``, ``stderr``.
    """
    rc, out, err, timed_out, error = runner(AUDIT, env=_command_env({}), cwd=None, timeout=AUDIT_TIMEOUT,
                                            preexec_fn=None)
    if error or timed_out:
        return {"audit": None, "status": "failed",
                "msg": "dpkg --audit could not be run: %s" % (error or "timed out after %d s" % AUDIT_TIMEOUT)}
    report = (_full_text(out) + _full_text(err)).strip()
    if rc == 0 and not report:
        return None
    record = {"audit": _truncate(report), "status": "failed", "msg": ""}
    step = {"argv": list(CONFIGURE), "lock": "dpkg"}
    try:
        run_command(step, options, runner, record)
    except StepError as exc:
        record["msg"] = "dpkg --configure -a failed (the plan goes on): %s" % exc
        return record
    rc, out, err, timed_out, error = runner(AUDIT, env=_command_env({}), cwd=None, timeout=AUDIT_TIMEOUT,
                                            preexec_fn=None)
    after = (_full_text(out) + _full_text(err)).strip()
    if error or timed_out or rc != 0 or after:
        record["msg"] = ("dpkg --configure -a ran (rc %s) but dpkg --audit still reports (the plan goes on; its "
                         "removal completes an interrupted one): %s" % (record.get("rc"), _truncate(after or error or "timed out")))
        return record
    record.update(status="changed", msg="an interrupted dpkg transaction was completed (dpkg --configure -a)")
    return record
