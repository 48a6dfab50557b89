"""The controller's part of creating a topic: validate, place replicas, emit metadata records.

In Kafka 4.x (KRaft) a broker forwards CreateTopics to the active controller, which writes
TopicRecord, PartitionRecord and ConfigRecord entries to the ``__cluster_metadata`` log; every
broker replays them. Here the controller is a sans-IO object returning those records; the
controllers chapter (issue 6) replaces it with a Raft quorum.

Replica placement is Kafka's rack-unaware rule: partition p's first replica is broker
``(start + p) % n`` and the others follow with a shift (``StripedReplicaPlacer`` in KRaft).

Kafka: org.apache.kafka.controller.ReplicationControlManager#createTopic,
org.apache.kafka.metadata.placement.StripedReplicaPlacer, KIP-500, KIP-631.
"""

from __future__ import annotations

import hashlib
import re

from kafkalab.broker.messages import (
    ConfigRecord,
    CreatableTopic,
    CreatableTopicResult,
    MetadataImage,
    MetadataRecord,
    PartitionRecord,
    TopicRecord,
)
from kafkalab.config import INTERNAL_TOPICS, BrokerConfig
from kafkalab.errors import (
    ConfigError,
    InvalidConfigurationError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    KafkaError,
    TopicAlreadyExistsError,
)

LEGAL_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_TOPIC_NAME_LENGTH = 249


def validate_topic_name(name: str) -> None:
    """org.apache.kafka.common.internals.Topic#validate."""
    if not name:
        raise InvalidTopicError("Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise InvalidTopicError("Topic name cannot be \".\" or \"..\"")
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise InvalidTopicError(f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters")
    if not LEGAL_TOPIC_NAME.match(name):
        raise InvalidTopicError(f"Topic name {name!r} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")


def place_replicas(num_partitions: int, replication_factor: int, brokers: list[int], start: int) -> list[tuple[int, ...]]:
    """Rack-unaware placement: leaders striped across brokers, followers shifted after them."""
    ordered = sorted(brokers)
    n = len(ordered)
    return [tuple(ordered[(start + p + r) % n] for r in range(replication_factor)) for p in range(num_partitions)]


class Controller:
    """Validates CreateTopics and turns it into metadata records."""

    def __init__(self, config: BrokerConfig, image: MetadataImage) -> None:
        self.config = config
        self.image = image
        self._topics_created = 0

    def create_topic(self, topic: CreatableTopic) -> tuple[CreatableTopicResult, list[MetadataRecord]]:
        try:
            records = self._create(topic)
        except KafkaError as error:
            return CreatableTopicResult(topic.name, error.error_code, str(error)), []
        partitions = [r for r in records if isinstance(r, PartitionRecord)]
        return CreatableTopicResult(topic.name, 0, None, len(partitions), len(partitions[0].replicas)), records

    def _create(self, topic: CreatableTopic) -> list[MetadataRecord]:
        validate_topic_name(topic.name)
        if topic.name in self.image.topic_ids:
            raise TopicAlreadyExistsError(f"Topic '{topic.name}' already exists.")
        num_partitions = self.config["num.partitions"] if topic.num_partitions == -1 else topic.num_partitions
        replication_factor = self.config["default.replication.factor"] if topic.replication_factor == -1 else topic.replication_factor
        if num_partitions < 1:
            raise InvalidPartitionsError("Number of partitions must be larger than 0.")
        brokers = sorted(self.image.brokers)
        if replication_factor < 1 or replication_factor > len(brokers):
            raise InvalidReplicationFactorError(
                f"Unable to replicate the partition {replication_factor} time(s): The target replication factor of "
                f"{replication_factor} cannot be reached because only {len(brokers)} broker(s) are registered."
            )
        try:
            self.config.topic_config(dict(topic.configs), internal=topic.name in INTERNAL_TOPICS)
        except ConfigError as bad:
            raise InvalidConfigurationError(str(bad)) from None
        topic_id = hashlib.sha256(f"{topic.name}:{self._topics_created}".encode()).hexdigest()[:22]
        self._topics_created += 1
        placement = place_replicas(num_partitions, replication_factor, brokers, start=self._topics_created - 1)
        records: list[MetadataRecord] = [TopicRecord(topic.name, topic_id)]
        records += [ConfigRecord(topic.name, key, str(value)) for key, value in topic.configs]
        records += [PartitionRecord(topic.name, p, replicas, replicas, replicas[0], 0) for p, replicas in enumerate(placement)]
        return records
