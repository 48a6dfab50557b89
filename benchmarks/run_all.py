"""Run every benchmark in this folder and print its figures (throughputs and ratios, no assertions).

    .venv/bin/python benchmarks/run_all.py

Benchmarks are not tests: speed targets are read from these numbers, never asserted in the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from machine import print_header

HERE = Path(__file__).resolve().parent


def main() -> int:
    print_header("kafkalab benchmarks")
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n--- {script.name}")
        sys.stdout.flush()
        failures += subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
