"""OffenseReport through the running gateway: numbering, the note on the linked
declaration, and who may report and see offenses."""

from __future__ import annotations

import re

from tests.border import Status, accepted, offense, pulled, rules_of, send, status_of
from tests.builders import declaration

OFF = re.compile(r"AZ-OFF-\d{4}-\d{7}")


async def test_offense_is_numbered_and_reported(connect) -> None:
    bcp, scc = await connect("BCP-0001"), await connect("SCC-OFF1")
    first = await accepted(bcp, offense())
    assert first.reference is not None and OFF.fullmatch(first.reference)
    assert first.status == "REPORTED"
    by_customs = await accepted(scc, offense(sender="SCC-OFF1", offense_type="UNDERVALUATION",
                                             vehicle=None))
    assert int(by_customs.reference[-7:]) == int(first.reference[-7:]) + 1
    assert await status_of(bcp, "BCP-0001", first.reference) == Status(
        "OFFENSE", "REPORTED", [("REPORTED", "SMUGGLING")])
    assert await pulled(bcp, "BCP-0001") == [(first.reference, "OFFENSE", "REPORTED")]


async def test_linked_declaration_gets_a_note_and_keeps_its_status(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    lodged = await accepted(brk, declaration())
    before = await status_of(brk, "BRK-0001", lodged.reference)
    assert isinstance(before, Status)
    reply = await accepted(bcp, offense(declaration=lodged.reference, vehicle=None))
    after = await status_of(brk, "BRK-0001", lodged.reference)
    assert isinstance(after, Status) and after.status == before.status
    assert after.events == before.events + [
        (before.status, f"Offense {reply.reference} reported: SMUGGLING.")]
    assert (await pulled(brk, "BRK-0001"))[-1] == (lodged.reference, "DECLARATION",
                                                   before.status)


async def test_unknown_declaration_is_a_business_rule(connect) -> None:
    bcp = await connect("BCP-0001")
    reply = await send(bcp, offense(declaration="AZ-DEC-2026-4444444"))
    assert rules_of(reply) == ["DECLARATION_EXISTS"]
    assert reply.details[0].path == "/Envelope/Body/OffenseReport/DeclarationNumber"
    ok = await accepted(bcp, offense(vehicle=None))  # neither declaration nor vehicle: allowed
    assert ok.reference is not None and ok.reference.endswith("-0000001")


async def test_who_may_report_and_see_offenses(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    scc, prt, mtx = await connect("SCC-OFF1"), await connect("PRT-0001"), await connect("MTX-0001")
    assert (await send(brk, offense(sender="BRK-0001"))).code == "NOT_AUTHORIZED"
    assert (await send(mtx, offense(sender="MTX-0001"))).code == "NOT_AUTHORIZED"
    by_post = (await accepted(bcp, offense())).reference
    by_customs = (await accepted(scc, offense(sender="SCC-OFF1"))).reference
    assert isinstance(await status_of(scc, "SCC-OFF1", by_post), Status)
    assert await status_of(bcp, "BCP-0001", by_customs) == "NOT_FOUND"
    assert await status_of(brk, "BRK-0001", by_post) == "NOT_FOUND"
    assert await status_of(prt, "PRT-0001", by_post) == "NOT_FOUND"
