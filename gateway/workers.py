"""`serve --workers N`: N gateway processes sharing one listening port (SO_REUSEPORT).

The parent prepares the store once (SQLite migrates itself here, not N times
at once), fixes the port (port 0 becomes one free port, held open with
SO_REUSEPORT so every worker binds the same one), then starts N worker
processes, each a whole gateway (`gateway.app.serve(config, reuse_port=True)`)
with its own writer, and waits:

- SIGTERM or SIGINT to the parent is forwarded to every worker as SIGTERM,
  which they answer with a graceful shutdown;
- a worker that exits on its own (crash, failed start) stops the others: the
  parent exits non-zero and leaves restarting to the service manager;
- the parent exits 0 only when every worker exited 0.

The kernel spreads incoming connections over the workers' listening sockets.
Only the TLS listener is shared; the plaintext development listener is for a
single process.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from adapters.store import open_store
from gateway.config import Config, ConfigError

log = structlog.get_logger("uams.workers")

#: How long a worker may take to start listening.
START_TIMEOUT_SECONDS = 120.0


def run_workers(config: Config, n: int, *, ready_file: Path | None = None) -> int:
    """Run `n` worker processes until they stop; 0 when every one exited 0."""
    if n < 1:
        raise ConfigError("--workers must be at least 1")
    if config.plaintext.enabled and n > 1:
        raise ConfigError("the plaintext development listener runs in a single process: "
                          "use --workers 1, or disable [plaintext]")
    store = open_store(config.store.url, sqlite_synchronous=config.store.sqlite_synchronous)
    try:
        store.prepare()
    finally:
        store.close()
    holder, config = _fix_port(config)
    context = multiprocessing.get_context("spawn")
    workers: list[tuple[Any, Connection]] = []
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process, _ in workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(n):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_worker_main, args=(config, index, writer),
                                      name=f"uams-worker-{index}")
            process.start()
            writer.close()
            workers.append((process, reader))
        return _supervise(workers, config, ready_file, lambda: stopping, forward)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for _, reader in workers:
            reader.close()
        if holder is not None:
            holder.close()


def _fix_port(config: Config) -> tuple[socket.socket | None, Config]:
    """Port 0: reserve one free port for all workers (bound, never listening)."""
    if config.server.port != 0:
        return None, config
    family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((config.server.host, 0))
    port = int(holder.getsockname()[1])
    return holder, replace(config, server=replace(config.server, port=port))


def _supervise(workers: list[tuple[Any, Connection]], config: Config, ready_file: Path | None,
               is_stopping: Callable[[], bool], stop_all: Callable[[int, None], None]) -> int:
    pending = {reader: process for process, reader in workers}
    ports: list[dict[str, Any]] = []
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    failed = False
    while any(p.exitcode is None for p, _ in workers):
        alive = [p.sentinel for p, _ in workers if p.exitcode is None]
        for ready in wait([*alive, *pending], timeout=1.0):
            if ready not in pending:
                continue
            with contextlib.suppress(EOFError):  # EOF: it died before listening
                ports.append(ready.recv())
            del pending[ready]
            if not pending and not failed and not is_stopping():
                _announce(ports, config, ready_file)
        if is_stopping():
            continue
        exited = [p for p, _ in workers if p.exitcode is not None]
        late = bool(pending) and time.monotonic() > deadline
        if exited or late:
            for p in exited:
                log.error("worker_exited", worker=p.name, pid=p.pid, exitcode=p.exitcode)
            if late:
                log.error("workers_not_ready", waiting=len(pending))
            failed = True
            stop_all(signal.SIGTERM, None)
    codes = [p.exitcode for p, _ in workers]
    log.info("workers_stopped", exitcodes=codes)
    return 0 if not failed and all(code == 0 for code in codes) else 1


def _announce(ports: list[dict[str, Any]], config: Config, ready_file: Path | None) -> None:
    pids = sorted(int(p["pid"]) for p in ports)
    log.info("workers_ready", workers=len(ports), tls_port=config.server.port, pids=pids)
    if ready_file is not None:
        ready_file.write_text(json.dumps({"tls_port": config.server.port, "plaintext_port": None,
                                          "pids": pids}))


def _worker_main(config: Config, index: int, ready: Connection) -> None:
    """One worker process: a whole gateway on the shared port."""
    import asyncio

    from gateway import app
    from gateway import logging as gwlogging

    gwlogging.configure(config.logging.level, config.logging.format)
    structlog.contextvars.bind_contextvars(worker=index)
    early_stop: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        early_stop.append(signum)  # a stop before the gateway listens: honoured once it does

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, remember)

    def on_ready(gateway: app.Gateway) -> None:
        ready.send({"pid": os.getpid(), "tls_port": gateway.tls_port})
        ready.close()
        if early_stop:
            asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)

    runner: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(app.serve(config, reuse_port=True, on_ready=on_ready))
