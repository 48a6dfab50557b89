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
    assert log.delete_records(7) == 7
    assert log.log_start_offset == 7 and log.read(7)[0].offset == 7
    assert log.segments[0].base_offset <= 7 < log.segments[0].next_offset  # segments wholly below 7 are gone
    with pytest.raises(OffsetOutOfRangeError):
        log.read(6)
    assert log.delete_records(3) == 7  # at or below the log start offset: nothing changes (Kafka)
    with pytest.raises(OffsetOutOfRangeError, match=r"within \[0, 10\]"):
        log.delete_records(11)
    assert log.delete_records(10) == 10 and log.read(10) == []
    assert log.append([Record(None, b"next")], now_ms=5000).first_offset == 10


def test_read_past_the_log_end_offset_names_the_valid_range() -> None:
    log = small_log()
    fill(log, 3)
    with pytest.raises(OffsetOutOfRangeError, match=r"offset 4 of orders-0 is out of range \[0, 3\]"):
        log.read(4)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1)


def test_read_max_bytes_returns_whole_batches_but_always_the_first() -> None:
    log = PartitionLog("t", 0)
    for i in range(5):
        log.append([Record(None, f"{i}a".encode()), Record(None, f"{i}b".encode())], now_ms=i)
    batch_size = log.segments[0].batches[0].size_in_bytes
    assert [r.offset for r in log.read(0, max_bytes=1)] == [0, 1]  # KIP-74: the first batch even if too big
    assert [r.offset for r in log.read(0, max_bytes=2 * batch_size)] == [0, 1, 2, 3]
    assert [r.offset for r in log.read(3, max_bytes=2 * batch_size)] == [3, 4, 5]  # the batch holding 3 counts whole
    assert [r.offset for r in log.read(3, max_records=1, max_bytes=10_000)] == [3]


def test_segment_sizes_are_v2_batch_sizes() -> None:
    log = small_log()
    info = log.append([Record(b"key", b"value")], now_ms=0)
    batch = log.segments[0].batches[0]
    # DefaultRecordBatch: 61-byte header. DefaultRecord.sizeInBytes: length varint 1 + attributes 1 +
    # timestamp delta 1 + offset delta 1 + key (1 + 3) + value (1 + 5) + header count 1 = 15
    assert batch.size_in_bytes == log.size_in_bytes == log.segments[0].size_in_bytes == 61 + 15
    assert (info.first_offset, info.last_offset) == (0, 0)


def test_size_rolling_happens_before_the_append_that_would_not_fit() -> None:
    log = small_log()
    fill(log, 10)
    for closed, following in zip(log.segments, log.segments[1:]):
        first_of_next = following.batches[0].size_in_bytes
        assert closed.size_in_bytes + first_of_next > 300, "rolled although the next batch would have fitted"
        assert closed.next_offset == following.base_offset, "offsets continue across segments"


def test_time_rolling_measures_from_the_first_batch_timestamp() -> None:
    log = PartitionLog("t", 0, TopicConfig({"segment.ms": 1000}), now_ms=0)
    log.append([Record(None, b"x", timestamp=5000)], now_ms=5000)  # segment created at 0, first batch at 5000
    log.append([Record(None, b"x", timestamp=5900)], now_ms=5900)
    assert len(log.segments) == 1, "5900 - 5000 <= segment.ms: no roll, although the segment was created at 0"
    log.append([Record(None, b"x", timestamp=6001)], now_ms=6001)
    assert [s.base_offset for s in log.segments] == [0, 2]


def test_an_empty_active_segment_never_rolls_and_is_never_deleted() -> None:
    log = small_log(**{"segment.ms": 1, "retention.ms": 1})
    assert log.delete_retention_breached_segments(now_ms=10 * DAY) == 0
    assert len(log.segments) == 1 and log.active_segment.size_in_bytes == 0
    log.append([Record(None, b"x")], now_ms=10 * DAY)
    assert len(log.segments) == 1  # nothing to roll away from


def test_time_retention_uses_the_segments_largest_timestamp() -> None:
    log = small_log(**{"retention.ms": 1000, "message.timestamp.after.max.ms": DAY})
    log.append([Record(None, b"old" * 30)], now_ms=0)
    log.append([Record(None, b"future" * 10, timestamp=50_000)], now_ms=1)  # same segment, far-future record
    log.roll(now_ms=2)
    log.append([Record(None, b"new")], now_ms=3)
    assert log.delete_retention_breached_segments(now_ms=10_000) == 0  # the future record keeps its segment alive
    assert log.delete_retention_breached_segments(now_ms=51_001) == 2
    assert log.log_start_offset == log.log_end_offset == 3


def test_retention_may_delete_a_non_empty_active_segment_after_rolling() -> None:
    log = small_log(**{"retention.ms": 1000})
    log.append([Record(None, b"x")], now_ms=0)
    assert log.delete_retention_breached_segments(now_ms=5000) == 1
    assert len(log.segments) == 1 and log.active_segment.base_offset == 1 and log.log_start_offset == 1


def test_size_then_time_retention_count_every_deleted_segment() -> None:
    """Kafka runs retention.bytes, then retention.ms, as separate passes over the oldest segments."""
    def log_with_one_old_big_segment(retention_bytes: int) -> PartitionLog:
        log = small_log(**{"retention.ms": 1000, "retention.bytes": retention_bytes})
        log.append([Record(None, b"a" * 200)], now_ms=0)  # 270 bytes, old
        log.roll(now_ms=0)
        for i in range(3):
            log.append([Record(None, b"b" * 20)], now_ms=4000 + i)  # 88 bytes each, young
            log.roll(now_ms=4000 + i)
        assert [s.size_in_bytes for s in log.segments] == [270, 88, 88, 88, 0]
        return log

    # 534 bytes, limit 334: 200 over, less than the old segment, so retention.bytes deletes nothing;
    # then retention.ms deletes the old segment, and the young ones stay (a single combined pass
    # that forgot to count the old segment's bytes would wrongly delete a young one too)
    log = log_with_one_old_big_segment(retention_bytes=334)
    assert log.delete_retention_breached_segments(now_ms=4500) == 1
    assert (log.log_start_offset, log.size_in_bytes) == (1, 264)
    # limit 120: retention.bytes deletes 270 + 88 and stops before going below 120
    log = log_with_one_old_big_segment(retention_bytes=120)
    assert log.delete_retention_breached_segments(now_ms=4500) == 2
    assert (log.log_start_offset, log.size_in_bytes) == (2, 176)


def test_retention_bytes_never_goes_below_the_limit() -> None:
    log = small_log(**{"retention.bytes": 200})
    fill(log, 12)
    before = [s.size_in_bytes for s in log.segments]
    log.delete_retention_breached_segments(now_ms=0)
    assert log.size_in_bytes >= 200
    assert log.size_in_bytes - log.segments[0].size_in_bytes < 200  # one more would have gone below
    assert sum(before) > log.size_in_bytes


def test_timestamp_bounds_follow_kip_937() -> None:
    log = small_log(**{"message.timestamp.before.max.ms": 1000, "message.timestamp.after.max.ms": 500})
    log.append([Record(None, b"ok", timestamp=9000)], now_ms=10_000)
    log.append([Record(None, b"ok", timestamp=10_500)], now_ms=10_000)
    with pytest.raises(InvalidTimestampError, match=r"Timestamp 8999 .* within \[9000, 10500\]"):
        log.append([Record(None, b"late", timestamp=8999)], now_ms=10_000)
    with pytest.raises(InvalidTimestampError):
        log.append([Record(None, b"early", timestamp=10_501)], now_ms=10_000)
    assert log.log_end_offset == 2  # a refused batch takes no offsets
    stamped = small_log(**{"message.timestamp.type": "LogAppendTime", "message.timestamp.after.max.ms": 0})
    assert stamped.append([Record(None, b"x", timestamp=10**12)], now_ms=1).log_append_time == 1  # not checked


def test_errors_name_the_limit_and_take_no_offsets() -> None:
    log = PartitionLog("t", 0, TopicConfig({"max.message.bytes": 100}))
    with pytest.raises(MessageTooLargeError, match=r"is \d+ bytes, larger than max.message.bytes=100"):
        log.append([Record(None, b"x" * 200)], 0)
    assert log.log_end_offset == 0 and log.size_in_bytes == 0


def test_repr_html_shows_segments_and_offsets() -> None:
    log = small_log(**{"retention.ms": 1000})
    fill(log, 10)
    log.delete_retention_breached_segments(now_ms=1500)
    page = log._repr_html_()
    assert f"log start offset = {log.log_start_offset}" in page and "log end offset = 10" in page
    for segment in log.segments:
        assert segment.file_name in page
    assert "active" in page and "orders-0" in page


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
    assert log.segments[0].base_offset <= log.log_start_offset
    for closed, following in zip(log.segments, log.segments[1:]):
        assert closed.next_offset == following.base_offset


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    ops=operations,
    retention_ms=st.integers(min_value=-1, max_value=3000),
    retention_bytes=st.integers(min_value=-1, max_value=1500),
    deletes=st.lists(st.integers(min_value=0, max_value=30), max_size=3),
)
def test_property_every_offset_read_once_and_never_reused(
    ops: list[tuple[str, int]], retention_ms: int, retention_bytes: int, deletes: list[int]
) -> None:
    """A model: the dict of offsets that still exist. Retention and DeleteRecords only remove a prefix."""
    log = small_log(**{"retention.ms": retention_ms, "retention.bytes": retention_bytes})
    model: dict[int, bytes] = {}
    now = 0
    for op, amount in ops + [("delete", d) for d in deletes]:
        if op == "append":
            values = [f"{now}-{i}".encode() for i in range(amount)]
            info = log.append([Record(None, v) for v in values], now_ms=now)
            assert info.first_offset not in model and info.first_offset == log.log_end_offset - amount
            model.update(zip(range(info.first_offset, info.last_offset + 1), values))
        elif op == "wait":
            now += amount
        elif op == "retention":
            log.delete_retention_breached_segments(now)
        else:
            log.delete_records(min(amount, log.log_end_offset))
        for offset in [o for o in model if o < log.log_start_offset]:
            del model[offset]
        got = log.read(log.log_start_offset)
        assert {r.offset: r.value for r in got} == model, "a read returns exactly what was appended and not deleted"
        assert sum(s.size_in_bytes for s in log.segments) == log.size_in_bytes
