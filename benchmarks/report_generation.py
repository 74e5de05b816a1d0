# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: build the fleet report and write every format for a synthetic 10,000-host fleet.

    python benchmarks/report_generation.py [--hosts 10000] [--out DIR] [--seed 6]

Prints a table (seconds, Python heap peak from tracemalloc, output size) per step and the process's
peak RSS (resource.getrusage). Exits 1 when the whole generation takes more than MAX_SECONDS or the
tracemalloc peak exceeds MAX_HEAP_MB or the peak RSS MAX_RSS_MB (see docs/performance.md, "Report generation").

``synthetic_fleet`` is also used by tests/integration/test_report_html_browser.py.
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchmarks/checkout.py, also when loaded by path
from checkout import use_checkout  # noqa: E402  pylint: disable=wrong-import-position
MAX_SECONDS = 60.0
MAX_HEAP_MB = 512.0
MAX_RSS_MB = 1024.0

# (entry id, product, vendor, policies, (source, name, path))
CATALOG = [
    ("wechat", "WeChat (Weixin)", "Tencent", ["ca-tbs-2023-10-30"],
     [("dpkg", "wechat", "/var/lib/dpkg/status"), ("flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat")]),
    ("wecom", "WeCom (WeChat Work)", "Tencent", ["ca-tbs-2023-10-30"],
     [("flatpak", "com.qq.weixin.work.deepin", "/var/lib/flatpak/app/com.qq.weixin.work.deepin")]),
    ("tiktok", "TikTok", "ByteDance", ["us-no-tiktok-act-omb-m-23-13", "eu-ec-2023-02-23-tiktok", "gb-2023-03-16-tiktok"],
     [("file", "/opt/TikTok", "/opt/TikTok")]),
    ("deepseek", "DeepSeek", "Hangzhou DeepSeek", ["ca-tbs-2025-02-06-deepseek", "us-tx-2025-01-31-deepseek",
                                                   "au-pspf-001-2025-deepseek"],
     [("appimage", "DeepSeek-x86_64.AppImage", "/home/alice/Applications/DeepSeek-x86_64.AppImage")]),
    ("kaspersky-endpoint-security-linux", "Kaspersky Endpoint Security for Linux", "Kaspersky",
     ["us-bis-icts-kaspersky-2024-06-20", "us-dhs-bod-17-01", "au-pspf-002-2025-kaspersky"],
     [("dpkg", "kesl", "/var/lib/dpkg/status"), ("service", "kesl.service", "/lib/systemd/system/kesl.service"),
      ("rpm", "kesl", "/var/lib/rpm")]),
    ("kaspersky-network-agent", "Kaspersky Security Center Network Agent", "Kaspersky",
     ["us-bis-icts-kaspersky-2024-06-20", "us-ndaa-fy2018-1634"],
     [("rpm", "klnagent64", "/var/lib/rpm")]),
]
ENABLED = sorted([c[0] for c in CATALOG] + ["kaspersky-consumer", "kaspersky-vpn", "kaspersky-macos",
                                            "kaspersky-safe-kids", "kaspersky-password-manager"])
# (kind, weight)
MIX = [("compliant", 70), ("non_compliant", 14), ("exempt_only", 4), ("remediated", 4), ("remediation_failed", 2),
       ("unreachable", 4), ("failed", 2)]


def _finding(rng, entry, exempt=False, expired=False, outcome=None, user=None):
    eid, product, vendor, policies, sources = entry
    source, name, path = rng.choice(sources)
    scope = "user:%s" % user if user and source in ("flatpak", "appimage") else "machine"
    finding = {"id": eid, "product": product, "vendor": vendor, "source": source, "name": name,
               "version": "%d.%d.%d" % (rng.randint(1, 12), rng.randint(0, 9), rng.randint(0, 99)),
               "scope": scope, "path": path, "policies": list(policies), "exempt": exempt,
               "key": "%s|%s|%s|%s" % (source, scope, name, path),
               "matched_by": {"name": name}}
    if exempt:
        finding["exemption"] = {"reason": "Liaison office, ticket SEC-%d" % rng.randint(1000, 9999),
                                "expires": "2027-03-31", "approved_by": "CISO"}
    if expired:
        finding["exemption_expired"] = {"reason": "Pilot, ticket SEC-%d" % rng.randint(1000, 9999),
                                        "expires": "2026-01-31"}
    if outcome:
        finding["outcome"] = outcome
    return finding


def _host(rng, kind, when):
    if kind == "unreachable":
        return {"status": "unreachable", "findings": [], "error": "Failed to connect to the host via ssh: timed out"}
    if kind == "failed":
        return {"status": "failed", "findings": [], "error": "collector govsec.banned_software.collect failed: rc 1"}
    base = {"scanned_at": when, "os": rng.choice(["linux", "linux", "linux", "macos", "windows"]),
            "catalog_version": "2026.11.29", "policies": ["all"], "entries_enabled": list(ENABLED),
            "warnings": [] if rng.random() < 0.9 else ["cannot read /home/bob: permission denied"]}
    user = rng.choice(["alice", "bob", "carol"])
    count = rng.randint(1, 4)
    entries = rng.sample(CATALOG, count)
    findings = []
    if kind == "compliant":
        status = "compliant"
    elif kind == "exempt_only":
        status = "compliant"
        findings = [_finding(rng, e, exempt=True, user=user) for e in entries[:2]]
    elif kind == "non_compliant":
        status = "non_compliant"
        findings = [_finding(rng, e, user=user, expired=rng.random() < 0.1) for e in entries]
        if rng.random() < 0.3:
            findings.append(_finding(rng, rng.choice(CATALOG), exempt=True, user=user))
    else:
        status = "remediated" if kind == "remediated" else "non_compliant"
        outcomes = ["removed", "already_absent"] if kind == "remediated" else ["removed", "failed", "skipped_protected"]
        findings = [_finding(rng, e, user=user, outcome=rng.choice(outcomes)) for e in entries]
        if kind == "remediation_failed" and not any(f["outcome"] != "removed" for f in findings):
            findings[0]["outcome"] = "failed"
        base["remediation"] = {"run_id": "20261129T120000Z", "reboot_required": rng.random() < 0.2,
                               "steps": [], "plan": {"version": 1, "steps": []}}
    base.update(status=status, findings=findings)
    return base


def synthetic_fleet(hosts=10000, seed=6):
    """{inventory_hostname: host result} with a realistic mix of statuses, exemptions and outcomes."""
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for dummy in range(w)]
    when = "2026-11-29T12:00:00Z"
    fleet = {}
    for index in range(hosts):
        kind = rng.choice(kinds)
        fleet["host%05d.example.gov" % index] = _host(rng, kind, when)
    return fleet


def _import_collection():
    """Import the writers from this checkout (as conftest does for the unit tests)."""
    use_checkout()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import build as _report
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import csv_format as _report_csv
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import html_format as _report_html
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import junit_format as _report_junit
    return _report, _report_csv, _report_html, _report_junit


def _run_steps(steps, traced):
    """Run (name, func) steps; return [(name, seconds, heap peak MiB or None)] and the values."""
    rows, values = [], {}
    if traced:
        tracemalloc.start()
    for name, func in steps:
        if traced:
            tracemalloc.reset_peak()
        start = time.perf_counter()
        values[name] = func()
        took = time.perf_counter() - start
        rows.append((name, took, tracemalloc.get_traced_memory()[1] / 1048576.0 if traced else None))
    if traced:
        tracemalloc.stop()
    return rows, values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", help="directory for the report files (default: a temporary directory)")
    args = parser.parse_args(argv)
    report_mod, csv_mod, html_mod, junit_mod = _import_collection()
    fleet = synthetic_fleet(args.hosts, args.seed)
    out = args.out or tempfile.mkdtemp(prefix="bsw-bench-")
    os.makedirs(out, exist_ok=True)
    when = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.timezone.utc)

    def write_json(report):
        with open(os.path.join(out, "report.json"), "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, sort_keys=True, ensure_ascii=False)

    def write_csv(report):
        with open(os.path.join(out, "report.csv"), "w", encoding=csv_mod.ENCODING, newline="") as handle:
            csv_mod.write_csv(report, handle)

    def write_html(report):
        with open(os.path.join(out, "report.html"), "w", encoding="utf-8") as handle:
            html_mod.write_html(report, handle)

    def write_junit(report):
        with open(os.path.join(out, "report.junit.xml"), "wb") as handle:
            return junit_mod.write_junit(report, handle)

    holder = {}
    # pylint: disable=import-outside-toplevel
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import evidence as evidence_mod
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report import history as history_mod
    catalog = load_catalog()
    # the previous night: another draw of the same fleet, so that many hosts and findings changed
    previous = report_mod.build_report(synthetic_fleet(args.hosts, args.seed + 1), "2026.11.29",
                                       when - datetime.timedelta(days=1))
    history_mod.apply_history(previous, None)

    def build():
        holder["report"] = report_mod.build_report(fleet, "2026.11.29", when)
        return holder["report"]

    def write_evidence(report):
        with open(os.path.join(out, "policy-evidence.csv"), "w", encoding=csv_mod.ENCODING, newline="") as handle:
            evidence_mod.write_evidence_csv(report, handle)

    steps = [("build_report", build),
             ("changes+trend", lambda: history_mod.apply_history(holder["report"], previous)),
             ("policy_evidence", lambda: evidence_mod.add_policy_evidence(holder["report"], catalog)),
             ("report.json", lambda: write_json(holder["report"])),
             ("policy-evidence.csv", lambda: write_evidence(holder["report"])),
             ("report.csv", lambda: write_csv(holder["report"])), ("report.html", lambda: write_html(holder["report"])),
             ("report.junit.xml", lambda: write_junit(holder["report"]))]
    # Pass 1 timed without tracing (tracemalloc slows allocation-heavy code down 2-5x); pass 2 traced.
    timed, values = _run_steps(steps, traced=False)
    traced, dummy = _run_steps(steps, traced=True)
    rows = [(t[0], t[1], m[2]) for t, m in zip(timed, traced)]
    report, totals = values["build_report"], values["report.junit.xml"]
    total = sum(r[1] for r in rows)
    heap_peak = max(r[2] for r in rows)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    sizes = {"report.json": 0, "report.csv": 0, "report.html": 0, "report.junit.xml": 0, "policy-evidence.csv": 0}
    for name in sizes:
        sizes[name] = os.path.getsize(os.path.join(out, name))
    summary = report["summary"]
    print("fleet: %d hosts, %d findings (%d exempt); compliant %d, non_compliant %d, remediated %d, "
          "unreachable %d, failed %d; junit %s" % (
              summary["hosts"], summary["findings"], summary["exempt_findings"], summary["compliant"],
              summary["non_compliant"], summary["remediated"], summary["unreachable"], summary["failed"],
              ", ".join("%s %d" % kv for kv in sorted(totals.items()))))
    print("%-20s %9s %14s %12s" % ("step", "seconds", "heap peak MiB", "size MiB"))
    for name, took, peak in rows:
        size = "%.2f" % (sizes[name] / 1048576.0) if name in sizes else "-"
        print("%-20s %9.2f %14.1f %12s" % (name, took, peak, size))
    print("%-20s %9.2f %14.1f" % ("total", total, heap_peak))
    print("peak RSS (getrusage): %.1f MiB; output in %s" % (rss_kb / 1024.0, out))
    problems = []
    if total > MAX_SECONDS:
        problems.append("generation took %.1f s (limit %.0f s)" % (total, MAX_SECONDS))
    if heap_peak > MAX_HEAP_MB:
        problems.append("heap peak %.1f MiB (limit %.0f MiB)" % (heap_peak, MAX_HEAP_MB))
    if rss_kb / 1024.0 > MAX_RSS_MB:
        problems.append("peak RSS %.1f MiB (limit %.0f MiB)" % (rss_kb / 1024.0, MAX_RSS_MB))
    for problem in problems:
        print("FAIL: " + problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
