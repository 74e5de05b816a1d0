# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rpm packages, through the host's ``rpm`` binary, for a live host or a mounted image.

The rpm database location differs between builds of rpm, so it is never left to rpm's default:

* Fedora >= 36 / RHEL >= 10 / openSUSE: ``/usr/lib/sysimage/rpm`` (``/var/lib/rpm`` may link to it);
* RHEL <= 9, older distributions: ``/var/lib/rpm``;
* Debian's rpm package: its default ``%_dbpath`` is ``~/.rpmdb`` (``/root/.rpmdb`` when run as
  root), and ``rpm --root X -qa`` *creates* an empty database under ``X/root/.rpmdb``.

So the collector looks for a database file (``rpmdb.sqlite``, ``Packages`` or ``Packages.db``) in
each of these directories inside root (links resolved inside root, duplicates removed) and runs,
for each database found::

    rpm --root ROOT --dbpath DBPATH -qa --qf FORMAT      (LC_ALL=C, argv list, no shell)

``--dbpath`` is relative to ``--root``. rpm is never run when no database file exists, because
rpm would then write a new empty database into the scanned tree. The runner is injected: a
callable like ``AnsibleModule.run_command`` returning ``(rc, stdout, stderr)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import quote, safe_text

DBPATHS = ("/usr/lib/sysimage/rpm", "/var/lib/rpm", "/root/.rpmdb")
DBFILES = ("rpmdb.sqlite", "Packages", "Packages.db")
QUERY_FORMAT = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n"
ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
BIN_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin")
_NONE = "(none)"


def find_rpm_binary(path_env=None):
    """Path of the ``rpm`` executable on the host running the collector, or None."""
    dirs = (path_env if path_env is not None else os.environ.get("PATH", "")).split(os.pathsep)
    for d in [x for x in dirs if x] + list(BIN_DIRS):
        cand = os.path.join(d, "rpm")
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def find_databases(fs):
    """Resolved virtual paths of the rpm database directories under root (in DBPATHS order)."""
    found = []
    for dbpath in DBPATHS:
        rdir = fs.try_resolve(dbpath, what="rpm database")
        if rdir is None or rdir in found or not fs.isdir(rdir):
            continue
        for name in DBFILES:
            st = fs.lstat(rdir.rstrip("/") + "/" + name)
            if st is not None:
                found.append(rdir)
                break
    return found


def parse_output(out, query, dbpath):
    """Return ``(records, examined, malformed)`` from ``QUERY_FORMAT`` output."""
    records = []
    examined = 0
    malformed = 0
    for line in out.split("\n"):
        if not line:
            continue
        fields = line.split("\t", 5)
        if len(fields) != 6 or not fields[0]:
            malformed += 1
            continue
        name, epoch, version, release, arch, vendor = [safe_text(f) for f in fields]
        examined += 1
        if name == "gpg-pubkey" or not query.match(name):
            continue
        evr = version
        if release and release != _NONE:
            evr = "%s-%s" % (evr, release)
        if epoch and epoch != _NONE:
            evr = "%s:%s" % (epoch, evr)
        rec = {"name": name, "scope": "machine", "path": dbpath}
        if version and version != _NONE:
            rec["version"] = evr
        if arch and arch != _NONE:
            rec["arch"] = arch
        if vendor and vendor != _NONE:
            rec["vendor"] = vendor
        records.append(rec)
    return records, examined, malformed


def rpm_argv(rpm_bin, root, dbpath):
    return [rpm_bin, "--root", root, "--dbpath", dbpath, "-qa", "--qf", QUERY_FORMAT]


def list_rpm(fs, query, run_command, rpm_bin=None):
    """Return ``(available, records, examined)``; problems go to ``fs.warnings``.

    ``available`` is True when at least one database was read.
    """
    dbs = find_databases(fs)
    if not dbs:
        return False, [], 0
    if rpm_bin is None:
        rpm_bin = find_rpm_binary()
    if rpm_bin is None:
        fs.warnings.append("an rpm database exists (%s) but no rpm binary was found on this host: "
                           "rpm packages were not examined" % ", ".join(quote(d) for d in dbs))
        return False, [], 0
    available = False
    records = []
    examined = 0
    for dbpath in dbs:
        argv = rpm_argv(rpm_bin, fs.root, dbpath)
        try:
            rc, out, err = run_command(argv, environ_update=dict(ENV), expand_user_and_vars=False)
        except Exception as exc:  # the runner itself failed (cannot execute, ...)
            fs.warnings.append("rpm query of %s failed: %s" % (quote(dbpath), quote(str(exc))))
            continue
        if isinstance(out, bytes):
            out = out.decode("utf-8", "surrogateescape")
        if rc != 0:
            first = (err or "").strip().splitlines()
            fs.warnings.append("rpm query of %s failed (rc=%s)%s: rpm packages there were not examined"
                               % (quote(dbpath), rc, (": " + quote(first[0][:300])) if first else ""))
            continue
        available = True
        recs, n, malformed = parse_output(out or "", query, dbpath)
        if malformed:
            fs.warnings.append("rpm query of %s: %d unparsable line(s) ignored" % (quote(dbpath), malformed))
        records.extend(recs)
        examined += n
    return available, records, examined
