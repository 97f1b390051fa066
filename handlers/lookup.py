"""What a StatusRequest finds by Reference: one kind of object, looked up by its number.

Each kind contributes one `Lookup` to `handlers.status.BY_REFERENCE`; a lookup
returns the object's `StatusView` (with the participants party to it, which
decide who may see it) or None when it has no object with that number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.context import Context


@dataclass(frozen=True, slots=True)
class StatusView:
    kind: str
    reference: str
    status: str
    last_changed_at: str
    parties: frozenset[str]  # who is party to it (customs and granted partners see it too)


Lookup = Callable[[Context, str], StatusView | None]
