"""The demo's player (`gateway.demo`): one connection per participant, numbered
messages, each reply checked against what the contract says should happen."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from gateway import demo_messages as m
from gateway.client import ConnectionClosed, Reply, UamsClient, parse_reply
from gateway.pki import client_ssl_context
from protocol import namespaces as ns
from protocol.replies import envelope

S, R = f"{{{ns.STATUS}}}", f"{{{ns.REPORT}}}"


class Unreachable(Exception):
    """The gateway could not be connected to (or the certificates loaded)."""


@dataclass
class Player:
    """Connections per participant, message ids per run, and the running score."""

    host: str
    port: int
    pki_dir: Path
    out: TextIO
    server_hostname: str | None = None
    run: str = field(default_factory=lambda: secrets.token_hex(3).upper())
    steps: int = 0
    unexpected: int = 0
    _clients: dict[str, UamsClient] = field(default_factory=dict)
    _count: int = 0

    async def client(self, participant: str) -> UamsClient:
        if participant not in self._clients:
            try:
                context = client_ssl_context(self.pki_dir / "ca.crt",
                                             self.pki_dir / f"{participant}.crt",
                                             self.pki_dir / f"{participant}.key")
                self._clients[participant] = await UamsClient.connect(
                    self.host, self.port, context, server_hostname=self.server_hostname,
                    timeout=15.0)
            except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
                raise Unreachable(f"{participant} cannot connect to {self.host}:{self.port}: "
                                  f"{exc.__class__.__name__}: {exc}") from None
        return self._clients[participant]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients.values()))
        self._clients.clear()

    async def send(self, participant: str, message_type: str, body: str) -> Reply:
        self._count += 1
        payload = envelope(message_type, body, sender_id=participant, recipient_id="SCC",
                           message_id=f"demo-{self.run}-{self._count:03d}")
        client = await self.client(participant)
        try:
            return parse_reply(await client.request(payload))
        except (ConnectionClosed, TimeoutError) as exc:
            raise Unreachable(f"{participant}: {exc.__class__.__name__}: {exc}") from None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def check(self, who: str, what: str, reply: Reply, *, status: str | None = None,
              code: str | None = None, answer: str | None = None) -> Reply:
        """Print one step; count it as unexpected when the reply is not what was expected."""
        self.steps += 1
        if reply.is_rejection:
            got = f"Rejection {reply.code}" + "".join(
                f" [{d.rule or '-'}: {d.text}]" for d in reply.details[:3])
        elif reply.is_receipt:
            got = f"Receipt {reply.reference or ''} {reply.status}".replace("  ", " ")
        else:
            got = reply.message_type
        ok = ((status is not None and reply.is_receipt and reply.status == status)
              or (code is not None and reply.code == code)
              or (answer is not None and reply.message_type == answer))
        if not ok:
            self.unexpected += 1
            wanted = status or code or answer
            self.say(f"  UNEXPECTED  {who:<9} {what}: {got} (expected {wanted})")
        else:
            self.say(f"  ok          {who:<9} {what}: {got}")
        return reply

    def verify(self, what: str, ok: bool, detail: str) -> None:
        self.steps += 1
        if not ok:
            self.unexpected += 1
        self.say(f"  {'ok' if ok else 'UNEXPECTED':<10}  {what}: {detail}")

    async def status(self, participant: str, reference: str) -> tuple[str, list[str]]:
        """(current status, notes of its events) of an object, or ("", []) if refused."""
        reply = await self.send(participant, "StatusRequest", m.status_request(reference=reference))
        if reply.message_type != "StatusResponse":
            return "", []
        notes = [e.findtext(S + "Note") or "" for e in reply.body.iter(S + "Event")]
        return reply.body.findtext(S + "Status") or "", notes


@dataclass
class Day:
    """What the scenario registered, to check the reports against."""

    office: str
    point: str
    declared: list[tuple[m.Declaration, str]] = field(default_factory=list)  # (it, number)
    final: dict[str, str] = field(default_factory=dict)  # number → expected final status
    named: dict[str, str] = field(default_factory=dict)  # what the scenes refer back to


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def in_days(now: datetime, days: int) -> str:
    return (now + timedelta(days=days)).date().isoformat()
