"""The small files around the logs: open-file bookkeeping and Kafka's checkpoint text formats.

A broker with thousands of partitions cannot keep every segment file open, so segment files are
opened through one :class:`FileHandleCache`: a bounded set of open descriptors, least recently used
closed first. Reads and writes go through ``os.pread`` / ``os.pwrite`` at explicit positions, so a
cached descriptor has no file position to get wrong.

Checkpoint files are text, written whole to ``<name>.tmp``, fsynced, then renamed over the old one
(a crash leaves either the old file or the new, never half of one)::

    0                      ← version
    2                      ← how many entries follow
    orders 0 1042          ← offset checkpoints: topic partition offset
    orders 1 998

    0                      ← leader-epoch-checkpoint: version, count, then "epoch start_offset"
    1
    3 1200

``partition.metadata`` holds the topic id (``version: 0`` / ``topic_id: <uuid>``); ``.kafka_cleanshutdown``
is JSON (``{"version":0,"brokerEpoch":N}``), present only after a clean shutdown.

Kafka: org.apache.kafka.server.common.CheckpointFile, storage.internals.checkpoint.OffsetCheckpointFile,
LeaderEpochCheckpointFile, PartitionMetadataFile (PartitionMetadata.encode), CleanShutdownFileHandler;
org.apache.kafka.common.utils.Utils.atomicMoveWithFallback.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Mapping

CHECKPOINT_VERSION = 0
RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint"  # the high watermarks
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
PARTITION_METADATA = "partition.metadata"
CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"


class StorageError(Exception):
    """Storage that cannot be used as it is: the message names the file and what to do."""


class FileHandleCache:
    """At most ``max_open`` open file descriptors, least recently used closed first."""

    def __init__(self, max_open: int = 256) -> None:
        assert max_open >= 1, "the cache must be able to hold at least one open file"
        self.max_open = max_open
        self._fds: OrderedDict[str, int] = OrderedDict()

    def fd(self, path: Path | str) -> int:
        """An open read-write descriptor of ``path`` (created if missing)."""
        key = str(path)
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        if len(self._fds) >= self.max_open:
            _, oldest = self._fds.popitem(last=False)
            os.close(oldest)
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
        self._fds[key] = fd
        return fd

    def close(self, path: Path | str) -> None:
        """Close ``path`` if it is open (before renaming, truncating by path or deleting it)."""
        fd = self._fds.pop(str(path), None)
        if fd is not None:
            os.close(fd)

    def close_under(self, directory: Path | str) -> None:
        prefix = str(directory).rstrip(os.sep) + os.sep
        for key in [k for k in self._fds if k.startswith(prefix)]:
            self.close(key)

    def close_all(self) -> None:
        for key in list(self._fds):
            self.close(key)

    @property
    def open_count(self) -> int:
        return len(self._fds)


def pread_exact(fd: int, size: int, position: int) -> bytes:
    """``size`` bytes at ``position`` (fewer only at the end of the file)."""
    data = os.pread(fd, size, position)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.pread(fd, size - got, position + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def pwrite_all(fd: int, data: bytes | bytearray | memoryview, position: int) -> None:
    """Write all of ``data`` at ``position`` (``pwrite`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, position)
        view = view[written:]
        position += written


def fsync_directory(directory: Path) -> None:
    """Make a directory's entries (new, renamed, deleted files) durable (Utils.flushDir)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str, sync: bool = True) -> None:
    """Write ``path`` through ``path.tmp`` and a rename: readers see the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        if sync:
            os.fsync(out.fileno())
    os.replace(tmp, path)
    if sync:
        fsync_directory(path.parent)


def _read_checkpoint_lines(path: Path, entry_fields: int) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise StorageError(f"{path}: malformed checkpoint file (expected a version line and a count line)")
    try:
        version, count = int(lines[0].strip()), int(lines[1].strip())
    except ValueError:
        raise StorageError(f"{path}: malformed checkpoint file (version and count must be integers)") from None
    if version != CHECKPOINT_VERSION:
        raise StorageError(f"{path}: unrecognized checkpoint version {version} (expected {CHECKPOINT_VERSION})")
    entries = [line.split() for line in lines[2:] if line.strip()]
    if len(entries) != count or any(len(fields) != entry_fields for fields in entries):
        raise StorageError(f"{path}: expected {count} entries of {entry_fields} fields, found {len(entries)} line(s)")
    return entries


def read_offset_checkpoint(path: Path) -> dict[tuple[str, int], int]:
    """OffsetCheckpointFile.read: {(topic, partition): offset}; {} when the file does not exist."""
    if not path.exists():
        return {}
    result: dict[tuple[str, int], int] = {}
    for topic, partition, offset in _read_checkpoint_lines(path, 3):
        result[(topic, int(partition))] = int(offset)
    return result


def write_offset_checkpoint(path: Path, offsets: Mapping[tuple[str, int], int], sync: bool = True) -> None:
    """OffsetCheckpointFile.write: version 0, the count, then ``topic partition offset`` lines."""
    lines = [str(CHECKPOINT_VERSION), str(len(offsets))]
    lines += [f"{topic} {partition} {offset}" for (topic, partition), offset in sorted(offsets.items())]
    write_atomically(path, "\n".join(lines) + "\n", sync)


def read_leader_epoch_checkpoint(path: Path) -> list[tuple[int, int]]:
    """LeaderEpochCheckpointFile.read: [(epoch, start_offset)] oldest first; [] when missing."""
    if not path.exists():
        return []
    return [(int(epoch), int(start)) for epoch, start in _read_checkpoint_lines(path, 2)]


def write_leader_epoch_checkpoint(path: Path, entries: Iterable[tuple[int, int]], sync: bool = True) -> None:
    entries = list(entries)
    lines = [str(CHECKPOINT_VERSION), str(len(entries))] + [f"{epoch} {start}" for epoch, start in entries]
    write_atomically(path, "\n".join(lines) + "\n", sync)


def read_partition_metadata(path: Path) -> str | None:
    """PartitionMetadataReadBuffer.read: the topic id in ``partition.metadata``, or None when missing."""
    if not path.exists():
        return None
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    if fields.get("version") != "0" or "topic_id" not in fields:
        raise StorageError(f"{path}: malformed partition metadata (expected 'version: 0' and 'topic_id: <id>')")
    return fields["topic_id"]


def write_partition_metadata(path: Path, topic_id: str) -> None:
    """PartitionMetadata.encode: ``version: 0`` and ``topic_id: <uuid>`` (no trailing newline, as Kafka)."""
    write_atomically(path, f"version: 0\ntopic_id: {topic_id}")


def write_clean_shutdown_file(directory: Path, broker_epoch: int = -1) -> None:
    """CleanShutdownFileHandler.write: JSON with the broker epoch (KIP-966), fsynced."""
    path = directory / CLEAN_SHUTDOWN_FILE
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"version": 0, "brokerEpoch": broker_epoch}, separators=(",", ":")))
        out.flush()
        os.fsync(out.fileno())
    fsync_directory(directory)
