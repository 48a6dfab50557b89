"""Kafka in ZooKeeper mode: brokers register ephemeral znodes, exactly one becomes controller per
controller epoch, a dead controller is replaced once its session expires, a paused one (a zombie)
is fenced by /controller_epoch, and a new controller must read every partition back."""

from __future__ import annotations

import json

from kafkalab.zookeeper.controller_channel import LeaderIsr
from kafkalab.zookeeper.kafka_zk_mode import (
    LEADER_IMBALANCE_CHECK_INTERVAL_MS,
    ControllerContext,
    ZkModeBroker,
    ZkModeCluster,
    changed_partition_states,
    partition_state_znode,
    topic_znode,
)


def test_brokers_register_and_one_becomes_controller_with_epoch_1() -> None:
    cluster = ZkModeCluster(brokers=3, seed=1)
    controller = cluster.wait_for_controller()
    ensemble = cluster.ensemble
    reader = ensemble.client("admin")
    ensemble.wait_connected(reader)
    assert ensemble.call(reader, "get_children", "/brokers/ids") == ["1", "2", "3"]
    data, stat = ensemble.call(reader, "get_data", "/controller")
    assert json.loads(data) == {"version": 1, "brokerid": controller, "timestamp": json.loads(data)["timestamp"]}
    assert stat.ephemeral_owner == cluster.brokers[controller].zk.session_id
    assert ensemble.call(reader, "get_data", "/controller_epoch")[0] == b"1"
    assert all(broker.active_controller_id == controller for broker in cluster.brokers.values())


def test_a_crashed_controller_is_replaced_after_its_session_times_out() -> None:
    cluster = ZkModeCluster(brokers=3, seed=2, session_timeout_ms=6_000)
    first = cluster.wait_for_controller()
    crashed_at = cluster.sim.now_ms
    cluster.brokers[first].crash()
    cluster.sim.advance(4_000)
    assert cluster.controllers() == []  # nobody takes over while the dead session still owns /controller
    second = cluster.wait_for_controller()
    assert second != first and cluster.brokers[second].controller_epoch == 2
    assert 6_000 <= cluster.sim.now_ms - crashed_at <= 12_000


def test_a_zombie_controllers_writes_are_fenced_by_the_controller_epoch() -> None:
    cluster = ZkModeCluster(brokers=3, seed=3, session_timeout_ms=6_000)
    zombie_id = cluster.wait_for_controller()
    zombie = cluster.brokers[zombie_id]
    zombie.pause()  # a long GC pause: silent, but still believes it is the controller
    cluster.sim.run_until(lambda: any(b.is_controller and b.broker_id != zombie_id for b in cluster.brokers.values()), 30_000)
    assert len(cluster.controllers()) == 2  # two believers, in different controller epochs
    assert zombie.is_controller and zombie.controller_epoch == 1
    results: list[str] = []
    zombie.resume()
    cluster.sim.run_until(lambda: zombie.zk.state == "CONNECTED" and zombie.zk.session_id != 0, 30_000)
    zombie.zk.on_state.clear()  # keep its stale belief for the demonstration
    zombie.update_leader_and_isr("orders", 0, zombie_id, 9, [zombie_id], results.append)
    cluster.sim.advance(2_000)
    assert results == ["BADVERSION"]  # its epoch znode version is stale: ControllerMovedException


def test_failover_reads_grow_with_the_partition_count() -> None:
    reads = {}
    for partitions in (10, 100):
        cluster = ZkModeCluster(brokers=3, seed=4, session_timeout_ms=6_000)
        first = cluster.wait_for_controller()
        admin = cluster.ensemble.client(f"admin-{partitions}")
        cluster.ensemble.wait_connected(admin)
        assignment = {p: [1, 2, 3] for p in range(partitions)}
        cluster.ensemble.call(admin, "create", "/brokers/topics/orders", topic_znode(assignment, "AAAAAAAAAAAAAAAAAAAAAA"))
        cluster.ensemble.call(admin, "create", "/brokers/topics/orders/partitions", b"")
        for p in range(partitions):
            cluster.ensemble.call(admin, "create", f"/brokers/topics/orders/partitions/{p}", b"")
            cluster.ensemble.call(admin, "create", f"/brokers/topics/orders/partitions/{p}/state", partition_state_znode(1, 0, [1, 2, 3], 1))
        cluster.brokers[first].crash()
        second = cluster.wait_for_controller()
        cluster.sim.run_until(lambda: cluster.brokers[second].failover_done_ms >= 0, 30_000)
        context = cluster.brokers[second].context
        assert len(context.partition_states) == partitions and context.brokers.keys() == {1, 2, 3} - {first}
        reads[partitions] = context.reads
    assert reads[100] - reads[10] == 90  # one read per partition state



def _settle(cluster: ZkModeCluster, timeout_ms: int = 60_000) -> None:
    assert cluster.sim.run_until(cluster.settled, timeout_ms), "the cluster did not settle"


def _balanced_cluster(seed: int, partitions: int, **options: object) -> tuple[ZkModeCluster, ZkModeBroker]:
    """A cluster after its first preferred-leader check: each broker leads the partitions it heads."""
    cluster = ZkModeCluster(brokers=3, seed=seed, topics={"orders": partitions}, **options)  # type: ignore[arg-type]
    controller = cluster.brokers[cluster.wait_for_controller()]
    cluster.sim.advance(LEADER_IMBALANCE_CHECK_INTERVAL_MS)
    _settle(cluster)
    return cluster, controller


def test_leadership_piled_on_the_first_broker_is_handed_back_to_preferred_replicas() -> None:
    cluster = ZkModeCluster(brokers=3, seed=5, topics={"orders": 6})
    controller = cluster.brokers[cluster.wait_for_controller()]
    _settle(cluster)
    # The controller read the partitions before the others registered: it leads everything.
    assert {state.leader for state in cluster.partition_states().values()} == {controller.broker_id}
    cluster.sim.advance(LEADER_IMBALANCE_CHECK_INTERVAL_MS)
    _settle(cluster)
    for (topic, partition), state in cluster.partition_states().items():
        assert state.leader == controller.context.topics[topic][partition][0]  # type: ignore[union-attr]


def test_a_dead_broker_leaves_every_isr_and_its_partitions_get_new_leaders_everywhere() -> None:
    cluster, controller = _balanced_cluster(5, 6)
    victim = next(b for b in cluster.brokers if b != controller.broker_id)
    led = {key: state for key, state in cluster.partition_states().items() if state.leader == victim}
    assert led and all(len(state.isr) == 3 for state in cluster.partition_states().values())
    crashed_at = cluster.sim.now_ms
    cluster.crash_broker(victim)
    cluster.sim.advance(10_000)
    assert victim in controller.live_brokers  # its session has not expired yet: nobody knows
    assert cluster.sim.run_until(lambda: victim not in controller.live_brokers, 20_000)
    assert 17_000 <= cluster.sim.now_ms - crashed_at <= 21_000  # zookeeper.session.timeout.ms, checked on ticks
    _settle(cluster)
    states = cluster.partition_states()
    for key, state in states.items():
        assert state.leader != victim and victim not in state.isr
        if key in led:
            assert state.leader_epoch == led[key].leader_epoch + 1  # a new leader, a new leader epoch
    for broker in cluster.brokers.values():
        if broker.alive:
            assert broker.node.metadata_cache == states  # pushed to them: UpdateMetadata
    # ZooKeeper holds the same: the controller writes before it tells anyone.
    data, _stat = cluster.ensemble.call(controller.zk, "get_data", "/brokers/topics/orders/partitions/0/state")
    assert json.loads(data)["isr"] == list(states[("orders", 0)].isr)
    cluster.restart_broker(victim)
    _settle(cluster)
    assert all(victim in state.isr for state in cluster.partition_states().values())
    assert cluster.brokers[victim].node.metadata_cache == cluster.partition_states()


def test_the_last_isr_member_stays_in_the_isr_so_the_partition_waits_for_it() -> None:
    context = ControllerContext(topics={"t": {0: [1, 2, 3]}}, partition_states={("t", 0): LeaderIsr(2, 4, (2,), 1)})
    assert changed_partition_states(context, {1, 3}, 2) == {("t", 0): LeaderIsr(-1, 5, (2,), 2)}  # offline
    context.partition_states[("t", 0)] = LeaderIsr(-1, 5, (2,), 2)
    assert changed_partition_states(context, {1, 3}, 2) == {}  # still offline: nothing to write
    # Broker 2 is back: it leads again (a new epoch), and the others rejoin the ISR.
    assert changed_partition_states(context, {1, 2, 3}, 2) == {("t", 0): LeaderIsr(2, 6, (2, 1, 3), 2)}


def test_a_stale_controllers_requests_are_refused_by_brokers_that_heard_a_newer_one() -> None:
    cluster, old = _balanced_cluster(7, 3, session_timeout_ms=6_000)
    old.pause()  # a long GC pause: its session expires and another broker takes over
    assert cluster.sim.run_until(lambda: any(b.is_controller and b is not old for b in cluster.brokers.values()), 30_000)
    new = next(b for b in cluster.brokers.values() if b.is_controller and b is not old)
    others = [b for b in cluster.brokers.values() if b is not old]
    assert cluster.sim.run_until(lambda: new.context is not None and not new.writing_partition_states and all(
        b.node.controller_epoch == new.controller_epoch and b.node.metadata_cache == new.context.partition_states
        for b in others), 30_000)
    assert old.is_controller and old.controller_epoch < new.controller_epoch  # it still believes
    before = [dict(b.node.metadata_cache) for b in others]
    # The zombie pushes its old view straight to the brokers (its ZooKeeper writes would fail anyway).
    assert old.context is not None
    old.send_update_metadata(set(cluster.brokers), {("orders", 0): LeaderIsr(old.broker_id, 99, (old.broker_id,), old.controller_epoch)})
    cluster.sim.advance(100)
    refused = {r.node for r in cluster.sim.trace if r.kind == "kafka.zk.stale_controller_epoch"}
    assert refused == {b.node.node_id for b in others}
    assert [b.node.metadata_cache for b in others] == before
