"""SIGTERM in the middle of a stream, then a restart: exact totals, nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from streamprocs.contracts.loader import load_contract_set
from streamprocs.traffic import generate_mix, produce
from tests.integration.support import (
    all_topics,
    create_topics,
    isolated_contracts,
    read_topics,
    seq,
)

# A clean stop finishes one batch and closes the clients: seconds. The bound
# only turns a hung shutdown into a failure.
STOP_TIMEOUT_S = 60.0


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "streamprocs", "run", "--config", str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "DCE_LOG__FORMAT": "json"},
    )


def test_sigterm_mid_stream_then_restart_keeps_exact_totals(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Stop the enforcer with SIGTERM while it works through a backlog, restart it,
    and every record is downstream exactly once under read_committed."""
    contracts, _ = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts)
    samples = generate_mix(
        load_contract_set(contracts),
        40000,
        invalid_share=0.05,
        seed=11,
        reasons=["schema", "rule", "decode", "unknown_version"],
    )
    produce(samples, kafka_bootstrap)
    config = tmp_path / "dce.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap.servers": kafka_bootstrap},
                "contracts_dir": str(contracts),
                "group_id": "sigterm-test",
                "transactional_id": "sigterm-test-tx",
                "batch_size": 200,
                "metrics": {"enabled": False},
            }
        )
    )
    log = tmp_path / "enforcer.log"
    first = start(config, log)
    partial = read_topics(kafka_bootstrap, all_topics(router), until=lambda r: len(r) >= 1000)
    assert len(partial) >= 1000, log.read_text()[-3000:]
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=STOP_TIMEOUT_S) == 0, log.read_text()[-3000:]

    after_stop = read_topics(kafka_bootstrap, all_topics(router), until=lambda r: True, timeout=5)
    assert len(after_stop) < len(samples), (
        "the enforcer finished before SIGTERM; nothing was tested"
    )

    second = start(config, log)
    try:
        landed = read_topics(
            kafka_bootstrap,
            all_topics(router),
            until=lambda r: len(r) >= len(samples),
            settle_s=3.0,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=STOP_TIMEOUT_S) == 0
    counts = Counter(seq(r) for r in landed)
    assert len(counts) == len(samples), "records lost"
    assert max(counts.values()) == 1, "records duplicated"
    assert "signal received" in log.read_text()
