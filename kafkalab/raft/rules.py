"""The two rules Raft's safety rests on, as pure functions: whom a voter may vote for, and which
offset a leader may call committed. The client (:mod:`kafkalab.raft.client`) calls them through
seams, so a learner's versions (exercises ex14 and ex15) run inside a live quorum.

**Votes.** A log is *at least as up to date* as another when its last entry's epoch is larger, or
equal with an end offset at least as large (Kafka compares ``OffsetAndEpoch`` epoch first). A voter
grants its one vote per epoch to the first candidate whose log is at least as up to date as its
own; it never votes for a second candidate in that epoch, and never while it knows a leader of that
epoch. A *pre-vote* (KIP-996) promises nothing and changes no state: it is granted when the
candidate's log is up to date and the voter is not following a leader it can still reach.

**Commitment.** The leader's high watermark is the largest end offset that a majority of voters
(the leader included) have reached, but only once that offset passes the start of the leader's own
epoch: counting replicas of entries from earlier epochs is how Raft's Figure 8 loses a "committed"
entry. KRaft's new leader appends a LeaderChangeMessage at ``epoch_start_offset`` so that it has an
entry of its own epoch to commit. The high watermark never goes backwards.

Kafka: org.apache.kafka.raft.QuorumState#canGrantVote and the EpochState implementations
(unattachedOrProspectiveCanGrantVote, FollowerState, LeaderState), KafkaRaftClient#handleVoteRequest,
LeaderState#maybeUpdateHighWatermark; KIP-595, KIP-996; Raft paper §5.2, §5.4.2 (Figure 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.raft.messages import VoteRequest

UNATTACHED = "unattached"
PROSPECTIVE = "prospective"
CANDIDATE = "candidate"
LEADER = "leader"
FOLLOWER = "follower"
RESIGNED = "resigned"


@dataclass(frozen=True)
class VoterState:
    """What a voter knows when a VoteRequest reaches it. For a standard vote from a newer epoch the
    voter has already moved to that epoch (unattached, no vote, no leader), so ``epoch`` equals the
    request's; a request from an older epoch never gets here."""

    node_id: int
    epoch: int
    role: str  # unattached, prospective, candidate, leader, follower or resigned
    voted_id: int  # whom it voted for in this epoch, -1 for nobody
    leader_id: int  # the leader it knows in this epoch, -1 for none
    last_epoch: int  # the epoch of its last log entry
    end_offset: int  # its log end offset
    fetched_from_leader: bool  # a follower that has heard from its leader in this epoch


def is_log_up_to_date(candidate_last_epoch: int, candidate_end_offset: int, voter_last_epoch: int, voter_end_offset: int) -> bool:
    """True when the candidate's log is at least as up to date as the voter's: epoch first, then offset."""
    # BEGIN EXERCISE ex14_raft_vote
    return (candidate_last_epoch, candidate_end_offset) >= (voter_last_epoch, voter_end_offset)
    # END EXERCISE


def can_grant_vote(voter: VoterState, request: VoteRequest) -> bool:
    """Whether ``voter`` grants ``request`` (a standard vote or a KIP-996 pre-vote)."""
    # BEGIN EXERCISE ex14_raft_vote
    up_to_date = is_log_up_to_date(request.last_offset_epoch, request.last_offset, voter.last_epoch, voter.end_offset)
    if request.pre_vote:
        if voter.role == LEADER:
            return False
        if voter.role == FOLLOWER and voter.fetched_from_leader:
            return False  # its leader is alive: no reason to start an election
        return up_to_date
    if voter.role in (LEADER, FOLLOWER, RESIGNED):
        return False  # it knows the leader of this epoch
    if voter.voted_id != -1:
        return voter.voted_id == request.candidate_id  # one vote per epoch (a retried request gets it again)
    if voter.leader_id != -1:
        return False
    return up_to_date
    # END EXERCISE


def leader_high_watermark(voter_end_offsets: dict[int, int], epoch_start_offset: int, high_watermark: int) -> int:
    """The leader's new high watermark: the largest end offset reached by a majority of the voters
    (the leader's own included; -1 for a voter not heard from), if it is past ``epoch_start_offset``
    and ahead of ``high_watermark`` (-1 while unknown); otherwise ``high_watermark`` unchanged."""
    # BEGIN EXERCISE ex15_raft_commit
    offsets = sorted(voter_end_offsets.values(), reverse=True)
    majority_offset = offsets[len(offsets) // 2]
    if majority_offset > epoch_start_offset and majority_offset > high_watermark:
        return majority_offset
    return high_watermark
    # END EXERCISE
