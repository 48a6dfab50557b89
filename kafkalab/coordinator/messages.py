"""The group APIs of the classic consumer group protocol, named after Kafka's messages and fields.

A consumer finds its group's coordinator (FindCoordinator), joins (JoinGroup, then SyncGroup to
receive its partitions), stays in the group by heartbeating (Heartbeat), leaves (LeaveGroup), and
stores and reads its positions (OffsetCommit, OffsetFetch). DescribeGroups and ListGroups are what
``kafka-consumer-groups.sh`` uses.

Like the other requests they are frozen dataclasses; errors travel as ``error_code``.

Kafka: clients/src/main/resources/common/message/{FindCoordinator,JoinGroup,SyncGroup,Heartbeat,
LeaveGroup,OffsetCommit,OffsetFetch,DescribeGroups,ListGroups}{Request,Response}.json.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_GENERATION_ID = -1  # JoinGroupRequest.UNKNOWN_MEMBER_ID / OffsetCommitRequest.DEFAULT_GENERATION_ID
UNKNOWN_MEMBER_ID = ""
COORDINATOR_KEY_GROUP = 0  # FindCoordinatorRequest.CoordinatorType.GROUP
COORDINATOR_KEY_TRANSACTION = 1


@dataclass(frozen=True)
class FindCoordinatorRequest:
    key: str  # the group id (or transactional id)
    key_type: int = COORDINATOR_KEY_GROUP
    correlation_id: int = 0


@dataclass(frozen=True)
class FindCoordinatorResponse:
    error_code: int = 0
    error_message: str | None = None
    node_id: int = -1
    correlation_id: int = 0


@dataclass(frozen=True)
class JoinGroupProtocol:
    """One assignor the member supports, with its subscription (ConsumerProtocolSubscription bytes)."""

    name: str
    metadata: bytes


@dataclass(frozen=True)
class JoinGroupRequest:
    group_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    member_id: str
    protocol_type: str
    protocols: tuple[JoinGroupProtocol, ...]
    group_instance_id: str | None = None
    client_id: str = ""
    reason: str | None = None  # KIP-800: why the member (re)joins, logged by the coordinator
    correlation_id: int = 0
    require_member_id: bool = True  # KIP-394 (JoinGroup v4+): a new member first gets MEMBER_ID_REQUIRED
    client_host: str | None = None  # the member's address as the coordinator saw it (DescribeGroups' client_host)


@dataclass(frozen=True)
class JoinGroupResponseMember:
    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(frozen=True)
class JoinGroupResponse:
    error_code: int = 0
    error_message: str | None = None
    generation_id: int = UNKNOWN_GENERATION_ID
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    skip_assignment: bool = False  # KIP-814: a static leader rejoining without a rebalance
    member_id: str = ""
    members: tuple[JoinGroupResponseMember, ...] = ()  # only the leader receives them
    correlation_id: int = 0


@dataclass(frozen=True)
class SyncGroupAssignment:
    member_id: str
    assignment: bytes  # ConsumerProtocolAssignment bytes


@dataclass(frozen=True)
class SyncGroupRequest:
    group_id: str
    generation_id: int
    member_id: str
    assignments: tuple[SyncGroupAssignment, ...] = ()  # only the leader sends them
    group_instance_id: str | None = None
    protocol_type: str | None = None
    protocol_name: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class SyncGroupResponse:
    error_code: int = 0
    error_message: str | None = None
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""
    correlation_id: int = 0


@dataclass(frozen=True)
class HeartbeatRequest:
    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class HeartbeatResponse:
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class LeaveGroupMember:
    member_id: str
    group_instance_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LeaveGroupRequest:
    group_id: str
    members: tuple[LeaveGroupMember, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class LeaveGroupResponse:
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetCommitPartition:
    topic: str
    partition: int
    committed_offset: int
    committed_leader_epoch: int = -1
    committed_metadata: str | None = ""


@dataclass(frozen=True)
class OffsetCommitRequest:
    group_id: str
    generation_id: int  # -1 with member_id "": a commit from outside any generation (assign() users)
    member_id: str
    partitions: tuple[OffsetCommitPartition, ...]
    group_instance_id: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetCommitPartitionResponse:
    topic: str
    partition: int
    error_code: int = 0


@dataclass(frozen=True)
class OffsetCommitResponse:
    partitions: tuple[OffsetCommitPartitionResponse, ...] = ()
    error_code: int = 0  # kafkalab: a request-level error copied to every partition by the client
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetFetchRequest:
    group_id: str
    partitions: tuple[tuple[str, int], ...] | None = None  # None: every partition the group committed
    require_stable: bool = False  # KIP-447: wait for pending transactional commits
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetFetchPartitionResponse:
    topic: str
    partition: int
    committed_offset: int = -1  # -1: nothing committed
    committed_leader_epoch: int = -1
    metadata: str | None = ""
    error_code: int = 0


@dataclass(frozen=True)
class OffsetFetchResponse:
    partitions: tuple[OffsetFetchPartitionResponse, ...] = ()
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class DescribeGroupsRequest:
    groups: tuple[str, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class DescribedGroupMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    member_metadata: bytes
    member_assignment: bytes
    client_host: str = ""


@dataclass(frozen=True)
class DescribedGroup:
    group_id: str
    error_code: int = 0
    group_state: str = "Dead"
    protocol_type: str = ""
    protocol_data: str = ""  # the chosen assignor
    members: tuple[DescribedGroupMember, ...] = ()
    generation_id: int = -1  # kafkalab: handy for the course (Kafka's DescribeGroups omits it)
    leader: str = ""


@dataclass(frozen=True)
class DescribeGroupsResponse:
    groups: tuple[DescribedGroup, ...] = ()
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class ListGroupsRequest:
    states_filter: tuple[str, ...] = ()
    correlation_id: int = 0


@dataclass(frozen=True)
class ListedGroup:
    group_id: str
    protocol_type: str
    group_state: str


@dataclass(frozen=True)
class ListGroupsResponse:
    groups: tuple[ListedGroup, ...] = ()
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


GROUP_REQUESTS = (
    JoinGroupRequest, SyncGroupRequest, HeartbeatRequest, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest,
    DescribeGroupsRequest, ListGroupsRequest,
)
