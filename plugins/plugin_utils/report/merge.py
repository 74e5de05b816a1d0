# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: merge several report.json documents (one per AWX job slice) into one report.

* The hosts are the union of the reports' hosts.
* A host present in more than one report keeps the entry of the report with the newest
  ``generated_at`` (on a tie, the report given last); the other entries are recorded in
  ``merge.duplicates``.
* The summary and the per-product counts are recomputed with ``build_report``, so a merged report
  has exactly the shape and the totals of a report written by one unsliced run.
* When the reports were built from different catalog versions, ``catalog.version`` joins them and
  ``catalog.versions`` lists them.
"""

import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report


class MergeError(ValueError):
    """A report that cannot be merged (not a report.json document)."""


def _parse_time(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return None


def _catalog_versions(report):
    """The catalog versions a report was built from (its hosts' and its own)."""
    versions = set()
    for host in report["hosts"].values():
        if isinstance(host, dict) and isinstance(host.get("catalog_version"), str) and host["catalog_version"]:
            versions.add(host["catalog_version"])
    catalog = report.get("catalog")
    listed = catalog.get("versions") if isinstance(catalog, dict) else None
    if isinstance(listed, list):
        versions.update(v for v in listed if isinstance(v, str) and v)
    elif not versions and isinstance(catalog, dict) and isinstance(catalog.get("version"), str):
        versions.add(catalog["version"])
    return versions


def merge_reports(reports, generated_at=None):
    """Merge ``reports`` (a list of ``(source_name, report_dict)``) into one report dict."""
    if not reports:
        raise MergeError("no report to merge")
    chosen = {}      # host -> (generated_at, order, source, entry)
    duplicates = []
    versions = set()
    sources = []
    for order, (source, report) in enumerate(reports):
        if not isinstance(report, dict) or not isinstance(report.get("hosts"), dict):
            raise MergeError("%s is not a report.json document (no 'hosts' mapping)" % source)
        stamp = _parse_time(report.get("generated_at"))
        if stamp is None:
            raise MergeError("%s has no valid generated_at (YYYY-MM-DDTHH:MM:SSZ): %r"
                             % (source, report.get("generated_at")))
        versions.update(_catalog_versions(report))
        sources.append({"source": source, "generated_at": report["generated_at"], "hosts": len(report["hosts"])})
        for name, entry in report["hosts"].items():
            candidate = (stamp, order, source, entry)
            previous = chosen.get(name)
            if previous is None:
                chosen[name] = candidate
                continue
            newer, older = (candidate, previous) if candidate[:2] >= previous[:2] else (previous, candidate)
            chosen[name] = newer
            duplicates.append({"host": name, "kept": newer[2], "kept_generated_at": newer[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "dropped": older[2], "dropped_generated_at": older[0].strftime("%Y-%m-%dT%H:%M:%SZ")})
    versions = sorted(versions)
    host_results = dict((name, value[3]) for name, value in chosen.items())
    merged = build_report(host_results, ", ".join(versions) if versions else "unknown", generated_at=generated_at)
    if len(versions) > 1:
        merged["catalog"]["versions"] = versions
    merged["merge"] = {"sources": sources,
                       "duplicates": sorted(duplicates, key=lambda d: (d["host"], d["dropped"]))}
    return merged
