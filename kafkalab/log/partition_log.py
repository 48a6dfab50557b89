"""The partition log: an append-only sequence of records, numbered by offsets, kept in segments.

State::

    log_start_offset ─┐                                     ┌─ log_end_offset (the next offset)
                      [ segment 0 | segment 40 | segment 97 (active) ]

* ``append`` gives each record the next offset. The broker assigns offsets, never the producer,
  and an offset is never reused — not even after retention deleted the record that had it.
  Before appending, the broker checks the batch (max.message.bytes, segment.bytes, CreateTime
  timestamps within message.timestamp.before/after.max.ms) and rolls the active segment if the
  batch would not fit or the segment is older than segment.ms. Under LogAppendTime the broker
  stamps the batch with its own clock.
* ``read`` returns records from an offset; an offset outside
  ``[log_start_offset, log_end_offset]`` is OFFSET_OUT_OF_RANGE (the log end offset itself is
  fine: nothing there yet). ``max_bytes`` counts whole batches and always lets the first one
  through, even if bigger (KIP-74), so a consumer can never get stuck behind a large batch.
* Retention (``delete_retention_breached_segments``, run by the broker every
  log.retention.check.interval.ms) deletes whole segments, oldest first: first while the partition
  is bigger than ``retention.bytes``, then while a segment's largest timestamp is older than
  ``retention.ms``. It stops at the first segment to keep and never deletes an empty active
  segment; a non-empty active segment can go (a new empty one is rolled first). The log start
  offset moves to the first segment left.
* DeleteRecords (``delete_records``) moves the log start offset forward on request; segments
  wholly below it are dropped.
* Nothing edits a record in place: ``update``, ``log[offset] = ...`` and ``del log[offset]`` raise
  ImmutableLogError.

Kafka: org.apache.kafka.storage.internals.log.UnifiedLog (append, read, deleteOldSegments,
deleteRetentionSizeBreachedSegments, deleteRetentionMsBreachedSegments, deleteSegments,
maybeIncrementLogStartOffset), LocalLog (roll, deletableSegments), LogValidator (timestamps,
LogAppendTime); config keys segment.bytes, segment.ms, retention.ms, retention.bytes,
max.message.bytes, message.timestamp.type, message.timestamp.{before,after}.max.ms (KIP-937);
KIP-74 (fetch max_bytes), KIP-107 (DeleteRecords).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from kafkalab.config import TopicConfig
from kafkalab.errors import (
    ImmutableLogError,
    InvalidTimestampError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    RecordListTooLargeError,
)
from kafkalab.log.segment import LogSegment
from kafkalab.record import NO_TIMESTAMP, CompressionType, Header, Record, RecordBatch, TimestampType


@dataclass(frozen=True)
class StoredRecord:
    """A record as a consumer sees it: where it is (topic, partition, offset) and what it holds."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: TimestampType
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    # Filled in by the broker from its transaction index (Kafka keeps them in the batch header):
    producer_id: int = -1
    is_transactional: bool = False
    is_control: bool = False  # a COMMIT/ABORT marker: consumers never return it
    leader_epoch: int = -1  # the leader epoch it was written in (the batch's partitionLeaderEpoch)
    producer_epoch: int = -1
    sequence: int = -1  # the idempotent producer's sequence number of this record


@dataclass(frozen=True)
class AppendInfo:
    """What the broker answers a producer: the offsets given, and the LogAppendTime if used (else -1)."""

    first_offset: int
    last_offset: int
    log_append_time: int = -1


class PartitionLog:
    """One partition's log (a replica's local log), in memory."""

    def __init__(self, topic: str, partition: int, config: TopicConfig | None = None, now_ms: int = 0) -> None:
        self.topic = topic
        self.partition = partition
        self.config = config or TopicConfig()
        self.log_start_offset = 0
        self.log_end_offset = 0
        self.segments: list[LogSegment] = [LogSegment(base_offset=0, created_ms=now_ms)]

    # -- the parts a learner writes (exercise ex01) -------------------------------------------
    def append(self, records: Sequence[Record], now_ms: int, compression: CompressionType = CompressionType.NONE) -> AppendInfo:
        """Give ``records`` the next offsets, store them as one batch, and return the offsets used."""
        # BEGIN EXERCISE ex01_partition_log
        if not records:
            raise ValueError("append needs at least one record")
        batch = self.make_batch(records, now_ms, compression)  # offsets start at log_end_offset
        size = self.validate_batch(batch, now_ms)
        if self.active_segment.should_roll(size, batch.max_timestamp, now_ms, self.config.segment_bytes, self.config.segment_ms):
            self.roll(now_ms)
        self.active_segment.append(batch, size, now_ms)
        self.log_end_offset = batch.next_offset
        log_append_time = batch.max_timestamp if batch.timestamp_type == TimestampType.LOG_APPEND_TIME else -1
        return AppendInfo(batch.base_offset, batch.last_offset, log_append_time)
        # END EXERCISE

    def read(self, fetch_offset: int, max_records: int | None = None, max_bytes: int | None = None) -> list[StoredRecord]:
        """Records from ``fetch_offset`` on (at most ``max_records``, whole batches up to ``max_bytes``); [] at the end."""
        # BEGIN EXERCISE ex01_partition_log
        if fetch_offset < self.log_start_offset or fetch_offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"offset {fetch_offset} of {self.topic}-{self.partition} is out of range "
                f"[{self.log_start_offset}, {self.log_end_offset}]"
            )
        result: list[StoredRecord] = []
        bytes_read = 0
        for batch, size in self.batches_from(fetch_offset):
            if max_bytes is not None and result and bytes_read + size > max_bytes:
                break  # whole batches up to max_bytes, but always the first one (KIP-74)
            bytes_read += size
            for record in batch.records:
                offset = batch.offset_of(record)
                if offset < fetch_offset:
                    continue  # the batch starts before the offset asked for
                if max_records is not None and len(result) >= max_records:
                    return result
                result.append(self.stored_record(batch, record))
        return result
        # END EXERCISE

    def delete_retention_breached_segments(self, now_ms: int) -> int:
        """Delete the oldest whole segments that break retention.bytes, then retention.ms; return how many."""
        # BEGIN EXERCISE ex01_partition_log
        candidates = self.deletable_segments()  # oldest first, without an empty active segment
        deletable: list[LogSegment] = []
        bytes_to_free = self.size_in_bytes - self.config.retention_bytes
        for segment in candidates:  # first retention.bytes: never go below the limit
            too_big = self.config.retention_bytes >= 0 and bytes_to_free - segment.size_in_bytes >= 0
            if not too_big:
                break  # retention stops at the first segment to keep
            bytes_to_free -= segment.size_in_bytes
            deletable.append(segment)
        for segment in candidates[len(deletable):]:  # then retention.ms, by the segment's newest timestamp
            too_old = self.config.retention_ms >= 0 and now_ms - segment.largest_timestamp > self.config.retention_ms
            if not too_old:
                break
            deletable.append(segment)
        self.delete_segments(deletable, now_ms)
        return len(deletable)
        # END EXERCISE

    # -- helpers the exercise uses (given) ----------------------------------------------------
    @property
    def active_segment(self) -> LogSegment:
        """The newest segment: the only one that takes appends."""
        return self.segments[-1]

    @property
    def size_in_bytes(self) -> int:
        return sum(segment.size_in_bytes for segment in self.segments)

    def batches_from(self, fetch_offset: int) -> Iterator[tuple[RecordBatch, int]]:
        """(batch, size in bytes) for the batch holding ``fetch_offset`` and all later ones, oldest first."""
        for segment in self.segments:
            if segment.next_offset > fetch_offset:
                yield from segment.batches_from(fetch_offset)

    def deletable_segments(self) -> list[LogSegment]:
        """Segments retention may delete, oldest first: all of them, except an empty active segment.

        (LocalLog.deletableSegments also stops at the high watermark; with one replica it is the
        log end offset, so nothing more is held back here.)
        """
        if self.active_segment.size_in_bytes == 0:
            return self.segments[:-1]
        return list(self.segments)

    def make_batch(self, records: Sequence[Record], now_ms: int, compression: CompressionType = CompressionType.NONE) -> RecordBatch:
        """A batch of ``records`` starting at the log end offset; stamped by the broker under LogAppendTime."""
        if self.config.log_append_time:
            return RecordBatch.of(
                records, base_offset=self.log_end_offset, base_timestamp=now_ms, compression=compression,
                timestamp_type=TimestampType.LOG_APPEND_TIME, log_append_time_ms=now_ms,
            )
        return RecordBatch.of(records, base_offset=self.log_end_offset, base_timestamp=now_ms, compression=compression)

    def validate_batch(self, batch: RecordBatch, now_ms: int) -> int:
        """Check size and timestamps as the broker does before appending; return the batch's size."""
        size = batch.size_in_bytes
        if size > self.config.max_message_bytes:
            raise MessageTooLargeError(
                f"the batch is {size} bytes, larger than max.message.bytes={self.config.max_message_bytes}"
            )
        if size > self.config.segment_bytes:
            raise RecordListTooLargeError(f"the batch is {size} bytes, larger than segment.bytes={self.config.segment_bytes}")
        if batch.timestamp_type == TimestampType.CREATE_TIME:  # LogValidator.validateTimestamp (KIP-937)
            earliest = now_ms - self.config["message.timestamp.before.max.ms"]
            latest = now_ms + self.config["message.timestamp.after.max.ms"]
            for record in batch.records:
                timestamp = batch.timestamp_of(record)
                if timestamp != NO_TIMESTAMP and (timestamp < earliest or timestamp > latest):
                    raise InvalidTimestampError(
                        f"Timestamp {timestamp} of message with offset {batch.offset_of(record)} is out of range. "
                        f"The timestamp should be within [{earliest}, {latest}] "
                        "(message.timestamp.before.max.ms / message.timestamp.after.max.ms)"
                    )
        return size

    def roll(self, now_ms: int) -> LogSegment:
        """Close the active segment and start a new one at the log end offset (LocalLog.roll)."""
        if self.active_segment.size_in_bytes == 0:
            return self.active_segment  # an empty active segment is reused, as Kafka does
        segment = LogSegment(base_offset=self.log_end_offset, created_ms=now_ms)
        self.segments.append(segment)
        return segment

    def delete_segments(self, deletable: Iterable[LogSegment], now_ms: int) -> None:
        """Remove whole segments (oldest first) and move the log start offset to the first one left."""
        deletable = list(deletable)
        if not deletable:
            return
        if len(deletable) == len(self.segments):
            self.roll(now_ms)  # a log always keeps one segment: roll a new, empty one first
        for segment in deletable:
            assert segment is self.segments[0], "retention deletes the oldest segments first"
            self.segments.pop(0)
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)

    def delete_records(self, before_offset: int, now_ms: int = 0) -> int:
        """The DeleteRecords API: move the log start offset up to ``before_offset``; return the new log start offset.

        As Kafka: an offset past the high watermark (here the log end offset) or below 0 is
        OFFSET_OUT_OF_RANGE; one at or below the log start offset changes nothing. Segments wholly
        below the new log start offset are dropped at once (Kafka drops them at its next retention
        check, deleteLogStartOffsetBreachedSegments); reads below it fail from now on.
        """
        if before_offset < 0 or before_offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"cannot delete records of {self.topic}-{self.partition} before offset {before_offset}: "
                f"it must be within [0, {self.log_end_offset}] (the high watermark)"
            )
        if before_offset > self.log_start_offset:
            self.log_start_offset = before_offset
            while len(self.segments) > 1 and self.segments[1].base_offset <= before_offset:
                self.segments.pop(0)
        return self.log_start_offset

    def truncate_to(self, offset: int) -> int:
        """Drop every record at ``offset`` and above (LocalLog.truncateTo): a follower discarding what
        the new leader does not have. Returns how many records were removed. The log start offset
        never moves; truncating below it empties the log and starts it again at ``offset``."""
        if offset >= self.log_end_offset:
            return 0
        removed = self.log_end_offset - max(offset, self.log_start_offset)
        if offset <= self.log_start_offset:
            self.segments = [LogSegment(base_offset=offset, created_ms=self.segments[0].created_ms)]
            self.log_start_offset = self.log_end_offset = offset
            return removed
        kept_segments = []
        for segment in self.segments:
            if segment.base_offset >= offset and kept_segments:
                continue
            batches = [(b, size) for b, size in zip(segment.batches, segment.batch_sizes) if b.base_offset < offset]
            segment.batches, segment.batch_sizes = [], []
            segment.size_in_bytes = 0
            for batch, size in batches:
                if batch.next_offset > offset:  # the batch holding ``offset`` keeps only what comes before it
                    before = batch.record_count
                    kept = [r for r in batch.records if batch.offset_of(r) < offset]
                    batch = RecordBatch.of(kept, base_offset=batch.base_offset, base_timestamp=batch.base_timestamp,
                                           compression=batch.compression, timestamp_type=batch.timestamp_type,
                                           producer_id=batch.producer_id, producer_epoch=batch.producer_epoch,
                                           base_sequence=batch.base_sequence, is_transactional=batch.is_transactional)
                    size = max(1, size * len(kept) // before)
                segment.batches.append(batch)
                segment.batch_sizes.append(size)
                segment.size_in_bytes += size
            kept_segments.append(segment)
        self.segments = kept_segments
        self.log_end_offset = offset
        return removed

    def stored_record(self, batch: RecordBatch, record: Record) -> StoredRecord:
        return StoredRecord(
            topic=self.topic, partition=self.partition, offset=batch.offset_of(record),
            timestamp=batch.timestamp_of(record), timestamp_type=batch.timestamp_type,
            key=record.key, value=record.value, headers=record.headers,
        )

    # -- what a log cannot do ------------------------------------------------------------------
    def update(self, offset: int, *args: Any, **kwargs: Any) -> None:
        """Kafka has no update: raises ImmutableLogError."""
        raise ImmutableLogError(
            f"records are immutable: offset {offset} of {self.topic}-{self.partition} cannot be changed. "
            "Append a new record instead (with the same key, a compacted topic keeps only the newest)."
        )

    def __setitem__(self, offset: int, value: Any) -> None:
        self.update(offset)

    def __delitem__(self, offset: int) -> None:
        raise ImmutableLogError(
            f"a single record (offset {offset}) cannot be deleted. Data leaves a partition only by retention "
            "(whole segments), compaction (older records of a key), or DeleteRecords (moving the log start offset)."
        )

    # -- looking at it -------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Plain data for widgets and tests."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "log_start_offset": self.log_start_offset,
            "log_end_offset": self.log_end_offset,
            "size_in_bytes": self.size_in_bytes,
            "segments": [
                {
                    "base_offset": segment.base_offset,
                    "next_offset": segment.next_offset,
                    "records": segment.record_count,
                    "size_in_bytes": segment.size_in_bytes,
                    "largest_timestamp": segment.largest_timestamp,
                    "active": segment is self.active_segment,
                    "file_name": segment.file_name,
                }
                for segment in self.segments
            ],
        }

    def __repr__(self) -> str:
        return (
            f"PartitionLog({self.topic}-{self.partition}: offsets [{self.log_start_offset}, {self.log_end_offset}), "
            f"{len(self.segments)} segment(s), {self.size_in_bytes} bytes)"
        )

    def _repr_html_(self) -> str:
        from kafkalab.log.view import partition_log_html

        return partition_log_html(self.describe())
