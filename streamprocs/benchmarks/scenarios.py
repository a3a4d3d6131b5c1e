"""The scenarios ``dce bench`` compares, and the targets of issue 6 between them. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Which loop a worker process runs (see :mod:`streamprocs.benchmarks.worker`)."""

    PASSTHROUGH = "passthrough"
    ENFORCER = "enforcer"
    FAUST = "faust"
    NAIVE = "naive"


@dataclass(frozen=True)
class Scenario:
    name: str  # the JSON row's ``name``
    letter: str  # the label, (a) to (e)
    kind: Kind
    description: str
    guarantee: str | None = None  # the enforcer's processing_guarantee
    # Slow scenarios (a few thousand events/s) read a smaller copy of the input so
    # the default run stays within its time budget; see runner.slow_events.
    slow: bool = False
    # Python packages the scenario needs beyond the base install.
    needs: tuple[str, ...] = ()


CEILING = Scenario(
    "ceiling",
    "a",
    Kind.PASSTHROUGH,
    "confluent-kafka consume -> produce passthrough, no validation",
)
DCE_ALO = Scenario(
    "dce_at_least_once",
    "b",
    Kind.ENFORCER,
    "dce Enforcer, at_least_once",
    guarantee="at_least_once",
)
DCE_EOS = Scenario(
    "dce_exactly_once",
    "c",
    Kind.ENFORCER,
    "dce Enforcer, exactly_once",
    guarantee="exactly_once",
)
FAUST = Scenario(
    "faust",
    "d",
    Kind.FAUST,
    "faust-streaming agent forwarding every event",
    slow=True,
    needs=("faust",),
)
NAIVE = Scenario(
    "naive_jsonschema",
    "e",
    Kind.NAIVE,
    "the ceiling's loop validating with pure-Python jsonschema",
    slow=True,
    needs=("jsonschema",),
)

SCENARIOS: tuple[Scenario, ...] = (CEILING, DCE_ALO, DCE_EOS, FAUST, NAIVE)
BY_NAME = {s.name: s for s in SCENARIOS}
# Short names accepted by --scenarios besides the row names.
ALIASES = {
    **{s.letter: s.name for s in SCENARIOS},
    "alo": DCE_ALO.name,
    "eos": DCE_EOS.name,
    "naive": NAIVE.name,
}


def select(names: str | None) -> list[Scenario]:
    """Scenarios from a comma-separated list (names, letters or aliases), in the canonical order.

    The ceiling is always included: every other row is a ratio to it.
    """
    if not names:
        return list(SCENARIOS)
    wanted = set()
    unknown = []
    for raw in names.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        resolved = ALIASES.get(name, name)
        if resolved not in BY_NAME:
            unknown.append(raw.strip())
        else:
            wanted.add(resolved)
    if unknown:
        known = ", ".join(f"{s.name} ({s.letter})" for s in SCENARIOS)
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; choose from {known}")
    wanted.add(CEILING.name)
    return [s for s in SCENARIOS if s.name in wanted]


@dataclass(frozen=True)
class Target:
    """A goal of issue 6: ``numerator / denominator >= minimum`` on events/s."""

    label: str
    numerator: str
    denominator: str
    minimum: float


RATIO_TARGETS: tuple[Target, ...] = (
    Target("(b)/(a) >= 0.6", DCE_ALO.name, CEILING.name, 0.6),
    Target("(c)/(a) >= 0.4", DCE_EOS.name, CEILING.name, 0.4),
    Target("(b)/(d) >= 20", DCE_ALO.name, FAUST.name, 20.0),
    Target("(b)/(e) >= 10", DCE_ALO.name, NAIVE.name, 10.0),
)
# The memory goal, for the enforcer scenarios (stated there for 1M events).
RSS_LIMIT_MB = 200.0
RSS_SCENARIOS: tuple[str, ...] = (DCE_ALO.name, DCE_EOS.name)
# "No growth between the first and the last 100k": resident memory moves by a few
# MiB between batches (librdkafka's fetch buffers, the allocator), so growth under
# this much counts as none. Measured only on runs of at least 200k events.
RSS_GROWTH_TOLERANCE_MB = 10.0
