"""Participants of the Single Window (PROTOCOL §5) and the registry that finds them.

Pure domain types: nothing here reads files or sockets. `gateway.participants`
builds a `ParticipantRegistry` from `config/participants.toml`; the server asks
it which participant a verified client certificate belongs to.

A certificate is bound to a participant in one of two ways, chosen per
participant: its SHA-256 fingerprint is registered (`cert_fingerprints`), or its
subject CN equals the participant id (`cert_cn`). A registered fingerprint
always wins over a CN, so a participant bound by fingerprint cannot be
impersonated by another certificate that merely carries its id as CN.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from protocol.envelope import PARTICIPANT_ID

__all__ = [
    "PARTICIPANT_ID",
    "Authority",
    "Participant",
    "ParticipantRegistry",
    "Role",
    "fingerprint",
]


class Role(StrEnum):
    """What a participant is; decides which message types it may send."""

    BROKER = "broker"
    TRADER = "trader"
    CARRIER = "carrier"
    MINISTRY = "ministry"
    CUSTOMS_POST = "customs-post"
    CUSTOMS = "customs"
    PARTNER = "partner"


class Authority(StrEnum):
    """The ministry a `Role.MINISTRY` participant speaks for."""

    AGRICULTURE = "agriculture"
    HEALTH = "health"
    TRANSPORT = "transport"
    TAXES = "taxes"


def fingerprint(der: bytes) -> str:
    """Lowercase hex SHA-256 of a DER-encoded certificate."""
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True, slots=True)
class Participant:
    """One registered participant.

    `grants` lists the participant ids a partner may see; `cert_fingerprints`
    are lowercase hex SHA-256 digests of DER certificates; `cert_cn` allows a
    certificate whose subject CN equals `id`. `signing` means the ministry must
    sign its certificates with the key of `signing_cert_pem`.
    """

    id: str
    name: str
    role: Role
    authority: Authority | None = None
    tax_id: str | None = None
    grants: frozenset[str] = field(default_factory=frozenset)
    cert_fingerprints: frozenset[str] = field(default_factory=frozenset)
    cert_cn: bool = True
    signing: bool = False
    signing_cert_pem: str | None = None


class ParticipantRegistry:
    """Immutable lookup tables over a set of participants.

    Raises `ValueError` for a duplicate id or a fingerprint registered twice;
    the loader reports friendlier errors before it gets here.
    """

    __slots__ = ("_by_id", "_by_fingerprint", "_by_tax_id", "_partners_of")

    def __init__(self, participants: Iterable[Participant]) -> None:
        self._by_id: dict[str, Participant] = {}
        self._by_fingerprint: dict[str, Participant] = {}
        self._by_tax_id: dict[str, list[Participant]] = {}
        self._partners_of: dict[str, list[Participant]] = {}
        for participant in participants:
            if participant.id in self._by_id:
                raise ValueError(f"duplicate participant id {participant.id}")
            self._by_id[participant.id] = participant
            for digest in participant.cert_fingerprints:
                if digest in self._by_fingerprint:
                    raise ValueError(f"certificate fingerprint {digest} registered twice")
                self._by_fingerprint[digest] = participant
            if participant.role is Role.TRADER and participant.tax_id is not None:
                self._by_tax_id.setdefault(participant.tax_id, []).append(participant)
            if participant.role is Role.PARTNER:
                for granted in participant.grants:
                    self._partners_of.setdefault(granted, []).append(participant)

    def get(self, participant_id: str) -> Participant | None:
        """The participant with this id, or None."""
        return self._by_id.get(participant_id)

    def for_certificate(self, common_name: str | None, der: bytes) -> Participant | None:
        """The participant a verified client certificate identifies, or None.

        A registered fingerprint of `der` wins; otherwise `common_name` must be
        the id of a participant that accepts CN binding.
        """
        if der:
            by_fingerprint = self._by_fingerprint.get(fingerprint(der))
            if by_fingerprint is not None:
                return by_fingerprint
        if common_name is None:
            return None
        by_cn = self._by_id.get(common_name)
        if by_cn is None or not by_cn.cert_cn:
            return None
        return by_cn

    def traders_with_tax_id(self, tax_id: str) -> tuple[Participant, ...]:
        """The traders registered with this tax id."""
        return tuple(self._by_tax_id.get(tax_id, ()))

    def partners_granted(self, participant_id: str) -> tuple[Participant, ...]:
        """The partners granted to see the objects of `participant_id`."""
        return tuple(self._partners_of.get(participant_id, ()))

    def __iter__(self) -> Iterator[Participant]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._by_id
