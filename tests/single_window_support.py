"""Helpers shared by the single-window tests: test rules, dates, status queries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.app import Gateway
from gateway.client import Reply, UamsClient, parse_reply
from gateway.config import Config
from tests.builders import status_request
from tests.conftest import client_context, make_config

STATUS_NS = "{urn:uams:status:1}"

#: Rules of the single-window tests (the shipped file may change; these must not).
TEST_RULES = """
[[permit]]
name = "plants"
hs_prefixes = ["06", "07", "08"]
requires = ["PHYTOSANITARY"]

[[permit]]
name = "meat-animal-health"
hs_prefixes = ["02"]
requires = ["VETERINARY"]

[[permit]]
name = "meat-food-safety"
hs_prefixes = ["0202"]
requires = ["SANITARY"]

[risk]
default = "GREEN"

[[risk.profile]]
name = "inspect-iran-origin"
channel = "RED"
origin_countries = ["IR"]

[[risk.profile]]
name = "high-value-usd"
channel = "YELLOW"
invoice_above = { USD = "50000.00" }

[[risk.profile]]
name = "office-documentary-check"
channel = "YELLOW"
customs_offices = ["CHECK-OFFICE"]
"""


def single_window_config(pki_dir: Path, tmp_path: Path, rules: str = TEST_RULES,
                         **env: str) -> Config:
    """A test configuration whose rules file (in tmp_path) holds `rules`."""
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(rules)
    env.setdefault("RULES_RELOAD_CHECK_SECONDS", "0")
    return make_config(pki_dir, tmp_path, RULES_FILE=str(rules_file), **env)


def day(offset: int = 0) -> str:
    """Today's date (UTC, the tests' gateway time zone) plus `offset` days."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def at(offset: int = 0) -> str:
    """Noon UTC of `day(offset)`, as an IssuedAt."""
    return f"{day(offset)}T12:00:00Z"


async def send(client: UamsClient, payload: bytes) -> Reply:
    return parse_reply(await client.request(payload))


@dataclass(frozen=True)
class Status:
    kind: str
    status: str
    events: list[tuple[str, str | None]]  # (Status, Note), oldest first


async def status_of(client: UamsClient, sender: str, reference: str) -> Status:
    """The StatusResponse for `reference`, asked as `sender`; fails on anything else."""
    reply = await send(client, status_request(sender=sender, reference=reference))
    assert reply.message_type == "StatusResponse", (reply.code, reply.details)
    body = reply.body

    def text(el: object, name: str) -> str | None:
        found = el.find(STATUS_NS + name)  # type: ignore[attr-defined]
        return None if found is None else (found.text or "")

    events = [(text(e, "Status") or "", text(e, "Note"))
              for e in body.iterfind(STATUS_NS + "Event")]
    return Status(text(body, "Kind") or "", text(body, "Status") or "", events)


def rules_of(reply: Reply) -> list[str | None]:
    """The rule names of a rejection's details."""
    return [d.rule for d in reply.details]


Connect = Callable[[str], Awaitable[UamsClient]]


@asynccontextmanager
async def connector(gateway: Gateway, pki_dir: Path) -> AsyncIterator[Connect]:
    """`connect(participant_id)` for a gateway, closing every client at the end."""
    clients: list[UamsClient] = []

    async def connect(participant_id: str) -> UamsClient:
        assert gateway.tls_port is not None
        client = await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                          client_context(pki_dir, participant_id),
                                          server_hostname="localhost")
        clients.append(client)
        return client

    try:
        yield connect
    finally:
        for client in clients:
            await client.close()
