"""Assemble a running gateway from its configuration, and run it until a signal."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from adapters.store import Store, open_store
from gateway import signatures
from gateway.config import Config, ConfigError
from gateway.international import load_formats
from gateway.participants import load_participants
from gateway.pipeline import Pipeline
from gateway.publisher import OutboxPublisher, publisher_for
from gateway.retention import RetentionJob
from gateway.rules import RulesWatcher
from gateway.runtime import tune_for_serving
from gateway.server import GatewayServer
from gateway.tls import ReloadingServerContext
from gateway.writer import GroupCommitWriter
from protocol.schemas import SchemaSet

log = structlog.get_logger("uams.app")


@dataclass
class Gateway:
    config: Config
    store: Store
    server: GatewayServer
    tls: ReloadingServerContext
    #: long-running tasks (TLS reload, …), cancelled when the gateway stops
    background: list[asyncio.Task[None]] = field(default_factory=list)
    #: outbox → MQTT, when [mqtt] url is set; stopped after the writer has drained
    publisher: OutboxPublisher | None = None
    #: permit rules and risk profiles in force (reload with `rules.reload()` or SIGHUP)
    rules: RulesWatcher | None = None

    @property
    def tls_port(self) -> int | None:
        return next((lst.port for lst in self.server.listeners if lst.tls), None)

    @property
    def plaintext_port(self) -> int | None:
        return next((lst.port for lst in self.server.listeners if not lst.tls), None)

    async def stop(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.server.shutdown(self.config.server.shutdown_grace_seconds)
        if self.publisher is not None:
            await self.publisher.stop()
        self.store.close()


async def start_gateway(config: Config, *, reuse_port: bool = False) -> Gateway:
    """Open the store, start the writer and the listeners; return the running gateway."""
    registry = load_participants(config.participants.file, dev_cert_dir=config.pki.dev_dir)
    plaintext_participant = None
    if config.plaintext.enabled:
        plaintext_participant = registry.get(config.plaintext.participant)
        if plaintext_participant is None:
            raise ConfigError(f"[plaintext] participant {config.plaintext.participant!r} is not "
                              f"in {config.participants.file}")
    international = load_formats(config.international)  # compiled before the store opens
    rules = RulesWatcher(config.rules.file, check_seconds=config.rules.reload_check_seconds)
    store = open_store(config.store.url, sqlite_synchronous=config.store.sqlite_synchronous)
    await asyncio.to_thread(store.prepare)
    pipeline = Pipeline(SchemaSet(), registry, gateway_id=config.gateway.id,
                        timezone=config.gateway.timezone)
    pipeline.alternate_formats.update(international)
    rules.install(pipeline.extras)
    signatures.install(pipeline, crl_file=config.tls.crl_file)
    publisher = publisher_for(store, config.mqtt, gateway_id=config.gateway.id)
    writer = GroupCommitWriter(store, pipeline.apply,
                               max_batch=config.store.batch_max_messages,
                               max_wait_seconds=config.store.batch_max_wait_ms / 1000,
                               queue_max=config.store.queue_max,
                               on_batch=publisher.on_batch if publisher else None,
                               prefetch=pipeline.prefetch)
    writer.start()
    tls_context = ReloadingServerContext(config.tls)
    server = GatewayServer(config.server, pipeline, writer, registry, tls_context.listening,
                           plaintext_participant=plaintext_participant)
    await server.listen_tls(config.server.host, config.server.port, reuse_port=reuse_port)
    if plaintext_participant is not None:
        await server.listen_plaintext(config.plaintext.host, config.plaintext.port)
    gateway = Gateway(config, store, server, tls=tls_context, publisher=publisher, rules=rules)
    gateway.background.append(asyncio.create_task(rules.watch(), name="rules-reload"))
    if publisher is not None:
        publisher.start()
    gateway.background.append(asyncio.create_task(tls_context.watch(), name="tls-reload"))
    if config.retention.enabled:
        job = RetentionJob(store, config.retention, publishing=bool(config.mqtt.url))
        gateway.background.append(asyncio.create_task(job.run(), name="retention"))
    return gateway


async def serve(config: Config, *, reuse_port: bool = False,
                on_ready: Callable[[Gateway], object] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    gateway = await start_gateway(config, reuse_port=reuse_port)
    tune_for_serving()
    if on_ready is not None:
        on_ready(gateway)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if gateway.rules is not None:
        loop.add_signal_handler(signal.SIGHUP, gateway.rules.request_reload)
    log.info("ready", tls_port=gateway.tls_port, plaintext_port=gateway.plaintext_port,
             store=gateway.store.dialect_name)
    await stop.wait()
    log.info("stopping")
    await gateway.stop()
    log.info("stopped")
