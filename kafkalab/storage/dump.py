"""``kafka-dump-log.sh``: what is inside a segment file, line for line as Kafka prints it.

    $ kafka-dump-log.sh --files 00000000000000000000.log --print-data-log
    Dumping 00000000000000000000.log
    Log starting offset: 0
    baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000001 size: 90 magic: 2 compresscodec: none crc: 1864520338 isvalid: true
    | offset: 0 CreateTime: 1700000000000 keySize: 1 valueSize: 5 sequence: -1 headerKeys: [] key: a payload: hello
    | offset: 1 CreateTime: 1700000000001 keySize: -1 valueSize: 5 sequence: -1 headerKeys: [] payload: world

A ``.index`` dumps as ``offset: O position: P`` lines, a ``.timeindex`` as ``timestamp: T offset: O``.
``print_data`` implies ``deep_iteration`` (one line per record), as in Kafka; keys and values are
shown as UTF-8 text (Kafka's default StringDecoder). Bytes after the last whole batch are reported
as ``Found N invalid bytes at the end of <file>``. Kafka prints its consistency checks of the
indexes (mismatches) on stderr; they are not reproduced here.

Kafka: org.apache.kafka.tools.DumpLogSegments (dumpLog, printBatchLevel, printRecordMetadata,
printRecordContents, printControlRecord, dumpIndex, dumpTimeIndex, printTrailingBytes).
"""

from __future__ import annotations

import struct
from pathlib import Path

from kafkalab.errors import CorruptRecordError
from kafkalab.record import LOG_OVERHEAD, RECORD_BATCH_OVERHEAD
from kafkalab.record.batch import DELETE_HORIZON_FLAG_MASK
from kafkalab.record.raw import RawRecordBatch
from kafkalab.storage.index import OFFSET_ENTRY, TIME_ENTRY

INT32_MAX = 2**31 - 1
_CONTROL_TYPES = {0: "ABORT", 1: "COMMIT", 2: "LEADER_CHANGE", 3: "SNAPSHOT_HEADER", 4: "SNAPSHOT_FOOTER",
                  5: "KRAFT_VERSION", 6: "KRAFT_VOTERS"}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _increment_sequence(sequence: int, increment: int) -> int:
    """DefaultRecordBatch.incrementSequence: sequences wrap at Integer.MAX_VALUE."""
    if sequence > INT32_MAX - increment:
        return increment - (INT32_MAX - sequence) - 1
    return sequence + increment


def _timestamp_type(batch: RawRecordBatch) -> str:
    return "LogAppendTime" if batch.timestamp_type.value == 1 else "CreateTime"


def batch_line(batch: RawRecordBatch, position: int) -> str:
    """printBatchLevel for a v2 batch."""
    last_sequence = -1 if batch.base_sequence == -1 else _increment_sequence(batch.base_sequence, batch.last_offset_delta)
    horizon = (f"OptionalLong[{batch.base_timestamp}]" if batch.attributes & DELETE_HORIZON_FLAG_MASK
               else "OptionalLong.empty")
    return (f"baseOffset: {batch.base_offset} lastOffset: {batch.last_offset} count: {batch.record_count} "
            f"baseSequence: {batch.base_sequence} lastSequence: {last_sequence} producerId: {batch.producer_id} "
            f"producerEpoch: {batch.producer_epoch} partitionLeaderEpoch: {batch.partition_leader_epoch} "
            f"isTransactional: {_bool(batch.is_transactional)} isControl: {_bool(batch.is_control)} "
            f"deleteHorizonMs: {horizon} position: {position} {_timestamp_type(batch)}: {batch.max_timestamp} "
            f"size: {batch.size_in_bytes} magic: {batch.magic} compresscodec: {batch.compression.name.lower()} "
            f"crc: {batch.crc} isvalid: {_bool(batch.is_valid())}")


def _control_text(key: bytes | None, value: bytes | None) -> str:
    """printControlRecord: an end-transaction marker's type and coordinator epoch."""
    if key is None or len(key) < 4:
        return " controlType: UNKNOWN(-1)"
    (type_id,) = struct.unpack_from(">h", key, 2)
    name = _CONTROL_TYPES.get(type_id, "UNKNOWN")
    if type_id in (0, 1) and value is not None and len(value) >= 6:
        (coordinator_epoch,) = struct.unpack_from(">i", value, 2)
        return f" endTxnMarker: {name} coordinatorEpoch: {coordinator_epoch}"
    return f" controlType: {name}({type_id})"


def record_lines(batch: RawRecordBatch, print_data: bool) -> list[str]:
    """printRecordMetadata (+ printRecordContents) for each record of a batch."""
    decoded = batch.decoded
    lines = []
    for record in decoded.records:
        sequence = _increment_sequence(batch.base_sequence, record.offset_delta) if batch.base_sequence >= 0 else -1
        line = (f"| offset: {decoded.offset_of(record)} {_timestamp_type(batch)}: {decoded.timestamp_of(record)} "
                f"keySize: {-1 if record.key is None else len(record.key)} "
                f"valueSize: {-1 if record.value is None else len(record.value)} sequence: {sequence} "
                f"headerKeys: [{','.join(h.key for h in record.headers)}]")
        if batch.is_control:
            line += _control_text(record.key, record.value)
        elif print_data:
            if record.key is not None:
                line += f" key: {record.key.decode('utf-8', errors='replace')}"
            if record.value is not None:
                line += f" payload: {record.value.decode('utf-8', errors='replace')}"
        lines.append(line)
    return lines


def _dump_segment(path: Path, print_data: bool, deep_iteration: bool) -> list[str]:
    lines = [f"Log starting offset: {int(path.name.split('.')[0])}"]
    data = path.read_bytes()
    position = 0
    while len(data) - position >= LOG_OVERHEAD + 5:  # FileLogInputStream: offset, size, epoch, magic
        (length,) = struct.unpack_from(">i", data, position + 8)
        end = position + LOG_OVERHEAD + length
        if length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD or end > len(data):
            break
        try:
            batch = RawRecordBatch(data[position:end])
        except CorruptRecordError:
            break
        lines.append(batch_line(batch, position))
        if deep_iteration or print_data:
            lines.extend(record_lines(batch, print_data))
        position = end
    if position < len(data):
        lines.append(f"Found {len(data) - position} invalid bytes at the end of {path.name}")
    return lines


def _dump_index(path: Path) -> list[str]:
    base_offset = int(path.name.split(".")[0])
    data = path.read_bytes()
    usable = len(data) - len(data) % OFFSET_ENTRY.size
    if usable == 0:
        return [f"{path} is empty."]
    lines = []
    for i, (relative, position) in enumerate(OFFSET_ENTRY.iter_unpack(data[:usable])):
        if relative == 0 and i > 0:
            break  # a preallocated, zero-filled tail: Kafka stops here too
        lines.append(f"offset: {base_offset + relative} position: {position}")
    return lines


def _dump_time_index(path: Path) -> list[str]:
    base_offset = int(path.name.split(".")[0])
    data = path.read_bytes()
    usable = len(data) - len(data) % TIME_ENTRY.size
    lines = []
    for i, (timestamp, relative) in enumerate(TIME_ENTRY.iter_unpack(data[:usable])):
        if relative == 0 and i > 0:
            break
        lines.append(f"timestamp: {timestamp} offset: {base_offset + relative}")
    return lines


def dump_log(path: Path | str, print_data: bool = False, deep_iteration: bool = False) -> str:
    """The text ``kafka-dump-log.sh --files <path> [--deep-iteration] [--print-data-log]`` prints."""
    path_text = str(path)
    path = Path(path)
    lines = [f"Dumping {path_text}"]
    if path.suffix == ".log":
        lines += _dump_segment(path, print_data, deep_iteration)
    elif path.suffix == ".index":
        lines += _dump_index(path)
    elif path.suffix == ".timeindex":
        lines += _dump_time_index(path)
    else:
        lines.append(f"Ignoring unknown file {path_text}")
    return "\n".join(lines) + "\n"
