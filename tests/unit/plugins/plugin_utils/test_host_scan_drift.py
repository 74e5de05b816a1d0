# -*- coding: utf-8 -*-
"""scan_host end to end with a local fact: one collector call reads the records and the fact, findings
removed before are marked "reinstalled", the host lists them, its status stays non_compliant."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_selection
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_scan import scan_host

WECHAT = "dpkg|machine|wechat|/var/lib/dpkg/status"
KESL = "dpkg|machine|kesl|/var/lib/dpkg/status"
TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()


def stanza(name):
    return "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n" % name


def make_root(tmp_path, fact=None):
    root = tmp_path / "img"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("\n".join(stanza(n) for n in ("wechat", "kesl", "bash")))
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    if fact is not None:
        (root / "etc/ansible/facts.d").mkdir(parents=True)
        (root / "etc/ansible/facts.d/banned_software.fact").write_text(fact)
    return root


def args(root, exemptions=None):
    return {"policies": ["all"], "disabled_entries": [], "custom_entries": [], "custom_policies": [],
            "catalog_files": [], "exemptions": exemptions or [], "sources": ["dpkg"], "users": None,
            "root": str(root)}


def scan(root, exemptions=None, windows_text=None):
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None):
        calls.append(module_name)
        result = collect_linux(module_args["root"], module_args["query"]["linux"], lambda *a, **k: (1, "", ""),
                               sources=module_args.get("sources"))
        if windows_text is not None:
            del result["local_fact"]
            result["local_fact_text"] = windows_text
        result["collector_warnings"] = result.pop("warnings")
        return result

    a = args(root, exemptions)
    catalog, entries, exemption_list = load_selection(a)
    facts = scan_host(execute_module, {"ansible_connection": "local"}, a, catalog, entries, exemption_list,
                      family="posix").facts
    assert calls == ["govsec.banned_software.collect"], "one collector call reads records and the fact"
    return facts


def record(*removals, **kw):
    data = {"schema": 1, "status": "compliant",
            "removals": [{"key": key, "removed_at": at} for key, at in removals],
            "last_remediation": {"at": kw.get("last", "2026-12-01T09:00:42Z"), "removed": []}}
    return json.dumps(data)


def by_key(facts):
    return dict((f["key"], f) for f in facts["findings"])


def test_reinstalled_findings_are_marked_and_listed(tmp_path):
    facts = scan(make_root(tmp_path, record((WECHAT, "2026-12-01T09:00:42Z"), ("dpkg|machine|gone|x", "2026-11-01T00:00:00Z"))))
    found = by_key(facts)
    assert sorted(found) == [KESL, WECHAT]
    assert (found[WECHAT]["drift"], found[WECHAT]["removed_at"]) == ("reinstalled", "2026-12-01T09:00:42Z")
    assert "drift" not in found[KESL] and "removed_at" not in found[KESL]
    assert facts["reinstalled"] == [WECHAT]
    assert facts["last_remediation_at"] == "2026-12-01T09:00:42Z"
    assert facts["status"] == "non_compliant"
    assert not [w for w in facts["warnings"] if "local fact" in w]


def test_without_a_local_fact_nothing_is_reinstalled(tmp_path):
    facts = scan(make_root(tmp_path))
    assert facts["reinstalled"] == [] and facts["last_remediation_at"] is None
    assert not [f for f in facts["findings"] if "drift" in f]


def test_an_exempt_reinstall_is_marked_but_not_listed_and_the_host_is_compliant(tmp_path):
    exemptions = [{"entry": "wechat", "reason": "liaison office", "expires": TOMORROW},
                  {"entry": "kaspersky-endpoint-security-linux", "reason": "pilot", "expires": TOMORROW}]
    facts = scan(make_root(tmp_path, record((WECHAT, "2026-12-01T09:00:42Z"))), exemptions)
    found = by_key(facts)
    assert found[WECHAT]["exempt"] is True and found[WECHAT]["drift"] == "reinstalled"
    assert facts["reinstalled"] == []
    assert facts["status"] == "compliant"


def test_a_broken_local_fact_is_a_warning_and_the_scan_goes_on(tmp_path):
    facts = scan(make_root(tmp_path, "{broken"))
    assert sorted(by_key(facts)) == [KESL, WECHAT]
    assert facts["reinstalled"] == []
    assert [w for w in facts["warnings"]
            if w.startswith("local fact /etc/ansible/facts.d/banned_software.fact: not valid JSON")]


def test_windows_raw_text_is_parsed_on_the_controller(tmp_path):
    facts = scan(make_root(tmp_path), windows_text=record((KESL, "2026-11-02T10:00:00Z")))
    assert facts["reinstalled"] == [KESL]
    assert by_key(facts)[KESL]["removed_at"] == "2026-11-02T10:00:00Z"
