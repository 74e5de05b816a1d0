# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the source names of each POSIX collector, without importing the collectors.

The collect module lists them as its choices; a host then imports only the collector it runs (every
imported module is compiled on the host at each call: docs/performance.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LINUX_SOURCES = ("dpkg", "rpm", "flatpak", "snap", "appimage", "file", "desktop", "service", "process",
                 "data", "leftover", "npm")
MACOS_SOURCES = ("bundle", "pkg-receipt", "launchd", "cask", "sysext", "process", "file", "data", "leftover",
                 "npm")
