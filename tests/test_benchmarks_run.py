"""Each benchmark runs and prints its table (at tiny sizes: speed is measured by bench/, not here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import ROOT

TINY = {
    "bytes_to_first_step": [],
    "step_latency": ["--runs", "2"],
    "availability": ["--technicians", "5", "--days", "40", "--runs", "3"],
    "server_throughput": ["--visitors", "4", "--hello-requests", "40"],
    "memory": ["--sessions", "20", "--concurrency", "4"],
    "events_pipeline": ["--sessions", "2", "--events", "20"],
    "vendor_availability": ["--latency-ms", "5", "--runs", "2"],
    "capacity": ["--seconds", "1", "--sessions", "3", "--connections", "4"],
    "open_loop": ["--visitors", "3", "--think", "0.2", "--seconds", "2"],
    "granian_check": [],
    "profile": ["--seconds", "1", "--sessions", "3", "--connections", "4"],
    "driver_cost": ["--steps", "40", "--concurrency", "4", "--rounds", "1"],
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_benchmark_prints_its_figures(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *TINY[name]], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    # 1 means a target was missed at these sizes, which is a result, not a failure.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("command: python -m bench."), result.stdout
