"""The pure half of streamprocs.dlq never imports a Kafka client (see its package docstring)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PURE = ["record", "filters", "inspect", "decision", "bucket", "audit", "options", "render"]
# A fresh interpreter imports these in about a second; the bound only keeps a
# hung import from hanging the suite.
IMPORT_TIMEOUT_S = 60.0


def test_pure_modules_import_without_confluent_kafka() -> None:
    """Filters, summary, replay decision, headers, report and rendering are testable and
    usable without librdkafka: importing them never loads the client."""
    imports = "; ".join(f"import streamprocs.dlq.{m}" for m in PURE)
    code = f"import sys; {imports}; print('confluent_kafka' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=IMPORT_TIMEOUT_S,
        check=True,
    )
    assert done.stdout.strip() == "False"
