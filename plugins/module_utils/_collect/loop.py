# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the parts of the per-source loop that the Linux and macOS collectors share.

Each collector keeps its own dispatch (its sources and listers differ); these helpers give both the same
source selection, the same guard (one failing source never stops the others, each source runs on its own
time budget: ``module_utils/_collect/budget.py``), the same file-like sources (``file``, ``data``, ``leftover``) and the
same answer for processes on an image.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import (
    SourceTimeout, timed_command)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux_files import list_files
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import find_executables

# coreutils timeout bounds the commands a source runs; only from directories no user can write
# (a Homebrew prefix on a Mac belongs to a user: never run its programs as root).
TIMEOUT_DIRS = ("/usr/bin", "/bin")


class _Never:
    def match(self, value):
        return False


NEVER = _Never()


def wanted_sources(q, known, sources):
    """``(sources to examine, in the order of known, warnings)`` for compiled query ``q`` and the module's
    ``sources`` option (None: all); an unknown requested source is a warning, never an error."""
    wanted = [s for s in known if q.wants(s) and (sources is None or s in sources)]
    warnings = ["unknown source %s ignored (known: %s)" % (s, ", ".join(known))
                for s in (sources or []) if s not in known]
    return wanted, warnings


def source_query(q, source):
    """The compiled query of ``source``, or one that matches nothing."""
    return q.sources.get(source, NEVER)


def guarded(fs, source, func, *args):
    """``func(*args)`` -> ``(available, records, examined)``, on the source's time budget.

    An exception, or the budget running out, becomes a warning, no records, and the source incomplete.
    """
    fs.budget.begin(source)
    try:
        return func(*args)
    except SourceTimeout:
        _warn_once(fs, "%s: %s: records from this source are incomplete"
                   % (source, fs.budget.incomplete.get(source, "stopped after its time budget")))
        return False, [], 0
    except Exception as exc:  # pylint: disable=broad-except  # one source must never stop the others
        msg = ("%s: collector error, records from this source are incomplete: %s: %s"
               % (source, type(exc).__name__, exc))
        fs.warnings.append(msg)
        fs.budget.partial(msg, source)
        return False, [], 0
    finally:
        fs.budget.end()


def _warn_once(fs, msg):
    if msg not in fs.warnings:
        fs.warnings.append(msg)


def timed_runner(fs, run_command):
    """``run_command`` bounded by the current source's budget (``timeout`` from ``TIMEOUT_DIRS`` when present)."""
    return timed_command(run_command, fs.budget, find_executables(["timeout"], TIMEOUT_DIRS).get("timeout"))


def list_path_source(fs, q, source, users):
    """The records of a path source: ``file`` (the catalog's files), ``data`` or ``leftover``."""
    paths = q.paths if source == "file" else q.paths_for(source)
    return guarded(fs, source, list_files, fs, paths, users)


def not_examined_offline(fs, source):
    """What a live-only source gives for an image: nothing, with a warning saying so."""
    fs.warnings.append("%s: not examined, %s is not the running system" % (source, fs.root))
    return False, [], 0
