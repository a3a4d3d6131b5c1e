"""From measured runs to the report's rows and target checks. Pure: no Kafka, no processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from streamprocs.benchmarks.scenarios import (
    CEILING,
    RATIO_TARGETS,
    RSS_GROWTH_TOLERANCE_MB,
    RSS_LIMIT_MB,
    RSS_SCENARIOS,
    Scenario,
)
from streamprocs.benchmarks.stats import median, paired_ratio, percentile, rate

# The fields of a JSON row, in order: fixed in shared/notes/interfaces.md.
ROW_FIELDS = ("name", "events_per_s", "ratio_to_ceiling", "p50_ms", "p99_ms", "peak_rss_mb")


@dataclass(frozen=True)
class RunResult:
    """One timed throughput run of one scenario."""

    scenario: str
    round: int
    events: int  # records consumed, and found again on the output/dead-letter topics
    seconds: float  # first record consumed -> last record appended to an output topic
    peak_rss_mb: float
    error: str | None = None  # set when the run failed; the other fields are then 0
    # (events consumed, resident MiB) at each 100k: see worker.RSS_SAMPLE_EVERY.
    rss_samples: tuple[tuple[int, float], ...] = ()
    # CPU time of the worker process (all threads) from its first record to its end.
    cpu_seconds: float | None = None

    @property
    def cpu_us_per_event(self) -> float | None:
        if self.error is not None or self.cpu_seconds is None or self.events <= 0:
            return None
        return self.cpu_seconds / self.events * 1e6

    @property
    def events_per_s(self) -> float | None:
        if self.error is not None:
            return None
        return rate(self.events, self.seconds)

    @property
    def rss_growth_mb(self) -> float | None:
        """Resident memory after the last 100k minus after the first; needs two samples."""
        if self.error is not None or len(self.rss_samples) < 2:
            return None
        return self.rss_samples[-1][1] - self.rss_samples[0][1]


@dataclass(frozen=True)
class LatencyResult:
    """The paced phase of one scenario: end-to-end latencies in ms."""

    scenario: str
    samples_ms: tuple[float, ...]
    peak_rss_mb: float
    error: str | None = None

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.samples_ms, 50) if self.samples_ms else None

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.samples_ms, 99) if self.samples_ms else None


@dataclass(frozen=True)
class Row:
    name: str
    events_per_s: float | None
    ratio_to_ceiling: float | None
    p50_ms: float | None
    p99_ms: float | None
    peak_rss_mb: float | None
    # Not part of the JSON row: for the table and the closing summary.
    cpu_us_per_event: float | None = None
    runs: int = 0
    errors: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The fixed JSON row; floats rounded to what a 2-core machine can tell apart."""
        return {
            "name": self.name,
            "events_per_s": _round(self.events_per_s, 0),
            "ratio_to_ceiling": _round(self.ratio_to_ceiling, 3),
            "p50_ms": _round(self.p50_ms, 1),
            "p99_ms": _round(self.p99_ms, 1),
            "peak_rss_mb": _round(self.peak_rss_mb, 1),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def rates_by_round(runs: Sequence[RunResult], name: str, rounds: int) -> list[float | None]:
    """events/s of scenario ``name`` per round (``None`` where the run failed or is missing)."""
    out: list[float | None] = [None] * rounds
    for run in runs:
        if run.scenario == name and 0 <= run.round < rounds:
            out[run.round] = run.events_per_s
    return out


def build_rows(
    scenarios: Sequence[Scenario],
    runs: Sequence[RunResult],
    latencies: dict[str, LatencyResult],
    rounds: int,
) -> list[Row]:
    """One row per scenario: median events/s, paired ratio to the ceiling, latency, peak RSS.

    Peak RSS is the largest of the scenario's runs (throughput and paced phase):
    "peak" is a bound, so the median would understate it.
    """
    ceiling = rates_by_round(runs, CEILING.name, rounds)
    rows = []
    for scenario in scenarios:
        own = [r for r in runs if r.scenario == scenario.name]
        rates = rates_by_round(runs, scenario.name, rounds)
        measured = [r for r in rates if r is not None]
        cpu = [c for r in own if (c := r.cpu_us_per_event) is not None]
        latency = latencies.get(scenario.name)
        rss = [r.peak_rss_mb for r in own if r.error is None]
        if latency is not None and latency.error is None:
            rss.append(latency.peak_rss_mb)
        errors = [f"round {r.round + 1}: {r.error}" for r in own if r.error is not None]
        if latency is not None and latency.error is not None:
            errors.append(f"latency phase: {latency.error}")
        rows.append(
            Row(
                name=scenario.name,
                events_per_s=median(measured) if measured else None,
                ratio_to_ceiling=paired_ratio(rates, ceiling),
                p50_ms=latency.p50_ms if latency is not None else None,
                p99_ms=latency.p99_ms if latency is not None else None,
                peak_rss_mb=max(rss) if rss else None,
                cpu_us_per_event=median(cpu) if cpu else None,
                runs=len(measured),
                errors=tuple(errors),
            )
        )
    return rows


@dataclass(frozen=True)
class TargetCheck:
    label: str
    value: float | None  # the measured ratio or MB; None when not measured
    passed: bool | None  # None when not measured
    unit: str = "x"


def check_targets(runs: Sequence[RunResult], rows: Sequence[Row], rounds: int) -> list[TargetCheck]:
    """The issue's targets as pass/fail information (never an exit code)."""
    checks = []
    for target in RATIO_TARGETS:
        value = paired_ratio(
            rates_by_round(runs, target.numerator, rounds),
            rates_by_round(runs, target.denominator, rounds),
        )
        passed = None if value is None else value >= target.minimum
        checks.append(TargetCheck(target.label, value, passed))
    by_name = {row.name: row for row in rows}
    for name in RSS_SCENARIOS:
        row = by_name.get(name)
        rss = row.peak_rss_mb if row is not None else None
        passed = None if rss is None else rss < RSS_LIMIT_MB
        checks.append(TargetCheck(f"peak RSS {name} < {RSS_LIMIT_MB:.0f} MB", rss, passed, "MB"))
    for name in RSS_SCENARIOS:
        growths = [g for r in runs if r.scenario == name and (g := r.rss_growth_mb) is not None]
        growth = max(growths) if growths else None
        passed = None if growth is None else growth < RSS_GROWTH_TOLERANCE_MB
        label = f"RSS growth {name}, first -> last 100k < {RSS_GROWTH_TOLERANCE_MB:.0f} MB"
        checks.append(TargetCheck(label, growth, passed, "MB"))
    return checks
