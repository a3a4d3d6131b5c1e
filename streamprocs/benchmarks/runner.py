"""One ``dce bench`` session: a broker, the input once, every scenario in turn, the rows.

Order of work:

1. a broker: the one at ``--bootstrap``, else a private :class:`DevBroker` on
   free ports under a temporary home (stopped and deleted at the end);
2. the input: the contracts' mix produced once to ``full`` copies of the source
   topics (and its first ``slow_events`` records to ``sample`` copies, which the
   slow scenarios read so that the default run stays within its time budget);
3. throughput rounds: in each round every scenario runs once, in its own worker
   process with a fresh consumer group and fresh output topics; the order rotates
   from round to round so that no scenario always runs first or last;
4. a latency phase per scenario: records produced at a fixed rate well below the
   slowest scenario's capacity, latency = when a read_committed consumer saw the
   output record (see readback.LiveReader) - input CreateTime;
5. rows (medians of the rounds) and the issue's targets.

A run's time is from its worker's first non-empty ``consume()`` (wall clock) to
the broker's LogAppendTime of the last record it wrote; the runner reads every
output and dead-letter record back and fails the run unless it finds exactly as
many as the input holds.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException

from streamprocs.benchmarks.child import WorkerFailed, WorkerProcess
from streamprocs.benchmarks.inputs import iter_mix, pad, produce_paced, produce_to
from streamprocs.benchmarks.pyspy import Entry, own_time, py_spy
from streamprocs.benchmarks.readback import LiveReader, read_outputs
from streamprocs.benchmarks.results import (
    LatencyResult,
    Row,
    RunResult,
    TargetCheck,
    build_rows,
    check_targets,
)
from streamprocs.benchmarks.scenarios import CEILING, SCENARIOS, Kind, Scenario
from streamprocs.benchmarks.spec import DONE, READY, WorkerSpec
from streamprocs.benchmarks.stats import paced_latencies, rate
from streamprocs.benchmarks.topics import (
    INPUT_CONFIG,
    OUTPUT_CONFIG,
    Layout,
    Naming,
    Topics,
    rewrite_contracts,
)
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.traffic import SampleRecord, generate_mix

# Sized so that the default run (all five scenarios, three rounds, the latency
# phases) ends within about five minutes on 2 cores; see bench/README.md. At
# 100k the ceiling's run lasted under a second, too short a window to hold
# steady: it measured 72k-142k events/s from one run to the next.
DEFAULT_EVENTS = 300_000
DEFAULT_REPEAT = 3
# faust (~1.5k events/s) and pure-Python jsonschema (a few k events/s) would take
# minutes for DEFAULT_EVENTS; they read the first records of the same mix instead.
DEFAULT_SLOW_EVENTS = 10_000
# After the paced phase's worker is done, its last records are visible within a
# transaction commit; the bound turns a record that never shows up into an error.
LIVE_READ_TIMEOUT_S = 30.0
# The too_large samples are one byte over this limit, and the enforcer runs with it.
# 16 KiB keeps them realistic (the 1 MiB default would make 0.4% of the input
# 1 MiB records, i.e. most of its bytes).
DEFAULT_MAX_EVENT_BYTES = 16 * 1024
# Latency phase: well below the slowest scenario's capacity (faust, ~1.5k/s), so
# latency is the processing path's, not a queue's.
DEFAULT_LATENCY_RATE = 500.0
DEFAULT_LATENCY_SECONDS = 6.0
# The first second of the paced phase is warm-up (first metadata requests, cold
# caches) and is left out of the percentiles.
LATENCY_WARMUP_S = 1.0
# After a worker says it is assigned, give its first fetch request time to reach
# the broker before pacing starts (assignment to first fetch is ~100 ms here).
SETTLE_S = 1.0
# A worker imports, loads the contracts and joins its group in a few seconds
# (faust in about five); the bound turns a stuck start into an error.
READY_TIMEOUT_S = 120.0
# Bound on one run: startup plus the input at 100 events/s, far below any
# scenario's rate, so only a stuck worker ever reaches it.
STARTUP_ALLOWANCE_S = 120.0
MIN_RATE = 100.0
# A private broker answers within seconds once its jars are cached; the first
# run fetches Kafka from Maven Central first, bounded separately by DevBroker.
BROKER_UP_TIMEOUT_S = 120.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    events: int = DEFAULT_EVENTS
    repeat: int = DEFAULT_REPEAT
    slow_events: int = DEFAULT_SLOW_EVENTS
    invalid_share: float = 0.03
    event_size: int | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    scenarios: tuple[Scenario, ...] = SCENARIOS
    bootstrap: str | None = None
    contracts_dir: Path = Path("contracts")
    partitions: int = 1
    latency_rate: float = DEFAULT_LATENCY_RATE
    latency_seconds: float = DEFAULT_LATENCY_SECONDS
    seed: int = 0
    keep_topics: bool = False
    # py-spy every throughput run and write speedscope files here (see pyspy.py).
    profile_dir: Path | None = None

    def events_for(self, scenario: Scenario) -> int:
        return min(self.events, self.slow_events) if scenario.slow else self.events

    def validate(self) -> None:
        if self.events < 1:
            raise ValueError("--events must be at least 1")
        if self.repeat < 1:
            raise ValueError("--repeat must be at least 1")
        if self.slow_events < 1:
            raise ValueError("--slow-events must be at least 1")
        if not 0.0 <= self.invalid_share <= 1.0:
            raise ValueError("--invalid-share must be between 0 and 1")
        if self.partitions < 1:
            raise ValueError("--partitions must be at least 1")
        if self.latency_rate <= 0 or self.latency_seconds < 0:
            raise ValueError("--latency-rate must be positive and --latency-seconds not negative")
        if self.event_size is not None and self.event_size >= self.max_event_bytes:
            raise ValueError("--event-size must be below --max-event-bytes")


@dataclass
class Report:
    options: Options
    rows: list[Row]
    checks: list[TargetCheck]
    runs: list[RunResult]
    latencies: dict[str, LatencyResult]
    input_summary: str
    wall_seconds: float
    unavailable: dict[str, str] = field(default_factory=dict)
    # Scenario -> top functions by own time, with --profile.
    profiles: dict[str, list[Entry]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(row.errors for row in self.rows)


def available(scenario: Scenario) -> str | None:
    """Why a scenario cannot run here (a missing optional package), or ``None``."""
    import importlib.util

    for module in scenario.needs:
        if importlib.util.find_spec(module) is None:
            extra = "faust-streaming" if module == "faust" else module
            return f"`{module}` is not installed (pip install {extra})"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def broker(bootstrap: str | None, progress: Progress) -> Iterator[str]:
    """The given bootstrap servers, or a private broker on free ports for the session."""
    if bootstrap:
        yield bootstrap
        return
    from streamprocs.devkafka import DevBroker

    home = Path(tempfile.mkdtemp(prefix="dce-bench-broker-"))
    dev = DevBroker(home, _free_port(), _free_port())
    progress(f"starting a private Kafka broker on port {dev.port} (home {home})")
    try:
        yield dev.up(BROKER_UP_TIMEOUT_S)
    finally:
        dev.down(wipe=True)
        shutil.rmtree(home, ignore_errors=True)


class Session:
    def __init__(self, options: Options, bootstrap: str, work: Path) -> None:
        self.options = options
        self.bootstrap = bootstrap
        self.work = work
        self.contract_set: ContractSet = load_contract_set(options.contracts_dir)
        self.layout = Layout.of(self.contract_set)
        self.naming = Naming(uuid.uuid4().hex[:6])
        self.topics = Topics(bootstrap)
        self.full = {s: self.naming.input("full", s) for s in self.layout.sources}
        self.sample = {s: self.naming.input("sample", s) for s in self.layout.sources}
        self.profiler: str | None = None
        if options.profile_dir is not None:
            self.profiler = py_spy()
            if self.profiler is None:
                raise ValueError("--profile needs py-spy (pip install py-spy)")
            options.profile_dir.mkdir(parents=True, exist_ok=True)

    # --- input ---------------------------------------------------------------------------

    def produce_input(self) -> str:
        o = self.options
        needs_sample = any(s.slow for s in o.scenarios) and o.slow_events < o.events
        self.topics.create(self.full.values(), o.partitions, INPUT_CONFIG)
        if needs_sample:
            self.topics.create(self.sample.values(), o.partitions, INPUT_CONFIG)
        else:
            self.sample = self.full
        total = invalid = size = 0
        for chunk in iter_mix(
            self.contract_set,
            o.events,
            invalid_share=o.invalid_share,
            seed=o.seed,
            max_event_bytes=o.max_event_bytes,
            event_size=o.event_size,
        ):
            produce_to(chunk, self.bootstrap, self.full)
            if needs_sample and total < o.slow_events:
                produce_to(chunk[: o.slow_events - total], self.bootstrap, self.sample)
            total += len(chunk)
            invalid += sum(1 for r in chunk if r.expected == "invalid")
            size += sum(len(r.value) for r in chunk)
        return (
            f"{total} records over {len(self.full)} topics x {o.partitions} partition(s), "
            f"{invalid / total:.1%} invalid, {size / total:.0f} bytes per value on average"
        )

    # --- one worker ----------------------------------------------------------------------

    def _spec(
        self, scenario: Scenario, tag: str, inputs: dict[str, str], expected: int
    ) -> tuple[WorkerSpec, list[str]]:
        """The worker's spec and the topics it writes to."""
        o = self.options
        run_dir = self.work / tag
        run_dir.mkdir(parents=True, exist_ok=True)
        routes: dict[str, str] = {}
        contracts: Path | None = None
        if scenario.kind in (Kind.PASSTHROUGH, Kind.FAUST):
            routes = {
                inputs[s]: self.naming.output(tag, self.layout.first_output[s])
                for s in self.layout.sources
            }
            outputs = sorted(routes.values())
        else:
            contracts = run_dir / "contracts"
            rewrite_contracts(o.contracts_dir, contracts, inputs, tag)
            outputs = [self.naming.output(tag, d) for d in self.layout.destinations]
        spec = WorkerSpec(
            kind=scenario.kind.value,
            bootstrap=self.bootstrap,
            group_id=tag,
            expected=expected,
            routes=routes,
            contracts_dir=str(contracts) if contracts is not None else None,
            guarantee=scenario.guarantee,
            transactional_id=f"{tag}.tx" if scenario.guarantee else None,
            max_event_bytes=o.max_event_bytes,
            work_dir=str(run_dir),
        )
        return spec, outputs

    def _timeout(self, expected: int) -> float:
        return STARTUP_ALLOWANCE_S + expected / MIN_RATE

    def throughput(self, scenario: Scenario, round_: int, *, counted: bool = True) -> RunResult:
        """One run of ``scenario`` over the whole input; ``counted=False`` for the warm-up
        (tagged ``warmup``, never profiled)."""
        expected = self.options.events_for(scenario)
        inputs = self.sample if scenario.slow else self.full
        tag = self.naming.run_tag(scenario.name, f"r{round_ + 1}" if counted else "warmup")
        spec, outputs = self._spec(scenario, tag, inputs, expected)
        self.topics.create(outputs, self.options.partitions, OUTPUT_CONFIG)
        worker = WorkerProcess(spec, self.work / f"{tag}.log")
        try:
            try:
                if counted and self.profiler is not None and self.options.profile_dir is not None:
                    worker.wait_for(READY, READY_TIMEOUT_S)
                    worker.profile(self.profiler, self.options.profile_dir / f"{tag}.json")
                done = worker.wait_for(DONE, self._timeout(expected))
            except WorkerFailed:
                worker.kill()
                raise
            code = worker.finish()
            if code != 0:
                raise WorkerFailed(f"the worker exited with {code}" + worker.tail())
            read = read_outputs(self.bootstrap, outputs)
            if read.count != expected or read.last_append_ms is None:
                raise WorkerFailed(
                    f"{read.count} records on the output topics for {expected} consumed"
                )
            started = done.get("first_consumed_at")
            if not isinstance(started, int | float):
                raise WorkerFailed("the worker did not say when it consumed its first record")
            seconds = read.last_append_ms / 1000.0 - started
            if seconds <= 0:
                # Both ends are this host's wall clock; a step of the clock (NTP) can do this.
                raise WorkerFailed(f"the run's duration came out as {seconds:.3f} s")
            return RunResult(
                scenario.name,
                round_,
                expected,
                seconds,
                _peak_rss(done),
                rss_samples=_rss_samples(done),
                cpu_seconds=_cpu_seconds(done),
            )
        except (WorkerFailed, RuntimeError, ValueError, KafkaException) as exc:
            return RunResult(scenario.name, round_, 0, 0.0, 0.0, error=str(exc))
        finally:
            if not self.options.keep_topics:
                self.topics.delete(outputs)

    def latency(self, scenario: Scenario, records: list[SampleRecord]) -> LatencyResult:
        o = self.options
        inputs = {s: self.naming.input(f"paced-{scenario.letter}", s) for s in self.layout.sources}
        tag = self.naming.run_tag(scenario.name, "paced")
        spec, outputs = self._spec(scenario, tag, inputs, len(records))
        self.topics.create(inputs.values(), o.partitions, INPUT_CONFIG)
        self.topics.create(outputs, o.partitions, OUTPUT_CONFIG)
        worker = WorkerProcess(spec, self.work / f"{tag}.log")
        live: LiveReader | None = None
        try:
            try:
                worker.wait_for(READY, READY_TIMEOUT_S)
                live = LiveReader(self.bootstrap, outputs)
                time.sleep(SETTLE_S)
                sent_at = produce_paced(records, self.bootstrap, inputs, o.latency_rate)
                done = worker.wait_for(DONE, self._timeout(len(records)))
            except WorkerFailed:
                worker.kill()
                raise
            worker.finish()
            live.wait_for(sent_at, LIVE_READ_TIMEOUT_S)
            if live.errors:
                raise WorkerFailed(f"reading the outputs live: {live.errors[:3]}")
            skip = int(o.latency_rate * LATENCY_WARMUP_S)
            samples, missing = paced_latencies(sent_at, live.seen_at, skip)
            if missing:
                raise WorkerFailed(f"{missing} paced records never reached an output topic")
            return LatencyResult(scenario.name, tuple(samples), _peak_rss(done))
        except (WorkerFailed, RuntimeError, ValueError, KafkaException) as exc:
            return LatencyResult(scenario.name, (), 0.0, error=str(exc))
        finally:
            if live is not None:
                live.wait_for((), 0)
            if not o.keep_topics:
                self.topics.delete([*inputs.values(), *outputs])

    def paced_records(self) -> list[SampleRecord]:
        o = self.options
        count = max(1, round(o.latency_rate * (o.latency_seconds + LATENCY_WARMUP_S)))
        # Another seed than the throughput input: these records are new to every broker cache.
        records = generate_mix(
            self.contract_set,
            count,
            invalid_share=o.invalid_share,
            seed=o.seed + 1_000_003,
            max_event_bytes=o.max_event_bytes,
        )
        if o.event_size is not None:
            records = [pad(r, o.event_size, o.max_event_bytes) for r in records]
        return records


def _peak_rss(done: dict[str, object]) -> float:
    value = done.get("peak_rss_mb")
    if not isinstance(value, int | float):
        raise WorkerFailed("the worker did not report its peak RSS")
    return float(value)


def _cpu_seconds(done: dict[str, object]) -> float | None:
    value = done.get("cpu_seconds")
    return float(value) if isinstance(value, int | float) else None


def _rss_samples(done: dict[str, object]) -> tuple[tuple[int, float], ...]:
    raw = done.get("rss_samples")
    if not isinstance(raw, list):
        return ()
    return tuple((int(n), float(mb)) for n, mb in raw)


def rotation(scenarios: tuple[Scenario, ...], round_: int) -> list[Scenario]:
    """Round ``round_``'s order: the scenarios rotated by the round number."""
    if not scenarios:
        return []
    k = round_ % len(scenarios)
    return [*scenarios[k:], *scenarios[:k]]


def _describe(run: RunResult) -> str:
    if run.error is not None:
        return f"FAILED: {run.error}"
    per_s = rate(run.events, run.seconds)
    line = f"{run.events} events in {run.seconds:.2f} s = {per_s:,.0f}/s, "
    cpu = run.cpu_us_per_event
    if cpu is not None:
        line += f"CPU {cpu:.1f} µs/event, "
    line += f"peak RSS {run.peak_rss_mb:.0f} MB"
    if len(run.rss_samples) >= 2:
        (first_n, first_mb), (last_n, last_mb) = run.rss_samples[0], run.rss_samples[-1]
        line += f" (RSS {first_mb:.0f} MB at {first_n:,}, {last_mb:.0f} MB at {last_n:,})"
    return line


def run_bench(options: Options, progress: Progress) -> Report:
    """The whole session; never raises for a scenario's failure (it is in the report)."""
    options.validate()
    started = time.monotonic()
    unavailable = {s.name: why for s in options.scenarios if (why := available(s)) is not None}
    for name, why in unavailable.items():
        progress(f"skipping {name}: {why}")
    scenarios = tuple(s for s in options.scenarios if s.name not in unavailable)
    runnable = dataclasses.replace(options, scenarios=scenarios)
    runs: list[RunResult] = []
    latencies: dict[str, LatencyResult] = {}
    summary = ""
    with (
        tempfile.TemporaryDirectory(prefix="dce-bench-") as tmp,
        broker(options.bootstrap, progress) as bootstrap,
    ):
        session = Session(runnable, bootstrap, Path(tmp))
        try:
            progress(f"producing the input to {bootstrap} ...")
            summary = session.produce_input()
            progress(f"input: {summary}")
            # The first run on a new broker paid for its JIT warming up (the ceiling's
            # first round was often ~20% below its others): one ceiling run first,
            # not counted, so that round 1 compares like with like.
            first = next((s for s in scenarios if s.name == CEILING.name), None)
            if first is not None:
                warmup = session.throughput(first, 0, counted=False)
                progress(f"warm-up    {first.name:<18} {_describe(warmup)} (not counted)")
            for round_ in range(options.repeat):
                for scenario in rotation(scenarios, round_):
                    run = session.throughput(scenario, round_)
                    runs.append(run)
                    progress(
                        f"round {round_ + 1}/{options.repeat}  {scenario.name:<18} "
                        + _describe(run)
                    )
            if options.latency_seconds > 0:
                paced = session.paced_records()
                for scenario in scenarios:
                    result = session.latency(scenario, paced)
                    latencies[scenario.name] = result
                    progress(
                        f"latency  {scenario.name:<18} "
                        + (
                            f"FAILED: {result.error}"
                            if result.error
                            else f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms "
                            f"over {len(result.samples_ms)} records at "
                            f"{options.latency_rate:.0f}/s"
                        )
                    )
        finally:
            if not options.keep_topics:
                # Best effort: a leftover topic wastes disk on a shared broker, nothing more.
                with suppress(Exception):
                    session.topics.delete_session(session.naming.prefix)
            session.topics.close()
    rows = build_rows(scenarios, runs, latencies, options.repeat)
    profiles = {}
    if options.profile_dir is not None:
        for scenario in scenarios:
            files = sorted(
                options.profile_dir.glob(f"{session.naming.prefix}.{scenario.name}.r*.json")
            )
            if files:
                profiles[scenario.name] = own_time(files)
    return Report(
        options=options,
        rows=rows,
        checks=check_targets(runs, rows, options.repeat),
        runs=runs,
        latencies=latencies,
        input_summary=summary,
        wall_seconds=time.monotonic() - started,
        unavailable=unavailable,
        profiles=profiles,
    )
