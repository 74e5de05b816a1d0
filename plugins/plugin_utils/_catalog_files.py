# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: read the catalog's YAML files on the controller and build a validated Catalog.

The result is cached per process, keyed on the files' identity (path, size, mtime) and on the inline
variables, so a play over thousands of hosts reads and validates the catalog once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import yaml

from ansible_collections.govsec.banned_software.plugins.module_utils._catalog import Catalog, CatalogError
from ansible_collections.govsec.banned_software.plugins.module_utils._exemptions import validate_exemptions

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILTIN_DIR = os.path.join(COLLECTION_ROOT, "catalog")

_CACHE = {}
_CACHE_MAX = 16


def builtin_files(directory=BUILTIN_DIR):
    """The collection's own catalog files, in a stable order."""
    files = [os.path.join(directory, "catalog.yml"), os.path.join(directory, "policies.yml")]
    files = [f for f in files if os.path.isfile(f)]
    files.extend(sorted(glob.glob(os.path.join(directory, "entries", "*.yml"))))
    return files


def _identity(path):
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CatalogError(path, "cannot read catalog file: %s" % exc.strerror)
    return (path, st.st_size, st.st_mtime_ns)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return yaml.load(handle, Loader=_Loader)  # nosec - safe loader
    except yaml.YAMLError as exc:
        raise CatalogError(path, "is not valid YAML: %s" % exc)
    except (OSError, IOError) as exc:
        raise CatalogError(path, "cannot read catalog file: %s" % exc)


def load_catalog(extra_files=None, custom_policies=None, custom_entries=None, use_builtin=True):
    """Return a validated Catalog from the built-in files, ``extra_files`` and inline data."""
    if extra_files is None:
        extra_files = []
    if isinstance(extra_files, str):
        extra_files = [extra_files]
    if not isinstance(extra_files, list) or not all(isinstance(f, str) for f in extra_files):
        raise CatalogError("variables", "must be a list of file paths", None, "banned_software_catalog_files")
    files = (builtin_files() if use_builtin else []) + [os.path.abspath(os.path.expanduser(f)) for f in extra_files]
    identity = tuple(_identity(f) for f in files)
    try:
        inline = json.dumps([custom_policies, custom_entries], sort_keys=True, default=str)
    except (TypeError, ValueError):
        inline = repr([custom_policies, custom_entries])
    key = (identity, inline)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    documents = [(path, _read(path)) for path in files]
    catalog = Catalog.from_documents(documents, custom_policies=custom_policies, custom_entries=custom_entries)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = catalog
    return catalog


# Options shared by the actions that read the catalog (scan, catalog): they mirror the role variables
# banned_software_policies, _disabled_entries, _custom_entries, _custom_policies, _catalog_files, _exemptions.
SELECTION_SPEC = dict(
    policies=dict(type="list", elements="str", default=["all"]),
    disabled_entries=dict(type="list", elements="str", default=[]),
    custom_entries=dict(type="list", elements="raw", default=[]),
    custom_policies=dict(type="list", elements="raw", default=[]),
    catalog_files=dict(type="list", elements="path", default=[]),
    exemptions=dict(type="list", elements="raw", default=[]),
)


def load_selection(args):
    """Validate catalog, selection and exemptions from action args; return (catalog, entries, exemptions)."""
    catalog = load_catalog(extra_files=args["catalog_files"], custom_policies=args["custom_policies"],
                           custom_entries=args["custom_entries"])
    entries = catalog.select(policies=args["policies"], disabled=args["disabled_entries"])
    exemptions = validate_exemptions(args["exemptions"], set(e.id for e in catalog.entries))
    return catalog, entries, exemptions
