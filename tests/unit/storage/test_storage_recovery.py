"""Recovery after an unclean shutdown: torn tails, corrupt bytes, lost indexes, and a real kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kafkalab.config import TopicConfig
from kafkalab.record import Record, RecordBatch, encode_batch
from kafkalab.record.raw import RawRecordBatch, split_batches
from kafkalab.storage import DiskPartitionLog, LogManager, format_storage, random_uuid

T0 = 1_700_000_000_000
CONFIG = {"segment.bytes": 2000}


def batch(i: int, records: int = 3) -> RawRecordBatch:
    return RawRecordBatch(encode_batch(RecordBatch.of(
        [Record(b"key-%d" % i, b"value %d/%d " % (i, j) * 5, (), T0 + i) for j in range(records)], base_timestamp=T0 + i)))


def written_log(tmp_path: Path, batches: int = 40) -> DiskPartitionLog:
    log = DiskPartitionLog(tmp_path, "events", 0, TopicConfig(CONFIG), T0, index_interval_bytes=300)
    for i in range(batches):
        log.append_raw(batch(i), T0 + i, leader_epoch=i // 10)
    return log


def reopen(tmp_path: Path, clean: bool = False, recovery_point: int = 0) -> DiskPartitionLog:
    return DiskPartitionLog(tmp_path, "events", 0, TopicConfig(CONFIG), T0, had_clean_shutdown=clean,
                            recovery_point=recovery_point, index_interval_bytes=300)


def all_batches(log: DiskPartitionLog) -> list[RawRecordBatch]:
    result = []
    for segment in log.segments:
        if segment.size_in_bytes:
            result += list(split_batches(log.read_raw(max(segment.base_offset, log.log_start_offset), None)))
    for stored in result:
        stored.ensure_valid()
    return result


def test_a_torn_tail_is_cut_at_the_last_whole_batch(tmp_path: Path) -> None:
    log = written_log(tmp_path)
    last = log.active_segment
    files = sorted(log.dir.glob("*.log"))
    size = last.size_in_bytes
    log.close()
    with open(last.log_path, "r+b") as f:  # the crash came in the middle of writing the last batch
        f.truncate(size - 25)
    recovered = reopen(tmp_path)
    assert recovered.log_end_offset == 117, "the last batch (117..119) is gone, every earlier one is there"
    assert [b.base_offset for b in all_batches(recovered)] == list(range(0, 117, 3))
    assert last.log_path.stat().st_size < size - 25, "the torn bytes were cut off the file"
    assert sorted(recovered.dir.glob("*.log")) == files
    assert any("cut" in line for line in recovered.recovery_report)
    assert recovered.append_raw(batch(99), T0).first_offset == 117


def test_a_corrupt_byte_fails_the_crc_and_later_segments_go(tmp_path: Path) -> None:
    log = written_log(tmp_path)
    bases = [s.base_offset for s in log.segments]
    assert len(bases) >= 3
    damaged = log.segments[1]
    stored = list(damaged.iter_headers(0))
    victim = stored[2]  # the third batch of the second segment
    log.close()
    with open(damaged.log_path, "r+b") as f:
        f.seek(victim.position + victim.size - 4)
        byte = f.read(1)
        f.seek(victim.position + victim.size - 4)
        f.write(bytes([byte[0] ^ 0x55]))
    recovered = reopen(tmp_path)
    assert recovered.log_end_offset == victim.base_offset
    assert [s.base_offset for s in recovered.segments] == bases[:2], "segments after the damage are deleted"
    assert not any(recovered.dir.glob(f"{bases[2]:020d}.*"))
    assert [b.base_offset for b in all_batches(recovered)] == list(range(0, victim.base_offset, 3))
    assert recovered.epoch_cache.entries[-1][1] < recovered.log_end_offset


def test_segments_below_the_recovery_point_are_trusted(tmp_path: Path) -> None:
    log = written_log(tmp_path)
    recovery_point = log.recovery_point
    assert recovery_point == log.active_segment.base_offset > 0, "rolling flushed the older segments"
    first = log.segments[0]
    log.close()
    with open(first.log_path, "r+b") as f:  # damage below the recovery point is not looked for (as in Kafka)
        f.seek(100)
        f.write(b"\xff")
    recovered = reopen(tmp_path, recovery_point=recovery_point)
    assert recovered.log_end_offset == 120 and len(recovered.segments) == len(log.segments)


def test_lost_or_bad_index_files_are_rebuilt(tmp_path: Path) -> None:
    log = written_log(tmp_path)
    first = log.segments[0]
    index_bytes = first.offset_index.path.read_bytes()
    time_index_bytes = first.time_index.path.read_bytes()
    assert index_bytes and time_index_bytes
    log.close()
    first.offset_index.path.unlink()
    first.time_index.path.write_bytes(time_index_bytes[:-5])  # not a whole number of entries
    recovered = reopen(tmp_path, clean=True)
    assert first.offset_index.path.read_bytes() == index_bytes
    assert first.time_index.path.read_bytes() == time_index_bytes
    assert recovered.log_end_offset == 120
    assert any("rebuilding the indexes" in line for line in recovered.recovery_report)


def test_an_index_pointing_past_the_log_is_rebuilt(tmp_path: Path) -> None:
    log = written_log(tmp_path, batches=8)  # one segment
    segment = log.active_segment
    log.close()
    with open(segment.offset_index.path, "ab") as f:
        f.write((1000).to_bytes(4, "big") + (10**6).to_bytes(4, "big"))
    recovered = reopen(tmp_path, clean=True)
    assert recovered.log_end_offset == 24
    assert all(p < segment.size_in_bytes for p in recovered.active_segment.offset_index.positions)


def test_an_unclean_restart_rebuilds_identical_indexes(tmp_path: Path) -> None:
    log = written_log(tmp_path)
    log.close()
    before = {p.name: p.read_bytes() for p in log.dir.iterdir()}
    reopen(tmp_path).close()
    after = {p.name: p.read_bytes() for p in log.dir.iterdir()}
    assert after == before


CHILD = textwrap.dedent("""
    import sys
    from kafkalab.config import TopicConfig
    from kafkalab.record import Record, RecordBatch, encode_batch
    from kafkalab.record.raw import RawRecordBatch
    from kafkalab.storage import LogManager

    manager = LogManager([sys.argv[1]], 0, topic_config=lambda topic: TopicConfig({"segment.bytes": 50_000}))
    log = manager.get_or_create_log("crash", 0)
    print("ready", flush=True)
    i = 0
    while True:
        records = [Record(b"%d" % i, bytes([i % 251]) * 3000, (), 1_700_000_000_000 + i) for _ in range(4)]
        info = log.append_raw(RawRecordBatch(encode_batch(RecordBatch.of(records))), 1_700_000_000_000 + i)
        print("acked", info.first_offset, info.last_offset, flush=True)
        i += 1
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_kill_9_while_appending_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    format_storage([data_dir], random_uuid(), 1)
    script = tmp_path / "appender.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child = subprocess.Popen([sys.executable, str(script), str(data_dir)], stdout=subprocess.PIPE, text=True, env=env)
    acked: list[tuple[int, int]] = []
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while len(acked) < 400 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            _, first, last = line.split()
            acked.append((int(first), int(last)))
        os.kill(child.pid, signal.SIGKILL)  # mid-append, most likely: the loop never pauses
        for line in child.stdout:  # acknowledgements printed before the kill landed
            parts = line.split()
            if len(parts) == 3:
                acked.append((int(parts[1]), int(parts[2])))
    finally:
        child.kill()
        child.wait()
    assert len(acked) >= 400
    manager = LogManager([data_dir], 0, topic_config=lambda topic: TopicConfig({"segment.bytes": 50_000}))
    assert "UNCLEAN" in manager.recovery_report()[0]
    log = manager.get_log("crash", 0)
    assert log is not None and len(log.segments) > 10
    last_acked = acked[-1][1]
    assert log.log_end_offset >= last_acked + 1, "every acknowledged batch is there"
    offsets = []
    for segment in log.segments:
        for _, data in segment.iter_batch_bytes(0):
            stored = RawRecordBatch(data)
            stored.ensure_valid()
            offsets.append((stored.base_offset, stored.last_offset))
    assert offsets[: len(acked)] == acked
    assert [first for first, _ in offsets] == list(range(0, log.log_end_offset, 4)), "nothing torn, nothing missing"
    info = log.append_raw(RawRecordBatch(encode_batch(RecordBatch.of([Record(b"after", b"restart")]))), T0)
    assert info.first_offset == log.log_end_offset - 1
    manager.shutdown()
