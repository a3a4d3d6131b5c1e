"""Per-record cost of judging the default benchmark mix, without Kafka.

Routes the records of ``streamprocs.traffic.generate_mix`` (the input of
``dce bench``: the example contracts, 3% invalid) through ``Router.route``, and
times its parts on the same records: ``orjson.loads``, jsonschema-rs
``is_valid`` and ``CompiledVersion.check_value`` (schema plus CEL rules), each
as µs per record, best of a few rounds.

Run from the repository root: ``python -m bench.route [--records N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from streamprocs.contracts.compiler import CompiledVersion
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.traffic import generate_mix

ROUNDS = 3


def best_us(label: str, count: int, run: Callable[[], None]) -> None:
    best = min(_timed(run) for _ in range(ROUNDS))
    print(f"{label:40s} {best / count * 1e6:6.2f} µs per record")


def _timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--contracts", type=Path, default=Path("contracts"))
    args = parser.parse_args()
    contract_set = load_contract_set(args.contracts)
    mix = generate_mix(
        contract_set, args.records, invalid_share=0.03, seed=1, max_event_bytes=16384
    )
    records = [(r.topic, r.headers, r.value) for r in mix]
    router = Router(contract_set)
    # The version each parsed record is judged by, for timing the parts alone.
    judged: list[tuple[CompiledVersion, Any]] = []
    for topic, headers, value in records:
        decision = router.route(topic, headers, value)
        if decision.target is not None and decision.version is not None:
            try:
                event = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            judged.append((decision.target.contract.compiled[decision.version], event))

    def loads() -> None:
        for _, _, value in records:
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost per record
                orjson.loads(value)
            except orjson.JSONDecodeError:
                pass

    def schema() -> None:
        for version, event in judged:
            version._validator.is_valid(event)

    def check() -> None:
        for version, event in judged:
            version.check_value(event)

    def route() -> None:
        judge = router.route
        for topic, headers, value in records:
            judge(topic, headers, value)

    print(f"{len(records)} records, {len(judged)} of them judged by a contract version")
    best_us("orjson.loads (every record)", len(records), loads)
    best_us("jsonschema-rs is_valid (judged records)", len(judged), schema)
    best_us("check_value: schema + rules (judged)", len(judged), check)
    best_us("Router.route (every record)", len(records), route)


if __name__ == "__main__":
    main()
