"""One ZooKeeper server (a QuorumPeer), sans-IO: fast leader election, ZAB, sessions, watches.

**zxid.** Every transaction gets a 64-bit id: the leader's *epoch* in the high 32 bits and a counter
in the low 32 (``zxid(epoch, counter)``). A new leader starts a new epoch, so zxids order all
transactions ever committed, across leaders.

**Fast leader election.** A server that knows no leader is LOOKING: it votes for the best server
it knows of — the largest ``(epoch, last zxid, server id)`` — and tells everyone; it adopts any
better vote it hears. When a majority of the ensemble votes like it does (and nothing better
arrives within ``FINALIZE_WAIT_MS``) the election is over: the chosen server LEADS, the others
FOLLOW. Electing the server with the largest zxid is what guarantees the leader holds every
committed transaction.

**ZAB.** *Discovery*: followers report their accepted epoch; the leader picks a new epoch larger
than all, and each follower promises not to accept an older leader. *Synchronisation*: the leader
sends each follower what it lacks (DIFF), or tells it to cut transactions the leader never had
(TRUNC) — those were never committed. When a majority has acknowledged NEWLEADER, everything in the
leader's history is committed. *Broadcast*: a write goes (forwarded by any server) to the leader,
which turns it into a transaction (``PROPOSAL`` with the next zxid) and sends it to the followers;
each logs it and ACKs; on a majority of ACKs the leader sends ``COMMIT``, and every server applies
transactions strictly in zxid order.

**Reads** are answered by the server a client is connected to, from its own tree: possibly stale.
``sync`` makes that server catch up with the leader before the next read.

**Sessions.** A client's session is created by a transaction; the client's pings keep it alive
(followers pass the touches to the leader with their heartbeats). A session not touched within its
timeout is expired by the leader with a CloseSession transaction, which deletes the session's
ephemeral znodes — and fires the watches on them.

Durable state (survives a crash): the transaction log and the accepted/current epochs. The tree is
rebuilt from the log on restart, as ZooKeeper replays its snapshot and log.

ZooKeeper: org.apache.zookeeper.server.quorum.QuorumPeer, FastLeaderElection
(totalOrderPredicate, finalizeWait), Leader (LearnerHandler: DIFF/TRUNC/SNAP, NEWLEADER, UPTODATE),
Follower, CommitProcessor, SessionTrackerImpl; zoo.cfg's tickTime, initLimit, syncLimit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from kafkalab.zookeeper.data_tree import (
    CloseSessionTxn,
    CreateSessionTxn,
    DataTree,
    ErrorTxn,
    Txn,
    WatchedEvent,
    ZooKeeperError,
    copy_tree,
)

LOOKING = "looking"
FOLLOWING = "following"
LEADING = "leading"

FINALIZE_WAIT_MS = 200  # FastLeaderElection.finalizeWait
TICK_MS = 2000  # zoo.cfg tickTime (the sample's value)
SYNC_LIMIT_TICKS = 5  # zoo.cfg syncLimit: a follower silent this many ticks is dropped


def zxid(epoch: int, counter: int) -> int:
    return (epoch << 32) | counter


def zxid_epoch(value: int) -> int:
    return value >> 32


def zxid_counter(value: int) -> int:
    return value & 0xFFFFFFFF


def show_zxid(value: int) -> str:
    return f"{value:#x} (epoch {zxid_epoch(value)}, counter {zxid_counter(value)})"


# -- messages between servers ---------------------------------------------------------------------
@dataclass(frozen=True)
class Notification:
    """A FastLeaderElection vote: whom ``sender`` backs, in which round, and its own state."""

    leader: int
    zxid: int
    epoch: int
    round: int
    state: str


@dataclass(frozen=True)
class FollowerInfo:
    accepted_epoch: int
    last_zxid: int


@dataclass(frozen=True)
class LeaderInfo:
    epoch: int


@dataclass(frozen=True)
class AckEpoch:
    current_epoch: int
    last_zxid: int


@dataclass(frozen=True)
class SyncData:
    """DIFF (``truncate_to`` = -1) or TRUNC then DIFF: the leader's transactions the follower lacks."""

    truncate_to: int
    txns: tuple[tuple[int, Txn, int, int], ...]  # (zxid, txn, origin server, request id)
    committed_zxid: int
    epoch: int  # NEWLEADER follows: this is the leader's new epoch


@dataclass(frozen=True)
class AckNewLeader:
    epoch: int


@dataclass(frozen=True)
class UpToDate:
    committed_zxid: int


@dataclass(frozen=True)
class Proposal:
    zxid: int
    txn: Txn
    origin: int
    request_id: int
    previous_zxid: int  # the leader's entry before it: a gap means the channel lost messages


@dataclass(frozen=True)
class Ack:
    zxid: int


@dataclass(frozen=True)
class Commit:
    zxid: int


@dataclass(frozen=True)
class Ping:
    epoch: int
    last_zxid: int = 0  # lets a follower notice proposals or commits that never reached it
    committed_zxid: int = 0


@dataclass(frozen=True)
class PingReply:
    epoch: int
    touched_sessions: tuple[int, ...]


@dataclass(frozen=True)
class ForwardedRequest:
    """A write (or a session operation) a follower passes to the leader."""

    request_id: int
    op: tuple[Any, ...]


@dataclass(frozen=True)
class SyncRequest:
    request_id: int


@dataclass(frozen=True)
class SyncReply:
    request_id: int


# -- messages between a client and its server ---------------------------------------------------
@dataclass(frozen=True)
class ConnectRequest:
    session_id: int  # 0: a new session
    timeout_ms: int
    last_zxid_seen: int


@dataclass(frozen=True)
class ConnectResponse:
    session_id: int
    timeout_ms: int
    error: str = ""


@dataclass(frozen=True)
class ClientRequest:
    session_id: int
    xid: int
    op: tuple[Any, ...]  # ("create", path, data, ephemeral, sequential) | ("delete", path, version) | ...


@dataclass(frozen=True)
class ClientReply:
    xid: int
    error: str
    result: Any
    zxid: int


@dataclass(frozen=True)
class ClientPing:
    session_id: int


@dataclass(frozen=True)
class WatchNotification:
    event: WatchedEvent


@dataclass
class ZkDurable:
    """The transaction log and the two epoch files (``acceptedEpoch``, ``currentEpoch``)."""

    history: list[tuple[int, Txn, int, int]] = field(default_factory=list)
    accepted_epoch: int = 0
    current_epoch: int = 0

    @property
    def last_zxid(self) -> int:
        return self.history[-1][0] if self.history else 0


WRITES = ("create", "delete", "set_data", "create_session", "close_session")


class ZooKeeperServer:
    """One ensemble member. ``handle(src, message, now)`` and ``poll(now)`` return ``(dst, message)``
    pairs; destinations are server ids (ints) or client names (strs)."""

    def __init__(self, sid: int, ensemble: tuple[int, ...], durable: ZkDurable, now_ms: int,
                 tick_ms: int = TICK_MS, sync_limit_ticks: int = SYNC_LIMIT_TICKS, trace: Any = None) -> None:
        self.sid = sid
        self.ensemble = tuple(sorted(ensemble))
        self.durable = durable
        self.tick_ms = tick_ms
        self.sync_limit_ms = tick_ms * sync_limit_ticks
        self._trace = trace or (lambda kind, **detail: None)
        self.outbox: list[tuple[Any, Any]] = []
        self.tree = DataTree()
        for entry_zxid, txn, _origin, _request in durable.history:  # replay the log, as on start-up
            self.tree.apply(entry_zxid, txn)
        self.state = LOOKING
        self.leader_id = -1
        # election
        self.round = 0
        self.vote: tuple[int, int, int] = (self.durable.current_epoch, self.durable.last_zxid, sid)  # (epoch, zxid, leader)
        self.votes_received: dict[int, tuple[int, int, int]] = {}
        self.out_of_election: dict[int, tuple[int, str]] = {}  # sid -> (leader it follows or leads, state)
        self.finalize_at: int | None = None
        # leader
        self.epoch = 0
        self.established = False
        self.follower_info: dict[int, FollowerInfo] = {}
        self.newleader_acks: set[int] = set()
        self.synced: set[int] = set()  # followers receiving proposals
        self.last_heard: dict[int, int] = {}
        self.counter = 0
        self.outstanding: dict[int, set[int]] = {}
        self.committed_zxid = 0
        self.projected: DataTree | None = None
        self.session_expiry: dict[int, int] = {}
        self.next_session = 0
        self.pending_syncs: list[tuple[int, int, int]] = []  # (commit zxid awaited, server, request id)
        self.next_tick: int | None = None
        # follower
        self.up_to_date = False
        self.awaiting_sync = False
        self.leader_last_heard = now_ms
        self.touched: set[int] = set()
        # this server's clients
        self.clients: dict[int, str] = {}  # session id -> client name
        self.pending_requests: dict[int, tuple[str, int]] = {}  # request id -> (client, xid)
        self.request_counter = 0
        self.data_watches: dict[str, set[int]] = {}
        self.child_watches: dict[str, set[int]] = {}
        self._start_looking(now_ms)

    # -- driver API ----------------------------------------------------------------------------
    @property
    def majority(self) -> int:
        return len(self.ensemble) // 2 + 1

    @property
    def serving(self) -> bool:
        """Whether it accepts client connections: a leader that is established, a synced follower."""
        return (self.state == LEADING and self.established) or (self.state == FOLLOWING and self.up_to_date)

    def take_outbox(self) -> list[tuple[Any, Any]]:
        out, self.outbox = self.outbox, []
        return out

    def next_deadline_ms(self) -> int | None:
        times = [t for t in (self.finalize_at, self.next_tick) if t is not None]
        return min(times) if times else None

    def describe(self) -> dict[str, Any]:
        return {"server": self.sid, "state": self.state, "leader": self.leader_id,
                "epoch": self.durable.current_epoch, "last_zxid": hex(self.durable.last_zxid),
                "applied_zxid": hex(self.tree.last_processed_zxid), "serving": self.serving}

    def handle(self, src: Any, message: Any, now_ms: int) -> list[tuple[Any, Any]]:
        handler = getattr(self, f"_on_{type(message).__name__}", None)
        if handler is None:
            raise TypeError(f"ZooKeeperServer does not handle {type(message).__name__}")
        if isinstance(src, int) and src == self.leader_id and self.state == FOLLOWING and not isinstance(message, Notification):
            self.leader_last_heard = now_ms  # ZAB traffic only: a leader that went back to election is not leading
        if isinstance(src, int) and self.state == LEADING:
            self.last_heard[src] = now_ms
        handler(src, message, now_ms)
        return self.take_outbox()

    def poll(self, now_ms: int) -> list[tuple[Any, Any]]:
        if self.finalize_at is not None and now_ms >= self.finalize_at:
            self.finalize_at = None
            self._finish_election(now_ms)
        if self.next_tick is not None and now_ms >= self.next_tick:
            self.next_tick = now_ms + self.tick_ms
            if self.state == LEADING:
                self._leader_tick(now_ms)
            elif self.state == FOLLOWING:
                self._follower_tick(now_ms)
            elif self.state == LOOKING:
                self._broadcast_vote()  # notifications may have been lost: say it again
        return self.take_outbox()

    # -- fast leader election --------------------------------------------------------------------
    def _others(self) -> list[int]:
        return [sid for sid in self.ensemble if sid != self.sid]

    def _start_looking(self, now_ms: int) -> None:
        self.state = LOOKING
        self.leader_id = -1
        self.established = self.up_to_date = False
        self.synced.clear()
        self.outstanding = {}  # proposals of a leadership that ended: a new leader decides their fate
        self.pending_syncs = []
        self.round += 1
        self.vote = (self.durable.current_epoch, self.durable.last_zxid, self.sid)
        self.votes_received = {self.sid: self.vote}
        self.out_of_election = {}
        self.finalize_at = None
        self.next_tick = now_ms + self.tick_ms
        self._trace("looking", round=self.round, vote=self._show_vote(self.vote))
        self._broadcast_vote()
        if len(self.ensemble) == 1:
            self.finalize_at = now_ms

    @staticmethod
    def _show_vote(vote: tuple[int, int, int]) -> str:
        return f"server {vote[2]} (epoch {vote[0]}, zxid {vote[1]:#x})"

    def _broadcast_vote(self) -> None:
        epoch, last, leader = self.vote
        for sid in self._others():
            self.outbox.append((sid, Notification(leader, last, epoch, self.round, self.state)))

    def _on_Notification(self, src: int, note: Notification, now_ms: int) -> None:
        theirs = (note.epoch, note.zxid, note.leader)
        if self.state != LOOKING:
            if note.state == LOOKING:  # tell a latecomer who leads
                vote = (self.durable.current_epoch, self.durable.last_zxid, self.leader_id)
                self.outbox.append((src, Notification(self.leader_id, vote[1], vote[0], self.round, self.state)))
            return
        if note.state != LOOKING:
            # FastLeaderElection: an established ensemble answers; join it once a majority agrees.
            self.out_of_election[src] = (note.leader, note.state)
            backers = [sid for sid, (leader, _state) in self.out_of_election.items() if leader == note.leader]
            leader_says = self.out_of_election.get(note.leader, (None, ""))[1] == LEADING
            if leader_says and len(backers) + 1 >= self.majority:
                self._trace("joins", leader=note.leader)
                self._become_follower(note.leader, now_ms)
            return
        if note.round > self.round:
            self.round = note.round
            self.votes_received = {}
            self.vote = max(theirs, (self.durable.current_epoch, self.durable.last_zxid, self.sid))
            self.votes_received[self.sid] = self.vote
            self._broadcast_vote()
        elif note.round < self.round:
            self._broadcast_vote()  # it is behind: let it catch up
            return
        elif theirs > self.vote:
            self.vote = theirs
            self.votes_received[self.sid] = self.vote
            self._broadcast_vote()
            self.finalize_at = None
        self.votes_received[src] = theirs
        agreeing = sum(1 for vote in self.votes_received.values() if vote == self.vote)
        if agreeing >= self.majority and self.finalize_at is None:
            self.finalize_at = now_ms + FINALIZE_WAIT_MS

    def _finish_election(self, now_ms: int) -> None:
        if self.state != LOOKING:
            return
        agreeing = sum(1 for vote in self.votes_received.values() if vote == self.vote)
        if agreeing < self.majority:
            return
        leader = self.vote[2]
        self._trace("elected", leader=leader, round=self.round, vote=self._show_vote(self.vote))
        if leader == self.sid:
            self._become_leader(now_ms)
        else:
            self._become_follower(leader, now_ms)

    # -- ZAB: the leader's side ------------------------------------------------------------------
    def _become_leader(self, now_ms: int) -> None:
        self.state = LEADING
        self.leader_id = self.sid
        self.established = False
        self.follower_info = {self.sid: FollowerInfo(self.durable.accepted_epoch, self.durable.last_zxid)}
        self.newleader_acks = {self.sid}
        self.synced = set()
        self.last_heard = {sid: now_ms for sid in self._others()}
        self.epoch = 0
        self.next_tick = now_ms + self.tick_ms
        self._maybe_propose_epoch(now_ms)

    def _on_FollowerInfo(self, src: int, info: FollowerInfo, now_ms: int) -> None:
        if self.state != LEADING:
            return
        self.follower_info[src] = info
        if self.epoch:  # the epoch is already chosen: this follower joins late
            self.outbox.append((src, LeaderInfo(self.epoch)))
        else:
            self._maybe_propose_epoch(now_ms)

    def _maybe_propose_epoch(self, now_ms: int) -> None:
        if self.epoch or len(self.follower_info) < self.majority:
            return
        self.epoch = max(info.accepted_epoch for info in self.follower_info.values()) + 1
        self.durable.accepted_epoch = self.epoch
        self._trace("new_epoch", epoch=self.epoch, from_servers=sorted(self.follower_info))
        for sid in self.follower_info:
            if sid != self.sid:
                self.outbox.append((sid, LeaderInfo(self.epoch)))
        self._maybe_establish(now_ms)  # a quorum of one

    def _on_AckEpoch(self, src: int, ack: AckEpoch, now_ms: int) -> None:
        if self.state != LEADING or not self.epoch:
            return
        self.outbox.append((src, self._sync_for(ack.last_zxid)))
        if self.established:
            self.synced.add(src)  # LearnerHandler starts forwarding right behind the sync, on the same channel

    def _sync_for(self, follower_zxid: int) -> SyncData:
        """LearnerHandler#syncFollower: DIFF from the follower's last zxid, or TRUNC first."""
        history = self.durable.history
        known = {entry[0] for entry in history}
        truncate_to = -1
        if follower_zxid and follower_zxid not in known:
            truncate_to = max((z for z in known if z < follower_zxid), default=0)
            start_after = truncate_to
        else:
            start_after = follower_zxid
        txns = tuple(entry for entry in history if entry[0] > start_after)
        return SyncData(truncate_to, txns, self.committed_zxid if self.established else 0, self.epoch)

    def _on_AckNewLeader(self, src: int, ack: AckNewLeader, now_ms: int) -> None:
        if self.state != LEADING or ack.epoch != self.epoch:
            return
        self.newleader_acks.add(src)
        if self.established:
            self.synced.add(src)
            self.outbox.append((src, UpToDate(self.committed_zxid)))
            return
        self._maybe_establish(now_ms)

    def _maybe_establish(self, now_ms: int) -> None:
        if not self.established and self.epoch and len(self.newleader_acks) >= self.majority:
            # Everything in the new leader's history is now on a majority: it is committed.
            self.durable.current_epoch = self.epoch
            self.established = True
            self.counter = 0
            for entry_zxid, txn, _origin, _request in self.durable.history:
                if entry_zxid > self.tree.last_processed_zxid:
                    self._apply(entry_zxid, txn, -1, -1)
            self.committed_zxid = self.durable.last_zxid
            self.projected = copy_tree(self.tree)
            self.session_expiry = {session: now_ms + timeout for session, timeout in self.tree.sessions.items()}
            self.synced = set(self.newleader_acks) - {self.sid}
            self._trace("established", epoch=self.epoch, followers=sorted(self.synced), committed=hex(self.committed_zxid))
            for sid in self.synced:
                self.outbox.append((sid, UpToDate(self.committed_zxid)))

    def _propose(self, txn: Txn, origin: int, request_id: int) -> int:
        assert self.projected is not None
        self.counter += 1
        new_zxid = zxid(self.epoch, self.counter)
        previous = self.durable.last_zxid
        self.projected.apply(new_zxid, txn)
        self.durable.history.append((new_zxid, txn, origin, request_id))
        self.outstanding[new_zxid] = {self.sid}
        for sid in self.synced:
            self.outbox.append((sid, Proposal(new_zxid, txn, origin, request_id, previous)))
        self._maybe_commit()
        return new_zxid

    def _on_Ack(self, src: int, ack: Ack, now_ms: int) -> None:
        if self.state != LEADING or ack.zxid not in self.outstanding:
            return
        self.outstanding[ack.zxid].add(src)
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        while self.outstanding:
            oldest = next(iter(self.outstanding))  # proposals are added in zxid order: the first is the oldest
            if len(self.outstanding[oldest]) < self.majority:
                return
            del self.outstanding[oldest]
            entry = self.durable.history[self._history_index_after(oldest - 1)]
            self.committed_zxid = oldest
            for sid in self.synced:
                self.outbox.append((sid, Commit(oldest)))
            self._apply(oldest, entry[1], entry[2], entry[3])
            for waiting in [s for s in self.pending_syncs if s[0] <= oldest]:
                self.pending_syncs.remove(waiting)
                self._answer_sync(waiting[1], waiting[2])

    def _leader_tick(self, now_ms: int) -> None:
        alive = [sid for sid in self.synced if now_ms - self.last_heard.get(sid, 0) <= self.sync_limit_ms]
        if self.established and len(alive) + 1 < self.majority:
            self._trace("lost_quorum", followers_in_sync=sorted(alive))
            self._start_looking(now_ms)
            return
        if not self.established and now_ms - self.leader_last_heard > 10 * self.tick_ms and len(self.newleader_acks) < self.majority:
            self._start_looking(now_ms)  # initLimit: no quorum followed in time
            return
        for sid in self._others():
            self.outbox.append((sid, Ping(self.epoch, self.durable.last_zxid if self.established else 0, self.committed_zxid)))
        if self.established:
            for session, expiry in sorted(self.session_expiry.items()):
                if now_ms >= expiry:
                    del self.session_expiry[session]
                    self._trace("session_expired", session=hex(session))
                    self._propose(CloseSessionTxn(session), -1, -1)

    def _on_PingReply(self, src: int, reply: PingReply, now_ms: int) -> None:
        if self.state == LEADING:
            for session in reply.touched_sessions:
                self._touch(session, now_ms)

    def _touch(self, session: int, now_ms: int) -> None:
        if session in self.session_expiry:
            self.session_expiry[session] = now_ms + self.tree.sessions.get(session, 0)

    def _on_ForwardedRequest(self, src: int, request: ForwardedRequest, now_ms: int) -> None:
        if self.state != LEADING or not self.established:
            return  # the follower will time out its client; the client retries elsewhere
        self._leader_write(request.op, src, request.request_id, now_ms)

    def _leader_write(self, op: tuple[Any, ...], origin: int, request_id: int, now_ms: int) -> None:
        assert self.projected is not None
        kind = op[0]
        if kind == "create":
            _, path, data, ephemeral_owner, sequential = op
            try:
                txn = self.projected.prepare_create(path, data, ephemeral_owner, sequential)
            except ZooKeeperError as bad:
                txn = ErrorTxn(bad.code, path)
        elif kind == "delete":
            txn = self.projected.prepare_delete(op[1], op[2])
        elif kind == "set_data":
            txn = self.projected.prepare_set_data(op[1], op[2], op[3])
        elif kind == "multi":
            _, parts, session = op  # an ephemeral create in a multi belongs to the caller's session
            ops = [("create", p[1], p[2], session if p[3] else 0, p[4]) if p[0] == "create" else p for p in parts]
            try:
                txn = self.projected.prepare_multi(ops)
            except ZooKeeperError as bad:
                txn = ErrorTxn(bad.code, bad.path)
        elif kind == "create_session":
            self.next_session += 1
            session = (self.sid << 56) | (self.epoch << 24) | self.next_session
            txn = CreateSessionTxn(session, op[1])
            self.session_expiry[session] = now_ms + op[1]
        elif kind == "close_session":
            self.session_expiry.pop(op[1], None)
            txn = CloseSessionTxn(op[1])
        else:
            raise ValueError(f"unknown write {kind!r}")
        self._propose(txn, origin, request_id)

    def _on_SyncRequest(self, src: int, request: SyncRequest, now_ms: int) -> None:
        if self.state != LEADING:
            return
        if self.outstanding:
            self.pending_syncs.append((max(self.outstanding), src, request.request_id))
        else:
            self._answer_sync(src, request.request_id)

    def _answer_sync(self, server: int, request_id: int) -> None:
        if server == self.sid:
            self._on_SyncReply(self.sid, SyncReply(request_id), 0)
        else:
            self.outbox.append((server, SyncReply(request_id)))

    # -- ZAB: the follower's side ----------------------------------------------------------------
    def _become_follower(self, leader: int, now_ms: int) -> None:
        self.state = FOLLOWING
        self.leader_id = leader
        self.up_to_date = False
        self.awaiting_sync = True
        self.finalize_at = None
        self.leader_last_heard = now_ms
        self.next_tick = now_ms + min(self.tick_ms, 200)  # soon: ask again if the leader was not leading yet
        self.outbox.append((leader, FollowerInfo(self.durable.accepted_epoch, self.durable.last_zxid)))

    def _on_LeaderInfo(self, src: int, info: LeaderInfo, now_ms: int) -> None:
        if self.state != FOLLOWING or src != self.leader_id:
            return
        if info.epoch < self.durable.accepted_epoch:
            self._trace("stale_leader", leader=src, epoch=info.epoch, accepted=self.durable.accepted_epoch)
            self._start_looking(now_ms)
            return
        self.durable.accepted_epoch = info.epoch  # the promise: no older leader from now on
        self.outbox.append((src, AckEpoch(self.durable.current_epoch, self.durable.last_zxid)))

    def _on_SyncData(self, src: int, sync: SyncData, now_ms: int) -> None:
        if self.state != FOLLOWING or src != self.leader_id:
            return
        self.awaiting_sync = False
        if sync.truncate_to >= 0:
            dropped = [e[0] for e in self.durable.history if e[0] > sync.truncate_to]
            self.durable.history = [e for e in self.durable.history if e[0] <= sync.truncate_to]
            self._trace("trunc", to=hex(sync.truncate_to), dropped=[hex(z) for z in dropped])
            self.tree = DataTree()
            for entry_zxid, txn, _origin, _request in self.durable.history:
                self.tree.apply(entry_zxid, txn)
        for entry in sync.txns:
            if entry[0] > self.durable.last_zxid:
                self.durable.history.append(entry)
        self._apply_logged_up_to(sync.committed_zxid)
        if sync.committed_zxid:
            for entry in sync.txns:  # proposals still waiting for a majority: this server holds them now
                if entry[0] > sync.committed_zxid:
                    self.outbox.append((src, Ack(entry[0])))
        self.durable.current_epoch = sync.epoch
        self.outbox.append((src, AckNewLeader(sync.epoch)))

    def _on_UpToDate(self, src: int, message: UpToDate, now_ms: int) -> None:
        if self.state != FOLLOWING or src != self.leader_id:
            return
        self._apply_logged_up_to(message.committed_zxid)
        self.up_to_date = True
        self._trace("following", leader=src, epoch=self.durable.current_epoch, applied=hex(self.tree.last_processed_zxid))

    def _history_index_after(self, zxid: int) -> int:
        """Where the first logged transaction after ``zxid`` is (the log is in zxid order)."""
        return bisect.bisect_right(self.durable.history, zxid, key=lambda entry: entry[0])

    def _apply_logged_up_to(self, committed: int) -> None:
        history = self.durable.history
        index = self._history_index_after(self.tree.last_processed_zxid)
        while index < len(history) and history[index][0] <= committed:
            entry_zxid, txn, origin, request_id = history[index]
            self._apply(entry_zxid, txn, origin, request_id)
            index += 1

    def _on_Proposal(self, src: int, proposal: Proposal, now_ms: int) -> None:
        if self.state != FOLLOWING or src != self.leader_id or self.awaiting_sync:
            return
        if proposal.zxid > self.durable.last_zxid:
            if proposal.previous_zxid != self.durable.last_zxid:
                self._resync("a proposal is missing")
                return
            self.durable.history.append((proposal.zxid, proposal.txn, proposal.origin, proposal.request_id))
        self.outbox.append((src, Ack(proposal.zxid)))  # logged (fsynced) before the ACK

    def _on_Commit(self, src: int, commit: Commit, now_ms: int) -> None:
        if self.state != FOLLOWING or src != self.leader_id or self.awaiting_sync:
            return
        if commit.zxid > self.durable.last_zxid:
            self._resync("a commit for a proposal it never received")
            return
        self._apply_logged_up_to(commit.zxid)

    def _resync(self, reason: str) -> None:
        """Messages from the leader were lost (ZooKeeper's TCP connection would have broken):
        connect again and let the leader send what is missing."""
        self._trace("resync", leader=self.leader_id, reason=reason, last_zxid=hex(self.durable.last_zxid))
        self.up_to_date = False
        self.awaiting_sync = True
        self.outbox.append((self.leader_id, FollowerInfo(self.durable.accepted_epoch, self.durable.last_zxid)))

    def _on_Ping(self, src: int, ping: Ping, now_ms: int) -> None:
        if self.state == FOLLOWING and src == self.leader_id and self.up_to_date and not self.awaiting_sync:
            # ZooKeeper's TCP channel never loses a message silently; the simulator's can, so the
            # heartbeat carries the leader's position and a follower that fell behind re-syncs.
            if ping.last_zxid > self.durable.last_zxid:
                self._resync("the leader's heartbeat shows proposals it never received")
            elif ping.committed_zxid > self.tree.last_processed_zxid:
                self._apply_logged_up_to(ping.committed_zxid)
        if self.state == FOLLOWING and src == self.leader_id:
            touched, self.touched = tuple(sorted(self.touched)), set()
            self.outbox.append((src, PingReply(ping.epoch, touched)))

    def _follower_tick(self, now_ms: int) -> None:
        if now_ms - self.leader_last_heard > self.sync_limit_ms:
            self._trace("leader_silent", leader=self.leader_id, silent_ms=now_ms - self.leader_last_heard)
            self._start_looking(now_ms)
        elif not self.up_to_date:
            # Learner#connectToLeader retries: the leader may not have been leading yet when we asked.
            self.outbox.append((self.leader_id, FollowerInfo(self.durable.accepted_epoch, self.durable.last_zxid)))

    def _on_SyncReply(self, src: int, reply: SyncReply, now_ms: int) -> None:
        waiting = self.pending_requests.pop(reply.request_id, None)
        if waiting is not None:
            client, xid = waiting
            self.outbox.append((client, ClientReply(xid, "", None, self.tree.last_processed_zxid)))

    # -- applying and answering ------------------------------------------------------------------
    def _apply(self, entry_zxid: int, txn: Txn, origin: int, request_id: int) -> None:
        events = self.tree.apply(entry_zxid, txn)
        for event in events:
            self._fire(event)
        if origin == self.sid and request_id in self.pending_requests:
            client, xid = self.pending_requests.pop(request_id)
            if isinstance(txn, ErrorTxn):
                self.outbox.append((client, ClientReply(xid, txn.code, None, entry_zxid)))
            elif isinstance(txn, CreateSessionTxn):
                self.clients[txn.session_id] = client
                self.outbox.append((client, ConnectResponse(txn.session_id, txn.timeout_ms)))
            else:
                result = getattr(txn, "path", None)
                self.outbox.append((client, ClientReply(xid, "", result, entry_zxid)))
        if isinstance(txn, CloseSessionTxn):
            client = self.clients.pop(txn.session_id, None)
            for watchers in list(self.data_watches.values()) + list(self.child_watches.values()):
                watchers.discard(txn.session_id)
            if client is not None:
                self.outbox.append((client, ConnectResponse(txn.session_id, 0, "SESSIONEXPIRED")))

    def _fire(self, event: WatchedEvent) -> None:
        table = self.child_watches if event.type == "NodeChildrenChanged" else self.data_watches
        sessions = table.pop(event.path, set())
        if event.type == "NodeDeleted":
            sessions |= self.child_watches.pop(event.path, set())
        for session in sorted(sessions):
            client = self.clients.get(session)
            if client is not None:
                self.outbox.append((client, WatchNotification(event)))

    # -- clients ---------------------------------------------------------------------------------
    def _on_ConnectRequest(self, client: str, request: ConnectRequest, now_ms: int) -> None:
        if not self.serving:
            self.outbox.append((client, ConnectResponse(0, 0, "CONNECTIONLOSS")))
            return
        if request.last_zxid_seen > self.tree.last_processed_zxid:
            # ClientCnxn never goes back in time: this server is behind what the client has seen.
            self.outbox.append((client, ConnectResponse(0, 0, "CONNECTIONLOSS")))
            return
        if request.session_id:
            if request.session_id not in self.tree.sessions:
                self.outbox.append((client, ConnectResponse(request.session_id, 0, "SESSIONEXPIRED")))
                return
            self.clients[request.session_id] = client
            self._record_touch(request.session_id, now_ms)
            self.outbox.append((client, ConnectResponse(request.session_id, self.tree.sessions[request.session_id])))
            return
        self._write(client, 0, ("create_session", request.timeout_ms), now_ms)

    def _record_touch(self, session: int, now_ms: int) -> None:
        if self.state == LEADING:
            self._touch(session, now_ms)
        else:
            self.touched.add(session)

    def _on_ClientPing(self, client: str, ping: ClientPing, now_ms: int) -> None:
        if self.serving and ping.session_id in self.tree.sessions:
            self.clients[ping.session_id] = client
            self._record_touch(ping.session_id, now_ms)
            self.outbox.append((client, ClientReply(-2, "", None, self.tree.last_processed_zxid)))

    def _on_ClientRequest(self, client: str, request: ClientRequest, now_ms: int) -> None:
        if not self.serving or request.session_id not in self.tree.sessions:
            error = "CONNECTIONLOSS" if not self.serving else "SESSIONEXPIRED"
            self.outbox.append((client, ClientReply(request.xid, error, None, self.tree.last_processed_zxid)))
            return
        self._record_touch(request.session_id, now_ms)
        op = request.op
        kind = op[0]
        if kind in ("get_data", "exists", "get_children"):
            self._read(client, request, now_ms)
        elif kind == "sync":
            self.request_counter += 1
            self.pending_requests[self.request_counter] = (client, request.xid)
            if self.state == LEADING:
                self._on_SyncRequest(self.sid, SyncRequest(self.request_counter), now_ms)
            else:
                self.outbox.append((self.leader_id, SyncRequest(self.request_counter)))
        elif kind == "create":
            _, path, data, ephemeral, sequential = op
            self._write(client, request.xid, ("create", path, data, request.session_id if ephemeral else 0, sequential), now_ms)
        elif kind == "close":
            self._write(client, request.xid, ("close_session", request.session_id), now_ms)
        elif kind in ("delete", "set_data"):
            self._write(client, request.xid, op, now_ms)
        elif kind == "multi":
            self._write(client, request.xid, ("multi", op[1], request.session_id), now_ms)
        else:
            self.outbox.append((client, ClientReply(request.xid, "UNIMPLEMENTED", None, self.tree.last_processed_zxid)))

    def _write(self, client: str, xid: int, op: tuple[Any, ...], now_ms: int) -> None:
        self.request_counter += 1
        self.pending_requests[self.request_counter] = (client, xid)
        if self.state == LEADING:
            self._leader_write(op, self.sid, self.request_counter, now_ms)
        else:
            self.outbox.append((self.leader_id, ForwardedRequest(self.request_counter, op)))

    def _read(self, client: str, request: ClientRequest, now_ms: int) -> None:
        kind, path, watch = request.op
        session = request.session_id
        try:
            if kind == "exists":
                result: Any = self.tree.exists(path)
                if watch:
                    self.data_watches.setdefault(path, set()).add(session)
            elif kind == "get_data":
                result = self.tree.get_data(path)
                if watch:
                    self.data_watches.setdefault(path, set()).add(session)
            else:
                result = self.tree.get_children(path)
                if watch:
                    self.child_watches.setdefault(path, set()).add(session)
            self.outbox.append((client, ClientReply(request.xid, "", result, self.tree.last_processed_zxid)))
        except ZooKeeperError as error:
            self.outbox.append((client, ClientReply(request.xid, error.code, None, self.tree.last_processed_zxid)))
