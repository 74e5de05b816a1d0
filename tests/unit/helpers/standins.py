# -*- coding: utf-8 -*-
"""Recording stand-ins for commands that only exist on another system (launchctl, pkgutil, osascript,
brew, a vendor's uninstall script, ps).

    log = tmp_path / "calls.jsonl"
    write_standin(tmp_path / "bin" / "launchctl", log, "/bin/launchctl")
    ...
    read_calls(log) -> [{"cmd": "/bin/launchctl", "args": [...], "uid": 0, "cwd": "...", "env": {...}}, ...]

Each stand-in is a small Python script (this interpreter) that appends one JSON line per call to
``log`` — the command it stands for (``name``), its arguments, uid, working directory and the
environment variables in ``ENV_KEYS`` — then runs ``effect`` (Python source with ``args`` bound to
the arguments, e.g. to delete the receipt a ``pkgutil --forget`` would forget), prints ``stdout`` /
``stderr`` and exits with ``rc``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

ENV_KEYS = ("HOME", "USER", "LOGNAME", "LC_ALL", "HOMEBREW_NO_AUTO_UPDATE", "NONINTERACTIVE")

_TEMPLATE = '''#!%(python)s
import json, os, sys
args = sys.argv[1:]
with open(%(log)r, "a") as handle:
    handle.write(json.dumps({"cmd": %(name)r, "args": args, "uid": os.getuid(), "cwd": os.getcwd(),
                             "env": dict((k, os.environ[k]) for k in %(env)r if k in os.environ)}) + "\\n")
%(effect)s
sys.stdout.write(%(stdout)r)
sys.stderr.write(%(stderr)r)
sys.exit(%(rc)d)
'''


def write_standin(path, log, name, rc=0, stdout="", stderr="", effect=""):
    """Write an executable stand-in for command ``name`` at ``path``; return ``path`` as a string."""
    path = str(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    with open(path, "w") as handle:
        handle.write(_TEMPLATE % {"python": sys.executable, "log": str(log), "name": name, "env": ENV_KEYS,
                                  "effect": effect or "", "stdout": stdout, "stderr": stderr, "rc": rc})
    os.chmod(path, 0o755)
    return path


def read_calls(log):
    """The calls recorded in ``log``, in order (an empty list when nothing ran)."""
    if not os.path.exists(str(log)):
        return []
    with open(str(log)) as handle:
        return [json.loads(line) for line in handle if line.strip()]
