"""`serve --workers N`: N processes on one port (SO_REUSEPORT), on SQLite and PostgreSQL.

Connections are spread over the workers by the kernel (each worker holds some of
them), every message is registered once with its own number, and SIGTERM to the
parent stops every worker gracefully with exit status 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.client import UamsClient, parse_reply
from tests.builders import declaration
from tests.conftest import client_context
from tests.processes import GatewayProcess, gateway_environment
from tests.store.backends import pg_database

pytestmark = pytest.mark.slow

WORKERS = 2
CONNECTIONS = 24


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"  # one file, every worker
        return
    with pg_database() as url:
        yield url


def established_on(pid: int, port: int) -> int:
    """How many TCP connections to local `port` the process `pid` holds (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                held += 1
    return held


async def test_workers_share_the_port_and_stop_together(store_url: str, pki_dir: Path,
                                                         tmp_path: Path) -> None:
    env = gateway_environment(pki_dir, store_url)
    gateway = GatewayProcess(tmp_path, env, args=("--workers", str(WORKERS)))
    try:
        pids = json.loads(gateway.ready_file.read_text())["pids"]
        assert len(pids) == WORKERS and gateway.proc.pid not in pids
        clients = [await UamsClient.connect("127.0.0.1", gateway.port,
                                            client_context(pki_dir, "BRK-0001"),
                                            server_hostname="localhost")
                   for _ in range(CONNECTIONS)]
        try:
            replies = [parse_reply(r) for r in await asyncio.gather(*(
                c.request(declaration(mid=f"w-{n}", lrn=f"LRN-W-{n}"))
                for n, c in enumerate(clients)))]
            assert all(r.is_receipt and not r.duplicate for r in replies), \
                {(r.code, r.reason) for r in replies}
            assert len({r.reference for r in replies}) == CONNECTIONS
            held = {pid: established_on(pid, gateway.port) for pid in pids}
            assert sum(held.values()) == CONNECTIONS
            assert all(n > 0 for n in held.values()), held  # every worker got connections
        finally:
            for client in clients:
                await client.close()
    except BaseException:
        gateway.kill()
        raise
    assert await asyncio.to_thread(gateway.terminate) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_a_crashed_worker_stops_the_others(pki_dir: Path, tmp_path: Path) -> None:
    """No half-capacity limbo: the parent stops the rest and exits 1 (the service manager
    restarts the whole unit)."""
    env = gateway_environment(pki_dir, f"sqlite:///{tmp_path / 'crash.db'}")
    gateway = GatewayProcess(tmp_path, env, args=("--workers", str(WORKERS)))
    try:
        pids = json.loads(gateway.ready_file.read_text())["pids"]
        os.kill(pids[0], signal.SIGKILL)
        assert gateway.proc.wait(timeout=60) == 1
    finally:
        gateway.kill()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
