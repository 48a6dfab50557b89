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
with the partition count. This is the cost KRaft's standby controllers do not pay. Then it sends
every live broker an UpdateMetadata for every partition, and elects leaders for partitions whose
leader is gone (often its predecessor's: in ZooKeeper mode the controller is one of the brokers).

**A broker dies.** Its session expires, its ``/brokers/ids/<id>`` goes, and the controller's child
watch on ``/brokers/ids`` fires (BrokerChangeHandler). The controller takes the broker out of every
ISR and elects a new leader where it led (``onBrokerFailure``), writes each changed partition state
to ZooKeeper (fenced), and only then pushes LeaderAndIsr to the replicas and UpdateMetadata to every
broker (:mod:`kafkalab.zookeeper.controller_channel`). A broker that comes back is sent the full
metadata and leads again the partitions that were left without a leader.

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

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.broker.controller import choose_leader
from kafkalab.sim import Simulator
from kafkalab.zookeeper.controller_channel import (
    BrokerMetadataNode,
    LeaderAndIsrRequest,
    LeaderIsr,
    TopicPartition,
    UpdateMetadataRequest,
    broker_node_name,
)
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


LEADER_IMBALANCE_CHECK_INTERVAL_MS = 300_000  # leader.imbalance.check.interval.seconds = 300
LEADER_IMBALANCE_PER_BROKER_PERCENTAGE = 10  # leader.imbalance.per.broker.percentage


@dataclass
class ControllerContext:
    """What a new controller read back from ZooKeeper (kafka.controller.ControllerContext)."""

    brokers: dict[int, dict[str, Any]] = field(default_factory=dict)
    topics: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    partition_states: dict[TopicPartition, LeaderIsr] = field(default_factory=dict)
    reads: int = 0


def partition_state_from_znode(data: bytes) -> LeaderIsr:
    state = json.loads(data)
    return LeaderIsr(state["leader"], state["leader_epoch"], tuple(state["isr"]), state["controller_epoch"])


def changed_partition_states(context: ControllerContext, live: set[int], controller_epoch: int) -> dict[TopicPartition, LeaderIsr]:
    """onBrokerFailure and onBrokerStartup as one rule over every partition:

    * a replica that is not live leaves the ISR — never the last member (``doRemoveReplicasFromIsr``
      keeps it, so the partition remembers whom it waits for);
    * a partition whose leader is not live gets the first live in-sync replica (chapter 05's
      ``choose_leader``; unclean election off), or -1: offline until an ISR member returns;
      a new leader bumps the leader epoch;
    * a live replica outside the ISR of a partition that has a leader rejoins it. In Kafka the
      *leader* does this once the follower has caught up (and tells the controller through
      ``/isr_change_notification``); this control-plane model moves no data, so a returning replica
      counts as caught up at once and the controller writes the change.
    """
    changes: dict[TopicPartition, LeaderIsr] = {}
    for key, state in context.partition_states.items():
        replicas = tuple(context.topics[key[0]][key[1]])
        if state.leader in live and all(r in state.isr for r in replicas if r in live) and all(r in live for r in state.isr):
            continue  # the common case, kept cheap for a million partitions
        isr = list(state.isr)
        for replica in state.isr:
            if replica not in live and len(isr) > 1:
                isr.remove(replica)
        leader, leader_epoch = state.leader, state.leader_epoch
        if leader not in live:
            leader = choose_leader(replicas, tuple(isr), set(replicas) - live, False)
            leader_epoch += 1 if leader != state.leader else 0
        if leader >= 0:
            isr = [r for r in isr if r in live] + [r for r in replicas if r in live and r not in isr]
        if leader == state.leader and tuple(isr) == state.isr:
            continue  # still offline: nobody in the ISR has come back
        changes[key] = LeaderIsr(leader, leader_epoch, tuple(isr), controller_epoch)
    return changes


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


def preferred_leader_changes(context: ControllerContext, live: set[int], controller_epoch: int,
                             imbalance_percentage: int = LEADER_IMBALANCE_PER_BROKER_PERCENTAGE) -> dict[TopicPartition, LeaderIsr]:
    """KafkaController#checkAndTriggerAutoLeaderRebalance (auto.leader.rebalance.enable): after
    failovers leadership piles up on the survivors. For each broker, the share of the partitions it
    should lead (it is their first, *preferred*, replica) that it does not; above
    ``leader.imbalance.per.broker.percentage``, it gets back those where it is live and in sync."""
    should_lead: dict[int, list[TopicPartition]] = {}
    for key in context.partition_states:
        should_lead.setdefault(context.topics[key[0]][key[1]][0], []).append(key)
    changes: dict[TopicPartition, LeaderIsr] = {}
    for preferred, keys in sorted(should_lead.items()):
        not_led = [key for key in keys if context.partition_states[key].leader != preferred]
        if preferred not in live or len(not_led) * 100 <= imbalance_percentage * len(keys):
            continue
        for key in not_led:
            state = context.partition_states[key]
            if preferred in state.isr:
                changes[key] = LeaderIsr(preferred, state.leader_epoch + 1, state.isr, controller_epoch)
    return changes


class ZkModeBroker:
    """The ZooKeeper-facing part of a ZooKeeper-mode broker: registration and controller election.

    ``elect`` is the seam a learner's election can replace (same signature as :meth:`elect`)."""

    def __init__(self, broker_id: int, ensemble: ZooKeeperEnsemble, session_timeout_ms: int = 18_000,
                 elect: Callable[[ZkModeBroker], None] | None = None, apply_cost_us: int = 0) -> None:
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
        # The controller's view of which brokers are live, and a guard that keeps its partition-state
        # changes one batch at a time (Kafka's controller event thread does one event at a time).
        self.live_brokers: set[int] = set()
        self.writing_partition_states = False
        self._recheck = False
        self._correlation = itertools.count(1)
        self.node = BrokerMetadataNode(broker_id, self.sim, ensemble.network, apply_cost_us)
        self.node.start()
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
        self.node.crash()

    def restart(self) -> None:
        """The broker process starts again: a new session, registration, and the election."""
        if self.alive:
            raise RuntimeError(f"broker {self.broker_id} is running; crash it before restarting")
        self.alive = True
        self.context = None
        self.node.restart()
        self.zk = self._new_session()

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
            self.writing_partition_states = self._recheck = False
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

        def issue(method: str, path: str, done: Callable[[Any], None], **watch: Any) -> None:
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
                    self._after_failover()

            getattr(self.zk, method)(path, answered, **watch)

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
                      lambda result, key=(topic, partition): context.partition_states.__setitem__(key, partition_state_from_znode(result[0])))

        # The child watch on /brokers/ids is how the controller hears of brokers dying or joining.
        issue("get_children", "/brokers/ids", broker_ids, watcher=self.on_broker_change)
        issue("get_children", "/brokers/topics", topics)

    def _after_failover(self) -> None:
        """The rest of onControllerFailover: tell every live broker everything, then elect leaders
        for partitions whose leader is not live."""
        if not self.is_controller or self.context is None:
            return
        context = self.context

        def listed(error: str, children: Any) -> None:
            if error or not self.is_controller or self.context is not context:
                return
            self.live_brokers = {int(child) for child in children}
            self.send_update_metadata(self.live_brokers, context.partition_states)
            self.update_partition_states("controller failover")
            self.node.set_timer(LEADER_IMBALANCE_CHECK_INTERVAL_MS, self._check_leader_balance, context)

        # Brokers may have come or gone while it read: list them again (Kafka's controller thread
        # would handle the queued BrokerChange event next).
        self.zk.get_children("/brokers/ids", listed, watcher=self.on_broker_change)

    def _check_leader_balance(self, context: ControllerContext) -> None:
        if not self.is_controller or self.context is not context:
            return
        if not self.writing_partition_states:  # busy: look again at the next check
            self.update_partition_states("preferred leader election", preferred_leader_changes)
        self.node.set_timer(LEADER_IMBALANCE_CHECK_INTERVAL_MS, self._check_leader_balance, context)

    # -- brokers coming and going (BrokerChangeHandler, onBrokerFailure, onBrokerStartup) -------------
    def on_broker_change(self, event: WatchedEvent) -> None:
        if not self.alive or not self.is_controller:
            return
        self.zk.get_children("/brokers/ids", self._brokers_listed, watcher=self.on_broker_change)

    def _brokers_listed(self, error: str, children: Any) -> None:
        if error or not self.is_controller or self.context is None or self.failover_done_ms < 0:
            return  # still failing over: it lists the brokers again when it is done
        now_live = {int(child) for child in children}
        dead, new = sorted(self.live_brokers - now_live), sorted(now_live - self.live_brokers)
        if not dead and not new:
            return
        self._record("broker_change", dead=dead, new=new)
        self.live_brokers = now_live
        if new:  # onBrokerStartup: a (re)started broker knows nothing yet
            self.send_update_metadata(set(new), self.context.partition_states)
        self.update_partition_states(f"brokers {dead} died" if dead else f"brokers {new} started")

    def update_partition_states(self, reason: str, rule: Callable[..., dict[TopicPartition, LeaderIsr]] | None = None) -> None:
        """Write the changed partition states to ZooKeeper, all fenced by the controller epoch; when
        every write is in, push LeaderAndIsr to the replicas and UpdateMetadata to every live broker.
        ``rule`` decides the changes (by default :func:`changed_partition_states`)."""
        if self.writing_partition_states:
            self._recheck = True  # one batch at a time; look again when this one is written
            return
        assert self.context is not None
        context = self.context
        changes = (rule or changed_partition_states)(context, self.live_brokers, self.controller_epoch)
        if not changes:
            return
        self.writing_partition_states = True
        self._record("elect_leaders", reason=reason, partitions=len(changes),
                     offline=sum(1 for state in changes.values() if state.leader < 0))
        outstanding = [len(changes)]
        written: dict[TopicPartition, LeaderIsr] = {}
        fenced: list[str] = []

        def answered(key: TopicPartition, state: LeaderIsr, error: str) -> None:
            outstanding[0] -= 1
            if not error:
                written[key] = state
            elif error == "BADVERSION":
                fenced.append(error)  # /controller_epoch moved on: this controller is a zombie
            if outstanding[0]:
                return
            self.writing_partition_states = False
            if fenced:
                self.resign("a newer controller epoch fenced its partition-state writes (ControllerMovedException)")
                return
            if self.context is not context or not self.is_controller:
                return
            context.partition_states.update(written)
            self.send_leader_and_isr(written)
            update = self.send_update_metadata(self.live_brokers, written)
            self._record("partition_states_written", partitions=len(written), reason=reason, update_metadata=update)
            if len(written) < len(changes):  # the session was moving: KafkaZkClient retries until connected
                self.node.set_timer(100, self.update_partition_states, reason)
            elif self._recheck:
                self._recheck = False
                self.update_partition_states(reason)

        for key, state in sorted(changes.items()):
            self.update_leader_and_isr(key[0], key[1], state.leader, state.leader_epoch, list(state.isr),
                                       lambda error, key=key, state=state: answered(key, state, error))

    # -- the controller's channel to brokers (ControllerChannelManager) -------------------------------
    def send_update_metadata(self, brokers: set[int], partitions: dict[TopicPartition, LeaderIsr]) -> int:
        """Returns the request's correlation id (the experiments look for when each broker applied it)."""
        live = tuple(sorted(self.live_brokers))
        request = UpdateMetadataRequest(self.broker_id, self.controller_epoch, live, partitions, next(self._correlation))
        for broker in sorted(brokers):
            self.node.send(broker_node_name(broker), request)
        return request.correlation_id

    def send_leader_and_isr(self, partitions: dict[TopicPartition, LeaderIsr]) -> None:
        assert self.context is not None
        by_broker: dict[int, dict[TopicPartition, LeaderIsr]] = {}
        for key, state in partitions.items():
            for replica in self.context.topics[key[0]][key[1]]:
                if replica in self.live_brokers:
                    by_broker.setdefault(replica, {})[key] = state
        for broker, states in sorted(by_broker.items()):
            self.node.send(broker_node_name(broker), LeaderAndIsrRequest(self.broker_id, self.controller_epoch, states,
                                                                         next(self._correlation)))

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
                 read_cost_us: int = 0, apply_cost_us: int = 0) -> None:
        """``topics`` (name → partition count) are already in ZooKeeper when the cluster starts, as if
        restored from a snapshot; ``read_cost_us`` is each ZooKeeper server's time per read and
        ``apply_cost_us`` each broker's time per partition state the controller sends it."""
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
        self.brokers = {broker_id: ZkModeBroker(broker_id, self.ensemble, session_timeout_ms, elect, apply_cost_us)
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

    # -- faults and what every broker knows ---------------------------------------------------------
    def crash_broker(self, broker_id: int) -> None:
        self.brokers[broker_id].crash()

    def restart_broker(self, broker_id: int) -> None:
        self.brokers[broker_id].restart()

    def isolate_broker(self, broker_id: int) -> None:
        """Cut a broker (its ZooKeeper session and its controller channel) off from everyone else."""
        broker = self.brokers[broker_id]
        others = [f"zk-{sid}" for sid in self.ensemble.ids] + [
            name for other_id, other in self.brokers.items() if other_id != broker_id
            for name in (other.zk.node_id, other.node.node_id)]
        self.ensemble.network.partition([broker.zk.node_id, broker.node.node_id], others)

    def heal(self) -> None:
        self.ensemble.heal()

    def partition_states(self) -> dict[TopicPartition, LeaderIsr]:
        """The partition states in ZooKeeper, as the active controller last wrote or read them."""
        controllers = self.controllers()
        context = self.brokers[controllers[0]].context if len(controllers) == 1 else None
        return dict(context.partition_states) if context is not None else {}

    def settled(self) -> bool:
        """One controller, done with every change it has to make (no partition led by a dead broker,
        no ISR to shrink or grow), and every running broker would tell clients what it decided."""
        controllers = self.controllers()
        if len(controllers) != 1:
            return False
        controller = self.brokers[controllers[0]]
        context = controller.context
        if context is None or controller.failover_done_ms < 0 or controller.writing_partition_states:
            return False
        if changed_partition_states(context, controller.live_brokers, controller.controller_epoch):
            return False
        return all(broker.node.metadata_cache == context.partition_states
                   for broker in self.brokers.values() if broker.alive)

    def _check_one_controller_per_epoch(self, _sim: Simulator) -> None:
        for broker_id, broker in self.brokers.items():
            if broker.is_controller:
                previous = self.controllers_by_epoch.setdefault(broker.controller_epoch, broker_id)
                assert previous == broker_id, (f"brokers {previous} and {broker_id} both became controller "
                                               f"in controller epoch {broker.controller_epoch}")
