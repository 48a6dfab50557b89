"""A consumer group as its coordinator sees it (the classic protocol): members, generation, state.

States (``ClassicGroupState``)::

    Empty ──member joins──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
      ▲                         ▲        │                                     │ leader's SyncGroup
      └──last member leaves─────┘        └──────◀── member joins/leaves ───────▼
                                                                              Stable

* **PreparingRebalance**: the coordinator waits for every known member to send JoinGroup again
  (each has up to its rebalance timeout, the consumer's ``max.poll.interval.ms``). Members that do
  not rejoin in time are removed.
* **CompletingRebalance**: the generation id has been bumped, one member (the *leader*) received
  every member's subscription in its JoinGroup response and is computing the assignment.
* **Stable**: the leader's SyncGroup brought the assignment; each member got its partitions.

The generation id is the fence: a request carrying an old generation gets ILLEGAL_GENERATION, so
a member that missed a rebalance cannot commit offsets for partitions it may no longer own.

Kafka: org.apache.kafka.coordinator.group.classic.ClassicGroup, ClassicGroupMember,
ClassicGroupState (KIP-848 keeps this protocol as "classic"; KIP-345 static membership,
KIP-394 member id required).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kafkalab.coordinator.messages import JoinGroupProtocol, JoinGroupResponseMember


class ClassicGroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


VALID_PREVIOUS_STATES = {
    ClassicGroupState.EMPTY: {ClassicGroupState.PREPARING_REBALANCE},
    ClassicGroupState.PREPARING_REBALANCE: {ClassicGroupState.EMPTY, ClassicGroupState.STABLE, ClassicGroupState.COMPLETING_REBALANCE},
    ClassicGroupState.COMPLETING_REBALANCE: {ClassicGroupState.PREPARING_REBALANCE},
    ClassicGroupState.STABLE: {ClassicGroupState.COMPLETING_REBALANCE},
    ClassicGroupState.DEAD: set(ClassicGroupState),
}

Waiter = tuple[str, int]  # (client node, correlation id) of a request whose response is parked


@dataclass
class ClassicGroupMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: tuple[JoinGroupProtocol, ...]
    assignment: bytes = b""
    awaiting_join: Waiter | None = None
    awaiting_sync: Waiter | None = None
    is_new: bool = False

    @property
    def is_static(self) -> bool:
        return self.group_instance_id is not None

    def metadata(self, protocol: str) -> bytes:
        for candidate in self.protocols:
            if candidate.name == protocol:
                return candidate.metadata
        raise KeyError(f"member {self.member_id} does not support protocol {protocol}")

    def matches(self, protocols: tuple[JoinGroupProtocol, ...]) -> bool:
        return self.protocols == protocols

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among those every member supports."""
        for protocol in self.protocols:
            if protocol.name in candidates:
                return protocol.name
        raise ValueError(f"member {self.member_id} supports none of {sorted(candidates)}")

    def has_satisfied_heartbeat(self) -> bool:
        """ClassicGroupMember#hasSatisfiedHeartbeat: members in a rebalance are kept alive (new ones are not)."""
        if self.is_new:
            return False
        return self.awaiting_join is not None or self.awaiting_sync is not None


@dataclass
class ClassicGroup:
    group_id: str
    state: ClassicGroupState = ClassicGroupState.EMPTY
    previous_state: ClassicGroupState = ClassicGroupState.EMPTY
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, ClassicGroupMember] = field(default_factory=dict)  # in joining order
    pending_members: set[str] = field(default_factory=set)
    pending_sync_members: set[str] = field(default_factory=set)
    static_members: dict[str, str] = field(default_factory=dict)  # group.instance.id -> member id
    new_member_added: bool = False
    state_timestamp_ms: int = -1

    # -- state ------------------------------------------------------------------------------
    def transition_to(self, state: ClassicGroupState, now_ms: int) -> None:
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise AssertionError(f"group {self.group_id}: illegal transition {self.state.value} -> {state.value}")
        self.previous_state, self.state = self.state, state
        self.state_timestamp_ms = now_ms

    def is_in(self, *states: ClassicGroupState) -> bool:
        return self.state in states

    def can_rebalance(self) -> bool:
        return self.state in VALID_PREVIOUS_STATES[ClassicGroupState.PREPARING_REBALANCE]

    # -- members ----------------------------------------------------------------------------
    def add(self, member: ClassicGroupMember) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        if member.is_static:
            self.static_members[member.group_instance_id] = member.member_id  # type: ignore[index]
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> ClassicGroupMember | None:
        member = self.members.pop(member_id, None)
        self.pending_members.discard(member_id)
        self.pending_sync_members.discard(member_id)
        if member is not None and member.is_static:
            self.static_members.pop(member.group_instance_id, None)  # type: ignore[arg-type]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def replace_static_member(self, instance_id: str, old_member_id: str, new_member_id: str) -> ClassicGroupMember:
        """A restarted static member takes over its old identity: same partitions, new member id."""
        member = self.members.pop(old_member_id)
        member.member_id = new_member_id
        self.members[new_member_id] = member
        self.static_members[instance_id] = new_member_id
        if self.leader_id == old_member_id:
            self.leader_id = new_member_id
        self.pending_sync_members.discard(old_member_id)
        return member

    def has_all_members_joined(self) -> bool:
        return all(m.awaiting_join is not None for m in self.members.values()) and not self.pending_members

    def not_yet_rejoined(self) -> list[ClassicGroupMember]:
        return [m for m in self.members.values() if m.awaiting_join is None]

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def maybe_elect_new_joined_leader(self) -> bool:
        """If the leader did not rejoin, the first member that did becomes leader."""
        if self.leader_id is None:
            return True
        leader = self.members.get(self.leader_id)
        if leader is not None and leader.awaiting_join is not None:
            return True
        for member in self.members.values():
            if member.awaiting_join is not None:
                self.leader_id = member.member_id
                return True
        return False

    # -- protocols --------------------------------------------------------------------------
    def candidate_protocols(self) -> set[str]:
        """Protocols (assignors) that every member supports."""
        sets = [{p.name for p in m.protocols} for m in self.members.values()]
        return set.intersection(*sets) if sets else set()

    def supports_protocols(self, protocol_type: str, protocols: tuple[JoinGroupProtocol, ...]) -> bool:
        if not self.members:
            return bool(protocol_type) and bool(protocols)
        return protocol_type == self.protocol_type and bool(self.candidate_protocols() & {p.name for p in protocols})

    def select_protocol(self) -> str:
        """Each member votes for its favourite common protocol; the most votes wins.

        Kafka takes the maximum over a HashMap, so a tie has no defined winner; kafkalab breaks
        ties by the earliest member's vote so that runs are reproducible.
        """
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        best = max(votes.values())
        return next(name for name, count in votes.items() if count == best)

    def init_next_generation(self, now_ms: int) -> None:
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.transition_to(ClassicGroupState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.transition_to(ClassicGroupState.EMPTY, now_ms)
        self.pending_sync_members.clear()

    def join_response_members(self) -> tuple[JoinGroupResponseMember, ...]:
        assert self.protocol_name is not None
        return tuple(
            JoinGroupResponseMember(m.member_id, m.group_instance_id, m.metadata(self.protocol_name)) for m in self.members.values()
        )
