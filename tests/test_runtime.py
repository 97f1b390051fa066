"""The gateway process tunes the interpreter once it has started (checked in a child process:
the test runner's own interpreter is left alone)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from gateway.runtime import GC_THRESHOLDS, SWITCH_INTERVAL_SECONDS

PROBE = """
import gc, json, sys
from gateway.runtime import tune_for_serving
kept = [[i] for i in range(1000)]  # what a process holds for its whole life
tune_for_serving()
print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "enabled": gc.isenabled(), "switch": sys.getswitchinterval()}))
a = []; a.append(a); del a  # a cycle made after start-up
print(gc.collect())
"""


@pytest.fixture(scope="module")
def tuned() -> tuple[dict[str, Any], int]:
    """The interpreter's settings after `tune_for_serving`, and what a collection then found."""
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True)
    state_line, collected = result.stdout.splitlines()
    return json.loads(state_line), int(collected)


def test_after_start_up_what_the_process_holds_is_frozen_and_collections_are_rarer(
        tuned: tuple[dict[str, Any], int]) -> None:
    state, collected = tuned
    assert tuple(state["thresholds"]) == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # CPython's default: a young pass every 700 allocations
    assert state["frozen"] >= 1000
    assert state["enabled"], "cycles must still be collected"
    assert collected >= 1


def test_a_thread_waiting_for_the_gil_gets_it_within_half_a_millisecond(
        tuned: tuple[dict[str, Any], int]) -> None:
    state, _ = tuned
    assert state["switch"] == SWITCH_INTERVAL_SECONDS < 0.005  # CPython's default: 5 ms
