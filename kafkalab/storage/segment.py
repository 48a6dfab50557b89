"""A log segment on disk: ``<base offset>.log`` with its ``.index`` and ``.timeindex``.

The ``.log`` file is the batches themselves, back to back, exactly as the producer (or the leader)
sent them — byte for byte what a fetch returns::

    00000000000000000000.log    [batch 0..4][batch 5..5][batch 6..19] ...   (v2 batches, 61-byte headers)
    00000000000000000000.index  (19 → 8840) (44 → 17952) ...                 last offset → position
    00000000000000000000.timeindex (1700000001500 → 19) ...                  max timestamp → offset

Finding an offset (``translate_offset``) is a binary search in the offset index, then a walk over a
few batch *headers* (each says its length) — never a scan of the file. Reading is one ``pread`` of
whole batches. Appending is one ``pwrite`` at the end; every ``index.interval.bytes`` an index
entry is added. ``recover`` rebuilds both indexes from the log after a crash, checking each
batch's CRC and cutting the file at the first torn or corrupt batch.

Kafka: org.apache.kafka.storage.internals.log.LogSegment (append, translateOffset, read,
recover, truncateTo, readNextOffset, readLargestTimestamp, findOffsetByTimestamp, shouldRoll,
timeWaitedForRoll, onBecomeInactiveSegment, largestTimestamp), FileRecords (searchForOffsetWithSize,
searchForTimestamp), LogFileUtils (file names).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from kafkalab.errors import CorruptRecordError, InvalidRecordError
from kafkalab.record import LOG_OVERHEAD, NO_TIMESTAMP, RECORD_BATCH_OVERHEAD
from kafkalab.record.raw import RawRecordBatch
from kafkalab.storage.files import FileHandleCache, pread_exact, pwrite_all
from kafkalab.storage.index import DEFAULT_INDEX_INTERVAL_BYTES, CorruptIndexError, OffsetIndex, TimeIndex

INT32_MAX = 2**31 - 1
_HEADER = struct.Struct(">qiib")  # baseOffset, batchLength, partitionLeaderEpoch, magic
_LAST_OFFSET_DELTA = struct.Struct(">i")  # at byte 23
_MAX_TIMESTAMP = struct.Struct(">q")  # at byte 35
_MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD
READ_CHUNK_BYTES = 1 << 20


def file_prefix(offset: int) -> str:
    """LogFileUtils.filenamePrefixFromOffset: the offset zero-padded to 20 digits."""
    return f"{offset:020d}"


class BatchHeader(NamedTuple):
    """Where a batch is in the file and the header fields a search needs."""

    position: int
    base_offset: int
    last_offset: int
    size: int
    max_timestamp: int


class DiskLogSegment:
    """One segment's files and what is known about them (Kafka's LogSegment)."""

    def __init__(self, directory: Path, base_offset: int, files: FileHandleCache, created_ms: int,
                 index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.files = files
        self.index_interval_bytes = index_interval_bytes
        self.log_path = directory / f"{file_prefix(base_offset)}.log"
        self.offset_index = OffsetIndex(directory / f"{file_prefix(base_offset)}.index", base_offset)
        self.time_index = TimeIndex(directory / f"{file_prefix(base_offset)}.timeindex", base_offset)
        self.size_in_bytes = 0
        self.next_offset = base_offset  # one past the last offset held
        self.max_timestamp_so_far = NO_TIMESTAMP
        self.offset_of_max_timestamp = base_offset
        self.rolling_based_timestamp: int | None = None  # the first batch's max timestamp, once known
        self.created_ms = created_ms
        self.last_modified_ms = created_ms
        self.bytes_since_last_index_entry = 0

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, base_offset: int, files: FileHandleCache, now_ms: int,
               index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> "DiskLogSegment":
        """A new, empty segment (its three files created empty)."""
        segment = cls(directory, base_offset, files, now_ms, index_interval_bytes)
        os.ftruncate(files.fd(segment.log_path), 0)
        for path in (segment.offset_index.path, segment.time_index.path):
            path.write_bytes(b"")
        return segment

    @classmethod
    def open_existing(cls, directory: Path, base_offset: int, files: FileHandleCache, now_ms: int,
                      index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> "DiskLogSegment":
        """An existing segment, trusting its index files (CorruptIndexError if they do not hold up)."""
        segment = cls(directory, base_offset, files, now_ms, index_interval_bytes)
        stat = segment.log_path.stat()
        segment.size_in_bytes = stat.st_size
        segment.last_modified_ms = stat.st_mtime_ns // 1_000_000
        if not segment.offset_index.path.exists() or not segment.time_index.path.exists():
            raise CorruptIndexError(f"{segment.log_path}: index files missing")
        segment.offset_index = OffsetIndex.load(segment.offset_index.path, base_offset, segment.size_in_bytes)
        segment.time_index = TimeIndex.load(segment.time_index.path, base_offset)
        segment._load_tail()
        return segment

    @classmethod
    def open_for_recovery(cls, directory: Path, base_offset: int, files: FileHandleCache, now_ms: int,
                          index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> "DiskLogSegment":
        """An existing segment whose indexes will be rebuilt by :meth:`recover`."""
        segment = cls(directory, base_offset, files, now_ms, index_interval_bytes)
        stat = segment.log_path.stat()
        segment.size_in_bytes = stat.st_size
        segment.last_modified_ms = stat.st_mtime_ns // 1_000_000
        return segment

    def _load_tail(self) -> None:
        """readNextOffset + readLargestTimestamp: walk the headers after the last index entries."""
        last_ts, last_ts_offset = self.time_index.last_entry()
        start = min(self.offset_index.lookup(last_ts_offset)[1],
                    self.offset_index.positions[-1] if len(self.offset_index) else 0)
        position = start
        next_offset = self.base_offset if start == 0 else None
        max_ts, max_ts_offset = last_ts, last_ts_offset
        for header in self.iter_headers(start):
            next_offset = header.last_offset + 1
            if header.max_timestamp > max_ts:
                max_ts, max_ts_offset = header.max_timestamp, header.last_offset
            position = header.position + header.size
        if position != self.size_in_bytes or next_offset is None:
            raise CorruptIndexError(f"{self.log_path}: the batches end at byte {position}, the file at {self.size_in_bytes}")
        self.next_offset = next_offset
        self.max_timestamp_so_far, self.offset_of_max_timestamp = max_ts, max_ts_offset

    # -- reading headers and bytes ---------------------------------------------------------------
    def _fd(self) -> int:
        return self.files.fd(self.log_path)

    def read_bytes(self, start: int, end: int) -> bytes:
        """The file's bytes in [start, end)."""
        return pread_exact(self._fd(), end - start, start) if end > start else b""

    def iter_headers(self, start: int) -> Iterator[BatchHeader]:
        """The header of each whole batch from byte ``start`` on; stops at a torn or malformed one."""
        fd = self._fd()
        position, end = start, self.size_in_bytes
        while position + RECORD_BATCH_OVERHEAD <= end:
            header = pread_exact(fd, RECORD_BATCH_OVERHEAD, position)
            if len(header) < RECORD_BATCH_OVERHEAD:
                return
            base_offset, length, _epoch, _magic = _HEADER.unpack_from(header, 0)
            size = length + LOG_OVERHEAD
            if length < _MIN_BATCH_LENGTH or position + size > end:
                return
            (last_delta,) = _LAST_OFFSET_DELTA.unpack_from(header, 23)
            (max_timestamp,) = _MAX_TIMESTAMP.unpack_from(header, 35)
            yield BatchHeader(position, base_offset, base_offset + last_delta, size, max_timestamp)
            position += size

    def iter_batch_bytes(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(position, bytes) of each whole batch in [start, end), read in large chunks; stops at a torn one."""
        fd = self._fd()
        end = self.size_in_bytes if end is None else end
        position = start
        buffer, buffer_start = b"", start
        while position < end:
            offset = position - buffer_start
            if len(buffer) - offset < LOG_OVERHEAD:
                buffer, buffer_start, offset = pread_exact(fd, min(READ_CHUNK_BYTES, end - position), position), position, 0
                if len(buffer) < LOG_OVERHEAD:
                    return
            length = int.from_bytes(buffer[offset + 8:offset + 12], "big", signed=True)
            size = length + LOG_OVERHEAD
            if length < _MIN_BATCH_LENGTH or position + size > end:
                return
            if offset + size > len(buffer):
                buffer, buffer_start, offset = pread_exact(fd, min(max(READ_CHUNK_BYTES, size), end - position), position), position, 0
                if len(buffer) < size:
                    return
            yield position, buffer[offset:offset + size]
            position += size

    def translate_offset(self, offset: int) -> BatchHeader | None:
        """The first batch whose last offset is at or above ``offset`` (index lookup, then a short walk)."""
        _, position = self.offset_index.lookup(offset)
        for header in self.iter_headers(position):
            if header.last_offset >= offset:
                return header
        return None

    def end_position_before(self, max_offset: int) -> int:
        """Where the first batch starting at or after ``max_offset`` begins (the file's size if none)."""
        header = self.translate_offset(max_offset)
        if header is None:
            return self.size_in_bytes
        return header.position if header.base_offset >= max_offset else header.position + header.size

    def last_boundary_within(self, start: int, limit: int) -> int:
        """The last batch boundary at or below byte ``limit`` (walking from the nearest index entry)."""
        boundary = max(start, self.offset_index.floor_position(limit))
        for header in self.iter_headers(boundary):
            if header.position + header.size > limit:
                break
            boundary = header.position + header.size
        return boundary

    def first_batch_timestamp(self) -> int | None:
        """loadFirstBatchTimestamp: the first batch's max timestamp (None for an empty segment)."""
        if self.rolling_based_timestamp is None and self.size_in_bytes:
            first = next(self.iter_headers(0), None)
            if first is not None:
                self.rolling_based_timestamp = first.max_timestamp
        return self.rolling_based_timestamp

    # -- appending -------------------------------------------------------------------------------
    def append(self, data: bytes, last_offset: int, max_timestamp: int, now_ms: int) -> None:
        """Write one batch (or a run of them) at the end of the file; add index entries when due."""
        position = self.size_in_bytes
        if position == 0:
            self.rolling_based_timestamp = max_timestamp
        pwrite_all(self._fd(), data, position)
        if max_timestamp > self.max_timestamp_so_far:
            self.max_timestamp_so_far, self.offset_of_max_timestamp = max_timestamp, last_offset
        if self.bytes_since_last_index_entry > self.index_interval_bytes:
            self.offset_index.append(last_offset, position)
            self.time_index.maybe_append(self.max_timestamp_so_far, self.offset_of_max_timestamp)
            self.bytes_since_last_index_entry = 0
        self.bytes_since_last_index_entry += len(data)
        self.size_in_bytes = position + len(data)
        self.next_offset = last_offset + 1
        self.last_modified_ms = now_ms

    def can_hold(self, last_offset: int) -> bool:
        """Relative offsets are int32: a batch past base offset + 2^31-1 needs a new segment."""
        return 0 <= last_offset - self.base_offset <= INT32_MAX

    def time_waited_for_roll(self, now_ms: int, incoming_timestamp: int) -> int:
        """LogSegment.timeWaitedForRoll: by record timestamps when known, else by wall time."""
        first = self.first_batch_timestamp()
        if first is not None and first >= 0:
            return incoming_timestamp - first
        return now_ms - self.created_ms

    def should_roll(self, incoming_bytes: int, incoming_timestamp: int, incoming_last_offset: int, now_ms: int,
                    segment_bytes: int, segment_ms: int) -> bool:
        """LogSegment.shouldRoll: full, old enough (segment.ms), an index full, or offsets overflowing."""
        too_full = self.size_in_bytes > segment_bytes - incoming_bytes
        too_old = self.size_in_bytes > 0 and self.time_waited_for_roll(now_ms, incoming_timestamp) > segment_ms
        index_full = self.offset_index.is_full() or self.time_index.is_full()
        return too_full or too_old or (self.size_in_bytes > 0 and (index_full or not self.can_hold(incoming_last_offset)))

    @property
    def largest_timestamp(self) -> int:
        """LogSegment.largestTimestamp: the largest record timestamp, else the last-modified time."""
        return self.max_timestamp_so_far if self.max_timestamp_so_far >= 0 else self.last_modified_ms

    # -- searching by time -------------------------------------------------------------------------
    def find_offset_by_timestamp(self, timestamp: int, starting_offset: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record at or after ``timestamp`` and ``starting_offset``."""
        _, indexed_offset = self.time_index.lookup(timestamp)
        _, position = self.offset_index.lookup(max(indexed_offset, starting_offset))
        for _, data in self.iter_batch_bytes(position):
            raw = RawRecordBatch(data)
            if raw.max_timestamp < timestamp or raw.last_offset < starting_offset:
                continue
            batch = raw.decoded  # one batch decoded: the records' own timestamps are inside it
            for record in batch.records:
                record_timestamp = batch.timestamp_of(record)
                offset = batch.offset_of(record)
                if record_timestamp >= timestamp and offset >= starting_offset:
                    return offset, record_timestamp
        return None

    # -- recovery, truncation, lifecycle ---------------------------------------------------------------
    def recover(self, on_batch: Callable[[RawRecordBatch], None] | None = None) -> int:
        """Rebuild the indexes from the log, cutting it at the first torn or corrupt batch; return bytes cut."""
        self.offset_index.reset()
        self.time_index.reset()
        valid_bytes = last_index_entry = 0
        next_offset = self.base_offset
        max_ts, max_ts_offset = NO_TIMESTAMP, self.base_offset
        self.rolling_based_timestamp = None
        try:
            for position, data in self.iter_batch_bytes(0):
                batch = RawRecordBatch(data)  # magic 2 and a consistent length, or CorruptRecordError
                batch.ensure_valid()  # the CRC over attributes..end
                if batch.base_offset < next_offset or not self.can_hold(batch.last_offset):
                    raise CorruptRecordError(f"batch at byte {position} has offsets {batch.base_offset}..{batch.last_offset}, "
                                             f"expected from {next_offset}")
                if position == 0:
                    self.rolling_based_timestamp = batch.max_timestamp
                if batch.max_timestamp > max_ts:
                    max_ts, max_ts_offset = batch.max_timestamp, batch.last_offset
                if valid_bytes - last_index_entry > self.index_interval_bytes:
                    self.offset_index.append(batch.last_offset, valid_bytes)
                    self.time_index.maybe_append(max_ts, max_ts_offset)
                    last_index_entry = valid_bytes
                valid_bytes += len(data)
                next_offset = batch.next_offset
                if on_batch is not None:
                    on_batch(batch)
        except (CorruptRecordError, InvalidRecordError):
            pass  # LogSegment.recover: "Found invalid messages in log segment ..."; everything from here goes
        truncated = self.size_in_bytes - valid_bytes
        if truncated:
            os.ftruncate(self._fd(), valid_bytes)
        self.size_in_bytes = valid_bytes
        self.next_offset = next_offset
        self.max_timestamp_so_far, self.offset_of_max_timestamp = max_ts, max_ts_offset
        self.time_index.maybe_append(max_ts, max_ts_offset)
        self.bytes_since_last_index_entry = valid_bytes - last_index_entry
        self.write_indexes()
        return truncated

    def truncate_to(self, offset: int, now_ms: int) -> BatchHeader | None:
        """Cut the file at the batch holding ``offset`` (LogSegment.truncateTo); return that batch's header.

        The whole batch goes; a caller that wants the records before ``offset`` re-appends them.
        """
        header = self.translate_offset(offset)
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        if header is None:
            return None
        os.ftruncate(self._fd(), header.position)
        self.size_in_bytes = header.position
        self.next_offset = header.base_offset if header.position else self.base_offset
        if self.size_in_bytes == 0:
            self.created_ms = now_ms
            self.rolling_based_timestamp = None
        self.bytes_since_last_index_entry = 0
        last_ts, last_ts_offset = self.time_index.last_entry()
        self.max_timestamp_so_far, self.offset_of_max_timestamp = last_ts, last_ts_offset
        for batch in self.iter_headers(self.offset_index.lookup(last_ts_offset)[1]):  # readLargestTimestamp
            if batch.max_timestamp > self.max_timestamp_so_far:
                self.max_timestamp_so_far, self.offset_of_max_timestamp = batch.max_timestamp, batch.last_offset
        return header

    def write_indexes(self, sync: bool = False) -> None:
        self.offset_index.write(sync)
        self.time_index.write(sync)

    def on_become_inactive(self) -> None:
        """onBecomeInactiveSegment: the largest timestamp goes into the time index; indexes to disk."""
        self.time_index.maybe_append(self.max_timestamp_so_far, self.offset_of_max_timestamp)
        self.write_indexes()

    def flush(self) -> None:
        """fsync the log and its indexes (LogSegment.flush)."""
        self.write_indexes(sync=True)
        os.fsync(self._fd())

    def close(self) -> None:
        """As LogSegment.close: the largest timestamp into the time index, indexes written, file closed."""
        self.on_become_inactive()
        self.files.close(self.log_path)

    def delete(self) -> None:
        """Remove the segment's files (LogSegment.deleteIfExists)."""
        self.files.close(self.log_path)
        for path in (self.log_path, self.offset_index.path, self.time_index.path):
            path.unlink(missing_ok=True)

    def describe(self, active: bool) -> dict:
        return {
            "base_offset": self.base_offset,
            "next_offset": self.next_offset,
            "records": self.next_offset - self.base_offset,
            "size_in_bytes": self.size_in_bytes,
            "largest_timestamp": self.largest_timestamp,
            "active": active,
            "file_name": self.log_path.name,
            "index_entries": len(self.offset_index),
            "time_index_entries": len(self.time_index),
        }

    def __repr__(self) -> str:
        return (f"DiskLogSegment(baseOffset={self.base_offset}, size={self.size_in_bytes}, "
                f"nextOffset={self.next_offset}, largestRecordTimestamp={self.max_timestamp_so_far})")

