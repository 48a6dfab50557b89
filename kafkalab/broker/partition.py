"""One replica of a partition on a broker: leader or follower, its high watermark and leader epochs.

Every replica has a log. The **leader** takes writes and keeps, for each follower, the log end
offset (LEO) that follower last fetched from and when it was last caught up. From those it keeps:

* the **ISR** (in-sync replicas): the leader and every follower that has caught up to the leader's
  end within ``replica.lag.time.max.ms`` (30 s). A follower that falls behind for longer is
  dropped; one that catches up again is added back. Changes go through the controller
  (AlterPartition), which publishes the new ISR to every broker.
* the **high watermark** (HW): the smallest LEO over the ISR — every record below it is on every
  in-sync replica, so consumers may read it and ``acks=all`` producers may be answered. While the
  ISR is smaller than ``min.insync.replicas`` the HW does not move.

**Leader epochs** (KIP-101) number the leaderships of a partition; the leader records at which
offset each epoch began (the leader epoch cache). A replica that becomes a follower asks the new
leader where its last epoch ended (OffsetsForLeaderEpoch) and truncates there — not to its own
high watermark, which before 0.11 could lose acknowledged records or let replicas diverge.

Kafka: kafka.cluster.Partition (makeLeader, makeFollower, updateFollowerFetchState,
maybeExpandIsr, maybeShrinkIsr, maybeIncrementLeaderHW, checkEnoughReplicasReachOffset),
LeaderEpochFileCache, ReplicaManager; KIP-101, KIP-279, KIP-497 (AlterPartition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNDEFINED_EPOCH = -1
UNDEFINED_OFFSET = -1


def epoch_end_offset(epoch_cache: list[tuple[int, int]], epoch: int, log_end_offset: int) -> tuple[int, int]:
    """Where leader epoch ``epoch`` ended, as (the largest known epoch ≤ ``epoch``, its end offset).

    ``epoch_cache`` lists (epoch, start offset) in order. An epoch ends where the next known epoch
    starts; the latest epoch ends at the log end offset. An epoch older than any known is
    (UNDEFINED_EPOCH, UNDEFINED_OFFSET); an epoch between two known ones answers for the older one.
    This is what a new follower asks (OffsetsForLeaderEpoch) before truncating (KIP-101, KIP-279).
    """
    # BEGIN EXERCISE ex13_epoch_truncation
    if not epoch_cache or epoch < epoch_cache[0][0]:
        return UNDEFINED_EPOCH, UNDEFINED_OFFSET
    latest = epoch_cache[-1][0]
    if epoch >= latest:
        return latest, log_end_offset
    for index, (known, _) in enumerate(epoch_cache):
        if known > epoch:
            return epoch_cache[index - 1][0], epoch_cache[index][1]
    return latest, log_end_offset
    # END EXERCISE


@dataclass
class FollowerState:
    """What the leader knows of one follower (kafka.cluster.Replica)."""

    log_end_offset: int = UNDEFINED_OFFSET
    last_caught_up_ms: int = 0
    last_fetch_ms: int = 0


@dataclass
class Partition:
    topic: str
    partition: int
    log: Any
    broker_id: int
    replicas: tuple[int, ...] = ()
    isr: tuple[int, ...] = ()
    leader: int = -1
    leader_epoch: int = UNDEFINED_EPOCH
    partition_epoch: int = 0
    high_watermark: int = 0
    epoch_cache: list[tuple[int, int]] = field(default_factory=list)  # (leader epoch, its start offset)
    followers: dict[int, FollowerState] = field(default_factory=dict)
    pending_isr: tuple[int, ...] | None = None  # an AlterPartition is in flight (KIP-497: wait for it)
    min_insync_replicas: int = 1

    @property
    def is_leader(self) -> bool:
        return self.leader == self.broker_id

    @property
    def log_end_offset(self) -> int:
        return self.log.log_end_offset

    # -- leadership changes -------------------------------------------------------------------
    def make_leader(self, replicas: tuple[int, ...], isr: tuple[int, ...], leader_epoch: int, partition_epoch: int, now_ms: int) -> None:
        new_epoch = leader_epoch != self.leader_epoch or not self.is_leader
        self.replicas, self.isr, self.leader = replicas, isr, self.broker_id
        self.leader_epoch, self.partition_epoch = leader_epoch, partition_epoch
        self.pending_isr = None
        if new_epoch:
            self.assign_epoch_start(leader_epoch, self.log_end_offset)
            # The new leader knows nothing yet of its followers' positions (Partition.makeLeader).
            self.followers = {r: FollowerState(last_caught_up_ms=now_ms if r in isr else 0, last_fetch_ms=now_ms)
                              for r in replicas if r != self.broker_id}
        else:
            for r in replicas:
                if r != self.broker_id and r not in self.followers:
                    self.followers[r] = FollowerState(last_fetch_ms=now_ms)
        self.maybe_increment_high_watermark()

    def make_follower(self, replicas: tuple[int, ...], isr: tuple[int, ...], leader: int, leader_epoch: int, partition_epoch: int) -> bool:
        """Follow ``leader``; True if this is a new leadership (the follower must check for divergence)."""
        changed = leader != self.leader or leader_epoch != self.leader_epoch
        self.replicas, self.isr, self.leader = replicas, isr, leader
        self.leader_epoch, self.partition_epoch = leader_epoch, partition_epoch
        self.followers = {}
        self.pending_isr = None
        return changed

    # -- the leader epoch cache ---------------------------------------------------------------
    def assign_epoch_start(self, epoch: int, start_offset: int) -> None:
        """LeaderEpochFileCache.assign: epochs only grow; a later start for the same epoch is ignored."""
        if epoch < 0:
            return
        if self.epoch_cache and self.epoch_cache[-1][0] >= epoch:
            return
        self.epoch_cache = [(e, o) for e, o in self.epoch_cache if o < start_offset] + [(epoch, start_offset)]

    def latest_epoch(self) -> int:
        return self.epoch_cache[-1][0] if self.epoch_cache else UNDEFINED_EPOCH

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """LeaderEpochFileCache.endOffsetFor (see :func:`epoch_end_offset`)."""
        return epoch_end_offset(self.epoch_cache, epoch, self.log_end_offset)

    def truncate_epoch_cache(self, offset: int) -> None:
        """After truncating the log to ``offset``: forget epochs that start at or after it."""
        self.epoch_cache = [(e, o) for e, o in self.epoch_cache if o < offset]

    # -- the leader's bookkeeping -------------------------------------------------------------
    def update_follower_fetch(self, replica_id: int, fetch_offset: int, now_ms: int) -> bool:
        """A follower fetched from ``fetch_offset`` (so it has everything below). True if the HW moved."""
        state = self.followers.setdefault(replica_id, FollowerState())
        state.log_end_offset = fetch_offset
        state.last_fetch_ms = now_ms
        if fetch_offset >= self.log_end_offset:
            state.last_caught_up_ms = now_ms
        return self.maybe_increment_high_watermark()

    def replica_end_offset(self, replica_id: int) -> int:
        if replica_id == self.broker_id:
            return self.log_end_offset
        return self.followers.get(replica_id, FollowerState()).log_end_offset

    def maybe_increment_high_watermark(self) -> bool:
        """HW = the smallest LEO over the ISR; it never goes back, and it stays put while the ISR is
        smaller than min.insync.replicas (Partition.maybeIncrementLeaderHW, KIP-966)."""
        # BEGIN EXERCISE ex11_high_watermark_isr
        if not self.is_leader or len(self.isr) < self.min_insync_replicas:
            return False
        ends = [self.replica_end_offset(r) for r in self.isr]
        if not ends or min(ends) < 0:
            return False
        candidate = min(ends)
        if candidate > self.high_watermark:
            self.high_watermark = candidate
            return True
        return False
        # END EXERCISE

    def follower_in_sync(self, replica_id: int) -> bool:
        """Partition.isFollowerInSync: it has caught up to the high watermark (and to this epoch's start)."""
        # BEGIN EXERCISE ex11_high_watermark_isr
        state = self.followers.get(replica_id)
        if state is None:
            return False
        epoch_start = self.epoch_cache[-1][1] if self.epoch_cache else 0
        return state.log_end_offset >= self.high_watermark and state.log_end_offset >= epoch_start
        # END EXERCISE

    def isr_to_expand(self, replica_id: int) -> tuple[int, ...] | None:
        """Partition.maybeExpandIsr, after ``replica_id`` fetched: the ISR to ask for if it caught up."""
        if self.pending_isr is not None or replica_id in self.isr or replica_id not in self.replicas:
            return None
        if not self.follower_in_sync(replica_id):
            return None
        return tuple(r for r in self.replicas if r in self.isr or r == replica_id)

    def isr_to_shrink(self, now_ms: int, lag_max_ms: int) -> tuple[int, ...] | None:
        """Followers that have not caught up within replica.lag.time.max.ms leave the ISR."""
        if self.pending_isr is not None:
            return None
        # BEGIN EXERCISE ex11_high_watermark_isr
        stale = [r for r in self.isr if r != self.broker_id and now_ms - self.followers.get(r, FollowerState()).last_caught_up_ms > lag_max_ms]
        if not stale:
            return None
        return tuple(r for r in self.isr if r not in stale)
        # END EXERCISE
