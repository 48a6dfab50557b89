"""The simulated consumer side, end to end: fetch → poll → commit, a rebalance, and exactly-once.

Prints records per (real) second through a consumer group on the simulator, how long a
rebalance takes in simulated time for eager and cooperative assignors, and the cost of the
transactional read-process-write loop relative to the plain one. Asserts nothing.

    .venv/bin/python benchmarks/bench_consumer.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.cluster import EmbeddedCluster  # noqa: E402
from kafkalab.consumer.delivery import run_exactly_once_scenario  # noqa: E402
from kafkalab.consumer.group_lab import GroupLab  # noqa: E402


def group_throughput(records: int, consumers: int) -> None:
    cluster = EmbeddedCluster(seed=1, brokers=3)
    cluster.create_topic("bench", partitions=6)
    cluster.produce_batch("bench", [(f"key-{i % 100}", b"x" * 100) for i in range(records)])
    group = [cluster.consumer({"group.id": "bench", "auto.offset.reset": "earliest"}) for _ in range(consumers)]
    for consumer in group:
        consumer.subscribe(["bench"])
    start = time.perf_counter()
    seen = 0
    while seen < records:
        for consumer in group:
            seen += len(consumer.poll(100))
    seconds = time.perf_counter() - start
    print(f"{consumers} consumer(s): {records / seconds:10,.0f} records/s (real) polled, {cluster.sim.events_run:,} events")


def rebalance_time(assignor: str) -> None:
    start = time.perf_counter()
    lab = GroupLab(assignor=assignor, consumers=3, partitions=12)
    lab.add(15_000)
    snapshot = lab.run(30_000)
    seconds = time.perf_counter() - start
    window = next((end - begin for begin, end in snapshot.rebalances if begin >= 15_000 and end is not None), None)
    revoked = sum(1 for o in snapshot.ownership if o.end_ms is not None and o.end_ms >= 15_000)
    print(f"{assignor:19} a 4th member joins: {revoked:2} partitions revoked, first rebalance {window} ms (simulated); "
          f"lab run {seconds:.2f} s (real)")


def exactly_once_cost() -> None:
    for transactional in (False, True):
        start = time.perf_counter()
        run = run_exactly_once_scenario(seed=0, records=300, crashes=(), transactional=transactional)
        seconds = time.perf_counter() - start
        print(f"read-process-write, transactions={str(transactional):5}: 300 records in {seconds:.2f} s (real), "
              f"{run.cluster.sim.events_run:,} events — {run.report.summary()}")


def main() -> None:
    print_header("consumer side on the simulator (3 brokers, 6 partitions, 100-byte values)")
    for consumers in (1, 3):
        group_throughput(20_000, consumers)
    for assignor in ("range", "cooperative-sticky"):
        rebalance_time(assignor)
    exactly_once_cost()


if __name__ == "__main__":
    main()
