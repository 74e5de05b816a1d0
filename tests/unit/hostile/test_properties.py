# -*- coding: utf-8 -*-
"""Property-based tests of every parser of host data the collectors use, with random and hostile input.

For each parser: no exception escapes (one would lose the whole source, or the host), every example is
parsed within the profile's deadline (conftest.py), and a banned product is still found when a malformed
record sits next to it (garbage before and after a valid ``wechat`` stanza, line, entry or tag).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import plistlib

from hypothesis import assume, example, given, strategies as st

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import dnf_conf as _dnf_conf
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import (
    block_state_linux as _block_state_linux)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import macos as _collect_macos
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import (
    windows_image as _collect_windows_image)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import dpkg as _dpkg
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import flatpak as _flatpak
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import linux_files as _linux_files
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import local_fact as _local_fact_read
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import rpm as _rpm
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import snap as _snap
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import Budget
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query

Q = compile_query({"dpkg": {"names": ["wechat"]}, "rpm": {"names": ["wechat"]},
                   "process": {"names": ["WeChat"]}, "launchd": {"names": ["com.tencent.xinWeChat.helper"]}})

# Text as it comes out of a file: any characters (surrogate escapes excluded, as the decoders never
# produce them), with the separators the parsers care about made frequent.
SEPARATORS = st.sampled_from(["\n", "\n\n", " ", "\t", ":", "=", "[", "]", "#", "'", '"', "<", ">", "\r", "\x00"])
TEXT = st.lists(st.one_of(st.text(max_size=40), SEPARATORS,
                          st.sampled_from(["Package:", "Status:", "Version:", "install ok installed", "version:",
                                           "[Desktop Entry]", "Exec=", "<release", "version=", "[main]",
                                           "excludepkgs"])),
                max_size=60).map("".join)
BYTES = st.one_of(st.binary(max_size=2000), TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))

WECHAT_STANZA = "Package: wechat\nStatus: install ok installed\nVersion: 4.0.1.11\nArchitecture: amd64\n"


class MemFS(object):
    """What read_plist and the launchd lister use of RootFS, over a dict of files in memory."""

    def __init__(self, files):
        self.files = files
        self.warnings = []
        self.budget = Budget()

    def read_bytes(self, vpath, max_bytes, what=None):  # pylint: disable=unused-argument
        data = self.files.get(vpath)
        if data is None:
            return None, False
        return data[:max_bytes], len(data) > max_bytes

    def lstat(self, vpath):  # pylint: disable=unused-argument
        return None

    def listdir(self, vpath, limit=None, what=None):  # pylint: disable=unused-argument
        prefix = vpath.rstrip("/") + "/"
        return sorted((p[len(prefix):], "file") for p in self.files if p.startswith(prefix))

    def tick(self):
        pass


# -- dpkg status -------------------------------------------------------------------------------------
@given(TEXT, TEXT)
def test_dpkg_status_never_raises_and_keeps_the_valid_stanza(before, after):
    warnings = []
    text = before + "\n\n" + WECHAT_STANZA + "\n\n" + after
    records, examined = _dpkg.parse_status(text, Q.sources["dpkg"], warnings)
    assert {"name": "wechat", "scope": "machine", "path": _dpkg.STATUS, "state": "installed",
            "version": "4.0.1.11", "arch": "amd64"} in records
    assert examined >= 1


@given(TEXT)
def test_dpkg_status_of_anything(text):
    records, examined = _dpkg.parse_status(text, Q.sources["dpkg"], [])
    assert all(r["name"] == "wechat" for r in records)


# -- rpm -qa output ----------------------------------------------------------------------------------
@given(TEXT, TEXT)
def test_rpm_output_never_raises_and_keeps_the_valid_line(before, after):
    out = before + "\nwechat\t(none)\t4.0.1.11\t1\tx86_64\tTencent\n" + after
    records, examined, malformed = _rpm.parse_output(out, Q.sources["rpm"], "/var/lib/rpm")
    assert {"name": "wechat", "scope": "machine", "path": "/var/lib/rpm", "version": "4.0.1.11-1",
            "arch": "x86_64", "vendor": "Tencent"} in records
    assert examined >= 1 and malformed >= 0


@given(TEXT, st.lists(st.text(max_size=30), max_size=5))
def test_rpm_owners_output_never_raises(out, paths):
    owners = _rpm.parse_owners(out, paths, None)
    assert set(owners) <= set(paths)


# -- desktop entries ---------------------------------------------------------------------------------
@given(BYTES)
def test_desktop_entry_of_anything(data):
    out = _linux_files.parse_desktop(data)
    assert set(out) <= {"exec", "display_name"}
    assert len(out.get("exec", "")) <= 4096 and len(out.get("display_name", "")) <= 1024


@given(TEXT, TEXT)
def test_desktop_entry_after_garbage_groups(before, after):
    assume(not any(line.strip() == "[Desktop Entry]" for line in before.splitlines()))
    data = (before + "\n[Desktop Entry]\nName=WeChat\nExec=/opt/wechat/wechat %U\n[Other]\n" + after).encode(
        "utf-8", "surrogatepass")
    assert _linux_files.parse_desktop(data) == {"display_name": "WeChat", "exec": "/opt/wechat/wechat %U"}


# -- flatpak metainfo and installations ---------------------------------------------------------------
@given(BYTES)
@example(b"<release " * 20000)
def test_flatpak_release_of_anything(data):
    version = _flatpak.release_version(data)
    assert version is None or 1 <= len(version.encode("utf-8", "backslashreplace")) <= 4 * 128


@given(BYTES, BYTES)
def test_flatpak_release_after_garbage(before, after):
    assume(b"<release" not in before)
    data = before + b'<release version="4.0.1.11" date="2025-01-01"/>' + after
    assert _flatpak.release_version(data) == "4.0.1.11"


# -- snap.yaml ---------------------------------------------------------------------------------------
@given(BYTES)
def test_snap_version_of_anything(data):
    version = _snap.snap_version(data)
    assert version is None or isinstance(version, str)


@given(BYTES, BYTES)
def test_snap_version_after_garbage_lines(before, after):
    assume(not any(line.startswith(b"version:") for line in before.split(b"\n")))
    assert _snap.snap_version(before + b"\nversion: '4.0.1' # stable\n" + after) == "4.0.1"


# -- property lists ----------------------------------------------------------------------------------
@given(BYTES)
@example(b"<?xml version='1.0'?><plist><integer>" + b"9" * 100000 + b"</integer></plist>")
@example(b"\xff\xfe" + "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><plist/>".encode("utf-16-le"))
@example(b"bplist00" + b"\xff" * 64)
def test_plist_of_anything(data):
    fs = MemFS({"/x.plist": data})
    result = _collect_macos.read_plist(fs, "/x.plist")
    assert (result is None) == bool(fs.warnings), "a plist is either read or reported, never silently dropped"


# XML plists cannot hold control characters in strings (plistlib refuses to write them).
PLIST_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
PLIST_VALUES = st.recursive(
    st.one_of(PLIST_TEXT, st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1), st.booleans(),
              st.binary(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(PLIST_TEXT, inner, max_size=4)),
    max_leaves=20)


@given(st.dictionaries(PLIST_TEXT, PLIST_VALUES, max_size=6), st.sampled_from(["xml", "binary"]),
       st.binary(max_size=200))
def test_launchd_job_found_next_to_a_garbage_plist(extra, fmt, garbage):
    extra.pop("Label", None)
    job = dict(extra, Label="com.tencent.xinWeChat.helper", Program="/Applications/WeChat.app/x")
    data = plistlib.dumps(job, fmt=plistlib.FMT_XML if fmt == "xml" else plistlib.FMT_BINARY)
    fs = MemFS({"/Library/LaunchAgents/a.plist": garbage, "/Library/LaunchAgents/b.plist": data})
    ok, records, examined = _collect_macos.list_launchd(fs, Q.sources["launchd"], [])
    assert [r["name"] for r in records] == ["com.tencent.xinWeChat.helper"]
    assert records[0]["program"] == "/Applications/WeChat.app/x"


# -- ps output (macOS) -------------------------------------------------------------------------------
@given(TEXT)
def test_ps_line_of_anything(line):
    parsed = _collect_macos.parse_ps_line(line)
    assert parsed is None or (isinstance(parsed[0], int) and isinstance(parsed[1], int) and parsed[2])


@given(TEXT, TEXT)
def test_ps_process_found_between_garbage_lines(before, after):
    out = before + "\n  812   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n" + after
    fs = MemFS({})
    ok, records, examined = _collect_macos.list_processes(fs, Q, lambda argv, **kw: (0, out, ""), [])
    assert any(r["exe"] == "/Applications/WeChat.app/Contents/MacOS/WeChat" and 812 in r["pids"] for r in records)


# -- local facts -------------------------------------------------------------------------------------
@given(st.one_of(TEXT, BYTES))
@example("[" * 100000)
@example('{"schema": 1, "removals": ' + "[" * 100000 + "]" * 100000 + "}")
def test_local_fact_of_anything(text):
    state, warnings = _local_fact_read.parse_fact_text(text, "fact")
    assert state is None or isinstance(state["removals"], list)


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=10)


@given(st.lists(JSON_VALUES, max_size=5), st.lists(JSON_VALUES, max_size=5))
def test_local_fact_keeps_the_valid_removal_between_malformed_ones(before, after):
    valid = {"key": "dpkg|machine|wechat|/var/lib/dpkg/status", "removed_at": "2026-01-01T00:00:00Z", "id": "wechat"}
    text = json.dumps({"schema": 1, "removals": before + [valid] + after})
    state, warnings = _local_fact_read.parse_fact_text(text, "fact")
    assert any(r["key"] == valid["key"] for r in state["removals"])


# -- dnf.conf, zypper locks, flatpak masks (block state) -----------------------------------------------
@given(TEXT)
def test_block_state_parsers_of_anything(text):
    has_main, excludes = _dnf_conf.main_excludes(text)
    assert isinstance(has_main, bool) and isinstance(excludes, list)
    assert isinstance(_block_state_linux.parse_zypp_locks(text), list)
    assert isinstance(_block_state_linux.parse_masks(text), list)


@given(TEXT)
def test_dnf_excludes_found_after_garbage_lines(before):
    assume("[" not in before and "excludepkgs" not in before)
    text = "[main]\n" + before.replace("\n", "\n#") + "\nexcludepkgs = wechat, kesl\n"
    assert _dnf_conf.main_excludes(text) == (True, ["wechat", "kesl"])


# -- registry values of a Windows image ----------------------------------------------------------------
REGISTRY_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50), st.binary(max_size=50),
                            st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=4))


@given(REGISTRY_VALUES)
def test_registry_values_of_anything(value):
    text = _collect_windows_image._text(value)
    assert text is None or (isinstance(text, str) and len(text) <= _collect_windows_image.MAX_TEXT)
    assert _collect_windows_image._flag(value) in (None, True, False)
    dword = _collect_windows_image._dword(value)
    assert dword is None or isinstance(dword, int)


@given(st.text(max_size=300))
def test_windows_paths_of_anything(path):
    vpath = _collect_windows_image.windows_to_virtual(path, "C:")
    assert vpath is None or (vpath.startswith("/") and "/../" not in vpath + "/" and "\\" not in vpath)
