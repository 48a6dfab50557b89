"""A segment's two indexes: offset → file position (``.index``) and timestamp → offset (``.timeindex``).

Both are *sparse*: the segment adds an entry only after more than ``index.interval.bytes`` (4096)
bytes were appended since the last one, so a lookup lands near the batch wanted and the segment
walks a few batch headers from there. Byte layout, big-endian, offsets relative to the segment's
base offset (so they fit in 4 bytes)::

    .index       8 bytes per entry:  relative offset int32 | position int32
                 (the *last* offset of the batch that starts at that position)
    .timeindex  12 bytes per entry:  timestamp int64 | relative offset int32
                 (the largest timestamp so far, and the offset of the batch holding it)

Lookups are binary searches for the greatest entry at or below the target, as in Kafka's
AbstractIndex.largestLowerBoundSlotFor. The entries live in memory (two ``array``\\ s) and are
written to the file at flush, roll and close; after a crash the files are rebuilt from the log, as
Kafka does (its indexes are not checksummed either). One course simplification: Kafka preallocates
``segment.index.bytes`` (10 MiB) and memory-maps the file, trimming it when the segment is rolled;
here the file only ever holds whole entries. ``MAX_INDEX_ENTRIES`` keeps Kafka's limit (a full index
rolls the segment).

Kafka: org.apache.kafka.storage.internals.log.OffsetIndex, TimeIndex, AbstractIndex (lookup,
truncateTo, sanityCheck), TimeIndex.maybeAppend; config keys index.interval.bytes, segment.index.bytes.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from pathlib import Path

from kafkalab.record import NO_TIMESTAMP

OFFSET_ENTRY = struct.Struct(">ii")
TIME_ENTRY = struct.Struct(">qi")
DEFAULT_INDEX_INTERVAL_BYTES = 4096  # index.interval.bytes
DEFAULT_MAX_INDEX_BYTES = 10 * 1024 * 1024  # segment.index.bytes
MAX_INDEX_ENTRIES = DEFAULT_MAX_INDEX_BYTES // OFFSET_ENTRY.size


class CorruptIndexError(Exception):
    """An index file that fails its sanity check: the segment rebuilds it from the log."""


class OffsetIndex:
    """Sparse map from a batch's last offset to the file position where the batch starts."""

    def __init__(self, path: Path, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.offsets = array("q")  # absolute offsets, increasing
        self.positions = array("q")
        self._in_file = 0  # entries already written to the file

    @classmethod
    def load(cls, path: Path, base_offset: int, log_size: int) -> "OffsetIndex":
        """Read the file, checking it as OffsetIndex.sanityCheck does (and positions inside the log)."""
        index = cls(path, base_offset)
        data = path.read_bytes()
        if len(data) % OFFSET_ENTRY.size:
            raise CorruptIndexError(f"Index file {path} is corrupt, found {len(data)} bytes which is neither positive "
                                    f"nor a multiple of {OFFSET_ENTRY.size}")
        last_offset, last_position = base_offset - 1, -1
        for relative, position in OFFSET_ENTRY.iter_unpack(data):
            offset = base_offset + relative
            if offset <= last_offset or position <= last_position or position >= log_size or relative < 0:
                raise CorruptIndexError(f"Corrupt index found, index file {path}: entry ({offset}, {position}) "
                                        f"after ({last_offset}, {last_position}) with a log of {log_size} bytes")
            index.offsets.append(offset)
            index.positions.append(position)
            last_offset, last_position = offset, position
        index._in_file = len(index.offsets)
        return index

    def __len__(self) -> int:
        return len(self.offsets)

    def is_full(self) -> bool:
        return len(self.offsets) >= MAX_INDEX_ENTRIES

    def append(self, offset: int, position: int) -> None:
        assert not self.offsets or offset > self.offsets[-1], \
            f"index offsets must increase: {offset} after {self.offsets[-1]}"
        self.offsets.append(offset)
        self.positions.append(position)

    def lookup(self, target_offset: int) -> tuple[int, int]:
        """(offset, position) of the greatest entry at or below ``target_offset``; (base offset, 0) if none."""
        slot = bisect.bisect_right(self.offsets, target_offset) - 1
        if slot < 0:
            return self.base_offset, 0
        return self.offsets[slot], self.positions[slot]

    def floor_position(self, position: int) -> int:
        """The greatest indexed batch position at or below ``position`` (0 if none): a batch boundary."""
        slot = bisect.bisect_right(self.positions, position) - 1
        return self.positions[slot] if slot >= 0 else 0

    def truncate_to(self, offset: int) -> None:
        """Drop every entry for ``offset`` and above (OffsetIndex.truncateTo)."""
        keep = bisect.bisect_left(self.offsets, offset)
        self._truncate_entries(keep)

    def _truncate_entries(self, keep: int) -> None:
        del self.offsets[keep:]
        del self.positions[keep:]
        if keep < self._in_file:
            if self.path.exists():
                os.truncate(self.path, keep * OFFSET_ENTRY.size)
            self._in_file = keep

    def reset(self) -> None:
        """No entries, in memory or in the file (before a rebuild)."""
        del self.offsets[:]
        del self.positions[:]
        self.path.write_bytes(b"")
        self._in_file = 0

    def write(self, sync: bool = False) -> None:
        """Append the entries not yet in the file (and fsync it when ``sync``)."""
        pending = range(self._in_file, len(self.offsets))
        if not pending and not sync:
            return
        data = b"".join(OFFSET_ENTRY.pack(self.offsets[i] - self.base_offset, self.positions[i]) for i in pending)
        with open(self.path, "ab") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        self._in_file = len(self.offsets)


class TimeIndex:
    """Sparse map from the largest timestamp so far to the offset of the batch that carried it."""

    def __init__(self, path: Path, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.timestamps = array("q")  # increasing
        self.offsets = array("q")  # non-decreasing
        self._in_file = 0

    @classmethod
    def load(cls, path: Path, base_offset: int) -> "TimeIndex":
        """Read the file, checking it as TimeIndex.sanityCheck does."""
        index = cls(path, base_offset)
        data = path.read_bytes()
        if len(data) % TIME_ENTRY.size:
            raise CorruptIndexError(f"Time index file {path} is corrupt, found {len(data)} bytes which is neither "
                                    f"positive nor a multiple of {TIME_ENTRY.size}")
        for timestamp, relative in TIME_ENTRY.iter_unpack(data):
            offset = base_offset + relative
            if relative < 0 or (index.timestamps and (timestamp <= index.timestamps[-1] or offset < index.offsets[-1])):
                raise CorruptIndexError(f"Corrupt time index found, time index file ({path}): entry ({timestamp}, {offset}) "
                                        "out of order")
            index.timestamps.append(timestamp)
            index.offsets.append(offset)
        index._in_file = len(index.offsets)
        return index

    def __len__(self) -> int:
        return len(self.offsets)

    def is_full(self) -> bool:
        return len(self.offsets) >= DEFAULT_MAX_INDEX_BYTES // TIME_ENTRY.size - 1  # the last slot is kept for the roll

    def last_entry(self) -> tuple[int, int]:
        """(timestamp, offset) of the last entry; (NO_TIMESTAMP, base offset) when empty."""
        if not self.offsets:
            return NO_TIMESTAMP, self.base_offset
        return self.timestamps[-1], self.offsets[-1]

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Add an entry if ``timestamp`` is larger than the last one (TimeIndex.maybeAppend)."""
        if self.offsets:
            assert offset >= self.offsets[-1], f"time index offsets must not go back: {offset} after {self.offsets[-1]}"
            assert timestamp >= self.timestamps[-1], f"time index timestamps must not go back: {timestamp}"
        if timestamp > self.last_entry()[0]:
            self.timestamps.append(timestamp)
            self.offsets.append(offset)

    def lookup(self, target_timestamp: int) -> tuple[int, int]:
        """(timestamp, offset) of the greatest entry at or below ``target_timestamp``; (NO_TIMESTAMP, base) if none."""
        slot = bisect.bisect_right(self.timestamps, target_timestamp) - 1
        if slot < 0:
            return NO_TIMESTAMP, self.base_offset
        return self.timestamps[slot], self.offsets[slot]

    def truncate_to(self, offset: int) -> None:
        """Drop every entry for ``offset`` and above (TimeIndex.truncateTo)."""
        self._truncate_entries(bisect.bisect_left(self.offsets, offset))

    def _truncate_entries(self, keep: int) -> None:
        del self.timestamps[keep:]
        del self.offsets[keep:]
        if keep < self._in_file:
            if self.path.exists():
                os.truncate(self.path, keep * TIME_ENTRY.size)
            self._in_file = keep

    def reset(self) -> None:
        """No entries, in memory or in the file (before a rebuild)."""
        del self.timestamps[:]
        del self.offsets[:]
        self.path.write_bytes(b"")
        self._in_file = 0

    def write(self, sync: bool = False) -> None:
        pending = range(self._in_file, len(self.offsets))
        if not pending and not sync:
            return
        data = b"".join(TIME_ENTRY.pack(self.timestamps[i], self.offsets[i] - self.base_offset) for i in pending)
        with open(self.path, "ab") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        self._in_file = len(self.offsets)
