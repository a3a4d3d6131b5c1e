"""Resident memory over repeated contract reloads: the enforcer must not grow per reload.

Each round does what the enforcer does when the contract files change: load and
compile the whole set (``load_contract_set``), build a new ``Router``, and route
records with it, so that the router's caches (version names, shared decisions)
fill up. The previous router is dropped, as the enforcer drops it.

Run from the repository root: ``python -m bench.reload_memory [--reloads N]``.
It prints VmRSS after a full garbage collection at a few points; the figure to
read is the difference between the later points (the first ones include
one-off allocations such as imports and interpreter caches).
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

from streamprocs.benchmarks.worker import status_mb
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.traffic import generate_mix

RECORDS_PER_ROUND = 2000


def rss_mib() -> float:
    rss = status_mb("VmRSS")
    if rss is None:
        raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=300)
    parser.add_argument("--contracts", type=Path, default=Path("contracts"))
    args = parser.parse_args()
    contract_set = load_contract_set(args.contracts)
    mix = generate_mix(
        contract_set, RECORDS_PER_ROUND, invalid_share=0.03, seed=1, max_event_bytes=16384
    )
    records = [(r.topic, r.headers, r.value) for r in mix]
    marks = {n for n in (10, 50, 100, 200, 300, 500, 1000) if n <= args.reloads}
    marks.add(args.reloads)
    for reload in range(1, args.reloads + 1):
        router = Router(load_contract_set(args.contracts))
        for topic, headers, value in records:
            router.route(topic, headers, value)
        if reload in marks:
            gc.collect()
            print(f"after {reload:5d} reloads: VmRSS {rss_mib():6.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
