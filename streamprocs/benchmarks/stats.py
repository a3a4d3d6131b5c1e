"""Plain statistics for the benchmark: percentiles, medians, paired ratios. No I/O."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as numpy's default (``linear``): exact for small samples
    and monotone in ``q``, so p50 <= p99 always holds.
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    fraction = rank - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of an empty sample")
    return float(statistics.median(values))


def rate(events: int, seconds: float) -> float:
    """Events per second; a zero or negative span is an error, never infinity."""
    if seconds <= 0:
        raise ValueError(f"cannot compute a rate over {seconds} s")
    return events / seconds


def paired_ratio(
    numerators: Sequence[float | None], denominators: Sequence[float | None]
) -> float | None:
    """The median of per-round ratios ``numerators[i] / denominators[i]``.

    Runs alternate between scenarios, so round ``i`` of two scenarios ran
    close together in time: dividing within a round cancels slow drifts of the
    machine (another job starting, thermal throttling) that a ratio of overall
    medians would keep. Rounds where either side is missing or the denominator
    is zero are left out; ``None`` when no round is left.
    """
    ratios = [
        n / d
        for n, d in zip(numerators, denominators, strict=False)
        if n is not None and d is not None and d > 0
    ]
    return median(ratios) if ratios else None


def paced_latencies(
    sent_at: dict[int, int], seen_at: dict[int, int], skip: int
) -> tuple[list[float], int]:
    """Latencies (ms) of the paced records after the first ``skip``, and how many never arrived.

    ``sent_at`` and ``seen_at`` map a record's sequence number to its input
    CreateTime and the wall-clock time a ``read_committed`` consumer saw its
    output, both in ms. The first ``skip``
    records (by sequence) are the warm-up: they meet cold caches and first
    metadata requests, which a steady stream does not.
    """
    samples = []
    missing = 0
    for seq in sorted(sent_at)[skip:]:
        out = seen_at.get(seq)
        if out is None:
            missing += 1
        else:
            samples.append(float(out - sent_at[seq]))
    return samples, missing
