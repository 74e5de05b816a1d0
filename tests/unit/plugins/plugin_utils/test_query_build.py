# -*- coding: utf-8 -*-
"""build_query (controller) and compile_query (host) together: the pre-filter never drops a record
that a catalog signature would match, and the query stays small and deterministic."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Catalog
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

POLICY = {"id": "p", "title": "t", "jurisdiction": "CA", "instrument": "i", "date": "2023-10-30",
          "url": "https://example.invalid/p"}


def entry(eid, signatures):
    return {"id": eid, "vendor": "v", "product": eid, "policies": ["p"],
            "references": [{"url": "https://example.invalid/r"}], "signatures": signatures}


def catalog(*entries):
    return Catalog.from_documents([("t.yml", {"version": "2026.01.01", "policies": [POLICY],
                                              "entries": list(entries)})])


def test_query_shape_and_dedup():
    cat = catalog(
        entry("a", {"linux": {"packages": [{"name": "wechat"}, {"name_regex": "kesl(-gui)?"}],
                              "file": [{"path": "/opt/wechat"}, {"path": "~/.xwechat"}]}}),
        entry("b", {"linux": {"dpkg": [{"name": "wechat", "arch": "amd64"}]},
                    "windows": {"registry": [{"name": "WeChat", "publisher": "x"}]}}),
    )
    query = build_query(cat.select(), ["linux", "macos"])
    assert query == {"linux": {
        "dpkg": {"names": ["wechat"], "regex": ["kesl(-gui)?"]},
        "rpm": {"names": ["wechat"], "regex": ["kesl(-gui)?"]},
        "file": {"paths": ["/opt/wechat", "~/.xwechat"]},
    }}


def test_windows_query_is_marked_casefold():
    cat = catalog(entry("a", {"windows": {"registry": [{"name": "WeChat", "publisher": "x"}]}}))
    assert build_query(cat.select(), ["windows"]) == {
        "windows": {"registry": {"names": ["WeChat"], "casefold": True}}}


def test_disabled_entries_are_not_queried():
    cat = catalog(entry("a", {"linux": {"dpkg": [{"name": "one"}]}}),
                  entry("b", {"linux": {"dpkg": [{"name": "two"}]}}))
    query = build_query(cat.select(disabled=["a"]), ["linux"])
    assert query == {"linux": {"dpkg": {"names": ["two"]}}}


def test_query_is_deterministic():
    entries = load_catalog().select()
    first = json.dumps(build_query(entries, ["linux", "macos"]), sort_keys=False)
    second = json.dumps(build_query(list(reversed(entries)), ["linux", "macos"]), sort_keys=False)
    assert first == second


def _real_signatures(platform):
    for e in load_catalog().select():
        for source, sigs in e.signatures.get(platform, {}).items():
            for sig in sigs:
                yield e.id, source, sig


@pytest.mark.parametrize("platform", ["linux", "macos"])
def test_prefilter_passes_every_named_identifier_of_the_real_catalog(platform):
    query = build_query(load_catalog().select(), [platform])[platform]
    compiled = compile_query(query)
    assert compiled.warnings == []
    checked = 0
    for eid, source, sig in _real_signatures(platform):
        if source == "file":
            assert sig.raw["path"] in compiled.paths, (eid, sig.raw)
        elif "name" in sig.raw:
            assert compiled.match(source, sig.raw["name"]), (eid, source, sig.raw)
        else:
            assert sig.raw["name_regex"] in query[source]["regex"], (eid, source, sig.raw)
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("source, name, expected", [
    ("dpkg", "wechat", True),
    ("dpkg", "kesl", True),
    ("dpkg", "kesl-gui", True),
    ("dpkg", "python3-wechatpy", False),
    ("dpkg", "linuxqq", False),
    ("dpkg", "libc6", False),
    ("flatpak", "com.tencent.WeChat", True),
    ("flatpak", "com.tencent.wechat", False),
    ("appimage", "WeChatLinux_x86_64.AppImage", True),
    ("appimage", "wechat-exporter.AppImage", False),
])
def test_real_prefilter_examples(source, name, expected):
    compiled = compile_query(build_query(load_catalog().select(), ["linux"])["linux"])
    assert compiled.match(source, name) is expected


def test_remediation_paths_become_data_and_leftover_queries():
    cat = catalog(dict(entry("a", {"linux": {"dpkg": [{"name": "wechat"}]}}), **{
        "remediation": {"linux": {"data": ["~/.xwechat", "~/xwechat_files"], "leftovers": ["/var/opt/x"]},
                        "macos": {"data": ["~/Library/Containers/com.tencent.xinWeChat"]}}}))
    query = build_query(cat.select(), ["linux"])
    assert query == {"linux": {"data": {"paths": ["~/.xwechat", "~/xwechat_files"]},
                               "dpkg": {"names": ["wechat"]},
                               "leftover": {"paths": ["/var/opt/x"]}}}
    compiled = compile_query(query["linux"])
    assert compiled.paths_for("data") == ["~/.xwechat", "~/xwechat_files"]
    assert compiled.paths_for("leftover") == ["/var/opt/x"]
    assert compiled.paths_for("file") == []
    assert compiled.wants("data") and compiled.wants("leftover") and not compiled.wants("file")


@pytest.mark.parametrize("remediation, field, message", [
    ("x", "remediation", "must map platforms"),
    ({"beos": {"data": ["/x/y"]}}, "remediation.beos", "unknown platform"),
    ({"linux": {"data": []}}, "remediation.linux.data", "non-empty list"),
    ({"linux": {"trash": ["/x/y"]}}, "trash", "unknown field"),
    ({"linux": {"data": ["relative/path"]}}, "remediation.linux.data[0]", "must be absolute"),
    ({"linux": {"leftovers": ["/opt/*/kesl"]}}, "remediation.linux.leftovers[0]", "last component only"),
    ({"windows": {"data": ["/home/x"]}}, "remediation.windows.data[0]", "must be absolute (C:"),
])
def test_remediation_validation(remediation, field, message):
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
    bad = entry("a", {"linux": {"dpkg": [{"name": "wechat"}]}})
    bad["remediation"] = remediation
    with pytest.raises(CatalogError) as info:
        catalog(bad)
    assert "entry 'a'" in str(info.value)
    assert "field '%s" % field in str(info.value) or field in str(info.value)
    assert message in str(info.value)


def test_entry_remediation_paths_are_compiled():
    good = entry("a", {"linux": {"dpkg": [{"name": "wechat"}]}})
    good["remediation"] = {"linux": {"data": ["~/.xwechat"]}}
    compiled = catalog(good).entries[0].remediation_paths("linux", "data")
    assert [s.raw["path"] for s in compiled] == ["~/.xwechat"]
    assert compiled[0].matches({"path": "/home/al/.xwechat", "scope": "user:al"}, {"al": "/home/al"})
    assert catalog(good).entries[0].remediation_paths("linux", "leftovers") == []


# Constructs Python accepts and .NET (win_collect's pre-filter) reads differently or rejects.
PYTHON_ONLY = ("(?P<", "(?P=", "{,", "\\Z", "(?x", "(?a", "(?L", "(?u")


def test_windows_patterns_are_valid_for_the_net_prefilter():
    query = build_query(load_catalog().select(), ["windows"])["windows"]
    patterns = [p for spec in query.values() for p in spec.get("regex", [])]
    assert patterns, "the catalog has Windows name patterns"
    for pattern in patterns:
        for construct in PYTHON_ONLY:
            assert construct not in pattern, "%r uses %r, which .NET does not read like Python" % (pattern, construct)
