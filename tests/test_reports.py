"""ReportRequest → ReportResponse through the running gateway, checked against an
independent computation in Python over a data set seeded through the same gateway.

The gateway's clock is moved between messages so that declarations are registered on
several days; the gateway runs in Asia/Baku (UTC+4) so that day boundaries in UTC and in
the gateway's zone differ, for registration dates and for crossing dates alike.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.app import Gateway
from gateway.config import Config
from protocol import namespaces as ns
from tests.border import accepted, crossing, pre_arrival, report_request, report_rows, send
from tests.builders import declaration, envelope, goods_item
from tests.conftest import make_config

ZONE = ZoneInfo("Asia/Baku")
OFFICES = ("BAKU-MAIN", "GAZAKH-01", "SAMUR-02")
POINTS = ("RED-BRIDGE", "SAMUR")
#: UTC instants of registration; 21:30Z is already the next day in Baku
CLOCK = (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 21, 30, tzinfo=UTC),
         datetime(2026, 12, 3, 9, 0, tzinfo=UTC), datetime(2026, 12, 5, 23, 59, tzinfo=UTC))


@pytest.fixture
def config(pki_dir: Path, tmp_path: Path) -> Config:
    return make_config(pki_dir, tmp_path, GATEWAY_TIMEZONE="Asia/Baku")


@dataclass
class Seeded:
    office: str
    currency: str
    total: Decimal
    taxes: list[tuple[str, Decimal, str]]
    registered_on: str
    status: str = ""


@dataclass
class Crossed:
    point: str
    direction: str
    crossed_on: str  # in Baku
    announced: bool


@dataclass
class DataSet:
    declarations: list[Seeded] = field(default_factory=list)
    crossings: list[Crossed] = field(default_factory=list)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


async def _seed(gateway: Gateway, connect) -> DataSet:
    rng = random.Random(20261203)
    brk, trd = await connect("BRK-0001"), await connect("TRD-0001")
    scc, bcp = await connect("SCC-OFF1"), await connect("BCP-0001")
    pipeline = gateway.server.pipeline
    data = DataSet()
    for n in range(24):
        instant = CLOCK[n % len(CLOCK)]
        pipeline.clock = lambda instant=instant: instant
        office = rng.choice(OFFICES)
        currency = rng.choice(("USD", "EUR", "AZN"))
        total = Decimal(rng.randrange(100, 900_000)) / 100
        taxes = [(rng.choice(("DUTY", "VAT", "EXCISE")), Decimal(rng.randrange(0, 50_000)) / 100,
                  rng.choice(("AZN", "AZN", "USD"))) for _ in range(rng.randrange(0, 4))]
        if n % 7 == 3:  # above the shipped YELLOW profile: goes to control, then rejected
            currency, total = "USD", Decimal("300000.00")
        client, sender = (trd, "TRD-0001") if n % 5 == 0 else (brk, "BRK-0001")
        reply = await accepted(client, declaration(
            sender=sender, office=office, currency=currency, total=_money(total),
            items=[goods_item(amount=_money(total))],
            taxes=tuple((t, _money(a), c) for t, a, c in taxes)))
        seeded = Seeded(office, currency, total, taxes,
                        instant.astimezone(ZONE).date().isoformat(), reply.status or "")
        if seeded.status == "UNDER_CONTROL":
            body = (f'<ControlDecision xmlns="{ns.DECLARATION}"><DeclarationNumber>'
                    f"{reply.reference}</DeclarationNumber><Decision>REJECTED</Decision>"
                    "<Officer>OFF-7</Officer></ControlDecision>")
            decided = await accepted(scc, envelope("ControlDecision", body, sender="SCC-OFF1"))
            seeded.status = decided.status or ""
        data.declarations.append(seeded)
    assert any(d.status == "REJECTED" for d in data.declarations)  # the exclusion is exercised

    crossed_at = ("2026-12-01T19:59:59Z", "2026-12-01T20:00:00Z", "2026-12-02T12:00:00+04:00",
                  "2026-12-04T23:30:00-01:00", "2026-12-06T00:00:00+04:00")
    for n in range(18):
        point, direction = rng.choice(POINTS), rng.choice(("ENTRY", "EXIT"))
        vehicle = f"TRK{n:03d}"
        announced = n % 3 != 0
        if announced:
            await accepted(brk, pre_arrival(vehicle=vehicle, point=point, direction=direction))
        when = crossed_at[n % len(crossed_at)]
        await accepted(bcp, crossing(vehicle=vehicle, point=point, direction=direction,
                                     crossed_at=when))
        day = datetime.fromisoformat(when).astimezone(ZONE).date().isoformat()
        data.crossings.append(Crossed(point, direction, day, announced))
    return data


def _in(day: str, start: str, end: str) -> bool:
    return date.fromisoformat(start) <= date.fromisoformat(day) <= date.fromisoformat(end)


def expected_financial(data: DataSet, start: str, end: str,
                       office: str | None) -> list[tuple[str, ...]]:
    declarations: dict[tuple[str, str], set[int]] = defaultdict(set)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for n, d in enumerate(data.declarations):
        if d.status == "REJECTED" or not _in(d.registered_on, start, end):
            continue
        if office is not None and d.office != office:
            continue
        for tax_type, amount, currency in d.taxes:
            declarations[(d.office, tax_type)].add(n)
            amounts[(d.office, tax_type)] += amount if currency == "AZN" else Decimal(0)
    return [(o, t, str(len(declarations[(o, t)])), _money(amounts[(o, t)]))
            for o, t in sorted(declarations)]


def expected_foreign_exchange(data: DataSet, start: str, end: str,
                              office: str | None) -> list[tuple[str, ...]]:
    count: dict[str, int] = defaultdict(int)
    total: dict[str, Decimal] = defaultdict(Decimal)
    for d in data.declarations:
        if d.status == "REJECTED" or not _in(d.registered_on, start, end):
            continue
        if office is not None and d.office != office:
            continue
        count[d.currency] += 1
        total[d.currency] += d.total
    return [(c, str(count[c]), _money(total[c])) for c in sorted(count)]


def expected_traffic(data: DataSet, start: str, end: str,
                     point: str | None) -> list[tuple[str, ...]]:
    vehicles: dict[tuple[str, str], int] = defaultdict(int)
    announced: dict[tuple[str, str], int] = defaultdict(int)
    for c in data.crossings:
        if not _in(c.crossed_on, start, end) or (point is not None and c.point != point):
            continue
        vehicles[(c.point, c.direction)] += 1
        announced[(c.point, c.direction)] += int(c.announced)
    return [(p, d, str(vehicles[(p, d)]), str(announced[(p, d)])) for p, d in sorted(vehicles)]


EXPECTED = {"FINANCIAL": expected_financial, "FOREIGN_EXCHANGE": expected_foreign_exchange,
            "TRAFFIC": expected_traffic}
PERIODS = [("2026-12-01", "2026-12-31"), ("2026-12-01", "2026-12-01"),
           ("2026-12-02", "2026-12-05"), ("2026-12-06", "2026-12-06"), ("2027-01-01", "2027-12-31")]


async def test_reports_match_an_independent_computation(gateway: Gateway, connect) -> None:
    data = await _seed(gateway, connect)
    scc, mtx = await connect("SCC-OFF1"), await connect("MTX-0001")
    checked = 0
    for report_type, expected in EXPECTED.items():
        filters = POINTS if report_type == "TRAFFIC" else OFFICES
        for start, end in PERIODS:
            for office in (None, *filters):
                reply = await send(scc, report_request(report_type, start, end, office=office))
                want = expected(data, start, end, office)
                assert report_rows(reply) == want, (report_type, start, end, office)
                checked += len(want)
        taxes = await send(mtx, report_request(report_type, "2026-12-01", "2026-12-31",
                                               sender="MTX-0001"))
        assert report_rows(taxes) == expected(data, "2026-12-01", "2026-12-31", None)
    assert checked > 100  # the data set produces plenty of rows to compare


async def test_report_header_echoes_the_request(connect) -> None:
    scc = await connect("SCC-OFF1")
    reply = await send(scc, report_request("TRAFFIC", "2026-12-01", "2026-12-31"))
    body = reply.body
    r = f"{{{ns.REPORT}}}"
    assert [body.findtext(r + t) for t in ("ReportType", "From", "To")] == [
        "TRAFFIC", "2026-12-01", "2026-12-31"]
    assert report_rows(reply) == []


async def test_report_period_and_permissions(connect) -> None:
    scc, brk, bcp = await connect("SCC-OFF1"), await connect("BRK-0001"), await connect("BCP-0001")
    backwards = await send(scc, report_request("FINANCIAL", "2026-12-31", "2026-12-01"))
    assert backwards.code == "BUSINESS_RULE"
    assert [d.rule for d in backwards.details] == ["REPORT_PERIOD"]
    for client, sender in ((brk, "BRK-0001"), (bcp, "BCP-0001")):
        reply = await send(client, report_request("FINANCIAL", "2026-12-01", "2026-12-31",
                                                  sender=sender))
        assert reply.code == "NOT_AUTHORIZED"
