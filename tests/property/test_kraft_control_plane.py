"""Seed sweeps over a KRaft control plane: controllers and brokers crash and come back while topics
are created; after every event one active controller per epoch and brokers replaying only committed
metadata; at the end every broker's image equals the active controller's committed image."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.raft.kraft_cluster import KRaftCluster


# With snapshots on, controllers snapshot every 3 s and delete what a snapshot covers at once, so
# restarted and wiped nodes often need FetchSnapshot (KIP-630) to catch up.
SNAPSHOTS_ON = {"metadata.log.max.snapshot.interval.ms": 3_000, "metadata.max.retention.ms": 0}


@settings(derandomize=True, max_examples=16, deadline=None)
@given(seed=st.integers(0, 2**31), controllers=st.sampled_from([1, 3, 5]), snapshots=st.booleans())
def test_kraft_control_plane_converges(seed: int, controllers: int, snapshots: bool) -> None:
    rng = random.Random(seed)
    cluster = KRaftCluster(controllers=controllers, brokers=3, seed=seed, quorum_config=SNAPSHOTS_ON if snapshots else None)
    cluster.wait_ready(60_000)
    created = 0
    for _step in range(12):
        action = rng.random()
        down_controllers = [c for c, n in cluster.controllers.items() if not n.alive]
        up_controllers = [c for c, n in cluster.controllers.items() if n.alive]
        if action < 0.2 and len(down_controllers) < controllers // 2:
            cluster.crash_controller(rng.choice(up_controllers))
        elif action < 0.35 and down_controllers:
            cluster.restart_controller(rng.choice(down_controllers))
        elif action < 0.5:
            broker = rng.choice(list(cluster.brokers))
            if cluster.brokers[broker].alive:
                cluster.wipe_broker(broker) if rng.random() < 0.3 else cluster.crash_broker(broker)
            else:
                cluster.restart_broker(broker)
        else:
            created += 1
            cluster.create_topic(f"t{created}", rng.randint(1, 4), rng.randint(1, 3), timeout_ms=60_000)
        cluster.sim.advance(rng.randint(500, 4_000))
    for controller, node in cluster.controllers.items():
        if not node.alive:
            cluster.restart_controller(controller)
    for broker, node in cluster.brokers.items():
        if not node.alive:
            cluster.restart_broker(broker)
    active = cluster.wait_ready(60_000)
    committed = cluster.committed_metadata_offset()
    cluster.wait_until(lambda: all(b.metadata_offset >= committed for b in cluster.brokers.values()), 20_000, "brokers catching up")
    expected = cluster.controllers[active].controller.committed_state.image
    for broker in cluster.brokers.values():
        assert broker.image.partitions == expected.partitions
        assert broker.image.fenced == expected.fenced == set()
