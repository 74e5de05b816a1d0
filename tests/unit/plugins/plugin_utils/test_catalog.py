# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog validation and selection: every error names file, entry and field (docs/design.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import (
    Catalog, CatalogError, Entry, validate_policy,
)

CAT = "catalog/catalog.yml"
POL = "catalog/policies.yml"
ENT = "catalog/entries/tencent.yml"
ENT2 = "catalog/entries/extra.yml"
VARS_E = "variables (banned_software_custom_entries)"
VARS_P = "variables (banned_software_custom_policies)"


def policy(pid="pol-a", **kw):
    data = {"id": pid, "title": "Policy %s" % pid, "jurisdiction": "CA", "instrument": "An announcement",
            "date": "2023-10-30", "url": "https://example.org/%s" % pid}
    data.update(kw)
    return data


def entry(eid="wechat", **kw):
    data = {"id": eid, "vendor": "Tencent", "product": "WeChat", "policies": ["pol-a"],
            "references": [{"url": "https://example.org/ref", "note": "where the ids come from"}],
            "signatures": {"linux": {"dpkg": [{"name": eid}]}}}
    data.update(kw)
    return data


def documents(entries=None, policies=None, meta=None):
    return [
        (CAT, {"version": "2025.01.15", "schema": 1, "description": "test"} if meta is None else meta),
        (POL, {"policies": [policy("pol-a"), policy("pol-b", jurisdiction="US")] if policies is None else policies}),
        (ENT, {"entries": [entry()] if entries is None else entries}),
    ]


def build(docs, **kw):
    return Catalog.from_documents(docs, **kw)


def without(data, key):
    data = copy.deepcopy(data)
    del data[key]
    return data


def sig(linux):
    return {"linux": linux}


# (case id, documents, kwargs for from_documents, expected origin, entry, field, fragment of the message)
ERRORS = [
    # documents
    ("doc-list", [(POL, ["a"])], {}, POL, None, None, "a catalog file must be a mapping"),
    ("doc-str", [(POL, "policies")], {}, POL, None, None, "a catalog file must be a mapping"),
    ("doc-int", [(POL, 3)], {}, POL, None, None, "a catalog file must be a mapping"),
    ("doc-unknown-key", [(POL, {"policies": [], "entrys": []})], {}, POL, None, "entrys", "unknown field(s) entrys"),
    ("doc-unknown-int-key", [(POL, {1: 2})], {}, POL, None, "1", "unknown field(s) 1"),
    ("doc-policies-not-list", [(POL, {"policies": {"id": "x"}})], {}, POL, None, "policies", "must be a list"),
    ("doc-entries-not-list", [(ENT, {"entries": "wechat"})], {}, ENT, None, "entries", "must be a list"),
    ("schema-2", [(CAT, {"schema": 2})], {}, CAT, None, "schema", "unsupported schema 2"),
    ("schema-str", [(CAT, {"schema": "1"})], {}, CAT, None, "schema", "unsupported schema '1'"),
    ("schema-true", [(CAT, {"schema": True})], {}, CAT, None, "schema", "unsupported schema True"),
    ("schema-float", [(CAT, {"schema": 1.0})], {}, CAT, None, "schema", "unsupported schema 1.0"),
    ("version-twice", documents() + [(ENT2, {"version": "2025.02.01"})], {}, ENT2, None, "version",
     "the catalog version is set twice (already '2025.01.15')"),
    ("version-none", [(CAT, {"version": None})], {}, CAT, None, "version", "must be a quoted string YYYY.MM.DD"),
    ("version-float", [(CAT, {"version": 2025.1})], {}, CAT, None, "version", "got 2025.1"),
    ("version-format", [(CAT, {"version": "v1"})], {}, CAT, None, "version", "got 'v1'"),
    ("version-newline", [(CAT, {"version": "2025.01.15\n"})], {}, CAT, None, "version", "YYYY.MM.DD[.N]"),
    # policies
    ("policy-not-mapping", [(POL, {"policies": ["pol-a"]})], {}, POL, None, None, "a policy must be a mapping"),
    ("policy-unknown-field", documents(policies=[policy(urls="x")]), {}, POL, "pol-a", "urls",
     "unknown field(s) urls in policy"),
    ("policy-missing-url", documents(policies=[without(policy(), "url")]), {}, POL, "pol-a", "url", "is required"),
    ("policy-missing-date", documents(policies=[without(policy(), "date")]), {}, POL, "pol-a", "date", "is required"),
    ("policy-missing-id", documents(policies=[without(policy(), "id")]), {}, POL, None, "id", "is required"),
    ("policy-bad-id", documents(policies=[policy("Pol A")]), {}, POL, "Pol A", "id", "must match"),
    ("policy-id-int", documents(policies=[policy(5)]), {}, POL, None, "id", "got 5"),
    ("policy-id-newline", documents(policies=[policy("pol-a\n")]), {}, POL, "pol-a\n", "id", "must match"),
    ("policy-title-empty", documents(policies=[policy(title="  ")]), {}, POL, "pol-a", "title",
     "must be a non-empty string"),
    ("policy-title-list", documents(policies=[policy(title=["a"])]), {}, POL, "pol-a", "title",
     "must be a non-empty string, got ['a']"),
    ("policy-title-none", documents(policies=[policy(title=None)]), {}, POL, "pol-a", "title", "got None"),
    ("policy-jurisdiction", documents(policies=[policy(jurisdiction="Canada")]), {}, POL, "pol-a", "jurisdiction",
     "must be an ISO 3166 code"),
    ("policy-jurisdiction-lower", documents(policies=[policy(jurisdiction="ca")]), {}, POL, "pol-a",
     "jurisdiction", "got 'ca'"),
    ("policy-jurisdiction-nl", documents(policies=[policy(jurisdiction="CA\n")]), {}, POL, "pol-a",
     "jurisdiction", "must be an ISO 3166 code"),
    ("policy-date-feb30", documents(policies=[policy(date="2023-02-30")]), {}, POL, "pol-a", "date",
     "is not a valid date: '2023-02-30'"),
    ("policy-date-format", documents(policies=[policy(date="30/10/2023")]), {}, POL, "pol-a", "date",
     "must be a date YYYY-MM-DD"),
    ("policy-date-short", documents(policies=[policy(date="2023-1-30")]), {}, POL, "pol-a", "date",
     "must be a date YYYY-MM-DD"),
    ("policy-date-int", documents(policies=[policy(date=20231030)]), {}, POL, "pol-a", "date", "got 20231030"),
    ("policy-date-datetime", documents(policies=[policy(date=datetime.datetime(2023, 10, 30, 12, 0))]), {},
     POL, "pol-a", "date", "must be a date YYYY-MM-DD"),
    ("policy-date-newline", documents(policies=[policy(date="2023-10-30\n")]), {}, POL, "pol-a", "date",
     "must be a date YYYY-MM-DD"),
    ("policy-date-unicode-digits", documents(policies=[policy(date="٢٠٢٣-١٠-٣٠")]), {}, POL, "pol-a", "date",
     "must be a date YYYY-MM-DD"),
    ("policy-date-month-13", documents(policies=[policy(date="2023-13-01")]), {}, POL, "pol-a", "date",
     "is not a valid date"),
    ("policy-url-ftp", documents(policies=[policy(url="ftp://example.org/x")]), {}, POL, "pol-a", "url",
     "must be an http(s) URL"),
    ("policy-url-js", documents(policies=[policy(url="javascript:alert(1)")]), {}, POL, "pol-a", "url",
     "must be an http(s) URL"),
    ("policy-url-space", documents(policies=[policy(url="https://exa mple.org")]), {}, POL, "pol-a", "url",
     "must be an http(s) URL"),
    ("policy-url-newline", documents(policies=[policy(url="https://example.org/x\n")]), {}, POL, "pol-a", "url",
     "must be an http(s) URL"),
    ("policy-url-empty-host", documents(policies=[policy(url="https:///x")]), {}, POL, "pol-a", "url",
     "must be an http(s) URL"),
    ("policy-url-none", documents(policies=[policy(url=None)]), {}, POL, "pol-a", "url", "must be a non-empty string"),
    ("policy-scope-int", documents(policies=[policy(scope=3)]), {}, POL, "pol-a", "scope", "got 3"),
    ("policy-duplicate", documents(policies=[policy("pol-a"), policy("pol-a")]), {}, POL, "pol-a", "id",
     "duplicate policy id (first defined in %s)" % POL),
    ("policy-duplicate-across-files", documents() + [(ENT2, {"policies": [policy("pol-b")]})], {}, ENT2, "pol-b",
     "id", "duplicate policy id (first defined in %s)" % POL),
    # entries
    ("entry-not-mapping", documents(entries=["wechat"]), {}, ENT, None, None, "an entry must be a mapping, got str"),
    ("entry-none", documents(entries=[None]), {}, ENT, None, None, "an entry must be a mapping, got NoneType"),
    ("entry-unknown-field", documents(entries=[entry(signature={})]), {}, ENT, "wechat", "signature",
     "unknown field(s) signature in entry"),
    ("entry-unknown-fields-sorted", documents(entries=[entry(zz=1, aa=2)]), {}, ENT, "wechat", "aa",
     "unknown field(s) aa, zz"),
    ("entry-missing-references", documents(entries=[without(entry(), "references")]), {}, ENT, "wechat",
     "references", "is required"),
    ("entry-missing-policies", documents(entries=[without(entry(), "policies")]), {}, ENT, "wechat", "policies",
     "is required"),
    ("entry-missing-signatures", documents(entries=[without(entry(), "signatures")]), {}, ENT, "wechat",
     "signatures", "is required"),
    ("entry-missing-id", documents(entries=[without(entry(), "id")]), {}, ENT, None, "id", "is required"),
    ("entry-bad-id", documents(entries=[entry("WeChat")]), {}, ENT, "WeChat", "id", "must match"),
    ("entry-id-list", documents(entries=[entry(["x"])]), {}, ENT, None, "id", "got ['x']"),
    ("entry-id-newline", documents(entries=[entry("wechat\n")]), {}, ENT, "wechat\n", "id", "must match"),
    ("entry-vendor-none", documents(entries=[entry(vendor=None)]), {}, ENT, "wechat", "vendor", "got None"),
    ("entry-product-int", documents(entries=[entry(product=1)]), {}, ENT, "wechat", "product", "got 1"),
    ("entry-description-list", documents(entries=[entry(description=[])]), {}, ENT, "wechat", "description",
     "must be a non-empty string"),
    ("entry-notes-int", documents(entries=[entry(notes=5)]), {}, ENT, "wechat", "notes", "got 5"),
    ("entry-aliases-str", documents(entries=[entry(aliases="Weixin")]), {}, ENT, "wechat", "aliases",
     "must be a list of strings"),
    ("entry-aliases-empty-item", documents(entries=[entry(aliases=["Weixin", ""])]), {}, ENT, "wechat", "aliases",
     "must be a list of strings"),
    ("entry-data-policy", documents(entries=[entry(data_policy="delete")]), {}, ENT, "wechat", "data_policy",
     "must be one of keep, archive, purge, got 'delete'"),
    ("entry-data-policy-list", documents(entries=[entry(data_policy=["keep"])]), {}, ENT, "wechat", "data_policy",
     "must be one of keep, archive, purge"),
    ("entry-prevent-reinstall", documents(entries=[entry(prevent_reinstall="no")]), {}, ENT, "wechat",
     "prevent_reinstall", "must be true or false, got 'no'"),
    ("vars-prevent-reinstall", documents(), {"custom_entries": [entry("x", prevent_reinstall=1)]}, VARS_E, "x",
     "prevent_reinstall", "must be true or false, got 1"),
    ("entry-policies-empty", documents(entries=[entry(policies=[])]), {}, ENT, "wechat", "policies",
     "must be a non-empty list of policy ids"),
    ("entry-policies-str", documents(entries=[entry(policies="pol-a")]), {}, ENT, "wechat", "policies",
     "must be a non-empty list of policy ids"),
    ("entry-policies-int-item", documents(entries=[entry(policies=["pol-a", 7])]), {}, ENT, "wechat",
     "policies[1]", "got 7"),
    ("entry-policies-twice", documents(entries=[entry(policies=["pol-a", "pol-a"])]), {}, ENT, "wechat", "policies",
     "lists a policy twice"),
    ("entry-unknown-policy", documents(entries=[entry(policies=["pol-a", "pol-zz"])]), {}, ENT, "wechat",
     "policies[1]", "unknown policy 'pol-zz' (known: pol-a, pol-b)"),
    ("entry-unknown-policy-none-known", documents(policies=[], entries=[entry()]), {}, ENT, "wechat",
     "policies[0]", "(known: none)"),
    ("entry-duplicate-same-file", documents(entries=[entry(), entry()]), {}, ENT, "wechat", "id",
     "duplicate entry id (first defined in %s)" % ENT),
    ("entry-duplicate-across-files", documents() + [(ENT2, {"entries": [entry()]})], {}, ENT2, "wechat", "id",
     "duplicate entry id (first defined in %s)" % ENT),
    # references
    ("refs-empty", documents(entries=[entry(references=[])]), {}, ENT, "wechat", "references",
     "must be a non-empty list of {url, note}"),
    ("refs-mapping", documents(entries=[entry(references={"url": "https://x.org"})]), {}, ENT, "wechat",
     "references", "must be a non-empty list"),
    ("refs-str-item", documents(entries=[entry(references=["https://x.org"])]), {}, ENT, "wechat", "references[0]",
     "must be a mapping {url, note}"),
    ("refs-missing-url", documents(entries=[entry(references=[{"note": "n"}])]), {}, ENT, "wechat",
     "references[0].url", "must be a non-empty string, got None"),
    ("refs-bad-url", documents(entries=[entry(references=[{"url": "https://a.org"}, {"url": "file:///etc/x"}])]),
     {}, ENT, "wechat", "references[1].url", "must be an http(s) URL, got 'file:///etc/x'"),
    ("refs-note-int", documents(entries=[entry(references=[{"url": "https://a.org", "note": 4}])]), {}, ENT,
     "wechat", "references[0].note", "got 4"),
    ("refs-unknown-field", documents(entries=[entry(references=[{"url": "https://a.org", "title": "t"}])]), {},
     ENT, "wechat", "title", "unknown field(s) title in references[0]"),
    # signatures
    ("sigs-empty", documents(entries=[entry(signatures={})]), {}, ENT, "wechat", "signatures",
     "must map platforms (linux, windows, macos) to sources"),
    ("sigs-list", documents(entries=[entry(signatures=[{"linux": {}}])]), {}, ENT, "wechat", "signatures",
     "must map platforms"),
    ("sigs-unknown-platform", documents(entries=[entry(signatures={"android": {"apk": [{"name": "x"}]}})]), {},
     ENT, "wechat", "signatures.android", "unknown platform"),
    ("sigs-int-platform", documents(entries=[entry(signatures={"linux": {"dpkg": [{"name": "x"}]}, 1: {}})]), {},
     ENT, "wechat", "signatures.1", "unknown platform"),
    ("sigs-platform-empty", documents(entries=[entry(signatures={"linux": {}})]), {}, ENT, "wechat",
     "signatures.linux", "must map sources to lists of signatures"),
    ("sigs-platform-none", documents(entries=[entry(signatures={"linux": None})]), {}, ENT, "wechat",
     "signatures.linux", "must map sources to lists of signatures"),
    ("sigs-unknown-source", documents(entries=[entry(signatures=sig({"pacman": [{"name": "x"}]}))]), {}, ENT,
     "wechat", "signatures.linux.pacman[0]", "unknown source 'pacman' for linux"),
    ("sigs-mixed-source-keys", documents(entries=[entry(signatures=sig({"dpkg": [{"name": "x"}], 2: [{}]}))]), {},
     ENT, "wechat", "signatures.linux.2[0]", "unknown source 2"),
    ("sigs-source-not-list", documents(entries=[entry(signatures=sig({"dpkg": {"name": "x"}}))]), {}, ENT, "wechat",
     "signatures.linux.dpkg", "must be a non-empty list of signatures"),
    ("sigs-source-empty", documents(entries=[entry(signatures=sig({"dpkg": []}))]), {}, ENT, "wechat",
     "signatures.linux.dpkg", "must be a non-empty list of signatures"),
    ("sig-unknown-field", documents(entries=[entry(signatures=sig({"dpkg": [{"name": "x"}, {"name": "y", "ver": "1"}]}))]),
     {}, ENT, "wechat", "signatures.linux.dpkg[1].ver", "unknown field 'ver' for source linux/dpkg"),
    ("sig-bad-regex", documents(entries=[entry(signatures=sig({"rpm": [{"name_regex": "wechat["}]}))]), {}, ENT,
     "wechat", "signatures.linux.rpm[0].name_regex", "is not a valid regular expression"),
    ("sig-empty-regex", documents(entries=[entry(signatures=sig({"rpm": [{"name_regex": "(wechat)*"}]}))]), {}, ENT,
     "wechat", "signatures.linux.rpm[0].name_regex", "matches the empty string"),
    ("sig-no-identifier", documents(entries=[entry(signatures=sig({"rpm": [{"vendor": "Tencent"}]}))]), {}, ENT,
     "wechat", "signatures.linux.rpm[0]", "must identify something"),
    ("sig-int", documents(entries=[entry(signatures=sig({"rpm": [1]}))]), {}, ENT, "wechat",
     "signatures.linux.rpm[0]", "must be a mapping of conditions, got int"),
    ("sig-name-list", documents(entries=[entry(signatures=sig({"snap": [{"name": ["a"]}]}))]), {}, ENT, "wechat",
     "signatures.linux.snap[0].name", "name must be a non-empty string"),
    ("sig-path-relative", documents(entries=[entry(signatures=sig({"file": [{"path": "opt/wechat"}]}))]), {}, ENT,
     "wechat", "signatures.linux.file[0].path", "must be absolute"),
    ("sig-path-dotdot", documents(entries=[entry(signatures=sig({"file": [{"path": "/opt/../root"}]}))]), {}, ENT,
     "wechat", "signatures.linux.file[0].path", "must not contain '.' or '..'"),
    ("sig-path-glob-middle", documents(entries=[entry(signatures=sig({"file": [{"path": "/opt/*/wechat"}]}))]), {},
     ENT, "wechat", "signatures.linux.file[0].path", "globs are allowed in the last component only"),
    ("sig-windows-path", documents(entries=[entry(signatures={"windows": {"file": [{"path": "Tencent\\WeChat"}]}})]),
     {}, ENT, "wechat", "signatures.windows.file[0].path", "must be absolute (C:\\...)"),
    ("sig-windows-path-glob-middle",
     documents(entries=[entry(signatures={"windows": {"file": [{"path": "%AppData%\\*\\WeChat"}]}})]),
     {}, ENT, "wechat", "signatures.windows.file[0].path", "globs are allowed in the last component only"),
    ("sig-int-field-name", documents(entries=[entry(signatures=sig({"dpkg": [{"name": "x", 3: "y"}]}))]), {}, ENT,
     "wechat", "signatures.linux.dpkg[0].3", "field names must be strings"),
    # variables
    ("vars-entries-not-list", documents(), {"custom_entries": {"id": "x"}}, VARS_E, None, None,
     "must be a list, got dict"),
    ("vars-policies-not-list", documents(), {"custom_policies": "pol-z"}, VARS_P, None, None,
     "must be a list, got str"),
    ("vars-entry-unknown-field", documents(), {"custom_entries": [entry("my-app", colour="red")]}, VARS_E, "my-app",
     "colour", "unknown field(s) colour"),
    ("vars-entry-duplicate", documents(), {"custom_entries": [entry("wechat")]}, VARS_E, "wechat", "id",
     "duplicate entry id (first defined in %s)" % ENT),
    ("vars-entry-unknown-policy", documents(), {"custom_entries": [entry("my-app", policies=["local"])]}, VARS_E,
     "my-app", "policies[0]", "unknown policy 'local'"),
    ("vars-policy-duplicate", documents(), {"custom_policies": [policy("pol-a")]}, VARS_P, "pol-a", "id",
     "duplicate policy id (first defined in %s)" % POL),
    ("vars-policy-bad-date", documents(), {"custom_policies": [policy("local", date="2024-02-30")]}, VARS_P,
     "local", "date", "is not a valid date"),
    ("vars-custom-origin", documents(), {"custom_entries": [entry("x", vendor="")], "custom_origin": "host web1"},
     "host web1 (banned_software_custom_entries)", "x", "vendor", "must be a non-empty string"),
]


@pytest.mark.parametrize("docs, kwargs, origin, entry_id, field, fragment",
                         [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_catalog_errors(docs, kwargs, origin, entry_id, field, fragment):
    with pytest.raises(CatalogError) as info:
        build(docs, **kwargs)
    exc = info.value
    seen = (exc.origin, exc.entry, exc.field)
    assert seen == (origin, entry_id, field), "expected %r, saw %r: %s" % ((origin, entry_id, field), seen, exc)
    assert fragment in str(exc), "expected %r in %r" % (fragment, str(exc))
    prefix = ", ".join([origin] + (["entry %r" % (entry_id,)] if entry_id is not None else [])
                       + (["field %r" % (field,)] if field is not None else []))
    assert str(exc).startswith(prefix + ": "), "expected the message to start with %r: %r" % (prefix, str(exc))


def test_error_attributes_and_message_format():
    exc = CatalogError("f.yml", "is bad", "wechat", "vendor")
    assert str(exc) == "f.yml, entry 'wechat', field 'vendor': is bad"
    assert (exc.origin, exc.entry, exc.field) == ("f.yml", "wechat", "vendor")
    assert str(CatalogError("f.yml", "is bad")) == "f.yml: is bad"
    assert isinstance(exc, ValueError)


def test_valid_catalog_contents():
    cat = build(documents(entries=[entry(), entry("kesl", vendor="AO Kaspersky Lab", product="KESL",
                                                  policies=["pol-b", "pol-a"], data_policy="purge",
                                                  description="d", notes="n", aliases=["KES"])]),
                custom_policies=[policy("local", jurisdiction="US-TX")],
                custom_entries=[entry("my-app", policies=["local"])])
    assert cat.version == "2025.01.15"
    assert sorted(cat.policies) == ["local", "pol-a", "pol-b"]
    assert cat.policies["local"]["origin"] == VARS_P
    assert cat.policies["pol-a"]["origin"] == POL
    assert cat.policies["pol-a"]["date"] == "2023-10-30"
    assert [e.id for e in cat.entries] == ["wechat", "kesl", "my-app"]
    assert [e.origin for e in cat.entries] == [ENT, ENT, VARS_E]
    kesl = cat.entries[1]
    assert kesl.summary() == {"id": "kesl", "vendor": "AO Kaspersky Lab", "product": "KESL",
                              "policies": ["pol-b", "pol-a"], "platforms": ["linux"], "data_policy": "purge",
                              "origin": ENT}
    assert cat.entries[0].data_policy == "keep"
    assert cat.entries[0].description is None
    assert [e.prevent_reinstall for e in cat.entries] == [True, True, True]
    assert build(documents(entries=[entry(prevent_reinstall=False)])).entries[0].prevent_reinstall is False
    assert cat.entries[0].references == [{"url": "https://example.org/ref", "note": "where the ids come from"}]


def test_unversioned_and_empty_documents():
    cat = build([(CAT, None), (POL, {"policies": None}), (ENT, {"entries": []})])
    assert cat.version == "unversioned"
    assert cat.policies == {}
    assert cat.entries == []


@pytest.mark.parametrize("version", ["2025.01.15", "2025.01.15.2", "2026.11.29.10"])
def test_versions_accepted(version):
    assert build([(CAT, {"version": version, "schema": 1})]).version == version


def test_yaml_dates_are_accepted_and_normalised():
    docs = yaml.safe_load("""
policies:
  - id: pol-a
    title: A
    jurisdiction: EU
    instrument: I
    date: 2023-02-28
    url: https://example.org/a
""")
    assert docs["policies"][0]["date"] == datetime.date(2023, 2, 28)
    cat = build([(POL, docs)])
    assert cat.policies["pol-a"]["date"] == "2023-02-28"
    assert cat.policies["pol-a"]["jurisdiction"] == "EU"


@pytest.mark.parametrize("jurisdiction", ["CA", "US", "AU", "US-TX", "CA-ON", "EU", "GB", "TW", "DE-BY"])
def test_jurisdictions_accepted(jurisdiction):
    assert validate_policy(POL, policy(jurisdiction=jurisdiction))["jurisdiction"] == jurisdiction


def test_validate_policy_returns_only_known_fields():
    out = validate_policy(POL, policy(scope="devices", notes=None))
    assert out == {"id": "pol-a", "title": "Policy pol-a", "jurisdiction": "CA", "instrument": "An announcement",
                   "date": "2023-10-30", "url": "https://example.org/pol-a", "scope": "devices",
                   "default": True, "application": "required"}


def test_a_policy_deadline_is_an_optional_date():
    assert "deadline" not in validate_policy(POL, policy())
    assert validate_policy(POL, policy(deadline="2023-03-15"))["deadline"] == "2023-03-15"
    assert validate_policy(POL, policy(deadline=datetime.date(2023, 3, 15)))["deadline"] == "2023-03-15"
    with pytest.raises(CatalogError, match="must be a date YYYY-MM-DD"):
        validate_policy(POL, policy(deadline="soon"))


def test_packages_alias_expands_to_dpkg_and_rpm():
    e = Entry(ENT, entry(signatures={"linux": {"packages": [{"name": "wechat"}], "rpm": [{"name": "wechat-bin"}]},
                                     "macos": {"cask": [{"name": "wechat"}]}}))
    assert sorted(e.signatures) == ["linux", "macos"]
    assert sorted(e.signatures["linux"]) == ["dpkg", "rpm"]
    assert [s.describe() for s in e.signatures["linux"]["dpkg"]] == ["name=wechat"]
    assert [s.describe() for s in e.signatures["linux"]["rpm"]] == ["name=wechat", "name=wechat-bin"]
    assert e.signatures["linux"]["dpkg"][0] is e.signatures["linux"]["rpm"][0]
    assert e.signatures["linux"]["dpkg"][0].source == "packages"
    assert e.platforms() == ["linux", "macos"]


# ------------------------------------------------------------------ selection

def catalog_for_select():
    return build(documents(entries=[entry("wechat", policies=["pol-a"]), entry("kesl", policies=["pol-b", "pol-a"]),
                                    entry("tiktok", policies=["pol-c"])],
                           policies=[policy("pol-a"), policy("pol-b"), policy("pol-c")]))


@pytest.mark.parametrize("policies, disabled, expected", [
    (None, None, ["wechat", "kesl", "tiktok"]),
    (["all"], [], ["wechat", "kesl", "tiktok"]),
    ("all", None, ["wechat", "kesl", "tiktok"]),
    (["pol-a"], [], ["wechat", "kesl"]),
    ("pol-a", [], ["wechat", "kesl"]),
    (["pol-b"], [], ["kesl"]),
    (["pol-c"], [], ["tiktok"]),
    (["pol-b", "pol-c"], [], ["kesl", "tiktok"]),
    (["pol-b", "all"], [], ["wechat", "kesl", "tiktok"]),
    (["all"], ["kesl"], ["wechat", "tiktok"]),
    (["pol-a"], ["wechat", "kesl"], []),
    (["pol-c"], ["wechat"], ["tiktok"]),
])
def test_select(policies, disabled, expected):
    assert [e.id for e in catalog_for_select().select(policies, disabled)] == expected


@pytest.mark.parametrize("policies, disabled, field, fragment", [
    (["pol-z"], [], "banned_software_policies[0]", "unknown policy 'pol-z' (known: all, pol-a, pol-b, pol-c)"),
    (["pol-a", "ALL"], [], "banned_software_policies[1]", "unknown policy 'ALL'"),
    (["pol-a", None], [], "banned_software_policies[1]", "unknown policy None"),
    (["pol-a", ["pol-b"]], [], "banned_software_policies[1]", "unknown policy ['pol-b']"),
    (["pol-a", {"id": "pol-b"}], [], "banned_software_policies[1]", "unknown policy"),
    ([], [], "banned_software_policies", "must be a non-empty list of policy ids or 'all'"),
    ({"pol-a": 1}, [], "banned_software_policies", "must be a non-empty list"),
    (5, [], "banned_software_policies", "must be a non-empty list"),
    (["all"], ["wechatt"], "banned_software_disabled_entries[0]", "unknown entry 'wechatt'"),
    (["all"], ["kesl", "WeChat"], "banned_software_disabled_entries[1]", "unknown entry 'WeChat'"),
    (["all"], ["kesl", ["wechat"]], "banned_software_disabled_entries[1]", "unknown entry ['wechat']"),
    (["all"], ["kesl", None], "banned_software_disabled_entries[1]", "unknown entry None"),
    (["all"], "wechat", "banned_software_disabled_entries", "must be a list of entry ids"),
    (["all"], {"wechat": True}, "banned_software_disabled_entries", "must be a list of entry ids"),
])
def test_select_errors(policies, disabled, field, fragment):
    with pytest.raises(CatalogError) as info:
        catalog_for_select().select(policies, disabled)
    assert (info.value.origin, info.value.entry, info.value.field) == ("variables", None, field)
    assert fragment in str(info.value), str(info.value)


def test_select_origin_is_reported():
    with pytest.raises(CatalogError) as info:
        catalog_for_select().select(["nope"], origin="host web1")
    assert str(info.value).startswith("host web1, field 'banned_software_policies[0]': unknown policy 'nope'")
