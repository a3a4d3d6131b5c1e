"""The command line of ``python -m streamprocs.traffic``: generate a mix and produce it."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from streamprocs.contracts.compiler import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
)
from streamprocs.contracts.model import REASONS
from streamprocs.traffic.mix import generate_mix
from streamprocs.traffic.produce import ProduceError, produce
from streamprocs.traffic.summary import _print_summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m streamprocs.traffic``: generate a mix, print it, produce it."""
    parser = argparse.ArgumentParser(
        prog="python -m streamprocs.traffic",
        description="Produce labelled sample events for the contracts' topics.",
    )
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    parser.add_argument("--count", type=int, default=2000, help="records to produce")
    parser.add_argument(
        "--invalid-share", type=float, default=0.03, help="share of invalid records"
    )
    parser.add_argument("--contracts", type=Path, default=Path("contracts"), help="folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="records per second")
    parser.add_argument(
        "--reasons", default=None, help=f"comma-separated subset of {','.join(REASONS)}"
    )
    parser.add_argument("--max-event-bytes", type=int, default=DEFAULT_MAX_BYTES)
    parser.add_argument("--max-depth", type=int, default=DEFAULT_MAX_DEPTH)
    parser.add_argument("--dry-run", action="store_true", help="print the summary, produce nothing")
    args = parser.parse_args(argv)
    if args.bootstrap is None and not args.dry_run:
        parser.error("--bootstrap is required (or --dry-run)")

    from streamprocs.contracts.errors import ContractSetError
    from streamprocs.contracts.loader import load_contract_set

    try:
        contract_set = load_contract_set(args.contracts)
        reasons = args.reasons.split(",") if args.reasons else None
        records = generate_mix(
            contract_set,
            args.count,
            invalid_share=args.invalid_share,
            seed=args.seed,
            reasons=reasons,
            max_event_bytes=args.max_event_bytes,
            max_depth=args.max_depth,
        )
    except ContractSetError as exc:
        print(f"error: the contracts do not load:\n{exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_summary(records)
    if args.dry_run:
        return 0
    started = time.monotonic()
    try:
        delivered = produce(records, args.bootstrap, rate=args.rate)
    except ProduceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"delivered {delivered} records to {args.bootstrap} in {elapsed:.1f} s")
    return 0
