"""What a handler is given besides the message: the store, who asks, and the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from handlers.participants import Participant, ParticipantRegistry
from handlers.ports import UnitOfWork


@dataclass(slots=True)
class Context:
    uow: UnitOfWork
    participant: Participant
    registry: ParticipantRegistry
    now: datetime        # when the gateway received the message (UTC)
    today: date          # that instant's calendar date in the gateway's time zone
    received_at: str     # `now` as stored text
    message_pk: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # rules, signature verifier, …

    @property
    def registration_date(self) -> str:
        return self.today.isoformat()
