"""Ingestion benchmark: sustained durable messages per second over mutual TLS.

Starts the gateway as a child process (`uams-gateway serve --config <temp toml>
--ready-file F`, SQLite in a temporary folder unless --store-url is given, the
development PKI in certs/dev), then opens --connections mTLS connections from
--workers client processes (uvloop, asyncio.Protocol). Each connection keeps
--depth CustomsDeclarations in flight (a closed loop: a new one goes out when
a reply comes back), every one with its own MessageId and LocalReferenceNumber
and a realistic 2–3 KB body; with --message pre-arrival, VehiclePreArrivals
(~0.9 KB) instead. After --warmup seconds, replies are counted for
--duration seconds. A Receipt means the message was committed, so receipts
per second are durable messages per second.

Reports throughput, latency (p50/p99/max, request written to reply read),
rejections by code, the gateway's CPU (all its processes, from /proc) and the
clients' CPU; then checks that every Receipt is in the store. Prints a summary
on stderr and one Markdown table row on stdout (--header adds the header).

    .venv/bin/python bench/ingest.py --connections 100 --depth 4 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import secrets
import signal
import sqlite3
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CERTS = ROOT / "certs" / "dev"
PARTICIPANT = "BRK-0001"
HEADER = struct.Struct(">I")
CLK_TCK = os.sysconf("SC_CLK_TCK")

COLUMNS = ("date", "conns×depth", "client procs", "window s", "msgs/s", "p50 ms", "p99 ms",
           "max ms", "rejections", "gateway CPU (cores)", "gateway CPU µs/msg",
           "client CPU (cores)", "store")


# -- messages --------------------------------------------------------------------------------

_GOODS = [
    ("847130", "Portable laptop computers, 14 inch, 16 GB RAM", "CN", "2.10", "1.80", "8400.00"),
    ("851712", "Mobile telephones for cellular networks, boxed", "VN", "4.50", "3.90", "12800.00"),
    ("870323", "Passenger motor vehicle, spark-ignition, 1800 cc", "DE", "1450", "1320",
     "18500.00"),
    ("610910", "T-shirts of cotton, knitted, assorted sizes", "TR", "320.5", "300", "4100.00"),
    ("392690", "Articles of plastics for office use, assorted", "CN", "150", "140", "950.00"),
    ("940360", "Wooden furniture for offices, flat-packed", "PL", "640", "600", "3900.00"),
    ("080810", "Fresh apples, class I, in cartons of 18 kg", "MD", "19800", "18000",
     "9600.00"),
]


def declaration_parts(run: str) -> list[bytes]:
    """A ~2.6 KB declaration split around its MessageId and LocalReferenceNumber."""
    items = []
    for seq, index in enumerate((0, 1, 3, 4), start=1):
        hs, text, origin, gross, net, amount = _GOODS[index]
        items.append(
            f"<GoodsItem><SequenceNumber>{seq}</SequenceNumber><HSCode>{hs}</HSCode>"
            f"<Description>{text}</Description><OriginCountry>{origin}</OriginCountry>"
            f"<GrossMassKg>{gross}</GrossMassKg><NetMassKg>{net}</NetMassKg>"
            f"<InvoiceAmount>{amount}</InvoiceAmount>"
            f"<Document><Type>LICENCE</Type><Number>LIC-{run}-{seq}</Number></Document>"
            "</GoodsItem>")
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Envelope xmlns="urn:uams:envelope:1"><Header><MessageId>')
    middle = ("</MessageId><MessageType>CustomsDeclaration</MessageType>"
              f"<SenderId>{PARTICIPANT}</SenderId><RecipientId>SCC</RecipientId>"
              "<SentAt>2026-12-03T10:15:00+04:00</SentAt></Header><Body>"
              '<CustomsDeclaration xmlns="urn:uams:declaration:1">'
              "<ProcedureType>IM</ProcedureType><LocalReferenceNumber>")
    tail = ("</LocalReferenceNumber><CustomsOffice>BAKU-MAIN</CustomsOffice>"
            f"<Declarant>{PARTICIPANT}</Declarant>"
            "<Consignor><Name>Shenzhen Bright Future Electronics Co., Ltd.</Name>"
            "<Country>CN</Country></Consignor>"
            "<Consignee><Name>Caspian Trade and Distribution LLC</Name>"
            "<TaxId>1234567890</TaxId><Country>AZ</Country></Consignee>"
            "<TransportMeans><Mode>ROAD</Mode>"
            "<Identification>10-AB-123 / 10-XY-987</Identification>"
            "<Nationality>AZ</Nationality></TransportMeans>"
            "<BorderCrossingPoint>RED-BRIDGE</BorderCrossingPoint>"
            "<InvoiceCurrency>USD</InvoiceCurrency><TotalInvoiceAmount>26250.00</TotalInvoiceAmount>"
            + "".join(items)
            + "<Tax><Type>DUTY</Type><Amount>1575.00</Amount><Currency>AZN</Currency></Tax>"
              "<Tax><Type>VAT</Type><Amount>8316.00</Amount><Currency>AZN</Currency></Tax>"
              "</CustomsDeclaration></Body></Envelope>")
    return [head.encode(), middle.encode(), tail.encode()]


def pre_arrival_parts(run: str) -> list[bytes]:
    """A ~0.9 KB VehiclePreArrival split around its MessageId and DriverDocument: a truck
    announced before it reaches the border (one row, its number, one status event and a
    notification to the announcer and its partner)."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Envelope xmlns="urn:uams:envelope:1"><Header><MessageId>')
    middle = ("</MessageId><MessageType>VehiclePreArrival</MessageType>"
              f"<SenderId>{PARTICIPANT}</SenderId><RecipientId>SCC</RecipientId>"
              "<SentAt>2026-12-03T10:15:00+04:00</SentAt></Header><Body>"
              '<VehiclePreArrival xmlns="urn:uams:transport:1">'
              "<Direction>ENTRY</Direction><BorderCrossingPoint>RED-BRIDGE</BorderCrossingPoint>"
              "<ExpectedAt>2026-12-04T08:00:00+04:00</ExpectedAt>"
              "<VehicleRegistration>AB123CD</VehicleRegistration>"
              "<TrailerRegistration>CD456EF</TrailerRegistration>"
              "<VehicleCountry>GE</VehicleCountry><DriverName>Giorgi Beridze</DriverName>"
              "<DriverDocument>")
    tail = ("</DriverDocument><TransportPermitNumber>AZ-TP-2026-004711</TransportPermitNumber>"
            "</VehiclePreArrival></Body></Envelope>")
    return [head.encode(), middle.encode(), tail.encode()]


#: --message: what each connection sends, split around the two places its id goes.
MESSAGES = {"declaration": declaration_parts, "pre-arrival": pre_arrival_parts}


# -- client process ----------------------------------------------------------------------------


@dataclass
class WorkerResult:
    receipts: int = 0                 # in the measurement window
    receipts_total: int = 0           # whole run (for the durability check)
    latencies_ms: list[float] = field(default_factory=list)
    rejections: collections.Counter[str] = field(default_factory=collections.Counter)
    connect_failures: int = 0
    lost_connections: int = 0
    cpu_seconds: float = 0.0          # this client process, in the window


class BenchConnection(asyncio.Protocol):
    def __init__(self, worker: Worker, number: int) -> None:
        self.worker = worker
        self.prefix = f"{worker.run}{worker.index:x}{number:03x}"
        self.sent: collections.deque[float] = collections.deque()
        self.counter = 0
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def start(self) -> None:
        for _ in range(self.worker.depth):
            self.send_one()

    def send_one(self) -> None:
        assert self.transport is not None
        self.counter += 1
        ident = f"{self.prefix}-{self.counter:x}".encode()
        head, middle, tail = self.worker.parts
        payload = b"".join((head, ident, middle, ident, tail))
        self.sent.append(time.monotonic())
        self.transport.write(HEADER.pack(len(payload)) + payload)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        worker = self.worker
        while len(buffer) >= 4:
            (length,) = HEADER.unpack_from(buffer)
            if len(buffer) < 4 + length:
                break
            frame = bytes(buffer[4:4 + length])
            del buffer[:4 + length]
            now = time.monotonic()
            started = self.sent.popleft()
            worker.on_reply(frame, started, now)
            if now < worker.stop_at and self.transport is not None:
                self.send_one()
            elif not self.sent and self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.sent:
            self.worker.result.lost_connections += 1
        if not self.done.done():
            self.done.set_result(None)


class Worker:
    def __init__(self, index: int, run: str, depth: int, times: Any, message: str) -> None:
        self.index = index
        self.run = run
        self.depth = depth
        self.parts = MESSAGES[message](run)
        self.times = times
        self.measure_from = self.stop_at = float("inf")
        self.result = WorkerResult()
        self._cpu_mark = 0.0

    def on_reply(self, frame: bytes, started: float, now: float) -> None:
        result = self.result
        in_window = self.measure_from <= now < self.stop_at
        if b"<Receipt" in frame:
            result.receipts_total += 1
            if in_window:
                result.receipts += 1
                result.latencies_ms.append((now - started) * 1000)
            return
        at = frame.find(b"<Code>")
        code = frame[at + 6:frame.find(b"</Code>", at)].decode() if at >= 0 else "UNREADABLE"
        result.rejections[code] += 1

    def cpu(self) -> float:
        usage = os.times()
        return usage.user + usage.system

    async def main(self, port: int, connections: int, ready: Any, go: Any) -> WorkerResult:
        loop = asyncio.get_running_loop()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(CERTS / "ca.crt")
        context.load_cert_chain(CERTS / f"{PARTICIPANT}.crt", CERTS / f"{PARTICIPANT}.key")
        gate = asyncio.Semaphore(16)  # handshakes at a time

        async def open_one(number: int) -> BenchConnection | None:
            async with gate:
                try:
                    _, conn = await loop.create_connection(
                        lambda: BenchConnection(self, number), "127.0.0.1", port, ssl=context,
                        server_hostname="localhost", ssl_handshake_timeout=30)
                except (OSError, TimeoutError):
                    self.result.connect_failures += 1
                    return None
                return conn

        opened = await asyncio.gather(*(open_one(n) for n in range(connections)))
        conns = [c for c in opened if c is not None]
        ready.put(self.index)
        await loop.run_in_executor(None, go.wait)
        self.measure_from, self.stop_at = self.times[0], self.times[1]
        loop.call_later(max(0.0, self.measure_from - time.monotonic()), self._mark_cpu)
        loop.call_later(max(0.0, self.stop_at - time.monotonic()), self._take_cpu)
        for conn in conns:
            conn.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, self.stop_at - time.monotonic()) + 30):
                await asyncio.gather(*(c.done for c in conns))
        for conn in conns:
            if conn.transport is not None:
                conn.transport.abort()
        return self.result

    def _mark_cpu(self) -> None:
        self._cpu_mark = self.cpu()

    def _take_cpu(self) -> None:
        self.result.cpu_seconds = self.cpu() - self._cpu_mark


def worker_process(index: int, run: str, port: int, connections: int, depth: int,
                   times: Any, ready: Any, go: Any, results: Any, message: str) -> None:
    import uvloop

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = Worker(index, run, depth, times, message)
    result = uvloop.run(worker.main(port, connections, ready, go))
    results.put(result)


# -- the gateway process -----------------------------------------------------------------------


def ensure_certificates() -> None:
    if not (CERTS / "ca.crt").exists():
        subprocess.run([str(BIN / "uams-gateway"), "certs", "init"], cwd=ROOT, check=True)


def write_config(folder: Path, args: argparse.Namespace) -> Path:
    store_url = args.store_url or f"sqlite:///{folder / 'bench.db'}"
    config = folder / "gateway.toml"
    config.write_text(
        "[server]\n"
        'host = "127.0.0.1"\n'
        "port = 0\n"
        f"max_connections_per_participant = {args.connections + 16}\n"
        f"workers = {args.server_workers}\n"
        "[store]\n"
        f"url = {json.dumps(store_url)}\n"
        "[logging]\n"
        f'level = "{args.log_level}"\n'
        'format = "json"\n'
    )
    return config


def start_gateway(folder: Path, config: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    ready = folder / "ready.json"
    log = folder / "gateway.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "uams-gateway"), "serve", "--config", str(config), "--ready-file",
             str(ready)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the gateway exited with {proc.returncode}; see {log}")
        if ready.exists() and ready.stat().st_size:
            return proc, int(json.loads(ready.read_text())["tls_port"]), log
        time.sleep(0.05)
    proc.kill()
    sys.exit("the gateway did not become ready within 60 s")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (gateway workers), from /proc."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process tree (threads included)."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def stored_messages(store_url: str) -> int | None:
    if not store_url.startswith("sqlite:///"):
        return None
    with contextlib.closing(sqlite3.connect(store_url.removeprefix("sqlite:///"))) as db:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])


def stop_gateway(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


# -- the run -----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(args: argparse.Namespace) -> int:
    ensure_certificates()
    folder = Path(tempfile.mkdtemp(prefix="uams-bench-"))
    config = write_config(folder, args)
    store_url = args.store_url or f"sqlite:///{folder / 'bench.db'}"
    proc, port, log = start_gateway(folder, config)
    ctx = mp.get_context("spawn")
    times = ctx.Array("d", 2)
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    run_id = secrets.token_hex(3)
    shares = [args.connections // args.workers + (i < args.connections % args.workers)
              for i in range(args.workers)]
    workers = [ctx.Process(target=worker_process,
                           args=(i, run_id, port, shares[i], args.depth, times, ready, go,
                                 results, args.message)) for i in range(args.workers)]
    try:
        for w in workers:
            w.start()
        for _ in workers:
            ready.get(timeout=120)
        start = time.monotonic() + 0.2
        times[0] = start + args.warmup
        times[1] = times[0] + args.duration
        go.set()
        time.sleep(max(0.0, times[0] - time.monotonic()))
        cpu_start = cpu_seconds(proc.pid)
        time.sleep(max(0.0, times[1] - time.monotonic()))
        cpu_used = cpu_seconds(proc.pid) - cpu_start
        collected: list[WorkerResult] = [results.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=30)
    finally:
        for w in workers:
            if w.is_alive():
                w.kill()
        code = stop_gateway(proc)

    receipts = sum(r.receipts for r in collected)
    receipts_total = sum(r.receipts_total for r in collected)
    latencies = sorted(x for r in collected for x in r.latencies_ms)
    rejections: collections.Counter[str] = collections.Counter()
    for r in collected:
        rejections.update(r.rejections)
    rate = receipts / args.duration
    stored = stored_messages(store_url)
    client_cpu = sum(r.cpu_seconds for r in collected)
    summary = {
        "receipts in window": receipts,
        "durable msgs/s": round(rate),
        "latency ms p50/p99/max": [round(percentile(latencies, 0.50), 1),
                                   round(percentile(latencies, 0.99), 1),
                                   round(latencies[-1], 1) if latencies else None],
        "mean latency ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "rejections": dict(rejections),
        "connect failures": sum(r.connect_failures for r in collected),
        "connections lost": sum(r.lost_connections for r in collected),
        "gateway CPU cores": round(cpu_used / args.duration, 2),
        "gateway CPU µs/msg": round(cpu_used / receipts * 1e6) if receipts else None,
        "client CPU cores": round(client_cpu / args.duration, 2),
        "receipts (whole run)": receipts_total,
        "messages in store": stored,
        "gateway exit code": code,
        "gateway log": str(log),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False), file=sys.stderr)
    ok = code == 0 and (stored is None or stored >= receipts_total)
    if stored is not None and stored < receipts_total:
        print(f"DURABILITY CHECK FAILED: {receipts_total} receipts, {stored} stored",
              file=sys.stderr)
    store = store_url.split(":", 1)[0] if args.store_url else "sqlite (FULL, temp dir)"
    if args.server_workers > 1:
        store += f", {args.server_workers} gateway processes"
    if args.message != "declaration":
        store += f", {args.message} messages"
    if args.header:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
    errors = ", ".join(f"{k} {v}" for k, v in sorted(rejections.items())) or "0"
    row = [dt.date.today().isoformat(), f"{args.connections}×{args.depth}", str(args.workers),
           f"{args.duration:g}", f"{rate:,.0f}", f"{percentile(latencies, 0.5):.1f}",
           f"{percentile(latencies, 0.99):.1f}", f"{latencies[-1]:.1f}" if latencies else "–",
           errors, f"{cpu_used / args.duration:.2f}",
           f"{cpu_used / receipts * 1e6:,.0f}" if receipts else "–",
           f"{client_cpu / args.duration:.2f}", store]
    print("| " + " | ".join(row) + " |")
    if not args.keep:
        for path in sorted(folder.rglob("*"), reverse=True):
            if path != log:
                path.unlink() if path.is_file() else path.rmdir()
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=100, help="mTLS connections (100)")
    parser.add_argument("--depth", type=int, default=4, help="requests in flight per connection")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (3)")
    parser.add_argument("--workers", type=int, default=2, help="client processes (2)")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="gateway worker processes, [server] workers (1)")
    parser.add_argument("--store-url", default=None,
                        help="store URL (default: SQLite in a temporary folder)")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="gateway log level (INFO: one JSON line per message, as deployed)")
    parser.add_argument("--message", choices=sorted(MESSAGES), default="declaration",
                        help="what is sent: a CustomsDeclaration with the whole single-window "
                             "decision (default), or a VehiclePreArrival")
    parser.add_argument("--header", action="store_true", help="print the table header too")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.depth < 1 or args.workers < 1 or args.duration <= 0:
        parser.error("--connections, --depth, --workers and --duration must be positive")
    args.workers = min(args.workers, args.connections)
    return args


if __name__ == "__main__":
    print(f"# {platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
          file=sys.stderr)
    sys.exit(run(parse_args()))
