"""Hot reload: watch the contracts directory, compile a changed set off the hot path.

A background thread notices a new revision (content hash of the YAML files),
compiles the whole set and parks it; the loop swaps it in between batches.
A set that fails to load is logged, counted and ignored: the old one keeps
running until the files change again. A set that loads but fails ``check``
(the enforcer's: it names topics that do not exist) is held back, logged and
counted once, and checked again every interval: it is swapped in as soon as
the check passes (the topics were created), or dropped when the files change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from streamprocs.contracts.errors import ContractSetError
from streamprocs.contracts.loader import ContractSet, load_contract_set, revision_of
from streamprocs.enforcer.config import Settings
from streamprocs.observability.metrics import Metrics

log = structlog.get_logger("dce.reload")


class Reloader:
    def __init__(
        self,
        settings: Settings,
        revision: str,
        metrics: Metrics,
        check: Callable[[ContractSet], list[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self._check = check
        self._seen = revision
        self._ready: ContractSet | None = None
        # Compiled, but held back until ``check`` passes.
        self._waiting: ContractSet | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.settings.reload.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._watch, name="dce-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def take(self) -> ContractSet | None:
        """The newly compiled set, once; ``None`` when there is nothing new."""
        with self._lock:
            ready, self._ready = self._ready, None
        return ready

    def check_now(self) -> None:
        """One look at the directory (the thread calls this every interval)."""
        root = self.settings.contracts_dir
        try:
            revision = revision_of(root)
        except OSError as exc:
            log.warning("cannot read the contracts directory", error=str(exc))
            return
        if revision == self._seen:
            if self._waiting is not None:
                self._offer(self._waiting, first=False)
            return
        self._seen = revision
        self._waiting = None
        try:
            contract_set = load_contract_set(root, self.settings.limits)
        except ContractSetError as exc:
            self.metrics.reloads.labels("error").inc()
            log.error(
                "contract reload rejected; the previous contracts stay in force",
                revision=revision,
                problems=[str(e) for e in exc.errors],
            )
            return
        except Exception as exc:
            self.metrics.reloads.labels("error").inc()
            log.exception("contract reload failed", revision=revision, error=str(exc))
            return
        self._offer(contract_set, first=True)

    def _offer(self, contract_set: ContractSet, *, first: bool) -> None:
        problems = self._check(contract_set) if self._check is not None else []
        if problems:
            self._waiting = contract_set
            if first:
                self.metrics.reloads.labels("error").inc()
                log.error(
                    "contract reload held back until its topics exist; the previous"
                    " contracts stay in force",
                    revision=contract_set.revision,
                    missing=problems,
                )
            return
        self._waiting = None
        if not first:
            log.info("topics now exist; applying the held-back contracts")
        self.metrics.reloads.labels("ok").inc()
        with self._lock:
            self._ready = contract_set

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.reload.interval_s):
            self.check_now()
