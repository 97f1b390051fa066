"""PullRequest → PullResponse over the real gateway: a participant's own notifications,
released by AckUpTo, paged by MaxMessages, with no gaps for concurrent pullers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lxml import etree

from gateway.client import UamsClient, parse_reply
from protocol import namespaces as ns
from protocol.schemas import SchemaSet
from tests.builders import declaration, envelope, status_request

S = f"{{{ns.STATUS}}}"
OTHER_TAX_ID = "5555555555"  # no registered trader: the declarant (and its partner) only


@dataclass(frozen=True)
class Pulled:
    seqs: list[int]
    references: list[str]
    statuses: list[str]
    more: bool


def pull_request(sender: str, ack: int | None = None, most: int | None = None) -> bytes:
    inner = (f"<AckUpTo>{ack}</AckUpTo>" if ack is not None else "") + (
        f"<MaxMessages>{most}</MaxMessages>" if most is not None else "")
    return envelope("PullRequest", f'<PullRequest xmlns="{ns.STATUS}">{inner}</PullRequest>',
                    sender=sender)


async def pull(client: UamsClient, sender: str, ack: int | None = None,
               most: int | None = None) -> Pulled:
    raw = await client.request(pull_request(sender, ack, most))
    SchemaSet().validate(etree.fromstring(raw))
    reply = parse_reply(raw)
    assert reply.message_type == "PullResponse", reply.text
    notes = reply.body.findall(S + "Notification")
    return Pulled(
        seqs=[int(n.findtext(S + "Seq")) for n in notes],
        references=[n.findtext(S + "Reference") for n in notes],
        statuses=[n.findtext(S + "Status") for n in notes],
        more=reply.body.findtext(S + "More") == "true",
    )


async def lodge(client: UamsClient, sender: str = "BRK-0001", **body: object) -> str:
    reply = parse_reply(await client.request(declaration(sender=sender, **body)))
    assert reply.is_receipt, reply.text
    assert reply.reference is not None
    return reply.reference


async def history(client: UamsClient, sender: str, reference: str) -> list[str]:
    reply = parse_reply(await client.request(status_request(sender=sender, reference=reference)))
    return [e.findtext(S + "Status") for e in reply.body.findall(S + "Event")]


async def test_pull_hands_out_own_notifications_in_seq_order_and_ack_releases(connect) -> None:
    broker = await connect("BRK-0001")
    refs = [await lodge(broker, tax_id=OTHER_TAX_ID) for _ in range(3)]

    first = await pull(broker, "BRK-0001")
    assert first.seqs == list(range(1, len(first.seqs) + 1))
    assert not first.more
    for ref in refs:  # every status change of each declaration, in the order it happened
        assert [s for r, s in zip(first.references, first.statuses, strict=True)
                if r == ref] == await history(broker, "BRK-0001", ref)

    last = first.seqs[-1]
    after_ack = await pull(broker, "BRK-0001", ack=last - 1)
    assert after_ack.seqs == [last]
    # Released rows are never shown again, even to a puller that acknowledges less.
    assert (await pull(broker, "BRK-0001", ack=0)).seqs == [last]
    drained = await pull(broker, "BRK-0001", ack=last)
    assert drained.seqs == [] and not drained.more
    # New status changes continue the same sequence.
    await lodge(broker, tax_id=OTHER_TAX_ID)
    assert (await pull(broker, "BRK-0001", ack=last)).seqs[0] == last + 1


async def test_max_messages_pages_with_more(connect) -> None:
    broker = await connect("BRK-0001")
    for _ in range(3):
        await lodge(broker, tax_id=OTHER_TAX_ID)
    total = len((await pull(broker, "BRK-0001")).seqs)
    assert total >= 3
    ack, seen = 0, []
    while True:
        page = await pull(broker, "BRK-0001", ack=ack, most=2)
        assert len(page.seqs) <= 2
        seen += page.seqs
        if not page.more:
            break
        assert len(page.seqs) == 2
        ack = page.seqs[-1]
    assert seen == list(range(1, total + 1))


async def test_ack_beyond_issued_is_refused_and_releases_nothing(connect) -> None:
    broker = await connect("BRK-0001")
    await lodge(broker, tax_id=OTHER_TAX_ID)
    issued = (await pull(broker, "BRK-0001")).seqs
    reply = parse_reply(await broker.request(pull_request("BRK-0001", ack=issued[-1] + 1)))
    assert reply.code == "BUSINESS_RULE"
    assert [d.rule for d in reply.details] == ["ACK_UP_TO_ISSUED"]
    huge = parse_reply(await broker.request(pull_request("BRK-0001", ack=2**64 - 1)))
    assert huge.code == "BUSINESS_RULE"
    assert (await pull(broker, "BRK-0001")).seqs == issued
    # Nothing issued yet: only AckUpTo 0 is acceptable.
    carrier = await connect("CAR-0001")
    assert (await pull(carrier, "CAR-0001")) == Pulled([], [], [], False)
    assert parse_reply(await carrier.request(pull_request("CAR-0001", ack=1))).code == \
        "BUSINESS_RULE"


async def test_each_recipient_has_its_own_stream(connect) -> None:
    """The declarant, the consignee's trader and the partner granted them each get the
    notifications under their own gap-free numbering."""
    broker = await connect("BRK-0001")
    ref = await lodge(broker, tax_id="1234567890")  # TRD-0001's tax id; PRT-0001 sees both
    statuses = await history(broker, "BRK-0001", ref)
    for pid in ("BRK-0001", "TRD-0001", "PRT-0001"):
        client = broker if pid == "BRK-0001" else await connect(pid)
        got = await pull(client, pid)
        assert got.seqs == list(range(1, len(statuses) + 1)), pid
        assert got.references == [ref] * len(statuses)
        assert got.statuses == statuses
    outsider = await connect("MOT-0001")
    assert (await pull(outsider, "MOT-0001")).seqs == []


async def test_concurrent_pullers_see_no_gaps_and_nothing_already_acknowledged(connect) -> None:
    """Two pullers of one participant race each other while status changes keep coming."""
    lodger = await connect("BRK-0001")
    pullers = [await connect("PRT-0001"), await connect("PRT-0001")]
    confirmed_ack = 0  # highest AckUpTo whose reply has arrived: committed before it
    seen: set[int] = set()
    lodging_done = asyncio.Event()

    async def lodge_many() -> None:
        for _ in range(15):
            await lodge(lodger, tax_id=OTHER_TAX_ID)
        lodging_done.set()

    async def puller(client: UamsClient) -> None:
        nonlocal confirmed_ack
        mine = 0
        while True:
            floor, sent = confirmed_ack, mine
            page = await pull(client, "PRT-0001", ack=sent, most=3)
            confirmed_ack = max(confirmed_ack, sent)
            if page.seqs:
                assert page.seqs == list(range(page.seqs[0], page.seqs[0] + len(page.seqs)))
                assert page.seqs[0] > max(floor, sent), (floor, sent, page.seqs)
                seen.update(page.seqs)
                mine = page.seqs[-1]
            elif lodging_done.is_set() and not page.more:
                return
            await asyncio.sleep(0)

    await asyncio.gather(lodge_many(), puller(pullers[0]), puller(pullers[1]))
    final = await pull(pullers[0], "PRT-0001", ack=0)
    assert final.seqs == [] or final.seqs[0] > max(seen)
    seen.update(final.seqs)
    assert sorted(seen) == list(range(1, len(seen) + 1))
    assert len(seen) >= 15

