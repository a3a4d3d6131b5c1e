"""The replay rate limit: a token bucket with at most one second of burst."""

from __future__ import annotations

import pytest

from streamprocs.dlq.bucket import TokenBucket


class Clock:
    """A clock the test moves; ``sleep`` moves it, so waits are exact and instant."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_of_one_second_then_the_steady_rate() -> None:
    """rate 10: ten at once, then one every 0.1 s."""
    clock = Clock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert bucket.acquire()
    assert clock.slept == []
    start = clock.now
    for _ in range(20):
        bucket.acquire()
    assert clock.now - start == pytest.approx(2.0)


def test_rates_below_one_per_second_still_allow_one_record() -> None:
    clock = Clock()
    bucket = TokenBucket(0.5, clock=clock, sleep=clock.sleep)
    assert bucket.take() and not bucket.take()
    assert bucket.delay() == pytest.approx(2.0)
    bucket.acquire()
    assert clock.now == pytest.approx(102.0)


def test_idle_time_does_not_bank_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    clock.now += 3600
    taken = 0
    while bucket.take():
        taken += 1
    assert taken == 5


def test_a_stop_request_ends_the_wait() -> None:
    """``acquire`` returns False instead of spinning when the run is being stopped."""
    clock = Clock()
    bucket = TokenBucket(1, clock=clock, sleep=lambda _s: None)  # a wait woken at once
    assert bucket.take()
    assert bucket.acquire(cancelled=lambda: True) is False


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
