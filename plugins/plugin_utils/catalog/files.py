# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: read the catalog's YAML files on the controller and build a validated Catalog.

The result is cached per process, keyed on the files' paths and contents (SHA-256) and on the inline
variables, so a play over thousands of hosts parses and validates the catalog once.
"""

import glob
import hashlib
import json
import os

import yaml

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Catalog, CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.exemptions import validate_exemptions

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # pylint: disable=too-many-ancestors
    """Safe loader that rejects duplicate keys and keeps impossible dates as text.

    PyYAML silently keeps the last of two equal keys (an entry with two ``policies:`` would lose one),
    and raises a bare ValueError for ``2023-02-30``; validation reports that date with its entry instead.
    """

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, dummy in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # unhashable key: the base constructor reports it
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found duplicate key %r" % (key,), key_node.start_mark)
        return super(_Loader, self).construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super(_Loader, self).construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILTIN_DIR = os.path.join(COLLECTION_ROOT, "catalog")

_CACHE = {}
_CACHE_MAX = 16


def builtin_files(directory=BUILTIN_DIR):
    """The collection's own catalog files, in a stable order."""
    files = [os.path.join(directory, "catalog.yml"), os.path.join(directory, "policies.yml")]
    files = [f for f in files if os.path.isfile(f)]
    files.extend(sorted(glob.glob(os.path.join(directory, "entries", "*.yml"))))
    return files


def _content(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, IOError) as exc:
        raise CatalogError(path, "cannot read catalog file: %s" % (exc.strerror or exc))


def _parse(path, data):
    try:
        return yaml.load(data, Loader=_Loader)  # nosec - safe loader
    except yaml.YAMLError as exc:
        raise CatalogError(path, "is not valid YAML: %s" % exc)


def load_catalog(extra_files=None, custom_policies=None, custom_entries=None, use_builtin=True):
    """Return a validated Catalog from the built-in files, ``extra_files`` and inline data."""
    if extra_files is None:
        extra_files = []
    if isinstance(extra_files, str):
        extra_files = [extra_files]
    if not isinstance(extra_files, list) or not all(isinstance(f, str) for f in extra_files):
        raise CatalogError("variables", "must be a list of file paths", None, "banned_software_catalog_files")
    files = (builtin_files() if use_builtin else []) + [os.path.abspath(os.path.expanduser(f)) for f in extra_files]
    contents = [(f, _content(f)) for f in files]
    # Keyed on content, not mtime: a file rewritten within the same timestamp tick is still seen.
    identity = tuple((f, hashlib.sha256(data).hexdigest()) for f, data in contents)
    try:
        inline = json.dumps([custom_policies or [], custom_entries or []], sort_keys=True, default=str)
    except (TypeError, ValueError):
        inline = repr([custom_policies or [], custom_entries or []])
    key = (identity, inline)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    documents = [(path, _parse(path, data)) for path, data in contents]
    catalog = Catalog.from_documents(documents, custom_policies=custom_policies, custom_entries=custom_entries)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = catalog
    return catalog


def preload_builtin():
    """Load the built-in catalog into this process's cache; never raises.

    Called when an action module is imported. The linear and free strategies import an action plugin's
    class in the controller's main process (to look up BYPASS_HOST_LOOP) before any worker runs the
    task, and every worker is forked from that process: the parsed and validated catalog (compiled
    regular expressions included) is then inherited by all workers instead of being rebuilt once per
    host (docs/performance.md). A broken catalog is left for the task itself to report.
    """
    try:
        return load_catalog()
    except (CatalogError, OSError, ValueError):
        return None


# Options shared by the actions that read the catalog: the role variables banned_software_policies,
# _disabled_entries, _custom_entries, _custom_policies, _catalog_files and _exemptions, whose single
# description is the roles' meta/argument_specs.yml (tests/unit/test_role_variables.py holds this to it).
SELECTION_SPEC = dict(
    policies=dict(type="list", elements="str", default=["all"]),
    disabled_entries=dict(type="list", elements="str", default=[]),
    custom_entries=dict(type="list", elements="dict", default=[]),
    custom_policies=dict(type="list", elements="dict", default=[]),
    catalog_files=dict(type="list", elements="path", default=[]),
    exemptions=dict(type="list", elements="dict", default=[]),
)


def load_selection(args):
    """Validate catalog, selection and exemptions from action args; return (catalog, entries, exemptions).

    An action without the ``exemptions`` option (export_block_rules: exemptions are per host) gets none.
    """
    catalog = load_catalog(extra_files=args["catalog_files"], custom_policies=args["custom_policies"],
                           custom_entries=args["custom_entries"])
    entries = catalog.select(policies=args["policies"], disabled=args["disabled_entries"])
    exemptions = validate_exemptions(args.get("exemptions", []), set(e.id for e in catalog.entries))
    return catalog, entries, exemptions
