"""A record batch kept as the bytes it arrived in: the header parsed, the records left alone.

A real broker never re-encodes what a producer sent. It reads the 61-byte batch header, checks
the CRC, writes the offsets it assigns into ``baseOffset`` (and the leader epoch into
``partitionLeaderEpoch``) — two fields that come *before* the CRC's range, so the checksum stays
valid — and appends the bytes to the segment file. A fetch hands the same bytes back. Only a
LogAppendTime topic changes a covered field (``maxTimestamp`` and the timestamp-type bit), and
then the broker recomputes the CRC over the unchanged records.

``RawRecordBatch`` offers the header fields under the same names as :class:`RecordBatch`, so
the broker's producer-state and transaction checks read either; ``records`` decodes on demand
(the coordinators, tests and ``dump-log`` want them, the produce and fetch paths do not).

Kafka: org.apache.kafka.common.record.DefaultRecordBatch (header offsets, setLastOffset,
setPartitionLeaderEpoch, setMaxTimestamp), MemoryRecords, LogValidator (assignOffsetsNonCompressed
keeps the bytes; v2 produce requests carry exactly one batch).
"""

from __future__ import annotations

import struct
from functools import cached_property
from typing import Iterator

from kafkalab.errors import CorruptRecordError, InvalidRecordError
from kafkalab.record.batch import (
    ATTRIBUTES_OFFSET,
    BATCH_HEADER_FORMAT,
    COMPRESSION_CODEC_MASK,
    CONTROL_FLAG_MASK,
    LOG_OVERHEAD,
    MAGIC_V2,
    RECORD_BATCH_OVERHEAD,
    TIMESTAMP_TYPE_MASK,
    TRANSACTIONAL_FLAG_MASK,
    Record,
    RecordBatch,
    decode_batch,
    encode_batch,
)
from kafkalab.record.compression import CompressionType
from kafkalab.record.crc32c import crc32c
from kafkalab.record.batch import TimestampType

_BASE_OFFSET = struct.Struct(">q")
_LEADER_EPOCH = struct.Struct(">i")
_LEADER_EPOCH_OFFSET = 12
_CRC_OFFSET = 17
_MAX_TIMESTAMP_OFFSET = 35


class RawRecordBatch:
    """One v2 batch as bytes, with its header fields read (DefaultRecordBatch)."""

    __slots__ = ("data", "base_offset", "batch_length", "partition_leader_epoch", "magic", "crc", "attributes",
                 "last_offset_delta", "base_timestamp", "max_timestamp", "producer_id", "producer_epoch",
                 "base_sequence", "record_count", "__dict__")

    def __init__(self, data: bytes) -> None:
        if len(data) < RECORD_BATCH_OVERHEAD:
            raise CorruptRecordError(f"a record batch needs at least {RECORD_BATCH_OVERHEAD} bytes, got {len(data)}")
        (self.base_offset, self.batch_length, self.partition_leader_epoch, self.magic, self.crc, self.attributes,
         self.last_offset_delta, self.base_timestamp, self.max_timestamp, self.producer_id, self.producer_epoch,
         self.base_sequence, self.record_count) = struct.unpack_from(BATCH_HEADER_FORMAT, data, 0)  # fmt: skip
        if self.magic != MAGIC_V2:
            raise CorruptRecordError(f"unsupported magic {self.magic}: Kafka 4.x accepts record batch format v2 only")
        if self.batch_length + LOG_OVERHEAD != len(data):
            raise CorruptRecordError(
                f"batchLength {self.batch_length} says the batch has {self.batch_length + LOG_OVERHEAD} bytes, but {len(data)} arrived")
        self.data = data

    # -- the header, under RecordBatch's names --------------------------------------------------
    @property
    def size_in_bytes(self) -> int:
        return len(self.data)

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    @property
    def compression(self) -> CompressionType:
        return CompressionType(self.attributes & COMPRESSION_CODEC_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        return TimestampType(1 if self.attributes & TIMESTAMP_TYPE_MASK else 0)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_FLAG_MASK)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_FLAG_MASK)

    # -- checks -----------------------------------------------------------------------------------
    def is_valid(self) -> bool:
        return crc32c(self.data[ATTRIBUTES_OFFSET:]) == self.crc

    def ensure_valid(self) -> None:
        """DefaultRecordBatch.ensureValid: the CRC over attributes..end must match."""
        computed = crc32c(self.data[ATTRIBUTES_OFFSET:])
        if computed != self.crc:
            raise CorruptRecordError(
                f"Record is corrupt (stored crc = {self.crc}, computed crc = {computed})")
        if self.record_count < 0 or (self.record_count > 0 and self.last_offset_delta != self.record_count - 1):
            raise InvalidRecordError(
                f"the batch holds {self.record_count} record(s) but its lastOffsetDelta is {self.last_offset_delta}")

    # -- what the broker writes into it -------------------------------------------------------------
    def with_offsets(self, base_offset: int, leader_epoch: int | None = None) -> "RawRecordBatch":
        """The same bytes with ``baseOffset`` (and ``partitionLeaderEpoch``) set: outside the CRC."""
        data = bytearray(self.data)
        _BASE_OFFSET.pack_into(data, 0, base_offset)
        if leader_epoch is not None:
            _LEADER_EPOCH.pack_into(data, _LEADER_EPOCH_OFFSET, leader_epoch)
        return RawRecordBatch(bytes(data))

    def with_log_append_time(self, now_ms: int) -> "RawRecordBatch":
        """LogAppendTime: the broker's clock in ``maxTimestamp``, the type bit set, the CRC recomputed."""
        data = bytearray(self.data)
        struct.pack_into(">h", data, ATTRIBUTES_OFFSET, self.attributes | TIMESTAMP_TYPE_MASK)
        struct.pack_into(">q", data, _MAX_TIMESTAMP_OFFSET, now_ms)
        struct.pack_into(">I", data, _CRC_OFFSET, crc32c(bytes(data[ATTRIBUTES_OFFSET:])))
        return RawRecordBatch(bytes(data))

    # -- decoded, when someone wants the records ------------------------------------------------------
    @cached_property
    def decoded(self) -> RecordBatch:
        return decode_batch(self.data)

    @property
    def records(self) -> tuple[Record, ...]:
        return self.decoded.records

    @classmethod
    def from_batch(cls, batch: RecordBatch) -> "RawRecordBatch":
        return cls(encode_batch(batch))

    def __repr__(self) -> str:
        return (f"RawRecordBatch(offsets {self.base_offset}..{self.last_offset}, {self.record_count} record(s), "
                f"{len(self.data)} bytes, {self.compression.name})")


def split_batches(data: bytes | memoryview, *, allow_truncated_tail: bool = False) -> Iterator[RawRecordBatch]:
    """The batches in a run of bytes (a produce request's ``records``, a fetched chunk, a segment file).

    With ``allow_truncated_tail`` a partial last batch is dropped silently — a fetch response may
    end mid-batch (its size limit cut it), and so may a segment file after a crash.
    """
    view = memoryview(data)
    position = 0
    while position < len(view):
        if len(view) - position < LOG_OVERHEAD:
            if allow_truncated_tail:
                return
            raise CorruptRecordError(f"{len(view) - position} trailing byte(s) are too few for a batch header")
        (length,) = struct.unpack_from(">i", view, position + 8)
        end = position + LOG_OVERHEAD + length
        if length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD or end > len(view):
            if allow_truncated_tail and end > len(view) and length >= 0:
                return
            raise CorruptRecordError(f"the batch at byte {position} says it has {length + LOG_OVERHEAD} bytes; "
                                     f"{len(view) - position} remain")
        yield RawRecordBatch(bytes(view[position:end]))
        position = end


def single_produce_batch(data: bytes | None) -> RawRecordBatch:
    """A produce request's records for one partition: exactly one v2 batch, CRC checked.

    Kafka refuses anything else with INVALID_RECORD (ProduceRequest v3+ carries one batch per
    partition) or CORRUPT_MESSAGE (a bad CRC).
    """
    if not data:
        raise InvalidRecordError("the produce request carries no record batch for this partition")
    batches = list(split_batches(data))
    if len(batches) != 1:
        raise InvalidRecordError(f"Produce requests with version 3+ must contain exactly one record batch; got {len(batches)}")
    batch = batches[0]
    batch.ensure_valid()
    if batch.record_count == 0:
        raise InvalidRecordError("a produced batch must hold at least one record")
    return batch
