"""The simulated producer, end to end: send() → accumulator → sender → brokers → callbacks.

Prints how many records per (real) second the pure-Python pipeline pushes through, and what the
simulated cluster achieved in simulated time, for a few linger.ms / batch.size settings.

    .venv/bin/python benchmarks/bench_producer.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.cluster import EmbeddedCluster  # noqa: E402


def run(records: int, linger_ms: int, batch_size: int, value_size: int = 100) -> None:
    cluster = EmbeddedCluster(seed=1, brokers=3)
    cluster.create_topic("bench", partitions=6)
    producer = cluster.producer({"linger.ms": linger_ms, "batch.size": batch_size})
    value = b"x" * value_size
    start_sim = cluster.now_ms
    start = time.perf_counter()
    for i in range(records):
        producer.send("bench", value, key=f"key-{i % 1000}")
        if i % 100 == 99:
            cluster.advance(1)  # a send rate of 100 records per simulated ms
    producer.flush()
    seconds = time.perf_counter() - start
    simulated_s = max(cluster.now_ms - start_sim, 1) / 1000
    requests = len(cluster.trace.filter("producer.request"))
    print(
        f"linger.ms={linger_ms:<3} batch.size={batch_size:<6} {records / seconds:10,.0f} records/s (real)"
        f"  {records / simulated_s:12,.0f} records/s (simulated)  {requests:5} requests"
    )


def main() -> None:
    print_header("producer pipeline on the simulator (3 brokers, 6 partitions, 100-byte values)")
    for linger_ms, batch_size in [(0, 16384), (5, 16384), (20, 16384), (5, 65536)]:
        run(20_000, linger_ms, batch_size)


if __name__ == "__main__":
    main()
