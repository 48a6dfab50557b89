"""Replication under random broker crashes and network partitions, with invariants after every event.

Safe settings (acks=all, replication factor 3, min.insync.replicas=2, no unclean election): one
leader per leader epoch, a leader's high watermark never goes back, every in-sync replica holds
everything below the leader's high watermark, and no acknowledged record is ever lost.
"""

from __future__ import annotations

import random

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.errors import KafkaError
from kafkalab.sim import Simulator


def invariants(cluster: EmbeddedCluster):
    leaders_by_epoch: dict[tuple[str, int, int], int] = {}
    leader_hw: dict[tuple[int, str, int, int], int] = {}

    def check(sim: Simulator) -> None:
        for broker_id, node in cluster.brokers.items():
            if not node.alive:
                continue
            for key, state in node.broker.replica_manager.partitions.items():
                if not state.is_leader:
                    continue
                epoch_key = (key[0], key[1], state.leader_epoch)
                assert leaders_by_epoch.setdefault(epoch_key, broker_id) == broker_id, \
                    f"two leaders for {key} in epoch {state.leader_epoch}: {leaders_by_epoch[epoch_key]} and {broker_id}"
                hw_key = (broker_id, key[0], key[1], state.leader_epoch)
                assert state.high_watermark >= leader_hw.get(hw_key, 0), f"{key}: the high watermark went back on leader {broker_id}"
                leader_hw[hw_key] = state.high_watermark
                assert state.high_watermark <= state.log_end_offset
    return check


def replicas_agree_below_the_high_watermark(cluster: EmbeddedCluster, topic: str) -> None:
    for broker_id, node in cluster.brokers.items():
        state = node.broker.replica_manager.partitions.get((topic, 0))
        if not node.alive or state is None or not state.is_leader:
            continue
        below = [(r.offset, r.value) for r in state.log.read(state.log.log_start_offset) if r.offset < state.high_watermark]
        for member in state.isr:
            other = cluster.brokers[member].broker.replica_manager.partitions[(topic, 0)]
            theirs = [(r.offset, r.value) for r in other.log.read(other.log.log_start_offset) if r.offset < state.high_watermark]
            assert theirs == below, f"ISR member {member} differs from leader {broker_id} below the high watermark"


@pytest.mark.parametrize("seed", range(12))
def test_no_acknowledged_record_is_lost_under_safe_settings(seed: int) -> None:
    rng = random.Random(seed)
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("ledger", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    cluster.sim.add_invariant("replication", invariants(cluster))
    acknowledged: list[bytes] = []
    down: set[int] = set()
    for step in range(40):
        value = f"entry-{step}".encode()
        try:
            cluster.produce("ledger", value)
            acknowledged.append(value)
        except KafkaError:
            pass  # not acknowledged: it may or may not be in the log
        fault = rng.random()
        if fault < 0.15 and len(down) < 2:
            victim = rng.choice(sorted(set(cluster.brokers) - down))
            cluster.crash_broker(victim)
            down.add(victim)
        elif fault < 0.3 and down:
            back = rng.choice(sorted(down))
            cluster.restart_broker(back)
            down.discard(back)
        elif fault < 0.38:
            a, b = rng.sample(sorted(cluster.brokers), 2)
            cluster.network.partition([f"broker-{a}"], [f"broker-{b}"])
        elif fault < 0.5:
            cluster.network.heal()
        cluster.advance(rng.randint(100, 6_000))
    for broker_id in sorted(down):
        cluster.restart_broker(broker_id)
    cluster.network.heal()
    cluster.advance(60_000)
    start = cluster.list_offsets("ledger", 0, "earliest")
    stored = [r.value for r in cluster.fetch("ledger", 0, start)]
    missing = [v for v in acknowledged if v not in stored]
    assert not missing, f"seed {seed}: acknowledged but lost: {missing}"
    replicas_agree_below_the_high_watermark(cluster, "ledger")
