"""Prometheus durations (``30s``, ``15m``, ``1h``) to seconds and back."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d|w)$")


def seconds(duration: str) -> float:
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"{duration!r} is not a Prometheus duration such as 30s, 15m or 1h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def humanize(duration: str) -> str:
    """``15m`` -> ``15 minutes``, for alert texts a person reads at 3 a.m."""
    words = {"ms": "ms", "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"{duration!r} is not a Prometheus duration")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "ms":
        return f"{n} ms"
    return f"{n} {words[unit]}{'' if n == 1 else 's'}"


def number(value: float) -> str:
    """A PromQL number literal without exponent notation: ``1209600``, not ``1.2096e+06``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
