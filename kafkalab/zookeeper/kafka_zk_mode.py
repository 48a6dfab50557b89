"""Kafka in ZooKeeper mode (Kafka up to 3.x; removed in 4.0 by KIP-833): how brokers found each
other and chose a controller through ZooKeeper.

The znodes, with the JSON Kafka wrote (kafka.zk.ZkData)::

    /brokers/ids/<id>             ephemeral   BrokerIdZNode v5: endpoints, host, port, rack, timestamp
    /controller                   ephemeral   {"version":1,"brokerid":<id>,"timestamp":"<ms>"}
    /controller_epoch             persistent  "<epoch>" — 0 at first, +1 for every new controller
    /brokers/topics/<topic>       persistent  {"version":3,"topic_id":…,"partitions":{"0":[1,2,3]},…}
    /brokers/topics/<topic>/partitions/<p>/state
                                  persistent  {"controller_epoch":…,"leader":…,"version":1,"leader_epoch":…,"isr":[…]}

**Election.** Every broker tries to create ``/controller``; ZooKeeper lets exactly one create
succeed. Since Kafka 2.0 (KAFKA-6082) the create and the ``/controller_epoch`` increment are one
``multi``, conditional on the epoch znode's version, so two brokers can never take the same epoch.
The others read ``/controller`` and leave a watch on it; when the controller's session ends, the
ephemeral znode goes, the watches fire, and they race again.

**Fencing.** The controller's writes to partition state are ``multi``s that first *check*
``/controller_epoch``'s version: a controller that lost its session (a zombie, e.g. after a long GC
pause) fails with BADVERSION instead of overwriting its successor's decisions.

**Failover cost.** A new controller knows nothing: it must read every broker, every topic and every
partition's state back from ZooKeeper before it can act (``onControllerFailover``) — work that grows
with the partition count. This is the cost KRaft's standby controllers do not pay.

What clients never touched: ZooKeeper's port is for brokers (and, until Kafka 3.0 removed it,
``kafka-topics --zookeeper``); producers and consumers talk to brokers only. Consumer offsets left
ZooKeeper for the ``__consumer_offsets`` topic in 0.9 (0.8's "high-level" consumer had stored them
there).

Kafka: kafka.controller.KafkaController (elect, onControllerFailover, onControllerResignation),
kafka.zk.KafkaZkClient (registerBroker, registerControllerAndIncrementControllerEpoch,
updateLeaderAndIsr), kafka.zk.ZkData (ControllerZNode, ControllerEpochZNode, BrokerIdZNode,
TopicZNode, TopicPartitionStateZNode); KAFKA-6082, KIP-500, KIP-833.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.sim import Simulator
from kafkalab.zookeeper.data_tree import WatchedEvent
from kafkalab.zookeeper.ensemble import ZooKeeperClient, ZooKeeperEnsemble

INITIAL_CONTROLLER_EPOCH = 0  # KafkaController.InitialControllerEpoch


def broker_znode(broker_id: int, now_ms: int, port: int = 9092) -> bytes:
    """BrokerIdZNode.encode (version 5), for a PLAINTEXT listener on localhost."""
    return json.dumps({
        "listener_security_protocol_map": {"PLAINTEXT": "PLAINTEXT"},
        "endpoints": [f"PLAINTEXT://localhost:{port + broker_id}"],
        "jmx_port": -1, "features": {}, "host": "localhost", "timestamp": str(now_ms),
        "port": port + broker_id, "version": 5,
    }, separators=(",", ":")).encode()


def controller_znode(broker_id: int, now_ms: int) -> bytes:
    """ControllerZNode.encode."""
    return json.dumps({"version": 1, "brokerid": broker_id, "timestamp": str(now_ms)}, separators=(",", ":")).encode()


def partition_state_znode(leader: int, leader_epoch: int, isr: list[int], controller_epoch: int) -> bytes:
    """TopicPartitionStateZNode.encode."""
    return json.dumps({"controller_epoch": controller_epoch, "leader": leader, "version": 1,
                       "leader_epoch": leader_epoch, "isr": isr}, separators=(",", ":")).encode()


def topic_znode(assignment: dict[int, list[int]], topic_id: str) -> bytes:
    """TopicZNode.encode (version 3)."""
    return json.dumps({"partitions": {str(p): r for p, r in sorted(assignment.items())}, "topic_id": topic_id,
                       "adding_replicas": {}, "removing_replicas": {}, "version": 3}, separators=(",", ":")).encode()


@dataclass
class ControllerContext:
    """What a new controller read back from ZooKeeper (kafka.controller.ControllerContext)."""

    brokers: dict[int, dict[str, Any]] = field(default_factory=dict)
    topics: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    partition_states: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    reads: int = 0


def elect(broker: ZkModeBroker) -> None:
    """KafkaController.elect: check ``/controller`` with ``exists``, leaving a watch
    (``broker.on_controller_change``) that fires whether it is created, changed or deleted. If there
    is no ``/controller``, try to become the controller (``broker.try_to_become_controller()``);
    if there is, read it, remember the broker it names in ``broker.active_controller_id``, and if
    this broker thought it was the controller but is not named, ``broker.resign(reason)``."""
    # BEGIN EXERCISE ex16_zk_controller_election
    def on_controller(error: str, result: Any) -> None:
        if error == "NONODE":  # deleted between the two reads
            broker.try_to_become_controller()
        elif not error:
            data, _stat = result
            broker.active_controller_id = json.loads(data)["brokerid"]
            if broker.active_controller_id != broker.broker_id and broker.is_controller:
                broker.resign(f"broker {broker.active_controller_id} is the controller now")

    def on_exists(error: str, stat: Any) -> None:
        if error:
            return  # the session is gone or moving: a new session elects again
        if stat is None:
            broker.try_to_become_controller()
        else:
            broker.zk.get_data("/controller", on_controller)

    # exists() leaves a watch even on a znode that does not exist yet (getData would not).
    broker.zk.exists("/controller", on_exists, watcher=broker.on_controller_change)
    # END EXERCISE


class ZkModeBroker:
    """The ZooKeeper-facing part of a ZooKeeper-mode broker: registration and controller election.

    ``elect`` is the seam a learner's election can replace (same signature as :meth:`elect`)."""

    def __init__(self, broker_id: int, ensemble: ZooKeeperEnsemble, session_timeout_ms: int = 18_000,
                 elect: Callable[[ZkModeBroker], None] | None = None) -> None:
        self.broker_id = broker_id
        self.ensemble = ensemble
        self.sim: Simulator = ensemble.sim
        self.session_timeout_ms = session_timeout_ms
        self.elect_rule = elect
        self.active_controller_id = -1
        self.is_controller = False
        self.controller_epoch = -1
        self.controller_epoch_zk_version = -1
        self.context: ControllerContext | None = None
        self.failover_started_ms = -1
        self.failover_done_ms = -1
        self.sessions = 0
        self.alive = True
        self.zk: ZooKeeperClient = self._new_session()

    # -- the ZooKeeper session -------------------------------------------------------------------
    def _new_session(self) -> ZooKeeperClient:
        self.sessions += 1
        client = self.ensemble.client(f"broker-{self.broker_id}" + (f"-s{self.sessions}" if self.sessions > 1 else ""),
                                      self.session_timeout_ms)
        client.on_state.append(lambda state, c=client: self._on_session_state(c, state))
        return client

    def _record(self, kind: str, **detail: Any) -> None:
        self.sim.record(f"kafka.zk.{kind}", f"broker-{self.broker_id}", **detail)

    def _on_session_state(self, client: ZooKeeperClient, state: str) -> None:
        if client is not self.zk or not self.alive:
            return
        if state == "SyncConnected" and self.zk.session_id and not getattr(client, "registered", False):
            client.registered = True  # type: ignore[attr-defined]
            self._register_broker()
        elif state == "Expired":
            # KafkaZkClient's session expiry handler: a new session, then register and elect again.
            self._record("session_expired", was_controller=self.is_controller)
            self.resign("its ZooKeeper session expired")
            self.zk = self._new_session()

    def crash(self) -> None:
        """The broker process dies: its ZooKeeper client stops; the session expires later."""
        self.alive = False
        self.is_controller = False
        self.zk.crash()

    def pause(self) -> None:
        """A long stop-the-world pause: the process is silent but believes what it believed."""
        self.zk.crash()

    def resume(self) -> None:
        self.zk.restart()

    def _register_broker(self) -> None:
        def registered(error: str, _result: Any) -> None:
            if error == "NODEEXISTS":  # the previous session's znode is still there: retry until it expires
                self.zk.set_timer(1000, self._register_broker)
                return
            if error:
                return
            self._record("registered", path=f"/brokers/ids/{self.broker_id}")
            self.elect()

        self.zk.create(f"/brokers/ids/{self.broker_id}", broker_znode(self.broker_id, self.sim.now_ms), registered, ephemeral=True)

    # -- controller election (KafkaController.elect) -----------------------------------------------
    def elect(self) -> None:
        (self.elect_rule or elect)(self)

    def on_controller_change(self, event: WatchedEvent) -> None:
        """The watch on /controller fired (ControllerChangeHandler): deleted → elect again."""
        if not self.alive:
            return
        self._record("controller_watch", event=event.type)
        self.elect()

    def try_to_become_controller(self) -> None:
        """KafkaZkClient#registerControllerAndIncrementControllerEpoch, then onControllerFailover."""
        def with_epoch(error: str, result: Any) -> None:
            if error == "NONODE":
                self.zk.create("/controller_epoch", str(INITIAL_CONTROLLER_EPOCH).encode(),
                               lambda e, r: self.try_to_become_controller() if e in ("", "NODEEXISTS") else None)
                return
            if error:
                return
            data, stat = result
            epoch = int(data)

            def registered(error: str, _result: Any) -> None:
                if error in ("NODEEXISTS", "BADVERSION"):
                    self._record("lost_election", reason=error)
                    self.elect()  # someone else won: learn who, and watch
                    return
                if error:
                    return
                self.controller_epoch = epoch + 1
                self.controller_epoch_zk_version = stat.version + 1
                self.active_controller_id = self.broker_id
                self.is_controller = True
                self._record("became_controller", epoch=self.controller_epoch)
                self.on_controller_failover()

            self.zk.multi([("create", "/controller", controller_znode(self.broker_id, self.sim.now_ms), True, False),
                           ("set_data", "/controller_epoch", str(epoch + 1).encode(), stat.version)], registered)

        self.zk.get_data("/controller_epoch", with_epoch)

    def resign(self, reason: str) -> None:
        if self.is_controller:
            self.is_controller = False
            self._record("resigned", reason=reason, epoch=self.controller_epoch)

    # -- what a new controller does first (KafkaController.onControllerFailover) --------------------
    def on_controller_failover(self) -> None:
        """Read every broker, topic and partition state back from ZooKeeper (pipelined, as
        KafkaZkClient does); ``failover_done_ms`` is when the last answer arrived."""
        context = ControllerContext()
        self.context = context
        self.failover_started_ms = self.sim.now_ms
        self.failover_done_ms = -1
        outstanding = [0]

        def issue(method: str, path: str, done: Callable[[Any], None]) -> None:
            outstanding[0] += 1
            context.reads += 1

            def answered(error: str, result: Any) -> None:
                outstanding[0] -= 1
                if not error:
                    done(result)
                if outstanding[0] == 0 and self.context is context:
                    self.failover_done_ms = self.sim.now_ms
                    self._record("failover_done", reads=context.reads, ms=self.failover_done_ms - self.failover_started_ms,
                                 partitions=len(context.partition_states))

            getattr(self.zk, method)(path, answered)

        def broker_ids(children: list[str]) -> None:
            for child in children:
                issue("get_data", f"/brokers/ids/{child}", lambda result, b=int(child): context.brokers.__setitem__(b, json.loads(result[0])))

        def topics(children: list[str]) -> None:
            for topic in children:
                issue("get_data", f"/brokers/topics/{topic}", lambda result, t=topic: topic_data(t, result[0]))

        def topic_data(topic: str, data: bytes) -> None:
            assignment = {int(p): replicas for p, replicas in json.loads(data)["partitions"].items()}
            context.topics[topic] = assignment
            for partition in sorted(assignment):
                issue("get_data", f"/brokers/topics/{topic}/partitions/{partition}/state",
                      lambda result, key=(topic, partition): context.partition_states.__setitem__(key, json.loads(result[0])))

        issue("get_children", "/brokers/ids", broker_ids)
        issue("get_children", "/brokers/topics", topics)

    def update_leader_and_isr(self, topic: str, partition: int, leader: int, leader_epoch: int, isr: list[int],
                              callback: Callable[[str], None]) -> None:
        """KafkaZkClient#updateLeaderAndIsr: a write fenced by the controller epoch's zkVersion."""
        path = f"/brokers/topics/{topic}/partitions/{partition}/state"
        data = partition_state_znode(leader, leader_epoch, isr, self.controller_epoch)
        self.zk.multi([("check", "/controller_epoch", self.controller_epoch_zk_version),
                       ("set_data", path, data, -1)], lambda error, _result: callback(error))


class ZkModeCluster:
    """A ZooKeeper ensemble and Kafka brokers in ZooKeeper mode, on one simulator."""

    def __init__(self, brokers: int = 3, zookeepers: int = 3, seed: int = 0, session_timeout_ms: int = 18_000,
                 elect: Callable[[ZkModeBroker], None] | None = None, topics: dict[str, int] | None = None,
                 read_cost_us: int = 0) -> None:
        """``topics`` (name → partition count) are already in ZooKeeper when the cluster starts, as if
        restored from a snapshot; ``read_cost_us`` is each ZooKeeper server's time per read."""
        preload: list[tuple[str, bytes]] = [("/brokers", b""), ("/brokers/ids", b""), ("/brokers/topics", b"")]
        for name, count in sorted((topics or {}).items()):
            replicas = list(range(1, brokers + 1))
            assignment = {p: replicas[p % brokers:] + replicas[:p % brokers] for p in range(count)}
            preload.append((f"/brokers/topics/{name}", topic_znode(assignment, name[:22].ljust(22, "A"))))
            preload.append((f"/brokers/topics/{name}/partitions", b""))
            for partition, assigned in assignment.items():
                preload.append((f"/brokers/topics/{name}/partitions/{partition}", b""))
                preload.append((f"/brokers/topics/{name}/partitions/{partition}/state",
                                partition_state_znode(assigned[0], 0, assigned, INITIAL_CONTROLLER_EPOCH)))
        self.ensemble = ZooKeeperEnsemble(zookeepers, seed=seed, preload=preload, read_cost_us=read_cost_us)
        self.sim = self.ensemble.sim
        self.ensemble.wait_for_leader()
        self.brokers = {broker_id: ZkModeBroker(broker_id, self.ensemble, session_timeout_ms, elect)
                        for broker_id in range(1, brokers + 1)}
        self.controllers_by_epoch: dict[int, int] = {}
        self.sim.add_invariant("one controller per controller epoch", self._check_one_controller_per_epoch)

    def controllers(self) -> list[int]:
        """Brokers that believe they are the controller (more than one means a zombie exists)."""
        return [b for b, broker in self.brokers.items() if broker.alive and broker.is_controller]

    def wait_for_controller(self, timeout_ms: int = 60_000) -> int:
        def settled() -> bool:
            return len(self.controllers()) == 1 and all(
                broker.active_controller_id == self.controllers()[0] for broker in self.brokers.values() if broker.alive)
        if not self.sim.run_until(settled, timeout_ms):
            raise AssertionError(f"no single controller within {timeout_ms} ms (seed {self.sim.seed}): "
                                 f"{ {b: (x.is_controller, x.active_controller_id) for b, x in self.brokers.items()} }")
        return self.controllers()[0]

    def _check_one_controller_per_epoch(self, _sim: Simulator) -> None:
        for broker_id, broker in self.brokers.items():
            if broker.is_controller:
                previous = self.controllers_by_epoch.setdefault(broker.controller_epoch, broker_id)
                assert previous == broker_id, (f"brokers {previous} and {broker_id} both became controller "
                                               f"in controller epoch {broker.controller_epoch}")
