"""The partition log: offsets, segments, rolling and retention (Kafka's UnifiedLog / LogSegment)."""

from kafkalab.log.partition_log import AppendInfo, PartitionLog, StoredRecord
from kafkalab.log.segment import LogSegment

__all__ = ["AppendInfo", "LogSegment", "PartitionLog", "StoredRecord"]
