"""structlog set-up: JSON lines when not on a terminal, readable console lines on one.

Every line goes through one `LineSink`. On the event loop's thread it only
collects lines and writes them out once per turn of the loop (one `write` and
one flush for all the lines of that turn, in the order they were logged);
anywhere else it writes at once, after whatever was still collected.

The one canonical line per message (`message_line`) is the hottest log call:
when the JSON chain configured here is in force it is rendered directly, to
the very same bytes the chain would produce, without walking the processor
chain; under any other configuration (the console renderer, a test's
`structlog.testing.capture_logs()`) it is an ordinary structlog call.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
import time
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

import structlog
from structlog.contextvars import merge_contextvars

MESSAGE_EVENT = "message"
_message_log = structlog.get_logger("uams.message")


class LineSink:
    """Writes log lines to `file`; on an event loop, once per turn of that loop."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._pending_on: asyncio.AbstractEventLoop | None = None

    def write(self, line: str) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._lines.append(line)
            if loop is None:
                self._write_out()
                return
            if self._pending_on is loop:
                return
            self._pending_on = loop
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write out every collected line now."""
        with self._lock:
            self._pending_on = None
            self._write_out()

    def _write_out(self) -> None:
        if self._lines:
            self._lines.append("")
            text = "\n".join(self._lines)
            self._lines.clear()
            self.file.write(text)
            self.file.flush()


class SinkLogger:
    """The structlog logger of a `LineSink` (the interface of `structlog.PrintLogger`)."""

    def __init__(self, sink: LineSink) -> None:
        self._sink = sink

    def msg(self, message: str) -> None:
        self._sink.write(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class _Fast:
    """What `message_line` needs to render the canonical line itself."""

    def __init__(self, processors: list[Any], sink: LineSink, enabled: bool) -> None:
        self.chain = tuple(processors)
        self.sink = sink
        self.enabled = enabled

    def in_force(self) -> bool:
        """True while structlog runs the very chain `configure` set up (a test's
        `capture_logs()` swaps the contents of that list, not the list)."""
        return tuple(structlog.get_config()["processors"]) == self.chain


_fast: _Fast | None = None
_sink: LineSink | None = None


def _dumps(event_dict: Any, **kw: Any) -> str:
    return _ENCODER.encode(event_dict)


def _fallback(obj: Any) -> Any:
    """What `JSONRenderer` does with what JSON cannot hold: `__structlog__()`, else repr."""
    structlog_form = getattr(obj, "__structlog__", None)
    return structlog_form() if callable(structlog_form) else repr(obj)


#: What `structlog.processors.JSONRenderer()` does, with its encoder built once.
_ENCODER = json.JSONEncoder(default=_fallback)


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    global _fast, _sink
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps) if use_json
        else structlog.dev.ConsoleRenderer()
    )
    numeric = logging.getLevelNamesMapping()[level]
    processors: list[Any] = [
        merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        renderer,
    ]
    if _sink is not None:
        _sink.flush()
    sink = _sink = LineSink(sys.stderr)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: SinkLogger(sink),
        cache_logger_on_first_use=True,
    )
    _fast = _Fast(processors, sink, numeric <= logging.INFO) if use_json else None
    logging.basicConfig(level=numeric, stream=sys.stderr,
                        format="%(name)s %(levelname)s %(message)s")


def message_line(conn: str, participant: str | None, message_id: str | None,
                 type: str | None, outcome: str, code: str | None, latency_ms: float,
                 **extra: Any) -> None:
    """Log the canonical line of one message (event "message", level info).

    The same as `structlog.get_logger("uams.message").info("message", conn=conn, …,
    latency_ms=latency_ms, **extra)`, and as cheap as it can be.
    """
    fast = _fast
    if fast is None or not fast.in_force():
        _message_log.info(MESSAGE_EVENT, conn=conn, participant=participant,
                          message_id=message_id, type=type, outcome=outcome, code=code,
                          latency_ms=latency_ms, **extra)
        return
    if not fast.enabled:
        return
    # The chain's steps, in its order: the call's keys, "event", the context variables not
    # already named, "level", "timestamp"; then the JSON renderer, here by a template for
    # the keys every line has and item by item for the rest.
    rest: dict[str, Any] = {**extra, "event": MESSAGE_EVENT} if extra else {
        "event": MESSAGE_EVENT}
    merge_contextvars(None, "info", rest)
    rest["level"] = "info"
    rest["timestamp"] = _utc_now_iso()
    if not _LINE_KEYS.isdisjoint(rest):  # a context variable shadowing one: the general way
        event = {"conn": conn, "participant": participant, "message_id": message_id,
                 "type": type, "outcome": outcome, "code": code, "latency_ms": latency_ms}
        for key, value in rest.items():
            event.setdefault(key, value)
        fast.sink.write(_ENCODER.encode(event))
        return
    fast.sink.write(
        f'{{"conn": {_json(conn)}, "participant": {_json(participant)}, '
        f'"message_id": {_json(message_id)}, "type": {_json(type)}, '
        f'"outcome": {_json(outcome)}, "code": {_json(code)}, '
        f'"latency_ms": {_json(latency_ms)}'
        + "".join([f", {_json(key)}: {_json(value)}" for key, value in rest.items()])
        + "}")


_second_prefix: tuple[int, str] = (0, "1970-01-01T00:00:00")


def _utc_now_iso() -> str:
    """Now as the chain's `TimeStamper(fmt="iso", utc=True)` writes it, from a per-second
    cache: `2026-12-03T10:15:00.412345Z` (`…:00Z` on a whole second, as `isoformat`)."""
    global _second_prefix
    second, nanos = divmod(time.time_ns(), 1_000_000_000)
    cached, prefix = _second_prefix
    if second != cached:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_prefix = (second, prefix)
    micros = nanos // 1000
    return f"{prefix}.{micros:06d}Z" if micros else f"{prefix}Z"


_LINE_KEYS = frozenset(("conn", "participant", "message_id", "type", "outcome", "code",
                        "latency_ms"))
_INFINITY = float("inf")


def _json(value: Any) -> str:
    """`value` as `_ENCODER` writes it inside an object, the common types cheaply."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is float and -_INFINITY < value < _INFINITY:
        return float.__repr__(value)
    return _ENCODER.encode(value)


@atexit.register
def _flush_at_exit() -> None:
    if _sink is not None:
        _sink.flush()
