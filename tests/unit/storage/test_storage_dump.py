"""dump_log against Apache Kafka 4.3.1's kafka-dump-log.sh, on a segment built the same way every time.

The golden files were printed by ``org.apache.kafka.tools.DumpLogSegments`` (Kafka 4.3.1) on the
segment :func:`build_segment` writes (``--files X.log [--deep-iteration | --print-data-log]``,
``--files X.index``, ``--files X.timeindex``), run from inside the partition directory.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from kafkalab.config import TopicConfig
from kafkalab.record import CompressionType, Header, Record, RecordBatch, TimestampType, encode_batch
from kafkalab.record.raw import RawRecordBatch
from kafkalab.storage import DiskPartitionLog, dump_log

GOLDEN = Path(__file__).parent / "golden"
T0 = 1_700_000_000_000
SEGMENT = "00000000000000000000"


def build_segment(log_dir: Path) -> DiskPartitionLog:
    """Fifteen batches: keys and null keys, headers, an idempotent producer, gzip, two leader epochs,
    a transaction with its COMMIT marker, and a LogAppendTime batch appended as a follower."""
    log = DiskPartitionLog(log_dir, "golden", 0, TopicConfig({"segment.bytes": 1_000_000}), T0, index_interval_bytes=512)
    for i in range(12):
        records = [Record(None if i % 3 == 0 else b"key-%d" % i, b"value %d.%d " % (i, j) * 8,
                          (Header("trace", b"t"), Header("empty", None)) if i % 4 == 0 else (), T0 + 10 * i + j)
                   for j in range(3)]
        batch = RecordBatch.of(records, base_timestamp=T0 + 10 * i, producer_id=4000 if i % 2 else -1,
                               producer_epoch=0 if i % 2 else -1, base_sequence=3 * (i // 2) if i % 2 else -1,
                               compression=CompressionType.GZIP if i % 5 == 0 else CompressionType.NONE)
        log.append_raw(RawRecordBatch(encode_batch(batch)), T0 + 10 * i, leader_epoch=0 if i < 6 else 3)
    transactional = RecordBatch.of([Record(b"tx", b"in a transaction", (), T0 + 200)], producer_id=5000, producer_epoch=1,
                                   base_sequence=0, is_transactional=True)
    log.append_raw(RawRecordBatch(encode_batch(transactional)), T0 + 200, leader_epoch=3)
    marker = RecordBatch.of([Record(struct.pack(">hh", 0, 1), struct.pack(">hi", 0, 7), (), T0 + 210)],
                            base_offset=log.log_end_offset, producer_id=5000, producer_epoch=1,
                            is_transactional=True, is_control=True, partition_leader_epoch=3)
    log.append_as_follower(RawRecordBatch(encode_batch(marker)))
    stamped = RecordBatch.of([Record(b"lat", b"stamped by the broker", (), T0 + 5)], base_offset=log.log_end_offset,
                             timestamp_type=TimestampType.LOG_APPEND_TIME, log_append_time_ms=T0 + 300, partition_leader_epoch=3)
    log.append_as_follower(RawRecordBatch(encode_batch(stamped)))
    log.close()
    return log


@pytest.fixture
def segment_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = build_segment(tmp_path)
    monkeypatch.chdir(log.dir)  # "Dumping <file>" prints the path as given, as Kafka does
    return log.dir


@pytest.mark.parametrize("golden, print_data, deep", [
    ("dump-log.txt", False, False),
    ("dump-log-deep-iteration.txt", False, True),
    ("dump-log-print-data-log.txt", True, False),
])
def test_log_dump_matches_kafka(segment_dir: Path, golden: str, print_data: bool, deep: bool) -> None:
    assert dump_log(f"{SEGMENT}.log", print_data=print_data, deep_iteration=deep) == (GOLDEN / golden).read_text()


def test_index_dumps_match_kafka(segment_dir: Path) -> None:
    assert dump_log(f"{SEGMENT}.index") == (GOLDEN / "dump-index.txt").read_text()
    assert dump_log(f"{SEGMENT}.timeindex") == (GOLDEN / "dump-timeindex.txt").read_text()
    assert len((GOLDEN / "dump-index.txt").read_text().splitlines()) > 3, "the golden segment has index entries"


def test_trailing_bytes_are_reported(segment_dir: Path) -> None:
    with open(f"{SEGMENT}.log", "ab") as out:
        out.write(b"\x00" * 7)
    text = dump_log(f"{SEGMENT}.log")
    assert text.endswith(f"Found 7 invalid bytes at the end of {SEGMENT}.log\n")
    assert text.count("baseOffset:") == 15


def test_a_corrupt_batch_says_isvalid_false(segment_dir: Path) -> None:
    data = bytearray(Path(f"{SEGMENT}.log").read_bytes())
    data[-3] ^= 0xFF  # inside the last batch's records: its CRC no longer matches
    Path(f"{SEGMENT}.log").write_bytes(bytes(data))
    last = dump_log(f"{SEGMENT}.log").splitlines()[-1]
    assert last.startswith("baseOffset: 38 ") and last.endswith("isvalid: false")


def test_unknown_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "leader-epoch-checkpoint"
    path.write_text("0\n0\n")
    assert dump_log(path) == f"Dumping {path}\nIgnoring unknown file {path}\n"


def test_empty_index(tmp_path: Path) -> None:
    path = tmp_path / f"{SEGMENT}.index"
    path.write_bytes(b"")
    assert dump_log(path) == f"Dumping {path}\n{path} is empty.\n"
