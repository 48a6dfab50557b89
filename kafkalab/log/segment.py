"""A log segment: one file's worth of a partition's batches.

A partition is a list of segments. Only the newest, the *active* segment, takes appends; the
others are closed. Retention deletes whole segments, never single records, so a segment's base
offset is where the log start offset moves when the segment before it goes.

What Kafka keeps per segment, and so do we: the base offset (the file name,
``00000000000000000042.log``), the batches, the size in bytes (each batch's v2 encoded size,
``kafkalab.record.RecordBatch.size_in_bytes``, as DefaultRecordBatch.sizeInBytes), the largest
record timestamp (for time-based retention), the first batch's timestamp (for time-based rolling),
the time the segment was created and last written (the file's mtime).

Two Kafka rules worth knowing, both here:

* ``should_roll``: roll when the incoming batch would not fit (``size > segment.bytes - incoming``)
  or when the segment is non-empty and has waited *more* than ``segment.ms`` — measured from the
  first batch's max timestamp to the incoming batch's max timestamp (record time), or from the
  creation time to now when the first batch had no timestamp. ``segment.jitter.ms`` (default 0) is
  not simulated, nor are the index-full and relative-offset-overflow reasons.
* ``largest_timestamp``: the largest record timestamp, or the file's last-modified time when no
  record has one. Retention by time compares *this* with ``retention.ms``, so one record stamped
  far in the future keeps its whole segment alive.

Kafka: org.apache.kafka.storage.internals.log.LogSegment (shouldRoll, timeWaitedForRoll,
largestTimestamp, loadFirstBatchTimestamp / rollingBasedTimestamp, lastModified), RollParams;
the ``.index`` and ``.timeindex`` files come with on-disk storage (issue 7).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterator

from kafkalab.record import NO_TIMESTAMP, RecordBatch


@dataclass
class LogSegment:
    """A segment in memory: its batches, their total size and timestamps."""

    base_offset: int
    created_ms: int
    batches: list[RecordBatch] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)  # each batch's encoded size, as measured on append
    size_in_bytes: int = 0
    max_timestamp_so_far: int = NO_TIMESTAMP
    rolling_based_timestamp: int | None = None
    last_modified_ms: int | None = None

    def __post_init__(self) -> None:
        if self.last_modified_ms is None:
            self.last_modified_ms = self.created_ms

    @property
    def file_name(self) -> str:
        """The segment's file name in Kafka's layout: the base offset, zero-padded to 20 digits."""
        return f"{self.base_offset:020d}.log"

    @property
    def next_offset(self) -> int:
        """One past the last offset held (the base offset when empty)."""
        return self.batches[-1].next_offset if self.batches else self.base_offset

    @property
    def record_count(self) -> int:
        return sum(batch.record_count for batch in self.batches)

    @property
    def largest_timestamp(self) -> int:
        """LogSegment.largestTimestamp: the largest record timestamp, else the last-modified time."""
        if self.max_timestamp_so_far >= 0:
            return self.max_timestamp_so_far
        assert self.last_modified_ms is not None
        return self.last_modified_ms

    def append(self, batch: RecordBatch, size_in_bytes: int, now_ms: int | None = None) -> None:
        """Add a batch whose offsets follow this segment's last one (``now_ms`` is the file's new mtime)."""
        assert batch.base_offset >= self.next_offset, f"batch at {batch.base_offset} would go below {self.next_offset}"
        if not self.batches:
            self.rolling_based_timestamp = batch.max_timestamp  # the first batch's, even if NO_TIMESTAMP
        self.batches.append(batch)
        self.batch_sizes.append(size_in_bytes)
        self.size_in_bytes += size_in_bytes
        self.max_timestamp_so_far = max(self.max_timestamp_so_far, batch.max_timestamp)
        if now_ms is not None:
            self.last_modified_ms = now_ms

    def batches_from(self, offset: int) -> Iterator[tuple[RecordBatch, int]]:
        """(batch, size in bytes) for the batch holding ``offset`` and every later one (binary search: the offset index)."""
        start = max(0, bisect.bisect_right(self.batches, offset, key=lambda batch: batch.base_offset) - 1)
        for batch, size in zip(self.batches[start:], self.batch_sizes[start:]):
            if batch.next_offset > offset:
                yield batch, size

    def time_waited_for_roll(self, now_ms: int, incoming_timestamp: int) -> int:
        """LogSegment.timeWaitedForRoll: by record timestamps when known, else by wall (simulated) time."""
        if self.rolling_based_timestamp is not None and self.rolling_based_timestamp >= 0:
            return incoming_timestamp - self.rolling_based_timestamp
        return now_ms - self.created_ms

    def should_roll(self, incoming_bytes: int, incoming_timestamp: int, now_ms: int, segment_bytes: int, segment_ms: int) -> bool:
        """LogSegment.shouldRoll: full (the batch would not fit) or old enough (segment.ms)."""
        too_full = self.size_in_bytes > segment_bytes - incoming_bytes
        too_old = self.size_in_bytes > 0 and self.time_waited_for_roll(now_ms, incoming_timestamp) > segment_ms
        return too_full or too_old
