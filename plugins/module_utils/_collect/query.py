# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collector's query, on the host (the controller builds it: ``plugin_utils/catalog/query.py``).

``compile_query`` turns the query for one platform::

    {"dpkg": {"names": ["wechat"], "regex": ["kesl(-.*)?"]}, ..., "file": {"paths": ["/opt/wechat"]}}

into fast predicates: a frozenset of exact names and one compiled alternation of ``fullmatch``
regular expressions per source. ``"casefold": true`` in a source's mapping (the controller sets it for
Windows, whose identifiers are case-insensitive) compares names with ``str.casefold`` and matches the
patterns with ``re.IGNORECASE``. A record passes when its name passes (for processes: any of
``name``, ``comm`` or the base name of ``exe``). Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import PATH_QUERY_SOURCES

# A numbered back reference or a named group changes meaning (or fails) inside an alternation of
# several patterns: such patterns are compiled on their own.
_ALONE = re.compile(r"\\[1-9]|\(\?P[<=]")
# A leading global flag group "(?i)" must become a scoped group "(?i:...)" inside an alternation.
_LEADING_FLAGS = re.compile(r"^\(\?([imsx]+)\)")


# Longest name a record may have (the controller drops longer ones: MAX_TEXT of
# plugin_utils/match/matcher.py). Longer host
# names are never handed to the catalog's regular expressions, whose cost grows with the text.
MAX_NAME = 4096


class SourceQuery:
    """Names and regular expressions wanted for one source."""

    def __init__(self, names=(), patterns=(), warnings=None, casefold=False):
        # casefold: names compare with str.casefold and patterns ignore case (Windows identifiers are
        # case-insensitive). The pre-filter may then let more through than the matcher; never less.
        self.casefold = bool(casefold)
        flags = re.IGNORECASE if self.casefold else 0
        self.names = frozenset((n.casefold() if self.casefold else n) for n in names if isinstance(n, str))
        self.patterns = []
        combined = []
        for pat in patterns:
            if not isinstance(pat, str):
                continue
            try:
                compiled = re.compile(pat, flags)
            except re.error as exc:
                if warnings is not None:
                    warnings.append("query: invalid regular expression %r ignored: %s" % (pat, exc))
                continue
            if _ALONE.search(pat):
                self.patterns.append(compiled)
            else:
                combined.append(_LEADING_FLAGS.sub(r"(?\1:", pat) + ")" if _LEADING_FLAGS.match(pat)
                                else pat)
        if combined:
            try:
                self.patterns.insert(0, re.compile("|".join("(?:%s)" % p for p in combined), flags))
            except re.error:
                # Flags in the middle of a pattern and similar: keep them apart.
                self.patterns[0:0] = [re.compile(p, flags) for p in patterns
                                      if isinstance(p, str) and not _ALONE.search(p) and _valid(p)]

    def __bool__(self):
        return bool(self.names or self.patterns)

    __nonzero__ = __bool__

    def match(self, value):
        """True if the text ``value`` is one of the names or fully matches a pattern."""
        if not isinstance(value, str) or len(value) > MAX_NAME:
            return False
        if (value.casefold() if self.casefold else value) in self.names:
            return True
        for pat in self.patterns:
            if pat.fullmatch(value):
                return True
        return False


def _valid(pat):
    try:
        re.compile(pat)
        return True
    except re.error:
        return False


class CompiledQuery:
    """Per-source predicates plus the ``file`` paths."""

    def __init__(self, sources, paths, warnings, path_sources=None):
        self.sources = sources
        self.paths = paths
        self.warnings = warnings
        # Path-only sources: "file" (signatures) and the remediation pseudo-sources "data" and
        # "leftover" (docs/design.md), each a list of path patterns.
        self.path_sources = dict(path_sources or {})
        self.path_sources["file"] = paths

    def paths_for(self, source):
        """The path patterns of a path-only source (``file``, ``data``, ``leftover``)."""
        return self.path_sources.get(source, [])

    def wants(self, source):
        """True when the query asks for anything from ``source``."""
        if source in PATH_QUERY_SOURCES:
            return bool(self.paths_for(source))
        return source in self.sources

    def match(self, source, name):
        q = self.sources.get(source)
        return q is not None and q.match(name)

    def match_process(self, name=None, comm=None, exe=None):
        q = self.sources.get("process")
        if q is None:
            return False
        for value in (name, comm, exe.rsplit("/", 1)[-1] if isinstance(exe, str) else None):
            if value is not None and q.match(value):
                return True
        return False


def compile_query(query_for_platform):
    """Compile ``{source: {"names": [...], "regex": [...]}, "file": {"paths": [...]}}``.

    Unknown shapes are ignored with a warning (the query comes from the controller, which
    validates it; the host never trusts it beyond this).
    """
    warnings = []
    sources = {}
    path_sources = dict((s, []) for s in PATH_QUERY_SOURCES)
    paths = path_sources["file"]
    if not isinstance(query_for_platform, dict):
        warnings.append("query: expected a mapping, got %s" % type(query_for_platform).__name__)
        return CompiledQuery(sources, paths, warnings, path_sources)
    for source, spec in query_for_platform.items():
        if not isinstance(spec, dict):
            warnings.append("query: %s: expected a mapping" % source)
            continue
        if source in PATH_QUERY_SOURCES:
            wanted = path_sources[source]
            for p in spec.get("paths") or []:
                if isinstance(p, str) and p not in wanted:
                    wanted.append(p)
            continue
        names = spec.get("names") or []
        regex = spec.get("regex") or []
        if not isinstance(names, list) or not isinstance(regex, list):
            warnings.append("query: %s: names and regex must be lists" % source)
            continue
        q = SourceQuery(names, regex, warnings, casefold=spec.get("casefold") is True)
        if q:
            sources[source] = q
    return CompiledQuery(sources, paths, warnings, path_sources)
