"""Process-wide tuning of the interpreter for a long-running gateway process.

`tune_for_serving` is called once the gateway has started (docs/benchmarks.md has
the measurements behind both settings):

- **Garbage collection.** CPython's cyclic collector runs a young-generation
  pass every 700 net container allocations and, every so often, a full pass
  over every object the process holds — the schema set, the SQLAlchemy
  metadata, the participant registry, the modules. A declaration allocates a
  few hundred objects, nearly all freed at once by reference counting, so with
  the defaults the collector ran every few messages and spent about 5 % of the
  gateway's CPU finding nothing. Everything allocated by start-up goes into
  the permanent generation (`gc.freeze`: never scanned again) and the
  thresholds are raised: cycles are still collected, rarely, among young
  objects. (A frozen object is still freed when its last reference goes; only a
  reference cycle among frozen objects — say, in rules replaced by a reload —
  would stay. Reloads are rare and such objects small.)
- **GIL hand-over.** The writer thread gives up the GIL around every SQLite
  call and then waits for the event loop to give it back — by default up to
  5 ms, while it holds SQLite's write lock, which every worker process queues
  for. With a 0.5 ms switch interval the writer gets the GIL back sooner, and
  the lock is held for less time per batch.
"""

from __future__ import annotations

import gc
import sys

#: (generation 0, generation 1, generation 2): a young pass every 50,000 net container
#: allocations (a few milliseconds), an older pass every 20 of those, a full pass every
#: 100 of these.
GC_THRESHOLDS = (50_000, 20, 100)
#: Longest a thread waiting for the GIL waits before the holder is asked to let go.
SWITCH_INTERVAL_SECONDS = 0.0005


def tune_for_serving() -> None:
    """Call once the process has loaded what it keeps for its whole life."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
