"""server.properties: Java properties syntax, Kafka's keys, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.errors import ConfigError
from kafkalab.wire.properties import ListenerAddress, parse_listeners, parse_properties, server_properties

ROOT = Path(__file__).resolve().parents[3]


def test_java_properties_syntax():
    text = "# comment\n! also a comment\na=1\nb : two\nc=multi \\\n   line\nempty=\n"
    assert parse_properties(text) == {"a": "1", "b": "two", "c": "multi line", "empty": ""}


def test_the_sample_config_is_a_valid_combined_node():
    from kafkalab.wire.properties import load_properties

    props = server_properties(load_properties(ROOT / "config" / "server.properties"))
    assert props.node_id == 1 and props.process_roles == ("broker", "controller")
    assert props.client_listeners == [ListenerAddress("PLAINTEXT", "127.0.0.1", 9092)]
    assert props.quorum_voters == []  # a dynamic quorum (KIP-853): format --standalone makes this node its voter
    assert props.broker_config["offsets.topic.replication.factor"] == 1
    assert "num.network.threads" not in props.no_effect  # the sample does not set it


def test_the_three_node_samples_are_one_controller_and_two_brokers_that_find_it():
    from kafkalab.wire.launch import _controller_of
    from kafkalab.wire.properties import load_properties

    nodes = {n: server_properties(load_properties(ROOT / "config" / "three-nodes" / f"node-{n}.properties")) for n in (1, 2, 3)}
    assert nodes[1].process_roles == ("broker", "controller") and nodes[2].process_roles == nodes[3].process_roles == ("broker",)
    assert {n: props.node_id for n, props in nodes.items()} == {1: 1, 2: 2, 3: 3}
    ports = [props.client_listeners[0].port for props in nodes.values()]
    assert len(set(ports)) == 3 and 9093 not in ports  # 9093: node 1's CONTROLLER listener
    assert len({str(props.log_dirs) for props in nodes.values()}) == 3
    for props in nodes.values():
        assert _controller_of(props)[0] in (("127.0.0.1", 9093), ("localhost", 9093))
        assert props.broker_config["default.replication.factor"] == 3


def test_listeners_without_a_host_listen_on_loopback():
    assert parse_listeners("PLAINTEXT://:9092,CONTROLLER://0.0.0.0:9093") == [
        ListenerAddress("PLAINTEXT", "127.0.0.1", 9092), ListenerAddress("CONTROLLER", "0.0.0.0", 9093)]


@pytest.mark.parametrize("properties, message", [
    ({"node.id": "1", "listeners": "PLAINTEXT://:9092", "log.retention.hour": "1"}, "unknown property 'log.retention.hour'; did you mean log.retention.hours"),
    ({"listeners": "PLAINTEXT://:9092"}, "node.id must be set"),
    ({"node.id": "1"}, "listeners is required"),
    ({"node.id": "1", "listeners": "PLAINTEXT:9092"}, "is not NAME://host:port"),
    ({"node.id": "1", "listeners": "CONTROLLER://:9093"}, "no listener for clients"),
    ({"node.id": "1", "listeners": "PLAINTEXT://:9092", "process.roles": "broker,zookeeper"}, "roles are broker and controller"),
    ({"node.id": "1", "listeners": "PLAINTEXT://:9092", "controller.quorum.voters": "1@localhost"}, "is not id@host:port"),
    ({"node.id": "1", "listeners": "PLAINTEXT://:9092", "num.partitions": "many"}, "num.partitions"),
])
def test_bad_properties_are_refused_by_name(properties, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        server_properties(properties, "server.properties")


def test_keys_with_no_effect_are_accepted_and_listed():
    props = server_properties({"node.id": "1", "listeners": "PLAINTEXT://:9092", "num.io.threads": "8"})
    assert props.no_effect == ["num.io.threads"]
