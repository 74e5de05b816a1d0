# -*- coding: utf-8 -*-
"""The dnf.conf block (_dnf_conf): the administrator's effective excludepkgs, placement, removal, bad markers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import dnf_conf as dc

BLOCK = [dc.BEGIN_LINE + "\n", "excludepkgs=kernel*,wechat\n", dc.END + "\n"]


@pytest.mark.parametrize("text, expected", [
    ("", (False, [])),
    ("[main]\ngpgcheck=1\n", (True, [])),
    ("[main]\nexcludepkgs=foo,bar\n", (True, ["foo", "bar"])),
    # the last key wins (dnf 4.14); exclude= is another key; key names are case-sensitive
    ("[main]\nexcludepkgs=foo\nexclude=x\nEXCLUDEPKGS=y\nexcludepkgs = bar baz\n", (True, ["bar", "baz"])),
    # continuation lines, two [main] sections, other sections ignored
    ("[main]\nexcludepkgs=foo,\n  bar\n[repo]\nexcludepkgs=r\n[main]\ngpgcheck=1\n", (True, ["foo", "bar"])),
    ("[main]\nexcludepkgs=a\n[main]\nexcludepkgs=b\n", (True, ["b"])),
    ("[main]\n# excludepkgs=commented\n;excludepkgs=too\n", (True, [])),
    ("[main]\nexcludepkgs=\n", (True, [])),
    ("[updates]\nexcludepkgs=foo\n", (False, [])),
])
def test_main_excludes(text, expected):
    assert dc.main_excludes(text) == expected


def test_block_at_the_end_of_the_last_main_before_the_next_section():
    text = "# comment\n[main]\ngpgcheck=1\nexcludepkgs=kernel*\n\n[repo]\nname=r\n"
    got = dc.with_block(text, "kernel*,wechat")
    assert got == ("# comment\n[main]\ngpgcheck=1\nexcludepkgs=kernel*\n" + "".join(BLOCK) + "\n[repo]\nname=r\n")
    assert dc.main_excludes(dc.split_block(got)[0]) == (True, ["kernel*"])
    assert dc.split_block(got) == (text, True)


def test_block_without_main_carries_its_header_and_no_trailing_newline_is_fixed():
    got = dc.with_block("[repo]\nname=r", "wechat")
    assert got == "[repo]\nname=r\n" + dc.BEGIN_LINE + "\n[main]\nexcludepkgs=wechat\n" + dc.END + "\n"
    assert dc.main_excludes(got) == (True, ["wechat"])
    assert dc.with_block("", "wechat") == dc.BEGIN_LINE + "\n[main]\nexcludepkgs=wechat\n" + dc.END + "\n"


def test_block_is_the_value_dnf_keeps():
    text = dc.with_block("[main]\nexcludepkgs=foo\n", "foo,wechat")
    assert dc.main_excludes(text) == (True, ["foo", "wechat"])


@pytest.mark.parametrize("text", [
    "[main]\n" + dc.BEGIN + "\nexcludepkgs=x\n",
    "[main]\nexcludepkgs=x\n" + dc.END + "\n",
    "[main]\n" + dc.END + "\n" + dc.BEGIN + "\n",
    "[main]\n" + "".join(BLOCK) + "".join(BLOCK),
])
def test_broken_markers_are_refused(text):
    with pytest.raises(dc.DnfConfError, match="marker lines"):
        dc.split_block(text)
