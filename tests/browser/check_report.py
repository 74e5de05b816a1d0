# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report page in a real browser: write a sample fleet report (two runs, so it has changes and a
trend; the evidence per policy; CJK product names, long host names, an unreachable host with a very long
SSH error) into tests/output/browser/, then run check_report.js (headless Chromium through puppeteer-core,
axe-core) on it at 390, 1280 and 1920 pixels. Exits non-zero when the check fails.

    python tests/browser/check_report.py [--node-modules .cache/browser/node_modules]
"""

import argparse
import datetime
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.path.join(ROOT, "tests", "output", "browser")
LONG_SSH_ERROR = (
    "Failed to connect to the host via ssh: OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024\r\n"
    "debug1: Reading configuration data /etc/ssh/ssh_config\r\ndebug1: /etc/ssh/ssh_config line 19: include "
    "/etc/ssh/ssh_config.d/*.conf matched no files\r\ndebug1: auto-mux: Trying existing master at "
    "'/home/awx/.ansible/cp/8f1c2a9e0b'\r\ndebug1: Control socket \"/home/awx/.ansible/cp/8f1c2a9e0b\" does not exist"
    "\r\ndebug2: resolving \"workstation-0042.finance.eastern-region.example.gov\" port 22\r\ndebug3: "
    "ssh_connect_direct: entering\r\ndebug1: Connecting to workstation-0042.finance.eastern-region.example.gov "
    "[10.20.30.42] port 22.\r\ndebug3: set_sock_tos: set socket 3 IP_TOS 0x10\r\ndebug1: connect to address "
    "10.20.30.42 port 22: Connection timed out\r\nssh: connect to host workstation-0042.finance.eastern-region."
    "example.gov port 22: Connection timed out")


def _benchmark():
    spec = importlib.util.spec_from_file_location("report_generation",
                                                  os.path.join(ROOT, "benchmarks", "report_generation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cjk_finding(eid, product, name, policies, exempt=False, expired=False):
    finding = {"id": eid, "product": product, "vendor": u"\u817e\u8baf Tencent", "source": "dpkg", "name": name,
               "version": "3.9.2", "scope": "machine", "path": "/var/lib/dpkg/status", "policies": policies,
               "exempt": exempt, "key": "dpkg|machine|%s|/var/lib/dpkg/status" % name}
    if exempt:
        finding["exemption"] = {"reason": u"Liaison office \u2014 ticket SEC-2231", "expires": "2027-06-30",
                                "approved_by": "CISO"}
    if expired:
        finding["exemption_expired"] = {"reason": "Pilot ended", "expires": "2026-01-31", "approved_by": "CIO"}
    return finding


def sample_fleets(bench):
    """(night 1, night 2) host results: a synthetic fleet plus the hosts that look hard on a page."""
    fleet = bench.synthetic_fleet(60, seed=11)
    base = {"os": "linux", "policies": ["all"], "catalog_version": "2026.11.29", "scanned_at": "2026-12-02T02:00:00Z"}
    long_name = "build-agent-0042.ci.eastern-region.departement-des-finances-et-des-comptes-publics.example.gouv.fr"
    wechat_cn = cjk_finding("wechat", u"\u5fae\u4fe1 WeChat (Weixin)", u"wechat-\u5fae\u4fe1", ["ca-tbs-2023-10-30"])
    wecom_cn = cjk_finding("wecom", u"\u4f01\u4e1a\u5fae\u4fe1 WeCom", "com.qq.weixin.work.deepin",
                           ["ca-tbs-2023-10-30"], exempt=True)
    night1 = dict(fleet)
    night1.update({
        long_name: dict(base, status="non_compliant", findings=[wechat_cn]),
        u"b\u00fcro-\u5317\u4eac-\u5927\u4f7f\u9986-workstation-17.example.gov":
            dict(base, status="non_compliant", os="windows", findings=[wechat_cn, wecom_cn]),
        "workstation-0042.finance.eastern-region.example.gov": dict(base, status="compliant", findings=[]),
        "kiosk-lobby-7.example.gov": dict(base, status="non_compliant", findings=[
            cjk_finding("deepseek", u"DeepSeek \u6df1\u5ea6\u6c42\u7d22", "deepseek", ["ca-tbs-2025-02-06-deepseek"],
                        expired=True)]),
    })
    night2 = dict(night1)
    night2.update({
        long_name: dict(base, status="remediated", remediation={"run_id": "r2"},
                        findings=[dict(wechat_cn, outcome="removed")]),
        "workstation-0042.finance.eastern-region.example.gov": {"unreachable": True, "msg": LONG_SSH_ERROR},
    })
    return night1, night2


def write_sample(out_dir):
    bench = _benchmark()
    report_mod, dummy, html_mod, dummy2 = bench._import_collection()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import add_policy_evidence
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.history import apply_history
    night1, night2 = sample_fleets(bench)
    catalog = load_catalog()
    first = report_mod.build_report(night1, "2026.11.29", datetime.datetime(2026, 12, 1, 2, tzinfo=datetime.timezone.utc))
    apply_history(first, None)
    second = report_mod.build_report(night2, "2026.11.29",
                                     datetime.datetime(2026, 12, 2, 2, tzinfo=datetime.timezone.utc))
    apply_history(second, first)
    add_policy_evidence(second, catalog)
    os.makedirs(out_dir, exist_ok=True)
    page = os.path.join(out_dir, "report.html")
    with open(page, "w", encoding="utf-8") as handle:
        html_mod.write_html(second, handle)
    return page


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", default=os.path.join(ROOT, ".cache", "browser", "node_modules"))
    parser.add_argument("--out", default=OUTPUT)
    args = parser.parse_args(argv)
    page = write_sample(args.out)
    print("sample report: %s" % page)
    env = dict(os.environ, NODE_PATH=args.node_modules)
    proc = subprocess.run(["node", os.path.join(ROOT, "tests", "browser", "check_report.js"), page, args.out],
                          env=env, timeout=170, check=False)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
