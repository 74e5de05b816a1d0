# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_compile_once: the collection's module_utils, imported from a zip as AnsiballZ ships them, are compiled
once each (zipimport alone compiles them twice), behave the same, and keep zipimport's file names; modules
of the sub-packages (``_fs``, ``_collect``, ``_execute``) too.

Each case runs a fresh interpreter (no site-packages) whose only copy of the collection is a zip built
from the repository's files, so the imports are the ones a host does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils import _compile_once

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PACKAGE_DIR = "ansible_collections/govsec/banned_software/plugins/module_utils"
MODULES = ["_collect.linux", "_fs.rootfs", "_collect.dpkg", "_collect.query", "_collect.local_fact"]

PROBE = textwrap.dedent("""
    import collections, json, sys, traceback
    compiled = collections.Counter()
    sys.addaudithook(lambda event, args: compiled.update([str(args[1])]) if event == "compile" else None)
    sys.path.insert(0, sys.argv[1])
    if sys.argv[2] == "install":
        from ansible_collections.govsec.banned_software.plugins.module_utils._compile_once import install
        install()
    import importlib
    out = {"files": {}, "compiles": {}}
    for name in sys.argv[3].split(","):
        module = importlib.import_module("ansible_collections.govsec.banned_software.plugins.module_utils." + name)
        out["files"][name] = module.__file__
    out["compiles"] = dict((k, v) for k, v in compiled.items() if "banned_software" in k)
    from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote
    out["quote"] = quote("a b\\n")
    try:
        import ansible_collections.govsec.banned_software.plugins.module_utils._broken
    except ZeroDivisionError:
        out["traceback_file"] = traceback.extract_tb(sys.exc_info()[2])[-1].filename
    try:
        import ansible_collections.govsec.banned_software.plugins.module_utils._fs._broken
    except ZeroDivisionError:
        out["sub_traceback_file"] = traceback.extract_tb(sys.exc_info()[2])[-1].filename
    package = sys.modules["ansible_collections.govsec.banned_software.plugins.module_utils._fs"]
    out["package"] = [package.__file__, list(package.__path__)]
    out["no_such"] = "ok"
    try:
        import ansible_collections.govsec.banned_software.plugins.module_utils._no_such_module
        out["no_such"] = "imported"
    except ImportError:
        pass
    print(json.dumps(out))
""")


def build_zip(tmp_path):
    """The collection's module_utils in a zip, package by package (sub-packages with their ``__init__.py``, as
    AnsiballZ ships them), plus a module that fails at the top and one in a sub-package."""
    path = str(tmp_path / "payload.zip")
    source = os.path.join(ROOT, "plugins", "module_utils")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as payload:
        parts = PACKAGE_DIR.split("/")
        for i in range(1, len(parts) + 1):
            payload.writestr("/".join(parts[:i]) + "/__init__.py", "")
        for directory, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    full = os.path.join(directory, name)
                    payload.write(full, PACKAGE_DIR + "/" + os.path.relpath(full, source).replace(os.sep, "/"))
        payload.writestr(PACKAGE_DIR + "/_broken.py", "x = 1\ny = 1 / 0\n")
        payload.writestr(PACKAGE_DIR + "/_fs/_broken.py", "x = 1\ny = 1 / 0\n")
    return path


def probe(zip_path, mode, modules=None):
    out = subprocess.run([sys.executable, "-S", "-c", PROBE, zip_path, mode, ",".join(modules or MODULES)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    return build_zip(tmp_path_factory.mktemp("zip"))


def _module_name(filename):
    """``_fs.rootfs`` for ``.../module_utils/_fs/rootfs.py``."""
    return filename.split(PACKAGE_DIR + "/", 1)[-1][:-3].replace("/", ".")


def _counts(out, names):
    return dict((_module_name(k), v) for k, v in out["compiles"].items() if _module_name(k) in names)


def test_installed_each_module_util_is_compiled_once(payload):
    names = MODULES + ["_collect.loop", "_collect.linux_files", "_collect.linux_users", "_collect.systemd",
                       "_collect.procfs"]
    plain = _counts(probe(payload, "plain"), names)
    once = _counts(probe(payload, "install"), names)
    assert sorted(once) == sorted(plain) == sorted(names)
    assert set(once.values()) == {1}
    # What it saves: CPython's zipimport (3.11 here) compiles each of them twice.
    assert all(plain[name] >= once[name] for name in names)
    if sys.version_info[:2] == (3, 11):
        assert set(plain.values()) == {2}


def test_file_names_and_behaviour_are_those_of_zipimport(payload):
    plain = probe(payload, "plain")
    once = probe(payload, "install")
    assert once["files"] == plain["files"]
    for name, path in once["files"].items():
        assert path == os.path.join(payload, PACKAGE_DIR, name.replace(".", "/") + ".py")
    assert once["quote"] == plain["quote"]
    assert once["traceback_file"] == plain["traceback_file"] == os.path.join(payload, PACKAGE_DIR, "_broken.py")
    assert once["sub_traceback_file"] == plain["sub_traceback_file"] == os.path.join(
        payload, PACKAGE_DIR, "_fs", "_broken.py")
    # A sub-package itself is imported by zipimport, as a package.
    assert once["package"] == plain["package"] == [os.path.join(payload, PACKAGE_DIR, "_fs", "__init__.py"),
                                                   [os.path.join(payload, PACKAGE_DIR, "_fs")]]
    assert once["no_such"] == plain["no_such"] == "ok"


def test_not_from_a_zip_the_normal_import_is_used():
    # In this test process the package comes from the source tree.
    assert _compile_once.CompileOnceFinder.find_spec(
        _compile_once.PACKAGE + "._fs.rootfs", [os.path.join(ROOT, "plugins", "module_utils", "_fs")]) is None


@pytest.mark.parametrize("fullname, path", [
    ("ansible_collections.govsec.banned_software.plugins.modules.collect", ["x.zip/y"]),
    ("os", None),
    (_compile_once.PACKAGE + "._fs.rootfs", None),
    (_compile_once.PACKAGE + "._fs.rootfs", []),
    (_compile_once.PACKAGE + "x._rootfs", ["x.zip/y"]),
])
def test_other_names_are_left_alone(fullname, path):
    assert _compile_once.CompileOnceFinder.find_spec(fullname, path) is None


def test_install_is_idempotent_and_keeps_the_first_finder(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    first = sys.meta_path[0]
    _compile_once.install()
    _compile_once.install()
    assert sys.meta_path.count(_compile_once.CompileOnceFinder) == 1
    from importlib.machinery import PathFinder
    index = sys.meta_path.index(_compile_once.CompileOnceFinder)
    assert sys.meta_path[index + 1] is PathFinder
    assert sys.meta_path[0] is first
