"""An in-memory network between named nodes, with faults you switch on one at a time.

Design: ``send(src, dst, message)`` copies the message (nodes never share mutable objects) and
schedules its delivery after the link's latency. Links are reliable and FIFO by default, as a
TCP connection is: with jitter, a message is never delivered before the previous one on the same
link. Faults are explicit and composable: extra latency and jitter, drop and duplicate rates,
reordering, partitions between groups of nodes, disconnecting one node, and message filters (the
way ``RaftEventSimulationTest`` injects faults). All randomness comes from ``sim.rng("network")``.
Every send, delivery, drop and duplicate is traced.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest (MessageRouter, NetworkFilter); MIT 6.5840's
labrpc unreliable network.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from kafkalab.sim.node import Node
    from kafkalab.sim.simulator import Simulator


@dataclass(frozen=True)
class LinkConfig:
    """How one direction of a link behaves."""

    latency_ms: int = 1
    jitter_ms: int = 0
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder: bool = False

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError(f"latency_ms and jitter_ms must be >= 0, got {self.latency_ms} and {self.jitter_ms}")
        for name in ("drop_rate", "duplicate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")


class Verdict(Enum):
    """What a message filter decides for one message."""

    DELIVER = "deliver"
    DROP = "drop"


MessageFilter = Callable[[str, str, Any], "Verdict | int"]
"""``fn(src, dst, message)`` returns Verdict.DELIVER, Verdict.DROP, or extra delay in ms."""


class Network:
    """Routes messages between the nodes registered on it."""

    def __init__(self, sim: Simulator, default: LinkConfig | None = None) -> None:
        self.sim = sim
        self.default = default or LinkConfig()
        self.nodes: dict[str, Node] = {}
        self._links: dict[tuple[str, str], LinkConfig] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._disconnected: set[str] = set()
        self._filters: list[MessageFilter] = []
        self._last_delivery: dict[tuple[str, str], int] = {}
        self.rng = sim.rng("network")

    # -- membership -------------------------------------------------------------------------
    def register(self, node: Node) -> None:
        if node.node_id in self.nodes:
            raise ValueError(f"a node called {node.node_id!r} is already on this network")
        self.nodes[node.node_id] = node

    # -- faults -----------------------------------------------------------------------------
    def set_link(self, src: str, dst: str, **changes: Any) -> None:
        """Change one direction of a link, e.g. ``set_link("client", "broker-0", drop_rate=0.1)``."""
        self._links[(src, dst)] = replace(self.link(src, dst), **changes)

    def set_default(self, **changes: Any) -> None:
        """Change every link that has no settings of its own."""
        self.default = replace(self.default, **changes)

    def link(self, src: str, dst: str) -> LinkConfig:
        return self._links.get((src, dst), self.default)

    def partition(self, group_a: list[str], group_b: list[str]) -> None:
        """No message crosses between the two groups (in either direction) until ``heal()``."""
        for a in group_a:
            for b in group_b:
                self._blocked.update({(a, b), (b, a)})
        self.sim.record("net.partition", None, a=",".join(group_a), b=",".join(group_b))

    def heal(self) -> None:
        self._blocked.clear()
        self.sim.record("net.heal", None)

    def disconnect(self, node_id: str) -> None:
        self._disconnected.add(node_id)
        self.sim.record("net.disconnect", node_id)

    def reconnect(self, node_id: str) -> None:
        self._disconnected.discard(node_id)
        self.sim.record("net.reconnect", node_id)

    def add_filter(self, message_filter: MessageFilter) -> None:
        self._filters.append(message_filter)

    def clear_filters(self) -> None:
        self._filters.clear()

    def can_reach(self, src: str, dst: str) -> bool:
        return (src, dst) not in self._blocked and src not in self._disconnected and dst not in self._disconnected

    # -- sending ----------------------------------------------------------------------------
    def send(self, src: str, dst: str, message: Any) -> None:
        """Send a copy of ``message`` from ``src`` to ``dst``; it arrives later, or not at all."""
        if dst not in self.nodes:
            raise ValueError(f"unknown destination node {dst!r}; known: {sorted(self.nodes)}")
        kind = type(message).__name__
        self.sim.record("net.send", src, dst=dst, message=kind)
        if not self.can_reach(src, dst):
            self.sim.record("net.drop", src, dst=dst, message=kind, reason="partitioned")
            return
        config = self.link(src, dst)
        extra_delay = 0
        for message_filter in self._filters:
            verdict = message_filter(src, dst, message)
            if verdict is Verdict.DROP:
                self.sim.record("net.drop", src, dst=dst, message=kind, reason="filter")
                return
            if isinstance(verdict, int) and not isinstance(verdict, bool):
                extra_delay += verdict
        if config.drop_rate and self.rng.random() < config.drop_rate:
            self.sim.record("net.drop", src, dst=dst, message=kind, reason="random")
            return
        copies = 2 if config.duplicate_rate and self.rng.random() < config.duplicate_rate else 1
        for copy_number in range(copies):
            delay = config.latency_ms + extra_delay
            if config.jitter_ms:
                delay += self.rng.randint(0, config.jitter_ms)
            at = self.sim.now_ms + delay
            if not config.reorder:
                # TCP keeps order per connection: never overtake the previous message on this link.
                at = max(at, self._last_delivery.get((src, dst), 0))
                self._last_delivery[(src, dst)] = at
            if copy_number:
                self.sim.record("net.duplicate", src, dst=dst, message=kind)
            self.sim.schedule_at(at, self._deliver, src, dst, copy.deepcopy(message), self.nodes[dst].incarnation)

    def _deliver(self, src: str, dst: str, message: Any, incarnation: int) -> None:
        node = self.nodes[dst]
        kind = type(message).__name__
        if not node.alive:
            self.sim.record("net.drop", src, dst=dst, message=kind, reason="destination down")
            return
        if node.incarnation != incarnation:
            # Sent to the process before it crashed: that connection died with it.
            self.sim.record("net.drop", src, dst=dst, message=kind, reason="destination restarted")
            return
        if not self.can_reach(src, dst):
            self.sim.record("net.drop", src, dst=dst, message=kind, reason="partitioned")
            return
        self.sim.record("net.deliver", dst, src=src, message=kind)
        node.on_message(src, message)
