"""Storage on disk in Kafka's layout: segment files, indexes, checkpoints, recovery, kafka-dump-log.

``DiskPartitionLog`` is the partition log the TCP server keeps produced batches in, byte for byte
as they arrived; ``LogManager`` owns a broker's log directories (meta.properties, loading and
recovering every log, the checkpoint files, the clean-shutdown marker); ``format_storage`` and
``random_uuid`` are ``kafka-storage format`` and ``kafka-storage random-uuid``; ``dump_log`` is
``kafka-dump-log``. Plain files only — no threads or sockets — and the simulator never imports
this package (its logs live in memory, :mod:`kafkalab.log`).

Kafka: org.apache.kafka.storage.internals.log (UnifiedLog, LocalLog, LogSegment, OffsetIndex,
TimeIndex, LogLoader), kafka.log.LogManager, org.apache.kafka.tools.StorageTool, DumpLogSegments.
"""

from kafkalab.storage.disk_log import DiskPartitionLog, UnexpectedAppendOffsetError, delete_dir_name, partition_dir_name
from kafkalab.storage.dump import dump_log
from kafkalab.storage.files import FileHandleCache, StorageError
from kafkalab.storage.leader_epoch import LeaderEpochCache
from kafkalab.storage.log_manager import (
    LogManager,
    format_storage,
    parse_uuid,
    random_uuid,
    read_meta_properties,
)
from kafkalab.storage.segment import DiskLogSegment

__all__ = [
    "DiskLogSegment",
    "DiskPartitionLog",
    "FileHandleCache",
    "LeaderEpochCache",
    "LogManager",
    "StorageError",
    "UnexpectedAppendOffsetError",
    "delete_dir_name",
    "dump_log",
    "format_storage",
    "parse_uuid",
    "partition_dir_name",
    "random_uuid",
    "read_meta_properties",
]
