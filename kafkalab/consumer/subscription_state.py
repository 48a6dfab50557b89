"""What the consumer is reading and where it is in each partition.

A consumer either *subscribes* to topics (the group decides which partitions it gets) or *assigns*
itself partitions by hand. For every assigned partition it keeps a **position**: the offset of the
next record poll() will return. The position is not the committed offset: the position moves as
poll() returns records; the committed offset moves only when the consumer commits. After a crash
or a rebalance, the new owner starts from the committed offset — that gap is where duplicates
(or losses) come from.

A partition without a position gets one from the group's committed offset or, if there is none,
from ``auto.offset.reset`` (earliest → log start offset, latest → log end offset, none → an error).

Kafka: org.apache.kafka.clients.consumer.internals.SubscriptionState (TopicPartitionState,
FetchState: INITIALIZING, AWAIT_RESET, FETCHING), OffsetAndMetadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

TopicPartition = tuple[str, int]


class SubscriptionType(Enum):
    NONE = "NONE"
    AUTO_TOPICS = "AUTO_TOPICS"  # subscribe(topics)
    USER_ASSIGNED = "USER_ASSIGNED"  # assign(partitions)


class FetchState(Enum):
    INITIALIZING = "INITIALIZING"  # no position yet: ask for the committed offset
    AWAIT_RESET = "AWAIT_RESET"  # reset by auto.offset.reset (or seek_to_beginning/end)
    FETCHING = "FETCHING"


@dataclass
class PartitionState:
    position: int | None = None
    fetch_state: FetchState = FetchState.INITIALIZING
    reset_strategy: str | None = None  # "earliest" / "latest" while AWAIT_RESET
    paused: bool = False
    high_watermark: int | None = None
    log_start_offset: int | None = None
    last_stable_offset: int | None = None
    preferred_read_replica: int | None = None  # KIP-392: the broker the leader sent us to, until ...
    preferred_read_replica_expires_ms: int = 0  # ... metadata.max.age.ms after it said so

    def preferred_replica(self, now_ms: int) -> int | None:
        """SubscriptionState.preferredReadReplica: forgotten once it expires."""
        if self.preferred_read_replica is not None and now_ms > self.preferred_read_replica_expires_ms:
            self.preferred_read_replica = None
        return self.preferred_read_replica

    def update_preferred_replica(self, broker_id: int, expires_ms: int) -> None:
        self.preferred_read_replica, self.preferred_read_replica_expires_ms = broker_id, expires_ms

    def clear_preferred_replica(self) -> int | None:
        cleared, self.preferred_read_replica = self.preferred_read_replica, None
        return cleared

    @property
    def fetchable(self) -> bool:
        return self.fetch_state == FetchState.FETCHING and not self.paused and self.position is not None


@dataclass
class SubscriptionState:
    subscription_type: SubscriptionType = SubscriptionType.NONE
    topics: tuple[str, ...] = ()
    assignment: dict[TopicPartition, PartitionState] = field(default_factory=dict)

    def subscribe(self, topics: tuple[str, ...]) -> None:
        if self.subscription_type == SubscriptionType.USER_ASSIGNED:
            raise IllegalStateError("Subscription to topics, partitions and pattern are mutually exclusive: call unsubscribe() first")
        self.subscription_type = SubscriptionType.AUTO_TOPICS
        self.topics = tuple(sorted(set(topics)))

    def assign_from_user(self, partitions: list[TopicPartition]) -> None:
        if self.subscription_type == SubscriptionType.AUTO_TOPICS:
            raise IllegalStateError("Subscription to topics, partitions and pattern are mutually exclusive: call unsubscribe() first")
        self.subscription_type = SubscriptionType.USER_ASSIGNED
        self.set_assignment(partitions)

    def set_assignment(self, partitions: list[TopicPartition]) -> None:
        """Keep the state of partitions still assigned; new ones start INITIALIZING."""
        self.assignment = {tp: self.assignment.get(tp) or PartitionState() for tp in sorted(set(partitions))}

    def unsubscribe(self) -> None:
        self.subscription_type = SubscriptionType.NONE
        self.topics = ()
        self.assignment = {}

    def assigned_partitions(self) -> list[TopicPartition]:
        return sorted(self.assignment)

    def all_consumed(self) -> dict[TopicPartition, int]:
        """The positions to commit: for each partition with a position, the next offset to read."""
        return {tp: state.position for tp, state in sorted(self.assignment.items()) if state.position is not None}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        state = self._state(tp)
        state.position, state.fetch_state, state.reset_strategy = offset, FetchState.FETCHING, None

    def request_reset(self, tp: TopicPartition, strategy: str) -> None:
        state = self._state(tp)
        state.position, state.fetch_state, state.reset_strategy = None, FetchState.AWAIT_RESET, strategy

    def _state(self, tp: TopicPartition) -> PartitionState:
        if tp not in self.assignment:
            raise IllegalStateError(f"No current assignment for partition {tp[0]}-{tp[1]}")
        return self.assignment[tp]


class IllegalStateError(Exception):
    """Kafka's java.lang.IllegalStateException from the consumer API (a call that makes no sense now)."""
