# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: write the fleet report (the dict of ``build.build_report``) as one self-contained HTML page.

No external asset of any kind (no CDN, font, image or script URL): inline CSS, a small inline script
and inline SVG charts drawn here in Python. A Content-Security-Policy in the page only lets the one
inline script run (by its SHA-256) and forbids every network load.

* Summary counts (``data-key`` attributes carry the report's summary keys), generated time, catalog
  version.
* Charts: hosts by status; per product and per policy the hosts with a finding still present, removed,
  or only exempt (stacked bars, SVG).
* Hosts: a sortable, filterable, paginated table rendered by the script from an embedded JSON blob
  (``<script type="application/json">``, with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped), problem
  hosts first; a click on a host shows its findings. Usable at 10,000 hosts: only one page of rows is
  in the DOM at a time.
* Exemptions (reason, expiry, approver; expired ones flagged) in the same kind of table.
* Drift: a "reinstalled" badge on the host row and on each finding a remediation removed before (with
  when), a summary card and a note listing those hosts, and a "reinstalled only" filter on the host
  table. A host's reinstall blocks, when it reports them, are one line in its details.

Everything from hosts is escaped (``html.escape``) in markup, and set with ``textContent`` by the
script, so a hostile name such as ``<script>`` shows as text. Standard library only.
"""

import base64
import hashlib
import html
import json
import unicodedata

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import (
    GONE, block_summary, has_changes, policy_labels, reinstalled_findings)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import statement

STATUS_ORDER = ("unreachable", "failed", "non_compliant", "remediated", "compliant")
# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies); statuses also carry an icon
# and their name, chart segments their count and a <title>, so that colour is never the only cue.
STATUS_COLOURS = {"unreachable": "#CC79A7", "failed": "#E69F00", "non_compliant": "#D55E00",
                  "remediated": "#0072B2", "compliant": "#009E73"}
CATEGORIES = (("present", "still present", "#D55E00"), ("removed", "removed", "#0072B2"),
              ("exempt", "only exempt", "#E69F00"))
SUMMARY_KEYS = ("hosts", "compliant", "non_compliant", "remediated", "unreachable", "failed", "findings",
                "exempt_findings", "reinstalled_hosts", "reinstalled_findings")
MAX_CHART_ROWS = 40
FINDING_FIELDS = ("id", "product", "source", "name", "version", "scope", "path", "outcome")
# Host rows of the embedded JSON: host, status, findings, exempt, products, outcomes, reboot, error,
# warnings, os, finding rows (FINDING_FIELDS + exempt, policies, drift, removed_at), reinstalled
# findings, block summary. Indices 0-10 are read by tests and by the page's script: append only.


def esc(value):
    """Text for HTML markup and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def embed_json(data):
    """JSON that is safe inside a <script> element: no ``</``, ``<!--``, or JS line terminators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         (u"\u2028", "\\u2028"), (u"\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _text(value):
    return "" if value is None else str(value)


def _remediation_ran(entry):
    remediation = entry.get("remediation")
    return isinstance(remediation, dict) and not remediation.get("checked_only")


def _category(findings, ran):
    """present | removed | exempt for the findings one host has of one product or policy."""
    live = [f for f in findings if f.get("exempt") is not True]
    if any(not (ran and f.get("outcome") in GONE) for f in live):
        return "present"
    return "removed" if live else "exempt"


def chart_data(report):
    """({product_label: {category: hosts}}, {policy: {category: hosts}}) from the report."""
    by_product = {}
    by_policy = {}
    for entry in report["hosts"].values():
        findings = [f for f in entry.get("findings") or [] if isinstance(f, dict)]
        if not findings or entry.get("status") in ("unreachable", "failed"):
            continue
        ran = _remediation_ran(entry)
        products = {}
        policies = {}
        for finding in findings:
            label = _text(finding.get("product") or finding.get("id") or "?")
            products.setdefault(label, []).append(finding)
            for policy in finding.get("policies") or []:
                policies.setdefault(_text(policy), []).append(finding)
        for groups, target in ((products, by_product), (policies, by_policy)):
            for label, group in groups.items():
                counts = target.setdefault(label, dict((c[0], 0) for c in CATEGORIES))
                counts[_category(group, ran)] += 1
    return by_product, by_policy


def text_width(text, size=12):
    """Estimated width in pixels of ``text`` at ``size`` px: wide (CJK) characters count double."""
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in ("W", "F"))
    return (len(text) - wide) * size * 0.6 + wide * size * 1.05


def fit(text, width, size=12):
    """``text`` cut (with an ellipsis) to fit ``width`` pixels, so that a label is never clipped."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + u"\u2026", size) > width:
        text = text[:-1]
    return text.rstrip() + u"\u2026"


def svg_bars(title, rows, legend):
    """A horizontal stacked bar chart: rows = [(label, [(value, colour, name), ...])].

    Labels are cut to the label column (full text in their <title>); each segment wide enough shows its
    count; the SVG scales down to the page width (viewBox)."""
    label_w, bar_w, row_h, top = 300, 400, 22, 30
    rows = rows[:MAX_CHART_ROWS]
    height = top + row_h * max(len(rows), 1) + 10
    biggest = max([sum(v for v, dummy, dummy2 in parts) for dummy3, parts in rows] + [1])
    width = label_w + bar_w + 60
    out = ['<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d"><title>%s</title>' % (width, height, width, height, esc(title))]
    x = 8
    for name, colour in legend:
        out.append('<rect x="%d" y="6" width="12" height="12" fill="%s"/><text x="%d" y="16" class="lg">%s</text>'
                   % (x, colour, x + 16, esc(name)))
        x += 26 + int(text_width(name))
    if not rows:
        out.append('<text x="8" y="%d" class="lb">none</text>' % (top + 15))
    for index, (label, parts) in enumerate(rows):
        y = top + index * row_h
        out.append('<text x="%d" y="%d" class="lb" text-anchor="end">%s<title>%s</title></text>'
                   % (label_w - 8, y + 15, esc(fit(label, label_w - 16)), esc(label)))
        total = sum(value for value, dummy, dummy2 in parts if value)
        # the total first (after the label), then the segments with their counts
        out.append('<text x="%.1f" y="%d" class="lb">%d</text>'
                   % (label_w + bar_w * total / float(biggest) + 5, y + 15, total))
        x = float(label_w)
        for value, colour, part in parts:
            if not value:
                continue
            width = bar_w * value / float(biggest)
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d %s</title></rect>'
                       % (x, y + 3, max(width, 1.0), row_h - 6, colour, esc(label), value, esc(part)))
            if width >= text_width(str(value), 11) + 6:
                out.append('<text x="%.1f" y="%d" class="in" text-anchor="middle">%d</text>'
                           % (x + width / 2.0, y + 15, value))
            x += width
    out.append("</svg>")
    if len(rows) == MAX_CHART_ROWS:
        out.append('<p class="note">Only the first %d rows are drawn.</p>' % MAX_CHART_ROWS)
    return "".join(out)


def _category_rows(data):
    rows = []
    for label, counts in data.items():
        rows.append((label, [(counts[c[0]], c[2], "host(s) " + c[1]) for c in CATEGORIES]))
    rows.sort(key=lambda r: (-sum(p[0] for p in r[1]), r[0]))
    return rows


def charts(report):
    summary = report["summary"]
    status_row = [("hosts", [(summary.get(s, 0), STATUS_COLOURS[s], s) for s in STATUS_ORDER])]
    by_product, by_policy = chart_data(report)
    legend = [(c[1], c[2]) for c in CATEGORIES]
    return "".join([
        '<figure><figcaption>Hosts by status</figcaption>',
        svg_bars("Hosts by status", status_row, [(s, STATUS_COLOURS[s]) for s in STATUS_ORDER]), "</figure>",
        '<figure><figcaption>Hosts by product</figcaption>',
        svg_bars("Hosts by product", _category_rows(by_product), legend), "</figure>",
        '<figure><figcaption>Hosts by policy</figcaption>',
        svg_bars("Hosts by policy", _category_rows(by_policy), legend), "</figure>",
    ])


def table_data(report):
    """Compact rows for the script: hosts (problems first) and exemptions."""
    rank = dict((s, i) for i, s in enumerate(STATUS_ORDER))
    hosts = []
    exemptions = []
    for name in sorted(report["hosts"], key=lambda h: (rank.get(report["hosts"][h].get("status"), 9), h)):
        entry = report["hosts"][name]
        findings = [f for f in entry.get("findings") or [] if isinstance(f, dict)]
        outcomes = {}
        rows = []
        for finding in findings:
            outcome = finding.get("outcome")
            if isinstance(outcome, str):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            texts = [_text(finding.get(k)) for k in FINDING_FIELDS]
            rows.append(texts + [finding.get("exempt") is True,
                                 ";".join(_text(p) for p in policy_labels(finding)),
                                 _text(finding.get("drift")), _text(finding.get("removed_at"))])
            for key, expired in (("exemption", False), ("exemption_expired", True)):
                exemption = finding.get(key)
                if isinstance(exemption, dict):
                    exemptions.append([name, _text(finding.get("id")), _text(finding.get("product")),
                                       _text(finding.get("source")) + " " + _text(finding.get("name")),
                                       _text(exemption.get("reason")), _text(exemption.get("expires")),
                                       _text(exemption.get("approved_by")), "expired" if expired else "honoured"])
        warnings = entry.get("warnings") if isinstance(entry.get("warnings"), list) else []
        hosts.append([name, _text(entry.get("status")), len(findings),
                      sum(1 for f in findings if f.get("exempt") is True),
                      ", ".join(sorted(set(_text(f.get("id")) for f in findings))),
                      ", ".join("%s %d" % (k, outcomes[k]) for k in sorted(outcomes)),
                      "yes" if entry.get("reboot_required") else "",
                      _text(entry.get("error")), len(warnings), _text(entry.get("os")), rows,
                      len(reinstalled_findings(findings)), block_summary(entry.get("blocks"))])
    return {"hosts": hosts, "exemptions": exemptions}


# (trend key, label, colour, marker, dash): Okabe-Ito colours, and a marker shape and a dash pattern per
# series so that the lines stay apart without colour.
TREND_SERIES = (("compliant", "compliant", "#009E73", "circle", ""),
                ("non_compliant", "non-compliant", "#D55E00", "square", "6 3"),
                ("remediated", "remediated", "#0072B2", "diamond", "2 3"),
                ("unreachable", "unreachable", "#CC79A7", "triangle", "8 3 2 3"))
MAX_CHANGE_ROWS = 200


def _marker(shape, x, y, colour):
    if shape == "circle":
        return '<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, colour)
    if shape == "square":
        return '<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s"/>' % (x - 3.5, y - 3.5, colour)
    if shape == "diamond":
        return '<path d="M%.1f %.1fl4 4-4 4-4-4z" fill="%s"/>' % (x, y - 4, colour)
    return '<path d="M%.1f %.1fl4.5 8h-9z" fill="%s"/>' % (x, y - 4.5, colour)


def svg_trend(trend):
    """A line chart of the hosts by status per run (one point per ``trend`` row), inline SVG."""
    rows = [r for r in trend or [] if isinstance(r, dict)]
    left, right, top, plot_h, width = 56, 150, 34, 160, 720
    plot_w = width - left - right
    height = top + plot_h + 40
    biggest = max([max(int(r.get(k[0]) or 0) for k in TREND_SERIES) for r in rows] + [1])
    out = ['<svg class="chart trend" role="img" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d"><title>Hosts by status per run, %d run(s)</title>'
           % (width, height, width, height, len(rows))]
    x = left
    for key, label, colour, shape, dash in TREND_SERIES:
        out.append('<line x1="%d" y1="12" x2="%d" y2="12" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>%s'
                   '<text x="%d" y="16" class="lg">%s</text>'
                   % (x, x + 22, colour, dash, _marker(shape, x + 11, 12, colour), x + 26, esc(label)))
        x += 40 + 7 * len(label)
    for tick in range(5):
        value = biggest * tick / 4.0
        y = top + plot_h - plot_h * tick / 4.0
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d5dbdb"/><text x="%d" y="%.1f" class="lb" '
                   'text-anchor="end">%d</text>' % (left, y, left + plot_w, y, left - 6, y + 4, round(value)))

    def xy(index, value):
        step = plot_w / float(max(len(rows) - 1, 1))
        return left + (index * step if len(rows) > 1 else plot_w / 2.0), top + plot_h - plot_h * value / float(biggest)
    ends = []
    for key, label, colour, shape, dash in TREND_SERIES:
        points = [xy(i, int(r.get(key) or 0)) for i, r in enumerate(rows)]
        if len(points) > 1:
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>'
                       % (colour, dash, " ".join("%.1f,%.1f" % p for p in points)))
        for (px, py), row in zip(points, rows) if len(rows) <= 60 else []:
            out.append('<g>%s<title>%s: %d %s</title></g>'
                       % (_marker(shape, px, py, colour), esc(row.get("generated_at")), int(row.get(key) or 0),
                          esc(label)))
        if points:
            ends.append([points[-1][1] + 4, "%s %d" % (label, int(rows[-1].get(key) or 0))])
    # the end labels, pushed apart so that close values never overlap
    ends.sort()
    for index in range(1, len(ends)):
        ends[index][0] = max(ends[index][0], ends[index - 1][0] + 14)
    for y, text in ends:
        out.append('<text x="%.1f" y="%.1f" class="lb">%s</text>' % (left + plot_w + 8, y, esc(text)))
    for index in sorted(set([0, len(rows) - 1])) if rows else []:
        px = xy(index, 0)[0]
        anchor = "start" if index == 0 and len(rows) > 1 else ("end" if len(rows) > 1 else "middle")
        out.append('<text x="%.1f" y="%d" class="lb" text-anchor="%s">%s</text>' % (
            px, top + plot_h + 18, anchor, esc(_text(rows[index].get("generated_at"))[:10])))
    out.append("</svg>")
    return "".join(out)


def _host_breaks(name):
    """A host name that may wrap only after its dots (``<wbr>``), never inside a label."""
    labels = name.split(".")
    return "<wbr>".join('<span class="nw">%s</span>' % esc(label + ("." if i < len(labels) - 1 else ""))
                        for i, label in enumerate(labels))


def _host_list(hosts):
    shown = hosts[:MAX_CHANGE_ROWS]
    more = " and %d more" % (len(hosts) - len(shown)) if len(hosts) > len(shown) else ""
    return "".join('<li class="hw">%s</li>' % _host_breaks(h) for h in shown) + (
        '<li class="note">%s (report.json, changes)</li>' % esc(more.strip()) if more else "")


def changes_section(report):
    """"Changes since the last run": the hosts and findings of report.json's ``changes``, and the trend chart."""
    changes = report.get("changes")
    trend = report.get("trend") or []
    parts = ['<section id="changes"><h2>Changes since the last run</h2>']
    if not isinstance(changes, dict):
        parts.append('<p class="note" data-changes="none">No earlier report to compare with (kept in the '
                     'history directory; see docs/usage.md).</p>')
    elif not has_changes(changes):
        parts.append('<p data-changes="0">No change since the report of <time class="nw">%s</time>.</p>'
                     % esc(changes.get("previous_generated_at")))
    else:
        parts.append('<p data-changes="1">Compared with the report of <time class="nw">%s</time>.</p><div class="chg">'
                     % esc(changes.get("previous_generated_at")))
        for key, label, icon in (("new_non_compliant", "newly non-compliant", u"✖"),
                                 ("reinstalled", "software reinstalled", u"↺"),
                                 ("newly_unreachable", "newly unreachable", u"⚠"),
                                 ("resolved", "resolved", u"✔")):
            hosts = changes.get(key) or []
            parts.append('<div class="cg" data-change="%s" tabindex="0" role="region" aria-label="%s"><h3><span aria-hidden="true">%s</span> %s: %d</h3>'
                         '<ul>%s</ul></div>' % (key, esc(label), icon, esc(label), len(hosts), _host_list(hosts)))
        parts.append("</div>")
        for key, label in (("new_findings", "New findings"), ("removed_findings", "Findings gone")):
            items = [i for i in changes.get(key) or [] if isinstance(i, dict)]
            if not items:
                continue
            rows = "".join('<tr><td class="hn">%s</td><td>%s</td><td>%s</td><td>%s %s</td><td>%s</td></tr>' % (
                esc(i.get("host")), esc(i.get("id")), esc(i.get("product")), esc(i.get("source")), esc(i.get("name")),
                "exempt" if i.get("exempt") else "") for i in items[:MAX_CHANGE_ROWS])
            more = ('<p class="note">%d more in report.json (changes.%s).</p>' % (len(items) - MAX_CHANGE_ROWS, key)
                    if len(items) > MAX_CHANGE_ROWS else "")
            parts.append('<h3>%s: %d</h3><div class="scroll" tabindex="0" role="region" aria-label="%s">'
                         '<table class="sub" data-change="%s"><thead><tr>'
                         '<th scope="col">host</th><th scope="col">entry</th><th scope="col">product</th>'
                         '<th scope="col">finding</th><th scope="col">exempt</th></tr></thead><tbody>%s</tbody>'
                         '</table></div>%s' % (esc(label), len(items), esc(label), key, rows, more))
    parts.append('<figure><figcaption>Hosts by status per run (%d run(s))</figcaption>%s</figure></section>'
                 % (len(trend), svg_trend(trend)))
    return "".join(parts)


MAX_EVIDENCE_EXEMPTIONS = 100


def evidence_section(report):
    """"Evidence per policy": per selected policy its record, the statement, the counts and its exemptions."""
    evidence = report.get("policy_evidence")
    if not isinstance(evidence, list):
        return ""
    parts = ['<section id="policy-evidence"><h2>Evidence per policy</h2><p class="note">For each policy selected '
             'in this run: the hosts in scope (unreachable and failed hosts are in scope of every policy and never '
             'counted as compliant) and the exemptions under it. policy-evidence.csv has the same rows.</p>']
    if not evidence:
        parts.append('<p class="note">No policy selected.</p>')
    for row in evidence:
        facts = []
        for key, label in (("instrument", "Instrument"), ("date", "Date"), ("deadline", "Deadline"),
                           ("jurisdiction", "Jurisdiction"), ("url", "Source")):
            if row.get(key):
                facts.append('<dt>%s</dt><dd%s>%s</dd>' % (label, ' class="url"' if key == "url" else "",
                                                           esc(row[key])))
        if row.get("application") == "by_extension":
            facts.append("<dt>Application</dt><dd>applied by extension (beyond the measure's wording)</dd>")
        percent = row.get("compliant_percent")
        counts = ('<table class="sub counts"><thead><tr><th scope="col">in scope</th><th scope="col">compliant</th>'
                  '<th scope="col">non-compliant</th><th scope="col">unreachable</th><th scope="col">failed</th>'
                  '<th scope="col">compliant %%</th></tr></thead><tbody><tr><td>%d</td><td>%d</td><td>%d</td>'
                  '<td>%d</td><td>%d</td><td>%s</td></tr></tbody></table>'
                  % (row["hosts_in_scope"], row["compliant"], row["non_compliant"], row["unreachable"], row["failed"],
                     "-" if percent is None else esc("%s%%" % percent)))
        exemptions = row.get("exemptions") or []
        ex_html = ""
        if exemptions:
            cells = "".join('<tr%s><td class="hn">%s</td><td>%s</td><td>%s</td><td>%s</td><td class="nw">%s</td>'
                            '<td class="nw">%s</td></tr>' % (
                                ' class="expired"' if e.get("expired") else "", esc(e.get("host")),
                                esc(e.get("entry")), esc(e.get("reason")), esc(e.get("approved_by") or "-"),
                                esc(e.get("expires")),
                                u"\u26a0 expired (not honoured)" if e.get("expired") else u"\u2714 honoured")
                            for e in exemptions[:MAX_EVIDENCE_EXEMPTIONS])
            more = ('<p class="note">%d more exemption(s) in policy-evidence.csv.</p>'
                    % (len(exemptions) - MAX_EVIDENCE_EXEMPTIONS) if len(exemptions) > MAX_EVIDENCE_EXEMPTIONS else "")
            ex_html = ('<h4>Exemptions under %s: %d (%d expired)</h4><div class="scroll" tabindex="0" role="region" '
                       'aria-label="exemptions under %s"><table class="sub"><thead><tr>'
                       '<th scope="col">host</th><th scope="col">entry</th><th scope="col">reason</th>'
                       '<th scope="col">approved by</th><th scope="col">expires</th><th scope="col">state</th></tr>'
                       '</thead><tbody>%s</tbody></table></div>%s'
                       % (esc(row["id"]), len(exemptions), row.get("expired_exemptions", 0), esc(row["id"]), cells,
                          more))
        parts.append('<article class="pol" data-policy="%s"><h3>%s%s</h3><p class="stmt">%s</p><dl class="facts">%s'
                     '</dl><div class="scroll" tabindex="0" role="region" aria-label="counts under %s">%s</div>%s'
                     '</article>'
                     % (esc(row["id"]), esc(row["id"]), (u" \u2014 " + esc(row["title"])) if row.get("title") else "",
                        esc(statement(row)), "".join(facts), esc(row["id"]), counts, ex_html))
    parts.append("</section>")
    return "".join(parts)


MAX_PRINT_HOSTS = 2000


def print_hosts(report):
    """The hosts that need action as a static table shown only in print (the interactive table pages); the
    script fills it from the embedded data, at most MAX_PRINT_HOSTS rows."""
    count = sum(1 for h in report["hosts"].values() if h.get("status") in ("non_compliant", "unreachable", "failed"))
    return ('<section id="print-hosts" class="print-only"><h2>Hosts that need action: %d</h2>'
            '<table class="sub"><thead><tr><th scope="col">host</th><th scope="col">status</th>'
            '<th scope="col">entries</th><th scope="col">error</th></tr></thead><tbody id="print-hosts-rows"></tbody>'
            '</table>%s</section>'
            % (count, ('<p class="note">The first %d are listed; report.csv has all.</p>' % MAX_PRINT_HOSTS)
               if count > MAX_PRINT_HOSTS else ""))


def _delta(report, key):
    """The change of a summary count since the previous run ("+2", "-1", ""), from the trend."""
    trend = report.get("trend") or []
    if len(trend) < 2 or key not in trend[-2] or not isinstance(report.get("changes"), dict):
        return ""
    diff = int(report["summary"].get(key) or 0) - int(trend[-2].get(key) or 0)
    return ("+%d" % diff) if diff > 0 else ("%d" % diff if diff < 0 else u"±0")


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Microsoft YaHei",
"PingFang SC","Hiragino Sans GB","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:0;color:#1c2833;
background:#f4f6f7}
header{background:#1c2833;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#d5dbdb}main{padding:16px 24px}
section{background:#fff;border:1px solid #d5dbdb;border-radius:6px;padding:12px 16px;margin:0 0 16px;min-width:0}
h2{font-size:16px;margin:0 0 10px}h3{font-size:15px;margin:12px 0 6px}h4{font-size:14px;margin:10px 0 4px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #d5dbdb;border-radius:6px;padding:8px 14px;min-width:96px;background:#fbfcfc}
.card .n{display:block;font-size:24px;font-weight:600}.card .l{color:#4d5656;font-size:12px}
.card .d{display:block;color:#4d5656;font-size:11px}
.card.bad .n{color:#b03a1a}.card.bad .n::before{content:"\\26A0\\FE0E  ";font-size:16px}
.card.good .n{color:#1b6e4c}.figs{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:12px 0 0;max-width:100%}figcaption{font-weight:600;margin-bottom:4px}
.chart{max-width:100%;height:auto;display:block}.chart text{font-size:12px;fill:#1c2833;font-family:inherit}
.chart text.in{font-size:11px;fill:#000;font-weight:600}
.note{color:#4d5656;font-size:12px}.tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.tools input,.tools select,.tools button{font:inherit;padding:3px 6px}
:focus-visible{outline:3px solid #0072B2;outline-offset:1px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e5e8e8;padding:4px 6px;text-align:left;
vertical-align:top;overflow-wrap:normal;word-break:normal}th{background:#eaeded;cursor:pointer;user-select:none;
white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
#hosts-table td:first-child,#exemptions-table td:first-child,.hn,.nw,#hosts-table td:last-child,
#hosts-table td:nth-child(2),#hosts-table td:nth-child(4),#hosts-table td:nth-child(5),#hosts-table td:nth-child(7),
#hosts-table td:nth-child(8){white-space:nowrap}#hosts-table td:nth-child(6){min-width:19em}
#hosts-table td:nth-child(9){min-width:12em;max-width:36em}
tr.host{cursor:pointer}tr.host:hover{background:#f2f4f4}tr.detail td{background:#fbfcfc}
.err{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
details.ec summary{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:36em}
.st{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:3px;color:#1c2833;font-size:12px;
border:1px solid;border-left-width:4px}
.st::before{font-weight:700;margin-right:3px}
.st-unreachable{background:#f7e8f0;border-color:#CC79A7}.st-unreachable::before{content:"\\26A0\\FE0E"}
.st-failed{background:#fcf0d9;border-color:#E69F00}.st-failed::before{content:"!"}
.st-non_compliant{background:#fbe4d6;border-color:#D55E00}.st-non_compliant::before{content:"\\2716\\FE0E"}
.st-remediated{background:#dceaf5;border-color:#0072B2}.st-remediated::before{content:"\\21BA"}
.st-compliant{background:#dff2ea;border-color:#009E73}.st-compliant::before{content:"\\2714\\FE0E"}
.sub{width:100%;font-size:12px}.sub th{cursor:default}
.badge{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:3px;font-size:12px;color:#fff;
background:#a04000;margin-left:4px}.tools label{white-space:nowrap}
.chg{display:flex;flex-wrap:wrap;gap:10px 24px}.cg{min-width:0;max-width:100%;overflow-x:auto}.cg ul{margin:0;padding-left:18px}
.cg h3{margin:4px 0}
.pol{border-top:1px solid #d5dbdb;padding-top:6px}.stmt{font-weight:600}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0 8px}.facts dt{color:#4d5656}
.facts dd{margin:0;min-width:0}.url{overflow-wrap:anywhere}
.counts{width:auto}tr.expired td{background:#fbe4d6}
.print-only{display:none}
@media (max-width:600px){main{padding:8px}section{padding:8px 10px}header{padding:10px 12px}
.card{min-width:76px;padding:6px 10px}.card .n{font-size:20px}}
@media print{
@page{size:A4;margin:14mm 12mm}
body{background:#fff;font-size:10pt;color:#000}
header{background:none;color:#000;border-bottom:2px solid #000;padding:0 0 6px}header p{color:#000}
main{padding:8px 0}section{border:none;border-radius:0;padding:0;margin:0 0 12px}
#charts,#hosts,#exemptions,.tools,noscript,.chg-trend{display:none}
.print-only{display:block}
.card{border-color:#888;background:#fff;padding:4px 8px;break-inside:avoid}
h2{break-after:avoid}h3,h4{break-after:avoid}article.pol{break-inside:avoid-page}
thead{display:table-header-group}tr{break-inside:avoid}
.scroll{overflow:visible}.hn,#hosts-table td:first-child{white-space:normal;overflow-wrap:anywhere}
.st{background:#fff}
}
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function Table(opts) {
    var self = this;
    self.opts = opts; self.rows = opts.rows; self.view = opts.rows.slice(); self.page = 0;
    self.size = 100; self.sortCol = -1; self.sortDir = 1; self.open = {};
    var root = document.getElementById(opts.id);
    var tools = el("div", null, "tools");
    self.filter = el("input"); self.filter.type = "search"; self.filter.placeholder = "filter";
    self.filter.setAttribute("aria-label", "filter " + opts.id);
    tools.appendChild(self.filter);
    if (opts.statusCol !== undefined) {
      self.status = el("select"); self.status.setAttribute("aria-label", "status");
      ["all statuses"].concat(opts.statuses).forEach(function (s, i) {
        var o = el("option", s); o.value = i ? s : ""; self.status.appendChild(o);
      });
      tools.appendChild(self.status);
      self.status.addEventListener("change", function () { self.apply(); });
    }
    if (opts.flagCol !== undefined) {
      var label = el("label", null, "note"); self.flag = el("input"); self.flag.type = "checkbox";
      self.flag.id = opts.id + "-flag"; label.appendChild(self.flag); label.appendChild(el("span", " " + opts.flagLabel));
      tools.appendChild(label);
      self.flag.addEventListener("change", function () { self.apply(); });
    }
    self.prev = el("button", "\u2039 previous"); self.next = el("button", "next \u203A");
    self.info = el("span", "", "note");
    tools.appendChild(self.prev); tools.appendChild(self.next); tools.appendChild(self.info);
    root.appendChild(tools);
    var table = el("table"); var thead = el("thead"); var hr = el("tr"); var wrap = el("div", null, "scroll");
    self.ths = opts.columns.map(function (c, i) {
      var th = el("th", c[0]); th.scope = "col"; th.tabIndex = 0;
      th.addEventListener("click", function () { self.sort(i); });
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { self.sort(i); } });
      hr.appendChild(th); return th;
    });
    thead.appendChild(hr); table.appendChild(thead);
    self.tbody = el("tbody"); table.appendChild(self.tbody); wrap.appendChild(table); root.appendChild(wrap);
    self.filter.addEventListener("input", function () { self.apply(); });
    self.prev.addEventListener("click", function () { if (self.page > 0) { self.page--; self.render(); } });
    self.next.addEventListener("click", function () {
      if ((self.page + 1) * self.size < self.view.length) { self.page++; self.render(); }
    });
    self.render();
  }
  Table.prototype.apply = function () {
    var q = this.filter.value.toLowerCase(), st = this.status ? this.status.value : "", o = this.opts;
    var flag = this.flag ? this.flag.checked : false;
    this.view = this.rows.filter(function (r) {
      if (st && r[o.statusCol] !== st) { return false; }
      if (flag && !r[o.flagCol]) { return false; }
      if (!q) { return true; }
      return o.columns.some(function (c) { return String(r[c[1]]).toLowerCase().indexOf(q) >= 0; });
    });
    this.page = 0; this.sortView(); this.render();
  };
  Table.prototype.sort = function (i) {
    if (this.sortCol === i) { this.sortDir = -this.sortDir; } else { this.sortCol = i; this.sortDir = 1; }
    var self = this;
    this.ths.forEach(function (th, j) {
      if (j === i) { th.setAttribute("aria-sort", self.sortDir > 0 ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
    this.sortView(); this.page = 0; this.render();
  };
  Table.prototype.sortView = function () {
    if (this.sortCol < 0) { return; }
    var k = this.opts.columns[this.sortCol][1], d = this.sortDir;
    var rank = this.opts.rank;
    this.view.sort(function (a, b) {
      var x = a[k], y = b[k];
      if (rank && k === 1) { x = rank[x]; y = rank[y]; }
      if (typeof x === "number" && typeof y === "number") { return (x - y) * d || (a[0] < b[0] ? -1 : 1); }
      x = String(x); y = String(y);
      return (x < y ? -1 : x > y ? 1 : 0) * d;
    });
  };
  Table.prototype.render = function () {
    var self = this, o = this.opts, start = this.page * this.size;
    var rows = this.view.slice(start, start + this.size);
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr", null, o.details ? "host" : "");
      o.columns.forEach(function (c) {
        var td = el("td");
        if (c[2] === "status") { td.appendChild(el("span", r[c[1]], "st st-" + r[c[1]])); }
        else if (c[2] === "badge") { if (r[c[1]]) { td.appendChild(el("span", "reinstalled " + r[c[1]], "badge")); } }
        else if (c[2] === "long" && (String(r[c[1]]).length > 60 || String(r[c[1]]).indexOf("\n") >= 0)) {
          /* a long error on one line; the whole text on demand (keyboard: Tab to it, Enter) */
          var d = el("details", null, "ec"), sm = el("summary", String(r[c[1]]).split("\n")[0].slice(0, 60) + "\u2026");
          d.appendChild(sm); d.appendChild(el("div", r[c[1]], "err"));
          d.addEventListener("click", function (ev) { ev.stopPropagation(); });
          d.addEventListener("keydown", function (ev) { ev.stopPropagation(); });
          td.appendChild(d);
        }
        else { td.textContent = String(r[c[1]]); }
        tr.appendChild(td);
      });
      body.appendChild(tr);
      if (o.details) {
        tr.tabIndex = 0; tr.setAttribute("aria-describedby", o.id + "-help");
        var toggle = function () { self.open[r[0]] = !self.open[r[0]]; self.render(); };
        tr.addEventListener("click", toggle);
        tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { toggle(); } });
        if (self.open[r[0]]) { body.appendChild(o.details(r, o.columns.length)); }
      }
    });
    this.tbody.parentNode.replaceChild(body, this.tbody); this.tbody = body;
    var end = Math.min(start + this.size, this.view.length);
    this.info.textContent = (this.view.length ? (start + 1) + "\u2013" + end : "0") + " of " + this.view.length +
      (this.view.length !== this.rows.length ? " (filtered from " + this.rows.length + ")" : "");
    this.prev.disabled = this.page === 0; this.next.disabled = end >= this.view.length;
  };
  function findingsRow(r, span) {
    var tr = el("tr", null, "detail"), td = el("td"); td.colSpan = span;
    if (r[7]) { td.appendChild(el("p", "Error: " + r[7], "err")); }
    if (r[12]) { td.appendChild(el("p", "Reinstall " + r[12], "note")); }
    if (!r[10].length) { td.appendChild(el("p", "No findings.", "note")); }
    else {
      var t = el("table", null, "sub"), h = el("tr");
      ["entry", "product", "source", "name", "version", "scope", "path", "outcome", "exempt", "policies", "drift"]
        .forEach(function (c) { h.appendChild(el("th", c)); });
      t.appendChild(h);
      r[10].forEach(function (f) {
        var fr = el("tr");
        f.slice(0, 10).forEach(function (v) { fr.appendChild(el("td", v === true ? "yes" : v === false ? "no" : v)); });
        var dt = el("td");
        if (f[10]) { dt.appendChild(el("span", f[10], "badge")); dt.appendChild(el("span", " removed " + f[11])); }
        fr.appendChild(dt);
        t.appendChild(fr);
      });
      td.appendChild(t);
    }
    tr.appendChild(td); return tr;
  }
  var rank = {unreachable: 0, failed: 1, non_compliant: 2, remediated: 3, compliant: 4};
  new Table({id: "hosts-table", rows: data.hosts, statusCol: 1, rank: rank, flagCol: 11,
    flagLabel: "reinstalled only",
    statuses: ["unreachable", "failed", "non_compliant", "remediated", "compliant"], details: findingsRow,
    columns: [["host", 0], ["status", 1, "status"], ["drift", 11, "badge"], ["findings", 2], ["exempt", 3],
              ["products", 4], ["outcomes", 5], ["reboot", 6], ["error", 7, "long"], ["warnings", 8], ["os", 9]]});
  new Table({id: "exemptions-table", rows: data.exemptions,
    columns: [["host", 0], ["entry", 1], ["product", 2], ["finding", 3], ["reason", 4], ["expires", 5],
              ["approved by", 6], ["state", 7]]});
  var printed = document.getElementById("print-hosts-rows");
  if (printed) {
    data.hosts.filter(function (r) { return r[1] === "non_compliant" || r[1] === "unreachable" || r[1] === "failed"; })
      .slice(0, 2000).forEach(function (r) {
        var tr = el("tr"), st = el("td");
        tr.appendChild(el("td", r[0])); st.appendChild(el("span", r[1], "st st-" + r[1])); tr.appendChild(st);
        tr.appendChild(el("td", r[4])); tr.appendChild(el("td", r[7].length > 120 ? r[7].slice(0, 119) + "\u2026" : r[7]));
        printed.appendChild(tr);
      });
  }
  document.documentElement.setAttribute("data-ready", "true");
}());
"""


def _script_hash(script):
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _card(key, label, value, cls="", delta=""):
    return ('<div class="card %s" data-key="%s"><span class="n">%s</span><span class="l">%s</span>%s</div>'
            % (cls, esc(key), esc(value), esc(label),
               ('<span class="d" title="since the previous run">%s since last run</span>' % esc(delta))
               if delta else ""))


def render_html(report):
    """The page as text."""
    summary = report["summary"]
    data = table_data(report)
    labels = {"hosts": "hosts", "compliant": "compliant", "non_compliant": "non-compliant",
              "remediated": "remediated", "unreachable": "unreachable", "failed": "failed",
              "findings": "findings", "exempt_findings": "exempt findings",
              "reinstalled_hosts": "hosts with reinstalls", "reinstalled_findings": "reinstalled findings"}
    cards = []
    for key in SUMMARY_KEYS:
        value = summary.get(key, 0)
        cls = "bad" if key in ("non_compliant", "unreachable", "failed", "reinstalled_hosts",
                               "reinstalled_findings") and value else (
            "good" if key in ("compliant", "remediated") else "")
        cards.append(_card(key, labels[key], value, cls, _delta(report, key)))
    reboot = summary.get("reboot_required") or []
    cards.append(_card("reboot_required", "reboot required", len(reboot), "bad" if reboot else ""))
    again = [h[0] for h in data["hosts"] if h[11]]
    outcomes = summary.get("outcomes") or {}
    outcome_text = ", ".join("%s %d" % (k, outcomes[k]) for k in sorted(outcomes))
    catalog = (report.get("catalog") or {}).get("version")
    csp = ("default-src 'none'; script-src '%s'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
           "form-action 'none'" % _script_hash(JS))
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta http-equiv="Content-Security-Policy" content="%s">' % esc(csp),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Banned software compliance report %s</title>" % esc(report.get("generated_at")),
        "<style>%s</style></head><body>" % CSS,
        "<header><h1>Banned software compliance report</h1><p>generated <time id=\"generated-at\">%s</time>"
        " &middot; catalog <span id=\"catalog-version\">%s</span> &middot; report schema %s</p></header><main>"
        % (esc(report.get("generated_at")), esc(catalog), esc(report.get("schema"))),
        '<section id="summary"><h2>Summary</h2><div class="cards">%s</div>' % "".join(cards),
        '<p class="note">Unreachable and failed hosts are never counted as compliant.%s%s%s</p></section>' % (
            (" Remediation outcomes: " + esc(outcome_text) + ".") if outcome_text else "",
            (" Reboot required on: " + esc(", ".join(reboot[:10]))
             + (" and %d more (filter the table by reboot)" % (len(reboot) - 10) if len(reboot) > 10 else "") + ".")
            if reboot else "",
            (" Reinstalled after a remediation removed it, on: " + esc(", ".join(again[:10]))
             + (" and %d more (filter the table: reinstalled only)" % (len(again) - 10) if len(again) > 10 else "")
             + ".") if again else ""),
        changes_section(report),
        evidence_section(report),
        '<section id="charts"><h2>Charts</h2><div class="figs">%s</div></section>' % charts(report),
        print_hosts(report),
        '<section id="hosts"><h2>Hosts</h2><p class="note" id="hosts-table-help">Problem hosts first. Click a column '
        'header to sort, a host to see its findings (keyboard: Tab to it, Enter).</p><noscript><p>The host table needs JavaScript; report.csv has the same '
        'rows.</p></noscript><div id="hosts-table" data-rows="%d"></div></section>' % len(data["hosts"]),
        '<section id="exemptions"><h2>Exemptions</h2><p class="note">Findings accepted by an exemption (reason, expiry); '
        'expired exemptions are not honoured.</p><div id="exemptions-table" data-rows="%d"></div></section>'
        % len(data["exemptions"]),
        '</main><script type="application/json" id="report-data">%s</script>' % embed_json(data),
        "<script>%s</script></body></html>\n" % JS,
    ]
    return "".join(parts)


def write_html(report, handle):
    """Write the page to a text ``handle``."""
    handle.write(render_html(report))
