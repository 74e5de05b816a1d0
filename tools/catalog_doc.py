# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the built-in policies (catalog/policies.yml) into the documentation of the catalog module, so that
``ansible-doc govsec.banned_software.catalog`` lists them (README, "Choosing what is banned").

    python tools/catalog_doc.py           rewrite the generated part of plugins/modules/catalog.py
    python tools/catalog_doc.py --check   exit 1, showing the difference, when it is stale
"""

from __future__ import absolute_import, division, print_function

import difflib
import os
import sys
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = os.path.join(ROOT, "plugins", "modules", "catalog.py")
BEGIN = "  # BEGIN policies (generated from catalog/policies.yml by tools/catalog_doc.py; do not edit)\n"
END = "  # END policies\n"


def item(text):
    """A YAML list item with a folded scalar, lines of at most 120 characters (pep8's limit is 160)."""
    lines = textwrap.wrap(" ".join(str(text).split()), 114, break_long_words=False, break_on_hyphens=False)
    return "  - >-\n" + "".join("    %s\n" % line for line in lines)


def generated():
    with open(os.path.join(ROOT, "catalog", "catalog.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    with open(os.path.join(ROOT, "catalog", "policies.yml")) as handle:
        policies = yaml.safe_load(handle)["policies"]
    lines = [BEGIN, item(
        "The built-in policies (catalog %s), for O(policies) and C(banned_software_policies). V(all) selects "
        "every one; docs/catalog.md lists the products each policy bans." % version)]
    for policy in policies:
        lines.append(item("V(%s) - %s (%s, %s)." % (
            policy["id"], policy["title"], policy["jurisdiction"], policy["date"])))
    lines.append(END)
    return "".join(lines)


def main(argv):
    with open(MODULE) as handle:
        text = handle.read()
    if BEGIN not in text or END not in text:
        sys.stderr.write("%s: the markers of the generated policy list are missing\n" % MODULE)
        return 1
    head, rest = text.split(BEGIN, 1)
    dummy, tail = rest.split(END, 1)
    new = head + generated() + tail
    if "--check" in argv:
        if new != text:
            sys.stderr.write("plugins/modules/catalog.py: the policy list is stale (regenerate with: make docs)\n")
            sys.stderr.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), MODULE, "generated"))
            return 1
        return 0
    with open(MODULE, "w") as handle:
        handle.write(new)
    print("wrote the policy list of plugins/modules/catalog.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
