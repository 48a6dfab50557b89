"""The partition log keeps Kafka's promises: offsets never reused, whole-segment retention, errors by name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.config import TopicConfig
from kafkalab.errors import (
    ImmutableLogError,
    InvalidTimestampError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    RecordListTooLargeError,
)
from kafkalab.log import PartitionLog
from kafkalab.record import Record, TimestampType

DAY = 24 * 60 * 60 * 1000


def small_log(**config: object) -> PartitionLog:
    return PartitionLog("orders", 0, TopicConfig({"segment.bytes": 300, **config}))


def fill(log: PartitionLog, count: int, start_ms: int = 0, step_ms: int = 100) -> None:
    for i in range(count):
        log.append([Record(f"k{i}".encode(), b"v" * 20)], now_ms=start_ms + i * step_ms)


def test_offsets_are_assigned_in_order_from_zero() -> None:
    log = small_log()
    first = log.append([Record(b"a", b"1"), Record(b"b", b"2")], now_ms=0)
    second = log.append([Record(None, b"3")], now_ms=1)
    assert (first.first_offset, first.last_offset, second.first_offset) == (0, 1, 2)
    assert [r.offset for r in log.read(0)] == [0, 1, 2]
    assert [r.value for r in log.read(1, max_records=1)] == [b"2"]
    assert log.read(3) == [] and log.log_end_offset == 3


def test_segments_roll_by_size_and_by_time() -> None:
    log = small_log()
    fill(log, 10)
    assert len(log.segments) > 1
    assert all(segment.size_in_bytes <= 300 for segment in log.segments)
    timed = PartitionLog("t", 0, TopicConfig({"segment.ms": 1000}))
    timed.append([Record(None, b"x")], now_ms=0)
    timed.append([Record(None, b"x")], now_ms=1000)
    assert len(timed.segments) == 1  # Kafka rolls only when the wait is *more* than segment.ms
    timed.append([Record(None, b"x")], now_ms=1001)
    assert [segment.base_offset for segment in timed.segments] == [0, 2]


def test_time_retention_deletes_whole_old_segments_and_offsets_are_never_reused() -> None:
    log = small_log(**{"retention.ms": 1000})
    fill(log, 20)
    deleted = log.delete_retention_breached_segments(now_ms=2500)
    assert deleted > 0
    assert log.log_start_offset == log.segments[0].base_offset > 0
    with pytest.raises(OffsetOutOfRangeError, match="out of range"):
        log.read(0)
    log.delete_retention_breached_segments(now_ms=10_000)
    assert log.log_start_offset == log.log_end_offset == 20 and log.size_in_bytes == 0
    assert log.append([Record(None, b"after")], now_ms=10_001).first_offset == 20


def test_size_retention_keeps_the_partition_under_retention_bytes() -> None:
    log = small_log(**{"retention.bytes": 600})
    fill(log, 30)
    log.delete_retention_breached_segments(now_ms=3000)
    assert log.size_in_bytes <= 600 + 300
    assert log.size_in_bytes > 600 - 300


def test_infinite_retention_keeps_everything() -> None:
    log = small_log(**{"retention.ms": -1})
    fill(log, 10)
    assert log.delete_retention_breached_segments(now_ms=100 * DAY) == 0
    assert log.log_start_offset == 0


def test_records_cannot_be_changed_or_deleted() -> None:
    log = small_log()
    fill(log, 1)
    with pytest.raises(ImmutableLogError, match="immutable"):
        log.update(0, b"new")
    with pytest.raises(ImmutableLogError):
        log[0] = b"new"
    with pytest.raises(ImmutableLogError, match="retention"):
        del log[0]


def test_size_and_timestamp_limits_raise_kafkas_errors() -> None:
    with pytest.raises(MessageTooLargeError, match="max.message.bytes"):
        PartitionLog("t", 0, TopicConfig({"max.message.bytes": 100})).append([Record(None, b"x" * 200)], 0)
    with pytest.raises(RecordListTooLargeError, match="segment.bytes"):
        small_log().append([Record(None, b"x" * 400)], 0)
    with pytest.raises(InvalidTimestampError):
        small_log().append([Record(None, b"x", timestamp=10 * DAY)], now_ms=0)


def test_log_append_time_stamps_records_with_the_broker_clock() -> None:
    log = PartitionLog("t", 0, TopicConfig({"message.timestamp.type": "LogAppendTime"}))
    info = log.append([Record(None, b"x", timestamp=5)], now_ms=777)
    assert info.log_append_time == 777
    assert log.read(0)[0].timestamp == 777 and log.read(0)[0].timestamp_type == TimestampType.LOG_APPEND_TIME


def test_delete_records_moves_the_log_start_offset() -> None:
    log = small_log()
    fill(log, 10)
    log.delete_records(7)
    assert log.log_start_offset == 7 and log.read(7)[0].offset == 7
    with pytest.raises(OffsetOutOfRangeError):
        log.read(6)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(min_value=1, max_value=4)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=2000)),
        st.tuples(st.just("retention"), st.just(0)),
    ),
    max_size=60,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(ops=operations, retention_ms=st.integers(min_value=-1, max_value=3000), retention_bytes=st.integers(min_value=-1, max_value=1500))
def test_property_offsets_contiguous_and_reads_return_what_remains(ops: list[tuple[str, int]], retention_ms: int, retention_bytes: int) -> None:
    log = small_log(**{"retention.ms": retention_ms, "retention.bytes": retention_bytes, "segment.ms": 1500})
    now, appended = 0, 0
    for op, amount in ops:
        if op == "append":
            info = log.append([Record(None, str(appended + i).encode()) for i in range(amount)], now_ms=now)
            assert info.first_offset == appended
            appended += amount
        elif op == "wait":
            now += amount
        else:
            before = log.log_start_offset
            log.delete_retention_breached_segments(now)
            assert log.log_start_offset >= before
    assert log.log_end_offset == appended
    remaining = log.read(log.log_start_offset)
    assert [r.offset for r in remaining] == list(range(log.log_start_offset, appended))
    assert all(r.value == str(r.offset).encode() for r in remaining)
    assert [s.base_offset for s in log.segments] == sorted(s.base_offset for s in log.segments)
