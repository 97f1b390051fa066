"""Permit rules and risk profiles (PROTOCOL §8): configuration, not code.

A pure model and its evaluation; `gateway.rules` reads and checks
`config/rules.toml` and hands a `Rules` to the handlers in `ctx.extras["rules"]`.

Permit rules: a goods item needs every certificate type named by every rule
with an HS-code prefix of the item's code (rules add up; there are no
exemptions). Risk profiles: tried in order, the first that matches decides the
channel; none matching gives the default channel (GREEN unless configured).
A profile matches when each criterion it sets holds: lists match any of their
values; `origin_countries` and `hs_prefixes` must hold for one and the same
goods item; `invoice_above` maps a currency to an amount in cents and holds
when the declaration is invoiced in that currency for more than that amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from handlers.ports import DeclarationFacts, ItemFacts

#: Certificate types a ministry issues and a permit rule may require.
CERTIFICATE_TYPES = ("PHYTOSANITARY", "VETERINARY", "SANITARY")

#: `decision_rule` of a declaration no risk profile matched.
DEFAULT_RULE = "default"


class Channel(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclass(frozen=True, slots=True)
class PermitRule:
    """Goods whose HS code starts with one of `hs_prefixes` need the `requires` types."""

    name: str
    hs_prefixes: tuple[str, ...]
    requires: tuple[str, ...]

    def applies_to(self, hs_code: str) -> bool:
        return hs_code.startswith(self.hs_prefixes)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One certificate type a goods item needs, and the permit rule that asks for it."""

    cert_type: str
    rule: str


@dataclass(frozen=True, slots=True)
class RiskProfile:
    """Declarations matching every criterion set here go to `channel`."""

    name: str
    channel: Channel
    origin_countries: frozenset[str] = frozenset()
    hs_prefixes: tuple[str, ...] = ()
    declarants: frozenset[str] = frozenset()
    consignee_tax_ids: frozenset[str] = frozenset()
    customs_offices: frozenset[str] = frozenset()
    procedure_types: frozenset[str] = frozenset()
    invoice_above: tuple[tuple[str, int], ...] = ()  # (currency, cents)

    def matches(self, facts: DeclarationFacts) -> bool:
        if self.declarants and facts.declarant_id not in self.declarants:
            return False
        if self.consignee_tax_ids and facts.consignee_tax_id not in self.consignee_tax_ids:
            return False
        if self.customs_offices and facts.customs_office not in self.customs_offices:
            return False
        if self.procedure_types and facts.procedure_type not in self.procedure_types:
            return False
        if self.invoice_above and not any(
                facts.invoice_currency == currency and facts.total_invoice_amount > cents
                for currency, cents in self.invoice_above):
            return False
        if self.origin_countries or self.hs_prefixes:
            return any(self._item_matches(item) for item in facts.items)
        return True

    def _item_matches(self, item: ItemFacts) -> bool:
        if self.origin_countries and item.origin_country not in self.origin_countries:
            return False
        return not self.hs_prefixes or item.hs_code.startswith(self.hs_prefixes)


@dataclass(frozen=True, slots=True)
class RiskDecision:
    channel: Channel
    rule: str  # the profile's name, or DEFAULT_RULE


#: Distinct HS codes whose requirements a `Rules` remembers (the tariff has ~20,000 lines).
_REQUIRED_CACHE_MAX = 50_000


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything the single-window decision is configured with. Immutable: a reload
    builds a new `Rules` and swaps it in whole."""

    permits: tuple[PermitRule, ...] = ()
    profiles: tuple[RiskProfile, ...] = ()
    default_channel: Channel = Channel.GREEN
    #: `required` by HS code, filled as codes are seen (the rules never change in place)
    _required: dict[str, tuple[Requirement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def required(self, hs_code: str) -> tuple[Requirement, ...]:
        """The certificate types a goods item with this HS code needs, each once,
        in the order the rules name them."""
        cached = self._required.get(hs_code)
        if cached is not None:
            return cached
        found: dict[str, Requirement] = {}
        for rule in self.permits:
            if rule.applies_to(hs_code):
                for cert_type in rule.requires:
                    found.setdefault(cert_type, Requirement(cert_type, rule.name))
        needs = tuple(found.values())
        if len(self._required) >= _REQUIRED_CACHE_MAX:  # senders choose the codes: stay bounded
            self._required.clear()
        self._required[hs_code] = needs
        return needs

    def assess(self, facts: DeclarationFacts) -> RiskDecision:
        """The risk channel of a declaration: the first matching profile, else the default."""
        for profile in self.profiles:
            if profile.matches(facts):
                return RiskDecision(profile.channel, profile.name)
        return RiskDecision(self.default_channel, DEFAULT_RULE)


#: What a handler uses when the gateway configured no rules (e.g. a bare test pipeline).
NO_RULES = Rules()
