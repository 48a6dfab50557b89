"""The ``controller.quorum.*`` configuration of a KRaft node (and the ``metadata.*`` keys of its
snapshots), with Kafka 4.x's defaults.

Unknown keys are errors that suggest the closest real key, as everywhere in kafkalab.
``controller.quorum.voters`` is ``id@host:port`` pairs in Kafka; the simulator needs only the ids,
so it accepts ``"1@localhost:9093,2@localhost:9094"`` as well as a list of ints.

One course knob, said out loud: ``fetch_max_entries`` (not a Kafka key) caps how many log entries
one Fetch response carries. Kafka caps a response by bytes (KafkaRaftClient's
``MAX_FETCH_SIZE_BYTES``, 8 MiB), which the simulator's tiny records never reach; a cap of 1 lets a
scenario stop a follower between two entries, as Raft's Figure 8 needs.

Kafka: org.apache.kafka.raft.QuorumConfig (QUORUM_*_CONFIG, DEFAULT_QUORUM_*), KafkaRaftClient
(FETCH_MAX_WAIT_MS, RETRY_BACKOFF_BASE_MS), KafkaConfig (METADATA_SNAPSHOT_MAX_INTERVAL_MS_CONFIG,
METADATA_MAX_RETENTION_MILLIS_CONFIG); KIP-595, KIP-996, KIP-630, KIP-876.
"""

from __future__ import annotations

from typing import Any, Mapping

from kafkalab.config import ConfigKey, _parse_all, at_least, closest_key
from kafkalab.errors import ConfigError

FETCH_MAX_WAIT_MS = 500  # KafkaRaftClient: how long the leader may hold a fetch that has nothing new
RETRY_BACKOFF_BASE_MS = 100  # KafkaRaftClient: the unit of the randomised election back-off

QUORUM_CONFIG_KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in [
        ConfigKey("controller.quorum.election.timeout.ms", int, 1000,
                  "How long a voter waits without a leader before it starts an election (randomised up to twice this).",
                  at_least(0), importance="high"),
        ConfigKey("controller.quorum.fetch.timeout.ms", int, 2000,
                  "How long a follower waits without a successful fetch before it tries to become leader.",
                  at_least(0), importance="high"),
        ConfigKey("controller.quorum.election.backoff.max.ms", int, 1000,
                  "Longest back-off before a candidate that lost an election tries again.", at_least(0), importance="high"),
        ConfigKey("controller.quorum.request.timeout.ms", int, 2000,
                  "How long a request waits for its response before it is sent again.", at_least(0)),
        ConfigKey("controller.quorum.retry.backoff.ms", int, 20,
                  "Wait before retrying a request that failed.", at_least(0)),
        ConfigKey("controller.quorum.append.linger.ms", int, 25,
                  "How long the leader gathers appends into one batch (kafkalab appends at once).", at_least(0)),
        # The metadata log's snapshots and retention (KafkaConfig's metadata.* keys; KIP-630, KIP-876).
        ConfigKey("metadata.log.max.snapshot.interval.ms", int, 3_600_000,
                  "Longest time between snapshots of the committed metadata, if anything new was committed (0: never).",
                  at_least(0)),
        ConfigKey("metadata.max.retention.ms", int, 604_800_000,
                  "How long metadata log entries are kept once a snapshot covers them.", at_least(0)),
    ]
}


def parse_voters(voters: Any) -> tuple[int, ...]:
    """``controller.quorum.voters`` as node ids: ``"1@host:9093,2@host:9094"``, or ids."""
    if isinstance(voters, str):
        ids = []
        for entry in (part.strip() for part in voters.split(",") if part.strip()):
            node, at, _address = entry.partition("@")
            if not at or not node.strip().isdigit():
                raise ConfigError(f"Invalid value {voters!r} for configuration controller.quorum.voters: "
                                  f"entry {entry!r} is not of the form id@host:port")
            ids.append(int(node))
    else:
        ids = [int(voter) for voter in voters]
    if not ids:
        raise ConfigError("controller.quorum.voters is empty: a quorum needs at least one voter")
    if len(set(ids)) != len(ids):
        raise ConfigError(f"controller.quorum.voters names a voter twice: {ids}")
    return tuple(sorted(ids))


class QuorumConfig:
    """A node's quorum settings: Kafka's keys and defaults, plus the course's ``fetch_max_entries``."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, pre_vote: bool = True,
                 fetch_max_entries: int = 1_000_000) -> None:
        self.overrides = _parse_all(values or {}, QUORUM_CONFIG_KEYS, "quorum")
        self._values = {name: key.default for name, key in QUORUM_CONFIG_KEYS.items()}
        self._values.update(self.overrides)
        self.pre_vote = pre_vote  # KIP-996 (Kafka 4.0): False shows the disruptive rejoining voter
        if fetch_max_entries < 1:
            raise ConfigError(f"fetch_max_entries must be at least 1, got {fetch_max_entries}")
        self.fetch_max_entries = fetch_max_entries

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            suggestion = closest_key(name, QUORUM_CONFIG_KEYS)
            raise ConfigError(f"Unknown quorum configuration {name!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        return self._values[name]

    @property
    def election_timeout_ms(self) -> int:
        return self["controller.quorum.election.timeout.ms"]

    @property
    def fetch_timeout_ms(self) -> int:
        return self["controller.quorum.fetch.timeout.ms"]

    @property
    def election_backoff_max_ms(self) -> int:
        return self["controller.quorum.election.backoff.max.ms"]

    @property
    def request_timeout_ms(self) -> int:
        return self["controller.quorum.request.timeout.ms"]

    @property
    def check_quorum_timeout_ms(self) -> int:
        """LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR (1.5) × the fetch timeout."""
        return int(self.fetch_timeout_ms * 1.5)
