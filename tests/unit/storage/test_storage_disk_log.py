"""DiskPartitionLog: the simulator's log semantics, on disk, with the byte paths of a real broker."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from kafkalab.config import TopicConfig
from kafkalab.errors import (
    ImmutableLogError,
    InvalidTimestampError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    RecordListTooLargeError,
)
from kafkalab.log import PartitionLog
from kafkalab.record import CompressionType, Record, RecordBatch, TimestampType, encode_batch
from kafkalab.record.raw import RawRecordBatch, split_batches
from kafkalab.storage import DiskPartitionLog, FileHandleCache, UnexpectedAppendOffsetError
from kafkalab.storage.index import OFFSET_ENTRY, TIME_ENTRY

T0 = 1_700_000_000_000


def raw_batch(count: int = 1, timestamp: int = T0, value_size: int = 40, key: bytes | None = b"k",
              compression: CompressionType = CompressionType.NONE, tag: int = 0) -> RawRecordBatch:
    records = [Record(key, bytes([65 + (tag + i) % 26]) * value_size, (), timestamp + i) for i in range(count)]
    return RawRecordBatch(encode_batch(RecordBatch.of(records, base_timestamp=timestamp, compression=compression)))


def open_log(tmp_path: Path, clean: bool = True, **config) -> DiskPartitionLog:
    return DiskPartitionLog(tmp_path, "orders", 0, TopicConfig(config), T0, had_clean_shutdown=clean)


def fill(log: DiskPartitionLog, batches: int, records: int = 2, value_size: int = 40, start_ms: int = T0) -> list[RawRecordBatch]:
    stored = []
    for i in range(batches):
        batch = raw_batch(records, start_ms + i, value_size, tag=i)
        info = log.append_raw(batch, start_ms + i, leader_epoch=0)
        stored.append(batch.with_offsets(info.first_offset, 0))
    return stored


# -- appends, offsets, round trips ----------------------------------------------------------------
def test_bytes_are_stored_as_received_with_offsets_patched(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    batches = fill(log, 5, records=3)
    assert (log.log_start_offset, log.log_end_offset) == (0, 15)
    data = log.read_raw(0, None)
    assert data == b"".join(b.data for b in batches), "exactly the producer's bytes, offsets and epoch patched"
    for batch in split_batches(data):
        batch.ensure_valid()  # patching offsets and epoch left the CRC valid
    assert [b.base_offset for b in split_batches(data)] == [0, 3, 6, 9, 12]
    assert (tmp_path / "orders-0" / "00000000000000000000.log").read_bytes() == data


def test_record_level_append_and_read_round_trip(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    info = log.append([Record(b"a", b"1", (), T0), Record(None, b"2", (), T0 + 1)], T0, CompressionType.GZIP)
    assert (info.first_offset, info.last_offset, info.log_append_time) == (0, 1, -1)
    log.append([Record(b"c", None)], T0 + 5)
    records = log.read(0)
    assert [(r.offset, r.key, r.value, r.timestamp) for r in records] == [
        (0, b"a", b"1", T0), (1, None, b"2", T0 + 1), (2, b"c", None, T0 + 5)]
    assert [r.offset for r in log.read(1)] == [1, 2]
    assert [r.offset for r in log.read(0, max_records=2)] == [0, 1]
    assert log.read(3) == []


def test_offsets_survive_a_restart(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 600})
    fill(log, 20)
    before = log.read(0)
    segments = len(log.segments)
    log.close()
    again = open_log(tmp_path, **{"segment.bytes": 600})
    assert len(again.segments) == segments > 3
    assert (again.log_start_offset, again.log_end_offset) == (0, 40)
    assert again.read(0) == before
    assert again.append_raw(raw_batch(), T0 + 100).first_offset == 40, "offsets continue, never reused"


def test_out_of_range_offsets(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 2)
    assert log.read_raw(4, 100) == b"" and log.read(4) == []
    for bad in (-1, 5):
        with pytest.raises(OffsetOutOfRangeError):
            log.read_raw(bad, 100)
        with pytest.raises(OffsetOutOfRangeError):
            log.read(bad)


def test_no_update_in_place(tmp_path: Path) -> None:
    with pytest.raises(ImmutableLogError):
        open_log(tmp_path).update(0, b"x")


# -- validation, as the in-memory log does ------------------------------------------------------------
def test_size_limits(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"max.message.bytes": 300, "segment.bytes": 250})
    with pytest.raises(MessageTooLargeError):
        log.append_raw(raw_batch(1, value_size=400), T0)
    with pytest.raises(RecordListTooLargeError):
        log.append_raw(raw_batch(1, value_size=220), T0)
    assert log.log_end_offset == 0


def test_timestamp_checks(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"message.timestamp.after.max.ms": 1000, "message.timestamp.before.max.ms": 5000})
    with pytest.raises(InvalidTimestampError, match="offset 0"):
        log.append_raw(raw_batch(1, timestamp=T0 + 2000), T0)
    with pytest.raises(InvalidTimestampError):
        log.append_raw(raw_batch(1, timestamp=T0 - 6000), T0)
    log.append_raw(raw_batch(2, timestamp=T0 - 4000), T0)
    assert log.log_end_offset == 2


def test_log_append_time(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"message.timestamp.type": "LogAppendTime"})
    info = log.append_raw(raw_batch(2, timestamp=5), T0 + 42)
    assert info.log_append_time == T0 + 42
    stored = next(split_batches(log.read_raw(0, None)))
    stored.ensure_valid()  # the CRC was recomputed over the stamped header
    assert stored.timestamp_type == TimestampType.LOG_APPEND_TIME and stored.max_timestamp == T0 + 42
    assert {r.timestamp for r in log.read(0)} == {T0 + 42}


def test_matches_the_in_memory_log(tmp_path: Path) -> None:
    """Random appends, retention and DeleteRecords: the same offsets, records and segment bases as PartitionLog."""
    rng = random.Random(7)
    config = {"segment.bytes": 900, "retention.bytes": 3000, "retention.ms": 50_000}
    disk, memory = open_log(tmp_path, **dict(config)), PartitionLog("orders", 0, TopicConfig(config), T0)
    now = T0
    for step in range(120):
        now += rng.randint(0, 2000)
        records = [Record(b"k%d" % rng.randint(0, 9), bytes(rng.randint(1, 120)), (), now) for _ in range(rng.randint(1, 4))]
        assert disk.append(records, now) == memory.append(records, now)
        if step % 17 == 0:
            assert disk.delete_retention_breached_segments(now) == memory.delete_retention_breached_segments(now)
        if step == 60:
            target = (disk.log_start_offset + disk.log_end_offset) // 2
            assert disk.delete_records(target) == memory.delete_records(target)
    assert (disk.log_start_offset, disk.log_end_offset) == (memory.log_start_offset, memory.log_end_offset)
    assert [s.base_offset for s in disk.segments] == [s.base_offset for s in memory.segments]
    assert [s["size_in_bytes"] for s in disk.describe()["segments"]] == [s["size_in_bytes"] for s in memory.describe()["segments"]]
    for offset in range(disk.log_start_offset, disk.log_end_offset + 1, 7):
        assert [(r.offset, r.key, r.value, r.timestamp) for r in disk.read(offset, max_bytes=700)] == \
               [(r.offset, r.key, r.value, r.timestamp) for r in memory.read(offset, max_bytes=700)]


# -- segments: rolling and retention ------------------------------------------------------------------
def test_rolls_by_size_and_names_files_by_base_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 10)
    names = sorted(p.name for p in log.dir.iterdir())
    bases = [s.base_offset for s in log.segments]
    assert len(bases) > 2 and all(s.size_in_bytes <= 400 for s in log.segments)
    for base in bases:
        for suffix in (".log", ".index", ".timeindex"):
            assert f"{base:020d}{suffix}" in names


def test_rolls_by_segment_ms(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.ms": 1000})
    log.append_raw(raw_batch(1, timestamp=T0), T0)
    log.append_raw(raw_batch(1, timestamp=T0 + 1000), T0 + 1000)
    assert len(log.segments) == 1
    log.append_raw(raw_batch(1, timestamp=T0 + 1001), T0 + 1001)
    assert [s.base_offset for s in log.segments] == [0, 2]


def test_a_roll_moves_the_recovery_point(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 10)
    assert log.recovery_point == log.active_segment.base_offset > 0
    log.flush()
    assert log.recovery_point == log.log_end_offset


def test_retention_by_bytes_and_time_deletes_files(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400, "retention.bytes": 800})
    fill(log, 12)
    first_files = {p.name for p in log.dir.glob("*.log")}
    deleted = log.delete_retention_breached_segments(T0)
    assert deleted > 0 and log.size_in_bytes <= 800 + 400
    assert log.log_start_offset == log.segments[0].base_offset
    assert len({p.name for p in log.dir.glob("*.log")}) == len(first_files) - deleted
    with pytest.raises(OffsetOutOfRangeError):
        log.read_raw(0, 100)
    timed = open_log(tmp_path / "t", **{"segment.bytes": 400, "retention.ms": 10_000})
    fill(timed, 6)
    assert timed.delete_retention_breached_segments(T0 + 5_000) == 0
    segments = len(timed.segments)
    assert timed.delete_retention_breached_segments(T0 + 60_000) == segments > 1
    assert timed.log_start_offset == timed.log_end_offset == 12, "everything old went; a fresh segment remains"
    assert timed.append_raw(raw_batch(), T0 + 60_000).first_offset == 12


def test_delete_records_moves_the_start_and_drops_whole_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 10)
    second = log.segments[1].base_offset
    assert log.delete_records(second + 1) == second + 1
    assert log.segments[0].base_offset == second
    assert log.read(second + 1)[0].offset == second + 1
    with pytest.raises(OffsetOutOfRangeError):
        log.read(second)
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records(log.log_end_offset + 1)


# -- the indexes ------------------------------------------------------------------------------
def test_index_is_sparse_and_points_at_batch_starts(tmp_path: Path) -> None:
    log = DiskPartitionLog(tmp_path, "orders", 0, TopicConfig(), T0, index_interval_bytes=500)
    stored = fill(log, 60, records=2, value_size=60)
    log.flush()
    segment = log.active_segment
    raw_index = segment.offset_index.path.read_bytes()
    assert len(raw_index) == 8 * len(segment.offset_index) > 5
    positions = {}
    position = 0
    for batch in stored:
        positions[batch.last_offset] = position
        position += batch.size_in_bytes
    previous = -1
    for relative, position in OFFSET_ENTRY.iter_unpack(raw_index):
        assert positions[relative] == position, "an entry is a batch's last offset and where that batch starts"
        assert position - previous > 500 if previous >= 0 else True
        previous = position
    timestamps = [ts for ts, _ in TIME_ENTRY.iter_unpack(segment.time_index.path.read_bytes())]
    assert timestamps == sorted(set(timestamps)) and timestamps


def test_every_offset_is_found_through_the_index(tmp_path: Path) -> None:
    log = DiskPartitionLog(tmp_path, "orders", 0, TopicConfig({"segment.bytes": 5000}), T0, index_interval_bytes=300)
    fill(log, 80, records=3)
    for offset in range(0, log.log_end_offset):
        batch = next(split_batches(log.read_raw(offset, 1)))
        assert batch.base_offset <= offset <= batch.last_offset


def test_offset_for_timestamp(tmp_path: Path) -> None:
    log = DiskPartitionLog(tmp_path, "orders", 0, TopicConfig({"segment.bytes": 2000}), T0, index_interval_bytes=300)
    for i in range(40):  # records at T0 + 100*i and T0 + 100*i + 1
        log.append_raw(raw_batch(2, timestamp=T0 + 100 * i), T0 + 100 * i)
    assert len(log.segments) > 2
    assert log.offset_for_timestamp(0) == (0, T0)
    assert log.offset_for_timestamp(T0 + 1) == (1, T0 + 1)
    assert log.offset_for_timestamp(T0 + 1550) == (32, T0 + 1600)
    assert log.offset_for_timestamp(T0 + 3901) == (79, T0 + 3901)
    assert log.offset_for_timestamp(T0 + 3902) is None
    log.delete_records(33)
    assert log.offset_for_timestamp(T0 + 1550) == (33, T0 + 1601)


# -- read_raw: KIP-74, max_bytes, max_offset ----------------------------------------------------------
def test_read_raw_limits(tmp_path: Path) -> None:
    log = DiskPartitionLog(tmp_path, "orders", 0, TopicConfig(), T0, index_interval_bytes=256)
    stored = fill(log, 30, records=2)
    size = stored[0].size_in_bytes
    assert all(b.size_in_bytes == size for b in stored)
    whole = lambda data: [b.base_offset for b in split_batches(data)]  # noqa: E731 - raises on a partial batch
    assert whole(log.read_raw(0, size * 3)) == [0, 2, 4]
    assert whole(log.read_raw(0, size * 3 + size - 1)) == [0, 2, 4], "never a partial batch"
    assert whole(log.read_raw(5, size * 2)) == [4, 6], "starts at the batch holding the fetch offset"
    assert whole(log.read_raw(10, 1)) == [10], "KIP-74: at least one batch, even bigger than max_bytes"
    assert whole(log.read_raw(10, 0)) == [10]
    assert whole(log.read_raw(0, None, max_offset=6)) == [0, 2, 4]
    assert whole(log.read_raw(0, size * 10, max_offset=5)) == [0, 2, 4], "the batch holding max_offset starts before it"
    assert log.read_raw(6, None, max_offset=6) == b"" and log.read_raw(7, None, max_offset=6) == b""
    assert whole(log.read_raw(40, None)) == [40 + 2 * i for i in range(10)]


def test_read_raw_returns_one_segment_at_a_time(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 10)
    first = log.segments[0]
    data = log.read_raw(0, None)
    assert len(data) == first.size_in_bytes
    last = list(split_batches(data))[-1]
    assert log.read_raw(last.next_offset, None)[:8] == last.next_offset.to_bytes(8, "big")


def test_read_honours_max_bytes_with_whole_batches(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    stored = fill(log, 5, records=2)
    size = stored[0].size_in_bytes
    assert [r.offset for r in log.read(1, max_bytes=1)] == [1]
    assert [r.offset for r in log.read(0, max_bytes=size * 2)] == [0, 1, 2, 3]


# -- followers, truncation, leader epochs -----------------------------------------------------------
def test_follower_appends_at_the_log_end(tmp_path: Path) -> None:
    leader = open_log(tmp_path / "leader")
    fill(leader, 4)
    follower = open_log(tmp_path / "follower")
    chunk = leader.read_raw(0, None)
    assert follower.append_batches_as_follower(chunk) == 4
    assert follower.read_raw(0, None) == chunk and follower.log_end_offset == 8
    with pytest.raises(UnexpectedAppendOffsetError):
        follower.append_as_follower(next(split_batches(chunk)))


def test_truncate_to_batch_boundary_and_inside_a_batch(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 12, records=2)
    expected = log.read(0)
    assert log.truncate_to(30) == 0
    assert log.truncate_to(20) == 4 and log.log_end_offset == 20
    assert log.read(0) == expected[:20]
    assert all(s.base_offset < 20 for s in log.segments)
    assert log.truncate_to(15) == 5 and log.log_end_offset == 15
    assert [r.offset for r in log.read(0)] == list(range(15)), "the batch 14..15 keeps offset 14"
    for batch in split_batches(b"".join(log.read_raw(s.base_offset, None) for s in log.segments if s.size_in_bytes)):
        batch.ensure_valid()
    assert log.append_raw(raw_batch(), T0).first_offset == 15
    log.close()
    again = open_log(tmp_path, clean=False, **{"segment.bytes": 400})
    assert again.log_end_offset == 16 and [r.offset for r in again.read(0)] == list(range(16))


def test_truncate_below_the_log_start_empties_the_log(tmp_path: Path) -> None:
    log = open_log(tmp_path, **{"segment.bytes": 400})
    fill(log, 10)
    log.delete_records(8)
    assert log.truncate_to(5) == 12
    assert (log.log_start_offset, log.log_end_offset) == (5, 5)
    assert [s.base_offset for s in log.segments] == [5]
    assert sorted(p.name for p in log.dir.glob("*.log")) == ["00000000000000000005.log"]


def test_leader_epoch_checkpoint(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    for epoch in (0, 0, 2, 2, 5):
        log.append_raw(raw_batch(2), T0, leader_epoch=epoch)
    path = log.dir / "leader-epoch-checkpoint"
    assert path.read_text() == "0\n3\n0 0\n2 4\n5 8\n"
    assert log.end_offset_for_epoch(2) == (2, 8)
    assert log.end_offset_for_epoch(5) == (5, 10)
    assert log.end_offset_for_epoch(1) == (0, 4)
    assert log.end_offset_for_epoch(6) == (-1, -1)
    log.truncate_to(6)
    assert path.read_text() == "0\n2\n0 0\n2 4\n"
    log.delete_records(5)
    assert path.read_text() == "0\n1\n2 5\n"
    log.close()
    assert open_log(tmp_path).epoch_cache.entries == [(2, 5)]


def test_partition_metadata(tmp_path: Path) -> None:
    log = DiskPartitionLog(tmp_path, "orders", 0, topic_id="vIhBsyPmQ2K8Ig1jZqQm3w")
    assert (log.dir / "partition.metadata").read_text() == "version: 0\ntopic_id: vIhBsyPmQ2K8Ig1jZqQm3w"
    log.close()
    assert DiskPartitionLog(tmp_path, "orders", 0).topic_id == "vIhBsyPmQ2K8Ig1jZqQm3w"
    from kafkalab.storage import StorageError

    with pytest.raises(StorageError, match="partition.metadata"):
        DiskPartitionLog(tmp_path, "orders", 0, topic_id="AAAAAAAAAAAAAAAAAAAAAA")


# -- file handles ----------------------------------------------------------------------------------
def test_many_partitions_share_a_bounded_set_of_open_files(tmp_path: Path) -> None:
    files = FileHandleCache(max_open=8)
    logs = [DiskPartitionLog(tmp_path, "many", p, TopicConfig({"segment.bytes": 300}), T0, files=files) for p in range(40)]
    fd_dir = Path("/proc/self/fd")
    before = len(os.listdir(fd_dir)) if fd_dir.exists() else 0
    for round_ in range(3):
        for log in logs:
            log.append_raw(raw_batch(2, tag=round_), T0)
    assert files.open_count <= 8
    if fd_dir.exists():
        assert len(os.listdir(fd_dir)) <= before + 8
    for log in logs:
        assert [r.offset for r in log.read(0)] == list(range(6))
    logs[0].delete()
    assert not logs[0].dir.exists()
    assert not list(tmp_path.glob("many-0*")), "renamed to many-0.<id>-delete, then removed"
