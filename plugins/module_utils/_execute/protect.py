# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the paths remediation must never remove, whatever a catalog entry says.

Used by the planner on the controller and again by the executor on the host (defence in depth); the
packages the planner never removes are in ``plugin_utils/plan/protect.py``.
Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Paths never removed or moved, nor anything above them.
PROTECTED_PATHS = frozenset([
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
    "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/sbin",
    "/usr/share", "/usr/share/applications", "/var/lib", "/var/log", "/var/opt", "/var/tmp", "/etc/opt",
    "/etc/systemd", "/etc/systemd/system", "/lib/systemd", "/lib/systemd/system", "/usr/lib/systemd",
    "/usr/lib/systemd/system", "/var/lib/flatpak", "/var/lib/snapd", "/snap", "/var/cache",
    "/var/lib/flatpak/app", "/var/lib/flatpak/runtime", "/var/lib/flatpak/repo", "/var/lib/flatpak/exports",
    "/var/lib/snapd/snaps", "/snap/bin", "/usr/local/share", "/usr/local/lib", "/etc/init.d", "/etc/xdg",
    "/etc/xdg/autostart", "/var/lib/dpkg", "/var/lib/rpm",
    "/Applications", "/Library", "/System", "/Users", "/private",
])

# Per-user directories that hold more than one product's data.
PROTECTED_HOME_CHILDREN = frozenset([
    "", ".local", ".local/share", ".local/bin", ".config", ".cache", "Documents", "Downloads", "Desktop",
    "Applications", "bin", ".local/share/applications", ".local/share/flatpak", "Library",
    "Library/Application Support", "Library/Containers", "Library/Group Containers", "Library/Preferences",
])

# \Z, not $: '$' also matches before a trailing newline.
USER_NAME_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?\Z")


def normalise_path(path):
    """Return ``path`` without duplicate or trailing slashes, or None when it is not a clean absolute path."""
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        return None
    return "/" + "/".join(parts)


def path_protection(path, homes=()):
    """Return the reason ``path`` must not be removed, or None when it may be.

    ``homes`` are the users' home directories: a home itself, and its shared children (``.local``,
    ``Documents``...), are protected; the product's own subdirectories are not.
    """
    clean = normalise_path(path)
    if clean is None:
        return "not a clean absolute path"
    if clean in PROTECTED_PATHS:
        return "protected system path"
    if clean.count("/") < 2:
        return "top-level path"
    homes = list(homes or ())
    parts = clean.split("/")
    if parts[1] == "home":
        # Every directory directly under /home is treated as a home, listed or not (a user the scan
        # did not select still has one).
        homes.append("/home/" + parts[2])
    for home in homes:
        home_clean = normalise_path(home)
        if home_clean is None:
            continue
        if clean == home_clean:
            return "a home directory"
        if clean.startswith(home_clean + "/"):
            rest = clean[len(home_clean) + 1:]
            if rest in PROTECTED_HOME_CHILDREN:
                return "a shared directory in a home"
        elif home_clean.startswith(clean + "/"):
            return "contains a home directory"
    for protected in PROTECTED_PATHS:
        if protected != "/" and protected.startswith(clean + "/"):
            return "contains a protected system path"
    return None
