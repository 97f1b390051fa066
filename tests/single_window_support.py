"""Helpers shared by the single-window tests: test rules, dates, status queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from gateway.app import Gateway, start_gateway
from gateway.client import Reply, UamsClient, parse_reply
from gateway.config import Config
from tests.builders import status_request
from tests.conftest import Connect, connector, make_config

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



def module_gateway_fixtures() -> tuple[Any, Any]:
    """`gateway, connect = module_gateway_fixtures()`: one gateway per test module, started
    from the module's own `config` fixture, and clients of it closed after each test."""

    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def gateway(config: Config) -> AsyncIterator[Gateway]:
        gw = await start_gateway(config)
        try:
            yield gw
        finally:
            await gw.stop()

    @pytest_asyncio.fixture(loop_scope="module")
    async def connect(gateway: Gateway, pki_dir: Path) -> AsyncIterator[Connect]:
        async with connector(gateway, pki_dir) as connect_as:
            yield connect_as

    return gateway, connect
