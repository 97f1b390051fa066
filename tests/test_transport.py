"""VehiclePreArrival and BorderCrossing through the running gateway (PROTOCOL §6, §8):
numbering, matching a crossing to its pre-arrival, declarations arriving and exiting,
flags for what does not fit, and who may see what."""

from __future__ import annotations

import re

from tests.border import (
    Status,
    accepted,
    crossing,
    pre_arrival,
    pulled,
    rules_of,
    send,
    status_of,
)
from tests.builders import declaration, status_request

PRE = re.compile(r"AZ-PRE-\d{4}-\d{7}")
BCR = re.compile(r"AZ-BCR-\d{4}-\d{7}")
HIGH_VALUE = {"currency": "USD", "total": "300000.00"}  # the shipped YELLOW risk profile


async def current(client, reference: str, sender: str = "BRK-0001") -> str:
    found = await status_of(client, sender, reference)
    assert isinstance(found, Status), found
    return found.status


async def _released(client, **body: object) -> str:
    reply = await accepted(client, declaration(**body))
    assert reply.status == "RELEASED", reply.text  # no certificate needed, GREEN channel
    assert reply.reference is not None
    return reply.reference


async def test_pre_arrival_is_numbered_announced_and_linked(connect) -> None:
    brk = await connect("BRK-0001")
    number = await _released(brk)
    reply = await accepted(brk, pre_arrival(declarations=(number, number)))
    assert reply.reference is not None and PRE.fullmatch(reply.reference)
    assert reply.status == "ANNOUNCED"
    second = await accepted(brk, pre_arrival(vehicle="ZZ999ZZ"))
    assert int(second.reference[-7:]) == int(reply.reference[-7:]) + 1
    status = await status_of(brk, "BRK-0001", reply.reference)
    assert status == Status("PRE_ARRIVAL", "ANNOUNCED", [("ANNOUNCED", None)])


async def test_pre_arrival_naming_an_unknown_declaration_is_a_business_rule(connect) -> None:
    car = await connect("CAR-0001")
    brk = await connect("BRK-0001")
    known = await _released(brk)
    reply = await send(car, pre_arrival(sender="CAR-0001",
                                        declarations=(known, "AZ-DEC-2026-9999999")))
    assert reply.code == "BUSINESS_RULE"
    assert rules_of(reply) == ["DECLARATION_EXISTS"]
    assert reply.details[0].path == "/Envelope/Body/VehiclePreArrival/DeclarationNumber[2]"
    # nothing was registered: the next pre-arrival gets the first number
    ok = await accepted(car, pre_arrival(sender="CAR-0001", declarations=(known,)))
    assert ok.reference is not None and ok.reference.endswith("-0000001")


async def test_crossing_named_pre_arrival_moves_released_import_to_arrived(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    number = await _released(brk)
    pre = (await accepted(brk, pre_arrival(declarations=(number,)))).reference
    reply = await accepted(bcp, crossing(pre_arrival_number=pre))
    assert reply.reference is not None and BCR.fullmatch(reply.reference)
    assert reply.status == "RECORDED"
    crossed = ("CROSSED", f"Crossing {reply.reference}.")
    assert await status_of(brk, "BRK-0001", pre) == Status(
        "PRE_ARRIVAL", "CROSSED", [("ANNOUNCED", None), crossed])
    declared = await status_of(brk, "BRK-0001", number)
    assert isinstance(declared, Status) and declared.status == "ARRIVED"
    assert declared.events[-1] == ("ARRIVED", f"Crossing {reply.reference} at RED-BRIDGE.")
    # the pre-arrival is used up: naming it again is refused, and nothing moves
    again = await send(bcp, crossing(pre_arrival_number=pre))
    assert rules_of(again) == ["PRE_ARRIVAL_OPEN"]


async def test_crossing_finds_the_open_pre_arrival_of_the_vehicle(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    early = (await accepted(brk, pre_arrival(vehicle="10 AB 123",
                                             expected_at="2026-12-04T06:00:00Z"))).reference
    late = (await accepted(brk, pre_arrival(vehicle="10-AB-123",
                                            expected_at="2026-12-04T18:00:00Z"))).reference
    other_way = (await accepted(brk, pre_arrival(vehicle="10AB123", direction="EXIT",
                                                 expected_at="2026-12-04T17:00:00Z"))).reference
    # registration written differently, no PreArrivalNumber: the nearest ExpectedAt wins
    reply = await accepted(bcp, crossing(vehicle="10ab123", crossed_at="2026-12-04T20:00:00+03:00"))
    assert reply.status == "RECORDED"
    assert await current(brk, late) == "CROSSED"
    assert await current(brk, early) == "ANNOUNCED"
    assert await current(brk, other_way) == "ANNOUNCED"


async def test_crossing_without_pre_arrival_is_recorded_unannounced(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    stale = (await accepted(brk, pre_arrival(vehicle="NOBODY1",
                                             expected_at="2026-11-26T09:00:00+04:00"))).reference
    reply = await accepted(bcp, crossing(vehicle="NOBODY1"))
    assert reply.status == "UNANNOUNCED"
    note = "No pre-arrival was announced for this vehicle."
    assert await status_of(bcp, "BCP-0001", reply.reference) == Status(
        "CROSSING", "UNANNOUNCED", [("UNANNOUNCED", note)])
    assert await current(brk, stale) == "ANNOUNCED"  # expected 8 days earlier: too far to match


async def test_crossing_pre_arrival_must_exist_and_match(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    unknown = await send(bcp, crossing(pre_arrival_number="AZ-PRE-2026-9999999"))
    assert rules_of(unknown) == ["PRE_ARRIVAL_EXISTS"]
    pre = (await accepted(brk, pre_arrival())).reference
    for wrong in (crossing(pre_arrival_number=pre, vehicle="XX000XX"),
                  crossing(pre_arrival_number=pre, direction="EXIT"),
                  crossing(pre_arrival_number=pre, point="SAMUR")):
        assert rules_of(await send(bcp, wrong)) == ["PRE_ARRIVAL_MATCHES"]
    assert await current(brk, pre) == "ANNOUNCED"
    unknown_decl = await send(bcp, crossing(declarations=("AZ-DEC-2026-7777777",)))
    assert rules_of(unknown_decl) == ["DECLARATION_EXISTS"]


async def test_export_exits_and_what_does_not_fit_is_flagged(connect) -> None:
    brk, bcp = await connect("BRK-0001"), await connect("BCP-0001")
    export = await _released(brk, procedure="EX")
    wrong_way = await _released(brk)  # an import, crossing on EXIT
    held = await accepted(brk, declaration(**HIGH_VALUE))
    assert held.status != "RELEASED", held.text
    pre = (await accepted(brk, pre_arrival(direction="EXIT", declarations=(export,)))).reference
    listed = (wrong_way, held.reference)
    reply = await accepted(bcp, crossing(direction="EXIT", declarations=listed))
    assert reply.status == "RECORDED"  # matched to `pre` by vehicle, point and direction

    assert await current(brk, export) == "EXITED"
    for number, why in ((wrong_way, "(procedure IM) does not cross on EXIT."),
                        (held.reference, f"is {held.status}, not RELEASED.")):
        s = await status_of(brk, "BRK-0001", number)
        assert isinstance(s, Status) and s.status != "EXITED"
        assert s.events[-1][1] == (f"Crossing {reply.reference}: not moved. "
                                   f"Declaration {number} {why}")
    flags = await status_of(bcp, "BCP-0001", reply.reference)
    assert isinstance(flags, Status) and flags.status == "RECORDED"
    assert [note for _, note in flags.events] == [
        f"Pre-arrival {pre}.",
        f"Declaration {wrong_way} (procedure IM) does not cross on EXIT.",
        f"Declaration {held.reference} is {held.status}, not RELEASED.",
    ]


async def test_resent_crossing_is_a_duplicate(connect) -> None:
    bcp = await connect("BCP-0001")
    first = await accepted(bcp, crossing(vehicle="DUP1", mid="bcr-dup-1"))
    again = await accepted(bcp, crossing(vehicle="DUP1", mid="bcr-dup-1"))
    assert again.duplicate and again.reference == first.reference
    assert again.status == "UNANNOUNCED"


async def test_who_sees_pre_arrivals_and_crossings(connect) -> None:
    brk, car = await connect("BRK-0001"), await connect("CAR-0001")
    bcp, scc, prt = await connect("BCP-0001"), await connect("SCC-OFF1"), await connect("PRT-0001")
    by_broker = (await accepted(brk, pre_arrival())).reference
    by_carrier = (await accepted(car, pre_arrival(sender="CAR-0001", vehicle="CAR1"))).reference
    crossed = (await accepted(bcp, crossing(vehicle="CAR1"))).reference
    assert await status_of(car, "CAR-0001", by_broker) == "NOT_FOUND"
    assert await status_of(bcp, "BCP-0001", by_broker) == "NOT_FOUND"
    assert await status_of(brk, "BRK-0001", crossed) == "NOT_FOUND"
    assert isinstance(await status_of(car, "CAR-0001", by_carrier), Status)
    assert isinstance(await status_of(scc, "SCC-OFF1", by_carrier), Status)
    assert isinstance(await status_of(scc, "SCC-OFF1", crossed), Status)
    # PRT-0001 is granted BRK-0001 and TRD-0001, not the carrier nor the post
    assert isinstance(await status_of(prt, "PRT-0001", by_broker), Status)
    assert await status_of(prt, "PRT-0001", by_carrier) == "NOT_FOUND"
    assert await status_of(prt, "PRT-0001", crossed) == "NOT_FOUND"
    assert (await send(bcp, pre_arrival(sender="BCP-0001"))).code == "NOT_AUTHORIZED"
    assert (await send(car, crossing(sender="CAR-0001"))).code == "NOT_AUTHORIZED"
    missing = await send(scc, status_request(sender="SCC-OFF1", reference="AZ-BCR-2026-0999999"))
    assert missing.code == "NOT_FOUND"


async def test_parties_are_notified(connect) -> None:
    brk, car, bcp = await connect("BRK-0001"), await connect("CAR-0001"), await connect("BCP-0001")
    number = await _released(brk)
    pre = (await accepted(car, pre_arrival(sender="CAR-0001", declarations=(number,)))).reference
    bcr = (await accepted(bcp, crossing(pre_arrival_number=pre))).reference
    assert await pulled(car, "CAR-0001") == [(pre, "PRE_ARRIVAL", "ANNOUNCED"),
                                             (pre, "PRE_ARRIVAL", "CROSSED")]
    assert await pulled(bcp, "BCP-0001") == [(bcr, "CROSSING", "RECORDED")]
    assert (await pulled(brk, "BRK-0001"))[-1] == (number, "DECLARATION", "ARRIVED")
