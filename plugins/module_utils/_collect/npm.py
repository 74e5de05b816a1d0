# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Globally installed npm packages (source ``npm``), read from the file system only.

``npm install -g <package>`` unpacks the package into the ``node_modules`` folder of npm's global
prefix; its ``package.json`` names it. Nothing here runs npm or node: the listed folders are read
through ``RootFS`` (links followed inside root only, bounded listings and reads).

Folders examined (the package folder is ``<node_modules>/<name>`` or ``<node_modules>/@scope/<name>``):

* machine-wide (Linux, macOS): ``/usr/lib/node_modules`` (distribution nodejs), ``/usr/local/lib/node_modules``
  (node.org installers, Homebrew on Intel), ``/opt/homebrew/lib/node_modules`` (Homebrew on Apple silicon);
* per user: ``~/.npm-global/lib/node_modules``, ``~/.npm-packages/lib/node_modules`` and
  ``~/.local/lib/node_modules`` (the usual user prefixes), and every ``~/.nvm/versions/node/<version>/lib/node_modules``
  (nvm);
* Windows (from the Windows collectors): ``%AppData%\\npm\\node_modules`` per user and
  ``%ProgramFiles%\\nodejs\\node_modules`` (the folder npm itself is installed in).

Record: ``name`` (the package name as the folder names it, ``@scope/name``: what ``npm uninstall -g``
takes), ``version`` and ``package_name`` (from ``package.json`` when it names the package otherwise; a
folder whose name is no valid npm name but whose ``package.json`` names a wanted package is recorded under
that name, with ``folder_name``),
``path`` (the package folder), ``prefix`` (the ``node_modules`` folder), ``scope``, ``link: true`` for a
package folder that is a symbolic link (``npm link``). Only packages whose folder name or ``package.json``
name passes the query are read and recorded. A ``package.json`` larger than ``MAX_PACKAGE_JSON`` or not
valid JSON is a warning; the package is still recorded by its folder name (never silently dropped).

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text, vjoin

MACHINE_DIRS = ("/usr/lib/node_modules", "/usr/local/lib/node_modules", "/opt/homebrew/lib/node_modules")
USER_DIRS = (".npm-global/lib/node_modules", ".npm-packages/lib/node_modules", ".local/lib/node_modules")
NVM_VERSIONS = ".nvm/versions/node"
WINDOWS_USER_DIR = "npm\\node_modules"                    # under %AppData%
WINDOWS_MACHINE_DIR = "nodejs\\node_modules"              # under %ProgramFiles%
MAX_PACKAGE_JSON = 512 * 1024
MAX_NVM_VERSIONS = 200
MAX_TEXT = 4096
# npm's own rule for package names (lower case, URL-safe, at most 214 characters, optional @scope/).
NAME_RE = re.compile(r"^(@[a-z0-9][a-z0-9._~-]{0,213}/)?[a-z0-9][a-z0-9._~-]{0,213}\Z")


def read_package_json(fs, vpath, shown):
    """``(name, version)`` from the ``package.json`` at ``vpath``; (None, None) when absent or unusable."""
    data, truncated = fs.read_bytes(vpath, MAX_PACKAGE_JSON, what="npm package")
    if data is None:
        return None, None
    if truncated:
        fs.warnings.append("npm: %s is larger than %d bytes: not read (the package is recorded by its folder name)"
                           % (quote(shown), MAX_PACKAGE_JSON))
        return None, None
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        fs.warnings.append("npm: %s is not valid JSON (the package is recorded by its folder name)" % quote(shown))
        return None, None
    if not isinstance(doc, dict):
        return None, None
    name = doc.get("name") if isinstance(doc.get("name"), str) and len(doc["name"]) <= MAX_TEXT else None
    version = doc.get("version") if isinstance(doc.get("version"), str) and len(doc["version"]) <= 256 else None
    return name, version


def _package_folders(fs, vdir):
    """``[(name, vpath, kind)]`` of the package folders in the ``node_modules`` folder ``vdir``."""
    out = []
    for name, kind in fs.listdir(vdir, what="npm global packages"):
        if name.startswith(".") or kind not in ("dir", "link"):
            continue
        if name.startswith("@"):
            for sub, subkind in fs.listdir(vjoin(vdir, name), what="npm global packages"):
                if not sub.startswith(".") and subkind in ("dir", "link"):
                    out.append(("%s/%s" % (name, sub), vjoin(vdir, name, sub), subkind))
            continue
        out.append((name, vjoin(vdir, name), kind))
    return out


def node_modules_records(fs, query, vdir, shown_dir, scope, records, sep="/"):
    """Append the records of one ``node_modules`` folder; return the number of packages examined.

    ``shown_dir`` is ``vdir`` as the host sees it (a Windows path with ``sep="\\\\"`` for Windows images).
    """
    examined = 0
    for folder_name, vpath, kind in _package_folders(fs, vdir):
        if kind == "link" and not fs.isdir(vpath):
            continue   # a dangling link, or one that leaves the tree
        examined += 1
        name = safe_text(folder_name)
        shown = shown_dir.rstrip(sep) + sep + name.replace("/", sep)
        # The folder name decides for real installs. A folder whose name is not a valid npm name (copied or
        # renamed by hand) is recorded when its package.json names a wanted package; other package.json
        # files are not opened (a large prefix would cost time for nothing).
        pkg_name, version = None, None
        by_folder = query.match(name)
        if by_folder or not NAME_RE.match(folder_name):
            pkg_name, version = read_package_json(fs, vjoin(vpath, "package.json"), shown + sep + "package.json")
        by_manifest = isinstance(pkg_name, str) and not by_folder and query.match(pkg_name)
        if not (by_folder or by_manifest):
            continue
        rec = {"name": safe_text(pkg_name) if by_manifest else name, "scope": scope, "path": shown,
               "prefix": shown_dir}
        if version:
            rec["version"] = version
        if by_manifest:
            rec["folder_name"] = name
        elif isinstance(pkg_name, str) and pkg_name != name:
            rec["package_name"] = safe_text(pkg_name)
        if kind == "link":
            rec["link"] = True
        if not NAME_RE.match(rec["name"]):
            rec["nonstandard_name"] = True
        records.append(rec)
    return examined


def list_npm(fs, query, users):
    """Return ``(available, records, examined)`` for Linux and macOS trees (see the module docstring)."""
    records = []
    examined = 0
    available = False
    for vdir in MACHINE_DIRS:
        if fs.isdir(vdir):
            available = True
            examined += node_modules_records(fs, query, vdir, vdir, "machine", records)
    for user in users:
        scope = "user:" + user["name"]
        dirs = [(vjoin(user["vhome"], rel), vjoin(user["rhome"], rel)) for rel in USER_DIRS]
        nvm = vjoin(user["vhome"], NVM_VERSIONS)
        versions = [n for n, kind in fs.listdir(nvm, what="nvm node versions") if kind in ("dir", "link")]
        if len(versions) > MAX_NVM_VERSIONS:
            fs.warnings.append("npm: %s has more than %d node versions: only the first %d were examined"
                               % (quote(vjoin(user["rhome"], NVM_VERSIONS)), MAX_NVM_VERSIONS, MAX_NVM_VERSIONS))
        for version in versions[:MAX_NVM_VERSIONS]:
            rel = "%s/%s/lib/node_modules" % (NVM_VERSIONS, version)
            dirs.append((vjoin(user["vhome"], rel), vjoin(user["rhome"], rel)))
        for vdir, shown in dirs:
            if fs.isdir(vdir):
                available = True
                examined += node_modules_records(fs, query, vdir, safe_text(shown), scope, records)
    return available, records, examined
