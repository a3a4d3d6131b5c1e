"""How the enforcer's consumer prefetches: settings the benchmark's ceiling shares.

They are client tuning, not validation, so ``dce bench`` gives its passthrough
ceiling the same ones: a ceiling left on librdkafka's defaults waits on its own
fetch backoff and understates what the client can move (bench/README.md).
"""

from __future__ import annotations

# 16 MiB is ~3 batches of 5,000 one-KiB events: enough to never wait on a fetch.
PREFETCH_KBYTES = 16 * 1024
# When the prefetch queue is full, librdkafka pauses fetching for this long
# (its default, 1 s, starved the loop: 23k events/s against 32k with 10 ms,
# see bench/README.md).
FETCH_QUEUE_BACKOFF_MS = 10


def prefetch_settings() -> dict[str, int]:
    """The librdkafka consumer settings above, by their configuration names."""
    return {
        "queued.max.messages.kbytes": PREFETCH_KBYTES,
        "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
    }
