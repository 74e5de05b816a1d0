# -*- coding: utf-8 -*-
"""What remediation never removes: paths (module_utils/_execute/protect.py, both sides), packages and the name
patterns for argv (plugin_utils/plan/protect.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path, path_protection)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.protect import (
    DPKG_NAME_RE, FLATPAK_ID_RE, RPM_NAME_RE, SNAP_NAME_RE, UNIT_NAME_RE, is_protected_package,
)

HOMES = ["/home/alice", "/srv/users/bob/"]

PATHS = [
    # (path, homes, expected reason or None)
    ("/", HOMES, "protected system path"),
    ("/opt", HOMES, "protected system path"),
    ("/opt/", HOMES, "protected system path"),
    ("//opt//", HOMES, "protected system path"),
    ("/opt/wechat", HOMES, None),
    ("/opt/wechat/", HOMES, None),
    ("/opt/kaspersky/kesl", HOMES, None),
    ("/wechat", HOMES, "top-level path"),
    ("/usr", HOMES, "protected system path"),
    ("/usr/share/applications", HOMES, "protected system path"),
    ("/usr/share/applications/wechat.desktop", HOMES, None),
    ("/lib/systemd/system/kesl.service", HOMES, None),
    ("/etc/systemd/system", HOMES, "protected system path"),
    ("/var/lib/flatpak", HOMES, "protected system path"),
    ("/var/lib/flatpak/app", HOMES, "protected system path"),
    ("/var/lib/flatpak/app/com.tencent.WeChat", HOMES, None),
    ("/var/lib/snapd/snaps", HOMES, "protected system path"),
    ("/var/opt/kaspersky/kesl", HOMES, None),
    ("/usr/lib", HOMES, "protected system path"),
    ("/usr/lib/x", HOMES, None),
    ("/home", HOMES, "protected system path"),
    ("/home/alice", HOMES, "a home directory"),
    ("/home/alice/", HOMES, "a home directory"),
    ("/home/alice/.local", HOMES, "a shared directory in a home"),
    ("/home/alice/.local/share", HOMES, "a shared directory in a home"),
    ("/home/alice/.local/share/applications", HOMES, "a shared directory in a home"),
    ("/home/alice/.local/share/flatpak", HOMES, "a shared directory in a home"),
    ("/home/alice/.config", HOMES, "a shared directory in a home"),
    ("/home/alice/Documents", HOMES, "a shared directory in a home"),
    ("/home/alice/Applications", HOMES, "a shared directory in a home"),
    ("/home/alice/.xwechat", HOMES, None),
    ("/home/alice/xwechat_files", HOMES, None),
    ("/home/alice/.local/share/applications/wechat.desktop", HOMES, None),
    ("/home/alice/Applications/WeChatLinux_x86_64.AppImage", HOMES, None),
    ("/home/alice/Documents/WeChat Files", HOMES, None),
    # a home not in the list (user not selected) is still a home, and so are its shared children
    ("/home/carol", HOMES, "a home directory"),
    ("/home/carol", [], "a home directory"),
    ("/home/carol/.local", [], "a shared directory in a home"),
    ("/home/carol/.xwechat", [], None),
    # homes elsewhere are known from the list only
    ("/srv/users/bob", HOMES, "a home directory"),
    ("/srv/users/bob/.cache", HOMES, "a shared directory in a home"),
    ("/srv/users/bob/.xwechat", HOMES, None),
    ("/srv/users", HOMES, "contains a home directory"),
    ("/var/lib/x", ["/var/lib/x/home"], "contains a home directory"),
    ("/usr/local", HOMES, "protected system path"),
    ("/usr/local/bin", HOMES, "protected system path"),
    ("/usr/local/bin/wechat", HOMES, None),
    # not clean absolute paths
    ("", HOMES, "not a clean absolute path"),
    ("opt/wechat", HOMES, "not a clean absolute path"),
    ("./opt/wechat", HOMES, "not a clean absolute path"),
    ("/opt/wechat/../..", HOMES, "not a clean absolute path"),
    ("/opt/../etc", HOMES, "not a clean absolute path"),
    ("/opt/./wechat", HOMES, "not a clean absolute path"),
    ("/opt/wechat\x00/x", HOMES, "not a clean absolute path"),
    ("~/.xwechat", HOMES, "not a clean absolute path"),
    (None, HOMES, "not a clean absolute path"),
    (b"/opt/wechat", HOMES, "not a clean absolute path"),
    # bad entries in the homes list are ignored, not fatal
    ("/opt/wechat", ["relative", None, "/x/../y"], None),
]


@pytest.mark.parametrize("path, homes, expected", PATHS)
def test_path_protection(path, homes, expected):
    seen = path_protection(path, homes)
    assert seen == expected, "path_protection(%r, %r): expected %r, seen %r" % (path, homes, expected, seen)


@pytest.mark.parametrize("path, expected", [
    ("/opt/wechat", "/opt/wechat"),
    ("//opt///wechat//", "/opt/wechat"),
    ("/", "/"),
    ("///", "/"),
    ("/opt/wechat/..", None),
    ("opt", None),
    ("/a\x00b", None),
    (None, None),
    (3, None),
])
def test_normalise_path(path, expected):
    seen = normalise_path(path)
    assert seen == expected, "normalise_path(%r): expected %r, seen %r" % (path, expected, seen)


PACKAGES = [
    # (name, extra patterns, expected)
    ("libc6", [], True),
    ("libc6-dev", [], True),
    ("libc-bin", [], True),
    ("systemd", [], True),
    ("systemd-resolved", [], True),
    ("libsystemd0", [], True),
    ("sudo", [], True),
    ("openssh-server", [], True),
    ("openssh-clients", [], True),
    ("kernel", [], True),
    ("kernel-core", [], True),
    ("kernel-modules-extra", [], True),
    ("linux-image-6.1.0-13-amd64", [], True),
    ("python3", [], True),
    ("python3.11", [], True),
    ("python3.11-minimal", [], True),
    ("glibc", [], True),
    ("glibc-common", [], True),
    ("dpkg", [], True),
    ("rpm", [], True),
    ("flatpak", [], True),
    ("snapd", [], True),
    ("ansible-core", [], True),
    ("bash", [], True),
    ("grub-pc", [], True),
    # banned or ordinary packages are not protected
    ("wechat", [], False),
    ("kesl", [], False),
    ("kesl-gui", [], False),
    ("klnagent64", [], False),
    ("com.tencent.weixin", [], False),
    ("python3-wechatpy", [], False),
    ("sudo-ldap", [], False),
    ("openssh-server-extra", [], False),
    ("Systemd", [], False),            # case-sensitive, as package names are
    ("LIBC6", [], False),
    ("libc6\n", [], False),            # never equal to a protected name (and invalid: see below)
    # user patterns add to the list
    ("kesl", ["kesl"], True),
    ("kesl-gui", ["kesl*"], True),
    ("kesl", ["kesl-*"], False),
    ("wechat", ["we?hat"], True),
    ("wechat", ["other", "[w]echat"], True),
    ("wechat", ["WECHAT"], False),
]


@pytest.mark.parametrize("name, extra, expected", PACKAGES)
def test_is_protected_package(name, extra, expected):
    seen = is_protected_package(name, extra)
    assert seen is expected, "is_protected_package(%r, %r): expected %r, seen %r" % (name, extra, expected, seen)


HOSTILE = ["-rf", "--root=/", "--force-all", "kesl gui", "kesl\n", "kesl\nlibc6", "kesl;reboot", "kesl$(id)",
           "kesl`id`", "kesl|x", "kesl&", "kesl>x", "wéchat", "微信", "kesl\x00", "", "kesl\t", "*", "../kesl",
           "kesl/..", "a" * 129]

NAMES = [
    # (pattern, name, valid)
    (DPKG_NAME_RE, "kesl", True),
    (DPKG_NAME_RE, "kesl-gui", True),
    (DPKG_NAME_RE, "com.tencent.weixin", True),
    (DPKG_NAME_RE, "libstdc++6", True),
    (DPKG_NAME_RE, "Kesl", False),
    (DPKG_NAME_RE, "a" * 128, True),
    (RPM_NAME_RE, "kesl", True),
    (RPM_NAME_RE, "NetworkManager", True),
    (RPM_NAME_RE, "_x", True),
    (FLATPAK_ID_RE, "com.tencent.WeChat", True),
    (FLATPAK_ID_RE, "com.tencent", False),
    (FLATPAK_ID_RE, "com.tencent.WeChat\n", False),
    (FLATPAK_ID_RE, "-com.tencent.WeChat", False),
    (SNAP_NAME_RE, "wechat", True),
    (SNAP_NAME_RE, "wechat_beta", True),
    (SNAP_NAME_RE, "WeChat", False),
    (SNAP_NAME_RE, "wechat\n", False),
    (USER_NAME_RE, "alice", True),
    (USER_NAME_RE, "host$", True),
    (USER_NAME_RE, "alice\n", False),
    (USER_NAME_RE, "-alice", False),
    (USER_NAME_RE, "root user", False),
    (USER_NAME_RE, "a" * 33, False),
    (UNIT_NAME_RE, "kesl.service", True),
    (UNIT_NAME_RE, "kesl@1.service", True),
    (UNIT_NAME_RE, "kesl.timer", True),
    (UNIT_NAME_RE, "kesl", False),
    (UNIT_NAME_RE, "kesl.service\n", False),
    (UNIT_NAME_RE, "-kesl.service", True),   # passed after "--" only (the planner's argv)
] + [(regex, name, False) for regex in (DPKG_NAME_RE, RPM_NAME_RE, SNAP_NAME_RE, USER_NAME_RE)
     for name in HOSTILE]


@pytest.mark.parametrize("regex, name, expected", NAMES)
def test_name_patterns(regex, name, expected):
    seen = regex.match(name) is not None
    assert seen is expected, "%s.match(%r): expected %r, seen %r" % (regex.pattern, name, expected, seen)
