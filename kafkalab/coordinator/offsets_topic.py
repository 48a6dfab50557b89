"""``__consumer_offsets``: where groups and their committed offsets live, as records in a log.

Which broker coordinates a group? The one leading partition
``abs(groupId.hashCode()) % offsets.topic.num.partitions`` of ``__consumer_offsets`` (50 partitions
by default). ``hashCode`` is Java's ``String.hashCode`` — not murmur2 — and ``abs`` is Kafka's
``Utils.abs``, which maps Integer.MIN_VALUE to 0.

Each commit is a record whose key names (group, topic, partition) and whose value holds the offset;
each completed rebalance writes the group's metadata (generation, leader, members, assignments).
A coordinator that starts leading a partition *replays* it to rebuild its groups and offsets, so a
broker restart or a new coordinator loses nothing that was committed. Deleting something is a
tombstone (a record with a null value); log compaction keeps only the newest record per key.

History: consumers before Kafka 0.9 (the "old" Scala consumer) stored offsets in ZooKeeper under
``/consumers/<group>/offsets``; 0.8.2 added the offsets topic and 0.9's new consumer used it.
Kafka 4.x has no ZooKeeper at all.

Byte formats (non-flexible versions, as Kafka 4.x writes them):

* key   = int16 version, then fields. OffsetCommitKey v1: group, topic (strings), partition (int32).
  GroupMetadataKey v2: group.
* value = int16 version, then fields. OffsetCommitValue v3: offset (int64), leaderEpoch (int32),
  metadata (string), commitTimestamp (int64). GroupMetadataValue v3: protocolType, generation,
  protocol, leader, currentStateTimestamp, members[memberId, groupInstanceId, clientId, clientHost,
  rebalanceTimeout, sessionTimeout, subscription, assignment].

Kafka: GroupCoordinatorService#partitionFor, GroupCoordinatorRecordHelpers (newOffsetCommitRecord,
newGroupMetadataRecord), group-coordinator/src/main/resources/common/message/*.json, KIP-915.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.coordinator.wire import Reader, Writer
from kafkalab.jvm import java_string_hash

OFFSETS_TOPIC = "__consumer_offsets"
OFFSET_COMMIT_KEY_VERSION = 1
GROUP_METADATA_KEY_VERSION = 2
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_VALUE_VERSION = 3


def kafka_abs(n: int) -> int:
    """org.apache.kafka.common.utils.Utils#abs: Math.abs, except Integer.MIN_VALUE gives 0."""
    return 0 if n == -(1 << 31) else abs(n)


def partition_for(group_id: str, num_partitions: int = 50) -> int:
    """The __consumer_offsets partition whose leader coordinates ``group_id``."""
    return kafka_abs(java_string_hash(group_id)) % num_partitions


@dataclass(frozen=True)
class OffsetCommitKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True)
class OffsetCommitValue:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int


@dataclass(frozen=True)
class GroupMemberMetadata:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout: int
    session_timeout: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True)
class GroupMetadataKey:
    group: str


@dataclass(frozen=True)
class GroupMetadataValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int
    members: tuple[GroupMemberMetadata, ...]


CoordinatorKey = OffsetCommitKey | GroupMetadataKey
CoordinatorValue = OffsetCommitValue | GroupMetadataValue


def encode_key(key: CoordinatorKey) -> bytes:
    out = Writer()
    if isinstance(key, OffsetCommitKey):
        out.int16(OFFSET_COMMIT_KEY_VERSION).string(key.group).string(key.topic).int32(key.partition)
    else:
        out.int16(GROUP_METADATA_KEY_VERSION).string(key.group)
    return out.getvalue()


def encode_value(value: CoordinatorValue) -> bytes:
    out = Writer()
    if isinstance(value, OffsetCommitValue):
        out.int16(OFFSET_COMMIT_VALUE_VERSION).int64(value.offset).int32(value.leader_epoch)
        out.string(value.metadata).int64(value.commit_timestamp)
        return out.getvalue()
    out.int16(GROUP_METADATA_VALUE_VERSION).string(value.protocol_type).int32(value.generation)
    out.nullable_string(value.protocol).nullable_string(value.leader).int64(value.current_state_timestamp)
    out.int32(len(value.members))
    for member in value.members:
        out.string(member.member_id).nullable_string(member.group_instance_id).string(member.client_id)
        out.string(member.client_host).int32(member.rebalance_timeout).int32(member.session_timeout)
        out.bytes_(member.subscription).bytes_(member.assignment)
    return out.getvalue()


def decode_key(data: bytes) -> CoordinatorKey:
    reader = Reader(data)
    version = reader.int16()
    if version in (0, 1):
        return OffsetCommitKey(reader.string(), reader.string(), reader.int32())
    if version == 2:
        return GroupMetadataKey(reader.string())
    raise ValueError(f"unknown __consumer_offsets key version {version} (kafkalab reads 0-2)")


def decode_value(key: CoordinatorKey, data: bytes | None) -> CoordinatorValue | None:
    """The value for ``key``; None for a tombstone (the offset or group was deleted)."""
    if data is None:
        return None
    reader = Reader(data)
    version = reader.int16()
    if isinstance(key, OffsetCommitKey):
        if version != OFFSET_COMMIT_VALUE_VERSION:
            raise ValueError(f"kafkalab reads OffsetCommitValue version 3, not {version}")
        return OffsetCommitValue(reader.int64(), reader.int32(), reader.string(), reader.int64())
    if version != GROUP_METADATA_VALUE_VERSION:
        raise ValueError(f"kafkalab reads GroupMetadataValue version 3, not {version}")
    protocol_type, generation = reader.string(), reader.int32()
    protocol, leader, timestamp = reader.nullable_string(), reader.nullable_string(), reader.int64()
    members = tuple(
        GroupMemberMetadata(
            reader.string(), reader.nullable_string(), reader.string(), reader.string(),
            reader.int32(), reader.int32(), reader.bytes_(), reader.bytes_(),
        )
        for _ in range(reader.int32())
    )
    return GroupMetadataValue(protocol_type, generation, protocol, leader, timestamp, members)
