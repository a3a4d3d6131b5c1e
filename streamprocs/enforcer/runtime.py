"""Interpreter settings for a process that runs the enforcer's loop.

Each record allocates a dozen short-lived containers (the parsed event, the
header list), which reference counting frees as soon as the record is routed.
With CPython's default first-generation threshold of 700, the cyclic
collector still ran every ~50 records and walked every young object, the
consumed batch's messages included: about 1 µs of the ~20 µs a record costs
the loop (bench/README.md). Collecting every 50,000 allocations instead keeps
garbage cycles (from exceptions, mostly) bounded at a few megabytes.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Collect cyclic garbage less often; process-wide, so called by ``Enforcer.run``."""
    gc.set_threshold(*GC_THRESHOLDS)
