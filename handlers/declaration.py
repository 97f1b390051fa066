"""CustomsDeclaration and its lifecycle (PROTOCOL §6, §8).

Lodging registers and numbers the declaration (REGISTERED), cross-checks its
certificates and, in the same transaction, either sends it to its risk channel
(GREEN → RELEASED, YELLOW/RED → UNDER_CONTROL) or lets it wait
(AWAITING_CERTIFICATES). A waiting declaration is looked at again when a
certificate it may need arrives (`reevaluate`), against its own registration
date; a revoked certificate sends the declarations that relied on it back to
waiting, or flags them when already released (`certificate_revoked`).

A referenced certificate that exists but does not count rejects the declaration
when it is lodged. When it only turns up later (or is revoked later), the
declaration stays AWAITING_CERTIFICATES and its parties are told why: a
ministry's certificate is never refused for the declarant's mistake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from handlers.context import Context
from handlers.crosscheck import CrossCheck, cross_check
from handlers.lifecycle import record_status
from handlers.outcomes import Accepted
from handlers.ports import DeclarationFacts, ItemFacts, UnitOfWork
from handlers.risk import RELEASED, UNDER_CONTROL, route
from handlers.rules import NO_RULES, Rules
from handlers.visibility import parties_of_declaration
from protocol.bodies.declaration import CustomsDeclaration, read_declaration
from protocol.envelope import Message
from protocol.errors import BusinessRuleViolation, Detail, rule_violation

__all__ = [
    "AWAITING_CERTIFICATES", "KIND", "REGISTERED", "REJECTED", "RELEASED", "UNDER_CONTROL",
    "DeclarationRef", "certificate_revoked", "lodge", "prefetch", "reevaluate", "transition",
]

KIND = "DECLARATION"
REGISTERED = "REGISTERED"
AWAITING_CERTIFICATES = "AWAITING_CERTIFICATES"
REJECTED = "REJECTED"
#: States a declaration is in once released (border crossings move it on).
RELEASED_STATES = frozenset({RELEASED, "EXITED", "ARRIVED"})


class DeclarationRef(Protocol):
    """What a status change needs to know of a declaration (facts or stored state)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def declarant_id(self) -> str: ...
    @property
    def consignee_tax_id(self) -> str: ...


def declaration_number(year: int, n: int) -> str:
    return f"AZ-DEC-{year}-{n:07d}"


def current_rules(extras: Mapping[str, object]) -> Rules:
    """The rules in force for this message (the gateway swaps them on reload)."""
    rules = extras.get("rules", NO_RULES)
    assert isinstance(rules, Rules)
    return rules


def lodge(ctx: Context, message: Message) -> Accepted:
    body = message.read(read_declaration)
    if body.declarant_id != ctx.participant.id:
        raise rule_violation("DECLARANT_IS_SENDER",
                             "Declarant must be the participant that lodges the declaration.")
    if ctx.uow.declarations.by_lrn(body.declarant_id, body.lrn) is not None:
        raise rule_violation("LRN_UNIQUE",
                             "LocalReferenceNumber was already used by this declarant.")
    seqs = [item.seq for item in body.items]
    if len(set(seqs)) != len(seqs):
        raise rule_violation("ITEM_SEQUENCE_UNIQUE", "GoodsItem SequenceNumbers must be unique.")
    rules = current_rules(ctx.extras)
    if any(rules.required(item.hs_code) for item in body.items):
        ctx.uow.clearance.lock_consignee(body.consignee_tax_id)  # see certificate.issue
    facts = _facts_of(body, ctx.registration_date)
    check = cross_check(facts, rules, ctx.uow.certificates)
    if check.failures:
        raise BusinessRuleViolation([Detail(f.text, path=f.path, rule=f.rule)
                                     for f in check.failures])
    # Decided before the row is written, so that it is written once, in its final status.
    routing = route(rules, facts) if check.satisfied else None
    status = routing.status if routing is not None else AWAITING_CERTIFICATES
    number = declaration_number(ctx.today.year, ctx.uow.next_number("declaration"))
    declaration_id = ctx.uow.declarations.insert(
        body, number=number, status=status, registered_at=ctx.received_at,
        registration_date=ctx.registration_date, message_pk=ctx.message_pk,
        risk_channel=routing.channel.value if routing is not None else None,
        decision_rule=routing.rule if routing is not None else None)
    lodged = _Lodged(declaration_id, number, body.declarant_id, body.consignee_tax_id)
    parties = parties_of_declaration(body.declarant_id, body.consignee_tax_id, ctx.registry)
    _record(ctx, lodged, REGISTERED, parties=parties)
    if check.links:
        ctx.uow.clearance.set_links(declaration_id, check.links)
    if routing is None:
        ctx.uow.clearance.set_waits(declaration_id, check.waits)
        _record(ctx, lodged, AWAITING_CERTIFICATES, check.waiting_note(), parties=parties)
    else:
        _record(ctx, lodged, status, routing.note, parties=parties)
    return Accepted(KIND, number, status)


def prefetch(uow: UnitOfWork, messages: list[Message]) -> None:
    """Before a batch: the LRN lookups of its declarations, in one read."""
    bodies = [m.read(read_declaration) for m in messages]
    uow.declarations.prefetch_lrns([(b.declarant_id, b.lrn) for b in bodies])


def reevaluate(ctx: Context, declaration_id: int, *, arrived: str) -> None:
    """Look at a waiting declaration again now that certificate `arrived` is registered."""
    facts = ctx.uow.clearance.facts(declaration_id)
    if facts is None or facts.status != AWAITING_CERTIFICATES:
        return
    rules = current_rules(ctx.extras)
    check = cross_check(facts, rules, ctx.uow.certificates)
    ctx.uow.clearance.set_links(declaration_id, check.links)
    if check.failures:
        ctx.uow.clearance.set_waits(declaration_id, check.waits)
        mine = [f.rule for f in check.failures if f.certificate_number == arrived]
        if mine:
            note = f"certificate {arrived} does not count: {', '.join(dict.fromkeys(mine))}"
            _record(ctx, facts, AWAITING_CERTIFICATES, note)
        return
    if check.satisfied:
        ctx.uow.clearance.set_waits(declaration_id, [])
        _settle(ctx, facts, check, rules)
    else:
        ctx.uow.clearance.set_waits(declaration_id, check.waits)


def certificate_revoked(ctx: Context, declaration_id: int, number: str) -> None:
    """Certificate `number`, which this declaration relied on, was revoked."""
    facts = ctx.uow.clearance.facts(declaration_id)
    if facts is None or facts.status == REJECTED:
        return
    if facts.status in RELEASED_STATES:
        _record(ctx, facts, facts.status, f"certificate revoked after release: {number}")
        return
    transition(ctx, facts, AWAITING_CERTIFICATES, f"certificate {number} revoked")
    facts = dataclasses.replace(facts, status=AWAITING_CERTIFICATES)
    rules = current_rules(ctx.extras)
    check = cross_check(facts, rules, ctx.uow.certificates)
    ctx.uow.clearance.set_links(declaration_id, check.links)
    if check.satisfied:  # another registered certificate counts in its place
        ctx.uow.clearance.set_waits(declaration_id, [])
        _settle(ctx, facts, check, rules)
    else:
        ctx.uow.clearance.set_waits(declaration_id, check.waits)


def transition(ctx: Context, decl: DeclarationRef, status: str, note: str | None = None, *,
               risk_channel: str | None = None, decision_rule: str | None = None) -> None:
    """Change a declaration's status: the row, one event, a notification to each party."""
    ctx.uow.declarations.set_status(decl.id, status=status, at=ctx.received_at,
                                    risk_channel=risk_channel, decision_rule=decision_rule)
    _record(ctx, decl, status, note)


def _settle(ctx: Context, facts: DeclarationFacts, check: CrossCheck, rules: Rules) -> str:
    """Risk channel when every certificate is satisfied, else wait; returns the new status."""
    if not check.satisfied:
        ctx.uow.clearance.set_waits(facts.id, check.waits)
        transition(ctx, facts, AWAITING_CERTIFICATES, check.waiting_note())
        return AWAITING_CERTIFICATES
    routing = route(rules, facts)
    transition(ctx, facts, routing.status, routing.note, risk_channel=routing.channel.value,
               decision_rule=routing.rule)
    return routing.status


@dataclass(frozen=True, slots=True)
class _Lodged:
    """A declaration just registered, as a status change needs it (a `DeclarationRef`)."""

    id: int
    number: str
    declarant_id: str
    consignee_tax_id: str


def _record(ctx: Context, decl: DeclarationRef, status: str, note: str | None = None, *,
            parties: set[str] | None = None) -> None:
    if parties is None:
        parties = parties_of_declaration(decl.declarant_id, decl.consignee_tax_id, ctx.registry)
    record_status(ctx, kind=KIND, reference=decl.number, status=status, note=note,
                  parties=parties)


def _facts_of(body: CustomsDeclaration, registration_date: str) -> DeclarationFacts:
    return DeclarationFacts(
        id=0, number="", declarant_id=body.declarant_id, procedure_type=body.procedure_type,
        customs_office=body.customs_office, consignee_tax_id=body.consignee_tax_id,
        invoice_currency=body.invoice_currency, total_invoice_amount=body.total_invoice_amount,
        registration_date=registration_date, status=REGISTERED,
        items=tuple(
            ItemFacts(seq=item.seq, hs_code=item.hs_code, origin_country=item.origin_country,
                      invoice_amount=item.invoice_amount,
                      documents=tuple((d.doc_type, d.number) for d in item.documents))
            for item in body.items
        ),
    )
