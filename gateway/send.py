"""`uams-gateway send`: send message files to a gateway and print each reply.

Files go out in the order given (a directory stands for its `*.xml` files,
sorted by name). With `--concurrency N` up to N requests are in flight on each
connection, with `--connections M` files are spread over M connections; the
replies are printed in file order all the same.

Exit status: 0 when every reply was a Receipt or a query answer, 1 when any
was a Rejection (or unreadable), 2 on usage or connection errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from gateway.client import ConnectionClosed, MalformedReply, Reply, UamsClient, parse_reply
from protocol.envelope import PARTICIPANT_ID

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2

PROGRESS_MIN_FILES = 20
PROGRESS_INTERVAL_SECONDS = 0.1
ARROW = "→"


class SendError(Exception):
    """A usage or connection problem, reported as one line and exit status 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of `send` on its sub-parser."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR",
                        help="message files, or directories of *.xml files")
    parser.add_argument("--as", dest="participant", required=True, metavar="ID",
                        help="participant to connect as (selects <pki-dir>/ID.crt and ID.key)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7400)
    parser.add_argument("--pki-dir", type=Path, default=Path("certs/dev"),
                        help="directory holding ca.crt, ID.crt and ID.key (default: certs/dev)")
    parser.add_argument("--plaintext", action="store_true",
                        help="connect without TLS (the gateway's development listener)")
    parser.add_argument("--concurrency", type=_positive_int, default=1, metavar="N",
                        help="requests in flight on each connection (default: 1)")
    parser.add_argument("--connections", type=_positive_int, default=1, metavar="M",
                        help="connections to spread the files over (default: 1)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per reply instead of text")
    parser.add_argument("--quiet", action="store_true",
                        help="print only rejections; no progress line, no summary")


def run(args: argparse.Namespace) -> int:
    """Send the files named by `args`; returns the exit status."""
    try:
        if not PARTICIPANT_ID.fullmatch(args.participant):
            raise SendError(f"--as {args.participant!r} is not a participant id")
        files = _expand(args.paths)
        context = None if args.plaintext else _ssl_context(args.pki_dir, args.participant)
        output = _Output(sys.stdout, sys.stderr, total=len(files),
                         as_json=args.json, quiet=args.quiet)
        return _run_loop(lambda: _send_all(args, files, context, output))
    except SendError as exc:
        print(f"uams-gateway send: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # reading the files or the certificates
        name = f"{exc.filename}: " if exc.filename else ""
        print(f"uams-gateway send: {name}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("uams-gateway send: interrupted", file=sys.stderr)
        return 130


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.xml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise SendError(f"{path}: no such file or directory")
    if not files:
        raise SendError("no message files to send")
    for file in files:
        if file.stat().st_size == 0:  # a zero-length frame would be a heartbeat
            raise SendError(f"{file}: empty file")
    return files


def _ssl_context(pki_dir: Path, participant: str) -> ssl.SSLContext:
    ca = pki_dir / "ca.crt"
    cert, key = pki_dir / f"{participant}.crt", pki_dir / f"{participant}.key"
    if not ca.is_file():
        raise SendError(f"{ca} is missing: run `uams-gateway certs init`")
    for path in (cert, key):
        if not path.is_file():
            raise SendError(f"{path} is missing: run `uams-gateway certs issue {participant}`")
    from gateway.pki import client_ssl_context

    try:
        context: ssl.SSLContext = client_ssl_context(ca, cert, key)
    except (OSError, ValueError) as exc:
        raise SendError(f"cannot load the certificates in {pki_dir}: {exc}") from None
    return context


def _run_loop(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


# -- sending ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Outcome:
    path: Path
    reply: Reply | None  # None: the reply could not be read
    size: int


async def _send_all(args: argparse.Namespace, files: list[Path],
                    context: ssl.SSLContext | None, output: _Output) -> int:
    clients = await _connect_all(args, context)
    jobs = iter(enumerate(files))
    waiting: dict[int, _Outcome] = {}  # answered, not yet printed (an earlier file is pending)
    next_to_print = 0
    failed = False

    def deliver(index: int, outcome: _Outcome) -> None:
        nonlocal next_to_print, failed
        waiting[index] = outcome
        while next_to_print in waiting:
            done = waiting.pop(next_to_print)
            failed |= not _succeeded(done)
            output.reply(done)
            next_to_print += 1

    try:
        async with asyncio.TaskGroup() as group:
            for client in clients:
                group.create_task(_feed(client, jobs, args.concurrency, deliver))
    except BaseExceptionGroup as group_error:
        raise SendError(_describe(_first_leaf(group_error), args)) from None
    finally:
        output.finish()
        await asyncio.gather(*(client.close() for client in clients))
    return EXIT_REJECTED if failed else EXIT_OK


async def _connect_all(args: argparse.Namespace,
                       context: ssl.SSLContext | None) -> list[UamsClient]:
    attempts = await asyncio.gather(
        *(UamsClient.connect(args.host, args.port, context) for _ in range(args.connections)),
        return_exceptions=True,
    )
    clients = [c for c in attempts if isinstance(c, UamsClient)]
    errors = [e for e in attempts if not isinstance(e, UamsClient)]
    if errors:
        await asyncio.gather(*(client.close() for client in clients))
        if not isinstance(errors[0], Exception):
            raise errors[0]
        raise SendError(_describe(errors[0], args))
    return clients


async def _feed(client: UamsClient, jobs: Iterator[tuple[int, Path]], concurrency: int,
                deliver: Callable[[int, _Outcome], None]) -> None:
    """Take files from the shared `jobs` and keep up to `concurrency` of them in flight."""
    window = asyncio.Semaphore(concurrency)

    async def one(index: int, path: Path, payload: bytes) -> None:
        try:
            reply_bytes = await client.request(payload)
        finally:
            window.release()
        try:
            reply: Reply | None = parse_reply(reply_bytes)
        except MalformedReply:
            reply = None
        deliver(index, _Outcome(path, reply, len(reply_bytes)))

    async with asyncio.TaskGroup() as group:
        while True:
            await window.acquire()
            job = next(jobs, None)
            if job is None:
                break
            index, path = job
            try:
                payload = path.read_bytes()
            except OSError as exc:
                raise SendError(f"{path}: {exc.strerror or exc}") from None
            group.create_task(one(index, path, payload))


def _succeeded(outcome: _Outcome) -> bool:
    return outcome.reply is not None and not outcome.reply.is_rejection


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _describe(error: BaseException, args: argparse.Namespace) -> str:
    where = f"{args.host}:{args.port}"
    if isinstance(error, SendError):
        return str(error)
    if isinstance(error, ConnectionClosed):
        return f"{where}: {error}"
    if isinstance(error, TimeoutError):
        return f"{where}: no answer in time"
    if isinstance(error, ssl.SSLError):
        return f"{where}: TLS failed: {error.reason or error}"
    if isinstance(error, OSError):
        return f"{where}: {error.strerror or error}"
    return f"{where}: {error.__class__.__name__}: {error}"


# -- output -----------------------------------------------------------------------------------


class _Output:
    """Prints outcomes in file order, with an optional progress line on stderr."""

    def __init__(self, out: TextIO, err: TextIO, *, total: int, as_json: bool,
                 quiet: bool) -> None:
        self._out, self._err = out, err
        self._total = total
        self._as_json, self._quiet = as_json, quiet
        self._show_progress = (total > PROGRESS_MIN_FILES and not quiet and out.isatty())
        self._done = 0
        self._rejected = 0
        self._started = time.monotonic()
        self._last_drawn = 0.0
        self._progress_width = 0

    def reply(self, outcome: _Outcome) -> None:
        self._done += 1
        ok = _succeeded(outcome)
        self._rejected += not ok
        if ok and self._quiet:
            pass
        else:
            self._clear_progress()
            text = _as_json(outcome) if self._as_json else _as_text(outcome)
            print(text, file=self._out, flush=self._show_progress)
        self._draw_progress()

    def finish(self) -> None:
        self._draw_progress(force=True)
        self._clear_progress()
        if not self._quiet and self._total > 1:
            elapsed = time.monotonic() - self._started
            print(f"{self._done:,} of {self._total:,} files answered, "
                  f"{self._rejected:,} not accepted, in {elapsed:.2f} s", file=self._err)

    def _draw_progress(self, *, force: bool = False) -> None:
        if not self._show_progress:
            return
        now = time.monotonic()
        if not force and now - self._last_drawn < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_drawn = now
        rate = self._done / max(now - self._started, 1e-9)
        line = f"\r sent {self._done:,}/{self._total:,} · {rate:,.0f}/s"
        self._progress_width = len(line)
        self._err.write(line)
        self._err.flush()

    def _clear_progress(self) -> None:
        if self._progress_width:
            self._err.write("\r" + " " * self._progress_width + "\r")
            self._err.flush()
            self._progress_width = 0


def _as_text(outcome: _Outcome) -> str:
    head = f"{outcome.path} {ARROW} "
    reply = outcome.reply
    if reply is None:
        return head + f"unreadable reply ({outcome.size:,} bytes)"
    if reply.is_receipt:
        duplicate = " (duplicate)" if reply.duplicate else ""
        return head + f"Receipt {reply.reference} {reply.status}{duplicate}"
    if reply.is_rejection:
        lines = [head + f"Rejection {reply.code}: {reply.reason}"]
        for detail in reply.details:
            where = " ".join(part for part in (
                f"line {detail.line}" if detail.line is not None else None,
                detail.path,
                f"[{detail.rule}]" if detail.rule else None,
            ) if part)
            lines.append(f"    {where}: {detail.text}" if where else f"    {detail.text}")
        return "\n".join(lines)
    body = "\n".join("    " + line for line in reply.text.splitlines())
    return head + f"{reply.message_type}\n{body}"


def _as_json(outcome: _Outcome) -> str:
    reply = outcome.reply
    record: dict[str, Any] = {"file": str(outcome.path)}
    if reply is None:
        record |= {"message_type": None, "error": "unreadable reply", "bytes": outcome.size}
    elif reply.is_receipt:
        record |= {"message_type": reply.message_type, "correlation_id": reply.correlation_id,
                   "reference": reply.reference, "status": reply.status,
                   "duplicate": reply.duplicate}
    elif reply.is_rejection:
        record |= {"message_type": reply.message_type, "correlation_id": reply.correlation_id,
                   "code": reply.code, "reason": reply.reason, "retryable": reply.retryable,
                   "details": [d._asdict() for d in reply.details]}
    else:
        record |= {"message_type": reply.message_type, "correlation_id": reply.correlation_id,
                   "body": reply.text}
    return json.dumps(record, ensure_ascii=False)
