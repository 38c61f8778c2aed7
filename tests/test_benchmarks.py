"""The benchmark scripts run (their timings are read by a person, never asserted here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_text_runs_on_small_texts_and_prints_its_ratio():
    argv = [sys.executable, str(ROOT / "benchmarks" / "bench_text.py"), "--sizes", "0.02", "0.05", "--repeat", "1"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True).stdout
    rows = [line for line in out.splitlines() if line.strip().startswith(("0.02", "0.05")) and "|" in line]
    assert len(rows) == 2 and all("uint8" in row for row in rows), out
    assert "0.05 MB reaches the first step in" in out and "peak memory" in out
