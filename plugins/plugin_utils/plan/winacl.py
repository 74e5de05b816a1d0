# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: who can replace a program before SYSTEM runs it (pure; decides on the collector's ACL facts).

``win_collect`` reports, for every program an uninstall entry names, the owner and the access control
entries of the program file and of each folder above it (``program_acls``, docs/windows.md). An
uninstaller is run with SYSTEM rights only when no account other than SYSTEM, Administrators and
TrustedInstaller can write to it or to any folder from it up to its trusted root (``Program Files``,
``%SystemRoot%\\Installer``): a user who can write there can swap the program, or plant a DLL next to it,
and SYSTEM would run their code. A lexical "is under Program Files" test is not enough: per-user updaters
often leave their folder writable by Users.
"""

import ntpath

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.wincmd import (
    normalise_windows_path, path_within, trusted_roots,
)

SYSTEM = "S-1-5-18"
ADMINISTRATORS = "S-1-5-32-544"
TRUSTED_INSTALLER = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
# May own and write to a folder SYSTEM runs programs from.
TRUSTED_SIDS = frozenset([SYSTEM, ADMINISTRATORS, TRUSTED_INSTALLER])
# Placeholders that grant nothing on the object itself (they are replaced in inherited ACEs).
PLACEHOLDER_SIDS = frozenset(["S-1-3-0", "S-1-3-1", "S-1-3-4"])   # CREATOR OWNER, CREATOR GROUP, OWNER RIGHTS
# Rights that let an account change what runs: write data / add file, append data / add subdirectory,
# delete child, delete, write DAC, write owner, generic all, generic write.
WRITE_RIGHTS = {
    0x00000002: "write data / add file",
    0x00000004: "append data / add subfolder",
    0x00000040: "delete child",
    0x00010000: "delete",
    0x00040000: "change permissions",
    0x00080000: "take ownership",
    0x10000000: "generic all",
    0x40000000: "generic write",
}
KNOWN_SIDS = {
    "S-1-1-0": "Everyone",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-32-545": "Users",
    "S-1-5-4": "INTERACTIVE",
    "S-1-5-32-546": "Guests",
}
MAX_CHAIN = 64
# The fields of win_collect's program_acls that are read here (a test checks the collector writes them).
REPORT_FIELDS = ("program", "chain", "error")
NODE_FIELDS = ("path", "exists", "directory", "reparse", "owner", "aces", "error")
ACE_FIELDS = ("sid", "allow", "rights", "inherit_only")


def _sid_text(sid):
    return "%s (%s)" % (sid, KNOWN_SIDS[sid]) if sid in KNOWN_SIDS else sid


def _rights_text(mask):
    return ", ".join(name for bit, name in sorted(WRITE_RIGHTS.items()) if mask & bit)


def acl_index(program_acls):
    """``{normalised program path (casefolded): report}`` of the collector's ``program_acls`` list."""
    index = {}
    for item in program_acls if isinstance(program_acls, list) else []:
        if not isinstance(item, dict):
            continue
        program = normalise_windows_path(item.get("program")) if isinstance(item.get("program"), str) else None
        if program is not None:
            index.setdefault(program.casefold(), item)
    return index


def _chain_by_path(report):
    chain = report.get("chain")
    out = {}
    for node in chain[:MAX_CHAIN] if isinstance(chain, list) else []:
        path = normalise_windows_path(node.get("path")) if isinstance(node, dict) and isinstance(
            node.get("path"), str) else None
        if path is not None:
            out.setdefault(path.casefold(), node)
    return out


def _node_problem(node, path, is_program):
    """Why the folder or file ``path`` (its collector facts ``node``) lets a non-administrator in, or None."""
    if node.get("error"):
        return "its permissions could not be read (%s)" % node["error"]
    if node.get("exists") is not True:
        return "it does not exist"
    if node.get("reparse") is not False:
        return "it is a junction or symbolic link"
    if is_program and node.get("directory") is not False:
        return "it is not a file"
    if not is_program and node.get("directory") is not True:
        return "it is not a folder"
    owner = node.get("owner")
    if owner not in TRUSTED_SIDS:
        return "it is owned by %s" % (_sid_text(owner) if isinstance(owner, str) else "an unknown account")
    aces = node.get("aces")
    if not isinstance(aces, list):
        return "its access list was not reported"
    for ace in aces:
        if not isinstance(ace, dict):
            return "its access list is malformed"
        if ace.get("allow") is not True or ace.get("inherit_only") is True:
            continue   # deny entries only take away; inherit-only entries do not apply to it
        sid, rights = ace.get("sid"), ace.get("rights")
        if not isinstance(sid, str) or isinstance(rights, bool) or not isinstance(rights, int):
            return "its access list is malformed"
        if sid in TRUSTED_SIDS or sid in PLACEHOLDER_SIDS:
            continue
        written = (rights & 0xFFFFFFFF) & sum(WRITE_RIGHTS)   # masks may come as signed 32-bit numbers
        if written:
            return "%s may %s" % (_sid_text(sid), _rights_text(written))
    return None


def writable_reason(program, env, index):
    """None when only SYSTEM, Administrators and TrustedInstaller can change ``program`` (a normalised
    path) and every folder from it up to its trusted root; else why SYSTEM must not run it."""
    report = index.get(program.casefold())
    if report is None:
        return "the collector did not report who can write to %s" % program
    if report.get("error"):
        return "who can write to %s is unknown: %s" % (program, report["error"])
    dirs, files = trusted_roots(env)
    roots = [d for d in dirs if path_within(program, d) and program.casefold() != d.casefold()]
    if not roots and program.casefold() not in [f.casefold() for f in files]:
        return "%s is not under a trusted root" % program
    root = max(roots, key=len) if roots else ntpath.dirname(program)
    chain = _chain_by_path(report)
    path = program
    while True:
        node = chain.get(path.casefold())
        if node is None:
            return "who can write to %s is unknown (not reported)" % path
        problem = _node_problem(node, path, path == program)
        if problem:
            return "%s: %s, so a non-administrator could change what SYSTEM runs" % (path, problem)
        if path.casefold() == root.casefold():
            return None
        parent = ntpath.dirname(path)
        if parent == path:
            return None
        path = parent
