"""Scripted and random fault scenarios for a KRaft quorum, shared by tests, graders and the chapter.

* :func:`figure_eight` — Raft's Figure 8 played on KRaft: an entry from an earlier epoch reaches a
  majority under a later leader, that leader dies before its own epoch's entry does, and a node that
  never had the entry wins the next election. With Kafka's commit rule the entry was never
  committed, so nothing committed is lost; a leader that commits by counting replicas of the old
  entry loses it (the invariant says so, with the trace).
* :func:`random_faults` — crashes, restarts, partitions and appends chosen by a seeded generator,
  with every invariant checked after every event (RaftEventSimulationTest's shape).
* :func:`logs_picture` — every node's log as rows of ``offset:epoch``, with the committed prefix.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest; Raft paper Figure 8 (§5.4.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kafkalab.raft.client import HighWatermarkRule, VoteRule
from kafkalab.raft.rules import LEADER
from kafkalab.raft.simulation import RaftCluster


@dataclass
class ScenarioStep:
    time_ms: int
    text: str


@dataclass
class FigureEight:
    cluster: RaftCluster
    steps: list[ScenarioStep] = field(default_factory=list)
    old_entry_offset: int = -1

    def say(self, text: str) -> None:
        self.steps.append(ScenarioStep(self.cluster.sim.now_ms, text))

    def story(self) -> str:
        return "\n".join(f"t={step.time_ms:>6} ms  {step.text}" for step in self.steps)


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
