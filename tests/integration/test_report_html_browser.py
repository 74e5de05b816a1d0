# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html in a real browser: headless Chromium (Debian's chromium package, installed by .ci/run)
renders the page for 100 and 10,000 hosts with no console error or CSP violation, the script builds
the host table, and a screenshot is kept as a CI artifact in tests/output/."""

from __future__ import absolute_import, division, print_function

import datetime
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.path.join(ROOT, "tests", "output")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--window-size=1400,2200", "--virtual-time-budget=10000"]
# Console messages and script errors as Chromium logs them with --enable-logging=stderr.
CONSOLE = re.compile(r"CONSOLE|Uncaught|Refused to|Content Security Policy|SyntaxError|TypeError|ReferenceError")


def _benchmark():
    spec = importlib.util.spec_from_file_location("report_generation",
                                                  os.path.join(ROOT, "benchmarks", "report_generation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed: the HTML report check needs Debian's chromium package "
                "(apt-get install -y chromium; .ci/run installs it)")
    return None


def run_chromium(page, *extra):
    """Run headless Chromium on ``page``; return (stdout, console lines of stderr)."""
    profile = tempfile.mkdtemp(prefix="bsw-chromium-")
    try:
        proc = subprocess.run([chromium()] + FLAGS + ["--user-data-dir=" + profile] + list(extra)
                              + ["file://" + page], capture_output=True, text=True, timeout=240, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]
    return proc.stdout, console


def make_page(tmp_path, hosts):
    bench = _benchmark()
    report_mod, dummy, html_mod, dummy2 = bench._import_collection()
    fleet = bench.synthetic_fleet(hosts, seed=6)
    # a hostile host name must render as text, never run ("<" sorts it first among the unreachable)
    fleet['<script>document.title="pwned"</script><img src=x onerror=alert(1)>'] = {
        "status": "unreachable", "findings": [], "error": "</script><b>not bold</b>"}
    report = report_mod.build_report(fleet, "2026.11.29",
                                     datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc))
    page = str(tmp_path / "report.html")
    with open(page, "w", encoding="utf-8") as handle:
        html_mod.write_html(report, handle)
    return page, report


@pytest.mark.parametrize("hosts", [100, 10000])
def test_report_renders_without_console_errors(tmp_path, hosts):
    page, report = make_page(tmp_path, hosts)
    total = hosts + 1
    dom, console = run_chromium(page, "--dump-dom")
    assert console == []
    assert 'data-ready="true"' in dom
    # one page of rows (100) in the DOM, problem hosts first, and the pager counts every host
    rows = re.findall(r'<tr class="host"[^>]*><td>([^<]*)</td><td><span class="st st-([a-z_]+)">', dom)
    assert len(rows) == 100
    assert u"1\u2013100 of %d" % total in dom
    order = {"unreachable": 0, "failed": 1, "non_compliant": 2, "remediated": 3, "compliant": 4}
    ranks = [order[status] for dummy, status in rows]
    assert ranks == sorted(ranks)
    assert rows[0] == ('&lt;script&gt;document.title="pwned"&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;',
                       "unreachable")
    # the hostile host is a text cell, its markup never became elements
    assert "<title>Banned software compliance report" in dom and "pwned" not in dom.split("</title>")[0]
    assert "&lt;/script&gt;&lt;b&gt;not bold&lt;/b&gt;" in dom
    assert "<img" not in dom and "<b>" not in dom
    # summary counts as rendered
    assert re.search(r'data-key="hosts"><span class="n">%d</span>' % total, dom)
    assert re.search(r'data-key="non_compliant"><span class="n">%d</span>' % report["summary"]["non_compliant"], dom)
    os.makedirs(OUTPUT, exist_ok=True)
    name = "report-screenshot.png" if hosts == 100 else "report-screenshot-%d.png" % hosts
    shot = os.path.join(OUTPUT, name)
    if os.path.exists(shot):
        os.unlink(shot)
    dummy, console = run_chromium(page, "--screenshot=" + shot, "--hide-scrollbars")
    assert console == []
    with open(shot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(shot) > 50000
    print("screenshot: %s" % shot)


def test_console_errors_are_detected(tmp_path):
    """The check itself: a page with a script error and a blocked external load is reported."""
    page = str(tmp_path / "broken.html")
    with open(page, "w", encoding="utf-8") as handle:
        handle.write("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
                     "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
                     "<img src=\"https://example.invalid/x.png\"><script>undefinedFunction();</script></body></html>")
    dummy, console = run_chromium(page, "--dump-dom")
    joined = "\n".join(console)
    assert "Uncaught ReferenceError: undefinedFunction is not defined" in joined
    assert "Loading the image 'https://example.invalid/x.png' violates the following Content Security Policy" \
        in joined


def test_reinstalled_badge_and_filter_render(tmp_path):
    """Drift in a real browser: the host row's badge, the "reinstalled only" filter, no console error."""
    report_mod, dummy, html_mod, dummy2 = _benchmark()._import_collection()
    blocks = {"prevent_reinstall": True, "mode": "present", "not_blockable": [],
              "items": [{"mechanism": "apt_preferences", "state": "applied", "target": "/etc/apt/preferences.d/x"}]}
    again = {"id": "wechat", "product": "WeChat", "vendor": "Tencent", "source": "dpkg", "name": "wechat",
             "scope": "machine", "path": "/var/lib/dpkg/status", "policies": ["p"], "exempt": False,
             "key": "dpkg|machine|wechat|/var/lib/dpkg/status", "drift": "reinstalled",
             "removed_at": "2026-11-01T10:00:00Z"}
    fleet = {"again.example.gov": {"status": "non_compliant", "findings": [again], "blocks": blocks,
                                   "reinstalled": [again["key"]]},
             "clean.example.gov": {"status": "compliant", "findings": []}}
    report = report_mod.build_report(fleet, "2026.11.29",
                                     datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc))
    page = str(tmp_path / "report.html")
    with open(page, "w", encoding="utf-8") as handle:
        html_mod.write_html(report, handle)
    dom, console = run_chromium(page, "--dump-dom")
    assert console == []
    assert 'data-ready="true"' in dom
    rows = re.findall(r'<tr class="host"[^>]*><td>([^<]*)</td><td><span class="st st-[a-z_]+">[^<]*</span></td>'
                      r'<td>(.*?)</td>', dom)
    assert rows == [("again.example.gov", '<span class="badge">reinstalled 1</span>'), ("clean.example.gov", "")]
    assert re.search(r'<input type="checkbox" id="hosts-table-flag">', dom)
    assert "reinstalled only" in dom
    assert re.search(r'data-key="reinstalled_hosts"><span class="n">1</span>', dom)
