"""A partition's log on disk, in Kafka's layout: what the TCP server stores produced batches in.

Directory ``<log.dir>/<topic>-<partition>/``::

    00000000000000000000.log         batches exactly as received (offsets and leader epoch patched in)
    00000000000000000000.index       last offset → position, every index.interval.bytes
    00000000000000000000.timeindex   largest timestamp so far → offset
    00000000000000001042.log …       the next segment, named by its base offset
    leader-epoch-checkpoint          epoch → start offset
    partition.metadata               the topic id

Same semantics as the simulator's :class:`kafkalab.log.PartitionLog` (offsets, rolling by
segment.bytes / segment.ms, retention by whole segments, DeleteRecords, truncation, KIP-74,
max.message.bytes, timestamp checks, LogAppendTime), plus the byte paths a real broker uses:

* ``append_raw`` — the leader's path. The batch stays the bytes the producer sent: the broker
  writes the offsets it assigns into ``baseOffset`` and its epoch into ``partitionLeaderEpoch``,
  two fields outside the CRC, and appends. No record is decoded (only a CreateTime batch whose
  timestamps might break message.timestamp.{before,after}.max.ms is looked into).
* ``append_as_follower`` — offsets already set by the leader; the batch must start at the log end.
* ``read_raw`` — whole batches from the one holding ``fetch_offset``, found through the offset
  index, cut before the first batch at or past ``max_offset`` (the high watermark), up to
  ``max_bytes`` but always at least one batch (KIP-74): one ``pread``. Like Kafka, a read returns
  data from one segment; the next fetch continues in the next.

``read`` and ``append`` (records in, records out) serve record-level callers: the coordinators,
the simulator's broker code, tests.

Loading (LogLoader): segments are found by their file names; after a clean shutdown their index
files are trusted (after a sanity check). After an unclean one, every segment from the one holding
the *recovery point* (the offset up to which everything was fsynced) is recovered: batches read
and CRC-checked, the file cut at the first torn or corrupt batch, later segments dropped, indexes
rebuilt. Rolling a segment fsyncs the old one and moves the recovery point to the new segment's
base offset (Kafka does it on a background thread); ``flush`` moves it to the log end offset.

Course simplifications, said out loud: deleted segments are removed at once (Kafka renames them
``.deleted`` and removes them file.delete.delay.ms later); there is no producer-state snapshot or
transaction index; cleanup.policy=compact keeps everything (no cleaner).

Kafka: org.apache.kafka.storage.internals.log.UnifiedLog (append, appendAsLeader, appendAsFollower,
read, fetchOffsetByTimestamp, deleteOldSegments, maybeIncrementLogStartOffset, truncateTo,
truncateFullyAndStartAt, roll, flush), LocalLog, LogLoader (recoverLog), LogValidator
(assignOffsetsNonCompressed, validateTimestamp); config keys segment.bytes, segment.ms,
retention.bytes, retention.ms, max.message.bytes, message.timestamp.*, index.interval.bytes.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from kafkalab.config import TopicConfig
from kafkalab.errors import (
    ImmutableLogError,
    InvalidRecordError,
    InvalidTimestampError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    RecordListTooLargeError,
)
from kafkalab.log.partition_log import AppendInfo, StoredRecord
from kafkalab.record import NO_TIMESTAMP, CompressionType, Record, RecordBatch, TimestampType, encode_batch
from kafkalab.record.raw import RawRecordBatch, split_batches
from kafkalab.storage.files import (
    LEADER_EPOCH_CHECKPOINT,
    PARTITION_METADATA,
    FileHandleCache,
    StorageError,
    fsync_directory,
    read_partition_metadata,
    write_partition_metadata,
)
from kafkalab.storage.index import DEFAULT_INDEX_INTERVAL_BYTES, CorruptIndexError
from kafkalab.storage.leader_epoch import LeaderEpochCache
from kafkalab.storage.segment import DiskLogSegment

_SEGMENT_FILE = re.compile(r"^(\d{20})\.log$")
DELETE_DIR_SUFFIX = "-delete"


class UnexpectedAppendOffsetError(Exception):
    """A follower's batch does not start at the log end offset (UnexpectedAppendOffsetException)."""


def partition_dir_name(topic: str, partition: int) -> str:
    """``<topic>-<partition>``: the directory of one partition's log (UnifiedLog.logDirName)."""
    return f"{topic}-{partition}"


def delete_dir_name(topic: str, partition: int) -> str:
    """``<topic>-<partition>.<uuid>-delete``, capped at 255 characters (UnifiedLog.logDeleteDirName)."""
    suffix = f"-{partition}.{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
    return topic[: max(0, 255 - len(suffix))] + suffix


class DiskPartitionLog:
    """One partition's log in segment files (Kafka's UnifiedLog over LocalLog)."""

    def __init__(self, log_dir: Path | str, topic: str, partition: int, config: TopicConfig | None = None, now_ms: int = 0,
                 *, files: FileHandleCache | None = None, had_clean_shutdown: bool = False, recovery_point: int = 0,
                 log_start_offset: int = 0, topic_id: str | None = None,
                 index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> None:
        """Open (loading or recovering) or create ``<log_dir>/<topic>-<partition>``."""
        self.topic = topic
        self.partition = partition
        self.config = config or TopicConfig()
        self.dir = Path(log_dir) / partition_dir_name(topic, partition)
        self.files = files or FileHandleCache()
        self.index_interval_bytes = index_interval_bytes
        self.deleted = False
        self.on_deleted: Callable[["DiskPartitionLog"], None] | None = None
        self.recovery_report: list[str] = []
        self.dir.mkdir(parents=True, exist_ok=True)
        self.epoch_cache = LeaderEpochCache(self.dir / LEADER_EPOCH_CHECKPOINT)
        self.topic_id = read_partition_metadata(self.dir / PARTITION_METADATA)
        if topic_id is not None:
            self.assign_topic_id(topic_id)
        self.segments: list[DiskLogSegment] = self._load_segments(now_ms, had_clean_shutdown, recovery_point)
        if not self.segments:
            self.segments = [self._new_segment(log_start_offset, now_ms)]
        self.log_end_offset = self.segments[-1].next_offset
        self.log_start_offset = min(max(log_start_offset, self.segments[0].base_offset), self.log_end_offset)
        self.recovery_point = self.log_end_offset  # recovered segments were fsynced by _load_segments
        self.epoch_cache.truncate_from_end(self.log_end_offset)
        self.epoch_cache.truncate_from_start(self.log_start_offset)

    # -- loading (LogLoader) ---------------------------------------------------------------------
    def _new_segment(self, base_offset: int, now_ms: int) -> DiskLogSegment:
        return DiskLogSegment.create(self.dir, base_offset, self.files, now_ms, self.index_interval_bytes)

    def _load_segments(self, now_ms: int, clean: bool, recovery_point: int) -> list[DiskLogSegment]:
        bases = sorted(int(m.group(1)) for m in map(_SEGMENT_FILE.match, os.listdir(self.dir)) if m)
        for stale in self.dir.glob("*.tmp"):
            stale.unlink(missing_ok=True)  # a checkpoint write that a crash interrupted
        segments: list[DiskLogSegment] = []
        recover_from: int | None = None  # the first segment to recover; every later one is recovered too
        for i, base in enumerate(bases):
            below_recovery_point = i + 1 < len(bases) and bases[i + 1] <= recovery_point
            if recover_from is None and (clean or below_recovery_point):
                try:
                    segments.append(DiskLogSegment.open_existing(self.dir, base, self.files, now_ms, self.index_interval_bytes))
                    continue
                except CorruptIndexError as bad:
                    self.recovery_report.append(f"{self.dir.name}: rebuilding the indexes of segment {base} ({bad})")
            segments.append(DiskLogSegment.open_for_recovery(self.dir, base, self.files, now_ms, self.index_interval_bytes))
            if recover_from is None:
                recover_from = len(segments) - 1
        if recover_from is not None:
            self._recover(segments, recover_from)
        return segments

    def _recover(self, segments: list[DiskLogSegment], first: int) -> None:
        """LogLoader.recoverLog: recover segments from ``first`` on; after one that lost bytes, drop the rest."""
        def assign_epoch(batch: RawRecordBatch) -> None:
            if batch.partition_leader_epoch >= 0:
                self.epoch_cache.assign(batch.partition_leader_epoch, batch.base_offset)

        i = first
        while i < len(segments):
            segment = segments[i]
            truncated = segment.recover(assign_epoch)
            segment.flush()
            if truncated:
                self.recovery_report.append(
                    f"{self.dir.name}: segment {segment.base_offset}: cut {truncated} invalid byte(s) after offset "
                    f"{segment.next_offset - 1} (a torn or corrupt batch at byte {segment.size_in_bytes})")
                for later in segments[i + 1:]:
                    self.recovery_report.append(f"{self.dir.name}: deleting segment {later.base_offset}, after the cut")
                    later.delete()
                del segments[i + 1:]
            i += 1
        fsync_directory(self.dir)

    def assign_topic_id(self, topic_id: str) -> None:
        """Record the topic id in ``partition.metadata``; a different id already there is an error."""
        if self.topic_id is not None and self.topic_id != topic_id:
            raise StorageError(f"{self.dir / PARTITION_METADATA}: topic id {self.topic_id} on disk, "
                               f"but {self.topic}'s topic id is {topic_id} (InconsistentTopicIdException)")
        if self.topic_id is None:
            write_partition_metadata(self.dir / PARTITION_METADATA, topic_id)
            self.topic_id = topic_id

    def update_config(self, config: TopicConfig) -> None:
        self.config = config

    # -- the leader's and the follower's appends -----------------------------------------------------
    def append(self, records: Sequence[Record], now_ms: int, compression: CompressionType = CompressionType.NONE) -> AppendInfo:
        """Give ``records`` the next offsets, stored as one new batch (for callers that hold records)."""
        if not records:
            raise ValueError("append needs at least one record")
        batch = RecordBatch.of(records, base_offset=self.log_end_offset, base_timestamp=now_ms, compression=compression)
        return self.append_raw(RawRecordBatch(encode_batch(batch)), now_ms)

    def append_raw(self, batch: RawRecordBatch, now_ms: int, leader_epoch: int = -1) -> AppendInfo:
        """Append a batch as received (the CRC was checked by the caller): offsets from the log end offset
        patched into its header, LogAppendTime stamped if the topic asks, then written (appendAsLeader)."""
        if batch.record_count <= 0:
            raise InvalidRecordError("a produced batch must hold at least one record")
        self._validate_size(batch.size_in_bytes)
        base_offset = self.log_end_offset
        log_append_time = -1
        if self.config.log_append_time:
            batch = batch.with_log_append_time(now_ms)
            log_append_time = now_ms
        else:
            self._validate_timestamps(batch, base_offset, now_ms)
        batch = batch.with_offsets(base_offset, leader_epoch)
        self._write_batch(batch, now_ms)
        if leader_epoch >= 0:
            self.epoch_cache.assign(leader_epoch, base_offset)
        return AppendInfo(base_offset, batch.last_offset, log_append_time)

    def append_as_follower(self, batch: RawRecordBatch, now_ms: int = 0) -> AppendInfo:
        """Append a batch the leader already numbered (appendAsFollower): it must start at the log end offset."""
        if batch.base_offset != self.log_end_offset:
            raise UnexpectedAppendOffsetError(
                f"{self.topic}-{self.partition}: the batch starts at offset {batch.base_offset}, "
                f"but the log end offset is {self.log_end_offset}")
        batch.ensure_valid()
        self._write_batch(batch, now_ms)
        self.epoch_cache.assign(batch.partition_leader_epoch, batch.base_offset)
        return AppendInfo(batch.base_offset, batch.last_offset,
                          batch.max_timestamp if batch.timestamp_type == TimestampType.LOG_APPEND_TIME else -1)

    def append_batches_as_follower(self, data: bytes, now_ms: int = 0) -> int:
        """Append every whole batch of a fetched chunk at or past the log end offset; return how many."""
        count = 0
        for batch in split_batches(data, allow_truncated_tail=True):
            if batch.next_offset <= self.log_end_offset:
                continue  # already here (a fetch from inside a batch we have)
            self.append_as_follower(batch, now_ms)
            count += 1
        return count

    def _write_batch(self, batch: RawRecordBatch, now_ms: int) -> None:
        segment = self.active_segment
        if segment.should_roll(batch.size_in_bytes, batch.max_timestamp, batch.last_offset, now_ms,
                               self.config.segment_bytes, self.config.segment_ms):
            segment = self.roll(now_ms)
        segment.append(batch.data, batch.last_offset, batch.max_timestamp, now_ms)
        self.log_end_offset = batch.next_offset

    def _validate_size(self, size: int) -> None:
        if size > self.config.max_message_bytes:
            raise MessageTooLargeError(f"the batch is {size} bytes, larger than max.message.bytes={self.config.max_message_bytes}")
        if size > self.config.segment_bytes:
            raise RecordListTooLargeError(f"the batch is {size} bytes, larger than segment.bytes={self.config.segment_bytes}")

    def _validate_timestamps(self, batch: RawRecordBatch, base_offset: int, now_ms: int) -> None:
        """LogValidator.validateTimestamp (KIP-937) without decoding when the header settles it.

        ``maxTimestamp`` bounds every record from above; only a finite message.timestamp.before.max.ms
        (or a max above the allowed future) needs the records looked at.
        """
        earliest = now_ms - self.config["message.timestamp.before.max.ms"]
        latest = now_ms + self.config["message.timestamp.after.max.ms"]
        if batch.max_timestamp <= latest and earliest <= NO_TIMESTAMP:
            return
        decoded = batch.decoded
        for record in decoded.records:
            timestamp = decoded.timestamp_of(record)
            if timestamp != NO_TIMESTAMP and (timestamp < earliest or timestamp > latest):
                raise InvalidTimestampError(
                    f"Timestamp {timestamp} of message with offset {base_offset + record.offset_delta} is out of range. "
                    f"The timestamp should be within [{earliest}, {latest}] "
                    "(message.timestamp.before.max.ms / message.timestamp.after.max.ms)")

    # -- reads -------------------------------------------------------------------------------------
    def _check_offset(self, fetch_offset: int) -> None:
        if fetch_offset < self.log_start_offset or fetch_offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"offset {fetch_offset} of {self.topic}-{self.partition} is out of range "
                f"[{self.log_start_offset}, {self.log_end_offset}]")

    def _segment_index_for(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.segments, offset, key=lambda s: s.base_offset) - 1)

    def read_raw(self, fetch_offset: int, max_bytes: int | None = None, max_offset: int | None = None) -> bytes:
        """Whole stored batches from the one holding ``fetch_offset``: none starting at or past
        ``max_offset``, up to ``max_bytes`` but at least one batch (KIP-74); b"" at the end."""
        self._check_offset(fetch_offset)
        if max_offset is not None and fetch_offset >= max_offset:
            return b""
        for segment in self.segments[self._segment_index_for(fetch_offset):]:
            first = segment.translate_offset(fetch_offset)
            if first is None:
                continue  # past this segment's last batch: the next segment holds it
            start, end = first.position, segment.size_in_bytes
            if max_offset is not None and max_offset < segment.next_offset:
                end = segment.end_position_before(max_offset)
            if max_bytes is not None and end - start > max_bytes:
                end = max(segment.last_boundary_within(start, start + max_bytes), start + first.size)
            return segment.read_bytes(start, end)
        return b""

    def iter_batches(self, fetch_offset: int) -> Iterator[RawRecordBatch]:
        """Every stored batch from the one holding ``fetch_offset`` on, across segments."""
        self._check_offset(fetch_offset)
        for segment in self.segments[self._segment_index_for(fetch_offset):]:
            first = segment.translate_offset(fetch_offset)
            if first is None:
                continue
            for _, data in segment.iter_batch_bytes(first.position):
                yield RawRecordBatch(data)

    def read(self, fetch_offset: int, max_records: int | None = None, max_bytes: int | None = None) -> list[StoredRecord]:
        """Records from ``fetch_offset`` on (at most ``max_records``, whole batches up to ``max_bytes``); [] at the end."""
        result: list[StoredRecord] = []
        bytes_read = 0
        for raw in self.iter_batches(fetch_offset):
            if max_bytes is not None and result and bytes_read + raw.size_in_bytes > max_bytes:
                break  # whole batches up to max_bytes, but always the first one (KIP-74)
            bytes_read += raw.size_in_bytes
            batch = raw.decoded
            for record in batch.records:
                offset = batch.offset_of(record)
                if offset < fetch_offset:
                    continue
                if max_records is not None and len(result) >= max_records:
                    return result
                result.append(self._stored_record(batch, record))
        return result

    def _stored_record(self, batch: RecordBatch, record: Record) -> StoredRecord:
        return StoredRecord(
            topic=self.topic, partition=self.partition, offset=batch.offset_of(record),
            timestamp=batch.timestamp_of(record), timestamp_type=batch.timestamp_type,
            key=record.key, value=record.value, headers=record.headers,
            producer_id=batch.producer_id, is_transactional=batch.is_transactional, is_control=batch.is_control,
            leader_epoch=batch.partition_leader_epoch, producer_epoch=batch.producer_epoch,
            sequence=batch.base_sequence + record.offset_delta if batch.base_sequence >= 0 else -1,
        )

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record stamped at or after ``timestamp`` (ListOffsets), via the time indexes."""
        if timestamp < 0:
            raise ValueError(f"timestamp {timestamp}: the special ListOffsets timestamps are the broker's to answer")
        for segment in self.segments:
            if segment.size_in_bytes and segment.largest_timestamp >= timestamp and segment.next_offset > self.log_start_offset:
                found = segment.find_offset_by_timestamp(timestamp, self.log_start_offset)
                if found is not None:
                    return found
        return None

    def end_offset_for_epoch(self, leader_epoch: int) -> tuple[int, int]:
        """OffsetsForLeaderEpoch from the leader epoch cache: (epoch, end offset), (-1, -1) if unknown."""
        return self.epoch_cache.end_offset_for(leader_epoch, self.log_end_offset)

    # -- segments: rolling, retention, DeleteRecords, truncation -------------------------------------------
    @property
    def active_segment(self) -> DiskLogSegment:
        return self.segments[-1]

    @property
    def size_in_bytes(self) -> int:
        return sum(segment.size_in_bytes for segment in self.segments)

    def roll(self, now_ms: int) -> DiskLogSegment:
        """Close the active segment (fsynced: the recovery point moves) and start one at the log end offset."""
        active = self.active_segment
        if active.size_in_bytes == 0:
            return active  # an empty active segment is reused, as Kafka does
        active.on_become_inactive()
        active.flush()
        segment = self._new_segment(self.log_end_offset, now_ms)
        self.segments.append(segment)
        fsync_directory(self.dir)
        self.recovery_point = max(self.recovery_point, segment.base_offset)
        return segment

    def deletable_segments(self) -> list[DiskLogSegment]:
        """The segments retention may delete, oldest first: all of them, except an empty active segment."""
        if self.active_segment.size_in_bytes == 0:
            return self.segments[:-1]
        return list(self.segments)

    def delete_retention_breached_segments(self, now_ms: int) -> int:
        """Delete the oldest whole segments that break retention.bytes, then retention.ms; return how many."""
        if "delete" not in self.config["cleanup.policy"]:
            return 0  # a compacted topic is never trimmed by retention
        candidates = self.deletable_segments()
        deletable: list[DiskLogSegment] = []
        bytes_to_free = self.size_in_bytes - self.config.retention_bytes
        for segment in candidates:  # first retention.bytes: never go below the limit
            if not (self.config.retention_bytes >= 0 and bytes_to_free - segment.size_in_bytes >= 0):
                break
            bytes_to_free -= segment.size_in_bytes
            deletable.append(segment)
        for segment in candidates[len(deletable):]:  # then retention.ms, by the segment's newest timestamp
            if not (self.config.retention_ms >= 0 and now_ms - segment.largest_timestamp > self.config.retention_ms):
                break
            deletable.append(segment)
        self.delete_segments(deletable, now_ms)
        return len(deletable)

    def delete_segments(self, deletable: Iterable[DiskLogSegment], now_ms: int) -> None:
        """Remove whole segments (oldest first) and move the log start offset to the first one left."""
        deletable = list(deletable)
        if not deletable:
            return
        if len(deletable) == len(self.segments):
            self.roll(now_ms)  # a log always keeps one segment: roll a new, empty one first
        for segment in deletable:
            assert segment is self.segments[0], "retention deletes the oldest segments first"
            self.segments.pop(0).delete()
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
        self.epoch_cache.truncate_from_start(self.log_start_offset)

    def delete_records(self, before_offset: int, now_ms: int = 0) -> int:
        """DeleteRecords: move the log start offset up to ``before_offset``; return the new log start offset."""
        if before_offset < 0 or before_offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"cannot delete records of {self.topic}-{self.partition} before offset {before_offset}: "
                f"it must be within [0, {self.log_end_offset}] (the high watermark)")
        if before_offset > self.log_start_offset:
            self.log_start_offset = before_offset
            while len(self.segments) > 1 and self.segments[1].base_offset <= before_offset:
                self.segments.pop(0).delete()
            self.epoch_cache.truncate_from_start(self.log_start_offset)
        return self.log_start_offset

    def truncate_to(self, offset: int, now_ms: int = 0) -> int:
        """Drop every record at ``offset`` and above (UnifiedLog.truncateTo); return how many went.
        Truncating at or below the log start offset empties the log and starts it at ``offset``."""
        if offset >= self.log_end_offset:
            return 0
        removed = self.log_end_offset - max(offset, self.log_start_offset)
        if offset <= self.log_start_offset:  # truncateFullyAndStartAt
            for segment in self.segments:
                segment.delete()
            self.segments = [self._new_segment(offset, now_ms)]
            self.log_start_offset = self.log_end_offset = self.recovery_point = offset
            self.epoch_cache.clear()
            return removed
        keep = [segment for segment in self.segments if segment.base_offset < offset]
        for segment in self.segments[len(keep):]:
            segment.delete()
        self.segments = keep
        active = self.active_segment
        holder = active.translate_offset(offset)
        partial = active.read_bytes(holder.position, holder.position + holder.size) if holder and holder.base_offset < offset else None
        active.truncate_to(offset, now_ms)
        if partial is not None:  # the batch holding ``offset`` keeps the records before it (re-encoded)
            kept = self._batch_prefix(RawRecordBatch(partial), offset)
            active.append(kept.data, kept.last_offset, kept.max_timestamp, now_ms)
        active.next_offset = offset
        self.log_end_offset = offset
        self.recovery_point = min(self.recovery_point, offset)
        self.epoch_cache.truncate_from_end(offset)
        return removed

    @staticmethod
    def _batch_prefix(raw: RawRecordBatch, offset: int) -> RawRecordBatch:
        batch = raw.decoded
        kept = tuple(r for r in batch.records if batch.offset_of(r) < offset)
        max_timestamp = batch.max_timestamp
        if batch.timestamp_type == TimestampType.CREATE_TIME:
            max_timestamp = max(batch.timestamp_of(r) for r in kept)
        return RawRecordBatch(encode_batch(dataclasses.replace(
            batch, records=kept, last_offset_delta=kept[-1].offset_delta, max_timestamp=max_timestamp)))

    # -- durability and lifecycle ----------------------------------------------------------------------
    def flush(self) -> None:
        """fsync every segment past the recovery point; the recovery point becomes the log end offset."""
        for segment in self.segments:
            if segment.next_offset > self.recovery_point or segment is self.active_segment:
                segment.flush()
        fsync_directory(self.dir)
        self.recovery_point = self.log_end_offset

    def close(self) -> None:
        """Write the indexes and close the files (the log can be opened again later)."""
        for segment in self.segments:
            segment.close()
        self.files.close_under(self.dir)

    def delete(self) -> None:
        """Delete the whole log: the directory renamed ``<topic>-<p>.<uuid>-delete``, then removed."""
        if self.deleted:
            return
        self.files.close_under(self.dir)
        target = self.dir.with_name(delete_dir_name(self.topic, self.partition))
        os.rename(self.dir, target)
        fsync_directory(self.dir.parent)
        shutil.rmtree(target, ignore_errors=True)
        self.deleted = True
        if self.on_deleted is not None:
            self.on_deleted(self)

    # -- what a log cannot do ------------------------------------------------------------------------
    def update(self, offset: int, *args: Any, **kwargs: Any) -> None:
        """Kafka has no update: raises ImmutableLogError."""
        raise ImmutableLogError(f"records are immutable: offset {offset} of {self.topic}-{self.partition} cannot be changed")

    # -- looking at it ---------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Plain data for widgets and tests (PartitionLog.describe's keys, and the files)."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "log_start_offset": self.log_start_offset,
            "log_end_offset": self.log_end_offset,
            "size_in_bytes": self.size_in_bytes,
            "segments": [segment.describe(segment is self.active_segment) for segment in self.segments],
            "directory": str(self.dir),
            "recovery_point": self.recovery_point,
            "leader_epochs": list(self.epoch_cache.entries),
            "topic_id": self.topic_id,
        }

    def __repr__(self) -> str:
        return (f"DiskPartitionLog({self.topic}-{self.partition}: offsets [{self.log_start_offset}, {self.log_end_offset}), "
                f"{len(self.segments)} segment(s), {self.size_in_bytes} bytes, {self.dir})")

    def _repr_html_(self) -> str:
        from kafkalab.log.view import partition_log_html

        return partition_log_html(self.describe())


__all__ = ["DiskPartitionLog", "UnexpectedAppendOffsetError", "delete_dir_name", "partition_dir_name"]
