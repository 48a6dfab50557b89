"""A server node's disk: its LogManager (partition logs) and its metadata log, opened and closed together.

Kafka: kafka.log.LogManager (startup, shutdown), KafkaRaftServer's metadata log directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kafkalab.config import BrokerConfig
from kafkalab.storage import DiskPartitionLog, LogManager, StorageError
from kafkalab.wire.metadata_log import METADATA_TOPIC

__all__ = ["NodeStorage", "StorageError", "open_node_storage"]


class NodeStorage:
    def __init__(self, manager: LogManager, metadata_dir: Path, node_id: int, config: BrokerConfig, now_ms: int) -> None:
        self.manager = manager
        self.cluster_id = manager.cluster_id
        self.log_dirs = manager.log_dirs
        self._metadata = DiskPartitionLog(metadata_dir, METADATA_TOPIC, 0, config.topic_config({}, internal=True), now_ms,
                                          files=manager.files, had_clean_shutdown=all(manager.had_clean_shutdown.values()))

    def log_factory(self, topic: str, partition: int, config: Any, now_ms: int) -> DiskPartitionLog:
        return self.manager.log_factory(topic, partition, config, now_ms)

    def metadata_log(self) -> DiskPartitionLog:
        return self._metadata

    def recovery_report(self) -> list[str]:
        return self.manager.recovery_report()

    def close(self, node: Any) -> None:
        """Clean shutdown: flush everything, write the checkpoints (high watermarks from the broker), leave the marker."""
        high_watermarks = {}
        if node is not None:
            for key, log in node.broker.logs.items():
                high_watermarks[key] = node.broker.replica_manager.high_watermark(key[0], key[1], log.log_end_offset)
        self._metadata.flush()
        self._metadata.close()
        self.manager.shutdown(high_watermarks)


def open_node_storage(log_dirs: list[Path], metadata_dir: Path, node_id: int, config: BrokerConfig, now_ms: int) -> NodeStorage:
    """Check meta.properties (formatted, this node's), load and recover every log. Raises StorageError."""
    directories = list(dict.fromkeys([*log_dirs, metadata_dir]))
    manager = LogManager(directories, now_ms, topic_config=lambda topic: config.topic_config({}))
    if manager.node_id != node_id:
        raise StorageError(f"{directories[0]}/meta.properties says node.id={manager.node_id}, but the config has node.id={node_id}: "
                           "format this node's own directories")
    return NodeStorage(manager, metadata_dir, node_id, config, now_ms)
