"""The outbox publisher: status notifications from the store to the MQTT broker.

One asyncio task per gateway process. Each round it claims the next unpublished
notifications of up to `MAX_RECIPIENTS` recipients (taking turns, so no
recipient starves the others), publishes them at QoS 1 in Seq order per
recipient, and marks published only what the broker acknowledged (PUBACK) —
in the same transaction that held the claims (`SqlOutboxRelay`). What the
broker did not acknowledge stays unpublished and goes out again, from the
recipient's first unpublished Seq, on the next round: at least once, in order.

Store access runs on the publisher's own session in its own thread, never the
writer's. On SQLite only one process per database file publishes: it holds an
exclusive lock on `<database>.publisher.lock` for its life; the others stand
by and take over when that process ends. PostgreSQL and Oracle need no such
lock: claims are row locks (see `adapters.repositories.outbox`).

The writer nudges the publisher after every batch (`on_batch`, thread-safe),
so a notification normally leaves within milliseconds of its commit; the
`poll_interval_seconds` wake-up covers rows committed by other processes.
Broker failures reconnect with exponential backoff (plus jitter) up to
`backoff_max_seconds`. The publisher's state is logged on every change of
connection and every `STATE_LOG_SECONDS`: connected, backlog, published
count, last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import structlog

from adapters.errors import StoreError
from adapters.mqtt.link import BrokerUnavailable, MqttLink, parse_broker_url, tls_context
from adapters.repositories.outbox import Claim, Published, SqlOutboxRelay
from adapters.sql.session import SqlSession
from adapters.store import Store
from gateway.config import ConfigError, MqttSection
from protocol import replies
from protocol.answers import NotificationView, status_notification_body

log = structlog.get_logger("uams.publisher")

MAX_RECIPIENTS = 100
INITIAL_BACKOFF_SECONDS = 0.2
STATE_LOG_SECONDS = 60.0
T = TypeVar("T")


def topic_of(recipient_id: str) -> str:
    """`uams/v1/<participant-id>/status` (PROTOCOL §7)."""
    return f"uams/v1/{recipient_id}/status"


def notification_envelope(recipient_id: str, view: NotificationView, *,
                          gateway_id: str) -> bytes:
    """The MQTT payload: a StatusNotification envelope.

    Its MessageId is the same every time the notification is sent again
    (`N.<recipient>.<Seq>`), so a subscriber can recognize a duplicate by it as
    well as by Seq.
    """
    return replies.envelope("StatusNotification", status_notification_body(view),
                            recipient_id=recipient_id, sender_id=gateway_id,
                            message_id=f"N.{recipient_id}.{view.seq}")


@dataclass(slots=True)
class PublisherState:
    """What the publisher is doing; logged, and read by tests and metrics."""

    active: bool = False       # holds the SQLite file lock (always True on other stores)
    connected: bool = False
    backlog: int | None = None
    published: int = 0
    rounds: int = 0
    last_error: str | None = None


class _FileLease:
    """An exclusive, non-blocking `flock` held for the life of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class OutboxPublisher:
    """Publishes the outbox to MQTT until `stop()`."""

    def __init__(self, store: Store, settings: MqttSection, *, gateway_id: str = "SCC") -> None:
        self.store = store
        self.settings = settings
        self.gateway_id = gateway_id
        self.address = parse_broker_url(settings.url)
        self.client_id = (f"{settings.client_id_prefix}-{socket.gethostname()[:20]}"
                          f"-{os.getpid()}-{random.randrange(16**6):06x}")
        self.state = PublisherState(active=store.dialect_name != "sqlite")
        self._lease = _lease_for(store)
        self._tls: ssl.SSLContext | None = None
        if self.address.tls:
            assert settings.ca_file is not None
            try:
                self._tls = tls_context(str(settings.ca_file),
                                        str(settings.cert_file) if settings.cert_file else None,
                                        str(settings.key_file) if settings.key_file else None)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"[mqtt] ca_file, cert_file, key_file: cannot load the TLS "
                                  f"files ({exc.strerror or exc})") from None
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uams-publisher")
        self._session: SqlSession | None = None
        self._relay: SqlOutboxRelay | None = None
        self._cursor = ""  # the last recipient served: the next round starts after it
        self._wake = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_state_log = 0.0
        self._standby_logged = False

    # control ------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="uams-publisher")
        log.info("outbox_publisher_started", broker=str(self.address), client_id=self.client_id)

    def nudge(self) -> None:
        """Something was committed: look at the outbox now (event-loop thread)."""
        self._wake.set()

    def on_batch(self, size: int, seconds: float) -> None:
        """The writer's per-batch hook: nudge from the writer thread."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # loop closed: nobody to nudge
                self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Stop publishing: a round in progress may finish (at most `ack_timeout_seconds`),
        then the broker connection closes; claims not committed are released."""
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task},
                                         timeout=self.settings.ack_timeout_seconds + 1)
            if not done:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        with contextlib.suppress(Exception):
            await self._db(self._drop_session)
        await asyncio.get_running_loop().run_in_executor(None, self._db_thread.shutdown)
        if self._lease is not None:
            self._lease.release()
        self.state.active = self.state.connected = False
        log.info("outbox_publisher_stopped", published=self.state.published)

    # the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = INITIAL_BACKOFF_SECONDS
        while not self._stopping:
            if not self._hold_lease():
                await self._pause(self.settings.poll_interval_seconds)
                continue
            try:
                async with self._link() as link:
                    self.state.connected = True
                    self.state.last_error = None
                    delay = INITIAL_BACKOFF_SECONDS
                    await self._log_state("mqtt_connected")
                    await self._pump(link)
            except BrokerUnavailable as exc:
                self.state.last_error = exc.reason
                was_connected, self.state.connected = self.state.connected, False
                wait = delay * random.uniform(0.8, 1.0)
                log.warning("mqtt_unavailable", broker=str(self.address), error=exc.reason,
                            retry_in=round(wait, 2), was_connected=was_connected)
                if was_connected:
                    await self._log_state("mqtt_disconnected")
                await self._pause(wait)
                delay = min(delay * 2, self.settings.backoff_max_seconds)
            except Exception:  # a bug: keep the outbox moving after a pause
                self.state.connected = False
                self.state.last_error = "internal error"
                log.exception("outbox_publisher_failed")
                await self._db(self._drop_session)
                await self._pause(self.settings.backoff_max_seconds)

    def _link(self) -> MqttLink:
        s = self.settings
        return MqttLink(self.address, client_id=self.client_id, tls=self._tls,
                        keepalive=s.keepalive_seconds, ack_timeout=s.ack_timeout_seconds,
                        max_inflight=min(s.batch_size, 1000))

    async def _pump(self, link: MqttLink) -> None:
        """Rounds while there is work, otherwise wait for a nudge or the poll interval."""
        store_delay = INITIAL_BACKOFF_SECONDS
        while not self._stopping:
            if not link.connected:  # noticed even while idle, within a poll interval
                raise BrokerUnavailable(link.lost_reason or "connection lost")
            self._wake.clear()
            try:
                more = await self._round(link)
                store_delay = INITIAL_BACKOFF_SECONDS
            except StoreError as exc:
                self.state.last_error = f"store: {type(exc).__name__}"
                log.warning("outbox_store_failed", error=type(exc).__name__,
                            detail=str(exc)[:200], retry_in=store_delay)
                await self._db(self._drop_session)
                await self._pause(store_delay)
                store_delay = min(store_delay * 2, self.settings.backoff_max_seconds)
                continue
            if time.monotonic() - self._last_state_log >= STATE_LOG_SECONDS:
                await self._log_state("outbox_publisher")
            if not more:
                await self._sleep(self.settings.poll_interval_seconds)

    async def _round(self, link: MqttLink) -> bool:
        claims, more = await self._db(self._claim_round)
        if not claims:
            return more
        messages: list[tuple[str, bytes]] = []
        for claim in claims:
            topic = topic_of(claim.recipient_id)
            for n in claim.notifications:
                view = NotificationView(n.seq, n.at, n.reference, n.kind, n.status, n.note)
                messages.append((topic, notification_envelope(claim.recipient_id, view,
                                                              gateway_id=self.gateway_id)))
        failure: BrokerUnavailable | None = None
        try:
            await link.publish_in_order(messages)
            acked = len(messages)
        except BrokerUnavailable as exc:
            failure, acked = exc, exc.acked
        except BaseException:
            await self._db(self._abandon_round)
            raise
        marked = await self._db(self._end_round, _acknowledged(claims, acked))
        self.state.published += marked
        self.state.rounds += 1
        if failure is not None:
            raise failure
        return more

    async def _sleep(self, seconds: float) -> None:
        """Until nudged (or stopped), at most `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _pause(self, seconds: float) -> None:
        """A backoff: only `stop()` cuts it short, nudges do not."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), timeout=seconds)

    def _hold_lease(self) -> bool:
        if self._lease is None:
            self.state.active = True
            return True
        held = self._lease.try_acquire()
        if held and not self.state.active:
            log.info("outbox_publisher_active", lock=str(self._lease.path))
        elif not held and self.state.rounds == 0 and not self._standby_logged:
            self._standby_logged = True
            log.info("outbox_publisher_standby", lock=str(self._lease.path))
        self.state.active = held
        return held

    async def _log_state(self, event: str) -> None:
        self._last_state_log = time.monotonic()
        with contextlib.suppress(StoreError):
            self.state.backlog = await self._db(self._backlog)
        s = self.state
        log.info(event, broker=str(self.address), client_id=self.client_id,
                 connected=s.connected, backlog=s.backlog, published=s.published,
                 last_error=s.last_error)

    # store work: the publisher's own thread and session ----------------------------------

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, fn, *args)

    def _relay_or_open(self) -> SqlOutboxRelay:
        if self._relay is None:
            self._session = self.store.open_session()
            self._relay = SqlOutboxRelay(self._session)
        return self._relay

    def _claim_round(self) -> tuple[list[Claim], bool]:
        relay = self._relay_or_open()
        relay.begin_round()
        try:
            recipients = relay.recipients_with_backlog(self._cursor, MAX_RECIPIENTS)
            if not recipients and self._cursor:
                self._cursor = ""
                recipients = relay.recipients_with_backlog("", MAX_RECIPIENTS)
            more = len(recipients) == MAX_RECIPIENTS
            budget = self.settings.batch_size
            claims: list[Claim] = []
            for recipient in recipients:
                if budget <= 0:
                    more = True
                    break
                self._cursor = recipient
                claim = relay.claim(recipient, budget)
                if claim is not None:
                    claims.append(claim)
                    budget -= len(claim.notifications)
            if budget <= 0:
                more = True
            if not claims:
                relay.abandon_round()
            return claims, more
        except BaseException:
            relay.abandon_round()
            raise

    def _end_round(self, published: list[Published]) -> int:
        return self._relay_or_open().end_round(published)

    def _abandon_round(self) -> None:
        if self._relay is not None:
            self._relay.abandon_round()

    def _backlog(self) -> int:
        return self._relay_or_open().backlog()

    def _drop_session(self) -> None:
        if self._relay is not None:
            with contextlib.suppress(StoreError):
                self._relay.abandon_round()
        if self._session is not None:
            self._session.close()
        self._session = self._relay = None


def _acknowledged(claims: list[Claim], acked: int) -> list[Published]:
    """The Seq ranges covered by the first `acked` messages (claims are published in order)."""
    out: list[Published] = []
    for claim in claims:
        if acked <= 0:
            break
        count = min(acked, len(claim.notifications))
        out.append(Published(claim.recipient_id, claim.first_seq, claim.first_seq + count - 1))
        acked -= count
    return out


def _lease_for(store: Store) -> _FileLease | None:
    path = getattr(store, "path", None)
    if store.dialect_name != "sqlite" or not path or path == ":memory:":
        return None
    return _FileLease(Path(f"{path}.publisher.lock"))


def publisher_for(store: Store, settings: MqttSection, *,
                  gateway_id: str) -> OutboxPublisher | None:
    """The publisher (not started yet) when `[mqtt] url` is set, else None."""
    if not settings.url:
        return None
    return OutboxPublisher(store, settings, gateway_id=gateway_id)
