"""Two sans-IO nodes wired together in memory, every message in Kafka's wire format — no sockets, a virtual clock.

Node 1 is combined (broker + controller), node 2 broker-only. ``Wire`` plays the network: it takes each
node's outgoing requests, encodes them as Kafka frames (kafkalab.wire.peer_messages), hands them to
the destination's ``handle_frame`` on the right listener, and brings the answers back — so the
registration, the metadata log fetch, forwarding, replication and fencing are checked exactly as
the TCP driver runs them, but deterministically.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

pytest.importorskip("kio")

from kafkalab.config import BrokerConfig  # noqa: E402
from kafkalab.storage import DiskPartitionLog  # noqa: E402
from kafkalab.wire.node import PARKED, Endpoint, Outgoing, ServerNode, ServerSettings, topic_uuid  # noqa: E402
from kafkalab.wire.peer_messages import decode_response, encode_request, lane  # noqa: E402
from kafkalab.wire.protocol import build, decode_response as decode_frame, encode_request as encode_frame, request_class  # noqa: E402

from test_node import batch_bytes  # noqa: E402

CONFIG = {"offsets.topic.replication.factor": 2, "group.initial.rebalance.delay.ms": 0, "broker.session.timeout.ms": 6000,
          "broker.heartbeat.interval.ms": 1000}


def make_node(node_id: int, tmp_path, roles: tuple[str, ...], cluster_id: str = "cluster-x") -> ServerNode:
    settings = ServerSettings(node_id, cluster_id, BrokerConfig(CONFIG), (Endpoint("PLAINTEXT", "127.0.0.1", 9090 + node_id),),
                              process_roles=roles, controller_id=1)
    folder = tmp_path / f"node{node_id}"
    return ServerNode(settings, lambda topic, partition, config, now_ms: DiskPartitionLog(folder, topic, partition, config, now_ms),
                      now_ms=1_000)


class Wire:
    """The network between nodes, in memory: requests and answers as Kafka frames."""

    def __init__(self, nodes: dict[int, ServerNode]) -> None:
        self.nodes = nodes
        self.pending: dict[tuple[int, str], tuple[ServerNode, Outgoing, int, int]] = {}  # (target, connection) → request
        self.down: set[int] = set()
        self.sent: list[str] = []
        self.client_replies: dict[int, list[tuple[str, bytes]]] = {node_id: [] for node_id in nodes}  # answers to clients
        self._ids = itertools.count(1)

    def pump(self, now_ms: int, rounds: int = 60) -> None:
        """Let the nodes' clocks reach ``now_ms``, then deliver requests and answers until nothing moves."""
        for node_id, node in self.nodes.items():
            if node_id not in self.down:
                node.tick(now_ms)
        for _ in range(rounds):
            moved = False
            for node_id, node in self.nodes.items():
                if node_id in self.down:
                    node.take_outgoing()
                    continue
                for outgoing in node.take_outgoing():
                    moved = True
                    self._send(node_id, node, outgoing, now_ms)
            for target_id, target in self.nodes.items():
                for connection, frame in target.take_replies():
                    if (target_id, connection) in self.pending:
                        moved = True
                        self._answer(self.pending.pop((target_id, connection)), frame, now_ms)
                    else:
                        self.client_replies[target_id].append((connection, frame))
            if not moved:
                return
        raise AssertionError("the nodes never went quiet")

    def _send(self, node_id: int, node: ServerNode, outgoing: Outgoing, now_ms: int) -> None:
        to_controller = outgoing.destination == "controller"
        target_id = 1 if to_controller else outgoing.destination
        assert isinstance(target_id, int)
        self.sent.append(type(outgoing.message).__name__)
        if target_id in self.down:
            node.on_peer_answer(outgoing, None, now_ms)  # connection refused
            return

        def wire_id(topic: str) -> Any:
            return topic_uuid(node.broker.image.topic_ids[topic])

        api_key, version, body = encode_request(outgoing.message, wire_id, node.broker_epoch)
        frame = encode_frame(api_key, version, 1, f"node-{node_id}", body)[4:]
        connection = f"{node_id}->{target_id}/{lane(outgoing.message)}/{next(self._ids)}"
        target = self.nodes[target_id]
        answer = target.handle_frame(connection, frame, now_ms, listener="CONTROLLER" if to_controller else "PLAINTEXT")
        if answer is PARKED:
            self.pending[(target_id, connection)] = (node, outgoing, api_key, version)
        else:
            assert answer is not None
            self._answer((node, outgoing, api_key, version), answer, now_ms)

    def _answer(self, request: tuple[ServerNode, Outgoing, int, int], frame: bytes, now_ms: int) -> None:
        """``frame``: a whole response frame, size prefix included."""
        node, outgoing, api_key, version = request
        _correlation, body = decode_frame(frame[4:], api_key, version)
        node.on_peer_answer(outgoing, decode_response(outgoing.message, body), now_ms)


def client_call(node: ServerNode, api_key: int, version: int, fields: dict, now_ms: int) -> Any:
    frame = encode_frame(api_key, version, 9, "client", build(request_class(api_key, version), fields))[4:]
    return node.handle_frame("client-1", frame, now_ms)


@pytest.fixture
def cluster(tmp_path):
    nodes = {1: make_node(1, tmp_path, ("broker", "controller")), 2: make_node(2, tmp_path, ("broker",))}
    wire = Wire(nodes)
    wire.pump(1_000)
    return nodes, wire


def test_a_broker_only_node_registers_reads_the_metadata_log_and_is_unfenced(cluster):
    nodes, wire = cluster
    assert nodes[2].broker_epoch >= 0 and nodes[2].caught_up
    assert set(nodes[1].controller.image.brokers) == {1, 2} and not nodes[1].controller.image.fenced
    assert nodes[2].broker.image.brokers[2].endpoints == (("PLAINTEXT", "127.0.0.1", 9092),)
    assert nodes[2].broker.metadata_offset == len(nodes[1].controller.log)  # the whole log, replayed
    assert {"RegisterBroker", "MetadataFetch", "BrokerHeartbeatRequest", "AllocateProducerIds"} <= set(wire.sent)


def test_create_topics_sent_to_a_broker_only_node_is_forwarded_to_the_controller(cluster):
    nodes, wire = cluster
    answer = client_call(nodes[2], 19, 7, {"topics": [{"name": "orders", "num_partitions": 2, "replication_factor": 2,
                                                       "assignments": (), "configs": ()}], "timeout": 5000}, 2_000)
    assert answer is PARKED  # the controller is another node: the answer comes later
    wire.pump(2_000)
    [(connection, frame)] = wire.client_replies[2]
    _cid, body = decode_frame(frame[4:], 19, 7)
    assert connection == "client-1" and body.topics[0].error_code == 0
    assert nodes[2].broker.image.partitions["orders"][0].replicas in ((1, 2), (2, 1))  # and node 2 has the metadata


def test_a_follower_stores_the_leaders_batches_byte_for_byte_and_acks_all_waits_for_it(cluster, tmp_path):
    nodes, wire = cluster
    client_call(nodes[1], 19, 7, {"topics": [{"name": "orders", "num_partitions": 1, "replication_factor": 2,
                                              "assignments": (), "configs": ()}], "timeout": 5000}, 2_000)
    wire.pump(2_000)
    leader_id = nodes[1].broker.image.partitions["orders"][0].leader
    follower_id = 3 - leader_id
    produce = {"acks": -1, "timeout": 5000, "topic_data": [{"name": "orders", "partition_data": [
        {"index": 0, "records": batch_bytes(b"a", b"b", key=b"k")}]}]}
    wire.pump(3_000)  # a follower that asked before the leader knew it leads backs off for replica.fetch.backoff.ms
    assert client_call(nodes[leader_id], 0, 9, produce, 3_000) is PARKED  # acks=all: waits for the follower
    wire.pump(3_000)
    [(_connection, frame)] = wire.client_replies[leader_id]
    _cid, body = decode_frame(frame[4:], 0, 9)
    assert body.responses[0].partition_responses[0].error_code == 0
    leader_log = (tmp_path / f"node{leader_id}" / "orders-0" / "00000000000000000000.log").read_bytes()
    follower_log = (tmp_path / f"node{follower_id}" / "orders-0" / "00000000000000000000.log").read_bytes()
    assert leader_log == follower_log and len(leader_log) > 61


def test_a_broker_that_stops_heartbeating_is_fenced_and_leadership_moves(cluster):
    nodes, wire = cluster
    client_call(nodes[1], 19, 7, {"topics": [{"name": "orders", "num_partitions": 2, "replication_factor": 2,
                                              "assignments": (), "configs": ()}], "timeout": 5000}, 2_000)
    wire.pump(2_000)
    assert {p.leader for p in nodes[1].controller.image.partitions["orders"].values()} == {1, 2}
    wire.down.add(2)  # node 2's process is gone
    now = 2_000
    while now < 2_000 + CONFIG["broker.session.timeout.ms"] + 1_500:
        now += 500
        wire.pump(now)
    image = nodes[1].controller.image
    assert 2 in image.fenced
    assert all(p.leader == 1 and p.isr == (1,) for p in image.partitions["orders"].values())


def test_heartbeats_from_an_old_registration_are_stale(cluster):
    nodes, _wire = cluster
    error_code, fenced = nodes[1].broker_heartbeat(2, nodes[2].broker_epoch + 100, 0, 3_000)
    assert error_code == 77 and fenced  # STALE_BROKER_EPOCH: the broker registers again


def test_producer_ids_come_in_blocks_from_the_controller_and_never_repeat(cluster, tmp_path):
    nodes, wire = cluster
    first = nodes[2].broker.producer_ids.generate()
    own = nodes[1].broker.producer_ids.generate()
    assert first != own and abs(first - own) >= 1000  # two blocks of PRODUCER_ID_BLOCK_SIZE
    restarted = make_node(2, tmp_path, ("broker",))  # the same broker, a new process
    nodes[2] = restarted
    wire.pump(4_000)
    assert restarted.broker.producer_ids.generate() not in range(min(first, own), max(first, own) + 1000)


def test_a_node_formatted_for_another_cluster_is_refused_with_the_reason(tmp_path):
    nodes = {1: make_node(1, tmp_path, ("broker", "controller"))}
    stranger = make_node(2, tmp_path, ("broker",), cluster_id="another-cluster")
    lines: list[str] = []
    stranger.log = lines.append
    nodes[2] = stranger
    Wire(nodes).pump(1_000)
    assert 2 not in nodes[1].controller.image.brokers and stranger.broker_epoch == -1
    assert stranger.broker.metadata_offset == 0 and not stranger.caught_up  # nor does it get the metadata
    assert any("INCONSISTENT_CLUSTER_ID" in line and "formatted for another cluster" in line for line in lines), lines
