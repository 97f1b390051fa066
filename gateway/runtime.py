"""Process-wide tuning of the interpreter for a long-running gateway process.

CPython's cyclic garbage collector runs a young-generation pass every 700
net container allocations and, every so often, a full pass over every object
the process holds — the schema set, the SQLAlchemy metadata, the participant
registry, the modules. A declaration allocates a few hundred objects, nearly
all freed at once by reference counting, so with the defaults the collector
ran every few messages and spent about 5 % of the gateway's CPU finding
nothing (docs/benchmarks.md, measured with `gc.callbacks` under `make bench`).

After start-up, `tune_garbage_collection` moves everything allocated so far
into the permanent generation (`gc.freeze`: never scanned again) and raises
the thresholds, so that the collector still runs — cycles are still
collected — but rarely, and over young objects only.
"""

from __future__ import annotations

import gc

#: (generation 0, generation 1, generation 2): a young pass every 50,000 net container
#: allocations (a few milliseconds), an older pass every 20 of those, a full pass every
#: 100 of these.
THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collection() -> None:
    """Call once the process has loaded what it keeps for its whole life."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
