"""What a ZooKeeper-mode controller tells brokers, and the broker side that applies it.

In ZooKeeper mode the controller does not leave metadata for brokers to fetch: after it has changed
partition state in ZooKeeper it *pushes* requests to brokers over its ControllerChannelManager:

* **LeaderAndIsr** to the replicas of the partitions that changed: "you lead this partition now, in
  this leader epoch, with this ISR" (or "follow that leader");
* **UpdateMetadata** to every live broker: the leaders and ISRs that clients will be told in
  Metadata responses (the broker's MetadataCache).

Both carry the sender's controller epoch; a broker that has already heard from a newer controller
rejects them with STALE_CONTROLLER_EPOCH — the second half of zombie fencing (the first is the
``/controller_epoch`` check on every ZooKeeper write).

A broker applies a request's partition states one after another, at ``apply_cost_us`` each, and one
request at a time (the controller's channel keeps one request in flight per broker): this is where
a big UpdateMetadata takes its time. Until a broker has applied it, clients asking that broker for
metadata are still sent to the old leader.

Kafka: kafka.controller.ControllerChannelManager, AbstractControllerBrokerRequestBatch,
kafka.server.ReplicaManager#becomeLeaderOrFollower, kafka.server.metadata.ZkMetadataCache;
LeaderAndIsrRequest.json, UpdateMetadataRequest.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from kafkalab.sim import Network, Node, Simulator

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class LeaderIsr:
    """One partition's state as the controller decided it (LeaderIsrAndControllerEpoch)."""

    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    controller_epoch: int


class _Immutable:
    """Requests are frozen and their partition maps read-only (MappingProxyType), so the simulated
    network may hand the same object to every broker instead of copying a million partition states
    for each (its copies exist to keep nodes from sharing *mutable* objects)."""

    def __deepcopy__(self, memo: dict[int, object]) -> _Immutable:
        return self


@dataclass(frozen=True)
class LeaderAndIsrRequest(_Immutable):
    controller_id: int
    controller_epoch: int
    partitions: Mapping[TopicPartition, LeaderIsr]
    correlation_id: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "partitions", MappingProxyType(dict(self.partitions)))


@dataclass(frozen=True)
class UpdateMetadataRequest(_Immutable):
    controller_id: int
    controller_epoch: int
    live_brokers: tuple[int, ...]
    partitions: Mapping[TopicPartition, LeaderIsr]
    correlation_id: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "partitions", MappingProxyType(dict(self.partitions)))


@dataclass
class AppliedRequest:
    """When a broker finished applying a request from the controller, for the experiments."""

    kind: str
    controller_epoch: int
    partitions: int
    at_ms: int
    correlation_id: int


def broker_node_name(broker_id: int) -> str:
    return f"kafka-{broker_id}"


class BrokerMetadataNode(Node):
    """The broker's end of the controller's channel: applies LeaderAndIsr and UpdateMetadata."""

    def __init__(self, broker_id: int, sim: Simulator, network: Network, apply_cost_us: int = 0) -> None:
        super().__init__(broker_node_name(broker_id), sim, network)
        self.broker_id = broker_id
        self.apply_cost_us = apply_cost_us
        self.controller_epoch = -1  # the newest controller epoch heard from
        self.metadata_cache: dict[TopicPartition, LeaderIsr] = {}
        self.live_brokers: tuple[int, ...] = ()
        self.replica_roles: dict[TopicPartition, str] = {}  # from LeaderAndIsr: leader or follower
        self.applied: list[AppliedRequest] = []
        self._busy_until_us = 0

    def on_crash(self) -> None:
        # Everything here lived in memory: a restarted broker waits for the controller to tell it.
        self.controller_epoch = -1
        self.metadata_cache = {}
        self.live_brokers = ()
        self.replica_roles = {}
        self._busy_until_us = 0

    def on_message(self, src: str, message: object) -> None:
        if not isinstance(message, (LeaderAndIsrRequest, UpdateMetadataRequest)):
            raise TypeError(f"broker {self.broker_id} got an unexpected {type(message).__name__} from {src}")
        if message.controller_epoch < self.controller_epoch:
            self.sim.record("kafka.zk.stale_controller_epoch", self.node_id, request=type(message).__name__,
                            from_controller=message.controller_id, its_epoch=message.controller_epoch,
                            known_epoch=self.controller_epoch)
            return
        self.controller_epoch = message.controller_epoch
        now_us = self.sim.now_ms * 1000
        self._busy_until_us = max(now_us, self._busy_until_us) + len(message.partitions) * self.apply_cost_us
        delay_ms = -(-(self._busy_until_us - now_us) // 1000)
        if delay_ms:
            self.set_timer(delay_ms, self._apply, message)
        else:
            self._apply(message)

    def _apply(self, message: LeaderAndIsrRequest | UpdateMetadataRequest) -> None:
        if message.controller_epoch < self.controller_epoch:
            return  # a newer controller spoke while this one waited in the queue
        if isinstance(message, UpdateMetadataRequest):
            self.metadata_cache.update(message.partitions)
            self.live_brokers = message.live_brokers
            kind = "UpdateMetadata"
        else:
            for partition, state in message.partitions.items():
                self.replica_roles[partition] = "leader" if state.leader == self.broker_id else "follower"
            kind = "LeaderAndIsr"
        self.applied.append(AppliedRequest(kind, message.controller_epoch, len(message.partitions), self.sim.now_ms,
                                           message.correlation_id))
        self.sim.record("kafka.zk.applied", self.node_id, request=kind, controller_epoch=message.controller_epoch,
                        partitions=len(message.partitions))

    def leader_of(self, topic: str, partition: int) -> int:
        """What this broker would tell a client (-1: unknown or offline)."""
        state = self.metadata_cache.get((topic, partition))
        return state.leader if state is not None else -1
