"""Simulator throughput: events per second for timers alone and for messages through a faulty network.

    .venv/bin/python benchmarks/bench_sim.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.sim import Network, Node, Simulator  # noqa: E402


def timers_only(events: int) -> Simulator:
    sim = Simulator(1)
    remaining = [events]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0] > 0:
            sim.schedule(sim.rng("timers").randint(1, 10), tick)

    for _ in range(100):
        sim.schedule(0, tick)
    sim.run()
    return sim


class Echo(Node):
    def __init__(self, node_id: str, sim: Simulator, network: Network, peer: str, budget: list[int]) -> None:
        super().__init__(node_id, sim, network)
        self.peer, self.budget = peer, budget

    def on_message(self, src: str, message: Any) -> None:
        self.budget[0] -= 1
        if self.budget[0] > 0:
            self.send(self.peer, message)


def messages(count: int) -> Simulator:
    sim = Simulator(1)
    network = Network(sim)
    network.set_default(latency_ms=2, jitter_ms=3, drop_rate=0.01, duplicate_rate=0.01)
    budget = [count]
    Echo("a", sim, network, "b", budget)
    Echo("b", sim, network, "a", budget)
    for number in range(50):
        network.send("a", "b", ("ping", number))
    sim.run()
    return sim


def measure(label: str, fn: Any, size: int) -> None:
    start = time.perf_counter()
    sim = fn(size)
    seconds = time.perf_counter() - start
    print(f"{label:<44} {sim.events_run / seconds:12,.0f} events/s  ({sim.events_run:,} events, trace {len(sim.trace):,} lines)")


def main() -> None:
    print_header("simulator")
    measure("timers only", timers_only, 200_000)
    measure("messages, latency+jitter+drop+duplicate", messages, 50_000)


if __name__ == "__main__":
    main()
