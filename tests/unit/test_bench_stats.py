"""``dce bench`` statistics: percentiles, medians, rates and paired ratios."""

from __future__ import annotations

import pytest

from streamprocs.benchmarks.stats import (
    median,
    paced_latencies,
    paired_ratio,
    percentile,
    rate,
)


def test_percentile_interpolates_between_ranks() -> None:
    """Linear interpolation, like numpy's default: p50 of 1..4 is 2.5."""
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5], 0) == 1
    assert percentile([1, 2, 3, 4, 5], 100) == 5
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 50) == 7.0
    assert percentile([7.0], 99) == 7.0


def test_percentile_is_monotone() -> None:
    """p50 never exceeds p99, whatever the sample."""
    sample = [5.0, 1.0, 100.0, 3.0, 3.0, 42.0, 0.5]
    assert percentile(sample, 50) <= percentile(sample, 99) <= max(sample)


@pytest.mark.parametrize("q", [-1, 101])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], q)


def test_percentile_and_median_reject_empty_samples() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match="empty"):
        median([])


def test_median_of_even_and_odd_samples() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5


def test_rate_refuses_an_empty_span() -> None:
    """A run timed at zero seconds is a measurement bug, not infinitely fast."""
    assert rate(1000, 0.5) == 2000
    with pytest.raises(ValueError, match="rate"):
        rate(1000, 0.0)


def test_paired_ratio_is_the_median_of_per_round_ratios() -> None:
    """Within-round ratios cancel a drift that hits both scenarios of a round alike."""
    # The machine gets twice as slow in round 2: the ratio stays 0.5.
    assert paired_ratio([50.0, 25.0, 50.0], [100.0, 50.0, 100.0]) == 0.5


def test_paired_ratio_leaves_out_failed_rounds() -> None:
    assert paired_ratio([50.0, None, 30.0], [100.0, 100.0, None]) == 0.5
    assert paired_ratio([None], [100.0]) is None
    assert paired_ratio([10.0], [0.0]) is None
    assert paired_ratio([], []) is None


def test_paced_latencies_skip_the_warm_up_and_count_missing_records() -> None:
    sent = {0: 1000, 1: 1002, 2: 1004, 3: 1006}
    appended = {0: 1500, 1: 1012, 3: 1007}
    samples, missing = paced_latencies(sent, appended, skip=1)
    assert samples == [10.0, 1.0]  # seq 1 and 3; seq 0 is warm-up
    assert missing == 1  # seq 2 never arrived


def test_paced_latencies_skip_by_sequence_not_by_dict_order() -> None:
    sent = {2: 10, 0: 0, 1: 5}
    samples, _ = paced_latencies(sent, {0: 100, 1: 6, 2: 12}, skip=1)
    assert samples == [1.0, 2.0]
