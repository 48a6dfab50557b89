"""Producer experiments for chapter 03, as plain data (the notebook plots them; widgets show them).

* :func:`batching_experiment` — one seeded run: records sent at a steady rate, and what
  ``linger.ms`` and ``batch.size`` do to the number of requests, batch sizes and latency.
* :func:`retry_storm` — a lossy network: with and without idempotence, count the duplicates and
  reorderings that retries leave in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from kafkalab.cluster import EmbeddedCluster


@dataclass(frozen=True)
class BatchingResult:
    linger_ms: int
    batch_size: int
    records: int
    requests: int
    records_per_request: float
    mean_latency_ms: float
    max_latency_ms: int
    simulated_ms: int
    timeline: tuple[tuple[int, int, int], ...]  # (time_ms, broker, records) per ProduceRequest

    @property
    def throughput_per_s(self) -> float:
        return self.records / max(self.simulated_ms, 1) * 1000


def batching_experiment(linger_ms: int, batch_size: int, records: int = 120, every_ms: int = 1, value_size: int = 200,
                        partitions: int = 3, seed: int = 1) -> BatchingResult:
    """Send ``records`` null-key records, one every ``every_ms``, and report how they were batched."""
    cluster = EmbeddedCluster(seed=seed, brokers=3, latency_ms=2)
    cluster.create_topic("events", partitions=partitions)
    producer = cluster.producer({"linger.ms": linger_ms, "batch.size": batch_size})
    start = cluster.now_ms
    futures = []
    for _ in range(records):
        futures.append(producer.send("events", b"x" * value_size))
        cluster.advance(every_ms)
    producer.flush()
    requests = cluster.trace.filter("producer.request")
    latencies = [f.latency_ms for f in futures if f.latency_ms is not None]
    return BatchingResult(
        linger_ms, batch_size, records, len(requests), records / max(len(requests), 1),
        mean(latencies), max(latencies), max(f.completed_ms or 0 for f in futures) - start,
        tuple((r.time_ms - start, r.detail["broker"], r.detail["records"]) for r in requests),
    )


@dataclass(frozen=True)
class StormResult:
    idempotent: bool
    sent: int
    acknowledged: int
    in_log: int
    duplicates: int
    out_of_order: int
    log: tuple[str, ...]


def retry_storm(idempotent: bool, drop_rate: float = 0.2, records: int = 30, seed: int = 0) -> StormResult:
    """Produce over a network that loses ``drop_rate`` of all messages; what do retries leave behind?"""
    cluster = EmbeddedCluster(seed=seed)
    cluster.create_topic("payments", partitions=1)
    cluster.network.set_default(latency_ms=2, jitter_ms=3, drop_rate=drop_rate)
    producer = cluster.producer({"enable.idempotence": str(idempotent).lower(), "request.timeout.ms": 500, "linger.ms": 1})
    futures = []
    for i in range(records):
        futures.append(producer.send("payments", f"p{i}"))
        cluster.advance(3)
    producer.flush()
    cluster.network.set_default(drop_rate=0.0)
    log = tuple(r.value.decode() for r in cluster.fetch("payments", 0, 0))
    numbers = [int(value[1:]) for value in log]
    return StormResult(
        idempotent, records, sum(f.exception is None for f in futures), len(log), len(log) - len(set(log)),
        sum(1 for a, b in zip(numbers, numbers[1:]) if b < a), log,
    )
