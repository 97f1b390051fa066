"""The risk channel of a declaration whose certificates are all satisfied (PROTOCOL §8):
GREEN → RELEASED; YELLOW or RED → UNDER_CONTROL, until a ControlDecision."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.ports import DeclarationFacts
from handlers.rules import Channel, Rules

RELEASED = "RELEASED"
UNDER_CONTROL = "UNDER_CONTROL"

CHANNEL_STATUS: dict[Channel, str] = {
    Channel.GREEN: RELEASED,
    Channel.YELLOW: UNDER_CONTROL,
    Channel.RED: UNDER_CONTROL,
}


@dataclass(frozen=True, slots=True)
class Routing:
    """Where the risk profiles send a declaration, and why."""

    status: str
    channel: Channel
    rule: str

    @property
    def note(self) -> str:
        return f"risk channel {self.channel.value} (risk rule {self.rule})"


def route(rules: Rules, facts: DeclarationFacts) -> Routing:
    """The first matching risk profile decides; none matching gives the default channel."""
    decision = rules.assess(facts)
    return Routing(CHANNEL_STATUS[decision.channel], decision.channel, decision.rule)
