"""Checks for ex01_partition_log: the learner's PartitionLog, alone and inside a running cluster."""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster, days
from kafkalab.config import TopicConfig
from kafkalab.errors import OffsetOutOfRangeError
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal, expect_raises
from kafkalab.record import Record

EXERCISE = "ex01_partition_log"


def new_log(impl: ModuleType, **config: object):
    return impl.PartitionLog("orders", 0, TopicConfig({"segment.bytes": 300, **config}), 0)


def fill(log, count: int, step_ms: int = 100) -> None:
    for i in range(count):
        log.append([Record(f"k{i}".encode(), b"v" * 20)], now_ms=i * step_ms)


def expect_out_of_range(action, what: str) -> None:
    expect_raises(action, OffsetOutOfRangeError, what)


@check(EXERCISE, points=2)
def append_assigns_the_next_offsets(impl: ModuleType) -> None:
    """append gives records consecutive offsets from 0 and moves the log end offset"""
    log = new_log(impl)
    first = log.append([Record(b"a", b"1"), Record(b"b", b"2")], now_ms=0)
    expect_equal((first.first_offset, first.last_offset), (0, 1), "offsets of the first append of 2 records")
    second = log.append([Record(None, b"3")], now_ms=5)
    expect_equal((second.first_offset, second.last_offset), (2, 2), "offsets of the second append")
    expect_equal(log.log_end_offset, 3, "log_end_offset after 3 records")


@check(EXERCISE, points=2)
def read_returns_records_from_an_offset(impl: ModuleType) -> None:
    """read returns records from an offset, honours max_records, and refuses offsets out of range"""
    log = new_log(impl)
    fill(log, 12)
    expect_equal([r.offset for r in log.read(0)], list(range(12)), "offsets read from 0")
    expect_equal([r.offset for r in log.read(7, max_records=2)], [7, 8], "read(7, max_records=2)")
    expect_equal([r.value for r in log.read(11)], [b"v" * 20], "values read from 11")
    expect_equal(log.read(12), [], "read at the log end offset")
    expect_out_of_range(lambda: log.read(13), "read(13) past the log end offset 12")
    expect_out_of_range(lambda: log.read(-1), "read(-1)")


@check(EXERCISE, points=1)
def segments_roll_when_full(impl: ModuleType) -> None:
    """the active segment rolls before a batch that would not fit in segment.bytes"""
    log = new_log(impl)
    fill(log, 12)
    if len(log.segments) < 2:
        raise CheckFailed(f"12 records of ~90 bytes with segment.bytes=300 should fill several segments; got {len(log.segments)}")
    for segment in log.segments:
        if segment.size_in_bytes > 300:
            raise CheckFailed(f"segment {segment.base_offset} holds {segment.size_in_bytes} bytes > segment.bytes=300")


@check(EXERCISE, points=2)
def time_retention_deletes_old_segments_and_keeps_offsets(impl: ModuleType) -> None:
    """retention.ms deletes whole old segments; the log start offset moves; offsets are never reused"""
    log = new_log(impl, **{"retention.ms": 1000})
    fill(log, 20)
    oldest_kept = [s for s in log.segments if 2500 - s.largest_timestamp <= 1000]
    deleted = log.delete_retention_breached_segments(now_ms=2500)
    if not deleted:
        raise CheckFailed("at t=2500 ms with retention.ms=1000, segments whose newest record is older than 1500 ms must go; nothing was deleted")
    expect_equal(log.log_start_offset, oldest_kept[0].base_offset, "log_start_offset after retention at t=2500")
    expect_out_of_range(lambda: log.read(0), "read(0) after retention deleted offset 0")
    log.delete_retention_breached_segments(now_ms=100_000)
    expect_equal(log.log_start_offset, 20, "log_start_offset once everything expired")
    later = [log.append([Record(None, b"late")], now_ms=100_001 + i).first_offset for i in range(3)]
    expect_equal(later, [20, 21, 22], "the offsets of the next three records (offsets are never reused)")


@check(EXERCISE, points=1)
def size_retention_keeps_the_partition_small(impl: ModuleType) -> None:
    """retention.bytes deletes the oldest segments until the partition fits"""
    log = new_log(impl, **{"retention.bytes": 600})
    fill(log, 30)
    before = log.size_in_bytes
    log.delete_retention_breached_segments(now_ms=3000)
    if not (log.size_in_bytes <= 600 + 300 and before - log.size_in_bytes >= before - 900):
        raise CheckFailed(f"with retention.bytes=600 a {before}-byte partition should shrink to at most ~900 bytes; it is {log.size_in_bytes}")
    if log.size_in_bytes < 600 - 300:
        raise CheckFailed(f"retention.bytes=600 deleted too much: {log.size_in_bytes} bytes left")


@check(EXERCISE, points=2, timeout_s=30)
def a_cluster_running_on_your_log(impl: ModuleType) -> None:
    """a seeded cluster whose brokers use your log: produce, read, and retention over simulated days"""
    seed = 11
    cluster = EmbeddedCluster(seed=seed, brokers=2, log_factory=impl.PartitionLog)
    cluster.create_topic("clicks", partitions=2, config={"segment.bytes": 400, "retention.ms": days(1)})
    for i in range(30):
        cluster.produce("clicks", f"click-{i}", partition=i % 2)
        cluster.advance(60_000)
    expect_equal([r.value for r in cluster.fetch("clicks", 0, 0, max_records=3)], [b"click-0", b"click-2", b"click-4"], "first three records of clicks-0", seed=seed)
    expect_equal(cluster.list_offsets("clicks", 1, "latest"), 15, "log end offset of clicks-1", seed=seed)
    cluster.advance(days(2))
    expect_equal(cluster.list_offsets("clicks", 1, "earliest"), 15, "log start offset of clicks-1 two days later (all expired)", seed=seed)
    expect_raises(lambda: cluster.fetch("clicks", 1, 3), OffsetOutOfRangeError, f"a fetch of clicks-1 at offset 3 after retention (seed {seed})")
    after = [cluster.produce("clicks", f"next-{i}", partition=1).offset for i in range(3)]
    expect_equal(after, [15, 16, 17], "offsets of the next records after retention (never reused)", seed=seed)
