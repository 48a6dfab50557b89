"""Producer configuration: Kafka 4.x defaults, typos named, and the idempotence rules."""

from __future__ import annotations

import pytest

from kafkalab.errors import ConfigError
from kafkalab.producer import ProducerConfig


def test_kafka_4_defaults() -> None:
    config = ProducerConfig()
    assert (config["acks"], config.acks, config.idempotent) == ("all", -1, True)
    assert (config["linger.ms"], config["batch.size"], config["buffer.memory"]) == (5, 16384, 33554432)
    assert (config["delivery.timeout.ms"], config["request.timeout.ms"], config["retries"]) == (120000, 30000, 2**31 - 1)
    assert config["max.in.flight.requests.per.connection"] == 5


def test_typos_and_bad_values_are_named() -> None:
    with pytest.raises(ConfigError, match="did you mean linger.ms"):
        ProducerConfig({"linger.msec": 10})
    with pytest.raises(ConfigError, match="acks"):
        ProducerConfig({"acks": "2"})
    with pytest.raises(ConfigError, match="compression.type"):
        ProducerConfig({"compression.type": "brotli"})


def test_explicit_idempotence_conflicts_fail_as_kafka_fails_them() -> None:
    with pytest.raises(ConfigError, match="Must set acks to all"):
        ProducerConfig({"enable.idempotence": True, "acks": "1"})
    with pytest.raises(ConfigError, match="at most 5"):
        ProducerConfig({"enable.idempotence": "true", "max.in.flight.requests.per.connection": 6})
    with pytest.raises(ConfigError, match="retries to non-zero"):
        ProducerConfig({"enable.idempotence": True, "retries": 0})
    with pytest.raises(ConfigError, match="transactional.id"):
        ProducerConfig({"transactional.id": "tx-1", "enable.idempotence": False})


def test_default_idempotence_gives_way_to_a_conflicting_setting() -> None:
    config = ProducerConfig({"acks": "1"})
    assert not config.idempotent and config.acks == 1 and config.disabled_idempotence_because == ["acks"]
    assert ProducerConfig({"acks": "-1"})["acks"] == "all"


def test_delivery_timeout_must_cover_linger_plus_request_timeout() -> None:
    with pytest.raises(ConfigError, match="delivery.timeout.ms should be equal to or larger"):
        ProducerConfig({"delivery.timeout.ms": 1000})
    assert ProducerConfig({"request.timeout.ms": 200000})["delivery.timeout.ms"] == 200005


def test_transactions_need_idempotence_even_when_a_default_gave_way() -> None:
    with pytest.raises(ConfigError, match="Cannot set a transactional.id"):
        ProducerConfig({"transactional.id": "tx-1", "acks": "1"})
    assert ProducerConfig({"transactional.id": "tx-1"}).idempotent
