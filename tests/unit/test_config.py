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


def test_every_key_declares_type_default_doc_and_importance() -> None:
    from kafkalab.config import BROKER_CONFIG_KEYS, TOPIC_CONFIG_KEYS

    for key in [*TOPIC_CONFIG_KEYS.values(), *BROKER_CONFIG_KEYS.values()]:
        assert key.doc and key.importance in ("high", "medium", "low"), key.name
    assert TOPIC_CONFIG_KEYS["segment.ms"].default == 604_800_000
    assert TOPIC_CONFIG_KEYS["message.timestamp.after.max.ms"].default == 3_600_000  # KIP-1030 (4.0)
    assert TOPIC_CONFIG_KEYS["message.timestamp.before.max.ms"].default == 2**63 - 1
    assert TOPIC_CONFIG_KEYS["file.delete.delay.ms"].default == 60_000
    broker = BrokerConfig()
    assert (broker["num.partitions"], broker["default.replication.factor"], broker["auto.create.topics.enable"]) == (1, 1, True)
    assert broker["log.segment.bytes"] == 1024**3 and broker["log.retention.hours"] == 168


def test_bad_value_error_names_key_value_and_range() -> None:
    with pytest.raises(ConfigError) as raised:
        TopicConfig.from_dict({"segment.ms": 0})
    assert str(raised.value) == "Invalid value 0 for configuration segment.ms: Value must be at least 1"
    with pytest.raises(ConfigError, match="Invalid value -2 for configuration retention.ms: Value must be at least -1"):
        TopicConfig.from_dict({"retention.ms": -2})
    assert TopicConfig.from_dict({"retention.bytes": -5}).retention_bytes == -5  # Kafka: any negative = no limit


def test_course_floor_for_segment_bytes_is_below_kafkas() -> None:
    from kafkalab.config import COURSE_MIN_SEGMENT_BYTES, KAFKA_MIN_SEGMENT_BYTES

    assert COURSE_MIN_SEGMENT_BYTES < KAFKA_MIN_SEGMENT_BYTES == 1024 * 1024
    assert TopicConfig.from_dict({"segment.bytes": COURSE_MIN_SEGMENT_BYTES}).segment_bytes == COURSE_MIN_SEGMENT_BYTES


def test_compact_is_a_known_value_but_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="cleanup.policy=compact,delete is not simulated"):
        TopicConfig.from_dict({"cleanup.policy": "compact,delete"})
    with pytest.raises(ConfigError, match="one of"):
        TopicConfig.from_dict({"cleanup.policy": "compacted"})
    with pytest.raises(ConfigError, match="not simulated"):
        BrokerConfig({"log.cleanup.policy": "compact"}).topic_config()


def test_broker_retention_and_roll_keys_take_precedence_like_kafka_config() -> None:
    assert BrokerConfig({"log.retention.minutes": 30}).topic_config().retention_ms == 1_800_000
    assert BrokerConfig({"log.retention.ms": 5, "log.retention.minutes": 30}).topic_config().retention_ms == 5
    assert BrokerConfig({"log.retention.hours": -1}).topic_config().retention_ms == -1
    assert BrokerConfig({"log.roll.ms": 1234}).topic_config().segment_ms == 1234
    assert BrokerConfig({"log.message.timestamp.after.max.ms": 0}).topic_config()["message.timestamp.after.max.ms"] == 0
    assert BrokerConfig().topic_config({"retention.ms": 7}).retention_ms == 7  # a topic override wins
