"""The producer's configuration: Kafka 4.x's keys and defaults, and the rules that tie them together.

Beyond single values, Kafka checks settings against each other (``ProducerConfig``'s
``postProcessAndValidateIdempotenceConfigs``): idempotence needs ``acks=all``, at most 5 requests
in flight per connection, and retries. If you *asked* for idempotence, a conflicting setting is an
error; if idempotence is only on by default (true since 3.0), a conflicting setting quietly turns
it off. ``delivery.timeout.ms`` must cover ``linger.ms + request.timeout.ms``.

Defaults that changed in 4.0 (KIP-1030): ``linger.ms`` is 5 (was 0).

Kafka: org.apache.kafka.clients.producer.ProducerConfig, KafkaProducer (configureDeliveryTimeout),
KIP-679 (idempotence on by default, 3.0), KIP-1030, KIP-390 (compression levels), KIP-580 (backoff).
"""

from __future__ import annotations

from typing import Any, Mapping

from kafkalab.config import ConfigKey, at_least, closest_key, one_of
from kafkalab.errors import ConfigError

INT_MAX = 2**31 - 1
MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5


def _acks(value: Any) -> str | None:
    return None if str(value) in ("all", "-1", "0", "1") else 'String must be one of: all, -1, 0, 1'


PRODUCER_CONFIG_KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in [
        ConfigKey("bootstrap.servers", str, "", "host:port pairs to find the cluster (any broker will do)."),
        ConfigKey("client.id", str, "", "A name for this producer in broker logs and metrics."),
        ConfigKey("key.serializer", str, "", "Serializer class (or object) for keys."),
        ConfigKey("value.serializer", str, "", "Serializer class (or object) for values."),
        ConfigKey("acks", str, "all", "How many replicas must have the record before the send succeeds: 0, 1 or all (-1).", _acks),
        ConfigKey("enable.idempotence", bool, True, "Producer id + sequence numbers so retries cannot duplicate or reorder records."),
        ConfigKey("linger.ms", int, 5, "How long to wait for more records before sending a batch.", at_least(0)),
        ConfigKey("batch.size", int, 16384, "Bytes per partition batch; also the uniform sticky partitioner's switch size.", at_least(0)),
        ConfigKey("buffer.memory", int, 33554432, "Bytes the RecordAccumulator may hold before send() blocks.", at_least(0)),
        ConfigKey("compression.type", str, "none", "Codec for whole batches.", one_of("none", "gzip", "snappy", "lz4", "zstd")),
        ConfigKey("compression.gzip.level", int, -1, "gzip level (-1 = the codec's default).", at_least(-1)),
        ConfigKey("compression.lz4.level", int, 9, "lz4 level.", at_least(1)),
        ConfigKey("compression.zstd.level", int, 3, "zstd level.", at_least(-131072)),
        ConfigKey("max.block.ms", int, 60000, "How long send() may block (metadata wait, full buffer).", at_least(0)),
        ConfigKey("request.timeout.ms", int, 30000, "How long to wait for a broker's response.", at_least(0)),
        ConfigKey("delivery.timeout.ms", int, 120000, "Upper bound on the time to report a send's success or failure.", at_least(0)),
        ConfigKey("retries", int, INT_MAX, "How many times to resend a failed batch (within delivery.timeout.ms).", at_least(0)),
        ConfigKey("retry.backoff.ms", int, 100, "Wait before retrying a failed request.", at_least(0)),
        ConfigKey("retry.backoff.max.ms", int, 1000, "Largest exponential backoff between retries.", at_least(0)),
        ConfigKey("max.in.flight.requests.per.connection", int, 5, "Unanswered requests allowed per broker connection.", at_least(1)),
        ConfigKey("max.request.size", int, 1048576, "Largest request (and so largest record) the producer sends.", at_least(0)),
        ConfigKey("partitioner.class", str, "", "A custom partitioner; empty means the built-in one."),
        ConfigKey("partitioner.ignore.keys", bool, False, "Ignore keys: use the sticky partitioner for every record."),
        ConfigKey("partitioner.adaptive.partitioning.enable", bool, True, "Prefer partitions with shorter queues (KIP-794)."),
        ConfigKey("partitioner.availability.timeout.ms", int, 0, "Skip partitions whose broker has not taken a batch for this long (0 = never).", at_least(0)),
        ConfigKey("metadata.max.age.ms", int, 300000, "Refresh metadata at least this often.", at_least(0)),
        ConfigKey("metadata.max.idle.ms", int, 300000, "Forget an idle topic's metadata after this long.", at_least(5000)),
        ConfigKey("transactional.id", str, "", "Enables transactions (implies idempotence)."),
        ConfigKey("transaction.timeout.ms", int, 60000, "How long a transaction may stay open.", at_least(0)),
        ConfigKey("reconnect.backoff.ms", int, 50, "Wait before reconnecting to a broker.", at_least(0)),
        ConfigKey("reconnect.backoff.max.ms", int, 1000, "Largest reconnect backoff.", at_least(0)),
        ConfigKey("connections.max.idle.ms", int, 540000, "Close idle connections after this long.", at_least(0)),
        ConfigKey("send.buffer.bytes", int, 131072, "TCP send buffer (-1 = the OS default).", at_least(-1)),
        ConfigKey("receive.buffer.bytes", int, 32768, "TCP receive buffer (-1 = the OS default).", at_least(-1)),
    ]
}


class ProducerConfig:
    """Validated producer settings. ``config["linger.ms"]``; ``config.idempotent`` after the rules ran."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        values = dict(values or {})
        for name in values:
            if name not in PRODUCER_CONFIG_KEYS:
                suggestion = closest_key(name, PRODUCER_CONFIG_KEYS)
                raise ConfigError(f"Unknown producer configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        self.explicit = {name: PRODUCER_CONFIG_KEYS[name].parse(value) for name, value in values.items()}
        self._values = {name: key.default for name, key in PRODUCER_CONFIG_KEYS.items()}
        self._values.update(self.explicit)
        if self._values["acks"] == "-1":
            self._values["acks"] = "all"
        self.idempotent = self._resolve_idempotence()
        self._check_delivery_timeout()

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            suggestion = closest_key(name, PRODUCER_CONFIG_KEYS)
            raise ConfigError(f"Unknown producer configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        return self._values[name]

    @property
    def acks(self) -> int:
        """acks as the protocol sends it: -1 (all), 0 or 1."""
        return -1 if self._values["acks"] == "all" else int(self._values["acks"])

    def _resolve_idempotence(self) -> bool:
        """ProducerConfig.postProcessAndValidateIdempotenceConfigs, in Kafka's order of checks."""
        asked = "enable.idempotence" in self.explicit  # Kafka: the key was configured at all
        enabled = self._values["enable.idempotence"]
        self.disabled_idempotence_because: list[str] = []
        if enabled:
            conflicts = []
            if self._values["retries"] == 0:
                conflicts.append(("retries", "Must set retries to non-zero when using the idempotent producer."))
            if self._values["acks"] != "all":
                conflicts.append(("acks", "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."))
            if self._values["max.in.flight.requests.per.connection"] > MAX_IN_FLIGHT_FOR_IDEMPOTENCE:
                conflicts.append(("max.in.flight.requests.per.connection", f"Must set max.in.flight.requests.per.connection to at most {MAX_IN_FLIGHT_FOR_IDEMPOTENCE} to use the idempotent producer."))
            if conflicts and asked:
                raise ConfigError(conflicts[0][1])
            if conflicts:
                # Idempotence was only on by default: a conflicting setting turns it off (Kafka logs why).
                self.disabled_idempotence_because = [name for name, _ in conflicts]
                self._values["enable.idempotence"] = enabled = False
        if not enabled and self._values["transactional.id"]:
            raise ConfigError("Cannot set a transactional.id without also enabling idempotence.")
        return enabled

    def _check_delivery_timeout(self) -> None:
        """KafkaProducer.configureDeliveryTimeout."""
        needed = self._values["linger.ms"] + self._values["request.timeout.ms"]
        if self._values["delivery.timeout.ms"] >= needed:
            return
        if "delivery.timeout.ms" in self.explicit:
            raise ConfigError(
                f"delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms "
                f"({self._values['delivery.timeout.ms']} < {needed})"
            )
        self._values["delivery.timeout.ms"] = needed  # Kafka raises the default to fit, with a warning

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)
