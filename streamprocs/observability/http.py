"""``/metrics``, ``/healthz`` and ``/readyz`` on one small HTTP server thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

# The loop polls at least every batch timeout; silence this long means it is stuck.
STUCK_AFTER_S = 60.0


class Health:
    """What the probes report; written by the enforcer loop, read by the HTTP thread."""

    def __init__(self) -> None:
        self.last_loop = time.monotonic()
        self.ready = False
        self.reason = "starting"

    def beat(self) -> None:
        self.last_loop = time.monotonic()

    def live(self) -> bool:
        return time.monotonic() - self.last_loop < STUCK_AFTER_S


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds must not flood the logs."""


StartResponse = Callable[..., Any]


def serve(
    registry: CollectorRegistry, health: Health, host: str, port: int
) -> tuple[_Server, threading.Thread]:
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok = health.live()
            start_response(
                "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
            )
            return [b"ok\n" if ok else b"loop stuck\n"]
        if path == "/readyz":
            ok = health.ready and health.live()
            start_response(
                "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
            )
            return [b"ready\n" if ok else f"not ready: {health.reason}\n".encode()]
        return metrics_app(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="dce-http", daemon=True)
    thread.start()
    return server, thread
