# -*- coding: utf-8 -*-
"""A Linux host for the removal planner's tests: records as the collector reports them, the findings the matcher
makes of them (key format of plugins/plugin_utils/match/matcher.py, "source|scope|name|path") and catalog entries
banned by their dpkg name. Used by test_plan.py and by the Linux cases of test_plan_cases.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import plan_removal

DPKG = "/usr/bin/dpkg"
RPM = "/usr/bin/rpm"
SYSTEMCTL = "/usr/bin/systemctl"
FLATPAK = "/usr/bin/flatpak"
SNAP = "/usr/bin/snap"
TOOLS = {"dpkg": DPKG, "rpm": RPM, "systemctl": SYSTEMCTL, "flatpak": FLATPAK, "snap": SNAP}
STATUS = "/var/lib/dpkg/status"
RPMDB = "/var/lib/rpm"
ALICE = {"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}


def entry(eid, data_policy="keep", data=None, leftovers=None):
    doc = {"id": eid, "vendor": "V", "product": eid, "policies": ["p"], "references": [{"url": "https://e.example"}],
           "signatures": {"linux": {"dpkg": [{"name": eid}]}}, "data_policy": data_policy}
    rem = {}
    if data:
        rem["data"] = data
    if leftovers:
        rem["leftovers"] = leftovers
    if rem:
        doc["remediation"] = {"linux": rem}
    return Entry("test", doc)


def default_entries(wechat_policy="keep"):
    return {"wechat": entry("wechat", wechat_policy, data=["~/.xwechat", "~/xwechat_files"],
                            leftovers=["/var/opt/wechat"]),
            "kesl": entry("kesl", leftovers=["/var/opt/kaspersky/kesl"])}


def key(source, name, path=None, scope="machine"):
    return "|".join([source, scope, name, path or ""])


class Host(object):
    """Records as the collector reports them, and the findings the matcher makes of them."""

    def __init__(self, users=(ALICE,), tools=None):
        self.records = {}
        self.findings = []
        self.matched = {}   # finding key -> record, as the matcher hands them to the planner
        self.users = [dict(u) for u in users]
        self.tools = dict(TOOLS if tools is None else tools)

    def add(self, eid, source, name, path=None, scope="machine", exempt=False, finding=True, **extra):
        rec = {"name": name, "scope": scope}
        if path is not None:
            rec["path"] = path
        rec.update(extra)
        self.records.setdefault(source, []).append(rec)
        if finding:
            f = {"id": eid, "product": eid, "vendor": "V", "source": source, "name": name, "version": None,
                 "scope": scope, "path": path, "policies": ["p"], "exempt": exempt, "key": key(source, name, path, scope)}
            if exempt:
                f["exemption"] = {"reason": "approved %s" % eid, "expires": "2099-01-01"}
            self.findings.append(f)
            self.matched.setdefault(f["key"], rec)
        return self

    def data(self, path, scope="user:alice", source="data", kind="dir"):
        return self.add(None, source, path, path, scope, finding=False, type=kind)

    def collected(self):
        return {"os": "linux", "root": "/", "users": self.users, "tools": self.tools, "records": self.records}

    def plan(self, entries=None, **options):
        options.setdefault("run_id", "R1")
        return plan_removal("linux", self.findings, self.collected(), entries or default_entries(), options,
                            self.matched)
