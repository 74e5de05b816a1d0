# -*- coding: utf-8 -*-
"""Every PowerShell module under plugins/: grammar parse and Ansible.Basic conventions.

No pwsh runs here (docs/testing.md), so the .ps1 and .psm1 files are parsed with tree-sitter-powershell
(pinned in requirements-dev.txt): a parse error fails with the line of the first error node. The
parse tree is then used to check the conventions of docs and style (shared notes):
``#AnsibleRequires -CSharpUtil Ansible.Basic``, ``AnsibleModule::Create`` before any
``Add-Type``, ``supports_check_mode = $true``, ``$module.ExitJson()`` as the last statement, no
shell or string evaluation, and the spec's options equal to the doc stub's DOCUMENTATION options.
win_execute's quarantine, archive and purge are checked to reach files only through the no-follow C#
util (plugins/module_utils/NoFollowTree.cs, whose logic test_no_follow_tree.py runs under mono).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import re

import pytest
import yaml

try:
    import tree_sitter
    import tree_sitter_powershell
except ImportError as exc:  # pragma: no cover - the pins are in requirements-dev.txt
    raise ImportError("tree-sitter and tree-sitter-powershell are needed (pip install -r requirements-dev.txt): %s"
                      % exc)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
PS1_FILES = sorted(
    os.path.relpath(os.path.join(d, f), ROOT)
    for d, _dirs, files in os.walk(PLUGINS) for f in files if f.endswith(".ps1"))
MODULES = [p for p in PS1_FILES if p.startswith(os.path.join("plugins", "modules") + os.sep)]
# PowerShell module utils (.psm1), shipped by Ansible with the modules that '#AnsibleRequires -PowerShell' them.
PSM1_FILES = sorted(
    os.path.relpath(os.path.join(d, f), ROOT)
    for d, _dirs, files in os.walk(PLUGINS) for f in files if f.endswith(".psm1"))

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))

# Commands that evaluate a string or start a shell: never used by a module of this collection.
FORBIDDEN_COMMANDS = {"invoke-expression", "iex", "cmd", "cmd.exe", "powershell", "powershell.exe",
                      "pwsh", "pwsh.exe", "invoke-command"}
# "$name:" not followed by a name character is a parse error in PowerShell ("':' was not followed
# by a valid variable name character") that the tree-sitter grammar accepts; ${name}: is right.
BAD_SCOPED_VARIABLE = re.compile(r"(?<!`)\$[A-Za-z_][A-Za-z0-9_]*:(?![A-Za-z0-9_?{])")
SCOPE_PREFIXES = ("$env:", "$script:", "$global:", "$local:", "$private:", "$using:")


def parse(source):
    return PARSER.parse(source.encode("utf-8") if isinstance(source, str) else source)


def first_error(node):
    """The first ERROR or MISSING node in document order, or None."""
    if node.is_error or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing or child.is_error:
            found = first_error(child)
            if found is not None:
                return found
    return None


def syntax_problem(source):
    """None, or a message naming the line of the first syntax error."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    tree = parse(data)
    if tree.root_node.has_error:
        node = first_error(tree.root_node) or tree.root_node
        line = node.start_point[0] + 1
        text = data.splitlines()[line - 1].decode("utf-8", "replace") if data.splitlines() else ""
        return "line %d, column %d: %s node at %r" % (
            line, node.start_point[1] + 1, "missing" if node.is_missing else "error", text.strip())
    for node in walk(tree.root_node):
        if node.type in ("expandable_string_literal", "expandable_here_string_literal"):
            match = BAD_SCOPED_VARIABLE.search(text_of(data, node))
            if match and not match.group(0).lower().startswith(SCOPE_PREFIXES):
                return "line %d: %r in a string is not a valid variable reference (use ${name}:)" % (
                    node.start_point[0] + 1, match.group(0))
    return None


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def text_of(data, node):
    return data[node.start_byte:node.end_byte].decode("utf-8")


def read(path):
    with open(os.path.join(ROOT, path), "rb") as handle:
        return handle.read()


# --- a small evaluator of PowerShell literals (the module spec) -------------------------------------

def literal(data, node):
    """Python value of a literal PowerShell expression; ('expr', text) for anything else."""
    if node.type == "hash_literal_expression":
        result = {}
        body = [c for c in node.named_children if c.type == "hash_literal_body"]
        for entry in (body[0].named_children if body else []):
            if entry.type != "hash_entry":
                continue
            key = text_of(data, entry.child_by_field_name("key") or entry.named_children[0]).strip("'\"")
            result[key] = literal(data, entry.named_children[-1])
        return result
    if node.type == "array_expression":
        items = []
        for stmts in node.named_children:
            for pipeline in stmts.named_children:
                value = literal(data, pipeline)
                items.extend(value if isinstance(value, list) else [value])
        return items
    if node.type == "cast_expression" and text_of(data, node.named_children[0]).lower() == "[ordered]":
        return literal(data, node.named_children[-1])   # an ordered dictionary: a dict keeps the order
    if node.type == "array_literal_expression" and len(node.named_children) > 1:
        return [literal(data, c) for c in node.named_children]
    if node.type == "string_literal":
        text = text_of(data, node)
        if text[:1] in ("'", '"'):
            return text[1:-1]
        return text
    if node.type == "variable":
        text = text_of(data, node).lower()
        return {"$true": True, "$false": False, "$null": None}.get(text, ("expr", text))
    if node.type == "integer_literal":
        try:
            return int(text_of(data, node))
        except ValueError:
            return ("expr", text_of(data, node))
    if len(node.named_children) == 1:
        return literal(data, node.named_children[0])
    return ("expr", text_of(data, node))


def top_level_statements(tree):
    lists = [c for c in tree.root_node.named_children if c.type == "statement_list"]
    return [s for s in (lists[0].named_children if lists else []) if s.type != "comment"]


def module_spec(data):
    """The ``$spec = @{...}`` hashtable assigned at the top level, as Python data."""
    tree = parse(data)
    for statement in top_level_statements(tree):
        for node in walk(statement):
            if node.type == "assignment_expression":
                target = text_of(data, node.named_children[0]).strip()
                if target.lower() == "$spec":
                    return literal(data, node.named_children[-1])
                break
    return None


def commands(data):
    """(lower-case command name, command node) for every command in the file."""
    tree = parse(data)
    for node in walk(tree.root_node):
        if node.type == "command":
            name = node.child_by_field_name("command_name")
            if name is None:
                names = [c for c in node.named_children if c.type == "command_name"]
                name = names[0] if names else None
            if name is not None:
                yield text_of(data, name).lower(), node


def doc_options(stub_path):
    """The options of the DOCUMENTATION string of a doc stub, read without importing it."""
    tree = ast.parse(read(stub_path).decode("utf-8"))
    docs = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Constant):
            docs[statement.targets[0].id] = statement.value.value
    assert set(docs) >= {"DOCUMENTATION", "EXAMPLES", "RETURN"}, "%s: doc stub lacks %s" % (
        stub_path, {"DOCUMENTATION", "EXAMPLES", "RETURN"} - set(docs))
    return yaml.safe_load(docs["DOCUMENTATION"])["options"] or {}


# --- tests ----------------------------------------------------------------------------------------

def test_there_are_powershell_modules():
    assert MODULES, "expected .ps1 modules under plugins/modules, found none"


def test_there_is_a_powershell_module_util():
    assert PSM1_FILES, "expected a .psm1 module util under plugins/module_utils, found none"


@pytest.mark.parametrize("path", PS1_FILES + PSM1_FILES)
def test_parses_without_error(path):
    problem = syntax_problem(read(path))
    assert problem is None, "%s does not parse as PowerShell: %s" % (path, problem)


@pytest.mark.parametrize("source, line", [
    ("$x = 1\nif ($x {\n  'y'\n}\n", 2),
    ("$module = 1\nfunction f {\n  param($a)\n  $b = @{ a = 1\n}\n", 5),
    ("$a = 1\n$b = \"count $a: $b\"\n", 2),
])
def test_parser_catches_a_syntax_error(source, line):
    problem = syntax_problem(source)
    assert problem is not None, "expected a syntax error in %r, the parser saw none" % source
    assert problem.startswith("line %d" % line), "expected the error on line %d, got %s" % (line, problem)


@pytest.mark.parametrize("path", MODULES)
def test_injected_error_in_a_real_module_is_caught(path):
    data = read(path).decode("utf-8")
    lines = data.split("\n")
    # Drop the closing brace of the spec's options (the first line that is exactly "    }").
    index = lines.index("    }")
    broken = "\n".join(lines[:index] + lines[index + 1:])
    assert syntax_problem(broken) is not None, "removing line %d of %s went unnoticed" % (index + 1, path)


@pytest.mark.parametrize("path", MODULES)
def test_ansible_basic_conventions(path):
    data = read(path)
    text = data.decode("utf-8")
    assert re.search(r"(?im)^#AnsibleRequires -CSharpUtil Ansible\.Basic\s*$", text), \
        "%s: missing '#AnsibleRequires -CSharpUtil Ansible.Basic'" % path
    create = text.find("[Ansible.Basic.AnsibleModule]::Create($args, $spec")
    assert create > 0, "%s: no [Ansible.Basic.AnsibleModule]::Create($args, $spec...)" % path
    for name, node in commands(data):
        if name == "add-type":
            assert node.start_byte > create, "%s line %d: Add-Type before AnsibleModule::Create" % (
                path, node.start_point[0] + 1)
    spec = module_spec(data)
    assert isinstance(spec, dict), "%s: no top-level $spec = @{...}" % path
    assert spec.get("supports_check_mode") is True, "%s: spec lacks supports_check_mode = $true" % path
    statements = top_level_statements(parse(data))
    last = text_of(data, statements[-1]).strip()
    assert last == "$module.ExitJson()", "%s: the last statement is %r, not $module.ExitJson()" % (path, last)


@pytest.mark.parametrize("path", MODULES)
def test_no_shell_and_no_string_evaluation(path):
    data = read(path)
    text = data.decode("utf-8")
    for name, node in commands(data):
        line = node.start_point[0] + 1
        assert name not in FORBIDDEN_COMMANDS, "%s line %d: %s is not allowed" % (path, line, name)
        if name == "start-process":
            elements = [c for c in walk(node) if c.type == "command_parameter"]
            for param in elements:
                if text_of(data, param).lower().startswith("-arg"):
                    value = param.next_named_sibling
                    while value is not None and value.type == "command_argument_sep":
                        value = value.next_named_sibling
                    assert value is not None and len(value.named_children) > 1, \
                        "%s line %d: Start-Process -ArgumentList with a single string" % (path, line)
    for pattern in (r"(?i)\bcmd(\.exe)?['\"]?\s+/c\b", r"(?i)\[scriptblock\]::Create",
                    r"(?i)UseShellExecute\s*=\s*\$true", r"(?i)\.AddScript\("):
        match = re.search(pattern, text)
        assert match is None, "%s line %d: %r is not allowed" % (
            path, text.count("\n", 0, match.start()) + 1, match.group(0))


def _normalise(option):
    """The comparable part of an option, from the spec or from DOCUMENTATION."""
    default = option.get("default")
    if default == {} or default == []:
        default = type(default)()
    return {
        "type": option.get("type", "str"),
        "elements": option.get("elements"),
        "required": bool(option.get("required", False)),
        "default": default,
        "choices": option.get("choices"),
    }


@pytest.mark.parametrize("path", MODULES)
def test_spec_matches_documentation(path):
    stub = path[:-len(".ps1")] + ".py"
    assert os.path.exists(os.path.join(ROOT, stub)), "%s has no doc stub %s" % (path, stub)
    documented = doc_options(stub)
    spec = module_spec(read(path))
    options = spec.get("options") or {}
    assert sorted(options) == sorted(documented), "%s: spec options %s, documented %s" % (
        path, sorted(options), sorted(documented))
    for name in options:
        seen = _normalise(options[name])
        expected = _normalise(documented[name])
        assert seen == expected, "%s option %s: spec %r, documentation %r" % (path, name, seen, expected)


def test_spec_reader_sees_a_mismatch():
    source = (b"#AnsibleRequires -CSharpUtil Ansible.Basic\n$spec = @{\n    options = @{\n"
              b"        a = @{ type = 'list'; elements = 'str'; choices = @('x', 'y') }\n"
              b"        b = @{ type = 'int'; default = 3; required = $true }\n    }\n"
              b"    supports_check_mode = $true\n}\n")
    spec = module_spec(source)
    assert spec == {"options": {"a": {"type": "list", "elements": "str", "choices": ["x", "y"]},
                                "b": {"type": "int", "default": 3, "required": True}},
                    "supports_check_mode": True}
    assert _normalise(spec["options"]["a"]) != _normalise({"type": "list", "elements": "str"})


def test_convention_checks_see_violations():
    source = (b"#AnsibleRequires -CSharpUtil Ansible.Basic\nAdd-Type -TypeDefinition 'x'\n"
              b"iex \"$a\"\n$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)\n")
    names = [name for name, _node in commands(source)]
    assert names == ["add-type", "iex"], "expected Add-Type and iex to be seen as commands, got %r" % names


@pytest.mark.parametrize("path", MODULES)
def test_secret_options_are_no_log(path):
    spec = module_spec(read(path))
    for name, option in (spec.get("options") or {}).items():
        if "secret" in name or "password" in name:
            assert option.get("no_log") is True, "%s option %s must have no_log = $true" % (path, name)


def top_level_value(data, name):
    """The literal assigned to ``$name`` at the top level of a script, as Python data (None if absent)."""
    for statement in top_level_statements(parse(data)):
        for node in walk(statement):
            if node.type == "assignment_expression":
                if text_of(data, node.named_children[0]).strip().lower() == "$" + name.lower():
                    return literal(data, node.named_children[-1])
                break
    return None


def functions(data):
    """(name, function_statement node) of every function a script defines, in order."""
    for node in walk(parse(data).root_node):
        if node.type == "function_statement":
            names = [c for c in node.named_children if c.type == "function_name"]
            if names:
                yield text_of(data, names[0]), node


def function_text(data, name):
    """The source of ``function <name> {...}`` in a script, or None."""
    for found, node in functions(data):
        if found.lower() == name.lower():
            return text_of(data, node)
    return None


def test_win_execute_knows_every_field_the_windows_planner_sends():
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.windows import WINDOWS_EXECUTOR_FIELDS
    kinds = top_level_value(read(os.path.join("plugins", "modules", "win_execute.ps1")), "KindFields")
    assert isinstance(kinds, dict), "win_execute.ps1: no top-level $KindFields = @{...}"
    assert sorted(kinds) == sorted(WINDOWS_EXECUTOR_FIELDS), "step kinds: win_execute %s, planner %s" % (
        sorted(kinds), sorted(WINDOWS_EXECUTOR_FIELDS))
    for kind, fields in WINDOWS_EXECUTOR_FIELDS.items():
        known = kinds[kind] if isinstance(kinds[kind], list) else [kinds[kind]]
        assert set(fields) <= set(known), "kind %s: the planner sends %s, win_execute knows %s" % (
            kind, sorted(fields), sorted(known))


# --- win_execute's quarantine, archive and purge: no-follow handles only ----------------------------

WIN_EXECUTE = os.path.join("plugins", "modules", "win_execute.ps1")
NO_FOLLOW_TREE = os.path.join("plugins", "module_utils", "NoFollowTree.cs")
NO_FOLLOW_HANDLES = os.path.join("plugins", "module_utils", "NoFollowHandles.cs")
UTIL_PREFIX = "ansible_collections.govsec.banned_software.plugins.module_utils."
# Cmdlets and aliases that reach a file by its path name (and follow a junction in its parents).
PATH_FILE_COMMANDS = {
    "get-childitem", "gci", "ls", "dir", "remove-item", "rm", "ri", "del", "erase", "rd", "rmdir",
    "move-item", "mi", "mv", "move", "copy-item", "cp", "copy", "cpi", "rename-item", "ren", "rni",
    "new-item", "ni", "mkdir", "md", "get-item", "gi", "test-path", "resolve-path", "rvpa", "get-acl",
    "set-acl", "get-filehash", "get-content", "gc", "cat", "type", "set-content", "sc", "add-content", "ac",
    "out-file", "compress-archive", "expand-archive", "get-itemproperty", "set-itemproperty", "clear-content",
}


def csharp_block(source, header):
    """The text of the block (class, enum, method) that starts at ``header``."""
    start = source.index(header)
    depth = 0
    for index in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[start:index + 1]
    raise AssertionError("no end of %s" % header)


def csharp_properties(source, class_name):
    return set(re.findall(r"public [\w<>?\[\]]+ (\w+)\s*\{\s*get", csharp_block(source, "class " + class_name)))


def calls_on(data, variable):
    """(method, argument count, line) of every ``$variable.Method(...)`` call in a script."""
    for node in walk(parse(data).root_node):
        if node.type == "invokation_expression" and node.named_children and \
                text_of(data, node.named_children[0]).lower() == variable.lower():
            names = [c for c in node.named_children if c.type == "member_name"]
            arguments = [c for c in node.named_children if c.type == "argument_list"]
            if names and arguments:
                count = len([c for c in walk(arguments[0]) if c.type == "argument_expression"
                             and c.parent.parent == arguments[0]])
                yield text_of(data, names[0]), count, node.start_point[0] + 1


def test_win_execute_reaches_files_only_through_the_no_follow_util():
    data = read(WIN_EXECUTE)
    for name, node in commands(data):
        assert name not in PATH_FILE_COMMANDS, "%s line %d: %s opens a path by its name (junctions are followed)" % (
            WIN_EXECUTE, node.start_point[0] + 1, name)
    for node in walk(parse(data).root_node):
        if node.type == "type_literal":
            name = text_of(data, node).strip("[]").lower()
            assert not re.match(r"(system\.)?(io\.(?!stringreader$)|security\.accesscontrol\.)", name), \
                "%s line %d: %s works on path names" % (WIN_EXECUTE, node.start_point[0] + 1, name)
    created = [text_of(data, node) for name, node in commands(data) if name == "new-object"]
    assert created == ["New-Object -TypeName '%sNoFollowTree.FileSteps'" % UTIL_PREFIX,
                       "New-Object -TypeName '%sRunJournal.RunState' -ArgumentList $StateDir" % UTIL_PREFIX], created


def test_win_execute_requires_the_no_follow_util_and_ansible_ships_it():
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder
    data = read(WIN_EXECUTE)
    assert re.search(r"(?m)^#AnsibleRequires -CSharpUtil %sNoFollowTree$" % re.escape(UTIL_PREFIX),
                     data.decode("utf-8")), "win_execute.ps1 does not require the NoFollowTree C# util"
    finder = PSModuleDepFinder()
    shipped = finder.scan_module(data, fqn="ansible_collections.govsec.banned_software.plugins.modules.win_execute")
    for util in ("NoFollowTree.cs", "NoFollowHandles.cs"):
        assert UTIL_PREFIX + util in shipped, "Ansible would not ship %s with win_execute: %s" % (util, sorted(shipped))


def test_every_file_step_call_exists_in_the_util():
    tree = read(NO_FOLLOW_TREE).decode("utf-8")
    methods = dict((name, len([p for p in params.split(",") if p.strip()])) for name, params in re.findall(
        r"public [\w<>\[\]]+ (\w+)\(([^)]*)\)", csharp_block(tree, "public sealed class FileSteps")))
    data = read(WIN_EXECUTE)
    calls = list(calls_on(data, "$Files"))
    expected = {"Open", "Purge", "OpenPrivateDirectory", "Quarantine", "AppendText", "Archive", "WriteGuarded", "RemoveGuarded"}
    assert {name for name, _count, _line in calls} == expected, calls
    for name, count, line in calls:
        assert methods.get(name) == count, "%s line %d: $Files.%s with %d arguments; FileSteps has %s" % (
            WIN_EXECUTE, line, name, count, methods)
    handles = read(NO_FOLLOW_HANDLES).decode("utf-8")
    access = set(re.findall(r"^\s+(\w+),", csharp_block(handles, "public enum Access"), re.M))
    used = set(re.findall(r"-Access '(\w+)'|\$Files\.Open\(\$path, '(\w+)'\)", data.decode("utf-8")))
    assert {a or b for a, b in used} <= access and used, "access names %s, the util has %s" % (used, access)
    text = data.decode("utf-8")
    for variable, class_name in (("moved", "QuarantineResult"), ("archive", "ArchiveResult")):
        known = csharp_properties(tree, class_name)
        seen = set(re.findall(r"\$%s\.(\w+)" % variable, text))
        assert seen and seen <= known, "$%s uses %s; %s has %s" % (variable, seen - known, class_name, known)
    assert set(re.findall(r"\.Facts\.(\w+)", text)) <= csharp_properties(handles, "FileFacts")


def test_quarantine_and_purge_open_the_step_path_by_handle_and_check_its_kind():
    data = read(WIN_EXECUTE)
    opener = function_text(data, "Open-PathStep")
    assert opener is not None and "$node = $Files.Open($path, $Access)" in opener
    assert "$kind = $node.Facts.Kind" in opener and "if ($kind -ne $Step['type'])" in opener, opener
    assert "Get-PathRefusal -Path $path" in opener
    for function, access in (("Invoke-QuarantineStep", "Move"), ("Invoke-PurgeStep", "Purge")):
        text = function_text(data, function)
        assert "$opened = Open-PathStep -Step $Step -Access '%s'" % access in text, function
        assert "$opened.node.Dispose()" in text, "%s does not close the handle" % function
    assert "$Files.Purge($opened.node)" in function_text(data, "Invoke-PurgeStep")


def test_the_quarantine_directory_is_checked_before_anything_is_moved_into_it():
    # The attack: a user pre-creates C:\ProgramData\govsec-banned-software\quarantine. The step
    # opens it with OpenPrivateDirectory (owner and ACL checked, or created protected) and only the
    # PrivateDirectory that returns can be handed to Quarantine.
    text = function_text(read(WIN_EXECUTE), "Invoke-QuarantineStep")
    check = text.index("$vault = $Files.OpenPrivateDirectory($QuarantineDir)")
    move = text.index("$moved = $Files.Quarantine($opened.node, $vault,")
    assert check < move, "the quarantine directory is used before it is checked"
    tree = read(NO_FOLLOW_TREE).decode("utf-8")
    assert "public QuarantineResult Quarantine(FileNode node, PrivateDirectory vault," in tree
    vault_class = csharp_block(tree, "public sealed class PrivateDirectory")
    assert "private PrivateDirectory(FileNode node)" in vault_class and vault_class.count("new PrivateDirectory(") == 1
    opener = csharp_block(vault_class, "public static PrivateDirectory Open(")
    assert opener.index("AclCheck.Problem(api.Security(current))") < opener.index("new PrivateDirectory(current)")


def test_the_archive_directory_is_checked_before_the_zip_is_written():
    text = function_text(read(WIN_EXECUTE), "Invoke-ArchiveStep")
    assert "$Files.Archive($ArchiveDir, " in text, text
    tree = read(NO_FOLLOW_TREE).decode("utf-8")
    writer = csharp_block(tree, "public static ArchiveResult Write(")
    assert writer.index("PrivateDirectory.Open(api, vaultPath)") < writer.index("WriteZip(api, vault,"), writer
    assert "private static void WriteZip(IFileApi api, PrivateDirectory vault," in tree


def test_the_path_walkers_of_old_are_gone():
    data = read(WIN_EXECUTE)
    for name in ("Remove-Tree", "Add-ZipTree", "New-PrivateDirectory", "Get-PathType", "Get-FreeName", "Get-Info",
                 "Test-PathStep"):
        assert function_text(data, name) is None, "win_execute.ps1 still defines %s (works on path names)" % name


def test_win_execute_takes_the_run_lock_with_a_bounded_wait_before_any_step():
    text = read(WIN_EXECUTE).decode("utf-8")
    wait = text.index("$owned = $RunMutex.WaitOne([int]$params.lock_timeout * 1000)")
    busy = text.index("RunJournal.RunState]::BusyMessage(")
    begin = text.index("$null = $RunState.Begin([string]$params.run_id, $PID, $steps)")
    refused = text.index("$module.FailJson($refusal)")
    first_step = text.index("$outcome = & $Runners[$step['kind']] -Step $step -Result $result")
    assert text.index("if (-not $module.CheckMode) {\n    $module.Result.changed = $false") < wait
    assert text.index("$RunMutex = [System.Threading.Mutex]::new($false, $RunLockName)") < wait
    assert wait < text.index("$module.Result.interrupted_run = $RunState.Previous($abandoned)") < begin < refused
    assert wait < busy < refused < text.index("# --- run ---") < first_step
    assert "catch [System.Threading.AbandonedMutexException]" in text
    # A refusal releases the mutex it holds (an exit while holding it would leave it abandoned).
    assert text.index("$RunMutex.ReleaseMutex()") < refused
    # The journal: each step started and finished, then the end, then the mutex released.
    assert text.index("$RunState.StepStarted($step['id'])") < first_step < text.index(
        "$RunState.StepFinished($step['id'], $result.status)") < text.index("$RunState.Finish()") < text.rindex(
        "$RunMutex.ReleaseMutex()")
    assert text.index("$module.Result.run_warnings = @($RunState.Warnings)") < text.index("$module.ExitJson()")


def test_win_execute_run_state_calls_exist_in_the_util_and_ansible_ships_it():
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder
    data = read(WIN_EXECUTE)
    assert re.search(r"(?m)^#AnsibleRequires -CSharpUtil %sRunJournal$" % re.escape(UTIL_PREFIX), data.decode("utf-8"))
    shipped = PSModuleDepFinder().scan_module(
        data, fqn="ansible_collections.govsec.banned_software.plugins.modules.win_execute")
    assert UTIL_PREFIX + "RunJournal.cs" in shipped, sorted(shipped)
    source = read(os.path.join("plugins", "module_utils", "RunJournal.cs")).decode("utf-8")
    state = csharp_block(source, "public sealed class RunState")
    methods = dict((name, len([p for p in re.sub(r"<[^>]*>", "", params).split(",") if p.strip()]))
                   for name, params in re.findall(r"public (?:static )?[\w<>,\[\] ]+? (\w+)\(([^)]*)\)", state))
    calls = list(calls_on(data, "$RunState"))
    assert {name for name, _count, _line in calls} == {
        "ReadHolder", "Previous", "Begin", "StepStarted", "StepFinished", "Finish", "Dispose"}, calls
    for name, count, line in calls:
        assert methods.get(name) == count, "%s line %d: $RunState.%s with %d arguments; RunState has %s" % (
            WIN_EXECUTE, line, name, count, methods)
    assert methods["BusyMessage"] == 3 and "Warnings" in csharp_properties(source, "RunState")
