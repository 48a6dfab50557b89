"""Which replica should a consumer read from? KIP-392: fetching from the closest replica.

In a cluster spread over racks (availability zones), a consumer that always reads from the
leader pays for cross-zone traffic on two of every three partitions — cloud providers bill
inter-zone bytes, and a nearby replica answers sooner. Since Kafka 2.4 a consumer may name its
rack (``client.rack``); when the brokers set ``replica.selector.class`` to
``RackAwareReplicaSelector``, the leader answers a consumer's fetch with a *preferred read
replica* — an in-sync replica in the consumer's rack — and no records; the consumer then fetches
from that replica until its metadata gets old (``metadata.max.age.ms``) or the replica fails.

A follower serves consumers only up to *its* high watermark, which trails the leader's by about a
fetch round trip: reading nearby costs a little latency for new records.

The leader only offers replicas that are in the ISR and hold the offset the consumer asks for.

Kafka: org.apache.kafka.common.replica.ReplicaSelector, RackAwareReplicaSelector, ReplicaView
(comparator), kafka.server.ReplicaManager#findPreferredReadReplica; KIP-392.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from kafkalab.errors import ConfigError

RACK_AWARE = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
LEADER = "org.apache.kafka.common.replica.LeaderSelector"


@dataclass(frozen=True)
class ReplicaView:
    """One replica as the selector sees it (ReplicaView.DefaultReplicaView)."""

    broker_id: int
    rack: str | None
    log_end_offset: int
    time_since_last_caught_up_ms: int


class ReplicaSelector(Protocol):
    def select(self, client_rack: str, leader: ReplicaView, replicas: Sequence[ReplicaView]) -> ReplicaView | None: ...


def _most_caught_up(replica: ReplicaView) -> tuple[int, int, int]:
    """ReplicaView.comparator: higher log end offset, then more recently caught up, then higher broker id."""
    return (replica.log_end_offset, -replica.time_since_last_caught_up_ms, replica.broker_id)


class LeaderSelector:
    """Always the leader (what brokers do when replica.selector.class is unset)."""

    def select(self, client_rack: str, leader: ReplicaView, replicas: Sequence[ReplicaView]) -> ReplicaView | None:
        return leader


class RackAwareReplicaSelector:
    """A replica in the consumer's rack — the leader if it is there, else the most caught-up one;
    the leader when the consumer names no rack or no replica shares it."""

    def select(self, client_rack: str, leader: ReplicaView, replicas: Sequence[ReplicaView]) -> ReplicaView | None:
        if not client_rack:
            return leader
        same_rack = [r for r in replicas if r.rack == client_rack]
        if not same_rack or leader in same_rack:
            return leader
        return max(same_rack, key=_most_caught_up)


SELECTORS: dict[str, type] = {RACK_AWARE: RackAwareReplicaSelector, LEADER: LeaderSelector}


def create_replica_selector(class_name: str | None) -> ReplicaSelector | None:
    """ReplicaManager.createReplicaSelector: None when the key is unset (only the leader serves reads)."""
    if class_name is None:
        return None
    if class_name not in SELECTORS:
        raise ConfigError(f"Invalid value {class_name!r} for configuration replica.selector.class: "
                          f"kafkalab knows {', '.join(sorted(SELECTORS))}")
    return SELECTORS[class_name]()
