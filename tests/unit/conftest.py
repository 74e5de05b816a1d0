"""Make the source tree importable as ansible_collections.govsec.banned_software for pytest."""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The same link the benchmark scripts use (benchmarks/checkout.py).
sys.path.insert(0, os.path.join(_ROOT, "benchmarks"))
from checkout import use_checkout  # noqa: E402

_TOP = use_checkout()

# Ansible's collection loader serves ansible_collections.* imports; install it so that plugins
# importing module_utils by their FQCN path resolve to this tree.
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_finder = _AnsibleCollectionFinder(paths=[_TOP])
_finder._install()

# Property-based tests (tests/unit/hostile/): no example database in the tree; in CI the examples are
# derived from each test's name (derandomize), so a run is reproducible; locally each run explores anew.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - pinned in requirements-dev.txt
    _hypothesis_settings = None
if _hypothesis_settings is not None:
    _hypothesis_settings.register_profile("govsec", database=None, derandomize=bool(os.environ.get("CI")))
    _hypothesis_settings.load_profile("govsec")
