"""A token bucket: at most ``rate`` records per second, with at most one second of burst."""

from __future__ import annotations

import time
from collections.abc import Callable

# Refilling by (elapsed x rate) in floating point can leave 0.9999999999 tokens
# where arithmetic says 1: count that as a token rather than wait a femtosecond,
# which a clock may not even be able to advance by.
_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self.rate = rate
        # One second's worth, but at least one token so that rates below 1/s work.
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def delay(self) -> float:
        """Seconds until one token is available (0: now)."""
        self._refill()
        return 0.0 if self._tokens >= 1.0 - _EPSILON else (1.0 - self._tokens) / self.rate

    def take(self) -> bool:
        """Take a token if one is available."""
        self._refill()
        if self._tokens >= 1.0 - _EPSILON:
            self._tokens = max(0.0, self._tokens - 1.0)
            return True
        return False

    def acquire(self, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Wait until a token is available and take it; False if ``cancelled`` first.

        ``sleep`` may return early (an ``Event.wait`` woken by a stop request):
        ``cancelled`` is checked after every wait, so a stop is never held up.
        """
        while not self.take():
            if cancelled():
                return False
            self._sleep(self.delay())
        return True
