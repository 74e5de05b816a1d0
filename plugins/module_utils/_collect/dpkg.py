# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dpkg packages, read straight from ``<root>/var/lib/dpkg/status``.

No python3-apt and no dpkg-query: the tree may be an image and minimal hosts lack python3-apt.
A package is reported when the third word of its ``Status`` field (the package state) is one of
``installed``, ``half-installed``, ``unpacked``, ``half-configured``, ``triggers-awaited`` or
``triggers-pending`` (files are on disk); ``config-files`` and ``not-installed`` are skipped.
Multi-arch packages appear once per architecture. Pending updates in ``/var/lib/dpkg/updates`` are
not merged (dpkg merges them on its next run).

Ownership (``dpkg_owners``): which of a few packages own which of a few paths, from
``/var/lib/dpkg/info/<name>.list`` and ``<name>:<arch>.list`` of those packages only (regular files,
never links, at most ``MAX_LIST_BYTES`` each). Package and architecture names must be valid Debian
names before they become file names. On a usr-merged tree ``/lib/x`` and ``/usr/lib/x`` (likewise
bin, sbin, lib32, lib64, libx32) are the same path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote

STATUS = "/var/lib/dpkg/status"
MAX_STATUS_BYTES = 512 * 1024 * 1024
PRESENT_STATES = frozenset(("installed", "half-installed", "unpacked", "half-configured",
                            "triggers-awaited", "triggers-pending"))
ABSENT_STATES = frozenset(("config-files", "not-installed"))

# Both linear: the separator's blank run is tried once per newline, and a field's value is everything up
# to the end of its line (blanks around it are stripped afterwards), with nothing after it to backtrack
# into. (A lazy value followed by "[ \t]*$" was quadratic in the length of a line full of blanks.)
_STANZA_SEP = re.compile(r"\n[ \t]*\n")
_FIELD = re.compile(r"^(Package|Status|Version|Architecture):([^\n]*)$", re.M)


def parse_status(text, query, warnings, path=STATUS, check=None):
    """Return ``(records, examined)`` for the status file contents ``text`` (str).

    ``query`` is a ``SourceQuery`` (or anything with ``match(name)``); ``examined`` counts the
    packages in a present state, passing the query or not. A malformed stanza is counted and skipped,
    never a reason to lose the next one. ``check`` (the source's budget) is called for every stanza.
    """
    records = []
    examined = 0
    malformed = 0
    stanzas = _STANZA_SEP.split(text)
    for stanza in stanzas:
        if check is not None:
            check()
        if not stanza.strip():
            continue
        fields = {}
        for key, value in _FIELD.findall(stanza):
            fields.setdefault(key, value.strip(" \t"))
        name = fields.get("Package")
        status = fields.get("Status", "").split()
        if not name or len(status) != 3:
            malformed += 1
            continue
        state = status[2]
        if state in ABSENT_STATES:
            continue
        if state not in PRESENT_STATES:
            malformed += 1
            continue
        examined += 1
        if not query.match(name):
            continue
        rec = {"name": name, "scope": "machine", "path": path, "state": state}
        if fields.get("Version"):
            rec["version"] = fields["Version"]
        if fields.get("Architecture"):
            rec["arch"] = fields["Architecture"]
        records.append(rec)
    if malformed:
        warnings.append("%s: %d malformed or truncated stanza(s) ignored" % (quote(path), malformed))
    return records, examined


def list_dpkg(fs, query):
    """Return ``(available, records, examined)``; problems go to ``fs.warnings``."""
    if fs.lstat(STATUS) is None:
        return False, [], 0
    data, truncated = fs.read_bytes(STATUS, MAX_STATUS_BYTES, what="dpkg packages not examined")
    if data is None:
        return False, [], 0
    if truncated:
        fs.warnings.append("%s is larger than %d bytes: only the start was read"
                           % (STATUS, MAX_STATUS_BYTES))
    if data and not data.endswith(b"\n"):
        fs.warnings.append("%s does not end with a newline: its last stanza may be truncated" % STATUS)
    # Non-UTF-8 bytes become \xNN escapes; they can only be in values, never in field names.
    text = data.decode("utf-8", "backslashreplace")
    records, examined = parse_status(text, query, fs.warnings, check=fs.tick)
    return True, records, examined


# -- ownership ---------------------------------------------------------------------------------
INFO_DIR = "/var/lib/dpkg/info"
MAX_LIST_BYTES = 16 * 1024 * 1024
# Debian policy 5.6.1 (package names) and dpkg architecture names: anything else never becomes a
# file name (a hostile status file could otherwise point the reader at ../../etc/shadow).
_PKG_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")
_ARCH = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# usr-merge: /bin, /sbin and /lib* may be links to their /usr counterparts, and a package's .list
# names the path as the package shipped it, which may be either form.
MERGED_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def merged_aliases(fs):
    """``[("/lib/", "/usr/lib/"), ...]`` for the top-level directories that are links into /usr."""
    aliases = []
    for d in MERGED_DIRS:
        st = fs.lstat("/" + d)
        if st is None or not stat.S_ISLNK(st.st_mode):
            continue
        if fs.try_resolve("/" + d) == "/usr/" + d:
            aliases.append(("/" + d + "/", "/usr/" + d + "/"))
    return aliases


def canonical(path, aliases):
    """``path`` with a usr-merged prefix replaced by its /usr form."""
    for short, full in aliases:
        if path.startswith(short):
            return full + path[len(short):]
    return path


def list_files_of(fs, name, arch=None):
    """Candidate ``.list`` files of package ``name`` (``<name>.list``, ``<name>:<arch>.list``)."""
    if not isinstance(name, str) or not _PKG_NAME.match(name):
        return []
    out = ["%s/%s.list" % (INFO_DIR, name)]
    if isinstance(arch, str) and _ARCH.match(arch):
        out.append("%s/%s:%s.list" % (INFO_DIR, name, arch))
    return out


def read_list(fs, vpath):
    """Lines of the ``.list`` file ``vpath`` (decoded like record paths), or None.

    The file must be a regular file, not a link (dpkg never writes links there); at most
    ``MAX_LIST_BYTES`` are read, and a truncated file loses its incomplete last line.
    """
    st = fs.lstat(vpath)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        fs.warnings.append("%s is not a regular file: not read (package ownership unknown)" % quote(vpath))
        return None
    data, truncated = fs.read_bytes(vpath, MAX_LIST_BYTES, what="package ownership unknown")
    if data is None:
        return None
    if truncated:
        fs.warnings.append("%s is larger than %d bytes: only the start was read (package ownership "
                           "may be incomplete)" % (quote(vpath), MAX_LIST_BYTES))
        data = data[:data.rfind(b"\n") + 1]
    return data.decode("utf-8", "backslashreplace").split("\n")


class _Owners(object):
    """The owners found for ``paths``, matched against .list lines as dpkg writes them (merged-/usr aliases
    of a path and of a line are compared in their canonical form)."""

    def __init__(self, fs, paths):
        self.aliases = merged_aliases(fs)
        self.wanted = {}
        for p in paths:
            self.wanted.setdefault(canonical(p, self.aliases), set()).add(p)
        self.prefixes = tuple(a[0] for a in self.aliases)
        self.owners = {}

    def add(self, name, lines):
        """Record package ``name`` as an owner of every asked path among its list ``lines``."""
        for line in lines or ():
            if self.prefixes and line.startswith(self.prefixes):
                line = canonical(line, self.aliases)
            for p in self.wanted.get(line, ()):
                self.owners.setdefault(p, set()).add(name)

    def result(self):
        return dict((p, sorted(n)) for p, n in self.owners.items())


def dpkg_owners(fs, packages, paths):
    """Map each of ``paths`` (virtual paths) to the sorted names of the ``packages`` owning it.

    ``packages`` are dpkg records (``name``, ``arch``), normally those that passed the pre-filter:
    only their ``.list`` files are read. Paths owned by none of them are absent from the result.
    """
    if not packages or not paths:
        return {}
    found = _Owners(fs, paths)
    done = set()
    for pkg in packages:
        name = pkg.get("name")
        for vpath in list_files_of(fs, name, pkg.get("arch")):
            if vpath in done:
                continue
            done.add(vpath)
            found.add(name, read_list(fs, vpath))
    return found.result()


def dpkg_other_owners(fs, paths, limit=100000):
    """Map each of ``paths`` to the packages owning it, reading every ``.list`` file.

    Used only for the few paths no banned package owns, so that remediation never moves a file that
    another (not banned) package owns. Stops as soon as every path has an owner.
    """
    if not paths:
        return {}
    found = _Owners(fs, paths)
    for fname, kind in fs.listdir(INFO_DIR, limit=limit, what="package ownership unknown"):
        if kind != "file" or not fname.endswith(".list"):
            continue
        name = fname[:-5].split(":", 1)[0]
        if not _PKG_NAME.match(name):
            continue
        found.add(name, read_list(fs, "%s/%s" % (INFO_DIR, fname)))
        if len(found.owners) == len(paths):
            break
    return found.result()
