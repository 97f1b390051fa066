"""Message types whose rules are not implemented yet: kept as received (status RECEIVED)."""

from __future__ import annotations

from handlers.context import Context
from handlers.outcomes import Accepted

RECEIVED = "RECEIVED"


def keep(ctx: Context, message: object) -> Accepted:
    return Accepted(None, None, RECEIVED)
