# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the collector's query, built from the enabled catalog entries (the host compiles it:
``module_utils/_collect/query.py``)."""


def build_query(entries, platforms):
    """Build the collector query for ``platforms`` from enabled catalog entries.

    Returns ``{platform: {source: {"names": [...], "regex": [...]}, "file": {"paths": [...]}}}``.
    Every signature but ``file`` identifies by ``name`` or ``name_regex`` (the grammar enforces it),
    which becomes the pre-filter; ``file`` signatures contribute their paths. Output is sorted and
    de-duplicated so that the same catalog always sends the same query.
    """
    query = {}
    for entry in entries:
        for platform, kinds in entry.remediation.items():
            if platform not in platforms:
                continue
            for kind, sigs in kinds.items():
                source = "data" if kind == "data" else "leftover"
                wanted = query.setdefault(platform, {}).setdefault(source, {"paths": set()})
                wanted["paths"].update(sig.raw["path"] for sig in sigs)
        for platform, sources in entry.signatures.items():
            if platform not in platforms:
                continue
            per_platform = query.setdefault(platform, {})
            for source, sigs in sources.items():
                for sig in sigs:
                    if source == "file":
                        per_platform.setdefault("file", {"paths": set()})["paths"].add(sig.raw["path"])
                        continue
                    wanted = per_platform.setdefault(source, {"names": set(), "regex": set()})
                    if "name" in sig.raw:
                        wanted["names"].add(sig.raw["name"])
                    else:
                        wanted["regex"].add(sig.raw["name_regex"])
    for platform, per_platform in query.items():
        for source, wanted in per_platform.items():
            for key in list(wanted):
                wanted[key] = sorted(wanted[key])
                if not wanted[key] and key != "paths":
                    del wanted[key]
            if platform == "windows":
                wanted["casefold"] = True
    return dict((p, dict((s, query[p][s]) for s in sorted(query[p]))) for p in sorted(query))
