"""The simulator's promises: ordering, determinism, faults, crash vs wipe, invariants."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.sim import InvariantViolation, Network, Node, SimulationError, Simulator, Verdict


@dataclass(frozen=True)
class Increment:
    number: int


class Counter(Node):
    """Keeps the numbers it received; only numbers up to ``flushed_upto`` survive a crash."""

    def __init__(self, node_id: str, sim: Simulator, network: Network) -> None:
        super().__init__(node_id, sim, network)
        self.received: list[int] = []
        self.flushed: list[int] = []

    def on_message(self, src: str, message: Any) -> None:
        self.received.append(message.number)

    def flush(self) -> None:
        self.flushed = list(self.received)

    def on_crash(self) -> None:
        self.received = list(self.flushed)

    def on_wipe(self) -> None:
        self.received, self.flushed = [], []


class Sender(Node):
    def __init__(self, node_id: str, sim: Simulator, network: Network, dst: str, count: int) -> None:
        super().__init__(node_id, sim, network)
        self.dst, self.count, self.sent = dst, count, 0

    def on_start(self) -> None:
        self.set_timer(1, self.tick, label="sender.tick")

    def tick(self) -> None:
        self.send(self.dst, Increment(self.sent))
        self.sent += 1
        if self.sent < self.count:
            self.set_timer(self.sim.rng("sender").randint(1, 5), self.tick)


def run_pair(seed: int, **link: Any) -> tuple[Simulator, Counter]:
    sim = Simulator(seed)
    network = Network(sim)
    if link:
        network.set_default(**link)
    counter = Counter("counter", sim, network)
    Sender("sender", sim, network, "counter", 50).start()
    sim.run()
    return sim, counter


def test_events_run_in_time_then_priority_then_scheduling_order() -> None:
    sim = Simulator(1)
    seen: list[str] = []
    sim.schedule(10, seen.append, "b")
    sim.schedule(10, seen.append, "a", priority=-1)
    sim.schedule(5, seen.append, "first")
    sim.schedule(10, seen.append, "c")
    sim.run()
    assert seen == ["first", "a", "b", "c"]
    assert sim.now_ms == 10


def test_cancelled_events_do_not_run_and_run_until_moves_the_clock() -> None:
    sim = Simulator(1)
    seen: list[int] = []
    sim.schedule(3, seen.append, 3).cancel()
    sim.schedule(7, seen.append, 7)
    assert sim.run(until_ms=100) == 1
    assert seen == [7] and sim.now_ms == 100


def test_scheduling_in_the_past_is_an_error() -> None:
    sim = Simulator(1)
    sim.run(until_ms=50)
    with pytest.raises(SimulationError, match="already t=50"):
        sim.schedule_at(10, print)


def test_a_runaway_timer_is_reported() -> None:
    sim = Simulator(1)

    def forever() -> None:
        sim.schedule(0, forever, label="forever")

    sim.schedule(0, forever, label="forever")
    sim.DEFAULT_MAX_EVENTS = 100
    with pytest.raises(SimulationError, match="reschedules itself"):
        sim.run()


def test_named_rngs_are_independent_and_stable() -> None:
    a, b = Simulator(42), Simulator(42)
    a.rng("network").random()  # drawing from one stream must not shift another
    assert a.rng("partitioner").random() == b.rng("partitioner").random()
    assert Simulator(42).rng("x").random() != Simulator(43).rng("x").random()


def test_reliable_links_keep_fifo_order_even_with_jitter() -> None:
    _, counter = run_pair(3, latency_ms=5, jitter_ms=20)
    assert counter.received == list(range(50))


def test_reorder_fault_can_reorder() -> None:
    _, counter = run_pair(3, latency_ms=5, jitter_ms=20, reorder=True)
    assert sorted(counter.received) == list(range(50))
    assert counter.received != list(range(50))


def test_drop_and_duplicate_faults() -> None:
    sim, counter = run_pair(5, drop_rate=0.3, duplicate_rate=0.3)
    assert len(sim.trace.filter("net.drop")) > 0 and len(sim.trace.filter("net.duplicate")) > 0
    assert len(set(counter.received)) < 50
    assert len(counter.received) > len(set(counter.received))


def test_partition_and_filters_drop_messages() -> None:
    sim = Simulator(1)
    network = Network(sim)
    counter = Counter("counter", sim, network)
    Sender("sender", sim, network, "counter", 10).start()
    network.partition(["sender"], ["counter"])
    sim.run(until_ms=1)
    network.heal()
    network.add_filter(lambda src, dst, message: Verdict.DROP if message.number % 2 else Verdict.DELIVER)
    sim.run()
    assert counter.received == [2, 4, 6, 8]
    reasons = {record.detail["reason"] for record in sim.trace.filter("net.drop")}
    assert reasons == {"partitioned", "filter"}


def test_crash_loses_unflushed_state_and_wipe_loses_everything() -> None:
    sim = Simulator(1)
    network = Network(sim)
    counter = Counter("counter", sim, network)
    for number in range(3):
        network.send("counter", "counter", Increment(number))
    sim.run()
    counter.flush()
    network.send("counter", "counter", Increment(3))
    sim.run()
    counter.crash()
    assert counter.received == [0, 1, 2]
    network.send("counter", "counter", Increment(4))  # sent while down: dropped
    sim.run()
    counter.restart()
    assert counter.received == [0, 1, 2]
    counter.wipe()
    assert counter.received == [] and [r.kind for r in sim.trace.tail(2)] == ["node.crash", "node.wipe"]


def test_same_seed_same_trace_and_different_seed_different_trace() -> None:
    first, _ = run_pair(11, latency_ms=3, jitter_ms=7, drop_rate=0.1)
    second, _ = run_pair(11, latency_ms=3, jitter_ms=7, drop_rate=0.1)
    other, _ = run_pair(12, latency_ms=3, jitter_ms=7, drop_rate=0.1)
    assert first.trace.to_text() == second.trace.to_text()
    assert first.trace.digest() != other.trace.digest()


def test_same_seed_same_trace_across_processes_with_different_hash_seeds() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from test_simulator import run_pair
        sim, _ = run_pair(11, latency_ms=3, jitter_ms=7, drop_rate=0.1, duplicate_rate=0.05)
        print(sim.trace.digest())
        """
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script, os.path.dirname(__file__)], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_invariant_violation_names_the_invariant_seed_and_trace() -> None:
    sim = Simulator(99)
    network = Network(sim)
    counter = Counter("counter", sim, network)
    Sender("sender", sim, network, "counter", 10).start()

    def at_most_five(s: Simulator) -> None:
        assert len(counter.received) <= 5, f"received {len(counter.received)} numbers"

    sim.add_invariant("at most five", at_most_five)
    with pytest.raises(InvariantViolation) as caught:
        sim.run()
    message = str(caught.value)
    assert "'at most five'" in message and "seed=99" in message and "net.deliver" in message
    assert caught.value.seed == 99 and len(counter.received) == 6


@settings(derandomize=True, max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), drop=st.floats(0, 0.5), dup=st.floats(0, 0.5))
def test_property_fifo_links_never_reorder_what_they_deliver(seed: int, drop: float, dup: float) -> None:
    sim, counter = run_pair(seed, latency_ms=2, jitter_ms=10, drop_rate=drop, duplicate_rate=dup)
    assert counter.received == sorted(counter.received)
    assert set(counter.received) <= set(range(50))


def test_messages_sent_before_a_crash_do_not_reach_the_restarted_node() -> None:
    sim = Simulator(1)
    network = Network(sim)
    network.set_default(latency_ms=10)
    counter = Counter("counter", sim, network)
    Sender("sender", sim, network, "counter", 1)
    network.send("sender", "counter", Increment(7))
    counter.crash()
    counter.restart()
    sim.run()
    assert counter.received == []
    assert [r.detail["reason"] for r in sim.trace.filter("net.drop")] == ["destination restarted"]


def test_sets_in_trace_details_print_in_a_stable_order() -> None:
    sim = Simulator(1)
    sim.record("example", None, members={"zeta", "alpha", "mid"})
    assert sim.trace.to_text().endswith("members={alpha, mid, zeta}")


def test_stop_tracing_drops_a_kind_of_record_but_keeps_the_numbering() -> None:
    sim = Simulator(seed=1)
    sim.record("net.send", "a")
    sim.stop_tracing("net.")
    sim.record("net.send", "a")
    kept = sim.record("raft.vote", "a")
    assert [r.kind for r in sim.trace] == ["net.send", "raft.vote"]
    assert kept.seq == 3  # as in a full trace
