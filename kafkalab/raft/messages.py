"""The four RPCs of KRaft's Raft (KIP-595), as frozen dataclasses with Kafka's field names.

Every response carries the responder's ``leader_epoch`` and ``leader_id`` (-1 when unknown), so a
node that is behind learns the newer epoch and its leader from any answer. Errors are Kafka's names:
``FENCED_LEADER_EPOCH`` (the request's epoch is older than the receiver's), ``UNKNOWN_LEADER_EPOCH``
(newer than the receiver knows), ``NOT_LEADER_OR_FOLLOWER`` (a fetch sent to a node that does not
lead), ``INCONSISTENT_VOTER_SET`` (the sender is not a voter).

The differences with Raft's paper, in Kafka's words: AppendEntries is replaced by followers
*pulling* with Fetch (``fetch_offset`` + ``last_fetched_epoch``; a mismatch is answered with a
``diverging_epoch`` to truncate to), a new leader announces itself with BeginQuorumEpoch, and a
leader that resigns tells the others with EndQuorumEpoch (with its preferred successors).

A fifth, FetchSnapshot (KIP-630), serves a replica that needs entries the leader has already
replaced by a snapshot.

Kafka: clients/src/main/resources/common/message/{Vote,BeginQuorumEpoch,EndQuorumEpoch,Fetch,
FetchSnapshot}Request/Response.json; KIP-595, KIP-996 (``pre_vote``), KIP-630.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.raft.log import LogEntry, Snapshot

NO_LEADER = -1


@dataclass(frozen=True)
class VoteRequest:
    candidate_epoch: int  # the epoch the candidate runs in (a pre-vote: the epoch it would run in)
    candidate_id: int
    last_offset_epoch: int  # the epoch of the candidate's last log entry
    last_offset: int  # the candidate's log end offset
    pre_vote: bool = False  # KIP-996: asks "would you vote for me?" without bumping anyone's epoch


@dataclass(frozen=True)
class VoteResponse:
    error: str
    leader_epoch: int
    leader_id: int
    vote_granted: bool
    pre_vote: bool = False


@dataclass(frozen=True)
class BeginQuorumEpochRequest:
    leader_epoch: int
    leader_id: int


@dataclass(frozen=True)
class BeginQuorumEpochResponse:
    error: str
    leader_epoch: int
    leader_id: int


@dataclass(frozen=True)
class EndQuorumEpochRequest:
    leader_epoch: int
    leader_id: int
    preferred_successors: tuple[int, ...]  # voters by how far their logs reach, best first


@dataclass(frozen=True)
class EndQuorumEpochResponse:
    error: str
    leader_epoch: int
    leader_id: int


@dataclass(frozen=True)
class FetchRequest:
    replica_id: int
    current_leader_epoch: int
    fetch_offset: int
    last_fetched_epoch: int
    # KIP-1166 (Kafka 4.1): the high watermark the fetching replica knows (-1: none yet), so the
    # leader answers at once instead of parking the fetch when the replica's is behind its own.
    # Long.MAX_VALUE is what a replica that predates the field means: "park as before".
    high_watermark: int = 2**63 - 1


@dataclass(frozen=True)
class FetchResponse:
    error: str
    leader_epoch: int
    leader_id: int
    high_watermark: int
    records: tuple[LogEntry, ...] = ()
    diverging_epoch: int = -1  # set: the follower's log diverges; truncate to where this epoch ends
    diverging_end_offset: int = -1
    snapshot_end_offset: int = -1  # set (KIP-630 SnapshotId): what it asked for was deleted; fetch this snapshot
    snapshot_epoch: int = -1


@dataclass(frozen=True)
class FetchSnapshotRequest:
    """KIP-630: ask the leader for the snapshot a FetchResponse named. (Kafka sends it in chunks by
    position; the simulator's snapshots are small enough for one.)"""

    replica_id: int
    current_leader_epoch: int
    snapshot_end_offset: int
    snapshot_epoch: int


@dataclass(frozen=True)
class FetchSnapshotResponse:
    error: str  # NONE, SNAPSHOT_NOT_FOUND, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH
    leader_epoch: int
    leader_id: int
    snapshot: Snapshot | None = None


RaftMessage = (VoteRequest | VoteResponse | BeginQuorumEpochRequest | BeginQuorumEpochResponse
               | EndQuorumEpochRequest | EndQuorumEpochResponse | FetchRequest | FetchResponse
               | FetchSnapshotRequest | FetchSnapshotResponse)
