"""Seeded scenarios on the embedded cluster: offsets, keys, retention over days, determinism."""

from __future__ import annotations

import pytest

from kafkalab.cluster import EmbeddedCluster, days
from kafkalab.errors import OffsetOutOfRangeError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from kafkalab.partitioner import partition_for_key


def scenario(seed: int) -> EmbeddedCluster:
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=3, config={"segment.bytes": 300, "retention.ms": days(1)})
    for i in range(40):
        cluster.produce("orders", f"order-{i}", key=f"customer-{i % 7}")
        cluster.advance(60_000)
    for i in range(10):
        cluster.produce("orders", f"unkeyed-{i}")
    return cluster


def test_keyed_records_go_where_murmur2_says_and_offsets_count_up() -> None:
    cluster = scenario(1)
    for partition in range(3):
        records = cluster.fetch("orders", partition, 0)
        assert [r.offset for r in records] == list(range(len(records)))
        for record in records:
            if record.key is not None:
                assert partition_for_key(record.key, 3) == partition


def test_retention_deletes_segments_as_days_pass_while_offsets_stay() -> None:
    cluster = scenario(2)
    end_offsets = {p: cluster.list_offsets("orders", p, "latest") for p in range(3)}
    cluster.advance(days(3))
    for partition in range(3):
        assert cluster.list_offsets("orders", partition, "earliest") == end_offsets[partition]
        assert cluster.list_offsets("orders", partition, "latest") == end_offsets[partition]
        if end_offsets[partition]:
            with pytest.raises(OffsetOutOfRangeError):
                cluster.fetch("orders", partition, 0)
    assert cluster.trace.filter("broker.retention.deleted")
    after = cluster.produce("orders", "late", partition=0)
    assert after.offset == end_offsets[0]


def test_same_seed_same_trace() -> None:
    assert scenario(5).trace.digest() == scenario(5).trace.digest()
    assert scenario(5).trace.digest() != scenario(6).trace.digest()


def test_admin_errors_are_kafkas() -> None:
    cluster = EmbeddedCluster(seed=0)
    cluster.create_topic("t")
    with pytest.raises(TopicAlreadyExistsError):
        cluster.create_topic("t")
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce("missing", "x")
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce("t", "x", partition=3)


def test_a_learners_log_class_is_what_the_brokers_use() -> None:
    from kafkalab.log import PartitionLog

    made = []

    class SpyLog(PartitionLog):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append((self.topic, self.partition))

    cluster = EmbeddedCluster(seed=0, log_factory=SpyLog)
    cluster.create_topic("t", partitions=2)
    assert sorted(made) == [("t", 0), ("t", 1)]


def test_the_offset_invariant_catches_a_log_that_reuses_offsets() -> None:
    from kafkalab.log import PartitionLog
    from kafkalab.sim import InvariantViolation

    class ForgetfulLog(PartitionLog):
        def delete_retention_breached_segments(self, now_ms: int) -> int:
            deleted = super().delete_retention_breached_segments(now_ms)
            if deleted:
                self.log_end_offset = self.log_start_offset = 0  # "start again from zero"
            return deleted

    cluster = EmbeddedCluster(seed=4, log_factory=ForgetfulLog)
    cluster.create_topic("t", config={"segment.bytes": 200, "retention.ms": days(1)})
    for i in range(10):
        cluster.produce("t", f"v{i}")
    with pytest.raises(InvariantViolation, match="offsets only move forward.*went back") as caught:
        cluster.advance(days(2))
    assert caught.value.seed == 4


def test_log_append_time_fetch_max_bytes_delete_records_and_time_lookup() -> None:
    from kafkalab.cluster import hours
    from kafkalab.record import TimestampType

    cluster = EmbeddedCluster(seed=3)
    cluster.create_topic("events", config={"message.timestamp.type": "LogAppendTime", "segment.bytes": 200})
    for i in range(6):
        cluster.produce("events", f"e{i}", timestamp=1)  # the producer's timestamp is overwritten by the broker
        cluster.advance(hours(1))
    records = cluster.fetch("events", 0, 0)
    assert all(r.timestamp_type == TimestampType.LOG_APPEND_TIME and r.timestamp > 1 for r in records)
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)
    assert [r.offset for r in cluster.fetch("events", 0, 2, max_bytes=1)] == [2]  # one whole batch at least
    assert cluster.list_offsets("events", 0, records[3].timestamp) == 3  # the first offset at or after a time
    assert cluster.delete_records("events", 0, before_offset=4) == 4
    assert cluster.list_offsets("events", 0, "earliest") == 4 and cluster.fetch("events", 0, 4)[0].value == b"e4"
    with pytest.raises(OffsetOutOfRangeError):
        cluster.fetch("events", 0, 3)
    assert cluster.describe()  # plain data
