"""ElectronicCertificate and CertificateRevocation through the real server: ministry
authority, unique numbers, who revokes, duplicates, and who may see a certificate."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.config import Config
from tests.builders import certificate, revocation, status_request
from tests.single_window_support import (
    at,
    day,
    module_gateway_fixtures,
    send,
    single_window_config,
    status_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def config(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return single_window_config(pki_dir, tmp_path_factory.mktemp("certificates"))


gateway, connect = module_gateway_fixtures()


def cert(number: str, **body: object) -> bytes:
    body.setdefault("issued_at", at(-1))
    body.setdefault("valid_until", day(30))
    return certificate(number=number, **body)


async def test_ministry_registers_certificates_of_its_authority(connect) -> None:
    moa, moh = await connect("MOA-0001"), await connect("MOH-0001")
    phy = await send(moa, cert("AUTH-PHY", cert_type="PHYTOSANITARY"))
    vet = await send(moa, cert("AUTH-VET", cert_type="VETERINARY", hs=("020230",)))
    san = await send(moh, cert("AUTH-SAN", cert_type="SANITARY", sender="MOH-0001"))
    assert [(r.reference, r.status) for r in (phy, vet, san)] == [
        ("AUTH-PHY", "VALID"), ("AUTH-VET", "VALID"), ("AUTH-SAN", "VALID")]


@pytest.mark.parametrize(("sender", "cert_type"), [
    ("MOH-0001", "PHYTOSANITARY"),
    ("MOH-0001", "VETERINARY"),
    ("MOA-0001", "SANITARY"),
    ("MOT-0001", "PHYTOSANITARY"),   # transport issues no certificates at all
    ("BRK-0001", "PHYTOSANITARY"),
])
async def test_other_types_and_roles_are_not_authorized(connect, sender: str,
                                                        cert_type: str) -> None:
    client = await connect(sender)
    number = f"NA-{sender}-{cert_type}"
    reply = await send(client, cert(number, cert_type=cert_type, sender=sender))
    assert reply.code == "NOT_AUTHORIZED"
    officer = await connect("SCC-OFF1")
    missing = await send(officer, status_request(sender="SCC-OFF1", reference=number))
    assert missing.code == "NOT_FOUND"


async def test_certificate_numbers_are_unique_across_the_single_window(connect) -> None:
    moa, moh = await connect("MOA-0001"), await connect("MOH-0001")
    assert (await send(moa, cert("UNIQUE-1"))).status == "VALID"
    again = await send(moa, cert("UNIQUE-1", hs=("070310",)))
    assert again.code == "BUSINESS_RULE"
    assert [d.rule for d in again.details] == ["CERTIFICATE_NUMBER_UNIQUE"]
    other_ministry = await send(moh, cert("UNIQUE-1", cert_type="SANITARY", sender="MOH-0001"))
    assert [d.rule for d in other_ministry.details] == ["CERTIFICATE_NUMBER_UNIQUE"]


async def test_valid_until_before_issue_date_is_refused(connect) -> None:
    moa = await connect("MOA-0001")
    reply = await send(moa, cert("BACKWARDS", issued_at=at(5), valid_until=day(1)))
    assert [d.rule for d in reply.details] == ["CERTIFICATE_VALIDITY"]


async def test_resent_certificate_is_a_duplicate_with_its_current_status(connect) -> None:
    moa = await connect("MOA-0001")
    first = await send(moa, cert("DUP-1", mid="dup-cert-1"))
    again = await send(moa, cert("DUP-1", mid="dup-cert-1"))
    assert (again.reference, again.status, again.duplicate) == ("DUP-1", "VALID", True)
    assert first.duplicate is False
    revoked = await send(moa, revocation(number="DUP-1", mid="dup-revoke-1"))
    assert (revoked.reference, revoked.status) == ("DUP-1", "REVOKED")
    late = await send(moa, cert("DUP-1", mid="dup-cert-1"))
    assert (late.status, late.duplicate) == ("REVOKED", True)
    conflict = await send(moa, cert("DUP-2", mid="dup-cert-1"))
    assert conflict.code == "DUPLICATE_CONFLICT"


async def test_only_the_issuing_ministry_revokes_once(connect) -> None:
    moa, moh = await connect("MOA-0001"), await connect("MOH-0001")
    await send(moa, cert("REVOKE-ME"))
    other = await send(moh, revocation(number="REVOKE-ME", sender="MOH-0001"))
    assert other.code == "NOT_FOUND"
    unknown = await send(moa, revocation(number="NEVER-ISSUED"))
    assert unknown.code == "NOT_FOUND"
    broker = await connect("BRK-0001")
    assert (await send(broker, revocation(number="REVOKE-ME", sender="BRK-0001"))).code == \
        "NOT_AUTHORIZED"
    done = await send(moa, revocation(number="REVOKE-ME", reason="Sample failed."))
    assert (done.reference, done.status) == ("REVOKE-ME", "REVOKED")
    twice = await send(moa, revocation(number="REVOKE-ME"))
    assert [d.rule for d in twice.details] == ["CERTIFICATE_NOT_REVOKED"]
    state = await status_of(moa, "MOA-0001", "REVOKE-ME")
    assert (state.kind, state.status) == ("CERTIFICATE", "REVOKED")
    assert state.events == [("VALID", None), ("REVOKED", "Sample failed.")]


@pytest.mark.parametrize(("asker", "sees"), [
    ("MOA-0001", True),    # the issuing ministry
    ("TRD-0001", True),    # the trader with the certificate's consignee tax id
    ("SCC-OFF1", True),    # customs
    ("PRT-0001", True),    # a partner granted TRD-0001
    ("MOH-0001", False),   # another ministry
    ("BRK-0001", False),   # a broker, even one that may later declare the goods
    ("CAR-0001", False),
])
async def test_certificate_status_is_visible_to_its_parties_only(connect, asker: str,
                                                                 sees: bool) -> None:
    moa = await connect("MOA-0001")
    number = f"SEE-{asker}"
    assert (await send(moa, cert(number))).status == "VALID"
    client = await connect(asker)
    reply = await send(client, status_request(sender=asker, reference=number))
    if sees:
        state = await status_of(client, asker, number)
        assert (state.kind, state.status, state.events) == ("CERTIFICATE", "VALID",
                                                            [("VALID", None)])
    else:
        assert reply.code == "NOT_FOUND"


async def test_certificate_of_another_consignee_is_invisible_to_the_trader(connect) -> None:
    moa, trader = await connect("MOA-0001"), await connect("TRD-0001")
    await send(moa, cert("OTHER-CONSIGNEE", tax_id="9999999999"))
    reply = await send(trader, status_request(sender="TRD-0001", reference="OTHER-CONSIGNEE"))
    assert reply.code == "NOT_FOUND"


async def test_goods_lines_and_issue_date_are_stored(connect, config: Config) -> None:
    moa = await connect("MOA-0001")
    await send(moa, cert("STORED-1", hs=("080810", "080830"),
                         issued_at="2026-06-30T22:00:00-05:00", valid_until="2026-12-31"))
    path = config.store.url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=10)) as db:
        issued_date, issuer = db.execute(
            "SELECT issued_date, issuer_id FROM certificates "
            "WHERE certificate_number = 'STORED-1'").fetchone()
        goods = [r[0] for r in db.execute(
            "SELECT g.hs_code FROM certificate_goods g JOIN certificates c "
            "ON c.id = g.certificate_id WHERE c.certificate_number = 'STORED-1' "
            "ORDER BY g.position")]
    assert (issued_date, issuer) == ("2026-07-01", "MOA-0001")  # the date in UTC
    assert goods == ["080810", "080830"]
