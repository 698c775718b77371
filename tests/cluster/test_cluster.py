"""pytest's way into the multi-host harness: `pytest tests/cluster` (as root; named explicitly:
`make test` never collects tests/cluster, see tests/conftest.py).

The harness runs as its own process (`python -m tests.cluster`, what `make cluster-test`
runs): its Django talks to the data host's PostgreSQL, not to this session's test database.
This test passes only if every scenario ran and held every invariant, with its fault proven.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(3600)
def test_every_scenario_loses_nothing_and_charges_once():
    orders = os.environ.get("CLUSTER_ORDERS", "300")
    result = subprocess.run([sys.executable, "-m", "tests.cluster", "--orders", orders], cwd=BASE_DIR,
                            timeout=3600)
    results = json.loads((BASE_DIR / "var" / "cluster" / "results.json").read_text())
    scenarios = {s["scenario"]: s for s in results["scenarios"]}
    assert sorted(scenarios) == list("abcde")
    for letter, s in scenarios.items():
        assert s["placed"] == s["orders"] and s["final"] == s["placed"], s
        assert s["doubled"] == 0 and s["lost"] == 0, s
        assert s["failures"] == [], s
    assert result.returncode == 0
