# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the source names of each collector, without importing the collectors.

The collect module lists them as its choices; a host then imports only the collector it runs (every
imported module is compiled on the host at each call: docs/performance.md). The catalog's sources per
platform (``plugin_utils/catalog/signature.py``) are tested against these.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LINUX_SOURCES = ("dpkg", "rpm", "flatpak", "snap", "appimage", "file", "desktop", "service", "process",
                 "data", "leftover", "npm")
MACOS_SOURCES = ("bundle", "pkg-receipt", "launchd", "cask", "sysext", "process", "file", "data", "leftover",
                 "npm")
# A mounted Windows image (win_collect, on a live Windows host, reads the same sources).
WINDOWS_IMAGE_SOURCES = ("registry", "appx", "service", "process", "file", "data", "leftover", "npm")
# Sources whose query is a list of path patterns instead of names: ``file`` (the catalog's file
# signatures) and remediation's ``data`` and ``leftover`` (docs/design.md, "Catalog additions").
PATH_QUERY_SOURCES = ("file", "data", "leftover")
