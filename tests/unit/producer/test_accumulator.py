"""The RecordAccumulator: batching by batch.size, readiness by linger.ms, memory, fair draining."""

from __future__ import annotations

import pytest

from kafkalab.producer.accumulator import BufferExhaustedError, ProducerClosedError, RecordAccumulator
from kafkalab.record import Record, decode_batch, encode_batch

LEADERS = {("t", 0): 0, ("t", 1): 0, ("t", 2): 1}


def record(size: int = 100) -> Record:
    return Record(b"k", b"v" * size)


def test_records_share_a_batch_until_batch_size() -> None:
    accumulator = RecordAccumulator(batch_size=1000)
    created = [accumulator.append("t", 0, record(), None, now_ms=0)[1] for _ in range(20)]
    assert created[0] and created.count(True) > 1
    batches = list(accumulator.batches[("t", 0)])
    assert all(batch.estimated_size <= 1000 for batch in batches)
    assert sum(batch.record_count for batch in batches) == 20


def test_a_big_record_gets_a_batch_of_its_own() -> None:
    accumulator = RecordAccumulator(batch_size=100)
    batch, created = accumulator.append("t", 0, record(5000), None, now_ms=0)
    assert created and batch.capacity > 5000 and batch.record_count == 1


def test_ready_after_linger_ms_or_when_full() -> None:
    accumulator = RecordAccumulator(batch_size=10_000, linger_ms=5)
    accumulator.append("t", 0, record(), None, now_ms=0)
    early = accumulator.ready(LEADERS, now_ms=3)
    assert early.ready_nodes == set() and early.next_ready_check_delay_ms == 2
    assert accumulator.ready(LEADERS, now_ms=5).ready_nodes == {0}
    full = RecordAccumulator(batch_size=500, linger_ms=10_000)
    for _ in range(10):
        full.append("t", 2, record(), None, now_ms=0)
    assert full.ready(LEADERS, now_ms=0).ready_nodes == {1}


def test_flush_and_unknown_leaders() -> None:
    accumulator = RecordAccumulator(linger_ms=10_000)
    accumulator.append("t", 0, record(), None, now_ms=0)
    accumulator.append("other", 0, record(), None, now_ms=0)
    accumulator.begin_flush()
    check = accumulator.ready(LEADERS, now_ms=0)
    assert check.ready_nodes == {0} and check.unknown_leader_topics == {"other"}


def test_buffer_memory_is_reserved_and_returned() -> None:
    accumulator = RecordAccumulator(batch_size=1000, buffer_memory=2000)
    accumulator.append("t", 0, record(), None, now_ms=0)
    accumulator.append("t", 1, record(), None, now_ms=0)
    with pytest.raises(BufferExhaustedError, match="buffer.memory=2000"):
        accumulator.append("t", 2, record(), None, now_ms=0)
    assert accumulator.ready(LEADERS, now_ms=0).ready_nodes == {0}  # exhausted memory makes batches sendable
    drained = accumulator.drain(LEADERS, {0}, max_request_size=1_000_000, now_ms=0)
    for batch in drained[0]:
        accumulator.deallocate(batch)
    assert accumulator.available_memory == 2000
    accumulator.append("t", 2, record(), None, now_ms=0)


def test_drain_is_round_robin_and_bounded_by_max_request_size() -> None:
    accumulator = RecordAccumulator(batch_size=300, linger_ms=0)
    for _ in range(6):
        accumulator.append("t", 0, record(), None, now_ms=0)
        accumulator.append("t", 1, record(), None, now_ms=0)
    first = accumulator.drain(LEADERS, {0}, max_request_size=300, now_ms=0)[0]
    second = accumulator.drain(LEADERS, {0}, max_request_size=300, now_ms=0)[0]
    assert [b.partition for b in first] == [0] and [b.partition for b in second] == [1]
    both = accumulator.drain(LEADERS, {0}, max_request_size=10_000, now_ms=0)[0]
    assert sorted(b.partition for b in both) == [0, 1]


def test_a_retried_batch_goes_first_and_waits_retry_backoff() -> None:
    accumulator = RecordAccumulator(linger_ms=0, retry_backoff_ms=100)
    accumulator.append("t", 0, record(), None, now_ms=0)
    batch = accumulator.drain(LEADERS, {0}, 1_000_000, now_ms=0)[0][0]
    accumulator.append("t", 0, record(), None, now_ms=10)
    accumulator.reenqueue(batch, now_ms=20)
    assert accumulator.batches[("t", 0)][0] is batch
    assert accumulator.ready(LEADERS, now_ms=50).ready_nodes == set()
    assert accumulator.ready(LEADERS, now_ms=120).ready_nodes == {0}
    assert accumulator.drain(LEADERS, {0}, 1_000_000, now_ms=120)[0][0] is batch and batch.attempts == 2


def test_expired_batches_and_close() -> None:
    accumulator = RecordAccumulator(delivery_timeout_ms=1000)
    accumulator.append("t", 0, record(), None, now_ms=0)
    assert accumulator.expired_batches(now_ms=999) == []
    assert len(accumulator.expired_batches(now_ms=1000)) == 1
    accumulator.close()
    with pytest.raises(ProducerClosedError):
        accumulator.append("t", 0, record(), None, now_ms=0)


def test_a_closed_batch_encodes_to_the_records_appended() -> None:
    accumulator = RecordAccumulator()
    for i in range(3):
        accumulator.append("t", 0, Record(None, str(i).encode()), None, now_ms=7)
    batch = accumulator.batches[("t", 0)][0]
    decoded = decode_batch(encode_batch(batch.close()))
    assert [r.value for r in decoded.records] == [b"0", b"1", b"2"] and decoded.base_timestamp == 7
