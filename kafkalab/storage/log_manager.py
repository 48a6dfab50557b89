"""The broker's log directories: formatting them, loading every partition's log, checkpoints, clean shutdown.

One log directory (``log.dirs`` may list several) after ``kafkalab storage format`` and a run::

    /var/kafkalab/data/
      meta.properties                   version=1, cluster.id, node.id, directory.id  (written by format)
      .kafka_cleanshutdown              only while the broker is stopped cleanly
      recovery-point-offset-checkpoint  topic partition offset: everything below was fsynced
      replication-offset-checkpoint     topic partition high-watermark
      log-start-offset-checkpoint       topic partition log-start-offset
      orders-0/  orders-1/  ...         one DiskPartitionLog each
      __cluster_metadata-0/             the KRaft metadata log: not this class's (the Raft layer owns it)

Startup (LogManager.loadLogs): every directory must be formatted, with one cluster id and node id
between them; a directory without ``.kafka_cleanshutdown`` had an unclean shutdown, so its logs
recover from their recovery points. The marker is then deleted — if the broker dies from here on,
the next start knows. Shutdown flushes every log, writes the checkpoints and the marker.

Ids are Kafka's: 16 random bytes in URL-safe base64 without padding, 22 characters
(``kafka-storage random-uuid``), never starting with ``-``.

Kafka: kafka.log.LogManager (loadLogs, nextLogDirs, getOrCreateLog, asyncDelete, shutdown,
checkpointLogRecoveryOffsets, checkpointLogStartOffsets), kafka.server.ReplicaManager
(checkpointHighWatermarks), org.apache.kafka.metadata.properties.MetaProperties /
MetaPropertiesEnsemble, org.apache.kafka.tools.StorageTool (format, random-uuid),
org.apache.kafka.common.Uuid (randomUuid, toString).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from kafkalab.config import TopicConfig
from kafkalab.storage.disk_log import DELETE_DIR_SUFFIX, DiskPartitionLog, partition_dir_name
from kafkalab.storage.files import (
    CLEAN_SHUTDOWN_FILE,
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_CHECKPOINT,
    REPLICATION_OFFSET_CHECKPOINT,
    FileHandleCache,
    StorageError,
    fsync_directory,
    read_offset_checkpoint,
    write_atomically,
    write_clean_shutdown_file,
    write_offset_checkpoint,
)
from kafkalab.storage.index import DEFAULT_INDEX_INTERVAL_BYTES

META_PROPERTIES = "meta.properties"
METADATA_PARTITION_DIR = "__cluster_metadata-0"
_RESERVED_UUIDS = {bytes(16), bytes(15) + b"\x01"}  # Uuid.ZERO_UUID, Uuid.METADATA_TOPIC_ID
_JAVA_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_JAVA_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- ids and meta.properties ---------------------------------------------------------------------
def random_uuid(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """Uuid.randomUuid().toString(): a version-4 UUID as 22 URL-safe base64 characters."""
    while True:
        raw = bytearray(random_bytes(16))
        raw[6] = (raw[6] & 0x0F) | 0x40  # java.util.UUID.randomUUID: version 4, IETF variant
        raw[8] = (raw[8] & 0x3F) | 0x80
        text = base64.urlsafe_b64encode(bytes(raw)).decode("ascii").rstrip("=")
        if bytes(raw) not in _RESERVED_UUIDS and not text.startswith("-"):
            return text


def parse_uuid(text: str, what: str = "id") -> bytes:
    """Uuid.fromString: the 16 bytes of a 22-character base64url id; StorageError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except (ValueError, TypeError):
        raw = b""
    if len(text) != 22 or len(raw) != 16:
        raise StorageError(f"{what} {text!r} does not appear to be a valid UUID: expected 22 base64url characters "
                           "(make one with `kafkalab storage random-uuid`)")
    return raw


def _java_date(now_ms: int) -> str:
    """java.util.Date.toString in UTC, as Properties.store writes it in its comment line."""
    t = time.gmtime(now_ms / 1000)
    return (f"{_JAVA_DAYS[t.tm_wday]} {_JAVA_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}")


def read_meta_properties(log_dir: Path | str) -> dict[str, str]:
    """The key=value pairs of ``<log_dir>/meta.properties`` (StorageError naming the file if missing)."""
    path = Path(log_dir) / META_PROPERTIES
    if not path.is_file():
        raise StorageError(f"{path}: no such file: the log directory {log_dir} is not formatted. "
                           "Run `kafkalab storage format` first (as kafka-storage.sh format does for Kafka)")
    properties: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            properties[key.strip()] = value.strip()
    if properties.get("version") != "1":
        raise StorageError(f"{path}: version={properties.get('version')} is not a KRaft meta.properties (expected version=1)")
    for key in ("cluster.id", "node.id"):
        if key not in properties:
            raise StorageError(f"{path}: {key} is missing")
    return properties


def write_meta_properties(log_dir: Path, cluster_id: str, node_id: int, directory_id: str, now_ms: int | None = None) -> None:
    """MetaProperties written as Properties.store does: a comment, the date, key=value lines (fsynced)."""
    stamp = _java_date(int(time.time() * 1000) if now_ms is None else now_ms)
    text = f"#\n#{stamp}\nnode.id={node_id}\ndirectory.id={directory_id}\nversion=1\ncluster.id={cluster_id}\n"
    write_atomically(log_dir / META_PROPERTIES, text)


def format_storage(log_dirs: Sequence[Path | str], cluster_id: str, node_id: int, *, ignore_formatted: bool = False,
                   now_ms: int | None = None) -> list[str]:
    """``kafka-storage format``: write meta.properties in each log directory; return what was done.

    A directory already formatted is an error unless ``ignore_formatted`` (then it is left alone);
    one formatted for another cluster or node is always an error. (Kafka's format also writes
    ``bootstrap.checkpoint``, the initial metadata, into the metadata log directory: the Raft layer's.)
    """
    parse_uuid(cluster_id, "Cluster ID string")
    if not log_dirs:
        raise StorageError("no log directories to format (set log.dirs)")
    done: list[str] = []
    to_format: list[Path] = []
    for log_dir in map(Path, log_dirs):
        if (log_dir / META_PROPERTIES).exists():
            existing = read_meta_properties(log_dir)
            if existing["cluster.id"] != cluster_id:  # MetaPropertiesEnsemble.verify's words
                raise StorageError(f"Invalid cluster.id in: {log_dir / META_PROPERTIES}. Expected {cluster_id}, "
                                   f"but read {existing['cluster.id']}")
            if existing["node.id"] != str(node_id):
                raise StorageError(f"Stored node id {existing['node.id']} doesn't match previous node id {node_id} "
                                   f"in {log_dir / META_PROPERTIES}")
            if not ignore_formatted:
                raise StorageError(f"Log directory {log_dir} is already formatted. Use --ignore-formatted to ignore "
                                   "this directory and format the others.")
            done.append(f"{log_dir}: already formatted (left as it is)")
            continue
        to_format.append(log_dir)  # like Kafka, an unformatted directory may already hold other files
    for log_dir in to_format:
        log_dir.mkdir(parents=True, exist_ok=True)
        write_meta_properties(log_dir, cluster_id, node_id, random_uuid(), now_ms)
        done.append(f"Formatting data directory {log_dir} with cluster.id {cluster_id} and node.id {node_id}")
    return done


def parse_partition_dir(name: str) -> tuple[str, int] | None:
    """(topic, partition) of a ``<topic>-<partition>`` directory name; None for anything else."""
    topic, sep, partition = name.rpartition("-")
    if not sep or not topic or not partition.isdigit():
        return None
    return topic, int(partition)


# -- the manager -----------------------------------------------------------------------------------
class LogManager:
    """Every partition log of one broker, across its log directories (kafka.log.LogManager)."""

    def __init__(self, log_dirs: Sequence[Path | str], now_ms: int = 0, *,
                 topic_config: Callable[[str], TopicConfig] | None = None, max_open_files: int = 256,
                 index_interval_bytes: int = DEFAULT_INDEX_INTERVAL_BYTES) -> None:
        """Check every directory's meta.properties and load (recovering if needed) every partition log."""
        if not log_dirs:
            raise StorageError("no log directories (set log.dirs)")
        self.log_dirs = [Path(d) for d in log_dirs]
        self.topic_config = topic_config or (lambda topic: TopicConfig())
        self.files = FileHandleCache(max_open_files)
        self.index_interval_bytes = index_interval_bytes
        self.logs: dict[tuple[str, int], DiskPartitionLog] = {}
        self.report: list[str] = []
        self.meta = {d: read_meta_properties(d) for d in self.log_dirs}
        cluster_ids = {m["cluster.id"] for m in self.meta.values()}
        node_ids = {m["node.id"] for m in self.meta.values()}
        if len(cluster_ids) > 1 or len(node_ids) > 1:
            raise StorageError("the log directories belong to different clusters or nodes: " + "; ".join(
                f"{d / META_PROPERTIES}: cluster.id={m['cluster.id']} node.id={m['node.id']}" for d, m in self.meta.items()))
        self.cluster_id = cluster_ids.pop()
        self.node_id = int(node_ids.pop())
        self.had_clean_shutdown = {d: (d / CLEAN_SHUTDOWN_FILE).exists() for d in self.log_dirs}
        for log_dir in self.log_dirs:
            self._load_dir(log_dir, now_ms)

    @property
    def directory_ids(self) -> dict[Path, str]:
        return {d: m.get("directory.id", "") for d, m in self.meta.items()}

    def _load_dir(self, log_dir: Path, now_ms: int) -> None:
        clean = self.had_clean_shutdown[log_dir]
        recovery_points = read_offset_checkpoint(log_dir / RECOVERY_POINT_CHECKPOINT)
        start_offsets = read_offset_checkpoint(log_dir / LOG_START_OFFSET_CHECKPOINT)
        entries = sorted(log_dir.iterdir())
        if not any(e.is_dir() and e.name != METADATA_PARTITION_DIR for e in entries):
            self.report.append(f"{log_dir}: no partition logs yet")  # freshly formatted: nothing to recover
        else:
            self.report.append(f"{log_dir}: {'clean shutdown' if clean else 'UNCLEAN shutdown: recovering logs past their recovery points'}")
        for entry in entries:
            if not entry.is_dir() or entry.name == METADATA_PARTITION_DIR:
                continue
            if entry.name.endswith(DELETE_DIR_SUFFIX):  # a deletion that a crash interrupted
                shutil.rmtree(entry, ignore_errors=True)
                self.report.append(f"{log_dir}: removed {entry.name} (a log deleted before the restart)")
                continue
            parsed = parse_partition_dir(entry.name)
            if parsed is None:
                continue
            if parsed in self.logs:
                raise StorageError(f"{parsed[0]}-{parsed[1]} is in two log directories: "
                                   f"{self.logs[parsed].dir} and {entry}")
            topic, partition = parsed
            log = DiskPartitionLog(log_dir, topic, partition, self.topic_config(topic), now_ms, files=self.files,
                                   had_clean_shutdown=clean, recovery_point=recovery_points.get(parsed, 0),
                                   log_start_offset=start_offsets.get(parsed, 0), index_interval_bytes=self.index_interval_bytes)
            self._track(log)
            self.report.extend(log.recovery_report)
            self.report.append(f"{log_dir}: loaded {entry.name}: offsets [{log.log_start_offset}, {log.log_end_offset}), "
                               f"{len(log.segments)} segment(s)")
        # From now on a crash is an unclean shutdown.
        (log_dir / CLEAN_SHUTDOWN_FILE).unlink(missing_ok=True)
        fsync_directory(log_dir)

    def _track(self, log: DiskPartitionLog) -> None:
        self.logs[(log.topic, log.partition)] = log
        log.on_deleted = lambda gone: self.logs.pop((gone.topic, gone.partition), None)

    def recovery_report(self) -> list[str]:
        """What loading did, one line per directory and log (for the server's startup log)."""
        return list(self.report)

    # -- logs ---------------------------------------------------------------------------------------
    def get_log(self, topic: str, partition: int) -> DiskPartitionLog | None:
        return self.logs.get((topic, partition))

    def next_log_dir(self) -> Path:
        """LogManager.nextLogDirs: the directory holding the fewest partitions."""
        counts = {d: 0 for d in self.log_dirs}
        for log in self.logs.values():
            counts[log.dir.parent] = counts.get(log.dir.parent, 0) + 1
        return min(self.log_dirs, key=lambda d: counts[d])

    def get_or_create_log(self, topic: str, partition: int, config: TopicConfig | None = None, now_ms: int = 0,
                          topic_id: str | None = None) -> DiskPartitionLog:
        """The partition's log: the one loaded at startup (its config updated), or a new one."""
        log = self.logs.get((topic, partition))
        if log is None:
            log = DiskPartitionLog(self.next_log_dir(), topic, partition, config or self.topic_config(topic), now_ms,
                                   files=self.files, had_clean_shutdown=True, index_interval_bytes=self.index_interval_bytes)
            self._track(log)
        elif config is not None:
            log.update_config(config)
        if topic_id is not None:
            log.assign_topic_id(topic_id)
        return log

    def log_factory(self, topic: str, partition: int, config: TopicConfig, now_ms: int) -> DiskPartitionLog:
        """A ``LogFactory`` for :class:`kafkalab.broker.Broker`: ``Broker(..., log_factory=manager.log_factory)``."""
        return self.get_or_create_log(topic, partition, config, now_ms)

    def delete_log(self, topic: str, partition: int) -> bool:
        """Delete a partition's log (DeleteTopics, or a replica moved away); False if there is none."""
        log = self.logs.pop((topic, partition), None)
        if log is None:
            return False
        log.delete()
        return True

    # -- checkpoints ------------------------------------------------------------------------------------
    def _by_dir(self, value: Callable[[DiskPartitionLog], int]) -> dict[Path, dict[tuple[str, int], int]]:
        result: dict[Path, dict[tuple[str, int], int]] = {d: {} for d in self.log_dirs}
        for key, log in self.logs.items():
            result[log.dir.parent][key] = value(log)
        return result

    def checkpoint_recovery_points(self) -> None:
        for log_dir, offsets in self._by_dir(lambda log: log.recovery_point).items():
            write_offset_checkpoint(log_dir / RECOVERY_POINT_CHECKPOINT, offsets)

    def checkpoint_log_start_offsets(self) -> None:
        """Kafka writes only logs whose start moved past their first segment; every log here (simpler, same meaning)."""
        for log_dir, offsets in self._by_dir(lambda log: log.log_start_offset).items():
            write_offset_checkpoint(log_dir / LOG_START_OFFSET_CHECKPOINT, offsets)

    def checkpoint_high_watermarks(self, high_watermarks: Mapping[tuple[str, int], int]) -> None:
        """ReplicaManager.checkpointHighWatermarks: ``replication-offset-checkpoint`` in each log's directory."""
        per_dir: dict[Path, dict[tuple[str, int], int]] = {d: {} for d in self.log_dirs}
        for key, high_watermark in high_watermarks.items():
            log = self.logs.get(key)
            if log is not None:
                per_dir[log.dir.parent][key] = min(high_watermark, log.log_end_offset)
        for log_dir, offsets in per_dir.items():
            write_offset_checkpoint(log_dir / REPLICATION_OFFSET_CHECKPOINT, offsets)

    def read_high_watermarks(self) -> dict[tuple[str, int], int]:
        """The high watermarks checkpointed in every log directory (a restarted broker starts from them)."""
        result: dict[tuple[str, int], int] = {}
        for log_dir in self.log_dirs:
            result.update(read_offset_checkpoint(log_dir / REPLICATION_OFFSET_CHECKPOINT))
        return result

    def checkpoint(self, high_watermarks: Mapping[tuple[str, int], int] | None = None) -> None:
        """All the checkpoints (Kafka's log.flush.offset.checkpoint.interval.ms and friends, in one call)."""
        self.checkpoint_recovery_points()
        self.checkpoint_log_start_offsets()
        if high_watermarks is not None:
            self.checkpoint_high_watermarks(high_watermarks)

    def flush_all(self) -> None:
        for log in self.logs.values():
            log.flush()

    def retention(self, now_ms: int) -> int:
        """Run retention on every log; return how many segments went."""
        return sum(log.delete_retention_breached_segments(now_ms) for log in list(self.logs.values()))

    def shutdown(self, high_watermarks: Mapping[tuple[str, int], int] | None = None, broker_epoch: int = -1) -> None:
        """Clean shutdown: flush and close every log, write the checkpoints, then the clean-shutdown marker."""
        self.flush_all()
        self.checkpoint(high_watermarks)
        for log in self.logs.values():
            log.close()
        self.files.close_all()
        for log_dir in self.log_dirs:
            write_clean_shutdown_file(log_dir, broker_epoch)

    def close_without_checkpoint(self) -> None:
        """Close the files and nothing else (what a test does to imitate a crash after the fact)."""
        self.files.close_all()

    def __repr__(self) -> str:
        return f"LogManager({', '.join(map(str, self.log_dirs))}: {len(self.logs)} log(s), cluster {self.cluster_id}, node {self.node_id})"

