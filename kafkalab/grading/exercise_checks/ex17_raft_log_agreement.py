"""Checks for ex17_raft_log_agreement: how a KRaft follower's log comes to agree with its leader's.

The three functions on hand-made epoch caches first (the end of an epoch, the leader's diverging
epoch, the follower's truncation offset), then quorums whose every node uses the learner's two
functions: Raft's Figure 7 (a new leader over followers with missing, extra and foreign entries) and
leaders cut off with a minority while the majority moves on, with crashes and restarts, over a
network that loses, delays and reorders messages (MIT 6.5840's lab 3B, TestBackup). Log matching and "committed data is never lost" are checked after every
event; at the end every voter must hold the leader's log. The feedback shows every node's log, the
diverging epochs a stuck follower was sent, and the first answer of the learner's that differs from
Kafka's.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.raft import log as kafka_log
from kafkalab.raft.log import OffsetAndEpoch
from kafkalab.raft.scenarios import FigureSeven, disagreement, logs_picture, minority_leaders, voters_agree
from kafkalab.raft.simulation import RaftCluster
from kafkalab.sim.simulator import InvariantViolation

EXERCISE = "ex17_raft_log_agreement"

LEADER_HINT = ("The leader must answer with a diverging epoch whenever its log does not hold the follower's last "
               "fetched epoch, or holds it only up to an offset before the follower's fetch offset: an entry at the "
               "same offset with a different epoch is a different entry.")
FOLLOWER_HINT = ("The follower must cut back to what it shares with the leader: where the leader's version of the "
                 "diverging epoch ends, or its own version if that ends sooner, or, if it has no entry of that epoch, "
                 "where its largest earlier epoch ends. Cutting later keeps entries the leader never wrote there, and "
                 "the leader answers every next fetch with the same diverging epoch.")


class Witness:
    """The learner's two functions as the quorum calls them, comparing each answer with Kafka's (the
    package's reference) so the feedback can show the first that differs, with its inputs."""

    def __init__(self, impl: ModuleType) -> None:
        self.impl = impl
        self.clock: Callable[[], int] = lambda: 0
        self.first_difference: str | None = None
        self.hint = ""

    def diverging_epoch(self, epoch_starts: list[tuple[int, int]], log_end_offset: int, fetch_offset: int,
                        last_fetched_epoch: int) -> Any:
        got = self.impl.diverging_epoch(list(epoch_starts), log_end_offset, fetch_offset, last_fetched_epoch)
        expected = kafka_log.diverging_epoch(epoch_starts, log_end_offset, fetch_offset, last_fetched_epoch)
        if got != expected:
            self._remember(f"diverging_epoch(epoch_starts={epoch_starts}, log_end_offset={log_end_offset}, "
                           f"fetch_offset={fetch_offset}, last_fetched_epoch={last_fetched_epoch}) on the leader returned "
                           f"{got!r}; Kafka's validateOffsetAndEpoch answers {expected!r}", LEADER_HINT)
        return got

    def truncation_offset(self, epoch_starts: list[tuple[int, int]], log_end_offset: int, diverging: OffsetAndEpoch) -> Any:
        got = self.impl.truncation_offset(list(epoch_starts), log_end_offset, diverging)
        expected = kafka_log.truncation_offset(epoch_starts, log_end_offset, diverging)
        if got != expected:
            self._remember(f"truncation_offset(epoch_starts={epoch_starts}, log_end_offset={log_end_offset}, "
                           f"diverging={diverging!r}) on a follower returned {got!r}; Kafka's truncateToEndOffset "
                           f"truncates to {expected!r}", FOLLOWER_HINT)
        return got

    def _remember(self, text: str, hint: str) -> None:
        if self.first_difference is None:
            self.first_difference = f"t={self.clock()} ms  {text}"
            self.hint = hint

    def rules(self) -> dict[str, Any]:
        return {"diverging_epoch_rule": self.diverging_epoch, "truncation_rule": self.truncation_offset}

    def explain(self) -> str:
        if self.first_difference is None:
            return ""
        return f"\n\nthe first answer of yours that differs from Kafka's:\n{self.first_difference}\n\n{self.hint}"


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0]


@check(EXERCISE, points=2)
def end_offset_for_epoch_reads_the_epoch_cache(impl: ModuleType) -> None:
    """end_offset_for_epoch: the largest epoch not after the one asked for, and where it ends"""
    cases = [
        (([(1, 0), (3, 2), (5, 5)], 6, 1), OffsetAndEpoch(2, 1)),
        (([(1, 0), (3, 2), (5, 5)], 6, 3), OffsetAndEpoch(5, 3)),
        (([(1, 0), (3, 2), (5, 5)], 6, 5), OffsetAndEpoch(6, 5)),  # the last epoch ends at the log end offset
        (([(1, 0), (3, 2), (5, 5)], 6, 2), OffsetAndEpoch(2, 1)),  # no epoch 2 here: epoch 1 is the largest before it
        (([(1, 0), (3, 2), (5, 5)], 6, 9), OffsetAndEpoch(6, 5)),
        (([(1, 0), (3, 2), (5, 5)], 6, 0), OffsetAndEpoch(0, 0)),  # every epoch here is later
        (([], 0, 4), OffsetAndEpoch(0, 0)),  # an empty log
        (([(4, 10), (6, 12)], 15, 5), OffsetAndEpoch(12, 4)),  # a log that starts at 10, after a snapshot
    ]
    for (starts, end, epoch), expected in cases:
        expect_equal(impl.end_offset_for_epoch(list(starts), end, epoch), expected, "end_offset_for_epoch",
                     input={"epoch_starts": starts, "log_end_offset": end, "epoch": epoch})


def _expect_diverging(impl: ModuleType, starts: list[tuple[int, int]], end: int, fetch_offset: int, last_epoch: int,
                      expected: OffsetAndEpoch | None) -> None:
    expect_equal(impl.diverging_epoch(list(starts), end, fetch_offset, last_epoch), expected, "diverging_epoch",
                 input={"epoch_starts": starts, "log_end_offset": end, "fetch_offset": fetch_offset,
                        "last_fetched_epoch": last_epoch})


@check(EXERCISE, points=2)
def the_leader_answers_a_fetch_with_the_diverging_epoch(impl: ModuleType) -> None:
    """diverging_epoch: None when the follower's log is a prefix of the leader's, else the leader's epoch and where it ends"""
    leader = [(1, 0), (3, 2)]  # epochs 1, 1, 3, 3: log end offset 4
    _expect_diverging(impl, leader, 4, 0, 0, None)  # an empty follower
    _expect_diverging(impl, leader, 4, 2, 1, None)  # it has both entries of epoch 1
    _expect_diverging(impl, leader, 4, 3, 3, None)  # it lacks the last entry
    _expect_diverging(impl, leader, 4, 4, 3, None)  # it has everything
    # Its third entry is of epoch 1, where the leader's epoch 1 ended at offset 2.
    _expect_diverging(impl, leader, 4, 3, 1, OffsetAndEpoch(2, 1))
    # Its second entry is of epoch 2, which the leader never had; the leader's epoch 1 ends at 1.
    _expect_diverging(impl, [(1, 0), (3, 1)], 3, 2, 2, OffsetAndEpoch(1, 1))
    # Two entries, as many as the leader's epoch 1 holds, but its second is of epoch 2: the same
    # offsets in another epoch are other entries.
    _expect_diverging(impl, leader, 4, 2, 2, OffsetAndEpoch(2, 1))
    # Ahead of the leader in the leader's own epoch 3, or in an epoch the leader never saw.
    _expect_diverging(impl, leader, 4, 6, 3, OffsetAndEpoch(4, 3))
    _expect_diverging(impl, leader, 4, 9, 7, OffsetAndEpoch(4, 3))


def _expect_truncation(impl: ModuleType, starts: list[tuple[int, int]], end: int, diverging: OffsetAndEpoch, expected: int) -> None:
    expect_equal(impl.truncation_offset(list(starts), end, diverging), expected, "truncation_offset",
                 input={"epoch_starts": starts, "log_end_offset": end, "diverging": diverging})


@check(EXERCISE, points=2)
def the_follower_keeps_only_what_it_shares_with_the_leader(impl: ModuleType) -> None:
    """truncation_offset: cut where the leader's version of the epoch ends, or the follower's own if sooner"""
    # Follower epochs 1, 1, 1, 2; the leader's epoch 1 ends at 2.
    _expect_truncation(impl, [(1, 0), (2, 3)], 4, OffsetAndEpoch(2, 1), 2)
    # Follower epochs 1, 2, 2: its own epoch 1 ends at 1, before the leader's (3).
    _expect_truncation(impl, [(1, 0), (2, 1)], 3, OffsetAndEpoch(3, 1), 1)
    # Follower epochs 1, 1, 2, 3, 3 (Figure 7's node 4): the leader's epoch 2 ends at 5, its own at 3.
    _expect_truncation(impl, [(1, 0), (2, 2), (3, 3)], 5, OffsetAndEpoch(5, 2), 3)
    # Follower epochs 1, 1, 3: it has no epoch 2 at all; its epoch 1 ends at 2.
    _expect_truncation(impl, [(1, 0), (3, 2)], 3, OffsetAndEpoch(5, 2), 2)
    # Follower epochs 2, 2: nothing in common with a leader whose epochs all come later.
    _expect_truncation(impl, [(2, 0)], 2, OffsetAndEpoch(0, 0), 0)


def _failed(what: str, failure: BaseException, cluster: RaftCluster, witness: Witness, story: str = "") -> CheckFailed:
    """The feedback: what broke, the story so far, every node's log (and, for logs that never agreed,
    the diverging epochs each follower was sent), then the first answer of the learner's that
    differs from Kafka's, with a hint."""
    head, _, details = str(failure).partition("\n")
    if isinstance(failure, InvariantViolation):  # its details are the trace's last lines: the logs say more
        details = f"every node's log at that moment (| marks a node's high watermark):\n{logs_picture(cluster)}"
    parts = [f"{what}: {head}"]
    if story:
        parts.append(f"what happened:\n{story}")
    if details.strip():
        parts.append(details.strip())
    return CheckFailed("\n\n".join(parts) + witness.explain())


@check(EXERCISE, points=2, timeout_s=60)
def figure_seven_followers_come_to_agree_with_the_new_leader(impl: ModuleType) -> None:
    """Raft's Figure 7 on five voters: followers missing entries, or holding entries the leader never wrote, end with its log"""
    for seed in (1, 2):
        witness = Witness(impl)
        scene = FigureSeven.start(seed, **witness.rules())
        witness.clock = lambda: scene.cluster.sim.now_ms
        try:
            scene.run(timeout_ms=10_000)
        except AssertionError as failure:  # an InvariantViolation, or logs that never agreed
            raise _failed(f"Figure 7 (seed {seed})", failure, scene.cluster, witness,
                          f"every node's log as the voters started:\n{scene.before}\n\n{scene.story()}") from None


@check(EXERCISE, points=2, timeout_s=120)
def logs_agree_after_faults_on_an_unreliable_network(impl: ModuleType) -> None:
    """leaders cut off with a minority keep appending, voters crash and restart, messages are lost, delayed and reordered; then every voter holds the leader's log"""
    for seed in (31, 37):
        witness = Witness(impl)
        cluster = RaftCluster(voters=5, seed=seed, **witness.rules())
        witness.clock = lambda: cluster.sim.now_ms
        cluster.set_unreliable(drop_rate=0.1, jitter_ms=20, reorder=True)
        actions: list[str] = []
        try:
            minority_leaders(cluster, seed, rounds=12, done=actions)
            cluster.heal()
            cluster.network.set_default(drop_rate=0.0, jitter_ms=0, reorder=False)
            for node_id in cluster.voter_ids:
                if not cluster.nodes[node_id].alive:
                    cluster.restart(node_id)
            actions.append(f"t={cluster.sim.now_ms} heal, restart every voter, a reliable network again")
            cluster.check_one_leader(30_000)
            cluster.append("after the storm")
            if not cluster.run_until(lambda: voters_agree(cluster), 20_000):
                raise AssertionError("after healing, " + disagreement(cluster, 20_000))
        except AssertionError as failure:
            story = "the last faults and appends:\n" + "\n".join(actions[-8:]) if actions else ""
            raise _failed(f"minority leaders on an unreliable network (seed {seed})", failure, cluster, witness, story) from None
