"""Config keys are Kafka's; a typo or a bad value is named, with the closest real key."""

from __future__ import annotations

import pytest

from kafkalab.config import BrokerConfig, TopicConfig
from kafkalab.errors import ConfigError


def test_kafka_4_defaults() -> None:
    config = TopicConfig()
    assert config.retention_ms == 7 * 24 * 60 * 60 * 1000
    assert config.retention_bytes == -1
    assert config.segment_bytes == 1024**3
    assert config.max_message_bytes == 1048588
    assert config["message.timestamp.type"] == "CreateTime"
    assert BrokerConfig()["log.retention.check.interval.ms"] == 300_000


def test_unknown_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="did you mean retention.ms"):
        TopicConfig({"retention.msec": 1})
    with pytest.raises(ConfigError, match="did you mean log.retention.hours"):
        BrokerConfig({"log.retention.hour": 1})


def test_bad_values_name_the_key_and_the_rule() -> None:
    with pytest.raises(ConfigError, match="retention.ms: expected int"):
        TopicConfig({"retention.ms": "a week"})
    with pytest.raises(ConfigError, match="segment.bytes.*at least"):
        TopicConfig({"segment.bytes": 10})
    with pytest.raises(ConfigError, match="one of: CreateTime, LogAppendTime"):
        TopicConfig({"message.timestamp.type": "create"})
    with pytest.raises(ConfigError, match="not simulated"):
        TopicConfig({"cleanup.policy": "compact"})


def test_properties_strings_parse_and_broker_defaults_flow_to_topics() -> None:
    assert TopicConfig({"retention.ms": "1000"}).retention_ms == 1000
    topic = BrokerConfig({"log.retention.hours": "1"}).topic_config()
    assert topic.retention_ms == 3_600_000
