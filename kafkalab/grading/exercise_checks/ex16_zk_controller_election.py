"""Checks for ex16_zk_controller_election: KafkaController.elect on a ZooKeeper ensemble.

Every broker of a ZooKeeper-mode cluster runs the learner's ``elect``: one controller must emerge and
every broker must know it; when the controller dies another must take over once the session expires
(which needs the watch); a controller that learns of a newer one must resign; and across repeated
failovers no two brokers may be controller in the same controller epoch (the invariant runs after
every event).
"""

from __future__ import annotations

import json
from types import ModuleType

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed
from kafkalab.sim.simulator import InvariantViolation
from kafkalab.zookeeper.kafka_zk_mode import ZkModeBroker, ZkModeCluster, controller_znode

EXERCISE = "ex16_zk_controller_election"


def _who(cluster: ZkModeCluster) -> str:
    return ", ".join(f"broker {b}: {'controller' if x.is_controller else 'not controller'}, thinks the controller is "
                     f"{x.active_controller_id}" + ("" if x.alive else " (down)") for b, x in cluster.brokers.items())


def _cluster(impl: ModuleType, seed: int) -> ZkModeCluster:
    return ZkModeCluster(brokers=3, seed=seed, session_timeout_ms=6_000, elect=impl.elect)


@check(EXERCISE, points=3, timeout_s=60)
def one_controller_that_every_broker_knows(impl: ModuleType) -> None:
    """three brokers start: exactly one becomes controller (epoch 1) and every broker knows which"""
    seed = 1
    try:
        cluster = _cluster(impl, seed)
        cluster.sim.advance(5_000)
    except InvariantViolation as broken:
        raise CheckFailed(str(broken)) from None
    controllers = cluster.controllers()
    if len(controllers) != 1:
        raise CheckFailed(f"after 5 s, {len(controllers)} brokers are controller (seed {seed}): {_who(cluster)}")
    known = {b: x.active_controller_id for b, x in cluster.brokers.items()}
    if set(known.values()) != {controllers[0]}:
        raise CheckFailed(f"broker {controllers[0]} is the controller, but the brokers think: {known} (seed {seed}); "
                          "read /controller's brokerid into broker.active_controller_id")


@check(EXERCISE, points=3, timeout_s=90)
def a_new_controller_after_the_controller_dies(impl: ModuleType) -> None:
    """when the controller's broker dies, another takes over once its session expires — three times in a row"""
    seed = 2
    try:
        cluster = _cluster(impl, seed)
        cluster.sim.advance(5_000)
        for round_number in range(3):
            controllers = cluster.controllers()
            if len(controllers) != 1:
                raise CheckFailed(f"round {round_number + 1}: expected one controller, found {controllers} (seed {seed}): {_who(cluster)}")
            cluster.brokers[controllers[0]].crash()
            took_over = cluster.sim.run_until(lambda: len(cluster.controllers()) == 1, 20_000)
            if not took_over:
                raise CheckFailed(
                    f"round {round_number + 1}: broker {controllers[0]} died and 20 s later no broker is controller "
                    f"(seed {seed}): {_who(cluster)}. The session timeout is 6 s: did elect leave a watch on /controller?")
            survivor = cluster.controllers()[0]
            if round_number < 2:  # a new broker joins, so three stay alive
                replacement = ZkModeBroker(10 * (round_number + 1), cluster.ensemble, 6_000, impl.elect)
                cluster.brokers[replacement.broker_id] = replacement
                cluster.sim.advance(3_000)
            epoch = cluster.brokers[survivor].controller_epoch
            if epoch != round_number + 2:
                raise CheckFailed(f"round {round_number + 1}: the new controller has epoch {epoch}, expected {round_number + 2}")
    except InvariantViolation as broken:
        raise CheckFailed(str(broken)) from None


@check(EXERCISE, points=2, timeout_s=60)
def a_controller_that_sees_another_resigns(impl: ModuleType) -> None:
    """a controller whose /controller watch shows another broker's name resigns"""
    seed = 3
    cluster = _cluster(impl, seed)
    cluster.sim.advance(5_000)
    controller = cluster.controllers()[0] if cluster.controllers() else None
    if controller is None:
        raise CheckFailed(f"no controller after 5 s (seed {seed}): {_who(cluster)}")
    admin = cluster.ensemble.client("grader")
    cluster.ensemble.wait_connected(admin)
    other = next(b for b in cluster.brokers if b != controller)
    # An operator's trick (or a newer controller): /controller replaced by another broker's name.
    cluster.ensemble.call(admin, "set_data", "/controller", controller_znode(other, cluster.sim.now_ms))
    cluster.sim.advance(2_000)
    me = cluster.brokers[controller]
    if me.is_controller:
        raise CheckFailed(f"/controller now names broker {other}, but broker {controller} still acts as controller (seed {seed}); "
                          "when the watch fires, read /controller again and resign if it names someone else")
    if me.active_controller_id != other:
        raise CheckFailed(f"/controller names broker {other}; broker {controller} thinks the controller is {me.active_controller_id}")


@check(EXERCISE, points=2, timeout_s=60)
def never_a_controller_without_winning_in_zookeeper(impl: ModuleType) -> None:
    """nobody is controller unless its own session created /controller"""
    seed = 4
    try:
        cluster = _cluster(impl, seed)
        cluster.sim.advance(5_000)
    except InvariantViolation as broken:
        raise CheckFailed(str(broken)) from None
    admin = cluster.ensemble.client("grader")
    cluster.ensemble.wait_connected(admin)
    data, stat = cluster.ensemble.call(admin, "get_data", "/controller")
    owner = json.loads(data)["brokerid"]
    for broker_id, broker in cluster.brokers.items():
        if broker.is_controller and (broker_id != owner or stat.ephemeral_owner != broker.zk.session_id):
            raise CheckFailed(f"broker {broker_id} acts as controller, but /controller belongs to broker {owner} (seed {seed})")
