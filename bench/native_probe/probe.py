"""Time parse + schema check of the default benchmark mix: orjson + jsonschema-rs
against the same in Rust from the raw bytes (this folder's extension).

Build and run from the repository root:
    pip install maturin
    maturin build --release -m bench/native_probe/Cargo.toml -o /tmp/probe-wheel
    pip install /tmp/probe-wheel/dce_native_probe-*.whl
    python -m bench.native_probe.probe
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dce_native_probe  # type: ignore[import-not-found]
import orjson

from bench.route import best_us
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.traffic import generate_mix


def main() -> None:
    contract_set = load_contract_set(Path("contracts"))
    mix = generate_mix(contract_set, 50_000, invalid_share=0.03, seed=1, max_event_bytes=16384)
    router = Router(contract_set)
    pairs: list[tuple[Any, Any, bytes]] = []
    checkers: dict[int, Any] = {}
    for r in mix:
        decision = router.route(r.topic, r.headers, r.value)
        if decision.target is None or decision.version is None:
            continue
        version = decision.target.contract.compiled[decision.version]
        if id(version) not in checkers:
            schema = orjson.dumps(version.schema).decode()
            checkers[id(version)] = dce_native_probe.Checker(schema, sorted(version.rule_fields))
        pairs.append((checkers[id(version)], version, r.value))
    size = sum(len(raw) for _, _, raw in pairs) / len(pairs)
    print(f"{len(pairs)} records judged by a contract version, {size:.0f} bytes on average")

    def orjson_and_jsonschema_rs() -> None:
        for _, version, raw in pairs:
            try:
                event = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            version._validator.is_valid(event)

    def rust_parse() -> None:
        for _, _, raw in pairs:
            dce_native_probe.parse(raw)

    def rust_parse_and_schema() -> None:
        for checker, _, raw in pairs:
            doc = dce_native_probe.parse(raw)
            if doc is not None:
                checker.valid(doc)

    def rust_parse_schema_and_rule_fields() -> None:
        for checker, _, raw in pairs:
            checker.check_bytes(raw)

    n = len(pairs)
    best_us("orjson.loads + jsonschema-rs is_valid", n, orjson_and_jsonschema_rs)
    best_us("Rust: serde_json parse", n, rust_parse)
    best_us("Rust: parse + jsonschema is_valid", n, rust_parse_and_schema)
    best_us("Rust: parse + schema + rule fields", n, rust_parse_schema_and_rule_fields)


if __name__ == "__main__":
    main()
