# -*- coding: utf-8 -*-
"""Precision and recall of the shipped catalog on a corpus of real third-party data.

tests/unit/data/corpus/manifests.yml holds identifiers from public manifests (winget, Homebrew casks,
AUR, linglong, vendor pages) with their provenance, as collector records; debian_bookworm_main_pkgnames
holds every package name of Debian's archive. Precision must be 1.0 on every platform (nothing that is
not banned is ever reported); recall must not fall below the value recorded in the corpus.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import lzma
import os
import re

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "corpus")
TEXAS_OTHER = "us-tx-dir-prohibited-technologies-other"
USERS = [{"name": "alice", "uid": 1000, "home": "/home/alice"}]
PLATFORMS = ("windows", "macos", "linux")
SHA1 = re.compile(r"^[0-9a-f]{40}\Z")


def load_corpus():
    with open(os.path.join(CORPUS, "manifests.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def debian_names():
    with lzma.open(os.path.join(CORPUS, "debian_bookworm_main_pkgnames.txt.xz"), "rt", encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def measure(catalog, items, platform, policies):
    """``(true_positives, false_positives, false_negatives)`` of the items of ``platform``."""
    entries = catalog.select(policies)
    matcher = Matcher(entries, policies)
    key = "expect_optional" if TEXAS_OTHER in policies else "expect"
    tp, fp, fn = [], [], []
    for item in (i for i in items if i["platform"] == platform):
        record = dict(item["record"])
        source = record.pop("source")
        found, warnings = matcher.match(platform, {"records": {source: [record]}, "users": USERS})
        assert warnings == []
        expected = item.get(key, item.get("expect")) if key == "expect_optional" else item.get("expect")
        got = sorted(set(f["id"] for f in found))
        label = "%s %s %s" % (platform, source, record["name"])
        if expected is None:
            fp.extend("%s -> %s" % (label, g) for g in got)
        elif got == [expected]:
            tp.append(label)
        elif expected in got:
            tp.append(label)
            fp.extend("%s -> %s" % (label, g) for g in got if g != expected)
        else:
            fn.append("%s (expected %s, got %s)" % (label, expected, got or "nothing"))
            fp.extend("%s -> %s" % (label, g) for g in got)
    return tp, fp, fn


def test_every_item_names_its_provenance(corpus):
    assert set(corpus["minimum_recall"]) == set(PLATFORMS)
    for item in corpus["items"]:
        assert item["platform"] in PLATFORMS, item
        assert item["from"] and item["derived"], item
        for origin in item["from"]:
            if "url" in origin:
                assert origin["url"].startswith("https://"), item
            else:
                assert set(origin) == {"repository", "path", "commit"}, item
                assert SHA1.match(origin["commit"]) and "/" in origin["repository"], item
        assert item["record"]["source"] and item["record"]["name"], item
    # banned products and lookalikes of every platform
    for platform in PLATFORMS:
        items = [i for i in corpus["items"] if i["platform"] == platform]
        assert [i for i in items if i["expect"]] and [i for i in items if i["expect"] is None], platform


@pytest.mark.parametrize("platform", PLATFORMS)
def test_precision_and_recall_of_the_default_audit(catalog, corpus, platform):
    tp, fp, fn = measure(catalog, corpus["items"], platform, ["all"])
    precision = len(tp) / float(len(tp) + len(fp)) if tp or fp else 1.0
    recall = len(tp) / float(len(tp) + len(fn)) if tp or fn else 1.0
    assert fp == [], "precision %.3f on %s: not banned but reported: %s" % (precision, platform, fp)
    assert recall >= corpus["minimum_recall"][platform], "recall %.3f on %s, missed: %s" % (recall, platform, fn)
    assert tp, platform


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_optional_texas_set_adds_exactly_its_products(catalog, corpus, platform):
    tp, fp, fn = measure(catalog, corpus["items"], platform, ["all", TEXAS_OTHER])
    assert (fp, fn) == ([], [])
    default_tp = measure(catalog, corpus["items"], platform, ["all"])[0]
    optional = [i for i in corpus["items"] if i["platform"] == platform and i.get("expect_optional")]
    assert len(tp) == len(default_tp) + len(optional)


def test_debian_archive_has_no_banned_name(catalog):
    names = debian_names()
    assert len(names) > 60000 and len(set(names)) == len(names)
    for expected in ("adduser", "bash", "clamav", "clamav-daemon", "nodejs", "wine", "flatpak"):
        assert expected in names
    matcher = Matcher(catalog.select(), ["all"])
    records = [{"name": n, "scope": "machine", "arch": "amd64", "vendor": "Debian", "path": "/var/lib/dpkg/status"}
               for n in names]
    findings, warnings = matcher.match("linux", {"records": {"dpkg": records, "rpm": records, "flatpak": records,
                                                             "snap": records, "npm": records},
                                                 "users": USERS})
    assert (findings, warnings) == ([], [])
    # With the optional Texas set too: still nothing (its products have no Linux packaging in Debian).
    optional = Matcher(catalog.select(["all", TEXAS_OTHER]), ["all", TEXAS_OTHER])
    assert optional.match("linux", {"records": {"dpkg": records}, "users": USERS}) == ([], [])
