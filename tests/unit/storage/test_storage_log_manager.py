"""LogManager: formatting, meta.properties, loading, checkpoints, the clean-shutdown marker, deletion."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from kafkalab.broker import Broker
from kafkalab.config import TopicConfig
from kafkalab.record import Record
from kafkalab.storage import LogManager, StorageError, format_storage, parse_uuid, random_uuid, read_meta_properties

T0 = 1_700_000_000_000
CLUSTER = "MkU3OEVBNTcwNTJENDM2Qg"


def formatted(tmp_path: Path, *names: str) -> list[Path]:
    dirs = [tmp_path / name for name in (names or ("data",))]
    format_storage(dirs, CLUSTER, 1, now_ms=T0)
    return dirs


# -- ids and format ----------------------------------------------------------------------------------
def test_random_uuid_is_kafkas_base64url() -> None:
    ids = {random_uuid() for _ in range(200)}
    assert len(ids) == 200
    for text in ids:
        raw = parse_uuid(text)
        assert len(text) == 22 and "=" not in text and not text.startswith("-")
        assert base64.urlsafe_b64encode(raw).decode().rstrip("=") == text
        assert raw[6] >> 4 == 4, "a version-4 UUID, as java.util.UUID.randomUUID"
    with pytest.raises(StorageError, match="valid UUID"):
        parse_uuid("not-a-uuid")


def test_format_writes_meta_properties_as_kafka_does(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    text = (data / "meta.properties").read_text()
    lines = text.splitlines()
    assert lines[0] == "#" and lines[1] == "#Tue Nov 14 22:13:20 UTC 2023"
    assert lines[2] == "node.id=1" and lines[3].startswith("directory.id=") and lines[4:] == ["version=1", f"cluster.id={CLUSTER}"]
    meta = read_meta_properties(data)
    assert meta["cluster.id"] == CLUSTER and len(meta["directory.id"]) == 22


def test_format_refuses_formatted_directories(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    with pytest.raises(StorageError, match="already formatted. Use --ignore-formatted"):
        format_storage([data], CLUSTER, 1)
    other = tmp_path / "other"
    assert format_storage([data, other], CLUSTER, 1, ignore_formatted=True)[0].endswith("already formatted (left as it is)")
    assert read_meta_properties(other)["cluster.id"] == CLUSTER
    with pytest.raises(StorageError, match="Invalid cluster.id in: .*meta.properties. Expected"):
        format_storage([data], random_uuid(), 1, ignore_formatted=True)
    with pytest.raises(StorageError, match="node id"):
        format_storage([data], CLUSTER, 2, ignore_formatted=True)
    with pytest.raises(StorageError, match="does not appear to be a valid UUID"):
        format_storage([tmp_path / "new"], "my-cluster", 1)


def test_an_unformatted_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"meta.properties: no such file.*kafkalab storage format"):
        LogManager([tmp_path / "nowhere"])
    (data,) = formatted(tmp_path)
    other = tmp_path / "b"
    format_storage([other], random_uuid(), 1)
    with pytest.raises(StorageError, match="different clusters"):
        LogManager([data, other])


# -- loading and shutting down ---------------------------------------------------------------------
def test_clean_shutdown_marker_and_checkpoints(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    manager = LogManager([data], T0)
    assert manager.cluster_id == CLUSTER and manager.node_id == 1
    orders = manager.get_or_create_log("orders", 0, TopicConfig({"segment.bytes": 300}), T0)
    for i in range(6):
        orders.append([Record(b"k", b"v" * 40)], T0 + i)
    orders.delete_records(2)
    manager.get_or_create_log("pay-ments", 3, None, T0).append([Record(None, b"x")], T0)
    assert not (data / ".kafka_cleanshutdown").exists()
    manager.shutdown(high_watermarks={("orders", 0): 5, ("pay-ments", 3): 1}, broker_epoch=12)
    assert (data / ".kafka_cleanshutdown").read_text() == '{"version":0,"brokerEpoch":12}'
    assert (data / "recovery-point-offset-checkpoint").read_text() == "0\n2\norders 0 6\npay-ments 3 1\n"
    assert (data / "replication-offset-checkpoint").read_text() == "0\n2\norders 0 5\npay-ments 3 1\n"
    assert (data / "log-start-offset-checkpoint").read_text() == "0\n2\norders 0 2\npay-ments 3 0\n"

    again = LogManager([data], T0)
    assert "clean shutdown" in again.recovery_report()[0]
    assert not (data / ".kafka_cleanshutdown").exists(), "deleted at startup: a crash from now on is unclean"
    assert again.read_high_watermarks() == {("orders", 0): 5, ("pay-ments", 3): 1}
    loaded = again.get_log("orders", 0)
    assert loaded is not None and (loaded.log_start_offset, loaded.log_end_offset) == (2, 6)
    assert again.get_log("pay-ments", 3).log_end_offset == 1
    assert again.log_factory("orders", 0, TopicConfig({"retention.ms": 5}), T0) is loaded, "the loaded log, new config"
    assert loaded.config.retention_ms == 5


def test_a_crash_is_an_unclean_shutdown(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    manager = LogManager([data], T0)
    log = manager.get_or_create_log("orders", 0)
    log.append([Record(b"k", b"v")], T0)
    manager.close_without_checkpoint()  # no flush, no checkpoint, no marker: what kill -9 leaves
    again = LogManager([data], T0)
    assert "UNCLEAN" in again.recovery_report()[0]
    assert again.get_log("orders", 0).read(0)[0].value == b"v"


def test_partitions_spread_over_log_dirs_and_metadata_log_is_skipped(tmp_path: Path) -> None:
    a, b = formatted(tmp_path, "a", "b")
    (a / "__cluster_metadata-0").mkdir()
    (a / "__cluster_metadata-0" / "00000000000000000000.log").write_bytes(b"not ours")
    manager = LogManager([a, b], T0)
    logs = [manager.get_or_create_log("t", p) for p in range(4)]
    assert sorted(str(log.dir.parent.name) for log in logs) == ["a", "a", "b", "b"]
    manager.shutdown()
    again = LogManager([a, b], T0)
    assert sorted(again.logs) == [("t", p) for p in range(4)]
    assert (a / "__cluster_metadata-0" / "00000000000000000000.log").read_bytes() == b"not ours"


def test_delete_log_renames_then_removes(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    manager = LogManager([data], T0)
    log = manager.get_or_create_log("gone", 0)
    log.append([Record(b"k", b"v")], T0)
    leftover = data / "gone-1.0123456789abcdef0123456789abcdef-delete"  # a deletion a crash interrupted
    leftover.mkdir()
    assert manager.delete_log("gone", 0)
    assert manager.get_log("gone", 0) is None and not (data / "gone-0").exists()
    assert not manager.delete_log("gone", 0)
    manager.shutdown()
    again = LogManager([data], T0)
    assert not leftover.exists() and again.logs == {}


def test_the_broker_uses_disk_logs_through_log_factory(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    manager = LogManager([data], T0)
    broker = Broker(1, log_factory=manager.log_factory)
    log = broker.ensure_log("clicks", 0, T0)
    assert log is manager.get_log("clicks", 0)
    log.append([Record(b"a", b"1")], T0)
    broker._on_topic_removed("clicks")  # DeleteTopics reached the broker: log.delete() renames and removes
    assert manager.get_log("clicks", 0) is None and not (data / "clicks-0").exists()


def test_storage_imports_no_wire_layer() -> None:
    code = ("import sys, kafkalab.storage; bad = [m for m in ('kafkalab.wire', 'kafkalab.broker', 'asyncio') "
            "if m in sys.modules]; print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": ":".join(p for p in sys.path if p)})
    assert result.stdout.strip() == "[]"
    for source in Path(__import__("kafkalab.storage").storage.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "import socket" not in text and "import threading" not in text, source


def test_a_freshly_formatted_directory_is_not_reported_as_an_unclean_shutdown(tmp_path: Path) -> None:
    (data,) = formatted(tmp_path)
    report = LogManager([data], T0).recovery_report()
    assert "no partition logs yet" in report[0] and "UNCLEAN" not in " ".join(report)
