"""Consumer groups under random crashes and network partitions, checked after every event.

Like Kafka's RaftEventSimulationTest: a seeded schedule of faults, invariants after every event,
and at the end a healed, settled group that owns every partition exactly once and lost nothing.
"""

from __future__ import annotations

import random

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.consumer.delivery import ConsumerApp, Processed, check_delivery
from kafkalab.consumer.protocol import decode_assignment
from kafkalab.sim import Simulator

CONFIG = {"group.id": "app", "session.timeout.ms": 8_000, "heartbeat.interval.ms": 1_000,
          "max.poll.interval.ms": 20_000, "max.poll.records": 8}


def no_partition_twice_in_one_generation(apps: list[ConsumerApp]):
    def check(sim: Simulator) -> None:
        seen: dict[tuple[int, tuple[str, int]], str] = {}
        for app in apps:
            consumer = app.consumer
            if consumer is None or not consumer.alive or consumer.member_state != "STABLE":
                continue
            for tp in consumer.assignment():
                key = (consumer.generation_id, tp)
                assert key not in seen, f"{tp} owned by {seen[key]} and {consumer.node_id} in generation {consumer.generation_id}"
                seen[key] = consumer.node_id
    return check


def stable_assignments_are_disjoint(cluster: EmbeddedCluster):
    def check(sim: Simulator) -> None:
        for node in cluster.brokers.values():
            for group in node.broker.group_coordinator.groups.values():
                if group.state.value != "Stable":
                    continue
                owned: dict[tuple[str, int], str] = {}
                for member in group.members.values():
                    for tp in decode_assignment(member.assignment).partitions:
                        assert tp not in owned, f"coordinator gave {tp} to {owned[tp]} and {member.member_id}"
                        owned[tp] = member.member_id
    return check


@pytest.mark.parametrize("seed", range(12))
def test_a_group_survives_random_crashes_and_partitions(seed: int) -> None:
    rng = random.Random(seed)
    cluster = EmbeddedCluster(seed=seed, brokers=2)
    cluster.create_topic("orders", partitions=6)
    produced = [cluster.produce("orders", f"order-{i}", key=f"k{i % 11}") for i in range(90)]
    history: list[Processed] = []
    strategy = rng.choice(["range", "roundrobin"])
    settings = dict(CONFIG, **{"partition.assignment.strategy": strategy})
    apps = [ConsumerApp(cluster, f"app-{i}", ["orders"], "at-least-once", settings, processing_ms=15, history=history).start()
            for i in range(3)]
    cluster.sim.add_invariant("one owner per partition per generation", no_partition_twice_in_one_generation(apps))
    cluster.sim.add_invariant("the coordinator's assignments are disjoint", stable_assignments_are_disjoint(cluster))
    for _ in range(5):
        cluster.advance(rng.randint(1_000, 6_000))
        fault = rng.choice(["crash", "partition", "coordinator"])
        if fault == "crash":
            victim = rng.choice([a for a in apps if a.running] or apps)
            victim.crash()
            cluster.advance(rng.randint(500, 12_000))
            victim.restart() if not victim.running else None
        elif fault == "partition":
            victim = rng.choice(apps)
            if victim.consumer is not None:
                cluster.network.partition([victim.consumer.node_id], [f"broker-{b}" for b in cluster.brokers])
                cluster.advance(rng.randint(500, 15_000))
                cluster.network.heal()
        else:
            coordinator = apps[0].consumer.coordinator if apps[0].consumer else None
            if coordinator is not None:
                broker_id = int(coordinator.split("-")[1])
                cluster.crash_broker(broker_id)
                cluster.advance(rng.randint(500, 5_000))
                cluster.restart_broker(broker_id)
    for app in apps:
        if not app.running:
            app.restart()
    cluster.advance(60_000)
    report = check_delivery([(r.topic, r.partition, r.offset) for r in produced], history)
    assert not report.lost, (seed, report)
    generations = {a.consumer.generation_id for a in apps}
    assert len(generations) == 1 and all(a.consumer.member_state == "STABLE" for a in apps), [repr(a.consumer) for a in apps]
    owned = sorted(tp for a in apps for tp in a.consumer.assignment())
    assert owned == [("orders", p) for p in range(6)], (seed, owned)
