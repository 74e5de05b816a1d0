# -*- coding: utf-8 -*-
"""Make this checkout importable as ansible_collections.govsec.banned_software (as tests/unit/conftest.py
does for the unit tests), for the benchmark scripts that time the collection's own code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_checkout():
    """Link build/pytest/ansible_collections/govsec/banned_software to the checkout, put the directory that
    holds ansible_collections/ on sys.path and return it."""
    namespace = os.path.join(ROOT, "build", "pytest", "ansible_collections", "govsec")
    link = os.path.join(namespace, "banned_software")
    os.makedirs(namespace, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    top = os.path.dirname(os.path.dirname(namespace))
    if top not in sys.path:
        sys.path.insert(0, top)
    return top
