# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the packages remediation never removes, and the names the planner lets reach an argv.

The paths it never removes are checked on both sides: ``module_utils/_execute/protect.py`` (the executor
checks them again on the host).
"""

import fnmatch
import re

# Packages no catalog entry may remove: the C library, init, package managers, kernels, privilege
# and remote-access tools, interpreters Ansible needs, and the base system.
PROTECTED_PACKAGES = (
    "apt", "apt-utils", "base-files", "base-passwd", "bash", "coreutils", "dash", "debianutils",
    "diffutils", "dpkg", "e2fsprogs", "findutils", "grep", "gzip", "hostname", "init", "init-system-helpers",
    "libc6", "libc-bin", "libc6-*", "libpam*", "libselinux*", "libsystemd*", "login", "mount", "ncurses-base",
    "passwd", "perl-base", "sed", "sysvinit-utils", "tar", "tzdata", "util-linux", "zlib1g",
    "linux-image-*", "linux-headers-*", "linux-modules-*", "linux-base", "linux-firmware",
    "firmware-*", "grub*", "shim*", "efibootmgr", "dracut*", "initramfs-tools*",
    "systemd", "systemd-*", "udev", "dbus", "dbus-*", "polkit*", "selinux-policy*", "apparmor",
    "sudo", "openssh-server", "openssh-client", "openssh-sftp-server", "openssh", "openssh-clients",
    "python3", "python3-minimal", "python3.*", "libpython3*", "python3-libs", "platform-python*",
    "glibc", "glibc-*", "kernel", "kernel-*", "rpm", "rpm-*", "dnf", "dnf-*", "python3-dnf*", "yum", "yum-*",
    "zypper", "libzypp", "libsolv*", "setup", "filesystem", "basesystem", "shadow-utils", "pam", "bzip2",
    "ca-certificates", "openssl", "libssl*", "flatpak", "snapd", "network-manager", "NetworkManager*",
    "iproute2", "iproute", "procps", "procps-ng", "ansible", "ansible-core",
)

# \Z, not $: '$' also matches before a trailing newline ("kesl\n" is not a package name).
DPKG_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,127}\Z")
RPM_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}\Z")
FLATPAK_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+){2,}\Z")
SNAP_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}(_[a-z0-9]{1,10})?\Z")
UNIT_NAME_RE = re.compile(r"^[A-Za-z0-9:_.@-]{1,255}\.(service|socket|timer|path)\Z")


def is_protected_package(name, extra=()):
    """True when ``name`` matches a built-in or ``extra`` protected pattern (fnmatch, case-sensitive)."""
    for pattern in tuple(PROTECTED_PACKAGES) + tuple(extra or ()):
        if fnmatch.fnmatchcase(name, pattern):
            return True
    return False
