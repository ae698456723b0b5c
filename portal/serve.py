"""Serving the portal with uvicorn, stopping cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after it stopped: a SIGTERM that
    ends in a clean shutdown (requests in flight finished) exits 0, like ``outtask watch``
    and ``outtask listen``, so that supervisors do not report a crash."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: FastAPI, host: str, port: int) -> bool:
    """Serve until stopped; False when it never started (the port was taken)."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                    access_log=False, server_header=False))
    server.run()
    return server.started
