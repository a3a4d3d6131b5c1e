"""The enforcer's interpreter settings: the cyclic collector runs rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from streamprocs.enforcer import loop
from streamprocs.enforcer.loop import Enforcer
from streamprocs.enforcer.runtime import GC_THRESHOLDS, tune_gc


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("thresholds")
def test_tune_gc_raises_the_first_generation_threshold() -> None:
    gc.set_threshold(700, 10, 10)
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] >= 10_000  # far above CPython's 700: ~1 collection per 1,000 records


def test_the_enforcer_tunes_the_collector_before_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(loop, "tune_gc", lambda: calls.append("tune_gc"))
    enforcer = Enforcer.__new__(Enforcer)  # run() must tune before it needs anything else

    def no_clients() -> None:
        calls.append("clients")
        raise RuntimeError("stop here")

    monkeypatch.setattr(enforcer, "_clients", no_clients, raising=False)
    with pytest.raises(RuntimeError, match="stop here"):
        enforcer.run()
    assert calls == ["tune_gc", "clients"]
