"""The certificate cross-check of PROTOCOL §8.

A certificate *counts* for a goods item and a required type when it has that
type, is not revoked, is valid on the declaration's registration date (its
IssuedAt date ≤ that date ≤ ValidUntil, all calendar dates in the gateway's
time zone), names the declaration's consignee tax id and lists an HS code with
the item's first four digits. For each required type of each item:

- a referenced certificate (a `Document` of that type) that counts satisfies it;
- a referenced one that exists but does not count is a failure naming each
  condition it misses (at lodging: a BUSINESS_RULE rejection);
- a referenced one not registered yet makes the declaration wait for it;
- no reference: the oldest registered certificate that counts satisfies it;
  none → the declaration waits for any certificate of that type.

Reads certificates only; deciding what to do with the result is the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from handlers.ports import (
    CertificateLink,
    CertificateState,
    CertificateWait,
    DeclarationFacts,
    ItemFacts,
)
from handlers.rules import Requirement, Rules

VALID = "VALID"
REVOKED = "REVOKED"

_ITEM_PATH = "/Envelope/Body/CustomsDeclaration/GoodsItem[{item}]/Document[{doc}]/Number"


class CertificateLookup(Protocol):
    def by_number(self, number: str) -> CertificateState | None: ...

    def candidates(self, consignee_tax_id: str, cert_type: str,
                   status: str) -> list[CertificateState]: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """A referenced certificate that exists but does not count, and why."""

    rule: str
    text: str
    certificate_number: str
    path: str


@dataclass(slots=True)
class CrossCheck:
    links: list[CertificateLink] = field(default_factory=list)
    waits: list[CertificateWait] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    waiting_rules: list[str] = field(default_factory=list)  # permit rules still unsatisfied

    @property
    def satisfied(self) -> bool:
        return not self.waits and not self.failures

    def waiting_note(self) -> str:
        wanted = sorted({f"{w.cert_type} for goods item {w.item_seq}" for w in self.waits})
        note = (f"waiting for {', '.join(wanted)} "
                f"(permit rule {', '.join(sorted(set(self.waiting_rules)))})")
        return note if len(note) <= 512 else note[:509] + "..."


def failed_conditions(cert: CertificateState, *, cert_type: str, registration_date: str,
                      consignee_tax_id: str, hs_code: str, item_seq: int) -> list[tuple[str, str]]:
    """(rule, text) for every condition of §8 the certificate misses for this item."""
    number = cert.number
    failed: list[tuple[str, str]] = []
    if cert.cert_type != cert_type:
        failed.append(("CERTIFICATE_TYPE", f"Certificate {number} is {cert.cert_type}; goods "
                                           f"item {item_seq} needs {cert_type}."))
    if cert.status == REVOKED:
        failed.append(("CERTIFICATE_REVOKED", f"Certificate {number} is revoked."))
    if cert.issued_date > registration_date:
        failed.append(("CERTIFICATE_NOT_YET_VALID",
                       f"Certificate {number} was issued on {cert.issued_date}, after the "
                       f"registration date {registration_date}."))
    if cert.valid_until < registration_date:
        failed.append(("CERTIFICATE_EXPIRED",
                       f"Certificate {number} was valid until {cert.valid_until}, before the "
                       f"registration date {registration_date}."))
    if cert.consignee_tax_id != consignee_tax_id:
        failed.append(("CERTIFICATE_CONSIGNEE",
                       f"Certificate {number} names another consignee tax id."))
    heading = hs_code[:4]
    if not any(code[:4] == heading for code in cert.hs_codes):
        failed.append(("CERTIFICATE_HS_HEADING",
                       f"Certificate {number} lists no goods of HS heading {heading} "
                       f"(goods item {item_seq})."))
    return failed


class _Checker:
    def __init__(self, facts: DeclarationFacts, certificates: CertificateLookup) -> None:
        self.facts = facts
        self.certificates = certificates
        self.result = CrossCheck()
        self._by_number: dict[str, CertificateState | None] = {}
        self._candidates: dict[str, list[CertificateState]] = {}

    def lookup(self, number: str) -> CertificateState | None:
        if number not in self._by_number:
            self._by_number[number] = self.certificates.by_number(number)
        return self._by_number[number]

    def candidates(self, cert_type: str) -> list[CertificateState]:
        if cert_type not in self._candidates:
            self._candidates[cert_type] = self.certificates.candidates(
                self.facts.consignee_tax_id, cert_type, VALID)
        return self._candidates[cert_type]

    def failed(self, cert: CertificateState, cert_type: str,
               item: ItemFacts) -> list[tuple[str, str]]:
        return failed_conditions(cert, cert_type=cert_type,
                                 registration_date=self.facts.registration_date,
                                 consignee_tax_id=self.facts.consignee_tax_id,
                                 hs_code=item.hs_code, item_seq=item.seq)

    def check(self, position: int, item: ItemFacts, need: Requirement) -> None:
        refs = [(n, number) for n, (doc_type, number) in enumerate(item.documents, 1)
                if doc_type == need.cert_type]
        if refs:
            self._referenced(position, item, need, refs)
        else:
            self._search(item, need)

    def _referenced(self, position: int, item: ItemFacts, need: Requirement,
                    refs: list[tuple[int, str]]) -> None:
        counting: CertificateState | None = None
        pending: list[str] = []
        failures: list[Failure] = []
        for doc_position, number in refs:
            cert = self.lookup(number)
            if cert is None:
                pending.append(number)
                continue
            failed = self.failed(cert, need.cert_type, item)
            path = _ITEM_PATH.format(item=position, doc=doc_position)
            failures.extend(Failure(rule, text, number, path) for rule, text in failed)
            if not failed and counting is None:
                counting = cert
        if failures:
            self.result.failures.extend(failures)
        elif counting is not None:
            self._link(item, need, counting)
        else:
            self._wait(item, need, pending)

    def _search(self, item: ItemFacts, need: Requirement) -> None:
        for cert in self.candidates(need.cert_type):
            if not self.failed(cert, need.cert_type, item):
                self._link(item, need, cert)
                return
        self._wait(item, need, [None])

    def _link(self, item: ItemFacts, need: Requirement, cert: CertificateState) -> None:
        self.result.links.append(CertificateLink(item.seq, need.cert_type, cert.number))

    def _wait(self, item: ItemFacts, need: Requirement,
              numbers: Sequence[str | None]) -> None:
        self.result.waiting_rules.append(need.rule)
        self.result.waits.extend(
            CertificateWait(item.seq, need.cert_type, self.facts.consignee_tax_id,
                            item.hs_code[:4], number)
            for number in numbers)


def cross_check(facts: DeclarationFacts, rules: Rules,
                certificates: CertificateLookup) -> CrossCheck:
    """Check every required certificate of every goods item of a declaration."""
    checker = _Checker(facts, certificates)
    for position, item in enumerate(facts.items, 1):
        for need in rules.required(item.hs_code):
            checker.check(position, item, need)
    return checker.result
