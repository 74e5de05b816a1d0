# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the catalog's YAML files on the controller: the real catalog, YAML errors, the cache."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog import files as _catalog_files
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import (
    BUILTIN_DIR, builtin_files, load_catalog, load_selection,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
# The collection as pytest imports it (tests/unit/conftest.py links it under build/pytest/ansible_collections).
ROOT = _catalog_files.COLLECTION_ROOT

POLICY = """\
policies:
  - id: local-{n}
    title: Local policy {n}
    jurisdiction: US-TX
    instrument: Local instrument
    date: {date}
    url: https://example.org/local
"""

ENTRY = """\
entries:
  - id: local-app-{n}
    vendor: Example
    product: Local app
    policies: [local-{n}]
    references:
      - url: https://example.org/ref
    signatures:
      linux:
        dpkg:
          - name: local-app
"""


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(_catalog_files, "_CACHE", {})


def write(tmp_path, name, text, mode="w"):
    path = tmp_path / name
    with open(str(path), mode) as handle:
        handle.write(text)
    return str(path)


def local_catalog(tmp_path, n=1, date="2024-05-01"):
    return write(tmp_path, "local%d.yml" % n, POLICY.format(n=n, date=date) + ENTRY.format(n=n))


# ------------------------------------------------------------------ the collection's own catalog

def test_builtin_files_exist():
    assert os.path.realpath(ROOT) == os.path.realpath(REPO)
    assert BUILTIN_DIR == os.path.join(ROOT, "catalog")
    files = builtin_files()
    assert files[:2] == [os.path.join(ROOT, "catalog", "catalog.yml"), os.path.join(ROOT, "catalog", "policies.yml")]
    entry_files = files[2:]
    assert entry_files, "catalog/entries/*.yml is missing"
    assert entry_files == sorted(entry_files)
    assert all(os.path.dirname(f) == os.path.join(ROOT, "catalog", "entries") for f in entry_files)
    for name in ("tencent.yml", "kaspersky.yml", "bytedance.yml", "deepseek.yml"):
        assert os.path.join(ROOT, "catalog", "entries", name) in entry_files


def test_real_catalog_validates():
    catalog = load_catalog()
    assert re.match(r"^[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?\Z", catalog.version), catalog.version
    assert catalog.entries, "the catalog has no entries"
    assert catalog.policies, "the catalog has no policies"
    ids = [e.id for e in catalog.entries]
    assert len(ids) == len(set(ids))
    for product in ("wechat", "tiktok", "deepseek"):
        assert product in ids
    assert any(i.startswith("kaspersky") or i == "kesl" for i in ids)
    for entry in catalog.entries:
        assert len(entry.policies) >= 1, entry.id
        assert all(p in catalog.policies for p in entry.policies), entry.id
        assert len(entry.references) >= 1, entry.id
        assert all(r["url"].startswith(("https://", "http://")) for r in entry.references), entry.id
        assert entry.signatures, entry.id
        assert entry.origin.startswith(os.path.join(ROOT, "catalog", "entries") + os.sep)
    for policy in catalog.policies.values():
        assert re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", policy["date"]), policy["id"]
        assert policy["origin"] == os.path.join(ROOT, "catalog", "policies.yml")
    # The default selection is every entry but those of optional policy sets (default: false) only.
    optional = [e.id for e in catalog.entries if not set(e.policies) - e.optional_policies]
    assert optional == ["capcut", "wps-office", "webull"]
    assert catalog.select() == [e for e in catalog.entries if e.id not in optional]
    assert catalog.select(["all", "us-tx-dir-prohibited-technologies-other"]) == catalog.entries


# ------------------------------------------------------------------ errors name the file

@pytest.mark.parametrize("text, fragment", [
    ("policies: [\n", "is not valid YAML"),
    ("policies:\n  - id: a\n   title: b\n", "is not valid YAML"),
    ("a: b: c\n", "is not valid YAML"),
    ("policies: []\npolicies: []\n", "found duplicate key 'policies'"),
    ("entries:\n  - id: x\n    id: y\n", "found duplicate key 'id'"),
    ("? [a, b]\n: 1\n", "is not valid YAML"),
    ("x: !!python/object/apply:os.system [true]\n", "is not valid YAML"),
    ("x: \x00\n", "is not valid YAML"),
])
def test_yaml_errors_name_the_file(tmp_path, text, fragment):
    path = write(tmp_path, "bad.yml", text)
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[path], use_builtin=False)
    assert info.value.origin == path
    assert str(info.value).startswith(path + ": ")
    assert fragment in str(info.value), str(info.value)


def test_non_utf8_file(tmp_path):
    path = write(tmp_path, "latin1.yml", "policies: []\n# caf\xe9\n".encode("latin-1"), mode="wb")
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[path], use_builtin=False)
    assert info.value.origin == path
    assert "is not valid YAML" in str(info.value)


@pytest.mark.parametrize("date, field_error", [
    ("2023-02-30", "is not a valid date: '2023-02-30'"),
    ("2023-13-01", "is not a valid date: '2023-13-01'"),
    ("'30.10.2023'", "must be a date YYYY-MM-DD"),
    ("2023-10-30 10:00:00", "must be a date YYYY-MM-DD"),
])
def test_bad_dates_name_file_entry_and_field(tmp_path, date, field_error):
    path = local_catalog(tmp_path, date=date)
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[path], use_builtin=False)
    assert (info.value.origin, info.value.entry, info.value.field) == (path, "local-1", "date")
    assert field_error in str(info.value), str(info.value)


@pytest.mark.parametrize("date, expected", [("2024-02-29", "2024-02-29"), ("'2024-05-01'", "2024-05-01")])
def test_yaml_date_objects_and_strings_accepted(tmp_path, date, expected):
    catalog = load_catalog(extra_files=[local_catalog(tmp_path, date=date)], use_builtin=False)
    assert catalog.policies["local-1"]["date"] == expected


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.yml")
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[path], use_builtin=False)
    assert info.value.origin == path
    assert "cannot read catalog file" in str(info.value)


def test_directory_as_file(tmp_path):
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[str(tmp_path)], use_builtin=False)
    assert info.value.origin == str(tmp_path)
    assert "cannot read catalog file" in str(info.value)


@pytest.mark.parametrize("value", [5, {"a": "b"}, ["ok.yml", 3], [None]])
def test_extra_files_must_be_paths(value):
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=value)
    assert (info.value.origin, info.value.entry, info.value.field) == ("variables", None,
                                                                       "banned_software_catalog_files")


def test_extra_file_duplicating_a_builtin_entry(tmp_path):
    path = write(tmp_path, "dup.yml", ENTRY.format(n=1).replace("local-app-1", "wechat").replace("[local-1]",
                                                                                                 "[ca-tbs-2023-10-30]"))
    with pytest.raises(CatalogError) as info:
        load_catalog(extra_files=[path])
    assert (info.value.origin, info.value.entry, info.value.field) == (path, "wechat", "id")
    assert "duplicate entry id (first defined in %s)" % os.path.join(ROOT, "catalog", "entries", "tencent.yml") \
        in str(info.value)


def test_extra_files_and_inline_data(tmp_path):
    path = local_catalog(tmp_path)
    builtin = load_catalog()
    catalog = load_catalog(extra_files=path, custom_policies=[{
        "id": "inline", "title": "Inline", "jurisdiction": "EU", "instrument": "i", "date": "2025-01-01",
        "url": "https://example.org/i"}], custom_entries=[{
            "id": "inline-app", "vendor": "v", "product": "p", "policies": ["inline", "local-1"],
            "references": [{"url": "https://example.org/r"}], "signatures": {"macos": {"cask": [{"name": "x"}]}}}])
    assert [e.id for e in catalog.entries][-2:] == ["local-app-1", "inline-app"]
    assert len(catalog.entries) == len(builtin.entries) + 2
    assert catalog.entries[-2].origin == path
    assert catalog.entries[-1].origin == "variables (banned_software_custom_entries)"
    assert catalog.policies["inline"]["origin"] == "variables (banned_software_custom_policies)"
    assert catalog.version == builtin.version


def test_relative_and_home_paths_are_expanded(tmp_path, monkeypatch):
    local_catalog(tmp_path)
    monkeypatch.chdir(str(tmp_path))
    assert load_catalog(extra_files=["local1.yml"], use_builtin=False).entries[0].origin == \
        str(tmp_path / "local1.yml")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_catalog(extra_files=["~/local1.yml"], use_builtin=False).entries[0].origin == \
        str(tmp_path / "local1.yml")


# ------------------------------------------------------------------ cache

def test_cache_returns_the_same_object_for_unchanged_files(tmp_path):
    path = local_catalog(tmp_path)
    first = load_catalog(extra_files=[path])
    assert load_catalog(extra_files=[path]) is first
    assert load_catalog(extra_files=[path], custom_entries=None) is first
    assert len(_catalog_files._CACHE) == 1


def test_cache_sees_a_changed_file_with_the_same_size_and_mtime(tmp_path):
    path = local_catalog(tmp_path)
    first = load_catalog(extra_files=[path], use_builtin=False)
    stat = os.stat(path)
    with open(path) as handle:
        text = handle.read()
    assert "Local app" in text
    write(tmp_path, "local1.yml", text.replace("Local app", "Other app"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size
    second = load_catalog(extra_files=[path], use_builtin=False)
    assert second is not first
    assert second.entries[0].product == "Other app"
    assert first.entries[0].product == "Local app"


def test_cache_sees_a_broken_file(tmp_path):
    path = local_catalog(tmp_path)
    load_catalog(extra_files=[path], use_builtin=False)
    write(tmp_path, "local1.yml", "policies: [\n")
    with pytest.raises(CatalogError):
        load_catalog(extra_files=[path], use_builtin=False)


def test_cache_key_includes_inline_data(tmp_path):
    path = local_catalog(tmp_path)
    base = load_catalog(extra_files=[path], use_builtin=False)
    inline = [{"id": "x", "title": "X", "jurisdiction": "EU", "instrument": "i", "date": "2025-01-01",
               "url": "https://example.org/x"}]
    with_policy = load_catalog(extra_files=[path], use_builtin=False, custom_policies=inline)
    assert with_policy is not base
    assert "x" in with_policy.policies and "x" not in base.policies
    assert load_catalog(extra_files=[path], use_builtin=False, custom_policies=inline) is with_policy
    assert load_catalog(extra_files=[path], use_builtin=True) is not base


def test_cache_is_bounded(tmp_path):
    for n in range(40):
        load_catalog(extra_files=[local_catalog(tmp_path, n)], use_builtin=False)
        assert len(_catalog_files._CACHE) <= _catalog_files._CACHE_MAX


def test_errors_are_not_cached(tmp_path):
    path = local_catalog(tmp_path)
    with pytest.raises(CatalogError):
        load_catalog(extra_files=[path], use_builtin=False, custom_entries=[{"id": "Bad"}])
    assert _catalog_files._CACHE == {}


# ------------------------------------------------------------------ selection from action args

def args(**kw):
    data = {"policies": ["all"], "disabled_entries": [], "custom_entries": [], "custom_policies": [],
            "catalog_files": [], "exemptions": []}
    data.update(kw)
    return data


def test_load_selection(tmp_path):
    path = local_catalog(tmp_path)
    catalog, entries, exemptions = load_selection(args(
        catalog_files=[path], policies=["local-1"],
        exemptions=[{"entry": "local-app-1", "reason": "lab", "expires": "2030-01-01"}]))
    assert [e.id for e in entries] == ["local-app-1"]
    assert exemptions == [{"entry": "local-app-1", "reason": "lab", "expires": "2030-01-01"}]
    assert catalog is load_catalog(extra_files=[path], custom_policies=[], custom_entries=[])


@pytest.mark.parametrize("kw, field", [
    ({"policies": ["no-such-policy"]}, "banned_software_policies[0]"),
    ({"disabled_entries": ["no-such-entry"]}, "banned_software_disabled_entries[0]"),
    ({"exemptions": [{"entry": "no-such-entry", "reason": "r", "expires": "2030-01-01"}]},
     "banned_software_exemptions[0].entry"),
    ({"custom_entries": [{"id": "x"}]}, "vendor"),
])
def test_load_selection_errors(kw, field):
    with pytest.raises(CatalogError) as info:
        load_selection(args(**kw))
    assert info.value.field == field, str(info.value)
