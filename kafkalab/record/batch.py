"""Record batch format v2 (magic 2): the bytes a producer sends and a broker stores unchanged.

Since Kafka 0.11 (KIP-98) records travel and rest in *batches*. A batch header of 61 bytes,
all big-endian fixed-width, is followed by the records, compressed together when the batch has a
codec:

    offset  size  field
    0       8     base_offset             int64, offset of the first record
    8       4     batch_length            int32, bytes after this field (so the batch is 12 + this)
    12      4     partition_leader_epoch  int32, stamped by the leader (-1 from a producer)
    16      1     magic                   int8, 2
    17      4     crc                     uint32, CRC-32C of bytes 21..end (attributes to the end)
    21      2     attributes              int16: bits 0-2 codec, 3 timestamp type,
                                          4 transactional, 5 control, 6 has delete horizon
    23      4     last_offset_delta       int32, last record's offset - base_offset
    27      8     base_timestamp          int64, first record's timestamp
    35      8     max_timestamp           int64, largest timestamp (log append time if bit 3)
    43      8     producer_id             int64, -1 unless idempotent/transactional
    51      2     producer_epoch          int16
    53      4     base_sequence           int32
    57      4     records_count           int32
    61      ...   records                 (one compressed block if the codec is not none)

Each record is small because everything is a varint and a delta from the batch header:

    length varint | attributes int8 (unused, 0) | timestamp_delta varlong | offset_delta varint
    | key_length varint (-1 = null) | key | value_length varint (-1 = null) | value
    | headers_count varint | per header: key_length varint, key (UTF-8), value_length varint, value

``base_offset`` and ``partition_leader_epoch`` sit *before* the CRC's range so that the leader can
assign offsets and stamp its epoch without recomputing the checksum.

Kafka: org.apache.kafka.common.record.DefaultRecordBatch, DefaultRecord, MemoryRecordsBuilder,
RecordBatch, TimestampType, org.apache.kafka.common.utils.ByteUtils, Crc32C; KIP-98 (format v2),
KIP-57 (LZ4 framing), KIP-82 (headers), KIP-32 (timestamps).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Sequence

from kafkalab.errors import CorruptRecordError
from kafkalab.record.compression import CompressionType, compress, decompress
from kafkalab.record.crc32c import crc32c
from kafkalab.record.varint import (
    VarintError,
    decode_varint,
    decode_varlong,
    encode_varint,
    encode_varlong,
    size_of_varint,
    size_of_varlong,
)

__all__ = [
    "TimestampType",
    "Header",
    "Record",
    "RecordBatch",
    "encode_record",
    "encode_batch",
    "decode_record",
    "decode_batch",
    "decode_batches",
    "iter_batches",
    "record_size_in_bytes",
    "batch_size_in_bytes",
    "MAGIC_V2",
    "NO_TIMESTAMP",
    "NO_PRODUCER_ID",
    "NO_PRODUCER_EPOCH",
    "NO_SEQUENCE",
    "NO_PARTITION_LEADER_EPOCH",
    "LOG_OVERHEAD",
    "RECORD_BATCH_OVERHEAD",
    "CRC_OFFSET",
    "ATTRIBUTES_OFFSET",
    "BATCH_HEADER_FORMAT",
]

MAGIC_V2 = 2
NO_TIMESTAMP = -1
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

# The fixed header, field by field (DefaultRecordBatch's *_OFFSET constants).
BATCH_HEADER_FORMAT = ">qiibIhiqqqhii"
LOG_OVERHEAD = 12  # base_offset + batch_length: what every log entry starts with
RECORD_BATCH_OVERHEAD = struct.calcsize(BATCH_HEADER_FORMAT)  # 61
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21  # the CRC covers the batch from here to its end
_PARTITION_LEADER_EPOCH_OFFSET = 12

COMPRESSION_CODEC_MASK = 0x07
TIMESTAMP_TYPE_MASK = 0x08
TRANSACTIONAL_FLAG_MASK = 0x10
CONTROL_FLAG_MASK = 0x20
DELETE_HORIZON_FLAG_MASK = 0x40


class TimestampType(enum.IntEnum):
    """Who set a batch's timestamps: the producer (CreateTime) or the broker (LogAppendTime)."""

    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


@dataclass(frozen=True)
class Header:
    """A record header: a UTF-8 string key and a nullable byte value (KIP-82)."""

    key: str
    value: bytes | None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise TypeError(f"header key must be str, got {type(self.key).__name__}")
        if self.value is not None:
            object.__setattr__(self, "value", bytes(self.value))


@dataclass(frozen=True)
class Record:
    """One record of a v2 batch.

    ``timestamp`` is absolute (the batch stores it as a delta from ``base_timestamp``); ``None``
    means "the batch's base timestamp". ``offset_delta`` is the record's offset minus the batch's
    ``base_offset``; :meth:`RecordBatch.of` assigns 0, 1, 2, ...
    """

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    timestamp: int | None = None
    offset_delta: int = 0
    attributes: int = 0  # int8, unused by Kafka so far; always 0

    def __post_init__(self) -> None:
        for name in ("key", "value"):
            v = getattr(self, name)
            if v is not None:
                if isinstance(v, str):
                    raise TypeError(f"record {name} must be bytes or None, got str (encode it first)")
                object.__setattr__(self, name, bytes(v))
        object.__setattr__(
            self, "headers", tuple(h if isinstance(h, Header) else Header(*h) for h in self.headers)
        )

    def size_in_bytes(self, base_timestamp: int = 0) -> int:
        """Encoded size including the length prefix, in a batch with ``base_timestamp``."""
        return record_size_in_bytes(
            self.offset_delta, _timestamp_delta(self, base_timestamp), self.key, self.value, self.headers
        )


@dataclass(frozen=True)
class RecordBatch:
    """A v2 record batch: the header fields and its records (decoded, uncompressed).

    Build one from records with :meth:`of`; :func:`encode_batch` and :func:`decode_batch` turn it
    into bytes and back. ``crc`` is only informative (filled in by :func:`decode_batch`): the
    encoder always computes the checksum, and equality ignores it.
    """

    base_offset: int = 0
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH
    magic: int = MAGIC_V2
    last_offset_delta: int = 0
    base_timestamp: int = NO_TIMESTAMP
    max_timestamp: int = NO_TIMESTAMP
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH
    base_sequence: int = NO_SEQUENCE
    records: tuple[Record, ...] = ()
    compression: CompressionType = CompressionType.NONE
    timestamp_type: TimestampType = TimestampType.CREATE_TIME
    is_transactional: bool = False
    is_control: bool = False
    has_delete_horizon_ms: bool = False
    crc: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", tuple(self.records))
        object.__setattr__(self, "compression", CompressionType(self.compression))
        object.__setattr__(self, "timestamp_type", TimestampType(self.timestamp_type))

    @classmethod
    def of(
        cls,
        records: Iterable[Record],
        *,
        base_offset: int = 0,
        base_timestamp: int | None = None,
        compression: CompressionType = CompressionType.NONE,
        timestamp_type: TimestampType = TimestampType.CREATE_TIME,
        log_append_time_ms: int | None = None,
        partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
        producer_id: int = NO_PRODUCER_ID,
        producer_epoch: int = NO_PRODUCER_EPOCH,
        base_sequence: int = NO_SEQUENCE,
        is_transactional: bool = False,
        is_control: bool = False,
    ) -> RecordBatch:
        """Build a batch as MemoryRecordsBuilder does: offsets 0..n-1, base = first timestamp, max = largest.

        Records without a timestamp get ``base_timestamp`` (like a producer stamping "now"), or
        NO_TIMESTAMP (-1) when that is not given either. With LOG_APPEND_TIME, ``max_timestamp``
        is ``log_append_time_ms`` (required), as the broker sets it.
        """
        default_ts = NO_TIMESTAMP if base_timestamp is None else base_timestamp
        stamped = tuple(
            replace(r, offset_delta=i, timestamp=default_ts if r.timestamp is None else r.timestamp)
            for i, r in enumerate(records)
        )
        first_ts = stamped[0].timestamp if stamped else default_ts
        max_ts = max((r.timestamp for r in stamped), default=NO_TIMESTAMP)
        if timestamp_type == TimestampType.LOG_APPEND_TIME:
            if log_append_time_ms is None:
                raise ValueError("a LOG_APPEND_TIME batch needs log_append_time_ms")
            max_ts = log_append_time_ms
        return cls(
            base_offset=base_offset,
            partition_leader_epoch=partition_leader_epoch,
            last_offset_delta=max(len(stamped) - 1, 0),
            base_timestamp=first_ts if first_ts is not None else NO_TIMESTAMP,
            max_timestamp=max_ts if max_ts is not None else NO_TIMESTAMP,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=base_sequence,
            records=stamped,
            compression=compression,
            timestamp_type=timestamp_type,
            is_transactional=is_transactional,
            is_control=is_control,
        )

    @property
    def attributes(self) -> int:
        """The int16 attributes: codec | timestamp type << 3 | transactional << 4 | control << 5 | ..."""
        return (
            int(self.compression)
            | (TIMESTAMP_TYPE_MASK if self.timestamp_type == TimestampType.LOG_APPEND_TIME else 0)
            | (TRANSACTIONAL_FLAG_MASK if self.is_transactional else 0)
            | (CONTROL_FLAG_MASK if self.is_control else 0)
            | (DELETE_HORIZON_FLAG_MASK if self.has_delete_horizon_ms else 0)
        )

    @property
    def last_offset(self) -> int:
        """Offset of the batch's last record: base_offset + last_offset_delta."""
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        """The offset after this batch (where the log end offset moves to)."""
        return self.last_offset + 1

    @property
    def record_count(self) -> int:
        """Number of records (the header's records_count)."""
        return len(self.records)

    @property
    def size_in_bytes(self) -> int:
        """Length of the encoded batch: 12 + batch_length."""
        return len(encode_batch(self))

    def offset_of(self, record: Record) -> int:
        """The absolute offset of one of this batch's records."""
        return self.base_offset + record.offset_delta

    def timestamp_of(self, record: Record) -> int:
        """A record's timestamp as a consumer sees it (max_timestamp for every record under LogAppendTime)."""
        if self.timestamp_type == TimestampType.LOG_APPEND_TIME:
            return self.max_timestamp
        return self.base_timestamp if record.timestamp is None else record.timestamp

    def _repr_html_(self) -> str:
        from kafkalab.record.dump import dump_html

        return dump_html(encode_batch(self))


# --------------------------------------------------------------------------- sizes


def _timestamp_delta(record: Record, base_timestamp: int) -> int:
    return 0 if record.timestamp is None else record.timestamp - base_timestamp


def _size_of_nullable(data: bytes | None) -> int:
    return size_of_varint(-1) if data is None else size_of_varint(len(data)) + len(data)


def record_size_in_bytes(
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header] = (),
) -> int:
    """Encoded size of one record, length prefix included (DefaultRecord.sizeInBytes)."""
    body = 1 + size_of_varlong(timestamp_delta) + size_of_varint(offset_delta)
    body += _size_of_nullable(key) + _size_of_nullable(value)
    body += size_of_varint(len(headers))
    for h in headers:
        body += _size_of_nullable(h.key.encode("utf-8")) + _size_of_nullable(h.value)
    return size_of_varint(body) + body


def batch_size_in_bytes(data: bytes, offset: int = 0) -> int:
    """Size of the encoded batch starting at ``offset``: LOG_OVERHEAD + batch_length (DefaultRecordBatch.sizeInBytes)."""
    if len(data) - offset < LOG_OVERHEAD:
        raise CorruptRecordError(f"need {LOG_OVERHEAD} bytes to read a batch's size at offset {offset}")
    (batch_length,) = struct.unpack_from(">i", data, offset + 8)
    return LOG_OVERHEAD + batch_length


# --------------------------------------------------------------------------- encoding


def _encode_nullable(data: bytes | None) -> bytes:
    """A varint length (-1 for null) followed by the bytes."""
    if data is None:
        return encode_varint(-1)
    return encode_varint(len(data)) + data


def encode_record(record: Record, base_timestamp: int) -> bytes:
    """Encode one record as DefaultRecord.writeTo does: a varint length, then the body it counts."""
    # BEGIN EXERCISE ex03_record_batch
    body = bytearray()
    body += struct.pack(">b", record.attributes)
    body += encode_varlong(_timestamp_delta(record, base_timestamp))
    body += encode_varint(record.offset_delta)
    body += _encode_nullable(record.key)
    body += _encode_nullable(record.value)
    body += encode_varint(len(record.headers))
    for header in record.headers:
        body += _encode_nullable(header.key.encode("utf-8"))
        body += _encode_nullable(header.value)
    return encode_varint(len(body)) + bytes(body)
    # END EXERCISE


def encode_batch(batch: RecordBatch) -> bytes:
    """Encode a batch as DefaultRecordBatch.writeHeader lays it out, with a CRC-32C over attributes..end."""
    # BEGIN EXERCISE ex03_record_batch
    records = b"".join(encode_record(r, batch.base_timestamp) for r in batch.records)
    if batch.compression != CompressionType.NONE:
        records = compress(batch.compression, records)
    # Everything the CRC covers: attributes through the end of the records.
    covered = (
        struct.pack(
            ">hiqqqhii",
            batch.attributes,
            batch.last_offset_delta,
            batch.base_timestamp,
            batch.max_timestamp,
            batch.producer_id,
            batch.producer_epoch,
            batch.base_sequence,
            len(batch.records),
        )
        + records
    )
    batch_length = len(covered) + (ATTRIBUTES_OFFSET - LOG_OVERHEAD)  # + leader epoch, magic, crc
    prefix = struct.pack(">qiib", batch.base_offset, batch_length, batch.partition_leader_epoch, batch.magic)
    return prefix + struct.pack(">I", crc32c(covered)) + covered
    # END EXERCISE


# --------------------------------------------------------------------------- decoding


class _Reader:
    """A cursor over bytes whose errors say which field ran out."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise CorruptRecordError(
                f"{what} needs {n} bytes at offset {self.pos}, but only {self.end - self.pos} remain"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def varint(self, what: str) -> int:
        try:
            value, pos = decode_varint(memoryview(self.data)[: self.end], self.pos)
        except VarintError as exc:
            raise CorruptRecordError(f"{what}: {exc}") from None
        self.pos = pos
        return value

    def varlong(self, what: str) -> int:
        try:
            value, pos = decode_varlong(memoryview(self.data)[: self.end], self.pos)
        except VarintError as exc:
            raise CorruptRecordError(f"{what}: {exc}") from None
        self.pos = pos
        return value

    def nullable(self, what: str) -> bytes | None:
        n = self.varint(f"{what} length")
        if n < 0:
            return None
        return self.take(n, what)


def _read_record(reader: _Reader, base_timestamp: int) -> Record:
    length = reader.varint("record length")
    start = reader.pos
    if length < 0 or start + length > reader.end:
        raise CorruptRecordError(
            f"Invalid record size: expected to read {length} bytes in record payload, "
            f"but instead the buffer has only {reader.end - start} remaining bytes."
        )
    body = _Reader(reader.data, start, start + length)
    (attributes,) = struct.unpack(">b", body.take(1, "record attributes"))
    timestamp_delta = body.varlong("timestamp delta")
    offset_delta = body.varint("offset delta")
    key = body.nullable("key")
    value = body.nullable("value")
    header_count = body.varint("headers count")
    if header_count < 0:
        raise CorruptRecordError(f"Found invalid number of record headers {header_count}")
    headers = []
    for _ in range(header_count):
        key_bytes = body.nullable("header key")
        if key_bytes is None:
            raise CorruptRecordError("Invalid negative header key size")
        try:
            header_key = key_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptRecordError(f"header key is not valid UTF-8: {exc}") from None
        headers.append(Header(header_key, body.nullable("header value")))
    if body.pos != body.end:
        raise CorruptRecordError(
            f"Invalid record size: expected to read {length} bytes in record payload, "
            f"but instead read {body.pos - start}"
        )
    reader.pos = body.end
    return Record(key, value, tuple(headers), base_timestamp + timestamp_delta, offset_delta, attributes)


def decode_record(data: bytes, base_timestamp: int = 0, offset: int = 0) -> tuple[Record, int]:
    """Decode one length-prefixed record at ``offset``; return (record, offset after it)."""
    reader = _Reader(bytes(data), offset)
    record = _read_record(reader, base_timestamp)
    return record, reader.pos


def _decode_one(data: bytes, start: int) -> tuple[RecordBatch, int]:
    if len(data) - start < RECORD_BATCH_OVERHEAD:
        raise CorruptRecordError(
            f"a record batch needs at least {RECORD_BATCH_OVERHEAD} bytes, only {len(data) - start} remain"
        )
    fields = struct.unpack_from(BATCH_HEADER_FORMAT, data, start)
    (base_offset, batch_length, leader_epoch, magic, crc, attributes, last_offset_delta,
     base_timestamp, max_timestamp, producer_id, producer_epoch, base_sequence, count) = fields  # fmt: skip
    if magic != MAGIC_V2:
        raise CorruptRecordError(f"unsupported magic {magic}: kafkalab reads record batch format v2 only")
    if batch_length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD:
        raise CorruptRecordError(
            f"Record batch size {batch_length + LOG_OVERHEAD} is smaller than the minimum allowed "
            f"overhead {RECORD_BATCH_OVERHEAD}"
        )
    end = start + LOG_OVERHEAD + batch_length
    if end > len(data):
        raise CorruptRecordError(
            f"batch_length {batch_length} says the batch ends at byte {end}, but the data has {len(data)} bytes"
        )
    computed = crc32c(data[start + ATTRIBUTES_OFFSET : end])
    if computed != crc:
        raise CorruptRecordError(
            f"Record is corrupt (stored crc = {crc} ({crc:#010x}), computed crc = {computed} ({computed:#010x}))"
        )
    if count < 0:
        raise CorruptRecordError(f"Found invalid record count {count}")
    compression_id = attributes & COMPRESSION_CODEC_MASK
    payload = data[start + RECORD_BATCH_OVERHEAD : end]
    if compression_id != CompressionType.NONE:
        payload = decompress(compression_id, payload)
    reader = _Reader(payload)
    records = []
    for i in range(count):
        if reader.pos >= reader.end:
            raise CorruptRecordError(
                f"Incorrect declared batch size, premature EOF reached: records_count is {count} "
                f"but the data holds only {i} record(s)"
            )
        records.append(_read_record(reader, base_timestamp))
    if reader.pos != reader.end:
        raise CorruptRecordError(
            f"Incorrect declared batch size, there are still {reader.end - reader.pos} bytes remaining "
            f"after {count} record(s)"
        )
    batch = RecordBatch(
        base_offset=base_offset,
        partition_leader_epoch=leader_epoch,
        magic=magic,
        last_offset_delta=last_offset_delta,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        records=tuple(records),
        compression=CompressionType(compression_id),
        timestamp_type=TimestampType(1 if attributes & TIMESTAMP_TYPE_MASK else 0),
        is_transactional=bool(attributes & TRANSACTIONAL_FLAG_MASK),
        is_control=bool(attributes & CONTROL_FLAG_MASK),
        has_delete_horizon_ms=bool(attributes & DELETE_HORIZON_FLAG_MASK),
        crc=crc,
    )
    return batch, end


def decode_batch(data: bytes) -> RecordBatch:
    """Decode exactly one batch, checking its CRC-32C and lengths (CorruptRecordError if bad)."""
    data = bytes(data)
    batch, end = _decode_one(data, 0)
    if end != len(data):
        raise CorruptRecordError(
            f"{len(data) - end} bytes follow the batch (batch_length says it ends at byte {end}); "
            "use decode_batches for concatenated batches"
        )
    return batch


def iter_batches(data: bytes, *, allow_truncated_tail: bool = False) -> Iterator[RecordBatch]:
    """Yield the batches of concatenated batch bytes (a log segment, a fetch response's records)."""
    data = bytes(data)
    pos = 0
    while pos < len(data):
        if allow_truncated_tail:
            if len(data) - pos < LOG_OVERHEAD:
                return
            (batch_length,) = struct.unpack_from(">i", data, pos + 8)
            if pos + LOG_OVERHEAD + batch_length > len(data):
                return  # a fetch may end mid-batch; consumers ignore that partial batch
        batch, pos = _decode_one(data, pos)
        yield batch


def decode_batches(data: bytes, *, allow_truncated_tail: bool = False) -> list[RecordBatch]:
    """Decode concatenated batches; with ``allow_truncated_tail`` a partial last batch is dropped, as a consumer does."""
    return list(iter_batches(data, allow_truncated_tail=allow_truncated_tail))
