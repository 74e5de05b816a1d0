# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: run a remediation plan's steps on the host. Decides nothing.

The planner (controller) decides what to remove; this module only carries out the steps it is
given, in order, and reports what happened to each one (docs/design.md, "Remediation").

* The plan is checked first (``validate.py`` against ``schema.py``); a malformed plan runs nothing.
* A failed step never stops the others: every finding's outcome is decided later by a re-scan.
  The one exception is ``requires``: a step that requires a step which failed (or was skipped) is
  skipped, so user data is never purged when its archive failed.
* The steps: ``process.py`` (command, kill), ``paths.py`` (quarantine, archive, purge: through
  descriptors, never following a link), ``files.py`` (write_file, remove_file: reinstall blocks).

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import signal
import tarfile
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.journal import Journal
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.lock import RunLock
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.repair import needs_dpkg, repair_dpkg
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.files import (
    run_remove_file, run_write_file)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.paths import (
    remove_partial_copies, run_archive, run_purge, run_quarantine)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.process import (
    run_argv, run_command, run_kill)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.steps import StepError
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import (
    RUN_ID_RE, validate_run_id, validate_steps)
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    ARCHIVE_DIRS, QUARANTINE_DIRS, STATE_DIRS)
from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import interrupted, read_journal


DEFAULT_QUARANTINE_DIR = QUARANTINE_DIRS["linux"]
DEFAULT_ARCHIVE_DIR = ARCHIVE_DIRS["linux"]
DEFAULT_STATE_DIR = STATE_DIRS["linux"]
# Ignored while a plan runs: a controller that goes away (SIGHUP of the session, a closed pipe) must not
# stop the executor half-way through a package transaction. Commands run in their own session anyway.
DETACH_SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGPIPE") if hasattr(signal, name))


class RunRefused(Exception):
    """The run did not start (nothing was changed); ``details`` go to the result."""

    def __init__(self, msg, details=None):
        Exception.__init__(self, msg)
        self.details = details or {}


def _options(options):
    options = dict(options or {})
    options.setdefault("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    options.setdefault("default_timeout", DEFAULT_TIMEOUT)
    options.setdefault("quarantine_dir", DEFAULT_QUARANTINE_DIR)
    options.setdefault("archive_dir", DEFAULT_ARCHIVE_DIR)
    options.setdefault("check_mode", False)
    for key in ("lock_timeout", "default_timeout", "quarantine_dir", "archive_dir"):
        if options[key] is None:
            options[key] = {"lock_timeout": DEFAULT_LOCK_TIMEOUT, "default_timeout": DEFAULT_TIMEOUT,
                            "quarantine_dir": DEFAULT_QUARANTINE_DIR, "archive_dir": DEFAULT_ARCHIVE_DIR}[key]
    options["homes"] = list(options.get("homes") or ())
    return options


def run_plan(steps, options, runner=None, now=None, journal=None):
    """Run ``steps`` in order and return one result per step (see the module's RETURN).

    ``options``: ``lock_timeout``, ``default_timeout``, ``quarantine_dir``, ``archive_dir``,
    ``run_id``, ``check_mode``, ``homes`` (and ``proc_dir`` for tests). ``runner`` replaces
    ``run_argv``; ``now`` replaces ``time.time``. ``journal`` (``journal.Journal``) records each step
    before and after it acts. Raises ValueError when the plan is malformed (nothing is run then).
    """
    errors = validate_steps(steps)
    options = _options(options)
    if not validate_run_id(options.get("run_id")):
        errors.append("run_id: must match %s" % RUN_ID_RE.pattern)
    if errors:
        raise ValueError("; ".join(errors))
    runner = runner or run_argv
    clock = now or time.time
    results = []
    statuses = {}
    for step in steps:
        result = {"id": step["id"], "kind": step["kind"], "action": step.get("action"),
                  "status": "skipped", "msg": "", "duration": 0.0}
        if step["kind"] == "command":
            result.update(cmd=list(step["argv"]), rc=None, stdout="", stderr="", attempts=0)
        results.append(result)
        if options["check_mode"]:
            result["msg"] = "check mode"
            statuses[step["id"]] = "skipped"
            continue
        blocked = [r for r in step.get("requires") or () if statuses.get(r) in ("failed", "skipped", None)]
        if blocked:
            result["msg"] = "skipped: required step %s %s" % (
                blocked[0], "failed" if statuses.get(blocked[0]) == "failed" else "did not run")
            statuses[step["id"]] = "skipped"
            continue
        start = clock()
        if journal is not None:
            journal.step_started(step)
        try:
            kind = step["kind"]
            if kind == "command":
                status, msg = run_command(step, options, runner, result)
            elif kind == "kill":
                status, msg = run_kill(step, options, result, runner)
            elif kind == "quarantine":
                status, msg = run_quarantine(step, options, result, clock)
            elif kind == "archive":
                status, msg = run_archive(step, options, result)
            elif kind == "write_file":
                status, msg = run_write_file(step, options, result)
            elif kind == "remove_file":
                status, msg = run_remove_file(step, options, result)
            else:
                status, msg = run_purge(step, options, result)
        except StepError as exc:
            status, msg = "failed", str(exc)
        except (OSError, shutil.Error, tarfile.TarError) as exc:
            status, msg = "failed", "%s: %s" % (type(exc).__name__, getattr(exc, "strerror", None) or exc)
        except RecursionError:
            status, msg = "failed", "directory tree too deep"
        result.update(status=status, msg=msg, duration=round(max(0.0, clock() - start), 3))
        statuses[step["id"]] = status
        if journal is not None:
            journal.step_finished(result)
    return results


def _remove_partials(journal, previous_run, warnings):
    """The partial copies the interrupted run left in its quarantine (``paths.remove_partial_copies``) removed:
    listed in ``previous_run["partial_copies_removed"]`` and a warning; what could not be removed, a warning."""
    quarantine_dir, run_id = journal.get("quarantine_dir"), journal.get("run_id")
    if not isinstance(quarantine_dir, str) or not validate_run_id(run_id) or run_id in (".", ".."):
        return
    try:
        removed, errors = remove_partial_copies(quarantine_dir, run_id)
    except (OSError, StepError) as exc:
        removed, errors = [], [str(getattr(exc, "strerror", None) or exc)]
    if removed:
        previous_run["partial_copies_removed"] = removed
        warnings.append("the partial cop%s the interrupted run left in its quarantine removed (the data is still at "
                        "its original path): %s" % ("y" if len(removed) == 1 else "ies", ", ".join(removed)))
    if errors:
        warnings.append("the partial copies the interrupted run left in %s were not all removed: %s"
                        % (os.path.join(quarantine_dir, run_id), "; ".join(errors[:5])))


def run_guarded(steps, options, runner=None, now=None):
    """``run_plan`` under the host's run lock, with the journal, the package database repair and the
    controller's signals ignored (docs/design.md, "Run lock and journal").

    ``options`` as ``run_plan``'s, plus ``state_dir`` (the lock and the journal) and ``journal`` (False: the lock
    only; the journal is neither read nor written, as for the local fact's own call). Returns a dict: ``steps``
    (the results), ``interrupted_run`` (what an unfinished journal of a dead run says, or None),
    ``package_repair`` (None, or what ``repair.py`` did) and ``warnings``. Raises ``lock.RunLockBusy`` when
    another run holds the lock past ``lock_timeout``, ``RunRefused`` when the run cannot start safely
    (no journal can be written), ValueError on a malformed plan.
    """
    state_dir = options.get("state_dir") or DEFAULT_STATE_DIR
    if options.get("check_mode"):
        return {"steps": run_plan(steps, options, runner, now), "interrupted_run": None, "package_repair": None,
                "warnings": []}
    opts = _options(options)
    lock = RunLock(state_dir)
    lock.acquire(opts["lock_timeout"], opts.get("run_id"), now)
    previous = [(sig, signal.signal(sig, signal.SIG_IGN)) for sig in DETACH_SIGNALS]
    try:
        warnings = []
        if options.get("journal") is False:
            # The local fact's own call (one write_file step): the journal of an interrupted run is left for
            # the next removal to report, and this run keeps none.
            results = run_plan(steps, options, runner, now)
            return {"steps": results, "interrupted_run": None, "package_repair": None, "warnings": warnings}
        last = read_journal(state_dir)
        previous_run = interrupted(last)
        if previous_run:
            warnings.append(previous_run["detail"])
            # Before this run's journal replaces it: a run killed while it does this does it again.
            _remove_partials(last, previous_run, warnings)
        journal = Journal(state_dir, opts.get("run_id"), steps, now, opts["quarantine_dir"])
        try:
            journal.begin()
        except OSError as exc:
            raise RunRefused("the journal cannot be written in %s (%s); nothing was run" % (state_dir, exc.strerror),
                             {"interrupted_run": previous_run})
        repair = None
        if needs_dpkg(steps) or (previous_run and needs_dpkg([p for p in last.get("plan") or [] if isinstance(p, dict)])):
            # What dpkg --configure -a cannot finish (a removal killed in its prerm leaves the package
            # half-configured, marked for removal) the plan's own removal finishes: the run goes on. A dead
            # run that ran dpkg has its transaction finished even when this plan runs no dpkg.
            repair = repair_dpkg(opts, runner or run_argv)
            if repair:
                warnings.append(repair["msg"])
        results = run_plan(steps, options, runner, now, journal)
        journal.finish()
        warnings.extend(journal.errors)
        return {"steps": results, "interrupted_run": previous_run, "package_repair": repair, "warnings": warnings}
    finally:
        for sig, handler in previous:
            signal.signal(sig, handler)
        lock.release()
