"""PROTOCOL §8 through the real server: certificate cross-check, waiting, risk channel,
control decisions and revocation effects.

One gateway serves the whole module (every test uses its own numbers), so the
tests share one event loop.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.config import Config
from tests.builders import (
    certificate,
    control_decision,
    declaration,
    envelope,
    goods_item,
    revocation,
)
from tests.single_window_support import (
    at,
    day,
    module_gateway_fixtures,
    send,
    single_window_config,
    status_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

APPLES = "080810"
STATUS = "{urn:uams:status:1}"


@pytest.fixture(scope="module")
def config(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return single_window_config(pki_dir, tmp_path_factory.mktemp("lifecycle"))


gateway, connect = module_gateway_fixtures()


def apples(*documents: tuple[str, str], origin: str = "GE", **body: object) -> bytes:
    return declaration(items=[goods_item(hs=APPLES, origin=origin, documents=documents)],
                       **body)


def phyto(number: str, **body: object) -> bytes:
    body.setdefault("issued_at", at(-1))
    body.setdefault("valid_until", day(30))
    return certificate(number=number, cert_type="PHYTOSANITARY", **body)


async def test_goods_needing_no_certificate_are_released_green(connect) -> None:
    broker = await connect("BRK-0001")
    reply = await send(broker, declaration(items=[goods_item(hs="847130")]))
    assert reply.is_receipt and reply.status == "RELEASED"
    state = await status_of(broker, "BRK-0001", reply.reference)
    assert state.kind == "DECLARATION" and state.status == "RELEASED"
    assert state.events == [("REGISTERED", None),
                            ("RELEASED", "risk channel GREEN (risk rule default)")]


async def test_waiting_declaration_is_released_when_its_certificate_arrives(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-WAIT-1")))
    assert lodged.status == "AWAITING_CERTIFICATES"
    waiting = await status_of(broker, "BRK-0001", lodged.reference)
    assert waiting.events[-1][0] == "AWAITING_CERTIFICATES"
    assert "PHYTOSANITARY for goods item 1" in (waiting.events[-1][1] or "")
    assert "plants" in (waiting.events[-1][1] or "")

    issued = await send(moa, phyto("PHY-WAIT-1"))
    assert issued.is_receipt and (issued.reference, issued.status) == ("PHY-WAIT-1", "VALID")
    released = await status_of(broker, "BRK-0001", lodged.reference)
    assert [s for s, _ in released.events] == ["REGISTERED", "AWAITING_CERTIFICATES",
                                               "RELEASED"]


async def test_referenced_certificate_that_counts_releases_at_once(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    assert (await send(moa, phyto("PHY-OK-1"))).status == "VALID"
    reply = await send(broker, apples(("PHYTOSANITARY", "PHY-OK-1")))
    assert reply.status == "RELEASED"


@pytest.mark.parametrize(("certificate_fields", "rule"), [
    ({"cert_type": "VETERINARY"}, "CERTIFICATE_TYPE"),
    ({"valid_until": day(-1), "issued_at": at(-10)}, "CERTIFICATE_EXPIRED"),
    ({"issued_at": at(3), "valid_until": day(30)}, "CERTIFICATE_NOT_YET_VALID"),
    ({"tax_id": "9999999999"}, "CERTIFICATE_CONSIGNEE"),
    ({"hs": ("080510",)}, "CERTIFICATE_HS_HEADING"),
])
async def test_referenced_certificate_that_does_not_count_is_rejected(
        connect, certificate_fields: dict[str, object], rule: str) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    fields: dict[str, object] = {"issued_at": at(-1), "valid_until": day(30)}
    fields.update(certificate_fields)
    issued = await send(moa, certificate(number=f"BAD-{rule}", **fields))
    assert issued.is_receipt
    reply = await send(broker, apples(("PHYTOSANITARY", f"BAD-{rule}")))
    assert reply.code == "BUSINESS_RULE"
    assert [d.rule for d in reply.details] == [rule]
    assert reply.details[0].path == \
        "/Envelope/Body/CustomsDeclaration/GoodsItem[1]/Document[1]/Number"


async def test_revoked_referenced_certificate_is_rejected(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    await send(moa, phyto("PHY-REV-REF"))
    assert (await send(moa, revocation(number="PHY-REV-REF"))).status == "REVOKED"
    reply = await send(broker, apples(("PHYTOSANITARY", "PHY-REV-REF")))
    assert reply.code == "BUSINESS_RULE"
    assert [d.rule for d in reply.details] == ["CERTIFICATE_REVOKED"]


async def test_every_failed_condition_is_named(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    await send(moa, phyto("PHY-MANY", tax_id="9999999999", hs=("060110",)))
    reply = await send(broker, apples(("PHYTOSANITARY", "PHY-MANY")))
    assert {d.rule for d in reply.details} == {"CERTIFICATE_CONSIGNEE",
                                               "CERTIFICATE_HS_HEADING"}
    rejected = await send(broker, apples(("PHYTOSANITARY", "PHY-MANY"), lrn="AFTER-REJECT"))
    assert rejected.code == "BUSINESS_RULE"  # nothing was registered the first time either


async def test_single_window_finds_a_counting_certificate_itself(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    tax_id = "5550000003"
    await send(moa, phyto("PHY-OTHER-HEADING", hs=("080510",), tax_id=tax_id))  # not 0808
    assert (await send(broker, apples(tax_id=tax_id))).status == "AWAITING_CERTIFICATES"
    await send(moa, phyto("PHY-FOUND", tax_id=tax_id))
    reply = await send(broker, apples(tax_id=tax_id))
    assert reply.status == "RELEASED"


async def test_unreferenced_requirement_waits_then_any_counting_certificate_releases(
        connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    lodged = await send(broker, apples(tax_id="5550000001"))  # a consignee of its own
    assert lodged.status == "AWAITING_CERTIFICATES"
    await send(moa, phyto("PHY-WRONG-CONSIGNEE", tax_id="9999999999"))
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == \
        "AWAITING_CERTIFICATES"
    await send(moa, phyto("PHY-ANY", tax_id="5550000001"))
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == "RELEASED"


async def test_every_required_type_must_be_satisfied(connect) -> None:
    broker, moa, moh = (await connect("BRK-0001"), await connect("MOA-0001"),
                        await connect("MOH-0001"))
    tax_id = "5550000004"
    await send(moa, certificate(number="VET-MEAT", cert_type="VETERINARY", hs=("020230",),
                                issued_at=at(-1), valid_until=day(30), tax_id=tax_id))
    meat = declaration(items=[goods_item(hs="020230", origin="BR",
                                         documents=(("VETERINARY", "VET-MEAT"),))],
                       tax_id=tax_id)
    lodged = await send(broker, meat)
    assert lodged.status == "AWAITING_CERTIFICATES"  # SANITARY still missing
    issued = await send(moh, certificate(number="SAN-MEAT", cert_type="SANITARY",
                                         hs=("020230",), issued_at=at(-1),
                                         valid_until=day(30), sender="MOH-0001",
                                         tax_id=tax_id))
    assert issued.status == "VALID"
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == "RELEASED"


async def test_referenced_certificate_arriving_that_does_not_count_keeps_it_waiting(
        connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-LATE-BAD")))
    assert lodged.status == "AWAITING_CERTIFICATES"
    assert (await send(moa, phyto("PHY-LATE-BAD", tax_id="9999999999"))).status == "VALID"
    state = await status_of(broker, "BRK-0001", lodged.reference)
    assert state.status == "AWAITING_CERTIFICATES"
    assert state.events[-1] == ("AWAITING_CERTIFICATES",
                                "certificate PHY-LATE-BAD does not count: CERTIFICATE_CONSIGNEE")


async def test_waiting_declaration_is_judged_on_its_registration_date(
        connect, config: Config) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-OLD")))
    assert lodged.status == "AWAITING_CERTIFICATES"
    # As if lodged long ago: only a certificate valid on that date may count.
    path = config.store.url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=10)) as db, db:
        db.execute("UPDATE declarations SET registration_date = '2026-01-10' "
                   "WHERE declaration_number = ?", (lodged.reference,))
    await send(moa, phyto("PHY-OLD", issued_at="2026-01-05T08:00:00Z", valid_until="2026-01-31"))
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == "RELEASED"


async def test_risk_profiles_first_match_wins_and_default_is_green(connect) -> None:
    broker = await connect("BRK-0001")
    both = declaration(items=[goods_item(origin="IR", amount="60000.00")],
                       total="60000.00", currency="USD")
    red = await send(broker, both)
    assert red.status == "UNDER_CONTROL"
    events = (await status_of(broker, "BRK-0001", red.reference)).events
    assert events[-1] == ("UNDER_CONTROL", "risk channel RED (risk rule inspect-iran-origin)")

    yellow = await send(broker, declaration(items=[goods_item(amount="60000.00")],
                                            total="60000.00", currency="USD"))
    assert yellow.status == "UNDER_CONTROL"
    events = (await status_of(broker, "BRK-0001", yellow.reference)).events
    assert events[-1][1] == "risk channel YELLOW (risk rule high-value-usd)"

    other_currency = await send(broker, declaration(total="60000.00", currency="EUR"))
    assert other_currency.status == "RELEASED"
    office = await send(broker, declaration(office="CHECK-OFFICE"))
    assert office.status == "UNDER_CONTROL"


async def test_risk_channel_and_rule_are_recorded(connect, config: Config) -> None:
    broker = await connect("BRK-0001")
    red = await send(broker, declaration(items=[goods_item(origin="IR")]))
    green = await send(broker, declaration())
    path = config.store.url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=10)) as db:
        rows = dict(((n, (c, r)) for n, c, r in db.execute(
            "SELECT declaration_number, risk_channel, decision_rule FROM declarations")))
    assert rows[red.reference] == ("RED", "inspect-iran-origin")
    assert rows[green.reference] == ("GREEN", "default")


async def test_control_decision_releases_or_rejects_under_control(connect) -> None:
    broker, officer = await connect("BRK-0001"), await connect("SCC-OFF1")
    first = await send(broker, declaration(items=[goods_item(origin="IR")]))
    second = await send(broker, declaration(items=[goods_item(origin="IR")]))
    released = await send(officer, control_decision(number=first.reference, note="Checked."))
    assert (released.reference, released.status) == (first.reference, "RELEASED")
    rejected = await send(officer, control_decision(number=second.reference,
                                                    decision="REJECTED"))
    assert rejected.status == "REJECTED"
    state = await status_of(broker, "BRK-0001", first.reference)
    assert state.events[-1] == ("RELEASED", "control decision by SCC-OFF1: Checked.")
    assert (await status_of(broker, "BRK-0001", second.reference)).status == "REJECTED"

    again = await send(officer, control_decision(number=first.reference))
    assert again.code == "BUSINESS_RULE"
    assert [d.rule for d in again.details] == ["DECLARATION_UNDER_CONTROL"]


async def test_control_decision_needs_customs_and_an_existing_declaration(connect) -> None:
    broker, officer = await connect("BRK-0001"), await connect("SCC-OFF1")
    lodged = await send(broker, declaration(items=[goods_item(origin="IR")]))
    refused = await send(broker, control_decision(number=lodged.reference, sender="BRK-0001"))
    assert refused.code == "NOT_AUTHORIZED"
    missing = await send(officer, control_decision(number="AZ-DEC-2026-9999999"))
    assert missing.code == "NOT_FOUND"


async def test_revocation_sends_unreleased_declaration_back_to_waiting(connect) -> None:
    broker, moa, officer = (await connect("BRK-0001"), await connect("MOA-0001"),
                            await connect("SCC-OFF1"))
    await send(moa, phyto("PHY-RELIED"))
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-RELIED"), origin="IR"))
    assert lodged.status == "UNDER_CONTROL"
    await send(moa, revocation(number="PHY-RELIED"))
    state = await status_of(broker, "BRK-0001", lodged.reference)
    assert state.status == "AWAITING_CERTIFICATES"
    assert state.events[-1] == ("AWAITING_CERTIFICATES", "certificate PHY-RELIED revoked")
    late = await send(officer, control_decision(number=lodged.reference))
    assert late.code == "BUSINESS_RULE"


async def test_revocation_after_release_flags_the_declaration(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    await send(moa, phyto("PHY-RELEASED"))
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-RELEASED")))
    assert lodged.status == "RELEASED"
    await send(moa, revocation(number="PHY-RELEASED"))
    state = await status_of(broker, "BRK-0001", lodged.reference)
    assert state.status == "RELEASED"
    assert state.events[-1] == ("RELEASED", "certificate revoked after release: PHY-RELEASED")


async def test_revocation_lets_another_counting_certificate_take_over(connect) -> None:
    broker, moa = await connect("BRK-0001"), await connect("MOA-0001")
    tax_id = "5550000002"  # a consignee of its own: no other test's certificates count
    await send(moa, phyto("PHY-FIRST", tax_id=tax_id))
    lodged = await send(broker, apples(origin="IR", tax_id=tax_id))  # finds PHY-FIRST
    assert lodged.status == "UNDER_CONTROL"
    await send(moa, phyto("PHY-SECOND", tax_id=tax_id))
    await send(moa, revocation(number="PHY-FIRST"))
    state = await status_of(broker, "BRK-0001", lodged.reference)
    assert [s for s, _ in state.events[-2:]] == ["AWAITING_CERTIFICATES", "UNDER_CONTROL"]
    await send(moa, revocation(number="PHY-SECOND"))
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == \
        "AWAITING_CERTIFICATES"
    await send(moa, phyto("PHY-THIRD", tax_id=tax_id))
    assert (await status_of(broker, "BRK-0001", lodged.reference)).status == "UNDER_CONTROL"


async def test_parties_are_notified_of_each_transition(connect) -> None:
    broker, moa, trader = (await connect("BRK-0001"), await connect("MOA-0001"),
                           await connect("TRD-0001"))
    lodged = await send(broker, apples(("PHYTOSANITARY", "PHY-NOTIFY")))
    await send(moa, phyto("PHY-NOTIFY"))
    pulled = await send(trader, envelope(
        "PullRequest", f'<PullRequest xmlns="{STATUS[1:-1]}"><MaxMessages>500</MaxMessages>'
        "</PullRequest>", sender="TRD-0001"))
    mine = {lodged.reference, "PHY-NOTIFY"}
    seen = [(n.findtext(STATUS + "Reference"), n.findtext(STATUS + "Status"))
            for n in pulled.body.iterfind(STATUS + "Notification")
            if n.findtext(STATUS + "Reference") in mine]
    assert seen == [(lodged.reference, "REGISTERED"),
                    (lodged.reference, "AWAITING_CERTIFICATES"),
                    ("PHY-NOTIFY", "VALID"),
                    (lodged.reference, "RELEASED")]
