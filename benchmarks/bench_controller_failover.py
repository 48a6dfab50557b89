"""Controller failover in ZooKeeper mode and in KRaft, from 1,000 to 1,000,000 partitions.

Runs :mod:`kafkalab.controllers_lab` for each partition count, prints the simulated times (and
the ratio ZooKeeper mode / KRaft) and how long each run took on this machine, and writes
``kafkalab/data/controller_failover.json``, which chapter 08 plots. The simulated times are
deterministic (seed 1); the per-partition costs are the lab's documented constants.

    .venv/bin/python benchmarks/bench_controller_failover.py            # 10^3 .. 10^6 (about half an hour:
                                                                        # 10^6 simulated ZooKeeper writes)
    .venv/bin/python benchmarks/bench_controller_failover.py 1000 10000 # chosen counts only
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_summary, print_header  # noqa: E402

from kafkalab.controllers_lab import (  # noqa: E402
    BROKER_APPLY_COST_US, ZK_READ_COST_US, kraft_failover, zookeeper_mode_failover,
)

# Inside the package, so chapter 08 finds it in the browser edition too (the wheel carries it).
RESULTS = Path(__file__).resolve().parents[1] / "kafkalab" / "data" / "controller_failover.json"
COUNTS = (1_000, 10_000, 100_000, 1_000_000)


def main(counts: tuple[int, ...]) -> None:
    print_header("controller failover: ZooKeeper mode vs KRaft (simulated ms after the controller's process dies)")
    print(f"   ZooKeeper read {ZK_READ_COST_US} µs/partition, broker UpdateMetadata apply {BROKER_APPLY_COST_US} µs/partition")
    print(f"{'partitions':>10} {'mode':>9} {'detected':>9} {'elected':>8} {'ready':>8} {'propagated':>10} {'reads':>9} "
          f"{'moved':>8} {'moved at':>9}  real s")
    rows = []
    for partitions in counts:
        pair = []
        for run in (zookeeper_mode_failover, kraft_failover):
            start = time.perf_counter()
            result = run(partitions)
            seconds = time.perf_counter() - start
            pair.append(result)
            rows.append({**result.to_dict(), "real_seconds": round(seconds, 1)})
            print(f"{partitions:>10,} {result.mode:>9} {result.detected_ms:>9,} {result.elected_ms:>8,} {result.ready_ms:>8,} "
                  f"{result.propagated_ms:>10,} {result.metadata_reads:>9,} {result.leaders_moved:>8,} "
                  f"{result.leaders_moved_ms:>9,}  {seconds:6.1f}")
        zk, kraft = pair
        print(f"{'':>10} {'ratio':>9} ready ×{zk.ready_ms / kraft.ready_ms:.1f}, propagated ×{zk.propagated_ms / kraft.propagated_ms:.1f}")
    if tuple(counts) == COUNTS:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({"machine": machine_summary(), "zk_read_cost_us": ZK_READ_COST_US,
                                       "broker_apply_cost_us": BROKER_APPLY_COST_US, "seed": 1,
                                       "results": [{k: v for k, v in row.items() if k != "real_seconds"} for row in rows]},
                                      indent=1) + "\n", encoding="utf-8")
        print(f"written {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main(tuple(int(arg) for arg in sys.argv[1:]) or COUNTS)
