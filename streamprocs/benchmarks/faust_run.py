"""(d) a faust-streaming agent forwarding every event: what a faust user would write.

Default faust settings (aiokafka driver, ``kafka://``), raw bytes in and out, and
``event.forward(sink)`` so that key, value and headers pass through untouched.
Once the last input event was forwarded, the producer is flushed (every record
acknowledged), ``done`` is reported and the process exits at once: faust's
graceful shutdown (stop the agents, commit, leave the group) takes seconds, is
not part of the measured work, and cannot be awaited from inside the agent it
would stop.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamprocs.benchmarks.spec import WorkerSpec

if TYPE_CHECKING:
    from streamprocs.benchmarks.worker import Protocol


def run_faust(spec: WorkerSpec, protocol: Protocol) -> None:
    # Imported by name: faust-streaming is an optional dependency (the ``faust`` extra).
    faust: Any = importlib.import_module("faust")
    mode: Any = importlib.import_module("mode")
    app = faust.App(
        spec.group_id,
        broker=f"kafka://{spec.bootstrap}",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        datadir=str(Path(spec.work_dir) / "faust-data"),
    )
    raw: dict[str, Any] = {
        "key_type": bytes,
        "value_type": bytes,
        "key_serializer": "raw",
        "value_serializer": "raw",
    }
    source = app.topic(*sorted(spec.routes), **raw)
    sinks = {src: app.topic(dst, **raw) for src, dst in spec.routes.items()}
    expected = spec.expected
    forwarded = 0

    async def on_assigned(_sender: Any, assigned: Any, **_kwargs: Any) -> None:
        if any(tp.topic in sinks for tp in assigned):
            protocol.ready()

    app.on_partitions_assigned.connect(on_assigned)

    async def passthrough(stream: Any) -> None:
        nonlocal forwarded
        async for event in stream.events():
            protocol.consumed_first()
            await event.forward(sinks[event.message.topic])
            forwarded += 1
            protocol.consumed_so_far(forwarded)
            if forwarded >= expected:
                await app.producer.flush()
                protocol.done(forwarded)
                sys.stderr.flush()
                os._exit(0)

    app.agent(source, name="passthrough")(passthrough)
    worker = mode.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    raise RuntimeError("the faust worker stopped before the input was forwarded")
