"""A producer batch: records for one partition, collected until the sender takes them.

The producer's batches are what the record batch format (chapter 02) carries over the wire. While
it fills, a batch tracks its estimated size against ``batch.size``; it is *full* when the next
record would not fit. Records without room start a new batch; a single record larger than
``batch.size`` gets a batch of its own.

Kafka: org.apache.kafka.clients.producer.internals.ProducerBatch (tryAppend, isFull,
waitedTimeMs, attempts, reenqueued), MemoryRecordsBuilder (hasRoomFor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.record import RECORD_BATCH_OVERHEAD, CompressionType, Header, Record, RecordBatch

Callback = Callable[[Any, Exception | None], None]


def record_size_upper_bound(key: bytes | None, value: bytes | None, headers: tuple[Header, ...]) -> int:
    """Kafka's DefaultRecord.sizeInUpperBound: the record's size with the largest varints for deltas."""
    size = 1 + 10 + 5  # attributes, a varlong timestamp delta, a varint offset delta (their largest sizes)
    for part in (key, value):
        size += 5 + (len(part) if part is not None else 0)
    size += 5
    for header in headers:
        size += 5 + len(header.key.encode("utf-8")) + 5 + (len(header.value) if header.value is not None else 0)
    return size + 5  # the record's own length varint


@dataclass
class ProducerBatch:
    """Records bound for one topic-partition, with the callbacks to fire when the broker answers."""

    topic: str
    partition: int
    created_ms: int
    capacity: int  # bytes this batch may grow to (batch.size, or one oversized record)
    compression: CompressionType = CompressionType.NONE
    records: list[Record] = field(default_factory=list)
    callbacks: list[Callback | None] = field(default_factory=list)
    estimated_size: int = RECORD_BATCH_OVERHEAD
    attempts: int = 0
    last_attempt_ms: int = -1
    retry: bool = False
    closed: bool = False
    base_sequence: int = -1  # set when first drained by an idempotent producer, then kept across retries
    producer_id: int = -1
    producer_epoch: int = -1
    transactional: bool = False  # part of a transaction (set with the producer id at the first drain)

    def try_append(self, record: Record, callback: Callback | None, now_ms: int) -> bool:
        """Add the record if it fits (an empty batch always takes one record)."""
        if self.closed:
            return False
        size = record_size_upper_bound(record.key, record.value, record.headers)
        if self.records and self.estimated_size + size > self.capacity:
            return False
        self.records.append(record)
        self.callbacks.append(callback)
        self.estimated_size += size
        return True

    def is_full(self) -> bool:
        """No room for even a tiny record: ``deque.size() > 1 || batch.isFull()`` makes it sendable."""
        return self.closed or self.estimated_size + record_size_upper_bound(None, b"", ()) > self.capacity

    def waited_ms(self, now_ms: int) -> int:
        """Time since creation, or since the last attempt for a retry (ProducerBatch.waitedTimeMs)."""
        return max(0, now_ms - (self.last_attempt_ms if self.retry else self.created_ms))

    def close(self) -> RecordBatch:
        """No more appends: build the record batch the sender will put in a ProduceRequest."""
        self.closed = True
        return RecordBatch.of(
            self.records, base_timestamp=self.created_ms, compression=self.compression,
            producer_id=self.producer_id, producer_epoch=self.producer_epoch, base_sequence=self.base_sequence,
            is_transactional=self.transactional,
        )

    @property
    def record_count(self) -> int:
        return len(self.records)
