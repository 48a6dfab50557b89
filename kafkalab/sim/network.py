"""An in-memory network between named nodes, with faults you switch on one at a time.

Design: ``send(src, dst, message)`` deep-copies the message (``copy.deepcopy``) at the moment it is
sent, so the receiver never shares an object with the sender and changing the original afterwards
changes nothing in flight; frozen dataclasses are the recommended message type all the same. The
copy is delivered after the link's latency. Links are reliable and FIFO by default, as a TCP
connection is: with jitter, a message is never delivered before the previous one on the same link.
Faults are explicit and composable, per link (``set_link``) or for every link without settings of
its own (``set_default``): latency and jitter, drop and duplicate rates, reordering (jitter without
the FIFO rule), partitions between groups of nodes, disconnecting one node, and message filters
(the way ``RaftEventSimulationTest`` injects faults). A partition or disconnect also drops what is
already in flight across it, as a broken connection does.

A message to a node that is down is dropped when it arrives, and so is one sent to an earlier life
of a node that has since restarted (its connections died with the process). Messages a crashed node
had already sent still arrive: they had left the process. All randomness comes from
``sim.rng("network")``. Every send, delivery, drop and duplicate is traced with a message ``id``,
so one message can be followed from ``net.send`` to its ``net.deliver`` or ``net.drop``.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest (MessageRouter; NetworkFilter, whose
``acceptInbound``/``acceptOutbound`` answer true/false as a filter here may); MIT 6.5840's labrpc.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable

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
        if self.latency_ms != int(self.latency_ms) or self.jitter_ms != int(self.jitter_ms):
            raise ValueError(f"latency_ms and jitter_ms are whole milliseconds, got {self.latency_ms} and {self.jitter_ms}")
        for name in ("drop_rate", "duplicate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")


class Verdict(Enum):
    """What a message filter decides for one message."""

    DELIVER = "deliver"
    DROP = "drop"


MessageFilter = Callable[[str, str, Any], "Verdict | int | bool"]
"""``fn(src, dst, message)`` returns Verdict.DELIVER / True, Verdict.DROP / False, or an extra delay in ms."""


class Network:
    """Routes messages between the nodes registered on it."""

    def __init__(self, sim: Simulator, default: LinkConfig | None = None) -> None:
        self.sim = sim
        self.default = default or LinkConfig()
        self.nodes: dict[str, Node] = {}
        self.messages_sent = 0
        self._links: dict[tuple[str, str], LinkConfig] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._disconnected: set[str] = set()
        self._filters: list[MessageFilter] = []
        self._last_delivery: dict[tuple[str, str], int] = {}
        self.rng = sim.rng("network")

    # -- membership -------------------------------------------------------------------------
    def register(self, node: Node) -> None:
        """Put a node on the network (``Node.__init__`` does this when given a network)."""
        if node.node_id in self.nodes:
            raise ValueError(f"a node called {node.node_id!r} is already on this network")
        self.nodes[node.node_id] = node

    # -- faults -----------------------------------------------------------------------------
    def set_link(self, src: str, dst: str, **changes: Any) -> None:
        """Change one direction of a link, e.g. ``set_link("client", "broker-0", drop_rate=0.1)``.

        The link starts from its current settings (the default, if it had none of its own) and keeps
        them from then on: a later ``set_default`` no longer changes it. ``reset_link`` undoes this.
        """
        self._links[(src, dst)] = replace(self.link(src, dst), **changes)

    def reset_link(self, src: str, dst: str) -> None:
        """The link follows the default settings again."""
        self._links.pop((src, dst), None)

    def set_default(self, **changes: Any) -> None:
        """Change every link that has no settings of its own."""
        self.default = replace(self.default, **changes)

    def link(self, src: str, dst: str) -> LinkConfig:
        """The settings messages from ``src`` to ``dst`` get."""
        return self._links.get((src, dst), self.default)

    def partition(self, group_a: Iterable[str], group_b: Iterable[str]) -> None:
        """No message crosses between the two groups (in either direction) until ``heal()``."""
        group_a, group_b = list(group_a), list(group_b)
        both = sorted(set(group_a) & set(group_b))
        if both:
            raise ValueError(f"a node cannot be on both sides of a partition: {both}")
        for a in group_a:
            for b in group_b:
                self._blocked.update({(a, b), (b, a)})
        self.sim.record("net.partition", None, a=",".join(group_a), b=",".join(group_b))

    def heal(self) -> None:
        """Remove every partition (disconnected nodes stay disconnected until ``reconnect``)."""
        self._blocked.clear()
        self.sim.record("net.heal", None)

    def disconnect(self, node_id: str) -> None:
        """Cut one node off from everyone, both directions."""
        self._disconnected.add(node_id)
        self.sim.record("net.disconnect", node_id)

    def reconnect(self, node_id: str) -> None:
        self._disconnected.discard(node_id)
        self.sim.record("net.reconnect", node_id)

    def add_filter(self, message_filter: MessageFilter) -> MessageFilter:
        """Consult ``message_filter(src, dst, message)`` for every message sent from now on; returns it."""
        self._filters.append(message_filter)
        return message_filter

    def remove_filter(self, message_filter: MessageFilter) -> None:
        self._filters.remove(message_filter)

    def clear_filters(self) -> None:
        self._filters.clear()

    def can_reach(self, src: str, dst: str) -> bool:
        """False while a partition or a disconnect stands between ``src`` and ``dst``."""
        return (src, dst) not in self._blocked and src not in self._disconnected and dst not in self._disconnected

    # -- sending ----------------------------------------------------------------------------
    def send(self, src: str, dst: str, message: Any) -> None:
        """Send a copy of ``message`` from ``src`` to ``dst``; it arrives later, or not at all."""
        if dst not in self.nodes:
            raise ValueError(f"unknown destination node {dst!r}; known: {sorted(self.nodes)}")
        if src not in self.nodes:
            raise ValueError(f"unknown source node {src!r}; known: {sorted(self.nodes)}")
        self.messages_sent += 1
        message_id = self.messages_sent
        kind = type(message).__name__
        self.sim.record("net.send", src, dst=dst, message=kind, id=message_id)
        if not self.can_reach(src, dst):
            self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="partitioned")
            return
        config = self.link(src, dst)
        extra_delay = 0
        for message_filter in self._filters:
            verdict = _verdict(message_filter, message_filter(src, dst, message))
            if verdict is Verdict.DROP:
                self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="filter")
                return
            if verdict is not Verdict.DELIVER:
                extra_delay += verdict
        if config.drop_rate and self.rng.random() < config.drop_rate:
            self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="random")
            return
        copies = 2 if config.duplicate_rate and self.rng.random() < config.duplicate_rate else 1
        incarnation = self.nodes[dst].incarnation
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
                self.sim.record("net.duplicate", src, dst=dst, message=kind, id=message_id)
            self.sim.schedule_at(at, self._deliver, src, dst, copy.deepcopy(message), message_id, incarnation)

    def _deliver(self, src: str, dst: str, message: Any, message_id: int, incarnation: int) -> None:
        node = self.nodes[dst]
        kind = type(message).__name__
        if not node.alive:
            self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="destination down")
            return
        if node.incarnation != incarnation:
            self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="destination restarted")
            return
        if not self.can_reach(src, dst):
            self.sim.record("net.drop", src, dst=dst, message=kind, id=message_id, reason="partitioned")
            return
        self.sim.record("net.deliver", dst, src=src, message=kind, id=message_id)
        node.on_message(src, message)


def _verdict(message_filter: MessageFilter, answer: Any) -> Verdict | int:
    """Normalise a filter's answer: a Verdict, or an extra delay in whole ms."""
    if isinstance(answer, Verdict):
        return answer
    if answer is True:
        return Verdict.DELIVER
    if answer is False:
        return Verdict.DROP
    if isinstance(answer, int) and answer >= 0:
        return answer
    name = getattr(message_filter, "__qualname__", repr(message_filter))
    raise TypeError(
        f"message filter {name} returned {answer!r}; return Verdict.DELIVER (or True), Verdict.DROP (or False), "
        "or an extra delay in whole milliseconds (an int >= 0)"
    )
