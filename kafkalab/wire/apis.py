"""Kafka's APIs, translated: wire messages (kio classes, any version) ⇄ the broker core's requests.

One function per API key. Each reads the kio request (whatever its version: fields that a version
lacks are read with defaults), builds the core request (``kafkalab.broker.messages``,
``kafkalab.coordinator.messages``), lets the broker or controller answer, and returns the response
as plain fields; :func:`kafkalab.wire.protocol.build` keeps those the version has. A request the
core parks (a long-poll fetch, a JoinGroup, an acks=all produce) returns PARKED and leaves an
``encode`` function on its call, used when the core's answer comes out later.

``SUPPORTED`` is what ApiVersions advertises: the range kio knows for each API (the versions
Kafka 4.x itself serves) for the APIs below — nothing is advertised that is not answered.

Kafka: kafka.server.KafkaApis (handleProduceRequest, handleFetchRequest, handleTopicMetadataRequest,
...), ControllerApis (createTopics, deleteTopics).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Callable

from kafkalab.broker.messages import (
    AlterPartitionRequest,
    CreatableTopic,
    CreatePartitionsRequest,
    CreateTopicsRequest,
    DeleteTopicsRequest,
    FetchPartition,
    FetchRequest,
    InitProducerIdRequest,
    ListOffsetsRequest,
    OffsetsForLeaderEpochRequest,
    ProducePartitionData,
    ProduceRequest,
)
from kafkalab.broker.broker import _last_stable_offset
from kafkalab.config import INTERNAL_TOPICS
from kafkalab.coordinator.messages import (
    DescribeGroupsRequest,
    FindCoordinatorRequest,
    HeartbeatRequest,
    JoinGroupProtocol,
    JoinGroupRequest,
    LeaveGroupMember,
    LeaveGroupRequest,
    ListGroupsRequest,
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetFetchRequest,
    SyncGroupAssignment,
    SyncGroupRequest,
)
from kafkalab.errors import (
    CoordinatorNotAvailableError,
    InvalidRequestError,
    InconsistentClusterIdError,
    KafkaError,
    OffsetOutOfRangeError,
    UnknownTopicIdError,
    UnknownTopicOrPartitionError,
)
from kafkalab.record.raw import single_produce_batch
from kafkalab.wire.metadata_log import METADATA_TOPIC
from kafkalab.wire.protocol import ZERO_UUID, ProtocolError, build, known_versions, milliseconds, response_class

if TYPE_CHECKING:
    from kafkalab.wire.node import Call, ServerNode

AUTHORIZED_OPERATIONS_OMITTED = -2147483648  # INT32_MIN: "not requested" (kafka-python rejects unknown bits)

Handler = Callable[["ServerNode", "Call", Any, int], Any]
HANDLERS: dict[int, Handler] = {}


def api(api_key: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[api_key] = handler
        return handler
    return register


def _field(message: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` this version of the message has (fields were renamed across versions)."""
    for name in names:
        if hasattr(message, name):
            return getattr(message, name)
    return default


def _parked(node: "ServerNode", call: "Call") -> Any:
    from kafkalab.wire.node import PARKED

    return PARKED


# -- first contact ----------------------------------------------------------------------------------
@api(18)
def api_versions(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    on_controller_listener = call.listener in node.settings.controller_listener_names
    return {"error_code": 0, "api_keys": _api_keys(CONTROLLER_SUPPORTED if on_controller_listener else SUPPORTED), "throttle_time": 0}


def _api_keys(table: dict[int, tuple[int, int]]) -> list[dict]:
    return [{"api_key": key, "min_version": low, "max_version": high} for key, (low, high) in sorted(table.items())]


def api_versions_error_v0(table: dict[int, tuple[int, int]] | None = None) -> Any:
    """KIP-511: a too-new ApiVersions request is answered in v0 with UNSUPPORTED_VERSION and our ranges."""
    return build(response_class(18, 0), {"error_code": 35, "api_keys": _api_keys(SUPPORTED if table is None else table)})


# -- metadata and topics -----------------------------------------------------------------------------
def _brokers(node: "ServerNode") -> list[dict]:
    brokers = []
    for broker_id, record in sorted(node.broker.image.brokers.items()):
        if broker_id in node.broker.image.fenced or not record.endpoints:
            continue
        _listener, host, port = record.endpoints[0]
        brokers.append({"node_id": broker_id, "broker_id": broker_id, "host": host, "port": port, "rack": record.rack})
    return brokers


def _topic_id(node: "ServerNode", name: str) -> uuid.UUID:
    from kafkalab.wire.node import topic_uuid

    topic_id = node.broker.image.topic_ids.get(name)
    return ZERO_UUID if topic_id is None else topic_uuid(topic_id)


def _topic_by_id(node: "ServerNode", topic_id: uuid.UUID | None) -> str | None:
    from kafkalab.wire.node import topic_uuid

    for name, kafkalab_id in node.broker.image.topic_ids.items():
        if topic_uuid(kafkalab_id) == topic_id:
            return name
    return None


def _topic_name(node: "ServerNode", entry: Any) -> tuple[str | None, uuid.UUID | None]:
    """(name, id) of a topic a request names either way (topic ids since Fetch v13, Produce v13, ...)."""
    name = _field(entry, "name", "topic")
    topic_id = _field(entry, "topic_id")
    if name is None and topic_id is not None:
        name = _topic_by_id(node, topic_id)
    return name, topic_id


@api(3)
def metadata(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    image = node.broker.image
    wanted = request.topics
    if wanted is None or (call.api_version == 0 and not wanted):
        names = sorted(image.topic_ids)  # null (v1+) or empty (v0): every topic
    else:
        names = []
        for entry in wanted:
            name, _unused_id = _topic_name(node, entry)
            names.append(name if name is not None else "")
    allow_auto = bool(_field(request, "allow_auto_topic_creation", default=True))
    topics = []
    for name in names:
        if name not in image.topic_ids and allow_auto and node.config["auto.create.topics.enable"] and name and not name.startswith("__"):
            node.broker.effects.append(("controller", CreateTopicsRequest((CreatableTopic(name),))))
            node._run_effects(now_ms)  # this node's controller creates it now; another node's, soon
            if name in image.topic_ids or node.controller is None:
                topics.append({"error_code": 5, "name": name, "topic_id": _topic_id(node, name), "partitions": (),
                               "topic_authorized_operations": AUTHORIZED_OPERATIONS_OMITTED})  # LEADER_NOT_AVAILABLE: retry
                continue
        if name not in image.topic_ids:
            topics.append({"error_code": UnknownTopicOrPartitionError.error_code, "name": name, "topic_id": ZERO_UUID,
                           "partitions": (), "topic_authorized_operations": AUTHORIZED_OPERATIONS_OMITTED})
            continue
        partitions = []
        for p in sorted(image.partitions[name].values(), key=lambda p: p.partition_id):
            partitions.append({
                "error_code": 5 if p.leader < 0 else 0, "partition_index": p.partition_id, "leader_id": p.leader,
                "leader_epoch": p.leader_epoch, "replica_nodes": p.replicas, "isr_nodes": p.isr,
                "offline_replicas": tuple(r for r in p.replicas if r in image.fenced),
            })
        topics.append({"error_code": 0, "name": name, "topic_id": _topic_id(node, name), "is_internal": name in INTERNAL_TOPICS,
                       "partitions": partitions, "topic_authorized_operations": AUTHORIZED_OPERATIONS_OMITTED})
    return {"throttle_time": 0, "brokers": _brokers(node), "cluster_id": node.settings.cluster_id,
            "controller_id": node.node_id, "topics": topics, "cluster_authorized_operations": AUTHORIZED_OPERATIONS_OMITTED}


@api(19)
def create_topics(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    early: dict[str, dict] = {}
    creatable = []
    for topic in request.topics:
        if topic.assignments:
            early[topic.name] = {"name": topic.name, "error_code": InvalidRequestError.error_code,
                                 "error_message": "kafkalab places replicas itself: manual replica assignments are not supported"}
        elif _field(request, "validate_only", default=False):
            early[topic.name] = {"name": topic.name, "error_code": 0, "num_partitions": topic.num_partitions,
                                 "replication_factor": topic.replication_factor}
        else:
            creatable.append(CreatableTopic(topic.name, topic.num_partitions, topic.replication_factor,
                                            tuple((c.name, c.value) for c in topic.configs if c.value is not None)))

    def encode(response: Any) -> dict:
        created = {r.name: r for r in (response.topics if response is not None else ())}
        results = []
        for topic in request.topics:
            result = created.get(topic.name)
            if result is None:
                results.append(early[topic.name])
                continue
            results.append({
                "name": result.name, "topic_id": _topic_id(node, result.name), "error_code": result.error_code,
                "error_message": result.error_message, "num_partitions": result.num_partitions,
                "replication_factor": result.replication_factor, "configs": (),
            })
        return {"throttle_time": 0, "topics": results}

    if not creatable:
        return encode(None)
    return node.ask_controller(call, CreateTopicsRequest(tuple(creatable)), now_ms, encode)


@api(20)
def delete_topics(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    entries = _field(request, "topics", default=None)
    if entries is None:  # v0-v5: topic_names
        entries = [{"name": name} for name in request.topic_names]
    wanted: list[tuple[str | None, uuid.UUID | None]] = []
    for entry in entries:
        name, topic_id = _topic_name(node, entry) if not isinstance(entry, dict) else (entry["name"], None)
        wanted.append((name, topic_id if name is None else _topic_id(node, name)))

    def encode(response: Any) -> dict:
        answered = {name: (code, message) for name, code, message in (response.results if response is not None else ())}
        results = []
        for name, topic_id in wanted:
            if name is None:
                results.append({"name": None, "topic_id": topic_id, "error_code": UnknownTopicIdError.error_code,
                                "error_message": f"no topic has id {topic_id}"})
                continue
            error_code, message = answered[name]
            results.append({"name": name, "topic_id": topic_id, "error_code": error_code, "error_message": message})
        return {"throttle_time": 0, "responses": results}

    names = tuple(name for name, _id in wanted if name is not None)
    if not names:
        return encode(None)
    return node.ask_controller(call, DeleteTopicsRequest(names), now_ms, encode)


@api(60)
def describe_cluster(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    brokers = _brokers(node)
    for broker in brokers:
        broker["is_fenced"] = False
    return {"throttle_time": 0, "error_code": 0, "endpoint_type": 1, "cluster_id": node.settings.cluster_id,
            "controller_id": node.node_id, "brokers": brokers, "cluster_authorized_operations": AUTHORIZED_OPERATIONS_OMITTED}


TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4
SOURCE_DYNAMIC_TOPIC, SOURCE_STATIC_BROKER, SOURCE_DEFAULT = 1, 4, 5


@api(32)
def describe_configs(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    results = []
    for resource in request.resources:
        keys = resource.configuration_keys
        if resource.resource_type == TOPIC_RESOURCE:
            if resource.resource_name not in node.broker.image.topic_ids:
                results.append({"error_code": UnknownTopicOrPartitionError.error_code, "resource_type": TOPIC_RESOURCE,
                                "resource_name": resource.resource_name, "configs": (),
                                "error_message": f"Topic '{resource.resource_name}' does not exist."})
                continue
            overrides = node.broker.image.configs.get(resource.resource_name, {})
            effective = node.broker.topic_config(resource.resource_name)
            configs = []
            for name, value in sorted(effective.as_dict().items()):
                if keys is not None and name not in keys:
                    continue
                configs.append({"name": name, "value": _config_string(value), "read_only": False, "is_default": name not in overrides,
                                "config_source": SOURCE_DYNAMIC_TOPIC if name in overrides else SOURCE_DEFAULT,
                                "is_sensitive": False, "synonyms": (), "config_type": 0, "documentation": None})
            results.append({"error_code": 0, "resource_type": TOPIC_RESOURCE, "resource_name": resource.resource_name,
                            "configs": configs})
        elif resource.resource_type == BROKER_RESOURCE:
            configs = []
            for name, value in sorted(node.config.as_dict().items()):
                if keys is not None and name not in keys:
                    continue
                configs.append({"name": name, "value": _config_string(value), "read_only": True,
                                "is_default": name not in node.config.overrides,
                                "config_source": SOURCE_STATIC_BROKER if name in node.config.overrides else SOURCE_DEFAULT,
                                "is_sensitive": False, "synonyms": (), "config_type": 0, "documentation": None})
            results.append({"error_code": 0, "resource_type": BROKER_RESOURCE, "resource_name": resource.resource_name,
                            "configs": configs})
        else:
            results.append({"error_code": InvalidRequestError.error_code, "resource_type": resource.resource_type,
                            "resource_name": resource.resource_name, "configs": (),
                            "error_message": f"kafkalab describes topic (2) and broker (4) configs, not resource type {resource.resource_type}"})
    return {"throttle_time": 0, "results": results}


def _config_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


# -- produce -------------------------------------------------------------------------------------
@api(0)
def produce(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    partitions: list[ProducePartitionData] = []
    refused: dict[tuple[str, int], dict] = {}
    order: list[tuple[str | None, uuid.UUID | None, int]] = []
    for topic in request.topic_data:
        name, topic_id = _topic_name(node, topic)
        for data in topic.partition_data:
            order.append((name, topic_id, data.index))
            if name is None:
                refused[(str(topic_id), data.index)] = {"index": data.index, "error_code": UnknownTopicIdError.error_code,
                                                        "error_message": f"no topic has id {topic_id}"}
                continue
            try:
                batch = single_produce_batch(data.records)
            except KafkaError as bad:
                refused[(name, data.index)] = {"index": data.index, "error_code": bad.error_code, "error_message": str(bad)}
                continue
            partitions.append(ProducePartitionData(name, data.index, batch))
    timeout_ms = milliseconds(request.timeout)

    def encode(response: Any) -> dict:
        answered = {(r.topic, r.partition): r for r in (response.responses if response is not None else ())}
        topics: dict[Any, dict] = {}
        for name, topic_id, index in order:
            key = name if name is not None else str(topic_id)
            entry = topics.setdefault(key, {"name": name, "topic_id": topic_id or _topic_id(node, name or ""), "partition_responses": []})
            if (key, index) in refused:
                entry["partition_responses"].append({**refused[(key, index)], "base_offset": -1, "log_append_time": -1,
                                                     "log_start_offset": -1})
                continue
            r = answered[(name, index)]
            entry["partition_responses"].append({
                "index": index, "error_code": r.error_code, "error_message": r.error_message, "base_offset": r.base_offset,
                "log_append_time": r.log_append_time_ms, "log_start_offset": r.log_start_offset,
            })
        return {"responses": list(topics.values()), "throttle_time": 0}

    if not partitions:
        return None if request.acks == 0 else encode(None)
    call_id = node.new_call_id(call)
    core = ProduceRequest(request.acks, timeout_ms, tuple(partitions), call_id, _field(request, "transactional_id"))
    response = node.broker.handle(core, now_ms, call.host)
    if request.acks == 0:
        node.calls.pop(call_id, None)
        return None  # Kafka never answers acks=0
    if response is None:
        call.encode = encode
        return _parked(node, call)
    node.calls.pop(call_id, None)
    return encode(response)


@api(22)
def init_producer_id(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    if request.transactional_id:
        return {"throttle_time": 0, "error_code": InvalidRequestError.error_code, "producer_id": -1, "producer_epoch": -1}
    call_id = node.new_call_id(call)
    response = node.broker.handle(InitProducerIdRequest(None, milliseconds(request.transaction_timeout), call_id), now_ms, call.host)
    node.calls.pop(call_id, None)
    return {"throttle_time": 0, "error_code": response.error_code, "producer_id": response.producer_id,
            "producer_epoch": response.producer_epoch}


# -- fetch ---------------------------------------------------------------------------------------
@api(1)
def fetch(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    if call.listener in node.settings.controller_listener_names:
        return _fetch_metadata_log(node, call, request, now_ms)
    wanted: list[FetchPartition] = []
    order: list[tuple[str | None, uuid.UUID | None, int]] = []
    for topic in request.topics:
        name, topic_id = _topic_name(node, topic)
        for p in topic.partitions:
            order.append((name, topic_id, p.partition))
            if name is not None:
                wanted.append(FetchPartition(name, p.partition, p.fetch_offset, p.partition_max_bytes, None,
                                             _field(p, "current_leader_epoch", default=-1)))
    replica_state = _field(request, "replica_state")
    replica_id = replica_state.replica_id if replica_state is not None else _field(request, "replica_id", default=-1)
    use_ids = call.api_version >= 13

    def encode(response: Any) -> dict:
        answered = {(r.topic, r.partition): r for r in (response.partitions if response is not None else ())}
        topics: dict[Any, dict] = {}
        for name, topic_id, index in order:
            key = topic_id if use_ids else name
            entry = topics.setdefault(key, {"topic": name, "topic_id": topic_id, "partitions": []})
            r = answered.get((name, index))
            if r is None:
                entry["partitions"].append({"partition_index": index, "error_code": UnknownTopicIdError.error_code,
                                            "high_watermark": -1, "last_stable_offset": -1, "log_start_offset": -1, "records": b""})
                continue
            entry["partitions"].append({
                "partition_index": index, "error_code": r.error_code, "high_watermark": r.high_watermark,
                "last_stable_offset": r.last_stable_offset, "log_start_offset": r.log_start_offset,
                "aborted_transactions": ([{"producer_id": a.producer_id, "first_offset": a.first_offset} for a in r.aborted_transactions]
                                         if request.isolation_level == 1 else None),
                "preferred_read_replica": r.preferred_read_replica, "records": r.batches,
            })
        return {"throttle_time": 0, "error_code": 0, "session_id": 0, "responses": list(topics.values())}

    if not wanted:
        return encode(None)
    call_id = node.new_call_id(call)
    core = FetchRequest(tuple(wanted), milliseconds(request.max_wait), request.min_bytes,
                        _field(request, "max_bytes", default=52428800), _field(request, "isolation_level", default=0),
                        call_id, replica_id, _field(request, "rack_id") or None, raw=True)
    response = node.broker.handle(core, now_ms, call.host)
    if response is None:
        call.encode = encode
        return _parked(node, call)
    node.calls.pop(call_id, None)
    return encode(response)


def _fetch_metadata_log(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    """A broker reading ``__cluster_metadata-0`` from the controller (KRaft's Fetch, served by
    KafkaRaftClient): the only partition the controller listener serves."""
    topics = list(request.topics)
    if node.controller is None or len(topics) != 1 or _field(topics[0], "topic") != METADATA_TOPIC or len(topics[0].partitions) != 1 \
            or topics[0].partitions[0].partition != 0:
        wanted = ", ".join(f"{_field(t, 'topic', 'topic_id')}{[p.partition for p in t.partitions]}" for t in topics)
        raise ProtocolError(f"a Fetch on the controller listener must read {METADATA_TOPIC}-0 (this one asks for {wanted})")
    offset = topics[0].partitions[0].fetch_offset
    if _field(request, "cluster_id") not in (None, node.settings.cluster_id):  # KafkaRaftClient.hasValidClusterId
        return {"throttle_time": 0, "error_code": InconsistentClusterIdError.error_code, "session_id": 0, "responses": []}

    def encode(batches: bytes, end_offset: int) -> dict:
        return {"throttle_time": 0, "error_code": 0, "session_id": 0, "responses": [{"topic": METADATA_TOPIC, "partitions": [{
            "partition_index": 0, "error_code": 0 if offset <= end_offset else OffsetOutOfRangeError.error_code,
            "high_watermark": end_offset, "last_stable_offset": end_offset, "log_start_offset": 0, "records": batches}]}]}

    if offset > node.store.end_offset:
        return encode(b"", node.store.end_offset)
    return node.fetch_metadata_log(call, offset, milliseconds(request.max_wait), now_ms, encode)


@api(2)
def list_offsets(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    read_committed = _field(request, "isolation_level", default=0) == 1
    topics = []
    for topic in request.topics:
        partitions = []
        for p in topic.partitions:
            call_id = node.new_call_id(call)
            r = node.broker.handle(ListOffsetsRequest(topic.name, p.partition_index, p.timestamp, call_id), now_ms, call.host)
            node.calls.pop(call_id, None)
            offset = r.offset
            if read_committed and p.timestamp == -1 and r.error_code == 0:  # read_committed sees up to the last stable offset
                offset = _last_stable_offset(node.broker.transactions.get((topic.name, p.partition_index)), offset)
            leader = node.broker.image.partitions.get(topic.name, {}).get(p.partition_index)
            partitions.append({"partition_index": p.partition_index, "error_code": r.error_code, "timestamp": r.timestamp,
                               "offset": offset, "leader_epoch": leader.leader_epoch if leader is not None else -1,
                               "old_style_offsets": (offset,)})
        topics.append({"name": topic.name, "partitions": partitions})
    return {"throttle_time": 0, "topics": topics}


# -- groups --------------------------------------------------------------------------------------
def _coordinator_for(node: "ServerNode", call: "Call", key: str, key_type: int, now_ms: int) -> dict:
    call_id = node.new_call_id(call)
    r = node.broker.handle(FindCoordinatorRequest(key, key_type, call_id), now_ms, call.host)
    node.calls.pop(call_id, None)
    host, port = "", -1
    record = node.broker.image.brokers.get(r.node_id)
    if r.error_code == 0 and record is not None and record.endpoints:
        _listener, host, port = record.endpoints[0]
    return {"key": key, "node_id": r.node_id, "host": host, "port": port, "error_code": r.error_code,
            "error_message": r.error_message}


@api(10)
def find_coordinator(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    key_type = _field(request, "key_type", default=0)
    keys = _field(request, "coordinator_keys")
    if keys is None:  # v0-v3: one key
        answer = _coordinator_for(node, call, request.key, key_type, now_ms)
        if answer["error_code"] == CoordinatorNotAvailableError.error_code:
            node._after_work(now_ms)  # the internal topic is being created: the client retries
        return {"throttle_time": 0, **answer}
    coordinators = [_coordinator_for(node, call, key, key_type, now_ms) for key in keys]
    return {"throttle_time": 0, "coordinators": coordinators}


def _group_call(node: "ServerNode", call: "Call", core: Any, now_ms: int, encode: Callable[[Any], dict]) -> Any:
    response = node.broker.handle(core, now_ms, call.host)
    if response is None:
        call.encode = encode
        return _parked(node, call)
    node.calls.pop(core.correlation_id, None)
    return encode(response)


@api(11)
def join_group(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    session_timeout = milliseconds(request.session_timeout)
    rebalance_timeout = milliseconds(_field(request, "rebalance_timeout", default=request.session_timeout))
    core = JoinGroupRequest(
        request.group_id, session_timeout, rebalance_timeout, request.member_id, request.protocol_type,
        tuple(JoinGroupProtocol(p.name, p.metadata) for p in request.protocols), _field(request, "group_instance_id"),
        call.client_id or "", _field(request, "reason"), node.new_call_id(call), require_member_id=call.api_version >= 4,
        client_host=f"/{call.host}")

    def encode(r: Any) -> dict:
        return {"throttle_time": 0, "error_code": r.error_code, "generation_id": r.generation_id, "protocol_type": r.protocol_type,
                "protocol_name": r.protocol_name or ("" if call.api_version < 7 else None), "leader": r.leader,
                "skip_assignment": r.skip_assignment, "member_id": r.member_id,
                "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id, "metadata": m.metadata} for m in r.members]}
    return _group_call(node, call, core, now_ms, encode)


@api(14)
def sync_group(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    core = SyncGroupRequest(request.group_id, request.generation_id, request.member_id,
                            tuple(SyncGroupAssignment(a.member_id, a.assignment) for a in request.assignments),
                            _field(request, "group_instance_id"), _field(request, "protocol_type"), _field(request, "protocol_name"),
                            node.new_call_id(call))

    def encode(r: Any) -> dict:
        return {"throttle_time": 0, "error_code": r.error_code, "protocol_type": r.protocol_type, "protocol_name": r.protocol_name,
                "assignment": r.assignment}
    return _group_call(node, call, core, now_ms, encode)


@api(12)
def heartbeat(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    core = HeartbeatRequest(request.group_id, request.generation_id, request.member_id, _field(request, "group_instance_id"),
                            node.new_call_id(call))
    return _group_call(node, call, core, now_ms, lambda r: {"throttle_time": 0, "error_code": r.error_code})


@api(13)
def leave_group(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    members = _field(request, "members")
    if members is None:  # v0-v2: one member
        leaving = (LeaveGroupMember(request.member_id),)
    else:
        leaving = tuple(LeaveGroupMember(m.member_id, m.group_instance_id, _field(m, "reason")) for m in members)
    core = LeaveGroupRequest(request.group_id, leaving, node.new_call_id(call))

    def encode(r: Any) -> dict:
        return {"throttle_time": 0, "error_code": r.error_code,
                "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id, "error_code": r.error_code} for m in leaving]}
    return _group_call(node, call, core, now_ms, encode)


@api(8)
def offset_commit(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    partitions = []
    names = []
    for topic in request.topics:
        name, topic_id = _topic_name(node, topic)
        names.append((name, topic_id, [p.partition_index for p in topic.partitions]))
        for p in topic.partitions:
            partitions.append(OffsetCommitPartition(name or "", p.partition_index, p.committed_offset,
                                                    _field(p, "committed_leader_epoch", default=-1), p.committed_metadata))
    core = OffsetCommitRequest(request.group_id, request.generation_id_or_member_epoch, request.member_id, tuple(partitions),
                               _field(request, "group_instance_id"), node.new_call_id(call))

    def encode(r: Any) -> dict:
        errors = {(p.topic, p.partition): p.error_code for p in r.partitions}
        return {"throttle_time": 0, "topics": [
            {"name": name, "topic_id": topic_id, "partitions": [
                {"partition_index": index, "error_code": errors.get((name or "", index), r.error_code)} for index in indexes]}
            for name, topic_id, indexes in names]}
    return _group_call(node, call, core, now_ms, encode)


@api(9)
def offset_fetch(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    groups = _field(request, "groups")
    if groups is None:  # v1-v7: one group
        answer = _offset_fetch_group(node, call, request.group_id, request.topics, _field(request, "require_stable", default=False), now_ms)
        return {"throttle_time": 0, "topics": answer["topics"], "error_code": answer["error_code"]}
    return {"throttle_time": 0, "groups": [
        _offset_fetch_group(node, call, g.group_id, g.topics, request.require_stable, now_ms) for g in groups]}


def _offset_fetch_group(node: "ServerNode", call: "Call", group_id: str, topics: Any, require_stable: bool, now_ms: int) -> dict:
    wanted = None
    if topics is not None:
        wanted = tuple((_topic_name(node, t)[0] or "", p) for t in topics for p in t.partition_indexes)
    call_id = node.new_call_id(call)
    r = node.broker.handle(OffsetFetchRequest(group_id, wanted, require_stable, call_id), now_ms, call.host)
    node.calls.pop(call_id, None)
    by_topic: dict[str, list[dict]] = {}
    for p in r.partitions:
        by_topic.setdefault(p.topic, []).append({
            "partition_index": p.partition, "committed_offset": p.committed_offset, "committed_leader_epoch": p.committed_leader_epoch,
            "metadata": p.metadata, "error_code": p.error_code})
    return {"group_id": group_id, "error_code": r.error_code,
            "topics": [{"name": name, "topic_id": _topic_id(node, name), "partitions": parts} for name, parts in by_topic.items()]}


@api(16)
def list_groups(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    call_id = node.new_call_id(call)
    r = node.broker.handle(ListGroupsRequest(tuple(_field(request, "states_filter", default=()) or ()), call_id), now_ms, call.host)
    node.calls.pop(call_id, None)
    return {"throttle_time": 0, "error_code": r.error_code, "groups": [
        {"group_id": g.group_id, "protocol_type": g.protocol_type, "group_state": g.group_state, "group_type": "classic"}
        for g in r.groups]}


@api(15)
def describe_groups(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    call_id = node.new_call_id(call)
    r = node.broker.handle(DescribeGroupsRequest(tuple(request.groups), call_id), now_ms, call.host)
    node.calls.pop(call_id, None)
    return {"throttle_time": 0, "groups": [
        {"error_code": g.error_code, "group_id": g.group_id, "group_state": g.group_state, "protocol_type": g.protocol_type,
         "protocol_data": g.protocol_data, "authorized_operations": AUTHORIZED_OPERATIONS_OMITTED,
         "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id, "client_id": m.client_id,
                      "client_host": m.client_host, "member_metadata": m.member_metadata, "member_assignment": m.member_assignment}
                     for m in g.members]}
        for g in r.groups]}


@api(42)
def delete_groups(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    results = node.broker.group_coordinator.delete_groups(list(request.groups_names), now_ms)
    node._after_work(now_ms)
    return {"throttle_time": 0, "results": [{"group_id": g, "error_code": code} for g, code in results]}


@api(37)
def create_partitions(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    early: dict[str, dict] = {}
    wanted = []
    for topic in request.topics:
        if topic.assignments:
            early[topic.name] = {"name": topic.name, "error_code": InvalidRequestError.error_code,
                                 "error_message": "kafkalab places replicas itself: manual replica assignments are not supported"}
        elif request.validate_only:
            early[topic.name] = {"name": topic.name, "error_code": 0}
        else:
            wanted.append((topic.name, topic.count))

    def encode(response: Any) -> dict:
        answered = {name: (code, message) for name, code, message in (response.results if response is not None else ())}
        results = []
        for topic in request.topics:
            if topic.name in answered:
                code, message = answered[topic.name]
                results.append({"name": topic.name, "error_code": code, "error_message": message})
            else:
                results.append(early[topic.name])
        return {"throttle_time": 0, "results": results}

    if not wanted:
        return encode(None)
    return node.ask_controller(call, CreatePartitionsRequest(tuple(wanted)), now_ms, encode)


# -- between nodes: the controller's APIs, and the leader's answers to followers ------------------
@api(62)
def broker_registration(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    endpoints = tuple((listener.name, listener.host, listener.port) for listener in request.listeners)
    error_code, epoch = node.register_broker(request.broker_id, request.cluster_id, endpoints, request.rack, now_ms)
    return {"throttle_time": 0, "error_code": error_code, "broker_epoch": epoch}


@api(63)
def broker_heartbeat(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    error_code, fenced = node.broker_heartbeat(request.broker_id, request.broker_epoch, request.current_metadata_offset, now_ms)
    return {"throttle_time": 0, "error_code": error_code, "is_caught_up": error_code == 0, "is_fenced": fenced,
            "should_shut_down": False}


@api(67)
def allocate_producer_ids(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    error_code, start, length = node.allocate_producer_ids(request.broker_id, request.broker_epoch, now_ms)
    return {"throttle_time": 0, "error_code": error_code, "producer_id_start": start, "producer_id_len": length}


@api(56)
def alter_partition(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    topics = []
    for topic in request.topics:
        name, topic_id = _topic_name(node, topic)
        partitions = []
        for p in topic.partitions:
            if name is None:
                partitions.append({"partition_index": p.partition_index, "error_code": UnknownTopicIdError.error_code})
                continue
            new_isr = tuple(_field(p, "new_isr", default=()) or (b.broker_id for b in _field(p, "new_isr_with_epochs", default=())))
            response = node.controller_request(AlterPartitionRequest(request.broker_id, name, p.partition_index, p.leader_epoch,
                                                                     p.partition_epoch, new_isr), now_ms)
            leader = node.controller.image.partitions.get(name, {}).get(p.partition_index) if node.controller else None
            partitions.append({"partition_index": p.partition_index, "error_code": response.error_code,
                               "leader_id": leader.leader if leader is not None else -1, "leader_epoch": response.leader_epoch,
                               "isr": response.isr, "leader_recovery_state": 0, "partition_epoch": response.partition_epoch})
        topics.append({"topic_id": topic_id, "topic_name": name, "partitions": partitions})
    return {"throttle_time": 0, "error_code": 0, "topics": topics}


@api(23)
def offset_for_leader_epoch(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> dict:
    topics = []
    for topic in request.topics:
        partitions = []
        for p in topic.partitions:
            core = OffsetsForLeaderEpochRequest(topic.topic, p.partition, p.leader_epoch, p.current_leader_epoch,
                                                _field(request, "replica_id", default=-1))
            response = node.broker.replica_manager.end_offset_for_epoch(core)  # NOT_LEADER_OR_FOLLOWER unless the leader
            partitions.append({"error_code": response.error_code, "partition": p.partition,
                               "leader_epoch": response.leader_epoch, "end_offset": response.end_offset})
        topics.append({"topic": topic.topic, "partitions": partitions})
    return {"throttle_time": 0, "topics": topics}


# -- dispatch ------------------------------------------------------------------------------------
def handle(node: "ServerNode", call: "Call", request: Any, now_ms: int) -> Any:
    return HANDLERS[call.api_key](node, call, request, now_ms)


# The controller's APIs are served on the CONTROLLER listener only (ApiMessageType's listeners), the
# broker's on the others; Fetch on the controller listener reads the metadata log.
CONTROLLER_ONLY = {56, 62, 63, 67}
CONTROLLER_LISTENER_APIS = CONTROLLER_ONLY | {18, 1, 19, 20, 37}
SUPPORTED: dict[int, tuple[int, int]] = {key: known_versions(key) for key in HANDLERS if key not in CONTROLLER_ONLY}  # type: ignore[misc]
CONTROLLER_SUPPORTED: dict[int, tuple[int, int]] = {key: known_versions(key) for key in HANDLERS  # type: ignore[misc]
                                                    if key in CONTROLLER_LISTENER_APIS}
