# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's checks of a plan's shape, before anything runs (``schema.py`` holds the fields).

Strict: unknown kinds and unknown fields are errors (a misspelt ``run_as`` must not silently run a command
as root), and each message names the step and the field.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.files import check_file_step
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.process import LOCK_MESSAGES
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    COMMON_FIELDS, KIND_FIELDS, KINDS, LABEL_FIELDS, PATH_TYPES, RUN_AS_FIELDS)

# \Z, not $: "$" also matches before a trailing newline.
RUN_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}\Z")
STEP_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}\Z")
ARCHIVE_NAME_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}\Z")
COMMAND_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}\Z")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text(value):
    return isinstance(value, str) and value != "" and "\x00" not in value


def _is_abs_path(value):
    return _is_text(value) and normalise_path(value) is not None


def _text_list(value, allow_empty=False):
    return (isinstance(value, list) and (allow_empty or len(value) > 0)
            and all(_is_text(v) for v in value))


def _valid_step_id(value):
    if _is_int(value):
        return True
    return isinstance(value, str) and STEP_ID_RE.match(value) is not None


def _check_command(step, bad):
    argv = step.get("argv")
    if not _text_list(argv):
        bad("argv", "must be a non-empty list of non-empty strings without NUL")
    elif not (argv[0].startswith("/") or COMMAND_NAME_RE.match(argv[0])):
        bad("argv", "argv[0] must be an absolute path or a bare command name, not %r" % argv[0])
    elif argv[0].startswith("/") and normalise_path(argv[0]) is None:
        bad("argv", "argv[0] %r is not a clean absolute path" % argv[0])
    if "timeout" in step and not (_is_int(step["timeout"]) and step["timeout"] > 0):
        bad("timeout", "must be a positive integer (seconds)")
    if "env" in step:
        env = step["env"]
        if not isinstance(env, dict):
            bad("env", "must be a mapping of variable names to strings")
        else:
            for key, value in env.items():
                if not (isinstance(key, str) and ENV_NAME_RE.match(key)):
                    bad("env", "invalid variable name %r" % (key,))
                elif not (isinstance(value, str) and "\x00" not in value):
                    bad("env", "value of %s must be a string without NUL" % key)
    if "run_as" in step:
        run_as = step["run_as"]
        if not isinstance(run_as, dict):
            bad("run_as", "must be a mapping with user, uid, gid and home")
        else:
            unknown = sorted(str(k) for k in run_as if k not in RUN_AS_FIELDS)
            missing = [k for k in RUN_AS_FIELDS if k not in run_as]
            if unknown:
                bad("run_as", "unknown keys %s" % ", ".join(unknown))
            if missing:
                bad("run_as", "missing %s" % ", ".join(missing))
            if "user" in run_as and not (isinstance(run_as["user"], str) and USER_NAME_RE.match(run_as["user"])):
                bad("run_as.user", "not a valid user name: %r" % (run_as["user"],))
            for key in ("uid", "gid"):
                if key in run_as and not (_is_int(run_as[key]) and run_as[key] >= 0):
                    bad("run_as.%s" % key, "must be a non-negative integer")
            if "home" in run_as and not _is_abs_path(run_as["home"]):
                bad("run_as.home", "must be a clean absolute path")
    if "ok_rc" in step:
        ok_rc = step["ok_rc"]
        if not (isinstance(ok_rc, list) and ok_rc and all(_is_int(v) for v in ok_rc)):
            bad("ok_rc", "must be a non-empty list of integers")
    for key in ("tolerate", "absent"):
        if key in step and not _text_list(step[key], allow_empty=True):
            bad(key, "must be a list of non-empty strings")
    if "lock" in step and step["lock"] not in LOCK_MESSAGES:
        bad("lock", "must be one of %s, not %r" % (", ".join(sorted(LOCK_MESSAGES)), step["lock"]))


def _check_kill(step, bad):
    pids = step.get("pids")
    if not (isinstance(pids, list) and pids and all(_is_int(p) and p > 1 for p in pids)):
        bad("pids", "must be a non-empty list of integers greater than 1")
    if "exe" not in step and "comm" not in step:
        bad("exe", "exe or comm is required (a pid is only signalled when it still matches)")
    if "exe" in step and not _is_abs_path(step["exe"]):
        bad("exe", "must be a clean absolute path")
    if "comm" in step and not (_is_text(step["comm"]) and len(step["comm"]) <= 64 and "\n" not in step["comm"]):
        bad("comm", "must be a non-empty process name without newline")
    if "grace" in step and not (_is_number(step["grace"]) and 0 <= step["grace"] <= 3600):
        bad("grace", "must be a number of seconds between 0 and 3600")


def _check_path_step(step, bad):
    if not _is_abs_path(step.get("path")):
        bad("path", "must be a clean absolute path (no '.', '..' or NUL)")
    if step.get("type") not in PATH_TYPES:
        bad("type", "must be one of %s, not %r" % (", ".join(PATH_TYPES), step.get("type")))


def _check_limits(step, bad):
    if "max_bytes" in step and not (_is_int(step["max_bytes"]) and step["max_bytes"] > 0):
        bad("max_bytes", "must be a positive integer (bytes)")
    if "timeout" in step and not (_is_int(step["timeout"]) and step["timeout"] > 0):
        bad("timeout", "must be a positive integer (seconds)")


def _check_quarantine(step, bad):
    _check_path_step(step, bad)
    _check_limits(step, bad)


def _check_archive(step, bad):
    paths = step.get("paths")
    if not (isinstance(paths, list) and paths and all(_is_abs_path(p) for p in paths)):
        bad("paths", "must be a non-empty list of clean absolute paths")
    name = step.get("name")
    if not (isinstance(name, str) and ARCHIVE_NAME_RE.match(name)):
        bad("name", "must match %s, not %r" % (ARCHIVE_NAME_RE.pattern, name))
    _check_limits(step, bad)


_CHECKS = {"command": _check_command, "kill": _check_kill, "quarantine": _check_quarantine,
           "archive": _check_archive, "purge": _check_path_step,
           "write_file": check_file_step, "remove_file": check_file_step}


def validate_steps(steps):
    """Return a list of error messages (empty when every step is well formed).

    Checks shapes only, strictly: unknown kinds and unknown fields are errors (a misspelt
    ``run_as`` must not silently run a command as root). Each message names the step and field.
    """
    if not isinstance(steps, list):
        return ["steps: must be a list of mappings"]
    errors = []
    seen = set()
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            errors.append("step #%d: must be a mapping, not %s" % (index + 1, type(step).__name__))
            continue
        step_id = step.get("id")
        label = "step %s" % (step_id,) if _valid_step_id(step_id) else "step #%d" % (index + 1)
        kind = step.get("kind")
        if kind in KINDS:
            label = "%s (%s)" % (label, kind)

        def bad(field, message, label=label):
            errors.append("%s: field %s: %s" % (label, field, message))

        if not _valid_step_id(step_id):
            bad("id", "must be an integer or a string matching %s, not %r" % (STEP_ID_RE.pattern, step_id))
        elif step_id in seen:
            bad("id", "duplicate step id %r" % (step_id,))
        if kind not in KINDS:
            bad("kind", "unknown kind %r (known: %s)" % (kind, ", ".join(KINDS)))
        else:
            unknown = sorted(str(k) for k in step if k not in COMMON_FIELDS + LABEL_FIELDS + KIND_FIELDS[kind])
            if unknown:
                bad(unknown[0], "unknown field(s) %s for kind %s" % (", ".join(unknown), kind))
            _CHECKS[kind](step, bad)
        if "action" in step and not (step["action"] is None or isinstance(step["action"], str)):
            bad("action", "must be a string")
        if "findings" in step and not (isinstance(step["findings"], list)
                                       and all(isinstance(f, str) for f in step["findings"])):
            bad("findings", "must be a list of strings")
        if "requires" in step:
            requires = step["requires"]
            if not (isinstance(requires, list) and all(_valid_step_id(r) for r in requires)):
                bad("requires", "must be a list of step ids")
            else:
                for required in requires:
                    if required not in seen:
                        bad("requires", "step %r is not an earlier step of the plan" % (required,))
        if _valid_step_id(step_id):
            seen.add(step_id)
    return errors


def validate_run_id(run_id):
    return isinstance(run_id, str) and RUN_ID_RE.match(run_id) is not None
