# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the pipeline gate, ``banned_software_fail_on`` (docs/usage.md, "A gate for pipelines").

``never`` (default): findings never fail a run; unreachable and failed scans fail as always.
``non_compliant``: a host or image with a finding that is not exempt fails.
``findings``: a host or image with any finding fails, exempt ones included.
"""

FAIL_ON_CHOICES = ("never", "non_compliant", "findings")
FAIL_ON_DEFAULT = "never"


class GateError(ValueError):
    """A ``fail_on`` value that is not one of FAIL_ON_CHOICES."""


def check_fail_on(value, where="banned_software_fail_on"):
    """``value`` as a valid choice, or GateError naming ``where`` and the choices."""
    if value is None:
        return FAIL_ON_DEFAULT
    if not isinstance(value, str) or value not in FAIL_ON_CHOICES:
        raise GateError("%s: expected one of %s, got %r" % (where, ", ".join(FAIL_ON_CHOICES), value))
    return value


def tripping_findings(findings, fail_on):
    """The findings that make the gate fail under ``fail_on`` (empty: the gate passes)."""
    findings = [f for f in findings or [] if isinstance(f, dict)]
    if fail_on == "findings":
        return findings
    if fail_on == "non_compliant":
        return [f for f in findings if not f.get("exempt")]
    return []


def gate_message(subject, fail_on, findings):
    """One line naming ``subject`` (a host or an image), the products and the number of findings."""
    products = []
    for finding in findings:
        label = "%s (%s)" % (finding.get("product") or finding.get("id") or "?", finding.get("id") or "?")
        if label not in products:
            products.append(label)
    exempt = sum(1 for f in findings if f.get("exempt"))
    return "banned software on %s (banned_software_fail_on=%s): %s; %d finding(s)%s" % (
        subject, fail_on, ", ".join(sorted(products)), len(findings),
        " (%d exempt)" % exempt if exempt else "")
