# -*- coding: utf-8 -*-
"""Each contract between the collection's parts is defined once; the places that cannot import it agree.

* Sources: the collectors' sources (module_utils/_collect/sources.py) cover the catalog's sources per
  platform; the sources queried by path (``PATH_QUERY_SOURCES``) are the ones ``build_query`` gives paths;
  the collect and win_collect modules offer them as choices.
* Steps: the executor's schema (module_utils/_execute/schema.py) is what the execute module documents.
* Directories on hosts (module_utils/_host_paths.py): the PowerShell modules, the module documentation,
  the role variables and docs/ name the same places.
* The finding key: built by one function (plugin_utils/match/matcher.py).
"""

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import (
    LINUX_SOURCES, MACOS_SOURCES, PATH_QUERY_SOURCES, WINDOWS_IMAGE_SOURCES)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    COMMON_FIELDS, KIND_FIELDS, KINDS, LABEL_FIELDS)
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    ARCHIVE_DIRS, QUARANTINE_DIRS, STATE_DIRS, WINDOWS_FACT)
from ansible_collections.govsec.banned_software.plugins.modules import collect as collect_module
from ansible_collections.govsec.banned_software.plugins.modules import execute as execute_module
from ansible_collections.govsec.banned_software.plugins.modules import remediate as remediate_module
from ansible_collections.govsec.banned_software.plugins.modules import win_collect as win_collect_module
from ansible_collections.govsec.banned_software.plugins.modules import win_execute as win_execute_module
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.signature import (
    SOURCE_FIELDS, expand_sources)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher, finding_key
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import QUARANTINE_SOURCES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTOR_SOURCES = {"linux": LINUX_SOURCES, "macos": MACOS_SOURCES, "windows": WINDOWS_IMAGE_SOURCES}


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def options(module):
    return yaml.safe_load(module.DOCUMENTATION)["options"]


# -- sources ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", sorted(SOURCE_FIELDS))
def test_the_collector_reads_every_source_the_catalog_can_name(platform):
    catalog_sources = set(s for key in SOURCE_FIELDS[platform] for s in expand_sources(platform, key))
    assert sorted(catalog_sources - set(COLLECTOR_SOURCES[platform])) == []
    assert set(PATH_QUERY_SOURCES) <= set(COLLECTOR_SOURCES[platform])


def test_the_query_gives_paths_exactly_for_the_path_sources():
    catalog = load_catalog()
    query = build_query(catalog.entries, list(COLLECTOR_SOURCES))
    for platform, per_source in query.items():
        for source, wanted in per_source.items():
            keys = set(wanted) - {"casefold"}  # Windows names compare case-insensitively
            if source in PATH_QUERY_SOURCES:
                assert keys == {"paths"}, (platform, source)
            else:
                assert "paths" not in keys and keys & {"names", "regex"}, (platform, source)
    assert any("file" in query[p] for p in query) and any("data" in query[p] for p in query)


def test_the_modules_offer_the_collectors_sources():
    linux_and_macos = list(LINUX_SOURCES) + [s for s in MACOS_SOURCES if s not in LINUX_SOURCES]
    assert options(collect_module)["sources"]["choices"] == linux_and_macos
    assert options(win_collect_module)["sources"]["choices"] == list(WINDOWS_IMAGE_SOURCES)


def test_the_planner_quarantines_collector_sources():
    assert set(QUARANTINE_SOURCES) <= set(LINUX_SOURCES) | set(MACOS_SOURCES)


# -- steps --------------------------------------------------------------------------------------------

def test_the_execute_module_documents_every_step_field():
    assert tuple(KIND_FIELDS) == KINDS
    steps = options(execute_module)["steps"]["description"]
    common = steps[0]
    for field in COMMON_FIELDS + LABEL_FIELDS:
        assert "C(%s)" % field in common, field
    for kind, fields in KIND_FIELDS.items():
        described = [d for d in steps[1:] if d.startswith("V(%s)" % kind)]
        assert len(described) == 1, kind
        missing = [f for f in fields if "C(%s)" % f not in described[0]]
        assert missing == [], "the execute module's documentation of %s lacks %s" % (kind, missing)


# -- directories on hosts -----------------------------------------------------------------------------

def test_host_directories_are_below_the_state_directories():
    for platform, state in STATE_DIRS.items():
        assert QUARANTINE_DIRS[platform].startswith(state) and ARCHIVE_DIRS[platform].startswith(state)
    assert WINDOWS_FACT.startswith(STATE_DIRS["windows"] + "\\")


def powershell_sources():
    pattern = os.path.join(ROOT, "plugins", "**", "*.ps*1")
    return dict((path, read(path)) for path in glob.glob(pattern, recursive=True))


def test_the_windows_modules_use_the_same_directories():
    expanded = {}
    for name in ("quarantine_dir", "archive_dir"):
        documented = options(win_execute_module)[name]["default"]
        spec_line = r"(?m)^\s*%s = @\{[^}]*default = '([^']+)'" % name
        found = set(re.findall(spec_line, read("plugins", "modules", "win_execute.ps1")))
        assert found == {documented}, (name, found, documented)
        expanded[name] = documented.replace("%ProgramData%", "C:\\ProgramData")
    assert expanded == {"quarantine_dir": QUARANTINE_DIRS["windows"], "archive_dir": ARCHIVE_DIRS["windows"]}
    holders = [p for p, text in powershell_sources().items() if WINDOWS_FACT in text]
    assert holders, "no PowerShell file under plugins/ names the local fact %s" % WINDOWS_FACT


def test_the_execute_module_defaults_are_the_linux_directories():
    documented = options(execute_module)
    assert documented["quarantine_dir"]["default"] == QUARANTINE_DIRS["linux"]
    assert documented["archive_dir"]["default"] == ARCHIVE_DIRS["linux"]


def test_documentation_names_the_default_directories():
    remediate = " ".join(options(remediate_module)["quarantine_dir"]["description"]).replace("\\\\", "\\")
    assert QUARANTINE_DIRS["linux"] in remediate and QUARANTINE_DIRS["windows"] in remediate, remediate
    role = yaml.safe_load(read("roles", "remediate", "meta", "argument_specs.yml"))["argument_specs"]["main"]
    described = role["options"]["banned_software_quarantine_dir"]["description"]
    assert QUARANTINE_DIRS["linux"] in described and QUARANTINE_DIRS["windows"] in described, described
    assert QUARANTINE_DIRS["macos"] in read("docs", "macos.md")


# -- the finding key ----------------------------------------------------------------------------------

def test_findings_carry_the_one_finding_key():
    catalog = load_catalog()
    records = {"dpkg": [{"name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status"}],
               "file": [{"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "dir"}]}
    matcher = Matcher(catalog.select(policies=["all"], disabled=[]))
    findings, dummy = matcher.match("linux", {"records": records, "users": []})
    assert findings
    for finding in findings:
        assert finding["key"] == finding_key(finding["source"], finding["scope"], finding["name"], finding["path"])


def test_the_finding_key_is_built_in_one_place():
    joins = []
    for path in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True):
        for node in ast.walk(ast.parse(read(path), path)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
                    and isinstance(node.func.value, ast.Constant) and node.func.value.value == "|"
                    and node.args and isinstance(node.args[0], ast.List)):
                joins.append("%s:%d" % (os.path.relpath(path, ROOT), node.lineno))
    assert joins == ["plugins/plugin_utils/match/matcher.py:%d" % _finding_key_line()], joins


def _finding_key_line():
    tree = ast.parse(read("plugins", "plugin_utils", "match", "matcher.py"))
    function = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "finding_key"][0]
    return function.body[-1].lineno
