"""The server's TLS context, reloaded when its files change (new CRL, renewed certificate).

asyncio binds one `SSLContext` to a listener for its life. The listening
context therefore only picks, in its SNI callback (which OpenSSL calls for
every ClientHello, with or without a server name), the current context built
from the files; a reload builds a new one and swaps it in for the connections
that follow. Established connections keep the context they began with.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from typing import Any

import structlog

from gateway.config import TlsSection
from gateway.pki import server_ssl_context

log = structlog.get_logger("uams.tls")


class ReloadingServerContext:
    def __init__(self, settings: TlsSection) -> None:
        self.settings = settings
        self._stamps = self._file_stamps()
        self.current = self._build()
        self.listening = self._build()
        self.listening.sni_callback = self._pick
        self.reloads = 0

    def _files(self) -> list[Path]:
        s = self.settings
        return [p for p in (s.cert_file, s.key_file, s.ca_file, s.crl_file) if p is not None]

    def _file_stamps(self) -> tuple[tuple[int, int], ...]:
        stamps = []
        for path in self._files():
            try:
                st = path.stat()
                stamps.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append((0, 0))
        return tuple(stamps)

    def _build(self) -> ssl.SSLContext:
        s = self.settings
        return server_ssl_context(s.cert_file, s.key_file, s.ca_file, s.crl_file)

    def _pick(self, ssl_object: Any, server_name: str | None, ctx: ssl.SSLContext) -> None:
        ssl_object.context = self.current
        return None

    def reload_if_changed(self) -> bool:
        """Rebuild the context when a file changed; keep the old one if the new files are bad."""
        stamps = self._file_stamps()
        if stamps == self._stamps:
            return False
        try:
            fresh = self._build()
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.error("tls_reload_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return False
        self._stamps = stamps
        self.current = fresh
        self.reloads += 1
        log.info("tls_reloaded", reloads=self.reloads)
        return True

    async def watch(self) -> None:
        """Check the files every `reload_interval_seconds` until cancelled."""
        while True:
            await asyncio.sleep(self.settings.reload_interval_seconds)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.reload_if_changed)
