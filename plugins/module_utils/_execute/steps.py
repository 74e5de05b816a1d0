# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: what every step runner of the executor shares: ``StepError`` and ``shown``.

A runner raises ``StepError`` when its step cannot be carried out: the step's status is then ``failed``
with the message as its ``msg``, and nothing (more) was changed.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


class StepError(Exception):
    """A step cannot be carried out; the message says why. Nothing (more) was changed."""


def shown(path):
    """A path as text safe to report (non-UTF-8 bytes and control characters escaped)."""
    return json.dumps(path)[1:-1] if isinstance(path, str) else repr(path)
