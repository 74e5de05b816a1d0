# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signature grammar (docs/design.md, "Entry"): what compiles, what is refused, what matches."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.signature import (
    EXTRA_KEYS, PLATFORMS, SOURCE_ALIASES, SOURCE_FIELDS, Signature, SignatureError, expand_sources,
)

# The contract's table of sources and the record fields a signature may test.
CONTRACT_SOURCES = {
    "linux": {"dpkg": {"name", "arch"}, "rpm": {"name", "arch", "vendor"}, "packages": {"name"},
              "flatpak": {"name"}, "snap": {"name"}, "appimage": {"name", "path"}, "file": {"path"},
              "desktop": {"name", "exec"}, "service": {"name"}, "process": {"name", "exe"},
              "npm": {"name", "path"}},
    "windows": {"registry": {"name", "display_name", "publisher"}, "appx": {"name"},
                "service": {"name", "path"}, "process": {"name", "exe"}, "file": {"path"}, "npm": {"name", "path"}},
    "macos": {"bundle": {"name", "path", "team_id"}, "pkg-receipt": {"name"}, "launchd": {"name"},
              "cask": {"name"}, "sysext": {"name", "team_id"}, "process": {"name", "exe"}, "file": {"path"},
              "npm": {"name", "path"}},
}


def test_source_table_is_the_contract():
    assert set(PLATFORMS) == {"linux", "windows", "macos"}
    seen = dict((p, dict((s, set(f)) for s, f in sources.items())) for p, sources in SOURCE_FIELDS.items())
    assert seen == CONTRACT_SOURCES
    assert SOURCE_ALIASES == {("linux", "packages"): ("dpkg", "rpm")}
    assert EXTRA_KEYS == frozenset(["note", "min_version", "max_version"])


@pytest.mark.parametrize("platform, source, expected", [
    ("linux", "packages", ("dpkg", "rpm")),
    ("linux", "dpkg", ("dpkg",)),
    ("linux", "rpm", ("rpm",)),
    ("windows", "packages", ("packages",)),
    ("macos", "file", ("file",)),
])
def test_expand_sources(platform, source, expected):
    assert expand_sources(platform, source) == expected


# (platform, source, spec, field named by the error or None, fragment of the message)
INVALID = [
    ("solaris", "pkg", {"name": "x"}, None, "unknown platform 'solaris'"),
    ("linux", "pacman", {"name": "x"}, None, "unknown source 'pacman' for linux"),
    ("linux", "registry", {"name": "x"}, None, "unknown source 'registry' for linux"),
    ("windows", "dpkg", {"name": "x"}, None, "unknown source 'dpkg' for windows"),
    ("macos", "flatpak", {"name": "x"}, None, "unknown source 'flatpak' for macos"),
    ("linux", "dpkg", "wechat", None, "a signature must be a mapping of conditions, got str"),
    ("linux", "dpkg", ["wechat"], None, "got list"),
    ("linux", "dpkg", None, None, "got NoneType"),
    ("linux", "dpkg", {}, None, "needs name or name_regex"),
    ("linux", "dpkg", {"arch": "amd64"}, None, "needs name or name_regex"),
    ("linux", "rpm", {"vendor_regex": "Kaspersky.*"}, None, "must identify something"),
    ("windows", "registry", {"publisher": "AO Kaspersky Lab"}, None, "must identify something"),
    ("windows", "registry", {"display_name": "WeChat"}, None, "must identify something"),
    ("macos", "bundle", {"team_id": "5A4RE8SF68"}, None, "must identify something"),
    ("linux", "appimage", {"path_regex": "/home/[^/]+/.*\\.AppImage"}, None, "needs name or name_regex"),
    ("macos", "bundle", {"path": "/Applications/WeChat.app"}, None, "other fields only qualify"),
    ("linux", "file", {"note": "x"}, None, "a file signature needs path"),
    ("linux", "dpkg", {"name": "x", "vendor": "y"}, "vendor", "unknown field 'vendor' for source linux/dpkg"),
    ("linux", "dpkg", {"name": "x", "version": "1"}, "version", "unknown field 'version'"),
    ("linux", "dpkg", {"nmae": "wechat"}, "nmae", "unknown field 'nmae'"),
    ("linux", "dpkg", {"name_re": "wechat"}, "name_re", "unknown field 'name_re'"),
    ("linux", "dpkg", {"_regex": "wechat"}, "_regex", "unknown field '_regex'"),
    ("linux", "dpkg", {"name_regex_regex": "x"}, "name_regex_regex", "unknown field"),
    ("linux", "packages", {"name": "x", "arch": "amd64"}, "arch", "unknown field 'arch' for source linux/packages"),
    ("linux", "file", {"name": "/opt/x"}, "name", "unknown field 'name' for source linux/file"),
    ("windows", "appx", {"name": "x", "publisher": "y"}, "publisher", "unknown field 'publisher'"),
    ("linux", "dpkg", {"name": 1}, "name", "name must be a non-empty string"),
    ("linux", "dpkg", {"name": ["wechat"]}, "name", "name must be a non-empty string"),
    ("linux", "dpkg", {"name": None}, "name", "name must be a non-empty string"),
    ("linux", "dpkg", {"name": ""}, "name", "name must be a non-empty string"),
    ("linux", "dpkg", {"name": True}, "name", "name must be a non-empty string"),
    ("linux", "dpkg", {"name_regex": 5}, "name_regex", "name_regex must be a non-empty string"),
    ("linux", "dpkg", {"name": "x", "note": 5}, "note", "note must be a string"),
    ("linux", "dpkg", {"name": "x", "min_version": 1.0}, "min_version", "min_version must be a string"),
    ("linux", "dpkg", {"name": "x", 1: "y"}, "1", "field names must be strings"),
    ("linux", "dpkg", {None: "y"}, "None", "field names must be strings"),
    ("linux", "dpkg", {"name_regex": "wechat("}, "name_regex", "not a valid regular expression"),
    ("linux", "dpkg", {"name_regex": "[a-"}, "name_regex", "not a valid regular expression"),
    ("linux", "dpkg", {"name_regex": "a{2,1}"}, "name_regex", "not a valid regular expression"),
    ("linux", "dpkg", {"name_regex": "a{4294967296}"}, "name_regex", "not a valid regular expression"),
    ("linux", "dpkg", {"name_regex": "(" * 1200 + "a" + ")" * 1200}, "name_regex",
     "not a valid regular expression"),
    ("linux", "dpkg", {"name_regex": ".*"}, "name_regex", "matches the empty string"),
    ("linux", "dpkg", {"name_regex": "(wechat)?"}, "name_regex", "matches the empty string"),
    ("linux", "dpkg", {"name_regex": "wechat|"}, "name_regex", "matches the empty string"),
    ("linux", "dpkg", {"name_regex": "x*"}, "name_regex", "matches the empty string"),
    ("linux", "dpkg", {"name": "kesl", "arch_regex": "(amd64)?"}, "arch_regex", "matches the empty string"),
    ("windows", "registry", {"name_regex": "(?i)"}, "name_regex", "matches the empty string"),
    # file signatures: paths
    ("linux", "file", {"path": "opt/wechat"}, "path", "must be absolute or start with '~/'"),
    ("linux", "file", {"path": "~wechat"}, "path", "must be absolute or start with '~/'"),
    ("linux", "file", {"path": "~alice/.wechat"}, "path", "must be absolute or start with '~/'"),
    ("linux", "file", {"path": "./opt/wechat"}, "path", "must be absolute"),
    ("linux", "file", {"path": "/opt/../etc/shadow"}, "path", "must not contain '.' or '..'"),
    ("linux", "file", {"path": "/opt/wechat/.."}, "path", "must not contain '.' or '..'"),
    ("linux", "file", {"path": "~/../root/.wechat"}, "path", "must not contain '.' or '..'"),
    ("linux", "file", {"path": "/opt/./wechat"}, "path", "must not contain '.' or '..'"),
    ("linux", "file", {"path": "/opt/*/wechat"}, "path", "globs are allowed in the last component only"),
    ("linux", "file", {"path": "/opt/wech?t/bin"}, "path", "globs are allowed in the last component only"),
    ("linux", "file", {"path": "/opt/[kK]aspersky/kesl"}, "path", "globs are allowed in the last component only"),
    ("linux", "file", {"path": "~/*/WeChat"}, "path", "globs are allowed in the last component only"),
    ("linux", "file", {"path": "/"}, "path", "has an empty component"),
    ("linux", "file", {"path": "~/"}, "path", "has an empty component"),
    ("linux", "file", {"path": "/opt/wechat/"}, "path", "has an empty component"),
    ("linux", "file", {"path": "//opt/wechat"}, "path", "has an empty component"),
    ("linux", "file", {"path": "/opt//wechat"}, "path", "has an empty component"),
    ("linux", "file", {"path_regex": "/opt/wechat.*"}, "path", "file signatures take a single 'path'"),
    ("linux", "file", {"path": "/opt/wechat", "path_regex": "/opt/.*"}, "path", "file signatures take a single"),
    ("macos", "file", {"path": "Applications/WeChat.app"}, "path", "must be absolute"),
    ("windows", "file", {"path": "Program Files\\Tencent\\WeChat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "/opt/wechat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "~/WeChat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "%WinDir%\\WeChat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "%ProgramFiles%WeChat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "\\\\server\\share\\WeChat"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "C:/Program Files/Tencent"}, "path", "must be absolute (C:\\...)"),
    ("windows", "file", {"path": "C:\\Program Files/Tencent/*"}, "path", "use '\\' as the separator"),
    ("windows", "file", {"path": "C:\\Program Files\\..\\Windows"}, "path", "must not contain '.' or '..'"),
    ("windows", "file", {"path": "%AppData%\\..\\Local\\WeChat"}, "path", "must not contain '.' or '..'"),
    ("windows", "file", {"path": "C:\\Program Files\\*\\WeChat.exe"}, "path",
     "globs are allowed in the last component only"),
    ("windows", "file", {"path": "%ProgramFiles%\\Tencent\\We?hat\\WeChat.exe"}, "path",
     "globs are allowed in the last component only"),
    ("windows", "file", {"path": "C:\\"}, "path", "has an empty component"),
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\"}, "path", "has an empty component"),
]


@pytest.mark.parametrize("platform, source, spec, field, fragment", INVALID,
                         ids=["%s-%s-%d" % (p, s, i) for i, (p, s, dummy, dummy, dummy) in enumerate(INVALID)])
def test_invalid_signature(platform, source, spec, field, fragment):
    with pytest.raises(SignatureError) as info:
        Signature(platform, source, spec)
    assert info.value.field == field, "expected field %r, saw %r (%s)" % (field, info.value.field, info.value)
    assert fragment in str(info.value), "expected %r in %r" % (fragment, str(info.value))


VALID = [
    ("linux", "dpkg", {"name": "wechat", "arch": "amd64", "note": "x", "min_version": "1", "max_version": "2"}),
    ("linux", "packages", {"name": "kesl"}),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)kaspersky.*"}),
    ("linux", "appimage", {"name_regex": "WeChat.*\\.AppImage", "path_regex": "/home/[^/]+/.*\\.AppImage"}),
    ("linux", "file", {"path": "/opt/kaspersky/*"}),
    ("linux", "file", {"path": "~/.xwechat"}),
    ("linux", "file", {"path": "~/Applications/WeChat*.AppImage", "note": "user AppImages"}),
    ("linux", "file", {"path": "/wechat"}),
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\WeChat"}),
    ("windows", "file", {"path": "c:\\tencent\\*.exe"}),
    ("windows", "file", {"path": "%ProgramFiles%\\Tencent\\Weixin"}),
    ("windows", "file", {"path": "%PROGRAMFILES(X86)%\\Tencent\\WeChat"}),
    ("windows", "file", {"path": "%ProgramData%\\Kaspersky Lab"}),
    ("windows", "file", {"path": "%LocalAppData%\\Programs\\Tencent\\Weixin"}),
    ("windows", "file", {"path": "%AppData%\\Tencent\\WeChat"}),
    ("windows", "registry", {"name_regex": "(?i)\\{[0-9a-f-]{36}\\}", "display_name_regex": "Kaspersky.+",
                             "publisher": "AO Kaspersky Lab"}),
    ("macos", "bundle", {"name": "com.tencent.xinWeChat", "team_id": "5A4RE8SF68"}),
    ("macos", "file", {"path": "/Applications/WeChat.app"}),
    ("macos", "pkg-receipt", {"name_regex": "com\\.kaspersky\\..+"}),
]


@pytest.mark.parametrize("platform, source, spec", VALID)
def test_valid_signature(platform, source, spec):
    sig = Signature(platform, source, spec)
    assert sig.platform == platform
    assert sig.source == source
    assert sig.raw is spec
    assert sig.casefold is (platform == "windows")
    assert sig.describe() == ", ".join("%s=%s" % (k, spec[k]) for k in sorted(spec) if k not in EXTRA_KEYS)


HOMES = {"alice": "/home/alice", "bob": "/home/bob/", "root": "/root", "eve": "relative/home", "mallory": 5}

# (platform, source, spec, record, expected)
MATCHES = [
    # equality, case-sensitive on Linux and macOS
    ("linux", "dpkg", {"name": "wechat"}, {"name": "wechat"}, True),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "WeChat"}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "wechat "}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "wechat\n"}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "python3-wechatpy"}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "wechat-bridge"}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": "golang-github-silenceper-wechat-dev"}, False),
    ("linux", "dpkg", {"name": "wechat"}, {}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": None}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": ["wechat"]}, False),
    ("linux", "dpkg", {"name": "wechat"}, {"name": b"wechat"}, False),
    ("macos", "bundle", {"name": "com.tencent.xinWeChat"}, {"name": "com.tencent.xinwechat"}, False),
    ("macos", "bundle", {"name": "com.tencent.xinWeChat"}, {"name": "com.tencent.xinWeChat"}, True),
    # casefold on Windows (equality only)
    ("windows", "registry", {"name": "WeChat"}, {"name": "wechat"}, True),
    ("windows", "registry", {"name": "WeChat"}, {"name": "WECHAT"}, True),
    ("windows", "registry", {"name": "wechat"}, {"name": "WeChat"}, True),
    ("windows", "registry", {"name": "WeChat"}, {"name": "WeChatSetup"}, False),
    ("windows", "process", {"name": "WeChat.exe"}, {"name": "wechat.EXE"}, True),
    ("windows", "registry", {"name": "Straße"}, {"name": "STRASSE"}, True),
    # regexes are fullmatch and keep their own case rules, on every platform
    ("linux", "dpkg", {"name_regex": "kesl"}, {"name": "kesl"}, True),
    ("linux", "dpkg", {"name_regex": "kesl"}, {"name": "kesl-gui-extra"}, False),
    ("linux", "dpkg", {"name_regex": "kesl"}, {"name": "xkesl"}, False),
    ("linux", "dpkg", {"name_regex": "kesl"}, {"name": "kesl\n"}, False),
    ("linux", "dpkg", {"name_regex": "kesl(-gui)?"}, {"name": "kesl-gui"}, True),
    ("linux", "dpkg", {"name_regex": "kesl|kav4fs"}, {"name": "kesl-gui"}, False),
    ("linux", "dpkg", {"name_regex": "kesl|kav4fs"}, {"name": "kav4fs"}, True),
    ("linux", "dpkg", {"name_regex": "wechat.*"}, {"name": "wechat\nrm -rf"}, False),
    ("windows", "registry", {"name_regex": "WeChat"}, {"name": "wechat"}, False),
    ("windows", "registry", {"name_regex": "(?i)WeChat"}, {"name": "wechat"}, True),
    ("linux", "dpkg", {"name_regex": "(?i)kesl"}, {"name": "KESL"}, True),
    # qualifiers: all conditions must hold, a missing qualifier field never matches
    ("linux", "dpkg", {"name": "kesl", "arch": "amd64"}, {"name": "kesl", "arch": "amd64"}, True),
    ("linux", "dpkg", {"name": "kesl", "arch": "amd64"}, {"name": "kesl", "arch": "i386"}, False),
    ("linux", "dpkg", {"name": "kesl", "arch": "amd64"}, {"name": "kesl"}, False),
    ("linux", "dpkg", {"name": "kesl", "arch": "amd64"}, {"name": "kesl", "arch": None}, False),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)(AO )?Kaspersky( Lab)?"},
     {"name": "kesl", "vendor": "AO Kaspersky Lab"}, True),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)(AO )?Kaspersky( Lab)?"},
     {"name": "kesl", "vendor": "kaspersky"}, True),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)(AO )?Kaspersky( Lab)?"},
     {"name": "kesl", "vendor": "Fedora Project"}, False),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)(AO )?Kaspersky( Lab)?"}, {"name": "kesl"}, False),
    ("linux", "rpm", {"name": "kesl", "vendor_regex": "(?i)(AO )?Kaspersky( Lab)?"},
     {"name": "kesl", "vendor": 7}, False),
    ("windows", "registry", {"name": "WeChat", "publisher": "腾讯科技(深圳)有限公司"},
     {"name": "WeChat", "display_name": "WeChat", "publisher": "腾讯科技(深圳)有限公司"}, True),
    ("windows", "registry", {"name": "WeChat", "publisher": "腾讯科技(深圳)有限公司"},
     {"name": "WeChat", "display_name": "WeChat", "publisher": "WeChat Community Edition"}, False),
    ("windows", "registry", {"name": "WeChat", "publisher": "腾讯科技(深圳)有限公司"},
     {"name": "WeChat", "display_name": "WeChat"}, False),
    ("windows", "registry", {"name_regex": "\\{.+\\}", "display_name_regex": "Kaspersky Endpoint Security.*",
                             "publisher": "AO Kaspersky Lab"},
     {"name": "{GUID}", "display_name": "Kaspersky Endpoint Security 12.1", "publisher": "ao kaspersky lab"}, True),
    ("windows", "registry", {"name_regex": "\\{.+\\}", "display_name_regex": "Kaspersky Endpoint Security.*",
                             "publisher": "AO Kaspersky Lab"},
     {"name": "{GUID}", "display_name": "Kaspersky Endpoint Security 12.1", "publisher": "UltraAV"}, False),
    ("windows", "registry", {"name_regex": "\\{.+\\}", "display_name_regex": "Kaspersky Endpoint Security.*",
                             "publisher": "AO Kaspersky Lab"},
     {"name": "KES", "display_name": "Kaspersky Endpoint Security 12.1", "publisher": "AO Kaspersky Lab"}, False),
    ("windows", "registry", {"name": "WeChat", "display_name_regex": "WeChat|微信"},
     {"name": "WeChat", "display_name": "微信"}, True),
    # file signatures: absolute paths, globs in the last component only
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/opt/wechat", "scope": "machine"}, True),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/opt/wechat/wechat", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/opt/wechat-beta", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/OPT/WECHAT", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/srv/opt/wechat", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"name": "/opt/wechat", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": 5, "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/wechat"}, {"path": "/opt/wechat\n", "scope": "machine"}, False),
    ("linux", "file", {"path": "/opt/kaspersky/*"}, {"path": "/opt/kaspersky/kesl"}, True),
    ("linux", "file", {"path": "/opt/kaspersky/*"}, {"path": "/opt/kaspersky/kesl/bin/kesl"}, False),
    ("linux", "file", {"path": "/opt/kaspersky/*"}, {"path": "/opt/kaspersky/"}, True),
    ("linux", "file", {"path": "/opt/kaspersky/*"}, {"path": "/opt/kaspersky"}, False),
    ("linux", "file", {"path": "/opt/kaspersky/*"}, {"path": "/opt/kaspersky-like/kesl"}, False),
    ("linux", "file", {"path": "/opt/kasp?rsky"}, {"path": "/opt/kaspersky"}, True),
    ("linux", "file", {"path": "/opt/kasp?rsky"}, {"path": "/opt/kasp/rsky"}, False),
    ("linux", "file", {"path": "/opt/k.sl"}, {"path": "/opt/kxsl"}, False),
    ("linux", "file", {"path": "/opt/k+sl"}, {"path": "/opt/kkksl"}, False),
    ("linux", "file", {"path": "/wechat"}, {"path": "/wechat"}, True),
    ("linux", "file", {"path": "/wechat*"}, {"path": "/wechat/x"}, False),
    # ~/ needs a user scope and that user's absolute home
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat", "scope": "user:alice"}, True),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat", "scope": "machine"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat", "scope": "user:bob"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/bob/.xwechat", "scope": "user:bob"}, True),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/root/.xwechat", "scope": "user:root"}, True),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/carol/.xwechat", "scope": "user:carol"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "relative/home/.xwechat", "scope": "user:eve"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat", "scope": "user:mallory"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alicex/.xwechat", "scope": "user:alice"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/sub/.xwechat", "scope": "user:alice"}, False),
    ("linux", "file", {"path": "~/.xwechat"}, {"path": "/home/alice/.xwechat", "scope": 5}, False),
    ("linux", "file", {"path": "~/WeChat*.AppImage"},
     {"path": "/home/alice/WeChat-4.0.AppImage", "scope": "user:alice"}, True),
    ("linux", "file", {"path": "~/WeChat*.AppImage"},
     {"path": "/home/alice/x/WeChat-4.0.AppImage", "scope": "user:alice"}, False),
    ("macos", "file", {"path": "~/Library/Containers/com.tencent.xinWeChat"},
     {"path": "/home/alice/Library/Containers/com.tencent.xinWeChat", "scope": "user:alice"}, True),
    # Windows file paths compare case-insensitively; a glob still stays in its component
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\WeChat"},
     {"path": "c:\\program files\\tencent\\wechat"}, True),
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\WeChat"},
     {"path": "C:\\Program Files\\Tencent\\WeChatPlus"}, False),
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\Weixin\\*.exe"},
     {"path": "C:\\Program Files\\Tencent\\Weixin\\Weixin.exe"}, True),
    ("windows", "file", {"path": "C:\\Program Files\\Tencent\\Weixin\\*.exe"},
     {"path": "C:\\Program Files\\Tencent\\Weixin\\sub\\Weixin.exe"}, False),
    ("windows", "file", {"path": "%ProgramFiles(x86)%\\Tencent\\WeChat"},
     {"path": "%programfiles(x86)%\\Tencent\\WeChat"}, True),
    ("windows", "file", {"path": "%ProgramFiles(x86)%\\Tencent\\WeChat"},
     {"path": "%ProgramFiles(x86)%\\Tencent\\WeChat2"}, False),
]


@pytest.mark.parametrize("platform, source, spec, record, expected", MATCHES,
                         ids=["%s-%s-%d" % (p, s, i) for i, (p, s, dummy, dummy, dummy) in enumerate(MATCHES)])
def test_matches(platform, source, spec, record, expected):
    sig = Signature(platform, source, spec)
    assert sig.matches(record, HOMES) is expected, "spec %r on record %r" % (spec, record)


def test_home_signature_without_homes_never_matches():
    sig = Signature("linux", "file", {"path": "~/.xwechat"})
    record = {"path": "/home/alice/.xwechat", "scope": "user:alice"}
    assert sig.matches(record) is False
    assert sig.matches(record, {}) is False
    assert sig.matches(record, {"alice": "/home/alice"}) is True
    assert sig.file_home is True


def test_file_signature_is_compiled_once_and_anchored():
    sig = Signature("linux", "file", {"path": "/opt/kaspersky/*"})
    assert sig.file_home is False
    assert sig.equals == [("path", "/opt/kaspersky/*")]
    assert sig.regexes == []
    assert sig.file_regex.match("/opt/kaspersky/kesl") is not None
    assert sig.file_regex.match("x/opt/kaspersky/kesl") is None


def test_windows_equality_is_stored_casefolded():
    sig = Signature("windows", "registry", {"name": "WeChat", "publisher": "AO Kaspersky Lab"})
    assert sorted(sig.equals) == [("name", "wechat"), ("publisher", "ao kaspersky lab")]
    linux = Signature("linux", "dpkg", {"name": "WeChat"})
    assert linux.equals == [("name", "WeChat")]
