"""The group coordinator: one broker's share of every consumer group's membership and offsets.

Each broker coordinates the groups that hash to the ``__consumer_offsets`` partitions it leads
(see :mod:`kafkalab.coordinator.offsets_topic`). It is a state machine with no I/O: the broker
hands it requests with the current time and the client they came from; some answers come back at
once, others are *parked* (a JoinGroup waits until the rebalance completes, a follower's
SyncGroup waits for the leader's) and come out later through :meth:`take_responses`. Deadlines
(session timeouts, rebalance timeouts, the initial rebalance delay) fire from :meth:`tick`;
:meth:`next_deadline_ms` tells the driver when to call it.

Everything that must survive a crash is written to ``__consumer_offsets`` through ``append``
before it is acknowledged: committed offsets and, after each rebalance, the group's metadata.
:meth:`load_partition` replays those records when the broker (re)gains the partition.

Kafka: org.apache.kafka.coordinator.group.GroupMetadataManager (classicGroupJoin, classicGroupSync,
classicGroupHeartbeat, classicGroupLeave), OffsetMetadataManager (commitOffset, fetchOffsets,
cleanupExpiredOffsets), GroupCoordinatorShard (replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import kafkalab.coordinator.messages as group_messages
from kafkalab.coordinator.transaction_messages import TxnOffsetCommitRequest, TxnOffsetCommitResponse
from kafkalab.config import BrokerConfig
from kafkalab.coordinator.classic_group import ClassicGroup, ClassicGroupMember, ClassicGroupState, Waiter
from kafkalab.coordinator.messages import (
    UNKNOWN_MEMBER_ID,
    DescribedGroup,
    DescribedGroupMember,
    DescribeGroupsRequest,
    DescribeGroupsResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupProtocol,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    ListedGroup,
    ListGroupsRequest,
    ListGroupsResponse,
    OffsetCommitPartitionResponse,
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetFetchPartitionResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
    SyncGroupRequest,
    SyncGroupResponse,
)
from kafkalab.coordinator.offsets_topic import (
    GroupMemberMetadata,
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    OffsetCommitValue,
    decode_key,
    decode_value,
    encode_key,
    encode_value,
    partition_for,
)
from kafkalab.errors import (
    CoordinatorNotAvailableError,
    FencedInstanceIdError,
    GroupMaxSizeReachedError,
    IllegalGenerationError,
    InconsistentGroupProtocolError,
    InvalidGroupIdError,
    InvalidSessionTimeoutError,
    GroupIdNotFoundError,
    KafkaError,
    NonEmptyGroupError,
    MemberIdRequiredError,
    NotCoordinatorError,
    OffsetMetadataTooLargeError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    UnstableOffsetCommitError,
)

S = ClassicGroupState
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000  # GroupCoordinatorConfig.CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS

AppendRecords = Callable[..., None]  # (partition, [(key, value)], now_ms, producer_id=-1, transactional=False)


@dataclass(frozen=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp_ms: int = -1


@dataclass
class _Timer:
    deadline_ms: int
    sequence: int
    action: Callable[[int], None]


class GroupCoordinator:
    """Classic consumer groups and committed offsets for the __consumer_offsets partitions this broker leads."""

    def __init__(self, config: BrokerConfig, new_uuid: Callable[[], str], append: AppendRecords,
                 event: Callable[..., None] | None = None) -> None:
        self.config = config
        self.num_partitions: int = config["offsets.topic.num.partitions"]
        self._new_uuid = new_uuid
        self._append = append
        self._event = event or (lambda kind, **detail: None)
        self.partitions: set[int] = set()  # loaded __consumer_offsets partitions
        self.groups: dict[str, ClassicGroup] = {}
        self.offsets: dict[str, dict[tuple[str, int], OffsetAndMetadata]] = {}
        self._timers: dict[str, _Timer] = {}
        self._timer_sequence = 0
        self._outbox: list[tuple[str, Any]] = []
        self._next_offset_expiry_ms: int | None = None
        # Offsets committed inside open transactions (TxnOffsetCommit): producer id -> group -> offsets.
        self.pending_transactional_offsets: dict[int, dict[str, dict[tuple[str, int], OffsetAndMetadata]]] = {}

    # -- driver interface -------------------------------------------------------------------
    def handle(self, request: Any, client: str, now_ms: int) -> Any | None:
        """Answer now (a response), or park the request and answer later through take_responses (None)."""
        handlers: dict[type, Callable[[Any, str, int], Any]] = {
            JoinGroupRequest: self._join_group,
            SyncGroupRequest: self._sync_group,
            HeartbeatRequest: self._heartbeat,
            LeaveGroupRequest: self._leave_group,
            OffsetCommitRequest: self._offset_commit,
            OffsetFetchRequest: self._offset_fetch,
            DescribeGroupsRequest: self._describe_groups,
            ListGroupsRequest: self._list_groups,
            TxnOffsetCommitRequest: self._txn_offset_commit,
        }
        try:
            return handlers[type(request)](request, client, now_ms)
        except KafkaError as error:
            return error_response(request, error.error_code, str(error))

    def take_responses(self) -> list[tuple[str, Any]]:
        """Responses to parked requests that are now complete, as (client, response)."""
        out, self._outbox = self._outbox, []
        return out

    def next_deadline_ms(self) -> int | None:
        deadlines = [timer.deadline_ms for timer in self._timers.values()]
        if self._next_offset_expiry_ms is not None:
            deadlines.append(self._next_offset_expiry_ms)
        return min(deadlines, default=None)

    def tick(self, now_ms: int) -> None:
        """Fire every deadline that has passed, oldest first, each at its own time."""
        while True:
            due = [(t.deadline_ms, t.sequence, key) for key, t in self._timers.items() if t.deadline_ms <= now_ms]
            if not due:
                break
            _, _, key = min(due)
            timer = self._timers.pop(key)
            timer.action(timer.deadline_ms)  # as if it fired on time, so that a late tick gives the same result
        if self._next_offset_expiry_ms is not None and self._next_offset_expiry_ms <= now_ms:
            self._expire_offsets(now_ms)
            self._next_offset_expiry_ms = now_ms + self.config["offsets.retention.check.interval.ms"]

    # -- loading ------------------------------------------------------------------------------
    def partition_for(self, group_id: str) -> int:
        return partition_for(group_id, self.num_partitions)

    def load_partition(self, partition: int, records: Iterable[Any], now_ms: int) -> None:
        """Become coordinator for one __consumer_offsets partition by replaying its records in order.

        ``records`` are the log's records (with the broker's producer id / transactional / control
        flags): offsets committed inside a transaction count only once its COMMIT marker follows.
        """
        self.partitions.add(partition)
        loaded_groups: dict[str, GroupMetadataValue | None] = {}
        pending: dict[int, list[tuple[OffsetCommitKey, OffsetCommitValue | None]]] = {}
        for record in records:
            if getattr(record, "is_control", False):
                from kafkalab.broker.transactions import parse_control_key

                for key, value in pending.pop(record.producer_id, []) if parse_control_key(record.key) else []:
                    self._replay_offset(key, value)
                pending.pop(record.producer_id, None)
                continue
            if record.key is None:
                continue
            key = decode_key(record.key)
            value = decode_value(key, record.value)
            if isinstance(key, OffsetCommitKey):
                if getattr(record, "is_transactional", False):
                    pending.setdefault(record.producer_id, []).append((key, value))  # type: ignore[arg-type]
                else:
                    self._replay_offset(key, value)  # type: ignore[arg-type]
            else:
                loaded_groups[key.group] = value  # type: ignore[assignment]
        for producer_id, entries in sorted(pending.items()):  # still open: they wait for their marker
            for key, value in entries:
                if value is not None:
                    self.pending_transactional_offsets.setdefault(producer_id, {}).setdefault(key.group, {})[(key.topic, key.partition)] = \
                        OffsetAndMetadata(value.offset, value.leader_epoch, value.metadata, value.commit_timestamp)
        for group_id, value in sorted(loaded_groups.items()):
            if value is None:
                self.groups.pop(group_id, None)
                continue
            self.groups[group_id] = self._group_from_record(group_id, value, now_ms)
        for group_id in sorted(self.offsets):
            if self.partition_for(group_id) == partition and group_id not in self.groups:
                self.groups[group_id] = ClassicGroup(group_id)
        if self._next_offset_expiry_ms is None:
            self._next_offset_expiry_ms = now_ms + self.config["offsets.retention.check.interval.ms"]
        self._event("coordinator.loaded", partition=partition,
                    groups=sorted(g for g in self.groups if self.partition_for(g) == partition))

    def _replay_offset(self, key: OffsetCommitKey, value: OffsetCommitValue | None) -> None:
        group_offsets = self.offsets.setdefault(key.group, {})
        if value is None:
            group_offsets.pop((key.topic, key.partition), None)
        else:
            group_offsets[(key.topic, key.partition)] = OffsetAndMetadata(value.offset, value.leader_epoch, value.metadata, value.commit_timestamp)

    def unload_partition(self, partition: int) -> None:
        """Forget the groups of a partition this broker no longer leads (members will find the new coordinator)."""
        self.partitions.discard(partition)
        for group_id in [g for g in self.groups if self.partition_for(g) == partition]:
            del self.groups[group_id]
            self.offsets.pop(group_id, None)
            for key in [k for k in self._timers if k.split("|")[1] == group_id]:
                del self._timers[key]

    def forget_everything(self) -> None:
        """The process died: in-memory groups, timers and parked requests are gone (the log is not)."""
        self.partitions.clear()
        self.groups.clear()
        self.offsets.clear()
        self._timers.clear()
        self._outbox.clear()
        self._next_offset_expiry_ms = None
        self.pending_transactional_offsets.clear()

    def _group_from_record(self, group_id: str, value: GroupMetadataValue, now_ms: int) -> ClassicGroup:
        group = ClassicGroup(group_id, generation_id=value.generation, protocol_type=value.protocol_type or None,
                             protocol_name=value.protocol, leader_id=value.leader)
        for m in value.members:
            member = ClassicGroupMember(
                m.member_id, m.group_instance_id, m.client_id, m.client_host, m.rebalance_timeout, m.session_timeout,
                value.protocol_type, (JoinGroupProtocol(value.protocol or "", m.subscription),), assignment=m.assignment)
            group.members[m.member_id] = member
            if m.group_instance_id is not None:
                group.static_members[m.group_instance_id] = m.member_id
        group.state = S.STABLE if group.members else S.EMPTY
        for member in group.members.values():
            self._schedule_heartbeat_expiry(group, member, now_ms, member.session_timeout_ms)
        return group

    # -- timers -------------------------------------------------------------------------------
    def _schedule(self, key: str, deadline_ms: int, action: Callable[[int], None]) -> None:
        self._timer_sequence += 1
        self._timers[key] = _Timer(deadline_ms, self._timer_sequence, action)

    def _cancel(self, key: str) -> None:
        self._timers.pop(key, None)

    def _schedule_heartbeat_expiry(self, group: ClassicGroup, member: ClassicGroupMember, now_ms: int, timeout_ms: int) -> None:
        member_id = member.member_id
        self._schedule(f"heartbeat|{group.group_id}|{member_id}", now_ms + timeout_ms,
                       lambda now: self._expire_heartbeat(group.group_id, member_id, now))

    # -- the coordinator for a group ----------------------------------------------------------
    def _group_for(self, group_id: str, create: bool) -> ClassicGroup | None:
        if not group_id:
            raise InvalidGroupIdError("the group id is empty")
        if self.partition_for(group_id) not in self.partitions:
            raise NotCoordinatorError(f"this broker is not the coordinator of group {group_id!r} "
                                      f"(__consumer_offsets-{self.partition_for(group_id)})")
        group = self.groups.get(group_id)
        if group is None and create:
            group = self.groups[group_id] = ClassicGroup(group_id)
        return group

    def _reply(self, waiter: Waiter | None, response_type: type, **fields: Any) -> bool:
        if waiter is None:
            return False
        client, correlation_id = waiter
        self._outbox.append((client, response_type(correlation_id=correlation_id, **fields)))
        return True

    # -- JoinGroup ----------------------------------------------------------------------------
    def _join_group(self, request: JoinGroupRequest, client: str, now_ms: int) -> JoinGroupResponse | None:
        minimum, maximum = self.config["group.min.session.timeout.ms"], self.config["group.max.session.timeout.ms"]
        if not minimum <= request.session_timeout_ms <= maximum:
            raise InvalidSessionTimeoutError(
                f"session.timeout.ms={request.session_timeout_ms} is outside the broker's "
                f"group.min.session.timeout.ms={minimum} .. group.max.session.timeout.ms={maximum}")
        unknown = request.member_id == UNKNOWN_MEMBER_ID
        group = self._group_for(request.group_id, create=unknown)
        if group is None:
            return JoinGroupResponse(error_code=UnknownMemberIdError.error_code, member_id=request.member_id,
                                     correlation_id=request.correlation_id)
        waiter = (client, request.correlation_id)
        if not self._accept_joining_member(group, request.member_id):
            group.remove(request.member_id)
            raise GroupMaxSizeReachedError(f"group {group.group_id} already has group.max.size={self.config['group.max.size']} members")
        if not group.supports_protocols(request.protocol_type, request.protocols):
            raise InconsistentGroupProtocolError(
                f"member's protocol type {request.protocol_type!r} / assignors {[p.name for p in request.protocols]} "
                f"share nothing with group {group.group_id} ({group.protocol_type!r}, {sorted(group.candidate_protocols())})")
        if unknown:
            new_member_id = (request.group_instance_id or request.client_id) + "-" + self._new_uuid()
            if request.group_instance_id is not None:
                existing = group.static_members.get(request.group_instance_id)
                if existing is not None:
                    return self._update_static_member(group, request, existing, new_member_id, waiter, now_ms)
                return self._add_member(group, request, new_member_id, waiter, now_ms)
            if not request.require_member_id:  # JoinGroup v0-v3, before KIP-394: joined at once
                return self._add_member(group, request, new_member_id, waiter, now_ms)
            # KIP-394: a new dynamic member first gets its id, then joins again with it.
            group.pending_members.add(new_member_id)
            self._schedule(f"heartbeat|{group.group_id}|{new_member_id}", now_ms + request.session_timeout_ms,
                           lambda now: self._expire_heartbeat(group.group_id, new_member_id, now))
            self._event("group.member_id_required", group=group.group_id, member=new_member_id)
            return JoinGroupResponse(error_code=MemberIdRequiredError.error_code, member_id=new_member_id,
                                     error_message="MEMBER_ID_REQUIRED: join again with the member id in this response",
                                     correlation_id=request.correlation_id)
        if request.member_id in group.pending_members:
            return self._add_member(group, request, request.member_id, waiter, now_ms)
        self._validate_member(group, request.member_id, request.group_instance_id)
        member = group.members[request.member_id]
        if group.is_in(S.PREPARING_REBALANCE):
            return self._update_member(group, member, request, waiter, now_ms, "member rejoins during PreparingRebalance")
        if group.is_in(S.COMPLETING_REBALANCE):
            if member.matches(request.protocols):
                return self._join_response(group, member, request.correlation_id)
            return self._update_member(group, member, request, waiter, now_ms, "member changed its subscription")
        if group.is_in(S.STABLE):
            if group.leader_id == member.member_id or not member.matches(request.protocols):
                reason = "the leader rejoins" if group.leader_id == member.member_id else "member changed its subscription"
                return self._update_member(group, member, request, waiter, now_ms, reason)
            return self._join_response(group, member, request.correlation_id)
        raise UnknownMemberIdError(f"group {group.group_id} is {group.state.value}")

    def _accept_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        max_size = self.config["group.max.size"]
        if group.is_in(S.EMPTY, S.DEAD):
            return True
        if group.is_in(S.PREPARING_REBALANCE):
            member = group.members.get(member_id)
            awaiting = sum(1 for m in group.members.values() if m.awaiting_join is not None)
            return (member is not None and member.awaiting_join is not None) or awaiting < max_size
        return member_id in group.members or len(group.members) < max_size

    def _validate_member(self, group: ClassicGroup, member_id: str, instance_id: str | None) -> None:
        """ClassicGroup#validateMember: a static member's id must be the current one for its instance id."""
        if instance_id is not None:
            existing = group.static_members.get(instance_id)
            if existing is None:
                raise UnknownMemberIdError(f"no member with group.instance.id {instance_id!r} in group {group.group_id}")
            if existing != member_id:
                raise FencedInstanceIdError(f"group.instance.id {instance_id!r} now belongs to member {existing}; {member_id} is fenced")
        elif member_id not in group.members:
            raise UnknownMemberIdError(f"member {member_id!r} is not in group {group.group_id} (it was removed, or the group rebalanced without it)")

    def _join_response(self, group: ClassicGroup, member: ClassicGroupMember, correlation_id: int) -> JoinGroupResponse:
        return JoinGroupResponse(
            generation_id=group.generation_id, protocol_type=group.protocol_type, protocol_name=group.protocol_name,
            leader=group.leader_id or "", member_id=member.member_id,
            members=group.join_response_members() if group.leader_id == member.member_id else (),
            correlation_id=correlation_id,
        )

    def _add_member(self, group: ClassicGroup, request: JoinGroupRequest, member_id: str, waiter: Waiter, now_ms: int) -> None:
        member = ClassicGroupMember(
            member_id, request.group_instance_id, request.client_id, request.client_host or f"/{waiter[0]}", request.rebalance_timeout_ms,
            request.session_timeout_ms, request.protocol_type, request.protocols, awaiting_join=waiter, is_new=True)
        if group.is_in(S.PREPARING_REBALANCE) and group.previous_state == S.EMPTY:
            group.new_member_added = True
        group.add(member)
        self._event("group.member_added", group=group.group_id, member=member_id, instance=request.group_instance_id)
        # A new member cannot heartbeat until it has its JoinGroup answer, so it gets a long timeout.
        self._schedule_heartbeat_expiry(group, member, now_ms, NEW_MEMBER_JOIN_TIMEOUT_MS)
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms, f"adding member {member_id}")
        return None

    def _update_member(self, group: ClassicGroup, member: ClassicGroupMember, request: JoinGroupRequest, waiter: Waiter,
                       now_ms: int, reason: str) -> None:
        if member.awaiting_join is not None and member.awaiting_join != waiter:
            # An older JoinGroup of the same member is superseded (Kafka answers it with an error).
            self._reply(member.awaiting_join, JoinGroupResponse, error_code=UnknownMemberIdError.error_code, member_id=member.member_id)
        member.protocols = request.protocols
        member.rebalance_timeout_ms = request.rebalance_timeout_ms
        member.session_timeout_ms = request.session_timeout_ms
        member.awaiting_join = waiter
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms, reason)
        return None

    def _update_static_member(self, group: ClassicGroup, request: JoinGroupRequest, old_id: str, new_id: str, waiter: Waiter,
                              now_ms: int) -> JoinGroupResponse | None:
        """A static member came back (KIP-345): it takes over its old place, usually without a rebalance."""
        self._cancel(f"heartbeat|{group.group_id}|{old_id}")
        old_member = group.members[old_id]
        for parked in (old_member.awaiting_join, old_member.awaiting_sync):
            if parked is not None:
                self._reply(parked, JoinGroupResponse if parked is old_member.awaiting_join else SyncGroupResponse,
                            error_code=FencedInstanceIdError.error_code)
        old_member.awaiting_join = old_member.awaiting_sync = None
        member = group.replace_static_member(request.group_instance_id or "", old_id, new_id)
        self._event("group.static_member_replaced", group=group.group_id, instance=request.group_instance_id, old=old_id, new=new_id)
        self._schedule_heartbeat_expiry(group, member, now_ms, member.session_timeout_ms)
        member.protocols, member.rebalance_timeout_ms = request.protocols, request.rebalance_timeout_ms
        member.session_timeout_ms = request.session_timeout_ms
        if group.is_in(S.STABLE) and group.protocol_name == group.select_protocol():
            self._store_group(group, now_ms)
            is_leader = group.leader_id == new_id
            return JoinGroupResponse(
                generation_id=group.generation_id, protocol_type=group.protocol_type, protocol_name=group.protocol_name,
                leader=group.leader_id or "", member_id=new_id, skip_assignment=is_leader,
                members=group.join_response_members() if is_leader else (), correlation_id=request.correlation_id)
        member.awaiting_join = waiter
        if group.is_in(S.COMPLETING_REBALANCE):
            self._prepare_rebalance(group, now_ms, f"static member {request.group_instance_id} rejoined during CompletingRebalance")
        else:
            self._maybe_prepare_rebalance_or_complete_join(group, now_ms, f"static member {request.group_instance_id} rejoined")
        return None

    def _maybe_prepare_rebalance_or_complete_join(self, group: ClassicGroup, now_ms: int, reason: str) -> None:
        if group.can_rebalance():
            self._prepare_rebalance(group, now_ms, reason)
        elif group.is_in(S.PREPARING_REBALANCE) and group.previous_state != S.EMPTY and group.has_all_members_joined():
            self._complete_join(group, now_ms)

    def _prepare_rebalance(self, group: ClassicGroup, now_ms: int, reason: str) -> None:
        if group.is_in(S.COMPLETING_REBALANCE):
            for member in group.members.values():
                member.assignment = b""
                if self._reply(member.awaiting_sync, SyncGroupResponse, error_code=RebalanceInProgressError.error_code):
                    member.awaiting_sync = None
        group.pending_sync_members.clear()
        self._cancel(f"sync|{group.group_id}")
        initial = group.is_in(S.EMPTY)
        group.transition_to(S.PREPARING_REBALANCE, now_ms)
        self._event("group.preparing_rebalance", group=group.group_id, generation=group.generation_id, reason=reason)
        if initial:
            delay = self.config["group.initial.rebalance.delay.ms"]
            remaining = max(group.rebalance_timeout_ms() - delay, 0)
            self._schedule(f"join|{group.group_id}", now_ms + delay,
                           lambda now: self._try_complete_initial_rebalance(group.group_id, delay, remaining, now))
        elif group.has_all_members_joined():
            self._complete_join(group, now_ms)
        else:
            self._schedule(f"join|{group.group_id}", now_ms + group.rebalance_timeout_ms(),
                           lambda now: self._complete_join_by_id(group.group_id, now))

    def _try_complete_initial_rebalance(self, group_id: str, delay: int, remaining: int, now_ms: int) -> None:
        """group.initial.rebalance.delay.ms: keep waiting while new members keep arriving (up to the rebalance timeout)."""
        group = self.groups.get(group_id)
        if group is None:
            return
        if group.new_member_added and remaining != 0:
            group.new_member_added = False
            new_delay = min(self.config["group.initial.rebalance.delay.ms"], remaining)
            new_remaining = max(remaining - delay, 0)
            self._schedule(f"join|{group_id}", now_ms + new_delay,
                           lambda now: self._try_complete_initial_rebalance(group_id, new_delay, new_remaining, now))
        else:
            self._complete_join(group, now_ms)

    def _complete_join_by_id(self, group_id: str, now_ms: int) -> None:
        group = self.groups.get(group_id)
        if group is not None:
            self._complete_join(group, now_ms)

    def _complete_join(self, group: ClassicGroup, now_ms: int) -> None:
        """The join phase is over: drop dynamic members that did not rejoin, bump the generation, answer everyone."""
        self._cancel(f"join|{group.group_id}")
        for failed in [m for m in group.not_yet_rejoined() if not m.is_static]:
            group.remove(failed.member_id)
            self._cancel(f"heartbeat|{group.group_id}|{failed.member_id}")
            self._event("group.member_removed", group=group.group_id, member=failed.member_id, reason="did not rejoin in time")
        if group.is_in(S.DEAD):
            return
        if not group.maybe_elect_new_joined_leader() and group.members:
            self._schedule(f"join|{group.group_id}", now_ms + group.rebalance_timeout_ms(),
                           lambda now: self._complete_join_by_id(group.group_id, now))
            return
        group.init_next_generation(now_ms)
        self._event("group.generation", group=group.group_id, generation=group.generation_id, state=group.state.value,
                    protocol=group.protocol_name, leader=group.leader_id, members=list(group.members))
        if group.is_in(S.EMPTY):
            self._store_group(group, now_ms)
            return
        for member in group.members.values():
            self._reply(member.awaiting_join, JoinGroupResponse, **_join_fields(group, member))
            member.awaiting_join = None
            member.is_new = False
            self._schedule_heartbeat_expiry(group, member, now_ms, member.session_timeout_ms)
            group.pending_sync_members.add(member.member_id)
        generation = group.generation_id
        self._schedule(f"sync|{group.group_id}", now_ms + group.rebalance_timeout_ms(),
                       lambda now: self._expire_pending_sync(group.group_id, generation, now))

    def _expire_pending_sync(self, group_id: str, generation: int, now_ms: int) -> None:
        group = self.groups.get(group_id)
        if group is None or group.generation_id != generation or not group.is_in(S.COMPLETING_REBALANCE, S.STABLE):
            return
        if group.pending_sync_members:
            for member_id in sorted(group.pending_sync_members):
                group.remove(member_id)
                self._cancel(f"heartbeat|{group_id}|{member_id}")
                self._event("group.member_removed", group=group_id, member=member_id, reason="no SyncGroup in time")
            self._prepare_rebalance(group, now_ms, "members did not send SyncGroup in time")

    def _expire_heartbeat(self, group_id: str, member_id: str, now_ms: int) -> None:
        """session.timeout.ms passed without a heartbeat: the member is considered dead."""
        group = self.groups.get(group_id)
        if group is None or group.is_in(S.DEAD):
            return
        if member_id in group.pending_members:
            group.remove(member_id)
            if group.is_in(S.PREPARING_REBALANCE) and group.has_all_members_joined():
                self._complete_join(group, now_ms)
            return
        member = group.members.get(member_id)
        if member is None or member.has_satisfied_heartbeat():
            return
        self._event("group.session_timeout", group=group_id, member=member_id)
        self._remove_member_and_update(group, member, now_ms, f"session timeout of {member_id}")

    def _remove_member_and_update(self, group: ClassicGroup, member: ClassicGroupMember, now_ms: int, reason: str) -> None:
        self._reply(member.awaiting_join, JoinGroupResponse, error_code=UnknownMemberIdError.error_code, member_id=UNKNOWN_MEMBER_ID)
        member.awaiting_join = None
        group.remove(member.member_id)
        self._cancel(f"heartbeat|{group.group_id}|{member.member_id}")
        self._event("group.member_removed", group=group.group_id, member=member.member_id, reason=reason)
        if group.is_in(S.STABLE, S.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance_or_complete_join(group, now_ms, reason)
        elif group.is_in(S.PREPARING_REBALANCE) and group.has_all_members_joined():
            self._complete_join(group, now_ms)

    # -- SyncGroup ----------------------------------------------------------------------------
    def _sync_group(self, request: SyncGroupRequest, client: str, now_ms: int) -> SyncGroupResponse | None:
        group = self._group_for(request.group_id, create=False)
        if group is None:
            raise UnknownMemberIdError(f"group {request.group_id} does not exist")
        if group.is_in(S.DEAD):
            raise CoordinatorNotAvailableError(f"group {group.group_id} is being unloaded")
        self._validate_member(group, request.member_id, request.group_instance_id)
        if request.generation_id != group.generation_id:
            raise IllegalGenerationError(f"generation {request.generation_id} is not the group's {group.generation_id}")
        if (request.protocol_type is not None and request.protocol_type != group.protocol_type) or (
                request.protocol_name is not None and request.protocol_name != group.protocol_name):
            raise InconsistentGroupProtocolError(f"group {group.group_id} uses {group.protocol_name}, not {request.protocol_name}")
        group.pending_sync_members.discard(request.member_id)
        if not group.pending_sync_members:
            self._cancel(f"sync|{group.group_id}")
        member = group.members[request.member_id]
        if group.is_in(S.EMPTY):
            raise UnknownMemberIdError(f"group {group.group_id} is empty")
        if group.is_in(S.PREPARING_REBALANCE):
            raise RebalanceInProgressError(f"group {group.group_id} is rebalancing: rejoin")
        if group.is_in(S.STABLE):
            return SyncGroupResponse(protocol_type=group.protocol_type, protocol_name=group.protocol_name,
                                     assignment=member.assignment, correlation_id=request.correlation_id)
        member.awaiting_sync = (client, request.correlation_id)
        if request.member_id == group.leader_id:
            assignments = {a.member_id: a.assignment for a in request.assignments}
            for each in group.members.values():
                each.assignment = assignments.get(each.member_id, b"")
            self._store_group(group, now_ms)
            group.transition_to(S.STABLE, now_ms)
            self._event("group.stable", group=group.group_id, generation=group.generation_id)
            for each in group.members.values():
                if self._reply(each.awaiting_sync, SyncGroupResponse, protocol_type=group.protocol_type,
                               protocol_name=group.protocol_name, assignment=each.assignment):
                    each.awaiting_sync = None
                    self._schedule_heartbeat_expiry(group, each, now_ms, each.session_timeout_ms)
        return None

    # -- Heartbeat and LeaveGroup -------------------------------------------------------------
    def _heartbeat(self, request: HeartbeatRequest, client: str, now_ms: int) -> HeartbeatResponse:
        group = self._group_for(request.group_id, create=False)
        if group is None:
            raise UnknownMemberIdError(f"group {request.group_id} not found")
        if group.is_in(S.DEAD):
            raise CoordinatorNotAvailableError(f"group {group.group_id} is being unloaded")
        self._validate_member(group, request.member_id, request.group_instance_id)
        if request.generation_id != group.generation_id:
            raise IllegalGenerationError(f"generation {request.generation_id} is not the group's {group.generation_id}")
        if group.is_in(S.EMPTY):
            raise UnknownMemberIdError(f"group {group.group_id} is empty")
        self._schedule_heartbeat_expiry(group, group.members[request.member_id], now_ms, group.members[request.member_id].session_timeout_ms)
        if group.is_in(S.PREPARING_REBALANCE):
            raise RebalanceInProgressError(f"group {group.group_id} is rebalancing: rejoin")
        return HeartbeatResponse(correlation_id=request.correlation_id)

    def _leave_group(self, request: LeaveGroupRequest, client: str, now_ms: int) -> LeaveGroupResponse:
        group = self._group_for(request.group_id, create=False)
        if group is None:
            raise UnknownMemberIdError(f"group {request.group_id} not found")
        for leaving in request.members:
            member_id = leaving.member_id
            if leaving.group_instance_id is not None and member_id == UNKNOWN_MEMBER_ID:
                member_id = group.static_members.get(leaving.group_instance_id, "")
            if member_id in group.pending_members:
                group.remove(member_id)
                self._cancel(f"heartbeat|{group.group_id}|{member_id}")
                continue
            self._validate_member(group, member_id, leaving.group_instance_id)
            self._remove_member_and_update(group, group.members[member_id], now_ms, f"member {member_id} left the group")
        return LeaveGroupResponse(correlation_id=request.correlation_id)

    # -- offsets ------------------------------------------------------------------------------
    def _offset_commit(self, request: OffsetCommitRequest, client: str, now_ms: int) -> OffsetCommitResponse:
        group = self._group_for(request.group_id, create=request.generation_id < 0)
        if group is None:
            raise IllegalGenerationError(f"group {request.group_id} does not exist but generation {request.generation_id} was given")
        self._validate_offset_commit(group, request)
        results, records = [], []
        limit = self.config["offset.metadata.max.bytes"]
        for p in request.partitions:
            metadata = p.committed_metadata or ""
            if len(metadata.encode("utf-8")) > limit:
                results.append(OffsetCommitPartitionResponse(p.topic, p.partition, OffsetMetadataTooLargeError.error_code))
                continue
            value = OffsetCommitValue(p.committed_offset, p.committed_leader_epoch, metadata, now_ms)
            records.append((encode_key(OffsetCommitKey(group.group_id, p.topic, p.partition)), encode_value(value)))
            results.append(OffsetCommitPartitionResponse(p.topic, p.partition))
        if records:
            self._write(group.group_id, records, now_ms)
            for p in request.partitions:
                if len((p.committed_metadata or "").encode("utf-8")) <= limit:
                    self.offsets.setdefault(group.group_id, {})[(p.topic, p.partition)] = OffsetAndMetadata(
                        p.committed_offset, p.committed_leader_epoch, p.committed_metadata or "", now_ms)
            self._event("group.offset_commit", group=group.group_id, generation=request.generation_id,
                        offsets={f"{p.topic}-{p.partition}": p.committed_offset for p in request.partitions})
        return OffsetCommitResponse(tuple(results), correlation_id=request.correlation_id)

    def _txn_offset_commit(self, request: TxnOffsetCommitRequest, client: str, now_ms: int) -> TxnOffsetCommitResponse:
        """Offsets committed as part of a producer's transaction: written now, counted at its COMMIT marker."""
        group = self._group_for(request.group_id, create=True)
        assert group is not None
        if group.is_in(S.DEAD):
            raise CoordinatorNotAvailableError(f"group {group.group_id} is being unloaded")
        if request.generation_id >= 0 or request.member_id or request.group_instance_id is not None:
            # KIP-447: the consumer's group metadata fences a zombie that lost its partitions.
            self._validate_member(group, request.member_id, request.group_instance_id)
            if request.generation_id != group.generation_id:
                raise IllegalGenerationError(f"transactional commit from generation {request.generation_id}, group is at {group.generation_id}")
        records = [(encode_key(OffsetCommitKey(group.group_id, p.topic, p.partition)),
                    encode_value(OffsetCommitValue(p.committed_offset, p.committed_leader_epoch, p.committed_metadata or "", now_ms)))
                   for p in request.partitions]
        self._write(group.group_id, records, now_ms, producer_id=request.producer_id, transactional=True)
        pending = self.pending_transactional_offsets.setdefault(request.producer_id, {}).setdefault(group.group_id, {})
        for p in request.partitions:
            pending[(p.topic, p.partition)] = OffsetAndMetadata(p.committed_offset, p.committed_leader_epoch, p.committed_metadata or "", now_ms)
        self._event("group.txn_offset_commit", group=group.group_id, producer_id=request.producer_id,
                    offsets={f"{p.topic}-{p.partition}": p.committed_offset for p in request.partitions})
        return TxnOffsetCommitResponse(tuple(OffsetCommitPartitionResponse(p.topic, p.partition) for p in request.partitions),
                                       correlation_id=request.correlation_id)

    def on_transaction_marker(self, partition: int, producer_id: int, committed: bool, now_ms: int) -> None:
        """A COMMIT marker makes the producer's transactional offsets the group's; ABORT drops them."""
        groups = self.pending_transactional_offsets.get(producer_id, {})
        for group_id in sorted(g for g in groups if self.partition_for(g) == partition):
            offsets = groups.pop(group_id)
            if committed:
                self.offsets.setdefault(group_id, {}).update(offsets)
            self._event("group.txn_offsets_" + ("committed" if committed else "aborted"), group=group_id, producer_id=producer_id,
                        offsets={f"{t}-{p}": o.offset for (t, p), o in sorted(offsets.items())})
        if not groups:
            self.pending_transactional_offsets.pop(producer_id, None)

    def _validate_offset_commit(self, group: ClassicGroup, request: OffsetCommitRequest) -> None:
        """ClassicGroup#validateOffsetCommit."""
        if group.is_in(S.DEAD):
            raise CoordinatorNotAvailableError(f"group {group.group_id} is being unloaded")
        if request.generation_id < 0 and group.is_in(S.EMPTY):
            return  # a consumer using assign() (or the admin client): allowed while nobody is in the group
        if request.generation_id >= 0 or request.member_id or request.group_instance_id is not None:
            self._validate_member(group, request.member_id, request.group_instance_id)
            if request.generation_id != group.generation_id:
                raise IllegalGenerationError(
                    f"commit from generation {request.generation_id}, but group {group.group_id} is at generation "
                    f"{group.generation_id}: the member missed a rebalance and may no longer own these partitions")
        elif not group.is_in(S.EMPTY):
            raise UnknownMemberIdError(f"group {group.group_id} has members; a commit without member id is only allowed when it is empty")
        if group.is_in(S.COMPLETING_REBALANCE):
            raise RebalanceInProgressError(f"group {group.group_id} is completing a rebalance")

    def _offset_fetch(self, request: OffsetFetchRequest, client: str, now_ms: int) -> OffsetFetchResponse:
        self._group_for(request.group_id, create=False)
        committed = self.offsets.get(request.group_id, {})
        wanted = sorted(committed) if request.partitions is None else list(request.partitions)
        partitions = []
        unstable = {tp for groups in self.pending_transactional_offsets.values() for tp in groups.get(request.group_id, {})}
        for topic, partition in wanted:
            entry = committed.get((topic, partition))
            if request.require_stable and (topic, partition) in unstable:
                partitions.append(OffsetFetchPartitionResponse(topic, partition, error_code=UnstableOffsetCommitError.error_code))
            elif entry is None:
                partitions.append(OffsetFetchPartitionResponse(topic, partition))
            else:
                partitions.append(OffsetFetchPartitionResponse(topic, partition, entry.offset, entry.leader_epoch, entry.metadata))
        return OffsetFetchResponse(tuple(partitions), correlation_id=request.correlation_id)

    def _expire_offsets(self, now_ms: int) -> None:
        """KIP-211: an empty group's offsets expire offsets.retention.minutes after its last commit."""
        retention_ms = self.config["offsets.retention.minutes"] * 60_000
        for group_id in sorted(self.offsets):
            group = self.groups.get(group_id)
            if group is not None and not group.is_in(S.EMPTY):
                continue
            expired = sorted(tp for tp, o in self.offsets[group_id].items() if now_ms - o.commit_timestamp_ms >= retention_ms)
            if not expired:
                continue
            self._write(group_id, [(encode_key(OffsetCommitKey(group_id, t, p)), None) for t, p in expired], now_ms)
            for tp in expired:
                del self.offsets[group_id][tp]
            self._event("group.offsets_expired", group=group_id, partitions=[f"{t}-{p}" for t, p in expired])
            if not self.offsets[group_id] and group is not None and not group.members:
                del self.offsets[group_id]
                del self.groups[group_id]
                self._write(group_id, [(encode_key(GroupMetadataKey(group_id)), None)], now_ms)

    def delete_groups(self, group_ids: list[str], now_ms: int) -> list[tuple[str, int]]:
        """DeleteGroups (GroupCoordinator.deleteGroups): an empty group and its committed offsets go, as
        tombstones in __consumer_offsets. Returns (group id, error code) per group: NON_EMPTY_GROUP while
        it has members, GROUP_ID_NOT_FOUND for a group nobody knows."""
        results = []
        for group_id in group_ids:
            try:
                group = self._group_for(group_id, create=False)
            except KafkaError as error:
                results.append((group_id, error.error_code))
                continue
            if group is None and group_id not in self.offsets:
                results.append((group_id, GroupIdNotFoundError.error_code))
                continue
            if group is not None and group.members:
                results.append((group_id, NonEmptyGroupError.error_code))
                continue
            tombstones = [(encode_key(OffsetCommitKey(group_id, t, p)), None) for t, p in sorted(self.offsets.get(group_id, {}))]
            self._write(group_id, tombstones + [(encode_key(GroupMetadataKey(group_id)), None)], now_ms)
            self.offsets.pop(group_id, None)
            self.groups.pop(group_id, None)
            self._event("group.deleted", group=group_id)
            results.append((group_id, 0))
        return results

    # -- persistence --------------------------------------------------------------------------
    def _write(self, group_id: str, records: list[tuple[bytes, bytes | None]], now_ms: int,
               producer_id: int = -1, transactional: bool = False) -> None:
        """Append to the group's __consumer_offsets partition; Kafka maps append errors to coordinator errors."""
        try:
            if transactional:
                self._append(self.partition_for(group_id), records, now_ms, producer_id=producer_id, transactional=True)
            else:
                self._append(self.partition_for(group_id), records, now_ms)
        except KafkaError as error:
            if error.error_name in ("NOT_LEADER_OR_FOLLOWER", "KAFKA_STORAGE_ERROR"):
                raise NotCoordinatorError(str(error)) from None
            raise CoordinatorNotAvailableError(str(error)) from None

    def _store_group(self, group: ClassicGroup, now_ms: int) -> None:
        members = tuple(
            GroupMemberMetadata(m.member_id, m.group_instance_id, m.client_id, m.client_host, m.rebalance_timeout_ms,
                                m.session_timeout_ms, m.metadata(group.protocol_name) if group.protocol_name else b"", m.assignment)
            for m in group.members.values()
        )
        value = GroupMetadataValue(group.protocol_type or "", group.generation_id, group.protocol_name, group.leader_id,
                                   group.state_timestamp_ms, members)
        self._write(group.group_id, [(encode_key(GroupMetadataKey(group.group_id)), encode_value(value))], now_ms)

    # -- admin --------------------------------------------------------------------------------
    def _describe_groups(self, request: DescribeGroupsRequest, client: str, now_ms: int) -> DescribeGroupsResponse:
        described = []
        for group_id in request.groups:
            try:
                group = self._group_for(group_id, create=False)
            except KafkaError as error:
                described.append(DescribedGroup(group_id, error.error_code))
                continue
            if group is None:
                described.append(DescribedGroup(group_id, group_state="Dead"))
                continue
            stable = group.is_in(S.STABLE)
            members = tuple(
                DescribedGroupMember(m.member_id, m.group_instance_id, m.client_id,
                                     m.metadata(group.protocol_name) if stable and group.protocol_name else b"",
                                     m.assignment if stable else b"", m.client_host)
                for m in group.members.values()
            )
            described.append(DescribedGroup(group_id, 0, group.state.value, group.protocol_type or "", group.protocol_name or "",
                                            members, group.generation_id, group.leader_id or ""))
        return DescribeGroupsResponse(tuple(described), correlation_id=request.correlation_id)

    def _list_groups(self, request: ListGroupsRequest, client: str, now_ms: int) -> ListGroupsResponse:
        listed = [ListedGroup(g.group_id, g.protocol_type or "", g.state.value) for g in self.groups.values()
                  if not request.states_filter or g.state.value in request.states_filter]
        return ListGroupsResponse(tuple(sorted(listed, key=lambda g: g.group_id)), correlation_id=request.correlation_id)


def _join_fields(group: ClassicGroup, member: ClassicGroupMember) -> dict[str, Any]:
    return {
        "generation_id": group.generation_id, "protocol_type": group.protocol_type, "protocol_name": group.protocol_name,
        "leader": group.leader_id or "", "member_id": member.member_id,
        "members": group.join_response_members() if group.leader_id == member.member_id else (),
    }


def error_response(request: Any, error_code: int, message: str) -> Any:
    """The response type of a group request (TxnOffsetCommit included), carrying an error."""
    if isinstance(request, TxnOffsetCommitRequest):
        return TxnOffsetCommitResponse(tuple(OffsetCommitPartitionResponse(p.topic, p.partition, error_code) for p in request.partitions),
                                       error_code, message, request.correlation_id)
    response_type = getattr(group_messages, type(request).__name__.replace("Request", "Response"))
    fields: dict[str, Any] = {"error_code": error_code, "error_message": message, "correlation_id": request.correlation_id}
    if isinstance(request, JoinGroupRequest):
        fields["member_id"] = request.member_id
    if isinstance(request, OffsetCommitRequest):
        fields["partitions"] = tuple(OffsetCommitPartitionResponse(p.topic, p.partition, error_code) for p in request.partitions)
    return response_type(**fields)
