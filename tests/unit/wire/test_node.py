"""The wire layer's sans-IO node: frames in, frames out — Kafka's framing, versions and bad input."""

from __future__ import annotations

import struct

import pytest

pytest.importorskip("kio")

from kafkalab.config import BrokerConfig  # noqa: E402
from kafkalab.partitioner import partition_for_key  # noqa: E402
from kafkalab.record import Record, RecordBatch, encode_batch  # noqa: E402
from kafkalab.wire import apis  # noqa: E402
from kafkalab.wire.node import PARKED, Endpoint, MetadataStore, ServerNode, ServerSettings  # noqa: E402
from kafkalab.wire.protocol import (  # noqa: E402
    ProtocolError,
    build,
    decode_response,
    encode_request,
    request_class,
)


def make_node(store: MetadataStore | None = None, log_factory=None) -> ServerNode:
    settings = ServerSettings(1, "test-cluster", BrokerConfig({"offsets.topic.replication.factor": 1,
                                                               "group.initial.rebalance.delay.ms": 0}),
                              (Endpoint("PLAINTEXT", "127.0.0.1", 9092),))
    return ServerNode(settings, log_factory, store=store, now_ms=1_000)


def call(node: ServerNode, api_key: int, version: int, fields: dict, now_ms: int = 1_000, connection: str = "c1"):
    frame = encode_request(api_key, version, 7, "test-client", build(request_class(api_key, version), fields))[4:]
    answer = node.handle_frame(connection, frame, now_ms)
    if answer is None or answer is PARKED:
        return answer
    correlation_id, body = decode_response(answer[4:], api_key, version)
    assert correlation_id == 7
    return body


def create_topic(node: ServerNode, name: str, partitions: int = 3) -> None:
    body = call(node, 19, 7, {"topics": [{"name": name, "num_partitions": partitions, "replication_factor": 1, "assignments": (),
                                           "configs": ()}], "timeout": 5000})
    assert body.topics[0].error_code == 0, body


def batch_bytes(*values: bytes, key: bytes | None = None) -> bytes:
    return encode_batch(RecordBatch.of([Record(key, v, (), 1_000) for v in values]))


def test_api_versions_advertises_only_what_is_answered():
    node = make_node()
    body = call(node, 18, 3, {"client_software_name": "t", "client_software_version": "1"})
    advertised = {k.api_key: (k.min_version, k.max_version) for k in body.api_keys}
    assert advertised == apis.SUPPORTED
    assert set(advertised) == set(apis.HANDLERS) - apis.CONTROLLER_ONLY
    assert not {56, 62, 63} & set(advertised)  # AlterPartition, BrokerRegistration, BrokerHeartbeat: the controller's
    assert advertised[0][0] == 3 and advertised[1][0] == 4  # Kafka 4.x dropped Produce v0-2 and Fetch v0-3 (KIP-896)


def test_the_controller_listener_advertises_the_controller_apis_and_refuses_the_others():
    node = make_node()
    frame = encode_request(18, 3, 7, "broker-2", build(request_class(18, 3), {"client_software_name": "t",
                                                                              "client_software_version": "1"}))[4:]
    _cid, body = decode_response(node.handle_frame("c1", frame, 1_000, listener="CONTROLLER")[4:], 18, 3)
    assert {k.api_key for k in body.api_keys} == set(apis.CONTROLLER_SUPPORTED) >= {56, 62, 63, 1, 18}
    produce = encode_request(0, 9, 8, "client", build(request_class(0, 9), {"acks": 1, "timeout": 1000, "topic_data": ()}))[4:]
    with pytest.raises(ProtocolError, match="CONTROLLER listener"):
        node.handle_frame("c1", produce, 1_000, listener="CONTROLLER")


def test_a_too_new_api_versions_request_gets_a_v0_unsupported_version_answer():
    node = make_node()
    frame = struct.pack(">hhih", 18, 99, 5, 1) + b"x"  # ApiVersions v99
    answer = node.handle_frame("c1", frame, 1_000)
    correlation_id, body = decode_response(answer[4:], 18, 0)
    assert correlation_id == 5 and body.error_code == 35
    assert any(k.api_key == 18 for k in body.api_keys)


@pytest.mark.parametrize("frame, reason", [
    (struct.pack(">hhih", 999, 0, 1, -1), "unknown API key 999"),
    (struct.pack(">hhih", 0, 2, 1, -1), "Produce v2 is not supported"),
    (b"\x00\x03", "at least 10 bytes"),
    (struct.pack(">hhih", 3, 12, 1, 200) + b"abc", "client id runs past"),
    (struct.pack(">hhih", 19, 7, 1, -1) + b"\x00\x05", "body could not be read"),
])
def test_unreadable_or_unsupported_requests_close_the_connection_with_a_reason(frame, reason):
    node = make_node()
    with pytest.raises(ProtocolError, match=reason):
        node.handle_frame("c1", frame, 1_000)
    # ... and the node serves the next request as before
    assert call(node, 3, 12, {"topics": None}).cluster_id == "test-cluster"


def test_metadata_lists_the_broker_the_controller_and_topics_by_id():
    node = make_node()
    create_topic(node, "orders", 3)
    body = call(node, 3, 12, {"topics": None})
    assert [(b.node_id, b.host, b.port) for b in body.brokers] == [(1, "127.0.0.1", 9092)]
    assert body.controller_id == 1
    (topic,) = body.topics
    assert topic.name == "orders" and topic.topic_id is not None and len(topic.partitions) == 3
    assert all(p.leader_id == 1 and p.isr_nodes == (1,) for p in topic.partitions)
    assert call(node, 3, 12, {"topics": [{"name": "nope", "topic_id": None}], "allow_auto_topic_creation": False}).topics[0].error_code == 3


def test_produce_stores_the_batch_as_received_and_fetch_returns_those_bytes(tmp_path):
    from kafkalab.storage import DiskPartitionLog

    node = make_node(log_factory=lambda topic, partition, config, now_ms: DiskPartitionLog(tmp_path, topic, partition, config, now_ms))
    create_topic(node, "orders", 1)
    sent = batch_bytes(b"a", b"b", b"c")
    body = call(node, 0, 9, {"acks": 1, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [{"index": 0, "records": sent}]}]})
    assert body.responses[0].partition_responses[0].base_offset == 0
    second = call(node, 0, 9, {"acks": 1, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [{"index": 0, "records": sent}]}]})
    assert second.responses[0].partition_responses[0].base_offset == 3
    fetched = call(node, 1, 12, {"max_wait": 0, "min_bytes": 1, "max_bytes": 1 << 20, "topics": [
        {"topic": "orders", "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]})
    data = fetched.responses[0].partitions[0].records
    assert fetched.responses[0].partitions[0].high_watermark == 6
    assert len(data) == 2 * len(sent)
    # The broker writes baseOffset and partitionLeaderEpoch (both outside the CRC); from magic on,
    # CRC included, these are the producer's bytes.
    assert data[16:len(sent)] == sent[16:]
    assert struct.unpack_from(">i", data, 12)[0] == 0  # written in leader epoch 0
    assert struct.unpack_from(">q", data, len(sent))[0] == 3  # the broker wrote the second batch's base offset


def test_a_corrupt_batch_is_refused_for_its_partition_only():
    node = make_node()
    create_topic(node, "orders", 2)
    good = batch_bytes(b"ok")
    bad = bytearray(batch_bytes(b"tampered"))
    bad[-1] ^= 0xFF
    body = call(node, 0, 9, {"acks": 1, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [
        {"index": 0, "records": bytes(bad)}, {"index": 1, "records": good}]}]})
    errors = {p.index: p.error_code for p in body.responses[0].partition_responses}
    assert errors == {0: 2, 1: 0}  # CORRUPT_MESSAGE, NONE
    assert node.broker.logs[("orders", 0)].log_end_offset == 0


def test_acks_zero_gets_no_response_at_all():
    node = make_node()
    create_topic(node, "orders", 1)
    answer = call(node, 0, 9, {"acks": 0, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [
        {"index": 0, "records": batch_bytes(b"x")}]}]})
    assert answer is None
    assert node.broker.logs[("orders", 0)].log_end_offset == 1


def test_a_long_poll_fetch_is_parked_and_answered_when_data_arrives():
    node = make_node()
    create_topic(node, "orders", 1)
    fetch = {"max_wait": 5000, "min_bytes": 1, "max_bytes": 1 << 20, "topics": [
        {"topic": "orders", "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]}
    assert call(node, 1, 12, fetch, connection="consumer") is PARKED
    call(node, 0, 9, {"acks": 1, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [
        {"index": 0, "records": batch_bytes(b"late")}]}]}, connection="producer")
    (connection, frame), = node.take_replies()
    assert connection == "consumer"
    _cid, body = decode_response(frame[4:], 1, 12)
    assert body.responses[0].partitions[0].high_watermark == 1


def test_metadata_survives_a_restart_through_the_store():
    store = MetadataStore()
    node = make_node(store)
    create_topic(node, "orders", 2)
    again = make_node(store)
    assert sorted(again.broker.image.partitions["orders"]) == [0, 1]
    assert again.broker.image.topic_ids == node.broker.image.topic_ids


def test_delete_topics_removes_the_topic_and_its_logs():
    node = make_node()
    create_topic(node, "orders", 1)
    body = call(node, 20, 6, {"topics": [{"name": "orders", "topic_id": None}], "timeout": 1000})
    assert body.responses[0].error_code == 0
    assert "orders" not in node.broker.image.topic_ids and not node.broker.logs
    again = call(node, 20, 6, {"topics": [{"name": "orders", "topic_id": None}], "timeout": 1000})
    assert again.responses[0].error_code == 3


def test_keyed_records_are_where_murmur2_puts_them_when_the_client_does_the_partitioning():
    # The broker never picks a partition: this pins that the node stores what it is sent, where it is sent.
    node = make_node()
    create_topic(node, "orders", 6)
    partition = partition_for_key(b"alice", 6)
    call(node, 0, 9, {"acks": 1, "timeout": 1000, "topic_data": [{"name": "orders", "partition_data": [
        {"index": partition, "records": batch_bytes(b"v", key=b"alice")}]}]})
    assert node.broker.logs[("orders", partition)].log_end_offset == 1


def test_a_topic_created_again_after_a_restart_gets_a_new_id():
    store = MetadataStore()
    node = make_node(store)
    create_topic(node, "orders", 1)
    first = node.controller.image.topic_ids["orders"]
    assert call(node, 20, 6, {"topics": [{"name": "orders"}], "timeout": 5000}).responses[0].error_code == 0
    restarted = make_node(store)  # the same metadata log, a new process
    create_topic(restarted, "orders", 1)
    assert restarted.controller.image.topic_ids["orders"] != first


def test_each_partition_directory_names_its_topic_id_as_clients_see_it(tmp_path):
    import base64

    from kafkalab.storage import DiskPartitionLog

    node = make_node(log_factory=lambda topic, partition, config, now_ms: DiskPartitionLog(tmp_path, topic, partition, config, now_ms))
    create_topic(node, "orders", 2)
    metadata = call(node, 3, 12, {"topics": [{"name": "orders"}], "allow_auto_topic_creation": False})
    wire_id = base64.urlsafe_b64encode(metadata.topics[0].topic_id.bytes).rstrip(b"=").decode()
    for partition in (0, 1):
        assert (tmp_path / f"orders-{partition}" / "partition.metadata").read_text() == f"version: 0\ntopic_id: {wire_id}"
