"""structlog set-up: JSON lines when not on a TTY, readable console output on one."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import structlog

KAFKA_LOGGER = "dce.librdkafka"


def configure(level: str = "info", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    _bridge_librdkafka(renderer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


class RateLimiter:
    """At most one log line per key per interval; what was held back is counted.

    A producer that goes bad sends thousands of violations a second: logs say
    that it happens and how often, metrics and the dead-letter topic say the rest.
    """

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[Any, float] = {}
        self._suppressed: dict[Any, int] = {}

    def allow(self, key: Any, count: int = 1) -> int | None:
        """``None`` to stay quiet, else how many were suppressed since the last line.

        ``count`` occurrences at once (a batch's): one line at most, the others
        are counted as suppressed towards the next line.
        """
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + count
            return None
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if count > 1:
            self._suppressed[key] = count - 1
        return suppressed


def _bridge_librdkafka(renderer: Any) -> None:
    """librdkafka's own log lines, through the same renderer as ours.

    The clients get this logger as their ``logger`` setting; without it they
    print ``%4|1795...|...`` lines that break a JSON log pipeline.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    logger = logging.getLogger(KAFKA_LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def kafka_logger() -> logging.Logger:
    return logging.getLogger(KAFKA_LOGGER)
