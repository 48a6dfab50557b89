"""The group coordinator as a state machine: requests and time in, responses out (no simulator)."""

from __future__ import annotations

import pytest

from kafkalab.broker import Broker
from kafkalab.broker.messages import PartitionRecord, RegisterBrokerRecord, TopicRecord
from kafkalab.config import BrokerConfig
from kafkalab.coordinator.messages import (
    FindCoordinatorRequest,
    HeartbeatRequest,
    JoinGroupProtocol,
    JoinGroupRequest,
    LeaveGroupMember,
    LeaveGroupRequest,
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetFetchRequest,
    SyncGroupAssignment,
    SyncGroupRequest,
    DescribeGroupsRequest,
)
from kafkalab.coordinator.offsets_topic import (
    GroupMetadataKey,
    OffsetCommitKey,
    OffsetCommitValue,
    decode_key,
    decode_value,
    encode_key,
    encode_value,
    java_string_hash,
    kafka_abs,
    partition_for,
)
from kafkalab.errors import (
    CoordinatorNotAvailableError,
    FencedInstanceIdError,
    IllegalGenerationError,
    InconsistentGroupProtocolError,
    InvalidSessionTimeoutError,
    MemberIdRequiredError,
    NotCoordinatorError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)

PROTOCOLS = (JoinGroupProtocol("range", b"subscription"),)
SESSION = 10_000
REBALANCE = 30_000


def coordinator_broker(partitions: int = 3) -> Broker:
    broker = Broker(0, BrokerConfig({"offsets.topic.num.partitions": partitions, "offsets.topic.replication.factor": 1}))
    broker.apply_metadata([RegisterBrokerRecord(0), TopicRecord("__consumer_offsets", "id")]
                          + [PartitionRecord("__consumer_offsets", p, (0,), (0,), 0) for p in range(partitions)], 0)
    return broker


def join(broker: Broker, member: str, now: int, client: str, instance: str | None = None, cid: int = 1, protocols=PROTOCOLS):
    return broker.handle(JoinGroupRequest("g", SESSION, REBALANCE, member, "consumer", protocols, instance, client, None, cid), now, client)


def join_new_member(broker: Broker, client: str, now: int) -> str:
    """KIP-394: the first JoinGroup only hands out a member id."""
    response = join(broker, "", now, client)
    assert response.error_code == MemberIdRequiredError.error_code and response.member_id.startswith(client + "-")
    assert join(broker, response.member_id, now, client) is None  # parked until the rebalance completes
    return response.member_id


def test_java_string_hash_and_kafka_abs() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)  # the classic Integer.MIN_VALUE hash
    assert kafka_abs(-(2**31)) == 0 and kafka_abs(-5) == 5
    assert partition_for("polygenelubricants", 50) == 0


def test_offset_commit_records_round_trip_in_kafkas_format() -> None:
    key = OffsetCommitKey("g", "orders", 3)
    value = OffsetCommitValue(42, -1, "", 1000)
    assert encode_key(key)[:2] == b"\x00\x01"  # key version 1
    assert encode_value(value)[:2] == b"\x00\x03"  # value version 3
    assert decode_key(encode_key(key)) == key
    assert decode_value(key, encode_value(value)) == value
    assert decode_value(key, None) is None  # a tombstone
    assert decode_key(encode_key(GroupMetadataKey("g"))) == GroupMetadataKey("g")


def test_find_coordinator_asks_for_the_offsets_topic_then_answers_with_the_leader() -> None:
    broker = Broker(0, BrokerConfig({"offsets.topic.num.partitions": 3}))
    broker.apply_metadata([RegisterBrokerRecord(0)], 0)
    first = broker.handle(FindCoordinatorRequest("g"), 0)
    assert first.error_code == CoordinatorNotAvailableError.error_code
    [creation] = broker.take_effects()
    assert (creation.name, creation.num_partitions, creation.replication_factor) == ("__consumer_offsets", 3, 3)
    assert ("cleanup.policy", "compact") in creation.configs
    broker.handle(FindCoordinatorRequest("g"), 0)
    assert broker.take_effects() == []  # asked once
    broker.on_create_topic_result("__consumer_offsets", 38, "INVALID_REPLICATION_FACTOR: only 1 broker")
    broker.handle(FindCoordinatorRequest("g"), 0)
    assert len(broker.take_effects()) == 1  # asked again after a failure


def test_a_group_forms_after_the_initial_rebalance_delay() -> None:
    broker = coordinator_broker()
    a = join_new_member(broker, "a", 0)
    b = join_new_member(broker, "b", 1000)
    broker.tick_requests(3000)
    assert broker.take_responses() == []  # b joined during the delay: it is extended by another 3 s
    broker.tick_requests(6000)
    responses = dict(broker.take_responses())
    assert responses["a"].generation_id == responses["b"].generation_id == 1
    assert responses["a"].leader == a and len(responses["a"].members) == 2 and responses["b"].members == ()
    assert broker.handle(SyncGroupRequest("g", 1, b, correlation_id=5), 6001, "b") is None  # waits for the leader
    assert broker.handle(SyncGroupRequest("g", 1, a, (SyncGroupAssignment(a, b"A"), SyncGroupAssignment(b, b"B")), correlation_id=6), 6002, "a") is None
    synced = dict(broker.take_responses())
    assert synced["a"].assignment == b"A" and synced["b"].assignment == b"B"
    assert broker.handle(HeartbeatRequest("g", 1, a), 6003).error_code == 0
    described = broker.handle(DescribeGroupsRequest(("g",)), 6004).groups[0]
    assert described.group_state == "Stable" and [m.member_id for m in described.members] == [a, b]


def stable_group(broker: Broker) -> tuple[str, str]:
    a = join_new_member(broker, "a", 0)
    b = join_new_member(broker, "b", 0)
    broker.tick_requests(6000)  # b arrived during the initial delay, which was extended once
    broker.take_responses()
    broker.handle(SyncGroupRequest("g", 1, b), 3000, "b")
    broker.handle(SyncGroupRequest("g", 1, a, (SyncGroupAssignment(a, b"A"), SyncGroupAssignment(b, b"B"))), 3000, "a")
    broker.take_responses()
    return a, b


def test_a_member_without_heartbeats_is_removed_after_the_session_timeout() -> None:
    broker = coordinator_broker()
    a, b = stable_group(broker)
    for now in range(7000, 16_001, 3000):
        assert broker.handle(HeartbeatRequest("g", 1, a), now).error_code == 0
    broker.tick_requests(16_001)  # b's session (10 s from its join at 6 s) has expired
    kinds = [kind for kind, _ in broker.drain_events()]
    assert "group.session_timeout" in kinds and "group.preparing_rebalance" in kinds
    assert broker.handle(HeartbeatRequest("g", 1, a), 16_002).error_code == RebalanceInProgressError.error_code
    assert join(broker, a, 16_003, "a") is None
    responses = dict(broker.take_responses())
    assert responses["a"].generation_id == 2 and [m.member_id for m in responses["a"].members] == [a]
    assert broker.handle(HeartbeatRequest("g", 1, b), 16_004).error_code == UnknownMemberIdError.error_code


def test_commits_from_an_old_generation_are_fenced() -> None:
    broker = coordinator_broker()
    a, b = stable_group(broker)
    ok = broker.handle(OffsetCommitRequest("g", 1, a, (OffsetCommitPartition("t", 0, 5),)), 3001)
    assert ok.partitions[0].error_code == 0
    broker.handle(LeaveGroupRequest("g", (LeaveGroupMember(b),)), 3002)
    assert join(broker, a, 3003, "a") is None  # a alone: the rebalance completes at once
    broker.take_responses()
    early = broker.handle(OffsetCommitRequest("g", 2, a, (OffsetCommitPartition("t", 0, 9),)), 3004)
    assert early.partitions[0].error_code == RebalanceInProgressError.error_code  # CompletingRebalance: sync first
    broker.handle(SyncGroupRequest("g", 2, a, (SyncGroupAssignment(a, b"A"),)), 3005, "a")
    stale = broker.handle(OffsetCommitRequest("g", 1, a, (OffsetCommitPartition("t", 0, 9),)), 3006)
    assert stale.partitions[0].error_code == IllegalGenerationError.error_code
    fetched = broker.handle(OffsetFetchRequest("g", (("t", 0), ("t", 1))), 3007).partitions
    assert [(p.committed_offset) for p in fetched] == [5, -1]


def test_offsets_and_groups_survive_a_coordinator_restart_by_replaying_the_log() -> None:
    broker = coordinator_broker()
    a, b = stable_group(broker)
    broker.handle(OffsetCommitRequest("g", 1, a, (OffsetCommitPartition("t", 0, 7), OffsetCommitPartition("t", 1, 3))), 3001)
    broker.group_coordinator.forget_everything()  # the process died; the log did not
    for partition in range(3):
        broker.load_coordinator_partition("__consumer_offsets", partition, 5000)
    fetched = broker.handle(OffsetFetchRequest("g", (("t", 0), ("t", 1))), 5001).partitions
    assert [p.committed_offset for p in fetched] == [7, 3]
    group = broker.group_coordinator.groups["g"]
    assert group.generation_id == 1 and list(group.members) == [a, b] and group.members[b].assignment == b"B"
    assert broker.handle(HeartbeatRequest("g", 1, a), 5002).error_code == 0


def test_a_group_on_another_brokers_partition_gets_not_coordinator() -> None:
    broker = Broker(0, BrokerConfig({"offsets.topic.num.partitions": 2}))
    broker.apply_metadata([RegisterBrokerRecord(0), RegisterBrokerRecord(1), TopicRecord("__consumer_offsets", "id"),
                           PartitionRecord("__consumer_offsets", 0, (0,), (0,), 0), PartitionRecord("__consumer_offsets", 1, (1,), (1,), 1)], 0)
    group = next(g for g in (f"group-{i}" for i in range(20)) if partition_for(g, 2) == 1)
    response = broker.handle(JoinGroupRequest(group, SESSION, REBALANCE, "", "consumer", PROTOCOLS), 0, "c")
    assert response.error_code == NotCoordinatorError.error_code
    assert broker.handle(FindCoordinatorRequest(group), 0).node_id == 1


def test_bad_joins_get_clear_errors() -> None:
    broker = coordinator_broker()
    too_short = broker.handle(JoinGroupRequest("g", 10, REBALANCE, "", "consumer", PROTOCOLS), 0, "c")
    assert too_short.error_code == InvalidSessionTimeoutError.error_code and "group.min.session.timeout.ms" in too_short.error_message
    stable_group(broker)
    other = join(broker, "", 4000, "c", protocols=(JoinGroupProtocol("roundrobin", b""),))
    assert other.error_code == InconsistentGroupProtocolError.error_code


def test_a_static_member_comes_back_without_a_rebalance_and_fences_its_old_self() -> None:
    broker = coordinator_broker()
    first = join(broker, "", 0, "a", instance="host-a")
    assert first is None  # static members join directly (no MEMBER_ID_REQUIRED round)
    broker.tick_requests(3000)
    [(_, joined)] = broker.take_responses()
    old_id = joined.member_id
    assert old_id.startswith("host-a-")
    broker.handle(SyncGroupRequest("g", 1, old_id, (SyncGroupAssignment(old_id, b"A"),), "host-a"), 3000, "a")
    broker.take_responses()
    again = join(broker, "", 5000, "a2", instance="host-a")  # restarted: unknown member id, same instance id
    assert again.error_code == 0 and again.generation_id == 1 and again.member_id != old_id
    assert again.skip_assignment  # the leader keeps the current assignment (KIP-814)
    assert broker.handle(HeartbeatRequest("g", 1, old_id, "host-a"), 5001).error_code == FencedInstanceIdError.error_code
    assert broker.handle(HeartbeatRequest("g", 1, again.member_id, "host-a"), 5002).error_code == 0
    assert broker.group_coordinator.groups["g"].generation_id == 1


@pytest.mark.parametrize("state_before_leave", ["stable"])
def test_the_last_member_leaving_empties_the_group_but_keeps_offsets(state_before_leave: str) -> None:
    broker = coordinator_broker()
    a, b = stable_group(broker)
    broker.handle(OffsetCommitRequest("g", 1, a, (OffsetCommitPartition("t", 0, 11),)), 3001)
    broker.handle(LeaveGroupRequest("g", (LeaveGroupMember(a), LeaveGroupMember(b))), 3002)
    group = broker.group_coordinator.groups["g"]
    assert group.state.value == "Empty" and group.generation_id == 2
    assert broker.handle(OffsetFetchRequest("g", (("t", 0),)), 3003).partitions[0].committed_offset == 11
    # with no members, a commit outside any generation (assign() users, admin tools) is allowed
    assert broker.handle(OffsetCommitRequest("g", -1, "", (OffsetCommitPartition("t", 0, 12),)), 3004).partitions[0].error_code == 0


def test_empty_groups_offsets_expire_after_offsets_retention_minutes() -> None:
    broker = coordinator_broker()
    broker.handle(OffsetCommitRequest("g", -1, "", (OffsetCommitPartition("t", 0, 12),)), 0)
    week = 7 * 24 * 60 * 60 * 1000
    broker.tick_requests(week - 600_000)
    assert broker.handle(OffsetFetchRequest("g", (("t", 0),)), 1).partitions[0].committed_offset == 12
    broker.tick_requests(week + 600_000)
    assert broker.handle(OffsetFetchRequest("g", (("t", 0),)), 2).partitions[0].committed_offset == -1
    assert "g" not in broker.group_coordinator.groups
