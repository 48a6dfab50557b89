"""KRaft's control plane: quorum controllers on the Raft metadata log, brokers as observers that
register, catch up, get unfenced, and are fenced when silent; a standby controller takes over with
the whole metadata already in memory."""

from __future__ import annotations

from kafkalab.broker.messages import MetadataImage, RegisterBrokerRecord, TopicRecord
from kafkalab.raft.kraft_cluster import KRaftCluster


def test_brokers_register_catch_up_and_are_unfenced() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=0)
    active = cluster.wait_ready()
    image = cluster.controllers[active].controller.state().image
    assert sorted(image.brokers) == [1, 2, 3] and image.fenced == set()
    for broker in cluster.brokers.values():
        assert sorted(broker.image.brokers) == [1, 2, 3] and broker.image.fenced == set()


def test_create_topics_answers_after_commit_and_every_broker_replays_it() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=1)
    cluster.wait_ready()
    response = cluster.create_topic("orders", 6, 3)
    assert response.results[0].error_code == 0
    committed = cluster.committed_metadata_offset()
    cluster.wait_until(lambda: all(b.metadata_offset >= committed for b in cluster.brokers.values()), 5_000, "propagation")
    for broker in cluster.brokers.values():
        assert len(broker.image.partitions["orders"]) == 6
    for node in cluster.controllers.values():  # standbys hold the same metadata
        assert sorted(node.controller.committed_state.image.partitions["orders"]) == list(range(6))


def test_a_standby_controller_takes_over_with_the_metadata_already_in_memory() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=2)
    first = cluster.wait_ready()
    cluster.create_topic("orders", 3, 3)
    crashed_at = cluster.sim.now_ms
    cluster.crash_controller(first)
    cluster.wait_until(lambda: cluster.active_controller() not in (None, first), 10_000, "failover")
    second = cluster.active_controller()
    took = cluster.sim.now_ms - crashed_at
    assert took <= 2 * cluster.quorum.fetch_timeout_ms  # a Raft election, no reload
    state = cluster.controllers[second].controller.state()
    assert "orders" in state.image.partitions and sorted(state.image.brokers) == [1, 2, 3]
    assert cluster.create_topic("payments", 3, 3).results[0].error_code == 0
    records = [r for node in [cluster.controllers[second]] for r in node.controller.state().log]
    assert sum(isinstance(r, RegisterBrokerRecord) for r in records) == 3 and sum(isinstance(r, TopicRecord) for r in records) == 2


def test_a_silent_broker_is_fenced_and_loses_its_leaderships_then_comes_back() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=3)
    cluster.wait_ready()
    cluster.create_topic("orders", 6, 3)
    crashed_at = cluster.sim.now_ms
    cluster.crash_broker(2)
    image = cluster.brokers[1].image
    cluster.wait_until(lambda: 2 in image.fenced and all(r.leader != 2 and 2 not in r.isr for r in image.partitions["orders"].values()),
                       20_000, "fencing broker 2")
    session = cluster.config["broker.session.timeout.ms"]
    interval = cluster.config["broker.heartbeat.interval.ms"]
    # Silent for the session timeout since its last heartbeat, which came up to one interval before the crash.
    assert session - interval <= cluster.sim.now_ms - crashed_at <= session + 3_000
    cluster.restart_broker(2)
    cluster.wait_ready()
    assert 2 not in cluster.brokers[1].image.fenced
    # Back in every ISR (this control plane moves no data: a returning replica counts as caught up).
    assert all(2 in r.isr for r in cluster.brokers[1].image.partitions["orders"].values())


def test_no_active_controller_without_a_majority_of_controllers() -> None:
    cluster = KRaftCluster(controllers=3, brokers=1, seed=4)
    first = cluster.wait_ready()
    others = [c for c in cluster.controller_ids if c != first]
    cluster.crash_controller(others[0])
    cluster.crash_controller(others[1])
    cluster.sim.advance(10_000)
    assert cluster.active_controller() is None  # check quorum: the lone controller resigned
    cluster.restart_controller(others[0])
    cluster.wait_until(lambda: cluster.active_controller() is not None, 20_000, "a new active controller")


def test_brokers_learn_a_new_high_watermark_at_once_kip_1166() -> None:
    """Before KIP-1166 a replica whose log was complete had its fetch parked for up to 500 ms even
    when its high watermark was behind the leader's: admin changes showed up half a second late."""
    cluster = KRaftCluster(controllers=3, brokers=3, seed=4)
    active = cluster.wait_ready()
    cluster.create_topic("orders", 3, 3)
    last = cluster.committed_metadata_offset() - 1  # the topic's last record
    committed_at = next(r.time_ms for r in cluster.sim.trace if r.kind == "kraft.high_watermark"
                        and r.node == f"controller-{active}" and r.detail["new"] > last)
    cluster.wait_until(lambda: all(last in b.replayed_at for b in cluster.brokers.values()), 5_000, "brokers replaying the topic")
    assert max(b.replayed_at[last] for b in cluster.brokers.values()) - committed_at <= 10


SNAPSHOTS_ON = {"metadata.log.max.snapshot.interval.ms": 5_000, "metadata.max.retention.ms": 0}


def test_controllers_snapshot_the_metadata_and_delete_the_log_it_covers_kip_630() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=5, quorum_config=SNAPSHOTS_ON)
    cluster.wait_ready()
    for index in range(3):
        cluster.create_topic(f"t{index}", 2, 3)
    cluster.sim.advance(6_000)
    for node in cluster.controllers.values():
        qc = node.controller
        assert qc is not None and qc.raft.log.snapshot is not None
        assert qc.raft.log.start_offset == qc.raft.log.snapshot.end_offset > 0  # retention 0: deleted at once
        rebuilt = MetadataImage()
        for record in qc.raft.log.snapshot.records:
            rebuilt.apply(record)
        assert rebuilt.partitions == qc.committed_state.image.partitions  # state, not the history
    assert KRaftCluster(controllers=3, brokers=3, seed=5).controllers[3001].quorum["metadata.max.retention.ms"] == 604_800_000


def test_a_broker_with_a_new_disk_catches_up_from_the_leaders_snapshot_with_fetch_snapshot() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=6, quorum_config=SNAPSHOTS_ON)
    active = cluster.wait_ready()
    cluster.create_topic("orders", 3, 3)
    cluster.sim.advance(6_000)
    leader_log = cluster.controllers[active].controller.raft.log
    assert leader_log.start_offset > 0
    cluster.wipe_broker(2)
    cluster.restart_broker(2)
    cluster.wait_ready()
    broker = cluster.brokers[2]
    assert broker.raft is not None and broker.raft.log.start_offset > 0  # it never saw offset 0
    assert any(r.kind == "kraft.broker.load_snapshot" and r.node == "broker-2" for r in cluster.sim.trace)
    assert broker.image.partitions == cluster.controllers[active].controller.committed_state.image.partitions


def test_a_restarted_standby_and_a_new_leader_work_from_snapshots() -> None:
    cluster = KRaftCluster(controllers=3, brokers=3, seed=7, quorum_config=SNAPSHOTS_ON)
    active = cluster.wait_ready()
    cluster.create_topic("orders", 3, 3)
    standby = next(c for c in cluster.controller_ids if c != active)
    cluster.crash_controller(standby)
    cluster.create_topic("payments", 2, 3)
    cluster.sim.advance(6_000)  # the others snapshot and delete what the standby lacks
    cluster.restart_controller(standby)
    cluster.sim.advance(3_000)
    expected = cluster.controllers[active].controller.committed_state.image.partitions
    assert cluster.controllers[standby].controller.committed_state.image.partitions == expected
    cluster.crash_controller(active)  # the next leader starts from its own snapshot and log
    cluster.wait_until(lambda: cluster.active_controller() not in (None, active), 10_000, "a new active controller")
    cluster.create_topic("refunds", 1, 3)
    new = cluster.controllers[cluster.active_controller()].controller
    cluster.wait_until(lambda: all("refunds" in b.image.partitions for b in cluster.brokers.values()), 5_000, "brokers replaying")
    assert set(new.committed_state.image.partitions) == {"orders", "payments", "refunds"}
