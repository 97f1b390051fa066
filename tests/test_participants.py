"""The participant registry: the shipped demo file, lookups, certificate binding, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError
from gateway.participants import load_participants
from gateway.pki import init_dev_pki
from handlers.participants import (
    Authority,
    Participant,
    ParticipantRegistry,
    Role,
    fingerprint,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "participants.toml"

BROKER = '''
[[participant]]
id = "BRK-0001"
name = "Broker"
role = "broker"
cert = { cn = true }
'''


def _load(tmp_path: Path, text: str, **kwargs: Path) -> ParticipantRegistry:
    path = tmp_path / "participants.toml"
    path.write_text(text)
    return load_participants(path, **kwargs)


def test_shipped_registry_has_the_demo_participants() -> None:
    registry = load_participants(SHIPPED)
    assert len(registry) == 10
    assert {p.id for p in registry} == {
        "BRK-0001", "TRD-0001", "CAR-0001", "MOA-0001", "MOH-0001", "MOT-0001", "MTX-0001",
        "BCP-0001", "SCC-OFF1", "PRT-0001"}
    ministries = {p.id: p.authority for p in registry if p.role is Role.MINISTRY}
    assert ministries == {"MOA-0001": Authority.AGRICULTURE, "MOH-0001": Authority.HEALTH,
                          "MOT-0001": Authority.TRANSPORT, "MTX-0001": Authority.TAXES}
    assert registry.get("BCP-0001").role is Role.CUSTOMS_POST  # type: ignore[union-attr]
    assert registry.get("SCC-OFF1").role is Role.CUSTOMS  # type: ignore[union-attr]
    assert not any(p.signing for p in registry)


def test_lookups() -> None:
    registry = load_participants(SHIPPED)
    assert registry.get("NOPE-0001") is None
    assert [p.id for p in registry.traders_with_tax_id("1234567890")] == ["TRD-0001"]
    assert registry.traders_with_tax_id("0000000000") == ()
    assert [p.id for p in registry.partners_granted("BRK-0001")] == ["PRT-0001"]
    assert [p.id for p in registry.partners_granted("TRD-0001")] == ["PRT-0001"]
    assert registry.partners_granted("CAR-0001") == ()


def test_certificate_binding() -> None:
    der_a, der_b = b"certificate A", b"certificate B"
    registry = ParticipantRegistry([
        Participant("BRK-0001", "Broker", Role.BROKER, cert_cn=True),
        Participant("PRT-0001", "Partner", Role.PARTNER, cert_cn=False,
                    cert_fingerprints=frozenset({fingerprint(der_a)})),
    ])
    assert registry.for_certificate("BRK-0001", der_b).id == "BRK-0001"  # type: ignore[union-attr]
    # A registered fingerprint wins over the CN.
    assert registry.for_certificate("BRK-0001", der_a).id == "PRT-0001"  # type: ignore[union-attr]
    # A fingerprint-bound participant is not reachable by its CN alone.
    assert registry.for_certificate("PRT-0001", der_b) is None
    assert registry.for_certificate(None, der_b) is None
    assert registry.for_certificate("UNKNOWN", der_b) is None


def test_registry_refuses_duplicates() -> None:
    broker = Participant("BRK-0001", "Broker", Role.BROKER)
    with pytest.raises(ValueError):
        ParticipantRegistry([broker, broker])


def test_fingerprint_binding_from_file(tmp_path: Path) -> None:
    digest = fingerprint(b"partner certificate")
    registry = _load(tmp_path, BROKER + f'''
[[participant]]
id = "PRT-0002"
name = "Partner"
role = "partner"
grants = ["BRK-0001"]
cert = {{ sha256 = ["{digest.upper()}"] }}
''')
    partner = registry.for_certificate("whatever", b"partner certificate")
    assert partner is not None and partner.id == "PRT-0002"
    assert partner.cert_fingerprints == {digest} and not partner.cert_cn


def test_signing_ministry_reads_its_development_certificate(tmp_path: Path) -> None:
    dev = tmp_path / "certs"
    init_dev_pki(dev, ["MOA-0001"])
    text = '''
[[participant]]
id = "MOA-0001"
name = "Agriculture"
role = "ministry"
authority = "agriculture"
cert = { cn = true }
signing = true
'''
    registry = _load(tmp_path, text, dev_cert_dir=dev)
    ministry = registry.get("MOA-0001")
    assert ministry is not None and ministry.signing
    assert ministry.signing_cert_pem == (dev / "MOA-0001.crt").read_text()
    with pytest.raises(ConfigError, match="MOA-0001: signing: cannot read signing certificate"):
        _load(tmp_path, text, dev_cert_dir=tmp_path / "nowhere")


def test_signing_cert_is_relative_to_the_registry_file(tmp_path: Path) -> None:
    init_dev_pki(tmp_path / "ministries", ["MOH-0001"])
    registry = _load(tmp_path, '''
[[participant]]
id = "MOH-0001"
name = "Health"
role = "ministry"
authority = "health"
cert = { cn = true }
signing = true
signing_cert = "ministries/MOH-0001.crt"
''')
    assert registry.get("MOH-0001").signing_cert_pem.startswith(  # type: ignore[union-attr]
        "-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(("text", "fragment"), [
    (BROKER.replace('"BRK-0001"', '"brk 1"'), "participant #1: id: 'brk 1' must be"),
    (BROKER + BROKER, "participant BRK-0001: id: used by more than one participant"),
    (BROKER.replace('"broker"', '"smuggler"'), "participant BRK-0001: role: unknown role"),
    (BROKER.replace('"broker"', '"ministry"'), "participant BRK-0001: authority: is required"),
    (BROKER.replace('role = "broker"', 'role = "ministry"\nauthority = "finance"'),
     "authority: unknown authority 'finance'"),
    (BROKER.replace('"broker"', '"trader"'), "participant BRK-0001: tax_id: is required"),
    (BROKER.replace('"broker"', '"trader"\ntax_id = "12345"'), "tax_id: must be exactly 10"),
    (BROKER.replace('"broker"', '"partner"\ngrants = ["TRD-0009"]'),
     "participant BRK-0001: grants: unknown participant 'TRD-0009'"),
    (BROKER.replace('"broker"', '"broker"\ngrants = ["BRK-0001"]'), "grants: only a partner"),
    (BROKER.replace('"broker"', '"broker"\ncolour = "red"'),
     "participant BRK-0001: colour: unknown"),
    (BROKER.replace("cn = true", "cn = true, pem = 1"), "cert.pem: unknown key"),
    (BROKER.replace("cn = true", "cn = false"), "cert: binds no certificate"),
    (BROKER.replace("cn = true", 'sha256 = ["abc"]'), "cert.sha256: 'abc' is not 64 hex"),
    (BROKER.replace('cert = { cn = true }', ''), "participant BRK-0001: cert: is required"),
    (BROKER.replace('"broker"', '"broker"\nsigning = true'), "signing: only a ministry"),
    (BROKER.replace('name = "Broker"', ''), "participant BRK-0001: name: is required"),
    ('title = "x"\n' + BROKER, "unknown top-level key 'title'"),
])
def test_invalid_registry_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert str(tmp_path / "participants.toml") in str(caught.value)
    assert fragment in str(caught.value)


def test_same_fingerprint_for_two_participants_is_refused(tmp_path: Path) -> None:
    digest = fingerprint(b"shared")
    text = (BROKER + BROKER.replace("BRK-0001", "BRK-0002")).replace(
        "cn = true", f'sha256 = ["{digest}"]')
    with pytest.raises(ConfigError, match="already registered for BRK-0001"):
        _load(tmp_path, text)
