# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: say clearly when a managed host's Python is too old for the collector (docs/support.md).

An interpreter older than ansible-core's own minimum cannot even start ansible-core's module wrapper, so
the module cannot say it itself: the task fails with "MODULE FAILURE" or "Module result deserialization
failed". Only after such a failure, the action asks the same interpreter for its version with one raw
command and, when it is too old, replaces the message with one that names the version found and the one
needed. A successful scan costs nothing extra.
"""

import re
import shlex

from ansible.release import __version__ as CORE_VERSION

# The collector and executor modules (collect, execute) run on Python 3.6 and later (tested with 3.6 and
# 3.7 under ansible-core 2.15 and 2.16); 2.7 lacks importlib.machinery, which they use.
COLLECTION_MIN_PYTHON = (3, 6)
# ansible-core's own oldest Python for modules on managed hosts, per release (its module_utils.basic).
CORE_MIN_PYTHON = {(2, 15): (3, 5), (2, 16): (3, 6), (2, 17): (3, 7), (2, 18): (3, 8), (2, 19): (3, 8)}
# Python 2 syntax too: the probe must run on any interpreter.
PROBE = "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"
FAILURE_MARKERS = ("MODULE FAILURE", "deserialization failed", "No start of json char", "SyntaxError",
                   "ImportError", "No module named", "requires a minimum of Python")


def _major_minor(version):
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def core_min_python(core_version=CORE_VERSION):
    """ansible-core's minimum managed-host Python (major, minor) for ``core_version``."""
    key = _major_minor(core_version)
    if key in CORE_MIN_PYTHON:
        return CORE_MIN_PYTHON[key]
    try:  # a later release: its own constant, when it is a version tuple
        from ansible.module_utils import basic
        value = getattr(basic, "_PY_MIN", None)
        if isinstance(value, tuple) and len(value) >= 2:
            return tuple(value[:2])
    except Exception:  # pylint: disable=broad-except  # the table's newest entry is a safe answer
        pass
    return max(CORE_MIN_PYTHON.values())


def required_python(core_version=CORE_VERSION):
    """The oldest managed-host Python this collection runs on with ``core_version``."""
    return max(COLLECTION_MIN_PYTHON, core_min_python(core_version))


def looks_like_interpreter_failure(result):
    """True for a module failure that an old interpreter can cause (not a message of the module itself)."""
    if not result.get("failed"):
        return False
    text = " ".join(str(result.get(key) or "") for key in ("msg", "module_stderr", "module_stdout", "exception"))
    return any(marker in text for marker in FAILURE_MARKERS)


def interpreter_command(action, task_vars, result):
    """The Python the module ran with, as an argument list: the shebang Ansible used for it, else the host's
    ansible_python_interpreter, else the discovered one."""
    used = getattr(action, "_used_interpreter", None)
    if used:
        return shlex.split(str(used).lstrip("#!").strip())
    path = interpreter_path(action, task_vars, result)
    return [path] if path else None


def interpreter_path(action, task_vars, result):
    """The host's ansible_python_interpreter, else the discovered interpreter."""
    configured = task_vars.get("ansible_python_interpreter")
    if configured:
        configured = str(action._templar.template(configured))
        if configured and not configured.startswith("auto"):
            return configured
    for facts in (result.get("ansible_facts") or {}, task_vars.get("ansible_facts") or {}):
        if facts.get("discovered_interpreter_python"):
            return str(facts["discovered_interpreter_python"])
    discovered = getattr(action, "_discovered_interpreter", None)
    return str(discovered) if discovered else None


def probe_version(action, interpreter):
    """``(major, minor, micro)`` of ``interpreter`` (an argument list) on the host, or None when it cannot be
    read."""
    command = " ".join(shlex.quote(part) for part in list(interpreter) + ["-c", PROBE])
    try:
        answer = action._low_level_execute_command(command, sudoable=False)
    except Exception:  # pylint: disable=broad-except  # the original failure stays the message
        return None
    match = re.search(r"^(\d+)\.(\d+)\.(\d+)\s*$", str(answer.get("stdout") or ""), re.M)
    return tuple(int(x) for x in match.groups()) if match else None


def too_old_message(interpreter, version, core_version=CORE_VERSION):
    needed = required_python(core_version)
    core = _major_minor(core_version)
    reasons = ["this collection's modules need %d.%d" % COLLECTION_MIN_PYTHON]
    reasons.append("ansible-core %d.%d needs %d.%d" % (core + core_min_python(core_version)))
    return ("the managed host's Python %s (%s) is too old: Python %d.%d or later is required on managed hosts "
            "(%s). Install a newer Python on the host and point ansible_python_interpreter at it (docs/support.md)."
            % (".".join(str(x) for x in version), interpreter, needed[0], needed[1], "; ".join(reasons)))


def explain_failure(action, task_vars, result):
    """A clear message when ``result`` (a failed module call of ``action``) comes from a managed-host Python
    older than required; None otherwise (the failure keeps its own message)."""
    if action is None or not looks_like_interpreter_failure(result):
        return None
    interpreter = interpreter_command(action, task_vars, result)
    if not interpreter:
        return None
    version = probe_version(action, interpreter)
    if version is None or version[:2] >= required_python():
        return None
    return too_old_message(" ".join(interpreter), version)
