"""Micro-benchmark of dce's validator against pure-Python ``jsonschema``.

For every version of every contract that has example events
(``<domain>/<event>/examples/v<N>.valid.jsonl`` and ``v<N>.invalid.jsonl``),
it measures, in µs per event:

* ``dce_check``: ``CompiledVersion.check(raw)``, bytes in, verdict out (size and
  depth limits, orjson, jsonschema-rs, violations built for failures, CEL rules);
* ``dce_decode``: ``CompiledVersion.decode(raw)`` alone (limits + orjson);
* ``dce_schema``: ``check(raw)`` on the same version with its rules taken away,
  the like-for-like counterpart of the jsonschema column;
* ``rules``: the version's CEL rules on the already-parsed events that pass the
  schema (the only ones ``check`` runs rules on), plus each rule on its own;
* ``jsonschema``: ``json.loads`` + ``list(Draft202012Validator(schema,
  format_checker=FORMAT_CHECKER).iter_errors(event))``, every error collected.

Each figure is the median over several timed rounds (``time.perf_counter_ns``,
garbage collector off during a round as ``timeit`` does) after a warm-up.

Run from the repository root: ``python -m bench.validator [--seconds S] [--json]``.
A future ``dce bench`` command can call :func:`run`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from streamprocs.contracts.compiler import CompiledVersion
from streamprocs.contracts.examples import example_files
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.rules import CompiledRule
from streamprocs.contracts.verdict import Verdict

DEFAULT_SECONDS = 1.0
DEFAULT_CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
ROUND_NS = 1_000_000  # aim for 1 ms per timed round
MIN_ROUNDS = 5
# Share of a case's time budget given to each measurement.
SHARE_CHECK = 0.22
SHARE_SCHEMA = 0.20
SHARE_JSONSCHEMA = 0.22
SHARE_RULES = 0.14
SHARE_DECODE = 0.07
SHARE_EACH_RULE = 0.15  # split between the version's rules

Row = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Case:
    contract_id: str
    version: int
    valid: bool
    events: tuple[bytes, ...]
    compiled: CompiledVersion

    @property
    def name(self) -> str:
        return f"{self.contract_id}@v{self.version}"

    @property
    def kind(self) -> str:
        return "valid" if self.valid else "invalid"


def time_per_call_ns(fn: Callable[[], object], budget_s: float) -> float:
    """Median ns of one ``fn()`` over many short timed rounds, after a warm-up.

    About a tenth of ``budget_s`` goes to the warm-up (at least two calls). The
    rest is cut into rounds of about ``ROUND_NS`` (at least one call each, at
    least ``MIN_ROUNDS`` of them): rounds shorter than a scheduler time slice
    are mostly not preempted, so the median holds up when other processes share
    the cores, where a few long rounds would all be inflated.
    """
    clock = time.perf_counter_ns
    warm_deadline = clock() + int(budget_s * 0.1e9)
    calls = 0
    start = clock()
    while calls < 2 or clock() < warm_deadline:
        fn()
        calls += 1
    one_call = max(1, (clock() - start) // calls)
    loops = max(1, ROUND_NS // one_call)
    rounds = max(MIN_ROUNDS, int(budget_s * 0.9e9) // (loops * one_call))
    samples: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            t0 = clock()
            for _ in range(loops):
                fn()
            samples.append((clock() - t0) / loops)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples)


def _jsonschema() -> Any:
    """The ``jsonschema`` package (a dev dependency), or None when it is not installed."""
    try:
        return importlib.import_module("jsonschema")
    except ImportError:
        return None


def _formats(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        fmt = node.get("format")
        if isinstance(fmt, str):
            yield fmt
        for sub in node.values():
            yield from _formats(sub)
    elif isinstance(node, list):
        for sub in node:
            yield from _formats(sub)


def load_cases(contracts: Path) -> list[Case]:
    """One case per (contract, version, valid|invalid) example file with events in it."""
    cases = []
    contract_set = load_contract_set(contracts)
    for contract_id in sorted(contract_set.contracts):
        contract = contract_set.contracts[contract_id]
        for path, version, expect_valid in example_files(contract):
            compiled = contract.compiled.get(version)
            if compiled is None:
                continue
            events = tuple(line for line in path.read_bytes().splitlines() if line.strip())
            if events:
                cases.append(Case(contract_id, version, expect_valid, events, compiled))
    cases.sort(key=lambda c: (c.contract_id, c.version, not c.valid))
    return cases


def _rules_runner(rules: tuple[CompiledRule, ...], parsed: list[Any]) -> Callable[[], object]:
    def go() -> None:
        for event in parsed:
            for rule in rules:
                rule.check(event)

    return go


def measure(case: Case, seconds: float) -> Row:
    """Time one case; ``seconds`` is its whole budget, shared by all its measurements."""
    compiled = case.compiled
    events = case.events
    count = len(events)
    schema_only = dataclasses.replace(compiled, rules=())

    verdicts: list[Verdict] = [compiled.check(raw) for raw in events]
    parsed = [orjson.loads(raw) for raw in events]
    # check() runs rules only on events that pass the schema.
    schema_ok = [ev for raw, ev in zip(events, parsed, strict=True) if schema_only.check(raw).valid]

    def dce_check() -> None:
        check = compiled.check
        for raw in events:
            check(raw)

    def dce_schema() -> None:
        check = schema_only.check
        for raw in events:
            check(raw)

    def dce_decode() -> None:
        decode = compiled.decode
        for raw in events:
            decode(raw)

    def per_event(fn: Callable[[], object], share: float, n: int = count) -> float | None:
        if n == 0:
            return None
        return time_per_call_ns(fn, seconds * share) / n / 1000

    row: Row = {
        "contract": case.contract_id,
        "version": case.version,
        "kind": case.kind,
        "events": count,
        "mean_bytes": round(sum(map(len, events)) / count),
        "dce_rejected": sum(not v.valid for v in verdicts),
        "dce_check_us": per_event(dce_check, SHARE_CHECK),
        "dce_decode_us": per_event(dce_decode, SHARE_DECODE),
        "dce_schema_us": per_event(dce_schema, SHARE_SCHEMA),
        "rules_events": len(schema_ok),
        "rules_us": None,
        "rules": [],
        "jsonschema_us": None,
        "jsonschema_rejected": None,
        "jsonschema_unchecked_formats": [],
        "speedup_schema": None,
        "speedup_check": None,
    }

    rules = compiled.rules
    if rules and schema_ok:
        row["rules_us"] = per_event(_rules_runner(rules, schema_ok), SHARE_RULES, len(schema_ok))
        each = SHARE_EACH_RULE / len(rules)
        for rule in rules:
            applied = sum(all(f in ev for f in rule.fields) for ev in schema_ok)
            row["rules"].append(
                {
                    "id": rule.id,
                    "severity": rule.rule.severity.value,
                    "fields": list(rule.fields),
                    "applied": applied,
                    "us_per_event": per_event(
                        _rules_runner((rule,), schema_ok), each, len(schema_ok)
                    ),
                }
            )

    jsonschema = _jsonschema()
    if jsonschema is not None:
        cls = jsonschema.Draft202012Validator
        validator = cls(compiled.schema, format_checker=cls.FORMAT_CHECKER)
        loads = json.loads
        iter_errors = validator.iter_errors

        def pure_python() -> None:
            for raw in events:
                list(iter_errors(loads(raw)))

        row["jsonschema_us"] = per_event(pure_python, SHARE_JSONSCHEMA)
        row["jsonschema_rejected"] = sum(
            any(True for _ in iter_errors(loads(raw))) for raw in events
        )
        checked = set(cls.FORMAT_CHECKER.checkers)
        row["jsonschema_unchecked_formats"] = sorted(set(_formats(compiled.schema)) - checked)
        if row["dce_schema_us"]:
            row["speedup_schema"] = row["jsonschema_us"] / row["dce_schema_us"]
        if row["dce_check_us"]:
            row["speedup_check"] = row["jsonschema_us"] / row["dce_check_us"]
    return row


def run(seconds_per_case: float = DEFAULT_SECONDS, contracts: Path | None = None) -> list[Row]:
    """Benchmark every example case under ``contracts``; one row per case."""
    return [measure(case, seconds_per_case) for case in load_cases(contracts or DEFAULT_CONTRACTS)]


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}×"


def render(rows: list[Row], console: Console) -> None:
    table = Table(title="Validator cost per event (µs, median of rounds)")
    table.add_column("contract@version", no_wrap=True)
    table.add_column("kind")
    for header in (
        "events",
        "bytes",
        "dce check",
        "decode",
        "schema",
        "rules",
        "jsonschema",
        "× schema",
        "× check",
        "rejected dce/js",
    ):
        table.add_column(header, justify="right")
    for r in rows:
        js_rejected = "-" if r["jsonschema_rejected"] is None else r["jsonschema_rejected"]
        table.add_row(
            f"{r['contract']}@v{r['version']}",
            r["kind"],
            str(r["events"]),
            str(r["mean_bytes"]),
            _us(r["dce_check_us"]),
            _us(r["dce_decode_us"]),
            _us(r["dce_schema_us"]),
            _us(r["rules_us"]),
            _us(r["jsonschema_us"]),
            _times(r["speedup_schema"]),
            _times(r["speedup_check"]),
            f"{r['dce_rejected']}/{js_rejected}",
        )
    console.print(table)

    rule_table = Table(title="CEL rules on the valid examples (µs per event, rule alone)")
    for header in ("contract@version", "rule", "severity", "reads", "applied", "µs"):
        rule_table.add_column(header, justify="right" if header in ("applied", "µs") else "left")
    for r in rows:
        if r["kind"] != "valid":
            continue
        for rule in r["rules"]:
            rule_table.add_row(
                f"{r['contract']}@v{r['version']}",
                rule["id"],
                rule["severity"],
                ", ".join(rule["fields"]),
                f"{rule['applied']}/{r['rules_events']}",
                _us(rule["us_per_event"]),
            )
    if rule_table.row_count:
        console.print(rule_table)

    unchecked = sorted({f for r in rows for f in r["jsonschema_unchecked_formats"]})
    notes = [
        "dce check = decode + schema + rules (what CompiledVersion.check does); decode = limits "
        "+ orjson; schema = check with the rules taken away.",
        "× schema = jsonschema / dce schema (like for like: neither runs rules); "
        "× check = jsonschema / dce check.",
        "rules = all of a version's rules on the events that pass the schema, per such event.",
    ]
    if unchecked:
        notes.append(
            f"jsonschema's format checker skips {', '.join(unchecked)} here (optional "
            "packages missing), so its column does less work than dce's."
        )
    if any(r["jsonschema_us"] is None for r in rows):
        notes.append("jsonschema is not installed: pip install jsonschema for its column.")
    for note in notes:
        console.print(f"[dim]{note}[/dim]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validator", description=__doc__)
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"time budget per case, all measurements included (default {DEFAULT_SECONDS})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of rows")
    parser.add_argument(
        "--contracts",
        type=Path,
        default=DEFAULT_CONTRACTS,
        help="contracts folder (default: the repository's contracts/)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    started = time.perf_counter()
    rows = run(args.seconds, args.contracts)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    console = Console()
    if not console.is_terminal:  # piped or redirected: don't squeeze the tables into 80 columns
        console = Console(width=max(console.width, 150))
    if not rows:
        console.print(f"no example events under {args.contracts}/*/*/examples/")
        return 1
    render(rows, console)
    console.print(
        f"[dim]{len(rows)} cases in {time.perf_counter() - started:.1f} s, "
        f"Python {sys.version.split()[0]}[/dim]"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
