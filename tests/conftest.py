"""Shared test settings.

Hypothesis explores new examples on every developer run; under CI it is
derandomized, so a landing never depends on the luck of one run (failures
found locally are kept in .hypothesis/ and replayed first).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")
