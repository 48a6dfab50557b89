"""Seed sweeps: random workloads on random seeds, the cluster's invariants checked after every event.

A failure prints the seed and the operations (Hypothesis shrinks them to a smallest case), and the
simulator's InvariantViolation carries the last trace lines.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.cluster import EmbeddedCluster, hours
from kafkalab.partitioner import partition_for_key

operation = st.one_of(
    st.tuples(st.just("produce"), st.integers(0, 5)),       # keyed by customer-<n>
    st.tuples(st.just("produce-unkeyed"), st.just(0)),
    st.tuples(st.just("wait-hours"), st.integers(1, 30)),
)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), brokers=st.integers(1, 3), partitions=st.integers(1, 4), ops=st.lists(operation, max_size=40))
def test_offsets_keys_and_retention_hold_for_any_seed(seed: int, brokers: int, partitions: int, ops: list[tuple[str, int]]) -> None:
    cluster = EmbeddedCluster(seed=seed, brokers=brokers)
    cluster.create_topic("t", partitions=partitions, config={"segment.bytes": 200, "retention.ms": hours(12)})
    produced: dict[int, int] = {p: 0 for p in range(partitions)}
    for op, n in ops:
        if op == "produce":
            key = f"customer-{n}".encode()
            result = cluster.produce("t", b"v", key=key)
            assert result.partition == partition_for_key(key, partitions)
        elif op == "produce-unkeyed":
            result = cluster.produce("t", b"v")
        else:
            cluster.advance(hours(n))
            continue
        assert result.offset == produced[result.partition], f"seed {seed}: offsets must count up with no gap"
        produced[result.partition] += 1
    for partition, count in produced.items():
        assert cluster.list_offsets("t", partition, "latest") == count
        start = cluster.list_offsets("t", partition, "earliest")
        assert [r.offset for r in cluster.fetch("t", partition, start)] == list(range(start, count))
