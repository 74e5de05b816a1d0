# -*- coding: utf-8 -*-
"""plugins/module_utils/ is exactly what Ansible ships to managed hosts (docs/design.md, "Where code runs").

ansible-core's own dependency finders decide what a module's payload holds: ``recursive_finder`` for the
Python modules (the AnsiballZ zip), ``PSModuleDepFinder`` for the PowerShell modules (their C# and
PowerShell utils). So:

* every file under plugins/module_utils/ is in the payload of some module (code only the controller runs
  belongs in plugins/plugin_utils/);
* no file shipped to a host imports controller code (plugin_utils, action plugins, ansible-core's
  controller packages): the host side never depends on the controller side;
* nothing on the host side imports a module by a name computed at run time: the finders read import
  statements, so such a module would be missing from the payload.
"""

import ast
import datetime
import inspect
import io
import os
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
MODULE_UTILS = os.path.join(PLUGINS, "module_utils")
COLLECTION = "ansible_collections.govsec.banned_software"
UTILS_PACKAGE = COLLECTION + ".plugins.module_utils"


def files_under(directory):
    out = []
    for path, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        out.extend(os.path.relpath(os.path.join(path, f), ROOT) for f in files if not f.endswith(".pyc"))
    return sorted(out)


MODULES = sorted(f for f in os.listdir(os.path.join(PLUGINS, "modules")) if f.endswith((".py", ".ps1")))
HOST_PYTHON = [f for f in files_under(MODULE_UTILS) if f.endswith(".py")] + [
    os.path.join("plugins", "modules", f) for f in MODULES if f.endswith(".py")]


def python_payload(module):
    """The collection's files in the AnsiballZ zip of ``module`` (a Python module), as repository paths."""
    from ansible.executor import module_common

    with open(os.path.join(PLUGINS, "modules", module + ".py"), "rb") as handle:
        data = handle.read()
    params = inspect.signature(module_common.recursive_finder).parameters
    kwargs = {}
    if "date_time" in params:
        kwargs["date_time"] = datetime.datetime.now(datetime.timezone.utc)
    if "extension_manager" in params:  # ansible-core 2.19
        from ansible._internal._ansiballz import _builder
        kwargs["extension_manager"] = _builder.ExtensionManager.create(task_vars={})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as payload:
        module_common.recursive_finder(module, "%s.plugins.modules.%s" % (COLLECTION, module), data, payload,
                                       **kwargs)
    prefix = COLLECTION.replace(".", "/") + "/"
    return set(name[len(prefix):] for name in zipfile.ZipFile(buffer).namelist()
               if name.startswith(prefix + "plugins/module_utils/"))


def powershell_payload(module):
    """The collection's utils a PowerShell module requires (C#, PowerShell), as repository paths."""
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder

    with open(os.path.join(PLUGINS, "modules", module + ".ps1"), "rb") as handle:
        data = handle.read()
    shipped = PSModuleDepFinder().scan_module(data, fqn="%s.plugins.modules.%s" % (COLLECTION, module))
    out = set()
    for name in shipped:
        if name.startswith(UTILS_PACKAGE + "."):
            parts = name[len(UTILS_PACKAGE) + 1:].split(".")
            out.add("/".join(["plugins", "module_utils"] + parts[:-2] + [".".join(parts[-2:])]))
    return out


@pytest.fixture(scope="module")
def payloads():
    """{file name under plugins/modules: the module_utils it ships}."""
    out = {}
    for name in MODULES:
        module, ext = os.path.splitext(name)
        out[name] = python_payload(module) if ext == ".py" else powershell_payload(module)
    return out


def test_every_module_util_is_shipped_to_hosts_by_a_module(payloads):
    shipped = set().union(*payloads.values())
    not_shipped = [f for f in files_under(MODULE_UTILS) if f not in shipped]
    assert not_shipped == [], (
        "under plugins/module_utils/ but in no module's payload (controller code belongs in plugins/plugin_utils/): "
        "%s" % not_shipped)


def test_each_module_ships_only_what_it_runs(payloads):
    # The collector carries no executor code and the executor no collector (a smaller payload to compile
    # on every host); both carry the compile-once loader and the shared paths.
    collect, execute = payloads["collect.py"], payloads["execute.py"]
    assert not any(f.startswith("plugins/module_utils/_execute/") for f in collect), sorted(collect)
    assert not any(f.startswith("plugins/module_utils/_collect/") for f in execute), sorted(execute)
    for payload in (collect, execute):
        assert "plugins/module_utils/_compile_once.py" in payload
        assert "plugins/module_utils/_host_paths.py" in payload
    assert {"plugins/module_utils/NoFollowTree.cs", "plugins/module_utils/NoFollowHandles.cs"} <= payloads[
        "win_execute.ps1"]
    # The documentation stubs (action plugins, PowerShell modules) import nothing.
    for module in ("catalog", "scan", "image_scan", "remediate", "block", "report", "merge_reports",
                   "export_block_rules", "win_collect", "win_execute"):
        assert payloads[module + ".py"] == set(), module


def imports_of(path):
    """``(line, module name)`` of every import statement in a file, inside functions too."""
    with open(os.path.join(ROOT, path), "rb") as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "%s:%d: a relative import" % (path, node.lineno)
            yield node.lineno, node.module


@pytest.mark.parametrize("path", HOST_PYTHON)
def test_host_code_imports_no_controller_code(path):
    bad = []
    for line, name in imports_of(path):
        if name.startswith(COLLECTION + ".") and not name.startswith(UTILS_PACKAGE):
            bad.append((line, name))
        elif (name == "ansible" or name.startswith("ansible.")) and not name.startswith("ansible.module_utils"):
            bad.append((line, name))
    assert bad == [], "%s imports controller code: %s" % (path, bad)


@pytest.mark.parametrize("path", HOST_PYTHON)
def test_host_code_imports_no_module_by_a_computed_name(path):
    with open(os.path.join(ROOT, path), "rb") as handle:
        tree = ast.parse(handle.read(), path)
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__", "find_spec", "load_module"):
                calls.append((node.lineno, name))
    assert calls == [], "%s imports by name at run time (the module_utils finder cannot see it): %s" % (path, calls)


def test_the_checks_see_a_forbidden_import(tmp_path, monkeypatch):
    """The AST checks above find an import of controller code and an import by name."""
    source = ("def f(name):\n"
              "    from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan import planner\n"
              "    import importlib\n"
              "    return importlib.import_module(name)\n")
    path = tmp_path / "bad.py"
    path.write_text(source)
    monkeypatch.setitem(globals(), "ROOT", str(tmp_path))
    with pytest.raises(AssertionError, match="imports controller code"):
        test_host_code_imports_no_controller_code("bad.py")
    with pytest.raises(AssertionError, match="imports by name"):
        test_host_code_imports_no_module_by_a_computed_name("bad.py")
