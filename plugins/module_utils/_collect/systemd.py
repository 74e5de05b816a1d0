# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Services: systemd unit files and SysV init scripts, read from the file system.

systemd (``type: systemd``): unit files in ``/etc/systemd/system``, ``/run/systemd/system`` (live
host only), ``/usr/local/lib/systemd/system``, ``/usr/lib/systemd/system`` and
``/lib/systemd/system`` (directories that resolve to the same place are read once). A unit found in
several directories is reported once, with the ``path`` of the directory systemd prefers (that
order). ``enabled`` is True when a link to the unit (or, for a template instance ``a@b.service``, to
it) is in a ``*.wants``/``*.requires``/``*.upholds`` directory of ``/etc/systemd/system``. A unit
file that is a link to ``/dev/null`` is ``masked``.

SysV (``type: sysv``): scripts in ``/etc/init.d``; ``name`` is the script name (no ``.service``
suffix, as found on the host); ``enabled`` is True when ``/etc/rc[2-5].d/S??<name>`` exists.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import safe_text, vjoin

UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")
LIVE_ONLY = ("/run/systemd/system",)
ETC = "/etc/systemd/system"
UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".mount", ".automount", ".swap",
                 ".target", ".device", ".scope", ".slice")
WANTS_SUFFIXES = (".wants", ".requires", ".upholds")
INITD = "/etc/init.d"
SYSV_SKIP = frozenset(("README", "skeleton", "functions", "rc", "rcS", "halt", "reboot", "single"))
_RC_LINK = re.compile(r"^S[0-9]{2}(.+)$")


def _enabled_units(fs):
    enabled = set()
    for name, kind in fs.listdir(ETC, what="systemd enablement"):
        if kind not in ("dir", "link") or not name.endswith(WANTS_SUFFIXES):
            continue
        for unit, _ukind in fs.listdir(vjoin(ETC, name), limit=2000):
            enabled.add(unit)
            enabled.add(_template(unit))
    return enabled


def _template(unit):
    """``foo@bar.service`` -> ``foo@.service``."""
    if "@" in unit and "." in unit:
        return unit.split("@", 1)[0] + "@." + unit.rsplit(".", 1)[1]
    return unit


def list_systemd(fs, query):
    """Return ``(available, records, examined)`` for systemd unit files."""
    seen_dirs = []
    units = {}  # name -> (vdir, kind)
    for d in UNIT_DIRS:
        if d in LIVE_ONLY and not fs.live:
            continue
        rdir = fs.try_resolve(d, what="systemd units")
        if rdir is None or rdir in seen_dirs or not fs.isdir(rdir):
            continue
        seen_dirs.append(rdir)
        for name, kind in fs.listdir(rdir, what="systemd units"):
            if kind == "dir" or not name.endswith(UNIT_SUFFIXES):
                continue
            units.setdefault(name, (d, kind))
    available = bool(seen_dirs)
    records = []
    enabled = None
    for name in sorted(units):
        text = safe_text(name)
        if not query.match(text):
            continue
        d, kind = units[name]
        if enabled is None:
            enabled = _enabled_units(fs)
        rec = {"name": text, "scope": "machine", "type": "systemd", "path": safe_text(vjoin(d, name)),
               "enabled": name in enabled}
        if kind == "link":
            target = fs.readlink(vjoin(d, name))
            if target == "/dev/null":
                rec["masked"] = True
                rec["enabled"] = False
        records.append(rec)
    return available, records, len(units)


def list_sysv(fs, query):
    """Return ``(available, records, examined)`` for /etc/init.d scripts."""
    if not fs.isdir(INITD):
        return False, [], 0
    names = [n for n, k in fs.listdir(INITD, what="SysV init scripts")
             if k in ("file", "link") and n not in SYSV_SKIP and not n.startswith(".")
             and not n.endswith((".dpkg-old", ".dpkg-dist", ".rpmsave", ".rpmnew", "~"))]
    records = []
    started = None
    for name in names:
        text = safe_text(name)
        if not query.match(text):
            continue
        if started is None:
            started = set()
            for level in ("2", "3", "4", "5"):
                for link, dummy in fs.listdir("/etc/rc%s.d" % level, limit=2000):
                    m = _RC_LINK.match(link)
                    if m:
                        started.add(m.group(1))
        records.append({"name": text, "scope": "machine", "type": "sysv",
                        "path": safe_text(vjoin(INITD, name)), "enabled": name in started})
    return True, records, len(names)
