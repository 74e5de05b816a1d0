"""Hypothesis profiles for the hostile-input suite.

``ci`` (default): derandomized (the same examples on every run, so a failure is reproducible and CI is
stable), no example database in the working tree, a deadline per example. ``explore``
(``HYPOTHESIS_PROFILE=explore``): random examples, ten times as many, to look for new failures.
"""

import datetime
import os

from hypothesis import HealthCheck, settings

DEADLINE = datetime.timedelta(milliseconds=1000)

settings.register_profile("ci", deadline=DEADLINE, derandomize=True, database=None, max_examples=150,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=DEADLINE, database=None, max_examples=1500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
