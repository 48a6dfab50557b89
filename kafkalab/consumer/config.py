"""The consumer's configuration: Kafka 4.x's keys and defaults, and the rules between them.

Defaults worth knowing: ``enable.auto.commit=true`` every ``auto.commit.interval.ms=5000``;
``auto.offset.reset=latest`` (a new group starts at the end of each partition);
``session.timeout.ms=45000`` (it was 10 s before 3.0, KIP-735); ``heartbeat.interval.ms=3000``;
``max.poll.interval.ms=300000``; ``max.poll.records=500``; ``fetch.min.bytes=1`` with
``fetch.max.wait.ms=500``; ``partition.assignment.strategy`` = RangeAssignor then
CooperativeStickyAssignor (since 3.0: range is used, and a rolling restart can move the group to
cooperative-sticky by dropping range); ``isolation.level=read_uncommitted``.

``group.protocol``: ``classic`` (JoinGroup/SyncGroup, what this chapter builds) is the default in
4.x; ``consumer`` is the new protocol of KIP-848, where the coordinator computes assignments. kafkalab
implements the classic one and says so if asked for the other.

Kafka: org.apache.kafka.clients.consumer.ConsumerConfig, KIP-735, KIP-726, KIP-848.
"""

from __future__ import annotations

from typing import Any, Mapping

from kafkalab.config import ConfigKey, at_least, closest_key, one_of
from kafkalab.errors import ConfigError

INT_MAX = 2**31 - 1

# partition.assignment.strategy: Kafka takes class names; each assignor's protocol name is what the group sees.
ASSIGNOR_CLASSES = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}
DEFAULT_ASSIGNORS = "org.apache.kafka.clients.consumer.RangeAssignor,org.apache.kafka.clients.consumer.CooperativeStickyAssignor"

CONSUMER_CONFIG_KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in [
        ConfigKey("bootstrap.servers", str, "", "host:port pairs to find the cluster (any broker will do)."),
        ConfigKey("client.id", str, "", "A name for this consumer in broker logs; also the start of its member id."),
        ConfigKey("group.id", str, None, "The consumer group; needed for subscribe() and for committing offsets."),
        ConfigKey("group.instance.id", str, None, "A static member's stable identity (KIP-345): a restart within session.timeout.ms causes no rebalance."),
        ConfigKey("group.protocol", str, "classic", "classic (JoinGroup/SyncGroup) or consumer (KIP-848).", one_of("classic", "consumer")),
        ConfigKey("key.deserializer", str, "", "Deserializer class (or object) for keys."),
        ConfigKey("value.deserializer", str, "", "Deserializer class (or object) for values."),
        ConfigKey("enable.auto.commit", bool, True, "Commit the positions of what poll() returned, in the background."),
        ConfigKey("auto.commit.interval.ms", int, 5000, "How often auto-commit commits.", at_least(0)),
        ConfigKey("auto.offset.reset", str, "latest", "Where to start with no committed offset (or one out of range).",
                  one_of("earliest", "latest", "none")),
        ConfigKey("session.timeout.ms", int, 45000, "Without a heartbeat for this long, the coordinator removes the member.", at_least(1)),
        ConfigKey("heartbeat.interval.ms", int, 3000, "How often the heartbeat thread sends Heartbeat.", at_least(1)),
        ConfigKey("max.poll.interval.ms", int, 300000, "Longest allowed gap between poll() calls before the member leaves the group.", at_least(1)),
        ConfigKey("max.poll.records", int, 500, "Most records one poll() returns.", at_least(1)),
        ConfigKey("fetch.min.bytes", int, 1, "The broker waits for this many bytes (or fetch.max.wait.ms) before answering a fetch.", at_least(0)),
        ConfigKey("fetch.max.wait.ms", int, 500, "Longest the broker holds a fetch waiting for fetch.min.bytes.", at_least(0)),
        ConfigKey("fetch.max.bytes", int, 52428800, "Most bytes one fetch response carries.", at_least(0)),
        ConfigKey("max.partition.fetch.bytes", int, 1048576, "Most bytes per partition in a fetch (at least one batch).", at_least(0)),
        ConfigKey("partition.assignment.strategy", str, DEFAULT_ASSIGNORS, "Assignor classes, most preferred first."),
        ConfigKey("isolation.level", str, "read_uncommitted", "read_committed hides records of open and aborted transactions.",
                  one_of("read_uncommitted", "read_committed")),
        ConfigKey("request.timeout.ms", int, 30000, "How long to wait for a broker's response.", at_least(0)),
        ConfigKey("default.api.timeout.ms", int, 60000, "Timeout of blocking calls without their own (commitSync, committed, position).", at_least(0)),
        ConfigKey("retry.backoff.ms", int, 100, "Wait before retrying a failed request.", at_least(0)),
        ConfigKey("allow.auto.create.topics", bool, True, "Let a subscription create a missing topic (if the broker allows)."),
        ConfigKey("client.rack", str, "", "The consumer's rack (for rack-aware assignment and fetching from followers)."),
        ConfigKey("metadata.max.age.ms", int, 300000, "Refresh metadata at least this often.", at_least(0)),
        ConfigKey("check.crcs", bool, True, "Check each batch's CRC."),
    ]
}


def assignor_name(value: str) -> str:
    """``org.apache.kafka.clients.consumer.RangeAssignor`` (or ``range``) → ``range``."""
    value = value.strip()
    if value in ASSIGNOR_CLASSES:
        return ASSIGNOR_CLASSES[value]
    if value in ASSIGNOR_CLASSES.values():
        return value
    simple = {cls.rsplit(".", 1)[-1]: name for cls, name in ASSIGNOR_CLASSES.items()}
    if value in simple:
        return simple[value]
    raise ConfigError(f"Invalid value {value!r} for configuration partition.assignment.strategy: "
                      f"use one of {', '.join(ASSIGNOR_CLASSES)} (or range, roundrobin, sticky, cooperative-sticky)")


class ConsumerConfig:
    """Validated consumer settings: ``config["max.poll.records"]``, ``config.assignors``."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        values = dict(values or {})
        for name in values:
            if name not in CONSUMER_CONFIG_KEYS:
                suggestion = closest_key(name, CONSUMER_CONFIG_KEYS)
                raise ConfigError(f"Unknown consumer configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        self.explicit = {name: CONSUMER_CONFIG_KEYS[name].parse(value) for name, value in values.items()}
        self._values = {name: key.default for name, key in CONSUMER_CONFIG_KEYS.items()}
        self._values.update(self.explicit)
        if self._values["group.protocol"] == "consumer":
            raise ConfigError("group.protocol=consumer (KIP-848) is not implemented in kafkalab yet; "
                              "use the classic protocol (the default in Kafka 4.x clients)")
        if self._values["group.id"] is None:
            # ConsumerConfig.maybeOverrideEnableAutoCommit: no group, nothing to commit to.
            if self.explicit.get("enable.auto.commit") is True:
                raise ConfigError("enable.auto.commit cannot be set to true when default group id (null) is used.")
            self._values["enable.auto.commit"] = False
        if self._values["heartbeat.interval.ms"] >= self._values["session.timeout.ms"]:
            # consumer.internals.Heartbeat's constructor check; Kafka recommends at most a third of it.
            raise ConfigError(f"Heartbeat must be set lower than the session timeout: heartbeat.interval.ms="
                              f"{self._values['heartbeat.interval.ms']}, session.timeout.ms={self._values['session.timeout.ms']}")
        names = [part for part in str(self._values["partition.assignment.strategy"]).split(",") if part.strip()]
        if not names:
            raise ConfigError("partition.assignment.strategy is empty: name at least one assignor")
        self.assignors: tuple[str, ...] = tuple(assignor_name(name) for name in names)

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            suggestion = closest_key(name, CONSUMER_CONFIG_KEYS)
            raise ConfigError(f"Unknown consumer configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        return self._values[name]

    @property
    def read_committed(self) -> bool:
        return self._values["isolation.level"] == "read_committed"
