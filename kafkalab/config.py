"""Configuration with Kafka's keys, types and defaults, validated the way Kafka's ConfigDef does.

A key that Kafka does not know is an error that names it and suggests the closest real key
(``retention.msec`` → "did you mean retention.ms?"); a value of the wrong type or out of range is an
error that names the key, the value and what is allowed, in ConfigDef's words ("Invalid value 10 for
configuration segment.bytes: Value must be at least 100"). Each key carries its type, default,
validator, documentation and importance (HIGH / MEDIUM / LOW), as ``ConfigDef.define`` does.

Defaults are Kafka 4.x's, read from LogConfig (``DEFAULT_SEGMENT_BYTES`` = 1 GiB,
``DEFAULT_SEGMENT_MS`` = ``DEFAULT_RETENTION_MS`` = 7 days) and ServerLogConfigs
(``LOG_RETENTION_BYTES_DEFAULT`` = -1, ``LOG_CLEANUP_INTERVAL_MS_DEFAULT`` = 5 min,
``LOG_DELETE_DELAY_MS_DEFAULT`` = 60 s, ``NUM_PARTITIONS_DEFAULT`` = 1,
``MIN_IN_SYNC_REPLICAS_DEFAULT`` = 1, message.max.bytes = 1 MiB + 12 for the batch header).
``message.timestamp.after.max.ms`` is 1 hour since 4.0 (KIP-1030; it was Long.MAX_VALUE when
KIP-937 added it in 3.6); ``message.timestamp.before.max.ms`` stays Long.MAX_VALUE.

One course deviation, said out loud: Kafka 4.x refuses ``segment.bytes`` below 1 MiB
(``LogConfig``: ``atLeast(1024 * 1024)``, KIP-1030). Kafka's own tests get small segments through
an internal key (``internal.segment.bytes``, "for testing only"); the simulator instead lets
``segment.bytes`` go down to :data:`COURSE_MIN_SEGMENT_BYTES` so a chapter shows rolling and
retention with a handful of records. :data:`KAFKA_MIN_SEGMENT_BYTES` is Kafka's floor.

``cleanup.policy=compact`` is a real Kafka value, declared here, but the log does not compact yet:
a topic asking for it is a clear ConfigError, not a silent ``delete``. The one exception is the
internal ``__consumer_offsets`` topic, which Kafka creates compacted: it is accepted there
(``internal=True``), and such a log is never deleted by retention (UnifiedLog only applies
retention when the policy includes ``delete``); it keeps every record instead of only the newest
per key, which changes its size but not what the group coordinator reads back.

Kafka: org.apache.kafka.common.config.ConfigDef (define, Range.atLeast, ValidString.in, Importance),
org.apache.kafka.common.config.TopicConfig (key names), org.apache.kafka.storage.internals.log.LogConfig
(topic keys, defaults, validators, SERVER_CONFIG_DEF), org.apache.kafka.server.config.ServerLogConfigs
(broker ``log.*`` keys and defaults), ServerTopicConfigSynonyms; KIP-937, KIP-1030.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from kafkalab.errors import ConfigError

COURSE_MIN_SEGMENT_BYTES = 100
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})  # org.apache.kafka.common.internals.Topic
KAFKA_MIN_SEGMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ConfigKey:
    """One configuration key: its name, type, default, validity rule and documentation."""

    name: str
    type: type
    default: Any
    doc: str
    validator: Callable[[Any], str | None] | None = None
    importance: str = "medium"

    def parse(self, value: Any) -> Any:
        """Turn a value (possibly a string, as in a .properties file) into this key's type."""
        if value is None and self.default is None:
            return None  # an optional key (log.retention.ms, log.roll.ms ...) left unset
        try:
            if self.type is bool and isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                parsed: Any = value.lower() == "true"
            elif self.type is int and isinstance(value, bool):
                raise ValueError(value)
            else:
                parsed = self.type(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Invalid value {value!r} for configuration {self.name}: expected {self.type.__name__}") from None
        if self.validator is not None:
            problem = self.validator(parsed)
            if problem:
                raise ConfigError(f"Invalid value {value!r} for configuration {self.name}: {problem}")
        return parsed


def at_least(minimum: int) -> Callable[[Any], str | None]:
    """ConfigDef.Range.atLeast."""
    return lambda value: None if value >= minimum else f"Value must be at least {minimum}"


def one_of(*allowed: str) -> Callable[[Any], str | None]:
    """ConfigDef.ValidString.in."""
    return lambda value: None if value in allowed else f"String must be one of: {', '.join(allowed)}"


MS_PER_DAY = 24 * 60 * 60 * 1000

LONG_MAX = 2**63 - 1

TOPIC_CONFIG_KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in [
        ConfigKey("segment.bytes", int, 1024 * 1024 * 1024, "Size at which the active segment is rolled (Kafka's minimum is 1 MiB; the course allows 100 bytes).", at_least(COURSE_MIN_SEGMENT_BYTES)),
        ConfigKey("segment.ms", int, 7 * MS_PER_DAY, "Age at which the active segment is rolled even if not full.", at_least(1)),
        ConfigKey("retention.ms", int, 7 * MS_PER_DAY, "How long to keep a segment after its newest record; -1 = forever.", at_least(-1)),
        ConfigKey("retention.bytes", int, -1, "Largest size of a partition before the oldest segments are deleted; negative = no limit."),
        ConfigKey("cleanup.policy", str, "delete", "delete (retention) or compact (keep the newest record per key; not simulated yet).", one_of("delete", "compact", "compact,delete", "delete,compact")),
        ConfigKey("message.timestamp.type", str, "CreateTime", "CreateTime keeps the producer's timestamp; LogAppendTime uses the broker's clock.", one_of("CreateTime", "LogAppendTime")),
        ConfigKey("message.timestamp.before.max.ms", int, LONG_MAX, "Largest allowed age of a CreateTime timestamp (KIP-937).", at_least(0)),
        ConfigKey("message.timestamp.after.max.ms", int, 60 * 60 * 1000, "Largest allowed distance into the future of a CreateTime timestamp (KIP-937; 1 hour since KIP-1030).", at_least(0)),
        ConfigKey("max.message.bytes", int, 1024 * 1024 + 12, "Largest record batch the broker accepts.", at_least(0)),
        ConfigKey("min.insync.replicas", int, 1, "Replicas that must acknowledge an acks=all write.", at_least(1)),
        ConfigKey("file.delete.delay.ms", int, 60_000, "Delay before a deleted segment's files are removed.", at_least(0)),
        ConfigKey("unclean.leader.election.enable", bool, False, "Let an out-of-sync replica become leader (may lose data)."),
        ConfigKey("compression.type", str, "producer", "Keep the producer's compression, or recompress.", one_of("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")),
    ]
}

BROKER_CONFIG_KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in [
        ConfigKey("num.partitions", int, 1, "Partitions of an automatically created topic.", at_least(1)),
        ConfigKey("default.replication.factor", int, 1, "Replication factor of an automatically created topic.", at_least(1)),
        ConfigKey("auto.create.topics.enable", bool, True, "Create a topic when a client asks for metadata of an unknown one.", importance="high"),
        ConfigKey("log.retention.check.interval.ms", int, 5 * 60 * 1000, "How often the broker looks for segments to delete.", at_least(1)),
        ConfigKey("log.segment.bytes", int, 1024 * 1024 * 1024, "Default segment.bytes.", at_least(COURSE_MIN_SEGMENT_BYTES), importance="high"),
        ConfigKey("log.roll.ms", int, None, "Default segment.ms; if unset, log.roll.hours is used.", at_least(1), importance="high"),
        ConfigKey("log.roll.hours", int, 168, "Default segment.ms, in hours.", at_least(1), importance="high"),
        ConfigKey("log.retention.ms", int, None, "Default retention.ms; if unset, log.retention.minutes, then log.retention.hours. -1 = forever.", at_least(-1), importance="high"),
        ConfigKey("log.retention.minutes", int, None, "Default retention.ms, in minutes (if log.retention.ms is unset).", importance="high"),
        ConfigKey("log.retention.hours", int, 168, "Default retention.ms, in hours (7 days).", importance="high"),
        ConfigKey("log.retention.bytes", int, -1, "Default retention.bytes.", importance="high"),
        ConfigKey("log.cleanup.policy", str, "delete", "Default cleanup.policy.", one_of("delete", "compact", "compact,delete", "delete,compact")),
        ConfigKey("log.segment.delete.delay.ms", int, 60_000, "Default file.delete.delay.ms.", at_least(0), importance="high"),
        ConfigKey("message.max.bytes", int, 1024 * 1024 + 12, "Default max.message.bytes.", at_least(0), importance="high"),
        ConfigKey("log.message.timestamp.type", str, "CreateTime", "Default message.timestamp.type.", one_of("CreateTime", "LogAppendTime")),
        ConfigKey("log.message.timestamp.before.max.ms", int, LONG_MAX, "Default message.timestamp.before.max.ms.", at_least(0)),
        ConfigKey("log.message.timestamp.after.max.ms", int, 60 * 60 * 1000, "Default message.timestamp.after.max.ms.", at_least(0)),
        ConfigKey("min.insync.replicas", int, 1, "Default min.insync.replicas.", at_least(1), importance="high"),
        # replication (ReplicationConfigs, KRaftConfigs)
        ConfigKey("replica.lag.time.max.ms", int, 30_000, "A follower that has not caught up for this long leaves the ISR.", at_least(0), importance="high"),
        ConfigKey("replica.fetch.wait.max.ms", int, 500, "How long a leader may hold a follower's fetch waiting for data.", at_least(0)),
        ConfigKey("replica.fetch.min.bytes", int, 1, "Bytes a follower's fetch waits for.", at_least(0)),
        ConfigKey("replica.fetch.backoff.ms", int, 1000, "Wait after a follower's fetch fails.", at_least(0)),
        ConfigKey("replica.socket.timeout.ms", int, 30_000, "A follower's fetch without an answer for this long has failed.", at_least(1)),
        ConfigKey("replica.selector.class", str, None,
                  "Chooses the replica a consumer should read from (KIP-392); unset: always the leader. "
                  "org.apache.kafka.common.replica.RackAwareReplicaSelector sends a consumer to a replica in its client.rack.",
                  one_of("org.apache.kafka.common.replica.RackAwareReplicaSelector", "org.apache.kafka.common.replica.LeaderSelector")),
        ConfigKey("unclean.leader.election.enable", bool, False, "Default for topics: let an out-of-sync replica become leader.", importance="high"),
        ConfigKey("auto.leader.rebalance.enable", bool, True,
                  "Let the controller move leadership back to each partition's preferred (first) replica when it is in sync.",
                  importance="high"),
        ConfigKey("leader.imbalance.check.interval.seconds", int, 300,
                  "How long the controller waits, once some partition is not led by its preferred replica, before rebalancing.",
                  at_least(1), importance="high"),
        ConfigKey("broker.heartbeat.interval.ms", int, 2000, "How often a broker tells the controller it is alive.", at_least(1)),
        ConfigKey("broker.session.timeout.ms", int, 9000, "A broker silent for this long is fenced by the controller.", at_least(1)),
        # the group coordinator (GroupCoordinatorConfig)
        ConfigKey("offsets.topic.num.partitions", int, 50, "Partitions of __consumer_offsets (fixed once the topic exists).", at_least(1), importance="high"),
        ConfigKey("offsets.topic.replication.factor", int, 3, "Replication factor of __consumer_offsets; creating it fails until that many brokers exist.", at_least(1), importance="high"),
        ConfigKey("offsets.topic.segment.bytes", int, 100 * 1024 * 1024, "segment.bytes of __consumer_offsets.", at_least(COURSE_MIN_SEGMENT_BYTES), importance="high"),
        ConfigKey("offsets.retention.minutes", int, 7 * 24 * 60, "Keep an empty group's committed offsets this long after its last commit (KIP-211).", at_least(1), importance="high"),
        ConfigKey("offsets.retention.check.interval.ms", int, 600_000, "How often the coordinator looks for expired offsets.", at_least(1), importance="high"),
        ConfigKey("offset.metadata.max.bytes", int, 4096, "Largest metadata string of a committed offset.", at_least(0), importance="high"),
        ConfigKey("group.initial.rebalance.delay.ms", int, 3000, "How long an empty group's first rebalance waits for more members to join.", at_least(0)),
        ConfigKey("group.min.session.timeout.ms", int, 6000, "Smallest session.timeout.ms a member may ask for.", at_least(0)),
        ConfigKey("group.max.session.timeout.ms", int, 1_800_000, "Largest session.timeout.ms a member may ask for.", at_least(0)),
        ConfigKey("group.max.size", int, 2**31 - 1, "Most members a group may have.", at_least(1)),
        # the transaction coordinator (TransactionStateManagerConfig, TransactionLogConfig)
        ConfigKey("transaction.state.log.num.partitions", int, 50, "Partitions of __transaction_state.", at_least(1), importance="high"),
        ConfigKey("transaction.state.log.replication.factor", int, 3, "Replication factor of __transaction_state.", at_least(1), importance="high"),
        ConfigKey("transaction.state.log.segment.bytes", int, 100 * 1024 * 1024, "segment.bytes of __transaction_state.", at_least(COURSE_MIN_SEGMENT_BYTES), importance="high"),
        ConfigKey("transaction.max.timeout.ms", int, 900_000, "Largest transaction.timeout.ms a producer may ask for.", at_least(1), importance="high"),
        ConfigKey("transaction.abort.timed.out.transaction.cleanup.interval.ms", int, 10_000, "How often the coordinator aborts transactions open longer than their timeout.", at_least(1)),
    ]
}


def closest_key(name: str, known: Mapping[str, ConfigKey]) -> str | None:
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _parse_all(values: Mapping[str, Any], known: Mapping[str, ConfigKey], kind: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            suggestion = closest_key(name, known)
            hint = f"; did you mean {suggestion}?" if suggestion else f"; known keys: {', '.join(sorted(known))}"
            raise ConfigError(f"Unknown {kind} configuration {name!r}{hint}")
        parsed[name] = known[name].parse(value)
    return parsed


class TopicConfig:
    """A topic's configuration: explicit overrides on top of the broker's (or Kafka's) defaults."""

    def __init__(self, overrides: Mapping[str, Any] | None = None, defaults: Mapping[str, Any] | None = None,
                 internal: bool = False) -> None:
        self.overrides = _parse_all(overrides or {}, TOPIC_CONFIG_KEYS, "topic")
        self._values = {name: key.default for name, key in TOPIC_CONFIG_KEYS.items()}
        self._values.update(defaults or {})
        self._values.update(self.overrides)
        if self._values["cleanup.policy"] != "delete" and not internal:
            raise ConfigError(
                f"cleanup.policy={self._values['cleanup.policy']} is not simulated yet: kafkalab's log implements "
                "retention by deletion only (compaction is a later chapter)"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None) -> TopicConfig:
        return cls(values)

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            suggestion = closest_key(name, TOPIC_CONFIG_KEYS)
            raise ConfigError(f"Unknown topic configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        return self._values[name]

    @property
    def segment_bytes(self) -> int:
        return self["segment.bytes"]

    @property
    def segment_ms(self) -> int:
        return self["segment.ms"]

    @property
    def retention_ms(self) -> int:
        return self["retention.ms"]

    @property
    def retention_bytes(self) -> int:
        return self["retention.bytes"]

    @property
    def max_message_bytes(self) -> int:
        return self["max.message.bytes"]

    @property
    def log_append_time(self) -> bool:
        return self["message.timestamp.type"] == "LogAppendTime"

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"TopicConfig({self.overrides!r})"


class BrokerConfig:
    """A broker's configuration (the parts the simulator uses), with topic defaults derived from it."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.overrides = _parse_all(values or {}, BROKER_CONFIG_KEYS, "broker")
        self._values = {name: key.default for name, key in BROKER_CONFIG_KEYS.items()}
        self._values.update(self.overrides)

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            suggestion = closest_key(name, BROKER_CONFIG_KEYS)
            raise ConfigError(f"Unknown broker configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        return self._values[name]

    def as_dict(self) -> dict[str, Any]:
        """Every key with its value (defaults included), for DescribeConfigs."""
        return dict(self._values)

    def topic_defaults(self) -> dict[str, Any]:
        """How broker-level ``log.*`` keys become the defaults of topic keys (as in LogConfig)."""
        return {
            "segment.bytes": self["log.segment.bytes"],
            "segment.ms": self.log_roll_time_ms,
            "retention.ms": self.log_retention_time_ms,
            "retention.bytes": self["log.retention.bytes"],
            "cleanup.policy": self["log.cleanup.policy"],
            "file.delete.delay.ms": self["log.segment.delete.delay.ms"],
            "max.message.bytes": self["message.max.bytes"],
            "message.timestamp.type": self["log.message.timestamp.type"],
            "message.timestamp.before.max.ms": self["log.message.timestamp.before.max.ms"],
            "message.timestamp.after.max.ms": self["log.message.timestamp.after.max.ms"],
            "min.insync.replicas": self["min.insync.replicas"],
        }

    @property
    def log_roll_time_ms(self) -> int:
        """KafkaConfig.logRollTimeMillis: log.roll.ms if set, else log.roll.hours."""
        if self["log.roll.ms"] is not None:
            return self["log.roll.ms"]
        return self["log.roll.hours"] * 60 * 60 * 1000

    @property
    def log_retention_time_ms(self) -> int:
        """KafkaConfig.logRetentionTimeMillis: ms, else minutes, else hours; any negative means forever (-1)."""
        if self["log.retention.ms"] is not None:
            millis = self["log.retention.ms"]
        elif self["log.retention.minutes"] is not None:
            millis = self["log.retention.minutes"] * 60 * 1000
        else:
            millis = self["log.retention.hours"] * 60 * 60 * 1000
        return -1 if millis < 0 else millis

    def topic_config(self, overrides: Mapping[str, Any] | None = None, internal: bool = False) -> TopicConfig:
        return TopicConfig(overrides, defaults=self.topic_defaults(), internal=internal)
