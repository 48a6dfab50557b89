"""Kafka in ZooKeeper mode: brokers register ephemeral znodes, exactly one becomes controller per
controller epoch, a dead controller is replaced once its session expires, a paused one (a zombie)
is fenced by /controller_epoch, and a new controller must read every partition back."""

from __future__ import annotations

import json

from kafkalab.zookeeper.kafka_zk_mode import ZkModeCluster, partition_state_znode, topic_znode


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
