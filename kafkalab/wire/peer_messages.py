"""What one kafkalab node sends another, in Kafka's wire format (sans-IO).

A broker talks to other nodes for a handful of reasons, and Kafka uses its own protocol for each —
so does kafkalab (the version is the one sent):

To the controller (on its CONTROLLER listener):

* :class:`RegisterBroker` → BrokerRegistration v4: "I am broker 2, reach me at ..."; the answer is a
  broker epoch.
* ``BrokerHeartbeatRequest`` → BrokerHeartbeat v1, every ``broker.heartbeat.interval.ms``.
* :class:`MetadataFetch` → Fetch v12 of ``__cluster_metadata-0``: the metadata log, long-polled.
* ``AlterPartitionRequest`` → AlterPartition v2: a leader's new ISR.
* :class:`AllocateProducerIds` → AllocateProducerIds v0: a block of producer ids (KIP-730).
* ``CreateTopicsRequest``, ``DeleteTopicsRequest``, ``CreatePartitionsRequest`` → CreateTopics v7,
  DeleteTopics v6, CreatePartitions v3: a client's admin request, forwarded (KIP-590).

To the leader of a partition (on its client listener):

* ``FetchRequest`` with ``replica_id`` set → Fetch v12 (ReplicaId set): a follower replicating.
* ``OffsetsForLeaderEpochRequest`` → OffsetForLeaderEpoch v4: where did my last epoch end (KIP-101)?

:func:`encode_request` turns a core request into (api key, version, kio body); :func:`decode_response`
turns the kio answer back into the core response the broker expects; :func:`failure_response` is the
answer when the other node could not be reached (the broker retries as it would after an error).

Kafka: BrokerLifecycleManager (registration, heartbeats), KafkaRaftClient (metadata fetches),
ReplicaFetcherThread / RemoteLeaderEndPoint (Fetch, OffsetForLeaderEpoch), AlterPartitionManager,
ForwardingManager; KIP-500, KIP-590 (forwarding), KIP-595, KIP-631.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from kafkalab.broker.messages import (
    AlterPartitionRequest,
    AlterPartitionResponse,
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    CreatableTopicResult,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteTopicsRequest,
    DeleteTopicsResponse,
    FetchPartitionResponse,
    FetchRequest,
    FetchResponse,
    MetadataRecord,
    OffsetsForLeaderEpochRequest,
    OffsetsForLeaderEpochResponse,
)
from kafkalab.record.raw import split_batches
from kafkalab.wire.metadata_log import METADATA_TOPIC, decode_metadata_record
from kafkalab.wire.protocol import build, request_class

NETWORK_EXCEPTION = 13  # Errors.NETWORK_EXCEPTION: the other node did not answer
REQUEST_TIMED_OUT = 7

TopicIds = Callable[[str], uuid.UUID]  # a topic's wire id (KIP-516), from this node's metadata image


@dataclass(frozen=True)
class RegisterBroker:
    """A broker-only node introducing itself to the controller (BrokerRegistrationRequest). Every
    start is a new registration: the controller answers with a new broker epoch."""

    broker_id: int
    cluster_id: str
    incarnation_id: uuid.UUID
    endpoints: tuple[tuple[str, str, int], ...]  # (listener, host, port), as clients reach it
    rack: str | None = None


@dataclass(frozen=True)
class Registered:
    error_code: int
    broker_epoch: int = -1


@dataclass(frozen=True)
class AllocateProducerIds:
    """A broker asking the controller for its next block of producer ids (KIP-730)."""

    broker_id: int


@dataclass(frozen=True)
class ProducerIdBlock:
    error_code: int
    start: int = -1
    length: int = 0


@dataclass(frozen=True)
class MetadataFetch:
    """A broker reading the metadata log from ``offset`` (KRaft: a Fetch of ``__cluster_metadata-0``
    from the quorum, as an observer). The controller holds it up to ``max_wait_ms`` when nothing is new."""

    broker_id: int
    offset: int
    max_wait_ms: int = 500
    cluster_id: str | None = None  # KRaft's Fetch names the cluster: a stranger's fetch is refused


@dataclass(frozen=True)
class MetadataBatch:
    """What a metadata fetch brought: records from ``start_offset`` (empty: nothing new)."""

    error_code: int
    start_offset: int
    records: tuple[MetadataRecord, ...]
    high_watermark: int = -1


def lane(message: Any) -> str:
    """Which connection a message travels on. A node keeps one connection per lane and destination,
    so that a long-polling fetch never holds up a heartbeat (Kafka, too, has separate network clients
    for the metadata log, the broker lifecycle, and each replica fetcher)."""
    if isinstance(message, MetadataFetch):
        return "metadata"
    if isinstance(message, (FetchRequest, OffsetsForLeaderEpochRequest)):
        return "replication"
    return "control"


def encode_request(message: Any, topic_id: TopicIds, broker_epoch: int) -> tuple[int, int, Any]:
    """(api key, version, kio request body) for a core request to another node."""
    if isinstance(message, RegisterBroker):
        return 62, 4, build(request_class(62, 4), {
            "broker_id": message.broker_id, "cluster_id": message.cluster_id, "incarnation_id": message.incarnation_id,
            "listeners": [{"name": name, "host": host, "port": port, "security_protocol": 0} for name, host, port in message.endpoints],
            "features": [{"name": "metadata.version", "min_supported_version": 1, "max_supported_version": 27}],
            "rack": message.rack, "log_dirs": [], "previous_broker_epoch": -1})
    if isinstance(message, AllocateProducerIds):
        return 67, 0, build(request_class(67, 0), {"broker_id": message.broker_id, "broker_epoch": broker_epoch})
    if isinstance(message, BrokerHeartbeatRequest):
        return 63, 1, build(request_class(63, 1), {
            "broker_id": message.broker_id, "broker_epoch": broker_epoch, "current_metadata_offset": message.metadata_offset,
            "want_fence": False, "want_shut_down": False, "offline_log_dirs": []})
    if isinstance(message, MetadataFetch):
        return 1, 12, build(request_class(1, 12), {
            "cluster_id": message.cluster_id, "replica_id": message.broker_id, "max_wait": message.max_wait_ms, "min_bytes": 1, "max_bytes": 8388608,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": METADATA_TOPIC, "partitions": [{"partition": 0, "current_leader_epoch": -1, "fetch_offset": message.offset,
                                                                 "last_fetched_epoch": -1, "log_start_offset": -1,
                                                                 "partition_max_bytes": 8388608}]}],
            "forgotten_topics_data": [], "rack_id": ""})
    if isinstance(message, FetchRequest):
        topics: dict[str, list[dict]] = {}
        for p in message.partitions:
            topics.setdefault(p.topic, []).append({
                "partition": p.partition, "current_leader_epoch": p.current_leader_epoch, "fetch_offset": p.fetch_offset,
                "last_fetched_epoch": -1, "log_start_offset": -1, "partition_max_bytes": p.partition_max_bytes or 1048576})
        return 1, 12, build(request_class(1, 12), {
            "replica_id": message.replica_id, "max_wait": message.max_wait_ms, "min_bytes": message.min_bytes,
            "max_bytes": message.max_bytes, "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": t, "partitions": ps} for t, ps in topics.items()], "forgotten_topics_data": [], "rack_id": ""})
    if isinstance(message, OffsetsForLeaderEpochRequest):
        return 23, 4, build(request_class(23, 4), {
            "replica_id": message.replica_id,
            "topics": [{"topic": message.topic, "partitions": [{"partition": message.partition,
                                                                "current_leader_epoch": message.current_leader_epoch,
                                                                "leader_epoch": message.leader_epoch}]}]})
    if isinstance(message, AlterPartitionRequest):
        return 56, 2, build(request_class(56, 2), {
            "broker_id": message.broker_id, "broker_epoch": broker_epoch,
            "topics": [{"topic_id": topic_id(message.topic), "partitions": [{
                "partition_index": message.partition, "leader_epoch": message.leader_epoch, "new_isr": message.new_isr,
                "leader_recovery_state": 0, "partition_epoch": message.partition_epoch}]}]})
    if isinstance(message, CreateTopicsRequest):
        return 19, 7, build(request_class(19, 7), {
            "topics": [{"name": t.name, "num_partitions": t.num_partitions, "replication_factor": t.replication_factor,
                        "assignments": [], "configs": [{"name": k, "value": v} for k, v in t.configs]} for t in message.topics],
            "timeout": 30000, "validate_only": False})
    if isinstance(message, DeleteTopicsRequest):
        return 20, 6, build(request_class(20, 6), {"topics": [{"name": t} for t in message.topics], "timeout": 30000})
    if isinstance(message, CreatePartitionsRequest):
        return 37, 3, build(request_class(37, 3), {
            "topics": [{"name": name, "count": count, "assignments": None} for name, count in message.topics],
            "timeout": 30000, "validate_only": False})
    raise TypeError(f"kafkalab does not send {type(message).__name__} to other nodes")


def _code(value: Any) -> int:
    return int(getattr(value, "value", value))


def decode_response(message: Any, body: Any) -> Any:
    """The core response to ``message`` from the kio response body the other node sent."""
    if isinstance(message, RegisterBroker):
        return Registered(_code(body.error_code), body.broker_epoch)
    if isinstance(message, AllocateProducerIds):
        return ProducerIdBlock(_code(body.error_code), body.producer_id_start, body.producer_id_len)
    if isinstance(message, BrokerHeartbeatRequest):
        return BrokerHeartbeatResponse(body.is_fenced, _code(body.error_code), message.correlation_id, (), message.metadata_offset)
    if isinstance(message, MetadataFetch):
        if _code(body.error_code):
            return MetadataBatch(_code(body.error_code), message.offset, ())
        part = body.responses[0].partitions[0]
        if _code(part.error_code):
            return MetadataBatch(_code(part.error_code), message.offset, ())
        records: list[MetadataRecord] = []
        start = -1
        for batch in split_batches(part.records or b"", allow_truncated_tail=True):
            if start < 0:
                start = batch.base_offset
            records.extend(decode_metadata_record(r.value) for r in batch.records)
        return MetadataBatch(0, start if start >= 0 else message.offset, tuple(records), part.high_watermark)
    if isinstance(message, FetchRequest):
        answers = []
        for topic in body.responses:
            for p in topic.partitions:
                answers.append(FetchPartitionResponse(
                    topic.topic, p.partition_index, _code(p.error_code), None, p.high_watermark, p.last_stable_offset,
                    p.log_start_offset, batches=bytes(p.records or b"")))
        if _code(body.error_code) and not answers:
            answers = [FetchPartitionResponse(p.topic, p.partition, _code(body.error_code)) for p in message.partitions]
        return FetchResponse(tuple(answers), _code(body.error_code), None, message.correlation_id)
    if isinstance(message, OffsetsForLeaderEpochRequest):
        p = body.topics[0].partitions[0]
        return OffsetsForLeaderEpochResponse(message.topic, message.partition, _code(p.error_code), None, p.leader_epoch,
                                             p.end_offset, message.correlation_id)
    if isinstance(message, AlterPartitionRequest):
        code = _code(body.error_code)
        if code or not body.topics or not body.topics[0].partitions:
            return AlterPartitionResponse(message.topic, message.partition, code or REQUEST_TIMED_OUT, correlation_id=message.correlation_id)
        p = body.topics[0].partitions[0]
        return AlterPartitionResponse(message.topic, message.partition, _code(p.error_code), None, tuple(p.isr), p.leader_epoch,
                                      p.partition_epoch, message.correlation_id)
    if isinstance(message, CreateTopicsRequest):
        return CreateTopicsResponse(tuple(CreatableTopicResult(t.name, _code(t.error_code), t.error_message, t.num_partitions,
                                                               t.replication_factor) for t in body.topics), message.correlation_id)
    if isinstance(message, DeleteTopicsRequest):
        return DeleteTopicsResponse(tuple((r.name, _code(r.error_code), r.error_message) for r in body.responses), message.correlation_id)
    if isinstance(message, CreatePartitionsRequest):
        return CreatePartitionsResponse(tuple((r.name, _code(r.error_code), r.error_message) for r in body.results),
                                        message.correlation_id)
    raise TypeError(f"no answer is expected to {type(message).__name__}")


def failure_response(message: Any, error_code: int = NETWORK_EXCEPTION, why: str = "the node did not answer") -> Any:
    """The answer a request gets when its destination could not be reached or did not answer in time."""
    if isinstance(message, RegisterBroker):
        return Registered(error_code)
    if isinstance(message, AllocateProducerIds):
        return ProducerIdBlock(error_code)
    if isinstance(message, BrokerHeartbeatRequest):
        return None  # the next heartbeat is due anyway
    if isinstance(message, MetadataFetch):
        return MetadataBatch(error_code, message.offset, ())
    if isinstance(message, FetchRequest):
        return FetchResponse(tuple(FetchPartitionResponse(p.topic, p.partition, error_code, why) for p in message.partitions),
                             0, None, message.correlation_id)
    if isinstance(message, OffsetsForLeaderEpochRequest):
        return OffsetsForLeaderEpochResponse(message.topic, message.partition, error_code, why, correlation_id=message.correlation_id)
    if isinstance(message, AlterPartitionRequest):
        return AlterPartitionResponse(message.topic, message.partition, error_code, why, correlation_id=message.correlation_id)
    if isinstance(message, CreateTopicsRequest):
        return CreateTopicsResponse(tuple(CreatableTopicResult(t.name, REQUEST_TIMED_OUT, f"the controller: {why}") for t in message.topics),
                                    message.correlation_id)
    if isinstance(message, DeleteTopicsRequest):
        return DeleteTopicsResponse(tuple((t, REQUEST_TIMED_OUT, f"the controller: {why}") for t in message.topics), message.correlation_id)
    if isinstance(message, CreatePartitionsRequest):
        return CreatePartitionsResponse(tuple((t, REQUEST_TIMED_OUT, f"the controller: {why}") for t, _count in message.topics),
                                        message.correlation_id)
    raise TypeError(f"no answer is expected to {type(message).__name__}")


def answer_timeout_ms(message: Any, request_timeout_ms: int) -> int:
    """How long to wait for the answer: a long poll's wait on top of the request timeout."""
    wait = getattr(message, "max_wait_ms", 0) or 0
    return request_timeout_ms + wait

