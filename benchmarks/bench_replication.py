"""Replicated writes on the simulator: throughput with acks=all and RF=3, and how the simulator
scales with brokers and partitions. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_replication.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.cluster import EmbeddedCluster  # noqa: E402


def replicated_throughput(brokers: int, partitions: int, replication: int, acks: str, records: int = 5_000) -> None:
    cluster = EmbeddedCluster(seed=1, brokers=brokers)
    cluster.create_topic("bench", partitions=partitions, replication_factor=replication, config={"min.insync.replicas": min(2, replication)})
    producer = cluster.producer({"acks": acks, "linger.ms": 5})
    value = b"x" * 100
    start_sim, start = cluster.now_ms, time.perf_counter()
    for i in range(records):
        producer.send("bench", value, key=f"key-{i % 1000}")
        if i % 50 == 49:
            cluster.advance(1)
    producer.flush()
    seconds = time.perf_counter() - start
    simulated_s = max(cluster.now_ms - start_sim, 1) / 1000
    print(f"brokers={brokers} partitions={partitions:<3} RF={replication} acks={acks:<3} "
          f"{records / seconds:9,.0f} records/s (real)  {records / simulated_s:10,.0f} records/s (simulated)  "
          f"{cluster.sim.events_run:8,} events")


def main() -> None:
    print_header("replicated produce on the simulator (100-byte values, linger.ms=5)")
    replicated_throughput(3, 6, 1, "1")
    replicated_throughput(3, 6, 3, "1")
    replicated_throughput(3, 6, 3, "all")
    for brokers, partitions in ((3, 24), (6, 24), (6, 96)):
        replicated_throughput(brokers, partitions, 3, "all")


if __name__ == "__main__":
    main()
