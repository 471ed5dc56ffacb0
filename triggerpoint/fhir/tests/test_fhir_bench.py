"""`bench/fhir_bench.py` runs end to end in its smoke configuration (no timing is asserted: figures on a test
machine mean nothing; the bench itself reports them against its side-by-side baseline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_the_fhir_bench_serves_every_scenario_without_errors_in_its_quick_configuration():
    completed = subprocess.run([sys.executable, "bench/fhir_bench.py", "--quick"], cwd=REPO, capture_output=True,
                               text=True, timeout=600, check=False)
    out = completed.stdout + completed.stderr
    assert completed.returncode in (0, 1), out  # 2 would mean a scenario answered something other than 200
    for scenario in ("signed-in no-op", "Patient read", "Procedure search", "Patient $everything",
                     "Patient read (SMART)"):
        assert f"  {scenario} " in completed.stdout, out
    assert "errors" not in completed.stdout, out
    assert "RESULT:" in completed.stdout, out
