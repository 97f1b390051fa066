"""The gateway process tunes the garbage collector once it has started (in a child process:
the test runner's own collector is left alone)."""

from __future__ import annotations

import json
import subprocess
import sys

from gateway.runtime import THRESHOLDS

PROBE = """
import gc, json
from gateway.runtime import tune_garbage_collection
kept = [[i] for i in range(1000)]  # what a process holds for its whole life
tune_garbage_collection()
print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "enabled": gc.isenabled()}))
a = []; a.append(a); del a  # a cycle made after start-up
print(gc.collect())
"""


def test_after_start_up_what_the_process_holds_is_frozen_and_collections_are_rarer() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True)
    state_line, collected = result.stdout.splitlines()
    state = json.loads(state_line)
    assert tuple(state["thresholds"]) == THRESHOLDS
    assert THRESHOLDS[0] > 700  # CPython's default: a young pass every 700 allocations
    assert state["frozen"] >= 1000
    assert state["enabled"], "cycles must still be collected"
    assert int(collected) >= 1
