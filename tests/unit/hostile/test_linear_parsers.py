# -*- coding: utf-8 -*-
"""Attack: a user writes input that makes a parser of the collector run for minutes as root.

``<release `` repeated through a 512 KiB flatpak metainfo took ~11 minutes of CPU per file with the old
pattern (quadratic); a dpkg field, a snap.yaml line, a dnf.conf line or a ps line full of blanks did the
same to their lazy ``(.*?)[ \\t]*$`` patterns. Each case of benchmarks/hostile_parsers.py is parsed at
512 KiB, hostile and benign (same size), in a child process killed after CHILD_TIMEOUT seconds (a runaway
parser cannot be interrupted inside the regular expression engine), and must stay within the benchmark's
bound relative to the benign input: no absolute time is asserted (that is the benchmark's job).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import multiprocessing
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SIZE = 512 * 1024
CHILD_TIMEOUT = 60


def _benchmark():
    spec = importlib.util.spec_from_file_location("hostile_parsers", os.path.join(ROOT, "benchmarks", "hostile_parsers.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _benchmark()
NAMES = [c[0] for c in BENCH.cases()]


def _child(index, conn):
    try:
        name, parse, hostile, benign = BENCH.cases()[index]
        conn.send(("ok", BENCH.best(parse, hostile(SIZE), 3), BENCH.best(parse, benign(SIZE), 3)))
    except BaseException as exc:  # pylint: disable=broad-except  # reported to the parent
        conn.send(("error", "%s: %s" % (type(exc).__name__, exc), None))
    conn.close()


def run_in_child(index):
    """``(hostile seconds, benign seconds)`` measured in a forked child; fails when it runs away."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(index, child))
    proc.start()
    child.close()
    if not parent.poll(CHILD_TIMEOUT):
        proc.kill()
        proc.join()
        pytest.fail("%s: the parser did not finish within %d s (not linear)" % (NAMES[index], CHILD_TIMEOUT))
    kind, hostile, benign = parent.recv()
    proc.join()
    if kind != "ok":
        pytest.fail("%s: %s" % (NAMES[index], hostile))
    return hostile, benign


@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_hostile_input_parses_in_linear_time(index):
    hostile, benign = run_in_child(index)
    assert BENCH.within_bound(hostile, benign), (
        "%s: hostile input took %.3f s, benign input of the same size %.3f s (bound: %g x benign + %.2f s)"
        % (NAMES[index], hostile, benign, BENCH.MAX_RATIO, BENCH.SLACK_SECONDS))


def test_the_flatpak_version_is_still_found():
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect.flatpak import release_version
    assert release_version(b'<releases>\n  <release version="4.0.1.11" date="2025-01-01"/>\n'
                           b'  <release version="3.9"/></releases>') == "4.0.1.11"
    assert release_version(b"<release date='x'>\n<release\n  version = '2.0'>") == "2.0"
    assert release_version(b"<releases><release>") is None
    assert release_version(b"<release " * 1000 + b'<release version="1.0">') == "1.0"
