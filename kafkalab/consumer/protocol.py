"""What consumers put in JoinGroup and SyncGroup: subscriptions and assignments, as bytes.

The group coordinator does not understand these bytes (the same protocol serves Kafka Connect
and other "embedded protocols"); only the consumers do. A member's *subscription* lists its
topics, the partitions it owned in the previous generation (for the sticky assignors), that
generation, and its rack. The leader's *assignment* for each member lists partitions per topic.

Kafka: org.apache.kafka.clients.consumer.internals.ConsumerProtocol,
ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json (version 3, KIP-429, KIP-792).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from kafkalab.coordinator.wire import Reader, Writer

PROTOCOL_TYPE = "consumer"
SUBSCRIPTION_VERSION = 3
ASSIGNMENT_VERSION = 3

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Subscription:
    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    generation_id: int = -1
    rack_id: str | None = None
    user_data: bytes | None = None


@dataclass(frozen=True)
class Assignment:
    partitions: tuple[TopicPartition, ...] = field(default=())
    user_data: bytes | None = None


def _write_partitions(out: Writer, partitions: tuple[TopicPartition, ...]) -> None:
    by_topic = [(topic, [p for _, p in group]) for topic, group in groupby(sorted(partitions), key=lambda tp: tp[0])]
    out.int32(len(by_topic))
    for topic, numbers in by_topic:
        out.string(topic).int32(len(numbers))
        for number in numbers:
            out.int32(number)


def _read_partitions(reader: Reader) -> tuple[TopicPartition, ...]:
    result: list[TopicPartition] = []
    for _ in range(reader.int32()):
        topic = reader.string()
        result += [(topic, reader.int32()) for _ in range(reader.int32())]
    return tuple(result)


def encode_subscription(subscription: Subscription) -> bytes:
    out = Writer().int16(SUBSCRIPTION_VERSION)
    out.int32(len(subscription.topics))
    for topic in subscription.topics:
        out.string(topic)
    out.bytes_(subscription.user_data)
    _write_partitions(out, subscription.owned_partitions)
    out.int32(subscription.generation_id).nullable_string(subscription.rack_id)
    return out.getvalue()


def decode_subscription(data: bytes) -> Subscription:
    reader = Reader(data)
    version = reader.int16()
    topics = tuple(reader.string() for _ in range(reader.int32()))
    user_data = reader.nullable_bytes()
    owned = _read_partitions(reader) if version >= 1 else ()
    generation = reader.int32() if version >= 2 else -1
    rack = reader.nullable_string() if version >= 3 else None
    return Subscription(topics, owned, generation, rack, user_data)


def encode_assignment(assignment: Assignment) -> bytes:
    out = Writer().int16(ASSIGNMENT_VERSION)
    _write_partitions(out, assignment.partitions)
    out.bytes_(assignment.user_data)
    return out.getvalue()


def decode_assignment(data: bytes) -> Assignment:
    if not data:  # a member the leader gave nothing to may get empty bytes
        return Assignment()
    reader = Reader(data)
    reader.int16()
    partitions = _read_partitions(reader)
    return Assignment(partitions, reader.nullable_bytes())
