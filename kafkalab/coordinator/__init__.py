"""Coordinators that live on brokers: the group coordinator (consumer groups and committed offsets).

Kafka: the group-coordinator module (org.apache.kafka.coordinator.group).
"""

from kafkalab.coordinator.group_coordinator import GroupCoordinator, OffsetAndMetadata
from kafkalab.coordinator.offsets_topic import OFFSETS_TOPIC, partition_for

__all__ = ["OFFSETS_TOPIC", "GroupCoordinator", "OffsetAndMetadata", "partition_for"]
