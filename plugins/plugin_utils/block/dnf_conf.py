# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the one block this collection keeps in /etc/dnf/dnf.conf (dnf 4). Pure text functions.

dnf 4 has no drop-in directory for [main], and its parser keeps only the LAST of two ``excludepkgs=``
keys of [main] (checked with dnf 4.14: ``excludepkgs=foo`` then ``excludepkgs=bar`` excludes ``bar``
only; ``exclude=`` is a separate key that adds to it; key names are case-sensitive; a line starting with
blanks continues the previous value; two [main] sections act as one). So the block is::

    # BEGIN govsec-banned-software: reinstall block of banned software (govsec.banned_software) ...
    excludepkgs=<the administrator's own excludepkgs value>,<the banned names>
    # END govsec-banned-software

placed at the end of the last [main] section, after every ``excludepkgs=`` of the administrator, so
it is the one dnf keeps and it still excludes what the administrator excluded. Without a [main]
section the block carries its own ``[main]`` header (at the end of the file). The block is recomputed
on every run; removing it (unblock) gives the administrator's own line back its effect. Nothing else of
the file is rewritten: the text outside the block is kept byte for byte.
"""

import re

BEGIN = "# BEGIN govsec-banned-software"
END = "# END govsec-banned-software"
BEGIN_LINE = (BEGIN + ": reinstall block of banned software (govsec.banned_software); "
              "remove with playbooks/unblock.yml, manual edits are overwritten")
KEY = "excludepkgs"
_SECTION = re.compile(r"^\[([^\]]*)\]\s*$")
_SPLIT = re.compile(r"[\s,]+")


class DnfConfError(ValueError):
    """dnf.conf cannot be edited safely (the message says why; nothing is changed)."""


def _lines(text):
    return text.splitlines(True)


def split_block(text):
    """``(text without our block, True when a block was there)``; DnfConfError on broken markers."""
    lines = _lines(text)
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if not begins and not ends:
        return text, False
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise DnfConfError("dnf.conf has %d '%s' and %d '%s' marker lines (expected one pair, in that order); "
                           "fix the file by hand" % (len(begins), BEGIN, len(ends), END))
    return "".join(lines[:begins[0]] + lines[ends[0] + 1:]), True


def _main_ranges(lines):
    """``[(start, end)]`` line ranges of the [main] sections (header line excluded)."""
    ranges = []
    current = None
    for i, line in enumerate(lines):
        match = _SECTION.match(line.strip()) if line[:1] not in (" ", "\t") else None
        if match:
            if current is not None:
                ranges.append((current, i))
            current = i + 1 if match.group(1).strip() == "main" else None
    if current is not None:
        ranges.append((current, len(lines)))
    return ranges


def main_excludes(text):
    """``(has [main], the administrator's effective excludepkgs values)`` of ``text`` (our block removed)."""
    lines = _lines(text)
    ranges = _main_ranges(lines)
    value = None
    for start, end in ranges:
        i = start
        while i < end:
            line = lines[i]
            stripped = line.strip()
            i += 1
            if not stripped or stripped[0] in "#;" or line[:1] in (" ", "\t"):
                continue
            key, sep, rest = stripped.partition("=")
            if not sep or key.rstrip() != KEY:
                continue
            parts = [rest]
            while i < end and lines[i][:1] in (" ", "\t") and lines[i].strip():
                parts.append(lines[i].strip())
                i += 1
            value = " ".join(parts)
    if value is None:
        return bool(ranges), []
    return bool(ranges), [v for v in _SPLIT.split(value.strip()) if v]


def block_lines(value, with_main):
    """The block for ``excludepkgs=<value>`` (with its own ``[main]`` header when ``with_main``)."""
    lines = [BEGIN_LINE + "\n"]
    if with_main:
        lines.append("[main]\n")
    lines.extend(["%s=%s\n" % (KEY, value), END + "\n"])
    return lines


def with_block(text, value):
    """``text`` (without our block) with the block for ``value`` at the end of its last [main]."""
    lines = _lines(text)
    ranges = _main_ranges(lines)
    if ranges:
        start, end = ranges[-1]
        while end > start and not lines[end - 1].strip():
            end -= 1
        at = end
    else:
        at = len(lines)
    block = block_lines(value, not ranges)
    before = lines[:at]
    if before and not before[-1].endswith("\n"):
        before[-1] += "\n"
    return "".join(before + block + lines[at:])
