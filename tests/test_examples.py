"""The shipped examples do what examples/README.md says, through the real server:
every valid file, sent in file order to a fresh store, is accepted; every invalid file is
answered with the code its name carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.client import parse_reply
from tests.conftest import ROOT

VALID = sorted((ROOT / "examples" / "valid").glob("*.xml"))
INVALID = sorted((ROOT / "examples" / "invalid").glob("*.xml"))


def sender_of(path: Path) -> str:
    """`05-declaration-machinery.BRK-0001.xml` is sent by BRK-0001."""
    return path.name.removesuffix(".xml").rsplit(".", 1)[1]


def expected_code(path: Path) -> tuple[str, bool]:
    """`DUPLICATE_CONFLICT-2.BRK-0001.xml` → ("DUPLICATE_CONFLICT", True): the code, and
    whether this file is the one that provokes it (the first of a pair is accepted)."""
    stem = path.name.split(".", 1)[0]
    code, _, position = stem.partition("-")
    return code, position in ("", "2")


async def test_valid_examples_in_file_order_are_all_accepted(connect) -> None:
    assert len(VALID) >= 10
    outcomes = []
    for path in VALID:
        client = await connect(sender_of(path))
        reply = parse_reply(await client.request(path.read_bytes()))
        outcomes.append((path.name, reply.message_type, reply.status))
    rejected = [o for o in outcomes if o[1] == "Rejection"]
    assert not rejected, rejected
    statuses = dict((name, status) for name, _, status in outcomes)
    assert statuses["05-declaration-machinery.BRK-0001.xml"] == "UNDER_CONTROL"
    assert statuses["12-control-decision.SCC-OFF1.xml"] == "RELEASED"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
async def test_invalid_example_gets_the_code_it_is_named_after(connect, path: Path) -> None:
    code, provokes = expected_code(path)
    client = await connect(sender_of(path))
    if "-2." in path.name:  # the second of a pair: send the first one before it
        first = path.with_name(path.name.replace("-2.", "-1."))
        assert parse_reply(await client.request(first.read_bytes())).message_type == "Receipt"
    reply = parse_reply(await client.request(path.read_bytes()))
    if provokes:
        assert reply.code == code, reply.text
    else:
        assert reply.message_type == "Receipt", reply.text
