"""Where the dev broker keeps its jars (a shared cache) and its state (one dir per broker)."""

from __future__ import annotations

import os
from pathlib import Path

#: Overrides the state dir of `dce dev` (pid file, config, data, logs).
HOME_ENV = "DCE_DEV_HOME"


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/dce`, or `~/.cache/dce` when XDG_CACHE_HOME is unset or empty."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "dce"


def default_home() -> Path:
    """The state dir used when none is given: `$DCE_DEV_HOME`, else `<cache root>/dev`."""
    override = os.environ.get(HOME_ENV, "")
    return Path(override).expanduser() if override else cache_root() / "dev"
