"""Replication under random broker crashes and network partitions, with invariants after every event.

Safe settings (acks=all, replication factor 3, min.insync.replicas=2, no unclean election): one
leader per leader epoch, a leader's high watermark never goes back, every in-sync replica holds
everything below the leader's high watermark, and no acknowledged record is ever lost.
"""

from __future__ import annotations

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.durability import Settings, durability_run
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
    """acks=all, RF=3, min.insync.replicas=2, no unclean election; up to two brokers down at once."""
    run = durability_run(Settings(-1, 3, 2, False), seed, prepare=lambda c: c.sim.add_invariant("replication", invariants(c)))
    assert not run.acknowledged_lost, (seed, run.acknowledged_lost, run.faults)
    replicas_agree_below_the_high_watermark(run.cluster, "ledger")


@pytest.mark.parametrize("seed", range(8))
def test_safe_settings_survive_a_lost_disk(seed: int) -> None:
    """min.insync.replicas=2 keeps every acknowledged record on two replicas: losing one disk cannot lose it
    (a restarted broker is fenced out of the ISR until it has caught up, so its empty log is never elected)."""
    run = durability_run(Settings(-1, 3, 2, False), seed, max_down=1, disk_losses=1,
                         prepare=lambda c: c.sim.add_invariant("replication", invariants(c)))
    assert not run.acknowledged_lost, (seed, run.acknowledged_lost, run.faults)


def test_unsafe_settings_do_lose_acknowledged_records() -> None:
    """The table's other rows are not hypothetical: acks=1, and unclean election, lose acknowledged writes —
    and the story of a loss shows the truncation that dropped them."""
    from kafkalab.durability import loss_story

    lossy = next(run for run in (durability_run(Settings(1, 3, 1, False), seed) for seed in range(6)) if run.acknowledged_lost)
    story = loss_story(lossy)
    assert any("truncates" in line for line in story) and story[-1].startswith("acknowledged but lost: entry-")
    assert any(durability_run(Settings(-1, 3, 1, True), seed).acknowledged_lost for seed in range(6))
