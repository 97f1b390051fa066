"""Loads the participant registry from `config/participants.toml`.

Every error names the file, the participant (by id, or by position when the id
itself is wrong) and the key, so an operator can fix it without reading code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509

from gateway.config import ConfigError, read_toml
from handlers.participants import (
    PARTICIPANT_ID,
    Authority,
    Participant,
    ParticipantRegistry,
    Role,
)

DEV_CERT_DIR = Path("certs/dev")
_KEYS = frozenset({"id", "name", "role", "authority", "tax_id", "grants", "cert", "signing",
                   "signing_cert"})
_CERT_KEYS = frozenset({"cn", "sha256"})
_TAX_ID = re.compile(r"[0-9]{10}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def load_participants(path: Path, *, dev_cert_dir: Path | None = None) -> ParticipantRegistry:
    """Read and validate the registry at `path`; raise `ConfigError` on any problem.

    `dev_cert_dir` (default: `certs/dev` under the working directory) holds the
    `<ID>.crt` used for a signing ministry that names no `signing_cert`.
    """
    document = read_toml(path, "participant registry")
    unknown = set(document) - {"participant"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} "
                          "(only [[participant]] tables belong here)")
    tables = document.get("participant", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: 'participant' must be written as [[participant]] tables")
    dev_dir = dev_cert_dir if dev_cert_dir is not None else Path.cwd() / DEV_CERT_DIR
    participants: list[Participant] = []
    for position, table in enumerate(tables, start=1):
        participants.append(_participant(path, position, table, dev_dir))
    _check_references(path, participants)
    return ParticipantRegistry(participants)


class _Reader:
    """Typed access to one [[participant]] table, with errors that say where."""

    def __init__(self, path: Path, position: int, table: Mapping[str, Any]) -> None:
        self.path = path
        self.table = table
        self.where = f"participant #{position}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.where}: {key}: {problem}")

    def string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise self.fail(key, "must be a non-empty string")
        return value

    def required(self, key: str) -> str:
        value = self.string(key)
        if value is None:
            raise self.fail(key, "is required")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, "must be a list of strings")
        return value


def _participant(path: Path, position: int, table: Any, dev_dir: Path) -> Participant:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: participant #{position}: must be a [[participant]] table")
    read = _Reader(path, position, table)
    participant_id = read.required("id")
    if not PARTICIPANT_ID.fullmatch(participant_id):
        raise read.fail("id", f"{participant_id!r} must be 2 to 32 characters A-Z, 0-9 or '-'")
    read.where = f"participant {participant_id}"
    for key in table:
        if key not in _KEYS:
            raise read.fail(key, f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    name = read.required("name")
    role_text = read.required("role")
    try:
        role = Role(role_text)
    except ValueError:
        raise read.fail("role", f"unknown role {role_text!r} "
                                f"(known: {', '.join(r.value for r in Role)})") from None
    authority = _authority(read, role)
    tax_id = read.string("tax_id")
    if tax_id is not None and not _TAX_ID.fullmatch(tax_id):
        raise read.fail("tax_id", "must be exactly 10 digits")
    if role is Role.TRADER and tax_id is None:
        raise read.fail("tax_id", "is required for a trader (10 digits)")
    grants = read.strings("grants")
    if grants and role is not Role.PARTNER:
        raise read.fail("grants", "only a partner has grants")
    cert_cn, fingerprints = _binding(read)
    signing = table.get("signing", False)
    if not isinstance(signing, bool):
        raise read.fail("signing", "must be true or false")
    signing_cert = read.string("signing_cert")
    if (signing or signing_cert is not None) and role is not Role.MINISTRY:
        key = "signing" if signing else "signing_cert"
        raise read.fail(key, "only a ministry signs its certificates")
    pem = None
    if signing_cert is not None:
        pem = _read_certificate(read, "signing_cert", path.parent / signing_cert)
    elif signing:
        pem = _read_certificate(read, "signing", dev_dir / f"{participant_id}.crt")
    return Participant(
        id=participant_id, name=name, role=role, authority=authority, tax_id=tax_id,
        grants=frozenset(grants), cert_fingerprints=frozenset(fingerprints), cert_cn=cert_cn,
        signing=signing, signing_cert_pem=pem,
    )


def _authority(read: _Reader, role: Role) -> Authority | None:
    text = read.string("authority")
    if text is None:
        if role is Role.MINISTRY:
            raise read.fail("authority", "is required for a ministry "
                                         f"({', '.join(a.value for a in Authority)})")
        return None
    if role is not Role.MINISTRY:
        raise read.fail("authority", "only a ministry has an authority")
    try:
        return Authority(text)
    except ValueError:
        raise read.fail("authority", f"unknown authority {text!r} "
                                     f"(known: {', '.join(a.value for a in Authority)})") from None


def _binding(read: _Reader) -> tuple[bool, list[str]]:
    cert = read.table.get("cert")
    if not isinstance(cert, dict):
        raise read.fail("cert", "is required: cert = { cn = true } or cert = { sha256 = [...] }")
    for key in cert:
        if key not in _CERT_KEYS:
            raise read.fail(f"cert.{key}", "unknown key (allowed: cn, sha256)")
    cn = cert.get("cn", False)
    if not isinstance(cn, bool):
        raise read.fail("cert.cn", "must be true or false")
    digests = cert.get("sha256", [])
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise read.fail("cert.sha256", "must be a list of hex strings")
    normalized = [d.replace(":", "").strip().lower() for d in digests]
    for digest in normalized:
        if not _SHA256.fullmatch(digest):
            raise read.fail("cert.sha256", f"{digest!r} is not 64 hex digits")
    if not cn and not normalized:
        raise read.fail("cert", "binds no certificate: set cn = true or list sha256 fingerprints")
    return cn, normalized


def _read_certificate(read: _Reader, key: str, file: Path) -> str:
    try:
        pem = file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a PEM file"
        raise read.fail(key, f"cannot read signing certificate {file} ({reason})") from None
    try:
        x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        raise read.fail(key, f"{file} is not a PEM certificate") from None
    return pem


def _check_references(path: Path, participants: list[Participant]) -> None:
    ids: set[str] = set()
    owner: dict[str, str] = {}
    for participant in participants:
        if participant.id in ids:
            raise ConfigError(f"{path}: participant {participant.id}: id: "
                              "used by more than one participant")
        ids.add(participant.id)
        for digest in participant.cert_fingerprints:
            if digest in owner:
                raise ConfigError(f"{path}: participant {participant.id}: cert.sha256: "
                                  f"{digest} is already registered for {owner[digest]}")
            owner[digest] = participant.id
    for participant in participants:
        for granted in sorted(participant.grants):
            if granted not in ids:
                raise ConfigError(f"{path}: participant {participant.id}: grants: "
                                  f"unknown participant {granted!r}")
