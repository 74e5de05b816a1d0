# -*- coding: utf-8 -*-
"""Run a module's ``main()`` in a test: its arguments patched in, ``exit_json``/``fail_json`` turned into an
exception that carries what the module returned."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """How the module ended: ``kind`` is ``"exit"`` (exit_json) or ``"fail"`` (fail_json), ``result`` its keywords."""

    def __init__(self, kind, result):
        Exception.__init__(self, kind)
        self.kind = kind
        self.result = result


def patch_exits(monkeypatch):
    """Make ``AnsibleModule.exit_json`` and ``fail_json`` raise ``ModuleExit`` for the rest of the test."""

    def exit_json(self, **kwargs):
        raise ModuleExit("exit", kwargs)

    def fail_json(self, **kwargs):
        raise ModuleExit("fail", kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run_module(module, args):
    """Run ``module.main()`` with ``args`` (``patch_exits`` applied first) and return its ``ModuleExit``; a module
    that returns without exit_json or fail_json fails the test."""
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as exc:
            module.main()
    return exc.value
