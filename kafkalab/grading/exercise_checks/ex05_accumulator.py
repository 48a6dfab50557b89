"""Checks for ex05_accumulator: ready and drain, then a producer built on the learner's accumulator."""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.record import Record

EXERCISE = "ex05_accumulator"
LEADERS = {("t", 0): 0, ("t", 1): 0, ("t", 2): 1}


def record(size: int = 100) -> Record:
    return Record(b"k", b"v" * size)


@check(EXERCISE, points=2)
def ready_after_linger_ms(impl: ModuleType) -> None:
    """ready: a lone batch is sendable once it waited linger.ms, and says how long until then"""
    accumulator = impl.RecordAccumulator(batch_size=10_000, linger_ms=5)
    accumulator.append("t", 0, record(), None, now_ms=0)
    early = accumulator.ready(LEADERS, now_ms=3)
    expect_equal(early.ready_nodes, set(), "ready nodes at 3 ms with linger.ms=5")
    expect_equal(early.next_ready_check_delay_ms, 2, "next_ready_check_delay_ms at 3 ms with linger.ms=5")
    expect_equal(accumulator.ready(LEADERS, now_ms=5).ready_nodes, {0}, "ready nodes at 5 ms")


@check(EXERCISE, points=2)
def ready_when_full_flushing_or_out_of_memory(impl: ModuleType) -> None:
    """ready: full batches (or more than one queued), a flush, and exhausted memory make batches sendable"""
    full = impl.RecordAccumulator(batch_size=500, linger_ms=10_000)
    for _ in range(10):
        full.append("t", 2, record(), None, now_ms=0)
    expect_equal(full.ready(LEADERS, now_ms=0).ready_nodes, {1}, "ready nodes with full batches for t-2 (led by broker 1)")
    flushing = impl.RecordAccumulator(linger_ms=10_000)
    flushing.append("t", 0, record(), None, now_ms=0)
    flushing.begin_flush()
    expect_equal(flushing.ready(LEADERS, now_ms=0).ready_nodes, {0}, "ready nodes during flush()")
    tight = impl.RecordAccumulator(batch_size=1000, buffer_memory=1000, linger_ms=10_000)
    tight.append("t", 0, record(), None, now_ms=0)
    try:
        tight.append("t", 1, record(), None, now_ms=0)
    except Exception:  # noqa: BLE001 - BufferExhaustedError is expected here
        pass
    expect_equal(tight.ready(LEADERS, now_ms=0).ready_nodes, {0}, "ready nodes when an append is waiting for memory")


@check(EXERCISE, points=1)
def ready_reports_unknown_leaders(impl: ModuleType) -> None:
    """ready: a partition without a known leader is reported (so the producer refreshes metadata)"""
    accumulator = impl.RecordAccumulator(linger_ms=0)
    accumulator.append("other", 0, record(), None, now_ms=0)
    check = accumulator.ready(LEADERS, now_ms=10)
    expect_equal((check.ready_nodes, check.unknown_leader_topics), (set(), {"other"}), "(ready nodes, unknown leader topics)")


@check(EXERCISE, points=2)
def drain_round_robin_within_max_request_size(impl: ModuleType) -> None:
    """drain: one batch per partition, round-robin per broker, up to max.request.size"""
    accumulator = impl.RecordAccumulator(batch_size=300, linger_ms=0)
    for _ in range(6):
        accumulator.append("t", 0, record(), None, now_ms=0)
        accumulator.append("t", 1, record(), None, now_ms=0)
    first = accumulator.drain(LEADERS, {0}, 300, 0).get(0, [])
    second = accumulator.drain(LEADERS, {0}, 300, 0).get(0, [])
    expect_equal([b.partition for b in first], [0], "partitions drained first with room for one batch")
    expect_equal([b.partition for b in second], [1], "partitions drained next (round-robin: the other partition's turn)")
    both = accumulator.drain(LEADERS, {0}, 100_000, 0).get(0, [])
    expect_equal(sorted(b.partition for b in both), [0, 1], "partitions drained with plenty of room (one batch each)")


@check(EXERCISE, points=1)
def drain_respects_retry_backoff(impl: ModuleType) -> None:
    """drain: a retried batch waits retry.backoff.ms before it is drained again"""
    accumulator = impl.RecordAccumulator(linger_ms=0, retry_backoff_ms=100)
    accumulator.append("t", 0, record(), None, now_ms=0)
    batch = accumulator.drain(LEADERS, {0}, 100_000, 0)[0][0]
    accumulator.reenqueue(batch, now_ms=20)
    expect_equal(accumulator.drain(LEADERS, {0}, 100_000, 50), {}, "what drain returns 30 ms into a 100 ms retry backoff")
    again = accumulator.drain(LEADERS, {0}, 100_000, 120).get(0, [])
    if again != [batch]:
        raise CheckFailed("after retry.backoff.ms the retried batch must be drained again")


@check(EXERCISE, points=2, timeout_s=20)
def a_producer_built_on_your_accumulator(impl: ModuleType) -> None:
    """a producer using your accumulator delivers 200 records to 6 partitions, in order, in batches"""
    seed = 8
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=6)
    producer = cluster.producer({"linger.ms": 5}, accumulator_class=impl.RecordAccumulator)
    futures = []
    for i in range(200):
        futures.append(producer.send("orders", f"o{i}", key=f"customer-{i % 13}"))
        if i % 20 == 19:
            cluster.advance(2)
    producer.flush(timeout_ms=60_000)
    failed = [f for f in futures if not f.done or f.exception]
    if failed:
        raise CheckFailed(f"{len(failed)} of 200 sends did not succeed (first: {failed[0]!r}) (seed {seed})")
    for partition in range(6):
        values = [r.value for r in cluster.fetch("orders", partition, 0)]
        sent = [f"o{i}".encode() for i, f in enumerate(futures) if f.metadata.partition == partition]
        expect_equal(values, sent, f"records in orders-{partition}", seed=seed)
    requests = len(cluster.trace.filter("producer.request"))
    if requests >= 100:
        raise CheckFailed(f"{requests} requests for 200 records: records are not being batched (seed {seed})")
