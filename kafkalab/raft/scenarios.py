"""Scripted and random fault scenarios for a KRaft quorum, shared by tests, graders and the chapter.

* :func:`figure_eight` — Raft's Figure 8 played on KRaft: an entry from an earlier epoch reaches a
  majority under a later leader, that leader dies before its own epoch's entry does, and a node that
  never had the entry wins the next election. With Kafka's commit rule the entry was never
  committed, so nothing committed is lost; a leader that commits by counting replicas of the old
  entry loses it (the invariant says so, with the trace).
* :func:`figure_seven` — Raft's Figure 7 played on KRaft: a new leader comes to power over
  followers whose logs lack entries, hold extra uncommitted ones, or hold entries of an epoch the
  leader never saw; diverging epochs and truncation must bring every log to the leader's (ex17).
* :func:`random_faults` — crashes, restarts, partitions and appends chosen by a seeded generator,
  with every invariant checked after every event (RaftEventSimulationTest's shape).
* :func:`minority_leaders` — leaders cut off with a minority keep appending while the majority
  moves on (MIT 6.5840's TestBackup), so followers come back with logs that diverge.
* :func:`logs_picture` — every node's log as rows of ``offset:epoch``, with the committed prefix.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest; Raft paper Figure 7 (§5.3), Figure 8 (§5.4.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kafkalab.raft.client import DurableState, ElectionState, HighWatermarkRule, VoteRule
from kafkalab.raft.log import DivergingEpochRule, LeaderChangeMessage, LogEntry, RaftLog, TruncationRule
from kafkalab.raft.rules import LEADER
from kafkalab.raft.simulation import RaftCluster, node_name


@dataclass
class ScenarioStep:
    time_ms: int
    text: str


@dataclass
class Play:
    """A scripted scenario: its cluster and the story of what it did, step by step."""

    cluster: RaftCluster
    steps: list[ScenarioStep] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.steps.append(ScenarioStep(self.cluster.sim.now_ms, text))

    def story(self) -> str:
        return "\n".join(f"t={step.time_ms:>6} ms  {step.text}" for step in self.steps)


@dataclass
class FigureEight(Play):
    old_entry_offset: int = -1


def figure_eight(seed: int = 1, high_watermark_rule: HighWatermarkRule | None = None,
                 vote_rule: VoteRule | None = None, check_invariants: bool = True) -> FigureEight:
    """Play Figure 8 on five voters; raises InvariantViolation if committed data is lost (unless
    ``check_invariants`` is off: then it plays to the end, to show what happened)."""
    cluster = RaftCluster(voters=5, seed=seed, fetch_max_entries=1, check_invariants=check_invariants,
                          high_watermark_rule=high_watermark_rule, vote_rule=vote_rule)
    play = FigureEight(cluster)
    ids = list(cluster.voter_ids)
    first = cluster.check_one_leader()
    offset = cluster.append("x")
    if offset is None or not cluster.run_until(lambda: all(cluster.nodes[n].durable.log.end_offset > offset for n in ids), 10_000):
        raise AssertionError(f"the quorum did not replicate its first record (seed {seed})")
    play.say(f"node {first} leads epoch {cluster.client(first).epoch}; 'x' is on every node")  # type: ignore[union-attr]
    partner = next(n for n in ids if n != first)
    rest = [n for n in ids if n not in (first, partner)]
    cluster.partition([first, partner], rest)
    old = cluster.append("a")
    assert old is not None
    play.old_entry_offset = old
    if not cluster.run_until(lambda: cluster.nodes[partner].durable.log.end_offset > old, 2_000):
        raise AssertionError(f"node {partner} did not fetch 'a' (seed {seed})")
    play.say(f"node {first} appends 'a' at offset {old}; only node {partner} fetches it, then node {first} crashes")
    cluster.crash(first)
    cluster.disconnect(partner)
    cluster.heal()
    cluster.disconnect(first)
    if not cluster.run_until(lambda: cluster.leader() in rest, 20_000):
        raise AssertionError(f"nodes {rest} elected no leader (seed {seed})")
    usurper = cluster.leader()
    assert usurper is not None
    cluster.disconnect(usurper)  # before its LeaderChange record reaches anyone
    usurper_epoch = cluster.client(usurper).epoch  # type: ignore[union-attr]
    cluster.crash(usurper)
    play.say(f"node {usurper} wins epoch {usurper_epoch} with {[n for n in rest if n != usurper]}, writes its "
             f"LeaderChange record at offset {old} and crashes before anyone fetches it")
    cluster.reconnect(first)
    cluster.reconnect(partner)
    cluster.restart(first)
    if not cluster.run_until(lambda: cluster.leader() in (first, partner), 20_000):
        raise AssertionError(f"nodes {first} and {partner} elected no leader (seed {seed})")
    third = cluster.leader()
    assert third is not None
    other = partner if third == first else first
    third_client = cluster.client(third)
    assert third_client is not None
    play.say(f"node {third} wins epoch {third_client.epoch}; its LeaderChange record is at offset "
             f"{third_client.epoch_start_offset}; followers fetch one entry at a time")
    witnesses = [n for n in rest if n != usurper]

    def a_witness_reported_old_entry() -> bool:
        client = cluster.client(third)
        return client is not None and client.role == LEADER and any(
            client.voter_end_offsets.get(n, -1) > old for n in witnesses)

    if not cluster.run_until(a_witness_reported_old_entry, 10_000):
        raise AssertionError(f"no follower fetched 'a' from node {third} (seed {seed})")
    witness = next(n for n in witnesses if third_client.voter_end_offsets.get(n, -1) > old)
    high_watermark = third_client.high_watermark
    verdict = "committed" if high_watermark > old else "not committed yet"
    play.say(f"node {witness} reports it holds 'a': 'a' is on a majority ({sorted([third, other, witness])}); "
             f"node {third}'s high watermark is {high_watermark}, so 'a' is {verdict}; node {third} is cut off and "
             f"crashes, and node {other} is cut off")
    cluster.disconnect(third)
    cluster.crash(third)
    cluster.disconnect(other)
    cluster.reconnect(usurper)
    cluster.restart(usurper)
    cluster.run_until(lambda: cluster.leader() is not None, 20_000)
    fourth = cluster.leader()
    if fourth is not None:
        play.say(f"node {fourth} wins epoch {cluster.client(fourth).epoch} and its followers truncate to its log")  # type: ignore[union-attr]
    else:
        play.say("no node can win a majority: the nodes that hold epoch "
                 f"{third_client.epoch}'s record refuse node {usurper}")
    cluster.run(5_000)
    cluster.reconnect(other)
    cluster.reconnect(third)
    cluster.restart(third)
    cluster.check_one_leader(20_000)
    cluster.run(5_000)
    play.say("everyone is back; the quorum agrees again")
    return play


# Figure 7 on KRaft: each node's disk when the nodes start — its log from offset 0 as (epoch, record),
# with LC for a leader's LeaderChange record, and its quorum-state (epoch, voted id, leader id). How
# the quorum got there (every step is one Raft allows):
#   epoch 1, node 1 leads: LC, 'a' reach everyone and are committed.
#   epoch 2, node 2 leads: LC, 'b', 'c' reach node 3; nodes 4 and 5 fetch only the LC (committed).
#   epoch 3, node 4 leads with the votes of 5 and 1: its LC at offset 3 and 'x' at 4; node 5
#     fetches only the LC. Nobody else hears of epoch 3.
#   epoch 4, node 2 leads with the votes of 3 and 1: its LC at 5 and 'd' at 6; node 1 fetches
#     everything, node 3 up to the LC, so offsets 0-5 are committed and 'd' is not. Then all stop.
LC = "LC"
FIGURE_SEVEN_DISKS: dict[int, tuple[list[tuple[int, Any]], tuple[int, int, int]]] = {
    1: ([(1, LC), (1, "a"), (2, LC), (2, "b"), (2, "c"), (4, LC), (4, "d")], (4, 2, 2)),
    2: ([(1, LC), (1, "a"), (2, LC), (2, "b"), (2, "c"), (4, LC), (4, "d")], (4, 2, 2)),
    3: ([(1, LC), (1, "a"), (2, LC), (2, "b"), (2, "c"), (4, LC)], (4, 2, 2)),
    4: ([(1, LC), (1, "a"), (2, LC), (3, LC), (3, "x")], (3, 4, 4)),
    5: ([(1, LC), (1, "a"), (2, LC), (3, LC)], (3, 4, 4)),
}
FIGURE_SEVEN_LEADERS = {1: 1, 2: 2, 3: 4, 4: 2}  # epoch -> the node that led it (whose LC record it wrote)
FIGURE_SEVEN_COMMITTED = 6  # offsets below it were committed in epoch 4


def figure_seven_disks() -> dict[int, DurableState]:
    """Fresh copies of the Figure 7 disks, as the nodes' durable state."""
    voters = tuple(sorted(FIGURE_SEVEN_DISKS))
    disks = {}
    for node_id, (entries, (epoch, voted_id, leader_id)) in FIGURE_SEVEN_DISKS.items():
        log = RaftLog()
        log.append_as_follower([
            LogEntry(offset, entry_epoch, LeaderChangeMessage(FIGURE_SEVEN_LEADERS[entry_epoch], voters) if record == LC else record)
            for offset, (entry_epoch, record) in enumerate(entries)])
        disks[node_id] = DurableState(log, ElectionState(epoch, voted_id, leader_id))
    return disks


@dataclass
class FigureSeven(Play):
    before: str = ""  # every node's log as the nodes started
    leader: int = -1

    @classmethod
    def start(cls, seed: int = 1, diverging_epoch_rule: DivergingEpochRule | None = None,
              truncation_rule: TruncationRule | None = None, check_invariants: bool = True) -> FigureSeven:
        """Five voters started from the Figure 7 disks (nothing has run yet)."""
        cluster = RaftCluster(voters=5, seed=seed, durable=figure_seven_disks(), check_invariants=check_invariants,
                              diverging_epoch_rule=diverging_epoch_rule, truncation_rule=truncation_rule)
        # What epoch 4 committed is known to the "committed data is never lost" invariant from the start.
        cluster.committed.update({entry.offset: entry for entry in cluster.log_of(2)[:FIGURE_SEVEN_COMMITTED]})
        return cls(cluster, before=logs_picture(cluster))

    def run(self, timeout_ms: int = 10_000) -> None:
        """Elect a leader, append 'e' and 'f', and run until every voter holds exactly the leader's
        log. Raises InvariantViolation when an invariant breaks, AssertionError when the logs do not
        agree within ``timeout_ms``."""
        cluster = self.cluster
        self.say(f"five voters start from the disks above; offsets 0-{FIGURE_SEVEN_COMMITTED - 1} were committed in epoch 4")
        self.leader = leader = cluster.check_one_leader(20_000)
        client = cluster.client(leader)
        assert client is not None
        self.say(f"node {leader} wins epoch {client.epoch} and writes its LeaderChange record at offset "
                 f"{client.epoch_start_offset}")
        for value in ("e", "f"):
            cluster.append(value)
        self.say(f"node {leader} appends 'e' and 'f'; the others fetch from it")
        if not cluster.run_until(lambda: voters_agree(cluster), timeout_ms):
            raise AssertionError(disagreement(cluster, timeout_ms))
        self.say(f"every voter holds node {leader}'s log, and its high watermark is at the end")


def figure_seven(seed: int = 1, diverging_epoch_rule: DivergingEpochRule | None = None,
                 truncation_rule: TruncationRule | None = None, check_invariants: bool = True,
                 timeout_ms: int = 10_000) -> FigureSeven:
    """Raft's Figure 7 on five voters started from :data:`FIGURE_SEVEN_DISKS`: a leader is elected
    (node 2 with the seeds tried, though nodes 1 and 3 could win too), and every follower's log must
    become the leader's — node 3 lacks an entry, nodes 4 and 5 hold entries of epoch 3, which the
    leader never saw, after fewer entries of epoch 2 than it has."""
    scene = FigureSeven.start(seed, diverging_epoch_rule, truncation_rule, check_invariants)
    scene.run(timeout_ms)
    return scene


def voters_agree(cluster: RaftCluster) -> bool:
    """A leader runs, and every voter runs with exactly its log, all of it committed."""
    leader = cluster.leader()
    if leader is None:
        return False
    wanted = cluster.log_of(leader)
    for node_id in cluster.voter_ids:
        client = cluster.client(node_id)
        if client is None or not cluster.nodes[node_id].alive or client.high_watermark != len(wanted):
            return False
        if cluster.log_of(node_id) != wanted:
            return False
    return True


def disagreement(cluster: RaftCluster, waited_ms: int) -> str:
    """Why the voters do not agree yet: every node's log, and what the others were told and did."""
    leader = cluster.leader()
    picture = "every node's log (| marks a node's high watermark):\n" + logs_picture(cluster)
    if leader is None:
        return f"after {waited_ms} ms no leader runs (seed {cluster.sim.seed})\n\n" + picture
    behind = [n for n in cluster.voter_ids if cluster.log_of(n) != cluster.log_of(leader)]
    text = (f"after {waited_ms} ms the logs of nodes {behind} still differ from leader {leader}'s, or are not all "
            f"committed (seed {cluster.sim.seed})\n\n" + picture)
    if behind:
        text += ("\n\nthe diverging epochs each was sent and how it truncated, first and last:\n"
                 + "\n".join(agreement_trace(cluster, node_id) for node_id in behind))
    return text


def agreement_trace(cluster: RaftCluster, node_id: int, first: int = 3, last: int = 3) -> str:
    """The diverging epochs the leaders sent ``node_id`` and its truncations, from the trace: the
    first few and the last few, with how many came between."""
    name = node_name(node_id)
    lines = []
    for record in cluster.sim.trace:
        if record.kind == "raft.fetch_diverging" and record.detail.get("replica") == node_id:
            epoch, offset = record.detail["truncate_to"]
            lines.append(f"t={record.time_ms:>6} ms  node {record.node.rsplit('-', 1)[1]} (leader) to node {node_id}: your "  # type: ignore[union-attr]
                         f"fetch at offset {record.detail['fetch_offset']} after epoch {record.detail['last_fetched_epoch']} "
                         f"diverges; my epoch {epoch} ends at offset {offset}")
        elif record.kind == "raft.truncate" and record.node == name:
            end, to = record.detail["from_offset"], record.detail["to_offset"]
            dropped = "nothing dropped" if to >= end else "1 entry dropped" if end - to == 1 else f"{end - to} entries dropped"
            lines.append(f"t={record.time_ms:>6} ms  node {node_id} truncates to offset {to} (its log ended at {end}: {dropped})")
    if not lines:
        return f"node {node_id}: no diverging epoch was ever sent to it, and it never truncated"
    if len(lines) > first + last:
        lines = lines[:first] + [f"            … {len(lines) - first - last} more like these …"] + lines[-last:]
    return f"node {node_id}:\n" + "\n".join(lines)


def split_vote(seed: int = 1, vote_rule: VoteRule | None = None, vote_delay_ms: int = 800) -> RaftCluster:
    """Two candidates, one voter between them: nodes 1 and 2 cannot reach each other, both reach
    node 3, and vote responses are slow, so both ask node 3 for its vote in the same epoch before
    either hears back. Node 3 must vote once; two votes make two leaders of one epoch."""
    cluster = RaftCluster(voters=3, seed=seed, vote_rule=vote_rule, pre_vote=False)
    cluster.partition([1], [2])
    cluster.network.add_filter(lambda src, dst, message: vote_delay_ms if type(message).__name__ == "VoteResponse" else 0)
    cluster.check_one_leader(10_000)
    cluster.run(3_000)
    return cluster


def random_faults(cluster: RaftCluster, seed: int, steps: int = 30, step_ms: int = 700) -> list[str]:
    """Crash, restart, cut and heal nodes and append records at random; returns what it did."""
    rng = random.Random(seed)
    done: list[str] = []
    ids = list(cluster.voter_ids)
    counter = 0
    for _step in range(steps):
        action = rng.random()
        down = [n for n in ids if not cluster.nodes[n].alive]
        up = [n for n in ids if cluster.nodes[n].alive]
        if action < 0.15 and len(down) < len(ids) // 2 + 1 and up:
            victim = rng.choice(up)
            cluster.crash(victim)
            done.append(f"t={cluster.sim.now_ms} crash {victim}")
        elif action < 0.30 and down:
            back = rng.choice(down)
            cluster.restart(back)
            done.append(f"t={cluster.sim.now_ms} restart {back}")
        elif action < 0.40 and len(ids) > 1:
            side = rng.sample(ids, rng.randint(1, len(ids) // 2))
            cluster.heal()
            cluster.partition(side, [n for n in ids if n not in side])
            done.append(f"t={cluster.sim.now_ms} partition {side}")
        elif action < 0.50:
            cluster.heal()
            done.append(f"t={cluster.sim.now_ms} heal")
        else:
            for _ in range(rng.randint(1, 3)):
                counter += 1
                if cluster.append(f"v{counter}") is not None:
                    done.append(f"t={cluster.sim.now_ms} append v{counter}")
        cluster.run(rng.randint(step_ms // 2, step_ms * 2))
    return done


def minority_leaders(cluster: RaftCluster, seed: int, rounds: int = 10, appends: int = 4,
                     done: list[str] | None = None) -> list[str]:
    """MIT 6.5840's TestBackup, at random: again and again the leader is cut off with a minority and
    keeps appending entries that can never commit, while the majority elects a new leader that
    commits its own; now and then a voter crashes or restarts. The voters that were on the losing side
    come back holding entries, and epochs, the new leader never saw. Returns what it did (also
    appended to ``done`` as it goes, so a caller still has it if an invariant stops the run)."""
    rng = random.Random(seed)
    ids = list(cluster.voter_ids)
    done = [] if done is None else done
    counter = 0

    def append(count: int) -> None:
        nonlocal counter
        for _ in range(count):
            counter += 1
            if cluster.append(f"v{counter}") is not None:
                done.append(f"t={cluster.sim.now_ms} append v{counter} at node {cluster.leader()}")

    for _round in range(rounds):
        if not cluster.run_until(lambda: cluster.leader() is not None, 10_000):
            cluster.heal()
            done.append(f"t={cluster.sim.now_ms} no leader: heal")
            continue
        leader = cluster.leader()
        assert leader is not None
        others = [n for n in ids if n != leader]
        minority = [leader] + rng.sample(others, rng.randint(0, max(0, (len(ids) - 1) // 2 - 1)))
        cluster.heal()
        if len(ids) > 2:
            cluster.partition(minority, [n for n in ids if n not in minority])
            done.append(f"t={cluster.sim.now_ms} partition {minority} (the leader with a minority)")
        append(rng.randint(1, appends))
        cluster.run(rng.randint(100, 1_500))
        cluster.run_until(lambda: cluster.leader() not in (None, *minority), 10_000)
        append(rng.randint(1, appends))
        cluster.run(rng.randint(100, 1_500))
        action = rng.random()
        down = [n for n in ids if not cluster.nodes[n].alive]
        if action < 0.3 and len(down) < len(ids) // 2:
            victim = rng.choice([n for n in ids if cluster.nodes[n].alive])
            cluster.crash(victim)
            done.append(f"t={cluster.sim.now_ms} crash {victim}")
        elif action < 0.6 and down:
            back = rng.choice(down)
            cluster.restart(back)
            done.append(f"t={cluster.sim.now_ms} restart {back}")
        elif action < 0.8:
            cluster.heal()
            done.append(f"t={cluster.sim.now_ms} heal")
    return done


def logs_picture(cluster: RaftCluster, max_entries: int = 12) -> str:
    """Each node's log, ``offset:epoch[value]``, with ``|`` after its high watermark."""
    lines = []
    for node_id, node in cluster.nodes.items():
        client = node.client if node.alive else None
        high_watermark = client.high_watermark if client is not None else -1
        cells = []
        for entry in node.durable.log.entries[-max_entries:]:
            value = "LC" if entry.is_control else str(entry.record)
            cells.append(f"{entry.offset}:e{entry.epoch}[{value}]")
            if entry.offset + 1 == high_watermark:
                cells.append("|")
        state = client.role if client is not None else "down"
        lines.append(f"node {node_id} ({state:<11} epoch {node.durable.election.epoch}, hw {high_watermark:>3}): " + " ".join(cells))
    return "\n".join(lines)


def committed_values(cluster: RaftCluster) -> dict[int, Any]:
    """What the cluster's invariant has recorded as committed, offset → record."""
    return {offset: entry.record for offset, entry in sorted(cluster.committed.items())}
