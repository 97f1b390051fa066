"""Per-participant message rate: a token bucket shared by all of a participant's connections."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`allow(participant_id)` spends one token; tokens refill at `per_second` up to `burst`.

    `per_second == 0` means no limit. Buckets of participants not seen for a while
    are dropped, so memory follows the active participants.
    """

    per_second: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, participant_id: str) -> bool:
        if self.per_second <= 0:
            return True
        now = self.clock()
        bucket = self._buckets.get(participant_id)
        if bucket is None:
            bucket = self._buckets[participant_id] = _Bucket(float(self.burst), now)
            if len(self._buckets) > 10_000:
                self._forget_idle(now)
        else:
            bucket.tokens = min(float(self.burst),
                                bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst / self.per_second
        for pid, bucket in list(self._buckets.items()):
            if now - bucket.updated > full_after:
                del self._buckets[pid]
