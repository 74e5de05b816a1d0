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

Ownership (``rpm_owners``): one more command per database that yielded records::

    rpm --root ROOT --dbpath DBPATH -qf --qf '[%{FILENAMES}\\t%{=NAME}\\n]' -- PATH...

and only owners among those records' names count.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.dpkg import canonical
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text

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


# -- ownership ---------------------------------------------------------------------------------
# rpm -qf prints one header per owning package and nothing that says which argument it answered,
# so a path owned by two packages would shift every later answer. Printing each owning package's
# file list next to its name makes the answer self-describing: a path is owned by NAME when the
# line "PATH<TAB>NAME" is in the output.
OWNER_FORMAT = "[%{FILENAMES}\\t%{=NAME}\\n]"
_NOT_OWNED = " is not owned by any package"


def owner_argv(rpm_bin, root, dbpath, paths):
    return [rpm_bin, "--root", root, "--dbpath", dbpath, "-qf", "--qf", OWNER_FORMAT, "--"] + list(paths)


def parse_owners(out, paths, names, aliases=()):
    """Map each of ``paths`` to the sorted packages owning it (only ``names`` unless it is None)."""
    wanted = {}
    for p in paths:
        wanted.setdefault(canonical(p, aliases), set()).add(p)
    owners = {}
    for line in out.split("\n"):
        if "\t" not in line or line.endswith(_NOT_OWNED):
            continue
        path, name = line.rsplit("\t", 1)
        name = safe_text(name)
        if names is not None and name not in names:
            continue
        for p in wanted.get(canonical(safe_text(path), aliases), ()):
            owners.setdefault(p, set()).add(name)
    return dict((p, sorted(n)) for p, n in owners.items())


def rpm_owners(fs, run_command, packages, paths, rpm_bin=None, aliases=()):
    """Map each of ``paths`` to the names of the rpm packages owning it (banned or not).

    One ``rpm -qf`` per database the ``packages`` (matched records) came from, or per database found
    under root when none matched; failures become warnings and leave the paths without an owner.
    """
    if not paths:
        return {}
    if rpm_bin is None:
        rpm_bin = find_rpm_binary()
    if rpm_bin is None:
        return {}
    by_db = {}
    for pkg in packages or ():
        if isinstance(pkg.get("path"), str) and isinstance(pkg.get("name"), str):
            by_db.setdefault(pkg["path"], set()).add(pkg["name"])
    if not by_db:   # no banned package matched: ask every database (a benign package may own the path)
        for dbpath in find_databases(fs):
            by_db[dbpath] = set()
    owners = {}
    for dbpath in sorted(by_db):
        argv = owner_argv(rpm_bin, fs.root, dbpath, paths)
        try:
            rc, out, err = run_command(argv, environ_update=dict(ENV), expand_user_and_vars=False)
        except Exception as exc:  # the runner itself failed
            fs.warnings.append("rpm ownership query of %s failed: %s" % (quote(dbpath), quote(str(exc))))
            continue
        if isinstance(out, bytes):
            out = out.decode("utf-8", "surrogateescape")
        if isinstance(err, bytes):
            err = err.decode("utf-8", "surrogateescape")
        # rc is the number of paths rpm could not answer (not owned, vanished): not an error.
        problems = [line for line in (err or "").splitlines()
                    if line.strip() and _NOT_OWNED not in line and "No such file or directory" not in line]
        if rc != 0 and problems:
            fs.warnings.append("rpm ownership query of %s failed (rc=%s): %s: package ownership unknown"
                               % (quote(dbpath), rc, quote(problems[0][:300])))
        for path, names in parse_owners(out or "", paths, None, aliases).items():
            owners.setdefault(path, set()).update(names)
    return dict((p, sorted(n)) for p, n in owners.items())
