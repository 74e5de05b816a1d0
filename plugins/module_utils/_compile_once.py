# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: import this collection's module_utils from a module's zip payload with one compile each.

A module runs on the host from the zip Ansible sends (AnsiballZ), and Python's ``zipimport`` keeps no
bytecode for it: every import compiles the source. CPython's zipimporter (3.8 to 3.12 at least) compiles
it twice, once to build the module spec (``get_filename``) and again to execute it (``get_code``). For
the collector's module_utils that is ~15 ms of host CPU per scan thrown away (docs/performance.md).

``install()`` puts a finder before the path-based finder for the modules below this collection's
``module_utils`` package only (its sub-packages ``_fs``, ``_collect``, ``_execute`` included), and only
when the module's package was itself imported from a zip: it reads the source through a
``zipimport.zipimporter`` of the package directory, compiles it once under the same file name
``zipimport`` would give it (tracebacks and coverage are unchanged) and executes it. Anything else, or
anything unexpected (a package's own ``__init__``, no source, an older Python), is left to the normal
import system.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

PACKAGE = "ansible_collections.govsec.banned_software.plugins.module_utils"


class _SourceLoader(object):
    """Executes a module from source already read, compiling it once."""

    def __init__(self, source, filename):
        self.source = source
        self.filename = filename

    def create_module(self, spec):  # pylint: disable=unused-argument
        return None  # the default module object

    def exec_module(self, module):
        code = compile(self.source, self.filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used


class CompileOnceFinder(object):
    """A meta path finder for the modules below ``PACKAGE`` when their package came from a zip."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):  # pylint: disable=unused-argument
        package, dummy, name = fullname.rpartition(".")
        if not (package == PACKAGE or package.startswith(PACKAGE + ".")) or not path:
            return None
        try:
            import zipimport
            from importlib.util import spec_from_loader

            parent = sys.modules.get(package)
            if not isinstance(getattr(getattr(parent, "__spec__", None), "loader", None), zipimport.zipimporter):
                return None
            directory = list(path)[0]
            importer = zipimport.zipimporter(directory)
            if importer.is_package(fullname):  # a sub-package's (empty) __init__: the normal import
                return None
            source = importer.get_source(fullname)
            if source is None:  # only bytecode in the zip: the normal import handles it
                return None
            filename = "%s/%s.py" % (directory.rstrip("/"), name)
            spec = spec_from_loader(fullname, _SourceLoader(source, filename), origin=filename)
            spec.has_location = True  # sets __file__, as zipimport does
            return spec
        except Exception:  # pylint: disable=broad-except  # never worse than the normal import
            return None


def install():
    """Put ``CompileOnceFinder`` in ``sys.meta_path`` just before the path-based finder, which is the one that
    would find these modules in the zip (once; at the end when there is no such finder)."""
    if CompileOnceFinder in sys.meta_path:
        return
    from importlib.machinery import PathFinder

    for index, finder in enumerate(sys.meta_path):
        if finder is PathFinder:
            sys.meta_path.insert(index, CompileOnceFinder)
            return
    sys.meta_path.append(CompileOnceFinder)
