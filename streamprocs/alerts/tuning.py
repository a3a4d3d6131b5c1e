"""Windows, thresholds and ``for:`` durations of the generated rules, in one place.

Production values suit a 15-30 s scrape: every rate window spans at least
twenty scrapes, so one missed scrape does not move a ratio. ``Tuning.fast()``
is for tests against a real Prometheus scraping every second.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    # Contracts with no ``sla.max_violation_ratio`` still page their team above this.
    default_max_violation_ratio: float = 0.05
    default_ratio_window: str = "10m"
    default_ratio_for: str = "10m"
    # An SLA breach must hold this long: one bad batch is not a page.
    sla_ratio_for: str = "5m"
    # None: each contract's ``sla.window``; tests shorten every window at once.
    sla_window: str | None = None
    # The silence expression already spans ``max_silence``; this only rides out
    # a scrape or rule-evaluation hiccup.
    silence_for: str = "1m"
    # Dead-letter records per second, per dead-letter topic and reason.
    dlq_max_rate: float = 1.0
    dlq_window: str = "15m"
    dlq_for: str = "15m"
    # Messages behind, per source topic, before a growing lag is worth a look.
    lag_min: int = 10_000
    lag_window: str = "15m"
    lag_for: str = "10m"
    # A rejected reload is counted once per broken revision, so the window is
    # how long the alert stays up after the last rejected change.
    reload_window: str = "15m"
    dlq_errors_window: str = "10m"
    aborts_max: int = 3
    aborts_window: str = "10m"
    aborts_for: str = "5m"
    down_for: str = "2m"

    @classmethod
    def fast(cls) -> Tuning:
        """Second-scale windows for an end-to-end test scraping every second."""
        return cls(
            default_ratio_window="20s",
            default_ratio_for="0s",
            sla_ratio_for="0s",
            sla_window="20s",
            silence_for="0s",
            dlq_max_rate=0.5,
            dlq_window="20s",
            dlq_for="0s",
            lag_min=1,
            lag_window="20s",
            lag_for="0s",
            reload_window="20s",
            dlq_errors_window="20s",
            aborts_max=1,
            aborts_window="20s",
            aborts_for="0s",
            down_for="0s",
        )
