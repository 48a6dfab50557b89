"""A log segment: one file's worth of a partition's batches.

A partition is a list of segments. Only the newest, the *active* segment, takes appends; the
others are closed. Retention deletes whole segments, never single records, so a segment's base
offset is where the log start offset moves when the segment before it goes.

What Kafka keeps per segment, and so do we: the base offset (the file name,
``00000000000000000042.log``), the batches, the size in bytes, the largest timestamp (for
time-based retention) and the timestamp of the first batch (for time-based rolling).

Kafka: org.apache.kafka.storage.internals.log.LogSegment (shouldRoll, largestTimestamp,
rollingBasedTimestamp); the ``.index`` and ``.timeindex`` files come with on-disk storage (issue 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkalab.record import NO_TIMESTAMP, RecordBatch


@dataclass
class LogSegment:
    """A segment in memory: its batches, their total size and timestamps."""

    base_offset: int
    created_ms: int
    batches: list[RecordBatch] = field(default_factory=list)
    size_in_bytes: int = 0
    largest_timestamp: int = NO_TIMESTAMP
    rolling_based_timestamp: int | None = None

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

    def append(self, batch: RecordBatch, size_in_bytes: int) -> None:
        """Add a batch whose offsets follow this segment's last one."""
        assert batch.base_offset >= self.next_offset, f"batch at {batch.base_offset} would go below {self.next_offset}"
        if self.rolling_based_timestamp is None and batch.max_timestamp != NO_TIMESTAMP:
            self.rolling_based_timestamp = batch.max_timestamp
        self.batches.append(batch)
        self.size_in_bytes += size_in_bytes
        self.largest_timestamp = max(self.largest_timestamp, batch.max_timestamp)

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
