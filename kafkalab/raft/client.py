"""One KRaft node's consensus state machine: KafkaRaftClient and QuorumState, sans-IO.

``RaftClient`` is fed messages (``handle``) and time (``poll``) and returns the messages to send;
it never reads a clock or a socket. A driver (the simulator in :mod:`kafkalab.raft.simulation`)
delivers them and wakes it at ``next_deadline_ms()``.

States (QuorumState) and what moves a voter between them::

    unattached ──election timeout──▶ prospective ──majority of pre-votes──▶ candidate (epoch + 1)
        ▲                              (KIP-996)                               │ majority of votes
        │ a newer epoch, no leader                                             ▼
    follower ◀──BeginQuorumEpoch / a response naming the leader──────────── leader
        │ no successful fetch for controller.quorum.fetch.timeout.ms           │ check-quorum fails or
        └──────────▶ prospective                                  resigned ◀───┘ resign() (EndQuorumEpoch)

* **Durable state**: the log and the *election state* (``quorum-state``: epoch, voted id, leader id)
  survive a crash, and the vote is written before it is granted. Restarting as the leader of an
  epoch makes a node *resigned* in it: it cannot lead again without a new election.
* **Election**: a random timeout (``election.timeout.ms`` plus up to as much again), a pre-vote
  round that bumps no epoch (so a voter that was cut off cannot disrupt a healthy leader when it
  comes back), then a vote round in epoch + 1; a lost election backs off exponentially with jitter.
* **Replication**: followers pull with Fetch (offset + last fetched epoch); the leader answers a
  mismatch with a diverging epoch to truncate to (``diverging_epoch`` and ``truncation_offset`` in
  :mod:`kafkalab.raft.log`, exercise ex17, are the two halves of that agreement), parks a fetch that has nothing new for up to
  500 ms — unless the fetcher's high watermark is behind its own (KIP-1166, Kafka 4.1: before it,
  replicas learned a new high watermark up to 500 ms late) — and moves the high watermark as
  voters' fetch offsets show what they hold.
* **Check quorum**: a leader that has not been fetched from by a majority within 1.5 × the fetch
  timeout resigns, so a leader cut off from the others stops acting as one.
* **Observers**: a node that is not a voter (a broker replaying ``__cluster_metadata``) fetches too,
  never votes and is not counted for the high watermark.
* **Snapshots** (KIP-630): the state machine above writes snapshots of its committed state
  (``take_snapshot``); entries a snapshot covers are deleted after ``metadata.max.retention.ms``.
  A fetch for deleted entries is answered with the snapshot's id; the replica fetches it with
  FetchSnapshot, installs it, and fetches on from where it ends.

Kafka: org.apache.kafka.raft.KafkaRaftClient, QuorumState, UnattachedState, ProspectiveState,
CandidateState, LeaderState, FollowerState, ResignedState, ElectionState, FileQuorumStateStore;
KIP-595, KIP-996, KIP-1166.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.raft.config import FETCH_MAX_WAIT_MS, RETRY_BACKOFF_BASE_MS, QuorumConfig
from kafkalab.raft.log import (
    DivergingEpochRule,
    LeaderChangeMessage,
    LogEntry,
    OffsetAndEpoch,
    RaftLog,
    TruncationRule,
    diverging_epoch,
    truncation_offset,
)
from kafkalab.raft.messages import (
    NO_LEADER,
    BeginQuorumEpochRequest,
    BeginQuorumEpochResponse,
    EndQuorumEpochRequest,
    EndQuorumEpochResponse,
    FetchRequest,
    FetchResponse,
    FetchSnapshotRequest,
    FetchSnapshotResponse,
    VoteRequest,
    VoteResponse,
)
from kafkalab.raft import rules
from kafkalab.raft.rules import CANDIDATE, FOLLOWER, LEADER, PROSPECTIVE, RESIGNED, UNATTACHED, VoterState

Outbound = tuple[int, Any]  # (destination node id, message)
VoteRule = Callable[[VoterState, VoteRequest], bool]
HighWatermarkRule = Callable[[dict[int, int], int, int], int]


class NotLeaderError(RuntimeError):
    """Kafka's NotLeaderException: only the leader appends; ``leader_id`` says who leads, if known."""

    def __init__(self, node_id: int, leader_id: int, epoch: int) -> None:
        self.leader_id = leader_id
        who = f"node {leader_id} leads epoch {epoch}" if leader_id != NO_LEADER else f"no leader is known in epoch {epoch}"
        super().__init__(f"node {node_id} is not the leader: {who}")


@dataclass
class ElectionState:
    """The ``quorum-state`` file: what a node must remember across a crash to stay safe."""

    epoch: int = 0
    voted_id: int = NO_LEADER
    leader_id: int = NO_LEADER


@dataclass
class DurableState:
    """What survives a crash (and not a wipe): the log and the election state."""

    log: RaftLog = field(default_factory=RaftLog)
    election: ElectionState = field(default_factory=ElectionState)


class RaftClient:
    """One node of a KRaft quorum (a voter) or a node that only follows it (an observer)."""

    def __init__(
        self,
        node_id: int,
        voters: tuple[int, ...],
        config: QuorumConfig,
        durable: DurableState,
        rng: random.Random,
        now_ms: int,
        *,
        vote_rule: VoteRule | None = None,
        high_watermark_rule: HighWatermarkRule | None = None,
        diverging_epoch_rule: DivergingEpochRule | None = None,
        truncation_rule: TruncationRule | None = None,
        trace: Callable[..., None] | None = None,
    ) -> None:
        self.node_id = node_id
        self.voters = tuple(sorted(voters))
        self.config = config
        self.durable = durable
        self.log = durable.log
        self.rng = rng
        self.vote_rule: VoteRule = vote_rule or rules.can_grant_vote
        self.high_watermark_rule: HighWatermarkRule = high_watermark_rule or rules.leader_high_watermark
        self.diverging_epoch_rule: DivergingEpochRule = diverging_epoch_rule or diverging_epoch
        self.truncation_rule: TruncationRule = truncation_rule or truncation_offset
        self._trace = trace or (lambda kind, **detail: None)
        self.is_voter = node_id in self.voters
        self.outbox: list[Outbound] = []
        self.high_watermark = -1  # in memory only: a restarted node learns it again
        self.role = UNATTACHED
        # timers (absolute simulated times; None = not running)
        self.election_deadline: int | None = None
        self.fetch_deadline: int | None = None
        self.fetch_retry_at: int | None = None
        self.check_quorum_deadline: int | None = None
        # candidate / prospective
        self.votes: dict[int, bool] = {}
        self.failed_elections = 0
        self.backing_off = False
        self.vote_sent_at: dict[int, int] = {}
        # follower
        self.fetch_sent_at: int | None = None
        self.fetched_from_leader = False
        self.observer_target = 0
        # leader
        self.epoch_start_offset = -1
        self.voter_end_offsets: dict[int, int] = {}
        self.last_fetch_ms: dict[int, int] = {}
        self.begin_quorum_pending: dict[int, int] = {}  # voter -> when BeginQuorumEpoch was last sent
        self.parked_fetches: dict[int, tuple[FetchRequest, int]] = {}
        self._initialize(now_ms)

    # -- what a driver reads ----------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.durable.election.epoch

    @property
    def leader_id(self) -> int:
        return self.durable.election.leader_id

    @property
    def voted_id(self) -> int:
        return self.durable.election.voted_id

    @property
    def majority(self) -> int:
        return len(self.voters) // 2 + 1

    def committed_entries(self) -> list[LogEntry]:
        """Entries kept below the high watermark: what a state machine may apply (after the
        snapshot, if the log no longer starts at 0)."""
        return self.log.entries_between(self.log.start_offset, max(self.high_watermark, 0))

    def next_deadline_ms(self) -> int | None:
        deadlines = [self.election_deadline, self.fetch_deadline, self.fetch_retry_at, self.check_quorum_deadline]
        if self.role in (CANDIDATE, PROSPECTIVE) and not self.backing_off:
            deadlines += [sent + self.config.request_timeout_ms for sent in self.vote_sent_at.values()]
        if self.fetch_sent_at is not None:
            deadlines.append(self.fetch_sent_at + self.config.request_timeout_ms)
        deadlines += [sent + self.config.request_timeout_ms for sent in self.begin_quorum_pending.values()]
        deadlines += [deadline for _request, deadline in self.parked_fetches.values()]
        known = [deadline for deadline in deadlines if deadline is not None]
        return min(known) if known else None

    def describe(self) -> dict[str, Any]:
        """A plain-data snapshot (DescribeQuorum-like) for traces and widgets."""
        return {
            "node": self.node_id, "role": self.role, "epoch": self.epoch, "leader": self.leader_id,
            "voted": self.voted_id, "end_offset": self.log.end_offset, "high_watermark": self.high_watermark,
        }

    # -- what a driver calls ------------------------------------------------------------------
    def take_outbox(self) -> list[Outbound]:
        out, self.outbox = self.outbox, []
        return out

    def append(self, records: list[Any], now_ms: int) -> int:
        """Append records as the leader; returns the offset of the first. Committed once the high
        watermark passes it. Raises :class:`NotLeaderError` on any other node."""
        if self.role != LEADER:
            raise NotLeaderError(self.node_id, self.leader_id, self.epoch)
        entries = self.log.append_as_leader(list(records), self.epoch, now_ms)
        self._trace("append", first=entries[0].offset if entries else self.log.end_offset, count=len(entries), epoch=self.epoch)
        self._update_own_end_offset(now_ms)
        self._complete_parked_fetches(now_ms)
        return entries[0].offset if entries else self.log.end_offset

    def take_snapshot(self, snapshot: Any, retention_ms: int, now_ms: int) -> None:
        """The state machine wrote a snapshot of its committed state: keep it, and delete the entries
        it covers that are older than ``retention_ms`` (KafkaMetadataLog's cleaning)."""
        if snapshot.end_offset > max(self.high_watermark, 0):
            raise AssertionError(f"node {self.node_id}: a snapshot at {snapshot.end_offset} is past the high watermark "
                                 f"{self.high_watermark}: only committed state may be snapshotted")
        self.log.take_snapshot(snapshot)
        deleted = self.log.delete_before_snapshot(now_ms, retention_ms)
        self._trace("snapshot", end_offset=snapshot.end_offset, epoch=snapshot.epoch, records=len(snapshot.records),
                    deleted=deleted, log_start=self.log.start_offset)

    def resign(self, now_ms: int) -> None:
        """A leader steps down gracefully (shutdown): EndQuorumEpoch names its best successors."""
        if self.role == LEADER:
            self._become_resigned(now_ms, reason="resign() called")

    def poll(self, now_ms: int) -> list[Outbound]:
        """Let time pass: fire whatever timers are due. Returns messages to send."""
        if self.role == LEADER:
            self._poll_leader(now_ms)
        elif self.role == FOLLOWER:
            self._poll_follower(now_ms)
        elif self.is_voter:
            self._poll_electing(now_ms)
        else:
            self._poll_observer(now_ms)
        return self.take_outbox()

    def handle(self, src: int, message: Any, now_ms: int) -> list[Outbound]:
        """A message from node ``src`` arrived. Returns messages to send."""
        handler = getattr(self, f"_on_{type(message).__name__}", None)
        if handler is None:
            raise TypeError(f"RaftClient does not handle {type(message).__name__}")
        handler(src, message, now_ms)
        return self.take_outbox()

    # -- start-up (QuorumState.initialize) -----------------------------------------------------
    def _initialize(self, now_ms: int) -> None:
        election = self.durable.election
        if not self.is_voter:
            self.role = UNATTACHED
            self.fetch_retry_at = now_ms
        elif election.leader_id == self.node_id:
            # It led this epoch before the crash; it must not lead it again (a vote may have moved on).
            self.role = RESIGNED
            self.election_deadline = now_ms + self._random_election_timeout()
        elif election.leader_id != NO_LEADER:
            self._become_follower(election.epoch, election.leader_id, now_ms, persist=False)
        else:
            self.role = UNATTACHED
            self.election_deadline = now_ms + self._random_election_timeout()
            if len(self.voters) == 1:
                self.election_deadline = now_ms
        self._trace("start", role=self.role, epoch=self.epoch, leader=self.leader_id, voted=self.voted_id,
                    end_offset=self.log.end_offset)

    # -- transitions -------------------------------------------------------------------------
    def _persist(self, epoch: int, voted_id: int, leader_id: int) -> None:
        if epoch < self.durable.election.epoch:
            raise AssertionError(f"node {self.node_id}: epoch would go back from {self.durable.election.epoch} to {epoch}")
        self.durable.election = ElectionState(epoch, voted_id, leader_id)

    def _reset_role_state(self) -> None:
        self.election_deadline = self.fetch_deadline = self.fetch_retry_at = self.check_quorum_deadline = None
        self.votes = {}
        self.vote_sent_at = {}
        self.backing_off = False
        self.fetch_sent_at = None
        self.fetched_from_leader = False
        self.voter_end_offsets = {}
        self.last_fetch_ms = {}
        self.begin_quorum_pending = {}
        self.parked_fetches = {}
        self.epoch_start_offset = -1

    def _become_unattached(self, epoch: int, now_ms: int, reason: str) -> None:
        was_leader = self.role == LEADER
        # QuorumState#transitionToUnattached: a node already waiting to elect keeps its remaining
        # election time, so a candidate bumping epochs again and again cannot hold everyone back.
        keep = self.election_deadline if self.role in (UNATTACHED, PROSPECTIVE, CANDIDATE) else None
        self._reset_role_state()
        voted = self.voted_id if epoch == self.epoch else NO_LEADER
        self._persist(epoch, voted, NO_LEADER)
        self.role = UNATTACHED
        if self.is_voter:
            self.election_deadline = keep if keep is not None else now_ms + self._random_election_timeout()
        else:
            self.fetch_retry_at = now_ms
        self._trace("become", role=UNATTACHED, epoch=epoch, reason=reason, stepped_down=was_leader)

    def _become_prospective(self, now_ms: int) -> None:
        self._reset_role_state()
        self.role = PROSPECTIVE
        self.votes = {self.node_id: True}
        self.election_deadline = now_ms + self._random_election_timeout()
        self._trace("become", role=PROSPECTIVE, epoch=self.epoch, reason="no leader: asking for pre-votes")
        if self._granted() >= self.majority:
            self._become_candidate(now_ms)
            return
        for voter in self._other_voters():
            self._send_vote_request(voter, now_ms)

    def _become_candidate(self, now_ms: int) -> None:
        self._reset_role_state()
        self._persist(self.epoch + 1, self.node_id, NO_LEADER)  # the vote for itself is written first
        self.role = CANDIDATE
        self.votes = {self.node_id: True}
        self.election_deadline = now_ms + self._random_election_timeout()
        self._trace("become", role=CANDIDATE, epoch=self.epoch, last_epoch=self.log.last_fetched_epoch,
                    end_offset=self.log.end_offset)
        if self._granted() >= self.majority:
            self._become_leader(now_ms)
            return
        for voter in self._other_voters():
            self._send_vote_request(voter, now_ms)

    def _become_leader(self, now_ms: int) -> None:
        self._reset_role_state()
        self._persist(self.epoch, self.voted_id, self.node_id)
        self.role = LEADER
        self.failed_elections = 0
        self.epoch_start_offset = self.log.end_offset
        self.log.append_as_leader([LeaderChangeMessage(self.node_id, self.voters)], self.epoch)
        self.voter_end_offsets = {voter: -1 for voter in self.voters}
        self.voter_end_offsets[self.node_id] = self.log.end_offset
        self.last_fetch_ms = {voter: now_ms for voter in self._other_voters()}
        self.check_quorum_deadline = now_ms + self.config.check_quorum_timeout_ms
        self._trace("become", role=LEADER, epoch=self.epoch, epoch_start_offset=self.epoch_start_offset)
        for voter in self._other_voters():
            self._send_begin_quorum(voter, now_ms)
        self._maybe_update_high_watermark(now_ms)

    def _become_follower(self, epoch: int, leader_id: int, now_ms: int, persist: bool = True) -> None:
        was_leader = self.role == LEADER
        self._reset_role_state()
        if persist:
            voted = self.voted_id if epoch == self.epoch else NO_LEADER
            self._persist(epoch, voted, leader_id)
        self.role = FOLLOWER
        self.fetch_deadline = now_ms + self.config.fetch_timeout_ms
        self._trace("become", role=FOLLOWER, epoch=epoch, leader=leader_id, stepped_down=was_leader)
        self._send_fetch(now_ms)

    def _become_resigned(self, now_ms: int, reason: str) -> None:
        successors = self._preferred_successors()
        self._reset_role_state()
        self.role = RESIGNED
        self.election_deadline = now_ms + self._random_election_timeout()
        self._trace("become", role=RESIGNED, epoch=self.epoch, reason=reason, successors=successors)
        for voter in self._other_voters():
            self.outbox.append((voter, EndQuorumEpochRequest(self.epoch, self.node_id, successors)))

    # -- timers --------------------------------------------------------------------------------
    def _random_election_timeout(self) -> int:
        timeout = self.config.election_timeout_ms
        return timeout + self.rng.randrange(timeout) if timeout > 0 else 0

    def _election_backoff_ms(self) -> int:
        """KafkaRaftClient#binaryExponentialElectionBackoffMs."""
        retries = max(1, self.failed_elections)
        return min(RETRY_BACKOFF_BASE_MS * self.rng.randrange(2 << (retries - 1)), self.config.election_backoff_max_ms)

    def _start_election(self, now_ms: int) -> None:
        if self.config.pre_vote:
            self._become_prospective(now_ms)
        else:
            self._become_candidate(now_ms)

    def _poll_electing(self, now_ms: int) -> None:
        if self.election_deadline is not None and now_ms >= self.election_deadline:
            if self.role in (CANDIDATE, PROSPECTIVE) and not self.backing_off:
                self.failed_elections += 1
                self._trace("election_timeout", role=self.role, epoch=self.epoch, votes=self._granted())
            if self.role == PROSPECTIVE and self.leader_id not in (NO_LEADER, self.node_id):
                # KIP-996: pre-votes refused while a leader is known: go back to fetching from it.
                self._become_follower(self.epoch, self.leader_id, now_ms, persist=False)
                return
            self._start_election(now_ms)
            return
        if self.role in (CANDIDATE, PROSPECTIVE) and not self.backing_off:
            for voter, sent in list(self.vote_sent_at.items()):
                if voter not in self.votes and now_ms >= sent + self.config.request_timeout_ms:
                    self._send_vote_request(voter, now_ms)

    def _poll_follower(self, now_ms: int) -> None:
        if self.fetch_deadline is not None and now_ms >= self.fetch_deadline:
            self._trace("fetch_timeout", epoch=self.epoch, leader=self.leader_id)
            if self.is_voter:
                self._start_election(now_ms)
            else:
                self._become_unattached(self.epoch, now_ms, reason="observer lost its leader")
            return
        if self.fetch_retry_at is not None and now_ms >= self.fetch_retry_at:
            self._send_fetch(now_ms)
        elif self.fetch_sent_at is not None and now_ms >= self.fetch_sent_at + self.config.request_timeout_ms:
            self._send_fetch(now_ms)

    def _poll_observer(self, now_ms: int) -> None:
        if self.fetch_retry_at is not None and now_ms >= self.fetch_retry_at:
            self.fetch_retry_at = None
            self.observer_target = (self.observer_target + 1) % len(self.voters)
            target = self.voters[self.observer_target]
            self.outbox.append((target, FetchRequest(self.node_id, self.epoch, self.log.end_offset, self.log.last_fetched_epoch,
                                                  self.high_watermark)))
            self.fetch_retry_at = now_ms + self.config.request_timeout_ms

    def _poll_leader(self, now_ms: int) -> None:
        for voter, sent in list(self.begin_quorum_pending.items()):
            if now_ms >= sent + self.config.request_timeout_ms:
                self._send_begin_quorum(voter, now_ms)
        for replica, (request, deadline) in list(self.parked_fetches.items()):
            if now_ms >= deadline:
                del self.parked_fetches[replica]
                self._answer_fetch(replica, request)
        if self.check_quorum_deadline is not None and now_ms >= self.check_quorum_deadline:
            self._check_quorum(now_ms)

    def _check_quorum(self, now_ms: int) -> None:
        """LeaderState#timeUntilCheckQuorumExpires: a majority must have fetched recently."""
        timeout = self.config.check_quorum_timeout_ms
        recent = sorted(self.last_fetch_ms.values(), reverse=True)
        needed = self.majority - 1  # the leader counts itself
        if needed == 0:
            self.check_quorum_deadline = None
            return
        if len(recent) >= needed and recent[needed - 1] > now_ms - timeout:
            self.check_quorum_deadline = recent[needed - 1] + timeout
            return
        self._become_resigned(now_ms, reason=f"check quorum: fewer than {needed} other voters fetched in the last {timeout} ms")

    # -- sending -------------------------------------------------------------------------------
    def _other_voters(self) -> list[int]:
        return [voter for voter in self.voters if voter != self.node_id]

    def _granted(self) -> int:
        return sum(1 for granted in self.votes.values() if granted)

    def _rejected(self) -> int:
        return sum(1 for granted in self.votes.values() if not granted)

    def _send_vote_request(self, voter: int, now_ms: int) -> None:
        pre_vote = self.role == PROSPECTIVE
        epoch = self.epoch + 1 if pre_vote else self.epoch
        self.vote_sent_at[voter] = now_ms
        self.outbox.append((voter, VoteRequest(epoch, self.node_id, self.log.last_fetched_epoch, self.log.end_offset, pre_vote)))

    def _send_begin_quorum(self, voter: int, now_ms: int) -> None:
        self.begin_quorum_pending[voter] = now_ms
        self.outbox.append((voter, BeginQuorumEpochRequest(self.epoch, self.node_id)))

    def _send_fetch(self, now_ms: int) -> None:
        self.fetch_retry_at = None
        self.fetch_sent_at = now_ms
        self.outbox.append((self.leader_id, FetchRequest(self.node_id, self.epoch, self.log.end_offset, self.log.last_fetched_epoch,
                                                  self.high_watermark)))

    def _preferred_successors(self) -> tuple[int, ...]:
        """Voters by how far their logs reach (LeaderState#nonLeaderVotersByDescendingFetchOffset)."""
        others = [(-self.voter_end_offsets.get(voter, -1), voter) for voter in self._other_voters()]
        return tuple(voter for _offset, voter in sorted(others))

    # -- learning about newer epochs -------------------------------------------------------------
    def _observe_epoch(self, epoch: int, leader_id: int, now_ms: int, reason: str) -> None:
        """Any message may reveal a newer epoch, or this epoch's leader; follow what it says."""
        if epoch > self.epoch:
            if leader_id not in (NO_LEADER, self.node_id):
                self._become_follower(epoch, leader_id, now_ms)
            else:
                self._become_unattached(epoch, now_ms, reason=reason)
        elif epoch == self.epoch and leader_id not in (NO_LEADER, self.node_id) and (
                self.leader_id == NO_LEADER or (not self.is_voter and self.role == UNATTACHED)):
            # KafkaRaftClient#maybeHandleCommonResponse: a leader of this epoch we did not know of.
            self._become_follower(epoch, leader_id, now_ms)

    # -- Vote ------------------------------------------------------------------------------------
    def _voter_state(self) -> VoterState:
        return VoterState(self.node_id, self.epoch, self.role, self.voted_id, self.leader_id,
                          self.log.last_fetched_epoch, self.log.end_offset, self.fetched_from_leader)

    def _on_VoteRequest(self, src: int, request: VoteRequest, now_ms: int) -> None:
        def answer(error: str, granted: bool) -> None:
            self.outbox.append((src, VoteResponse(error, self.epoch, self.leader_id, granted, request.pre_vote)))

        if not self.is_voter or src not in self.voters:
            answer("INCONSISTENT_VOTER_SET", False)
            return
        if request.candidate_epoch < self.epoch or (request.pre_vote and request.candidate_epoch <= self.epoch):
            answer("FENCED_LEADER_EPOCH", False)
            return
        if not request.pre_vote and request.candidate_epoch > self.epoch:
            self._become_unattached(request.candidate_epoch, now_ms, reason=f"vote request from {src} in a newer epoch")
        granted = bool(self.vote_rule(self._voter_state(), request))
        if granted and not request.pre_vote and self.voted_id != src:
            self._persist(self.epoch, src, NO_LEADER)  # written before the answer leaves
            self._reset_role_state()
            self.role = UNATTACHED
            self.election_deadline = now_ms + self._random_election_timeout()
        self._trace("vote", candidate=src, epoch=request.candidate_epoch, pre_vote=request.pre_vote, granted=granted,
                    candidate_log=(request.last_offset_epoch, request.last_offset),
                    own_log=(self.log.last_fetched_epoch, self.log.end_offset))
        answer("NONE", granted)

    def _on_VoteResponse(self, src: int, response: VoteResponse, now_ms: int) -> None:
        if response.error == "NONE" or response.error == "FENCED_LEADER_EPOCH":
            self._observe_epoch(response.leader_epoch, response.leader_id, now_ms, reason=f"vote response from {src}")
        if self.role not in (CANDIDATE, PROSPECTIVE) or self.backing_off:
            return
        if response.pre_vote != (self.role == PROSPECTIVE) or response.error != "NONE":
            return
        if self.role == CANDIDATE and response.leader_epoch != self.epoch:
            return
        if src in self.votes:
            return
        self.votes[src] = response.vote_granted
        self.vote_sent_at.pop(src, None)
        if self._granted() >= self.majority:
            if self.role == PROSPECTIVE:
                self._become_candidate(now_ms)
            else:
                self._become_leader(now_ms)
        elif self._rejected() > len(self.voters) - self.majority:
            self.failed_elections += 1
            self.backing_off = True
            backoff = self._election_backoff_ms()
            self.election_deadline = now_ms + backoff
            self._trace("election_lost", role=self.role, epoch=self.epoch, rejected=self._rejected(), backoff_ms=backoff)

    # -- BeginQuorumEpoch / EndQuorumEpoch -------------------------------------------------------
    def _on_BeginQuorumEpochRequest(self, src: int, request: BeginQuorumEpochRequest, now_ms: int) -> None:
        if request.leader_epoch < self.epoch:
            self.outbox.append((src, BeginQuorumEpochResponse("FENCED_LEADER_EPOCH", self.epoch, self.leader_id)))
            return
        if request.leader_epoch == self.epoch and self.role == LEADER:
            raise AssertionError(f"node {self.node_id} leads epoch {self.epoch} and node {src} claims it too")
        if not (self.role == FOLLOWER and self.epoch == request.leader_epoch and self.leader_id == request.leader_id):
            if request.leader_epoch > self.epoch or self.role != FOLLOWER or self.leader_id != request.leader_id:
                self._become_follower(request.leader_epoch, request.leader_id, now_ms)
        self.outbox.append((src, BeginQuorumEpochResponse("NONE", self.epoch, self.leader_id)))

    def _on_BeginQuorumEpochResponse(self, src: int, response: BeginQuorumEpochResponse, now_ms: int) -> None:
        self._observe_epoch(response.leader_epoch, response.leader_id, now_ms, reason=f"BeginQuorumEpoch response from {src}")
        if self.role == LEADER and response.error == "NONE" and response.leader_epoch == self.epoch:
            self.begin_quorum_pending.pop(src, None)

    def _on_EndQuorumEpochRequest(self, src: int, request: EndQuorumEpochRequest, now_ms: int) -> None:
        if request.leader_epoch < self.epoch:
            self.outbox.append((src, EndQuorumEpochResponse("FENCED_LEADER_EPOCH", self.epoch, self.leader_id)))
            return
        if request.leader_epoch > self.epoch:
            self._become_unattached(request.leader_epoch, now_ms, reason=f"EndQuorumEpoch from {src}")
        if self.role == FOLLOWER and self.leader_id == request.leader_id:
            # KafkaRaftClient#endEpochElectionBackoff: the best successor runs at once, the others wait.
            position = request.preferred_successors.index(self.node_id) if self.node_id in request.preferred_successors else len(self.voters)
            backoff = 0 if position == 0 else min(RETRY_BACKOFF_BASE_MS * (1 << (position - 1)), self.config.election_backoff_max_ms)
            self.fetch_deadline = now_ms + backoff
            self.fetched_from_leader = False  # its leader said goodbye: pre-votes may be granted
            self._trace("leader_resigned", leader=src, epoch=self.epoch, election_in_ms=backoff)
        self.outbox.append((src, EndQuorumEpochResponse("NONE", self.epoch, self.leader_id)))

    def _on_EndQuorumEpochResponse(self, src: int, response: EndQuorumEpochResponse, now_ms: int) -> None:
        self._observe_epoch(response.leader_epoch, response.leader_id, now_ms, reason=f"EndQuorumEpoch response from {src}")

    # -- Fetch (leader side) --------------------------------------------------------------------
    def _on_FetchRequest(self, src: int, request: FetchRequest, now_ms: int) -> None:
        def error(code: str) -> None:
            self.outbox.append((src, FetchResponse(code, self.epoch, self.leader_id, self.high_watermark)))

        if self.role != LEADER:
            error("NOT_LEADER_OR_FOLLOWER" if request.current_leader_epoch <= self.epoch else "UNKNOWN_LEADER_EPOCH")
            return
        if request.current_leader_epoch < self.epoch:
            error("FENCED_LEADER_EPOCH")
            return
        if request.current_leader_epoch > self.epoch:
            error("UNKNOWN_LEADER_EPOCH")
            return
        snapshot = self.log.snapshot
        if snapshot is not None and self.log.needs_snapshot(request.fetch_offset, request.last_fetched_epoch):
            self._trace("fetch_needs_snapshot", replica=src, fetch_offset=request.fetch_offset,
                        log_start=self.log.start_offset, snapshot=(snapshot.end_offset, snapshot.epoch))
            self.outbox.append((src, FetchResponse("NONE", self.epoch, self.node_id, self.high_watermark,
                                                   snapshot_end_offset=snapshot.end_offset, snapshot_epoch=snapshot.epoch)))
            return
        diverging = self.log.validate_offset_and_epoch(request.fetch_offset, request.last_fetched_epoch, self.diverging_epoch_rule)
        if diverging is not None:
            self._trace("fetch_diverging", replica=src, fetch_offset=request.fetch_offset,
                        last_fetched_epoch=request.last_fetched_epoch, truncate_to=(diverging.epoch, diverging.offset))
            self.outbox.append((src, FetchResponse("NONE", self.epoch, self.node_id, self.high_watermark,
                                                   diverging_epoch=diverging.epoch, diverging_end_offset=diverging.offset)))
            return
        if src in self.voter_end_offsets:
            self.begin_quorum_pending.pop(src, None)
            self.last_fetch_ms[src] = now_ms
            if request.fetch_offset > self.voter_end_offsets[src] or self.voter_end_offsets[src] < 0:
                self.voter_end_offsets[src] = request.fetch_offset
            if self.check_quorum_deadline is None and self.majority > 1:
                self.check_quorum_deadline = now_ms + self.config.check_quorum_timeout_ms
        self.parked_fetches.pop(src, None)
        moved = self._maybe_update_high_watermark(now_ms)
        if request.fetch_offset >= self.log.end_offset and not moved and request.high_watermark >= self.high_watermark:
            # Nothing new for it, and it already knows the high watermark: park (KIP-1166).
            self.parked_fetches[src] = (request, now_ms + FETCH_MAX_WAIT_MS)
            return
        self._answer_fetch(src, request)

    def _on_FetchSnapshotRequest(self, src: int, request: FetchSnapshotRequest, now_ms: int) -> None:
        snapshot = self.log.snapshot
        if self.role != LEADER or request.current_leader_epoch != self.epoch:
            error = ("NOT_LEADER_OR_FOLLOWER" if self.role != LEADER else
                     "FENCED_LEADER_EPOCH" if request.current_leader_epoch < self.epoch else "UNKNOWN_LEADER_EPOCH")
            self.outbox.append((src, FetchSnapshotResponse(error, self.epoch, self.leader_id)))
        elif snapshot is None or (snapshot.end_offset, snapshot.epoch) != (request.snapshot_end_offset, request.snapshot_epoch):
            self.outbox.append((src, FetchSnapshotResponse("SNAPSHOT_NOT_FOUND", self.epoch, self.node_id)))  # a newer one replaced it
        else:
            self.outbox.append((src, FetchSnapshotResponse("NONE", self.epoch, self.node_id, snapshot)))

    def _answer_fetch(self, replica: int, request: FetchRequest) -> None:
        records = self.log.read(request.fetch_offset, self.config.fetch_max_entries)
        self.outbox.append((replica, FetchResponse("NONE", self.epoch, self.node_id, self.high_watermark, records)))

    def _complete_parked_fetches(self, now_ms: int) -> None:
        parked, self.parked_fetches = self.parked_fetches, {}
        for replica, (request, _deadline) in parked.items():
            self._answer_fetch(replica, request)

    def _update_own_end_offset(self, now_ms: int) -> None:
        self.voter_end_offsets[self.node_id] = self.log.end_offset
        self._maybe_update_high_watermark(now_ms)

    def _maybe_update_high_watermark(self, now_ms: int) -> bool:
        new = self.high_watermark_rule(dict(self.voter_end_offsets), self.epoch_start_offset, self.high_watermark)
        if new == self.high_watermark:
            return False
        if new < self.high_watermark:
            raise AssertionError(f"leader {self.node_id}: the high watermark would go back from {self.high_watermark} to {new}")
        if new > self.log.end_offset:
            raise AssertionError(f"leader {self.node_id}: high watermark {new} beyond its log end offset {self.log.end_offset}")
        self._trace("high_watermark", old=self.high_watermark, new=new, epoch=self.epoch,
                    voter_end_offsets=dict(sorted(self.voter_end_offsets.items())))
        self.high_watermark = new
        self._complete_parked_fetches(now_ms)
        return True

    # -- FetchSnapshot (follower side) -------------------------------------------------------------
    def _on_FetchSnapshotResponse(self, src: int, response: FetchSnapshotResponse, now_ms: int) -> None:
        self._observe_epoch(response.leader_epoch, response.leader_id, now_ms, reason=f"fetch-snapshot response from {src}")
        if self.role != FOLLOWER or src != self.leader_id or response.leader_epoch != self.epoch:
            return
        self.fetch_sent_at = None
        snapshot = response.snapshot
        if response.error != "NONE" or snapshot is None:
            self.fetch_retry_at = now_ms + self.config["controller.quorum.retry.backoff.ms"]
            return
        self.fetch_deadline = now_ms + self.config.fetch_timeout_ms
        self.fetched_from_leader = True
        if snapshot.end_offset > max(self.high_watermark, 0):  # it holds nothing committed that the snapshot lacks
            self.log.install_snapshot(snapshot)
            self.high_watermark = snapshot.end_offset  # a snapshot holds committed state only
            self._trace("snapshot_installed", leader=src, end_offset=snapshot.end_offset, epoch=snapshot.epoch,
                        records=len(snapshot.records))
        self._send_fetch(now_ms)

    # -- Fetch (follower side) ------------------------------------------------------------------
    def _on_FetchResponse(self, src: int, response: FetchResponse, now_ms: int) -> None:
        before = (self.role, self.epoch, self.leader_id)
        self._observe_epoch(response.leader_epoch, response.leader_id, now_ms, reason=f"fetch response from {src}")
        if (self.role, self.epoch, self.leader_id) != before:
            return  # a new leader or epoch: becoming a follower already sent a fresh fetch
        if self.role != FOLLOWER or src != self.leader_id or response.leader_epoch != self.epoch:
            if not self.is_voter and self.role == UNATTACHED:
                self.fetch_retry_at = now_ms + self.config["controller.quorum.retry.backoff.ms"]
            return
        if response.records and response.records[0].offset != self.log.end_offset:
            return  # the answer to an older fetch (a retry overtook it): the newer one is coming
        self.fetch_sent_at = None
        if response.error != "NONE":
            self.fetch_retry_at = now_ms + self.config["controller.quorum.retry.backoff.ms"]
            return
        self.fetch_deadline = now_ms + self.config.fetch_timeout_ms
        self.fetched_from_leader = True
        if response.snapshot_end_offset >= 0:
            self.fetch_sent_at = now_ms  # the FetchSnapshot is this follower's outstanding request now
            self.outbox.append((src, FetchSnapshotRequest(self.node_id, self.epoch, response.snapshot_end_offset,
                                                          response.snapshot_epoch)))
            return
        if response.diverging_epoch >= 0:
            before = self.log.end_offset
            new_end = self.log.truncate_to_end_offset(OffsetAndEpoch(response.diverging_end_offset, response.diverging_epoch),
                                                      self.truncation_rule)
            self._trace("truncate", leader=src, epoch=self.epoch, from_offset=before, to_offset=new_end,
                        diverging=(response.diverging_epoch, response.diverging_end_offset))
            if self.high_watermark > new_end:
                raise AssertionError(f"node {self.node_id} truncated below its high watermark {self.high_watermark} to {new_end}")
        else:
            if response.records:
                self.log.append_as_follower(response.records)
            new_hw = min(response.high_watermark, self.log.end_offset)
            if new_hw > self.high_watermark:
                self.high_watermark = new_hw
        self._send_fetch(now_ms)
