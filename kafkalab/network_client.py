"""Which broker a client asks when any broker will do (metadata, FindCoordinator, InitProducerId).

Every broker is a bootstrap server, so a client starts with the one it was given and, once it has
metadata, knows them all. Kafka's NetworkClient.leastLoadedNode picks a node with a usable
connection; here: the known brokers in order, skipping those that recently failed us (a request
timed out), so a client whose bootstrap broker died keeps working through the others.

Kafka: org.apache.kafka.clients.NetworkClient (leastLoadedNode), ClusterConnectionStates
(reconnect.backoff.ms).
"""

from __future__ import annotations

from typing import Callable, Iterable


class NodePicker:
    def __init__(self, bootstrap: str, node_name: Callable[[int], str]) -> None:
        self.bootstrap = bootstrap
        self.node_name = node_name
        self.known: list[str] = [bootstrap]
        self.failed_until: dict[str, int] = {}

    def learn(self, broker_ids: Iterable[int]) -> None:
        """Brokers from a MetadataResponse (the bootstrap server stays first until it fails)."""
        names = [self.node_name(b) for b in sorted(broker_ids)]
        self.known = [self.bootstrap] + [n for n in names if n != self.bootstrap]

    def failed(self, node: str, now_ms: int, backoff_ms: int) -> None:
        self.failed_until[node] = now_ms + backoff_ms

    def pick(self, now_ms: int) -> str:
        for node in self.known:
            if self.failed_until.get(node, -1) <= now_ms:
                return node
        return min(self.known, key=lambda n: self.failed_until.get(n, -1))  # all failed: the one back soonest
