"""The deterministic simulator: virtual time, one event queue, named seeded random generators.

Design: a single-threaded loop pops the earliest event from a heap ordered by
``(time_ms, priority, sequence)`` — the sequence number breaks ties in scheduling order, so two
runs with the same seed execute the same events in the same order. Time only moves when an event
runs. Randomness comes only from ``sim.rng(name)``: each name gets its own ``random.Random`` seeded
from SHA-256 of ``(seed, name)``, so adding a random draw in the network does not shift the draws
of a partitioner. Invariants are checked after every event; a broken one stops the run with the
seed, the time and the last trace lines — everything needed to replay it.

Nodes never read the wall clock, sleep, start threads or use the module-level ``random``.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest (seeded event loop, invariants after every
event), org.apache.kafka.common.utils.MockTime.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.sim.trace import Trace, TraceRecord

Invariant = Callable[["Simulator"], None]


class SimulationError(RuntimeError):
    """The simulation was driven wrongly (time in the past, a runaway loop)."""


class InvariantViolation(AssertionError):
    """An invariant failed after an event. Carries what is needed to replay and explain it."""

    def __init__(self, name: str, seed: int, time_ms: int, message: str, trace_tail: list[TraceRecord]) -> None:
        self.name = name
        self.seed = seed
        self.time_ms = time_ms
        self.trace_tail = trace_tail
        lines = "\n".join(record.to_text() for record in trace_tail)
        super().__init__(
            f"invariant {name!r} broken at t={time_ms} ms (seed={seed}): {message}\n"
            f"last {len(trace_tail)} trace lines:\n{lines}"
        )


@dataclass(order=True)
class Event:
    """A callback due at ``time_ms``. Cancel it with ``event.cancel()``."""

    time_ms: int
    priority: int
    sequence: int
    callback: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)

    def cancel(self) -> None:
        self.cancelled = True


class Simulator:
    """Owns virtual time, the event queue, the random generators, invariants and the trace."""

    DEFAULT_MAX_EVENTS = 10_000_000

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.now_ms = 0
        self.trace = Trace()
        self._untraced: tuple[str, ...] = ()
        self._queue: list[Event] = []
        self._sequence = 0
        self._trace_seq = 0
        self._rngs: dict[str, random.Random] = {}
        self._invariants: list[tuple[str, Invariant]] = []
        self.events_run = 0
        self.in_event = False  # True while an event's callback runs: blocking calls must not nest a run

    # -- randomness -------------------------------------------------------------------------
    def rng(self, name: str) -> random.Random:
        """The random generator called ``name``: the same (seed, name) always gives the same draws."""
        if name not in self._rngs:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode("utf-8")).digest()
            self._rngs[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return self._rngs[name]

    # -- scheduling -------------------------------------------------------------------------
    def schedule(self, delay_ms: int, callback: Callable[..., Any], *args: Any, priority: int = 0, label: str = "") -> Event:
        """Run ``callback(*args)`` ``delay_ms`` from now."""
        if delay_ms < 0:
            raise SimulationError(f"cannot schedule {label or callback!r} {delay_ms} ms in the past")
        return self.schedule_at(self.now_ms + delay_ms, callback, *args, priority=priority, label=label)

    def schedule_at(self, time_ms: int, callback: Callable[..., Any], *args: Any, priority: int = 0, label: str = "") -> Event:
        """Run ``callback(*args)`` at simulated time ``time_ms``."""
        if time_ms < self.now_ms:
            raise SimulationError(f"cannot schedule {label or callback!r} at t={time_ms} ms: it is already t={self.now_ms} ms")
        self._sequence += 1
        event = Event(int(time_ms), priority, self._sequence, callback, args, label)
        heapq.heappush(self._queue, event)
        return event

    @property
    def pending(self) -> int:
        """Events still queued (cancelled ones included until they are popped)."""
        return len(self._queue)

    def next_event_time(self) -> int | None:
        self._drop_cancelled()
        return self._queue[0].time_ms if self._queue else None

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)

    # -- running ----------------------------------------------------------------------------
    def step(self) -> bool:
        """Run the next event. False when nothing is left to run."""
        self._drop_cancelled()
        if not self._queue:
            return False
        event = heapq.heappop(self._queue)
        self.now_ms = event.time_ms
        if event.label:
            self.record("timer", None, label=event.label)
        self.in_event = True
        try:
            event.callback(*event.args)
        finally:
            self.in_event = False
        self.events_run += 1
        self.check_invariants()
        return True

    def run(self, until_ms: int | None = None, max_events: int | None = None) -> int:
        """Run events (up to ``until_ms`` inclusive, then set the clock to it). Returns events run."""
        limit = self.DEFAULT_MAX_EVENTS if max_events is None else max_events
        if until_ms is not None and until_ms < self.now_ms:
            raise SimulationError(f"cannot run until t={until_ms} ms: it is already t={self.now_ms} ms")
        count = 0
        while True:
            next_time = self.next_event_time()
            if next_time is None or (until_ms is not None and next_time > until_ms):
                break
            if count >= limit:
                if max_events is not None:
                    return count
                raise SimulationError(self._runaway_message(limit))
            self.step()
            count += 1
        if until_ms is not None:
            self.now_ms = until_ms
        return count

    def advance(self, delta_ms: int) -> int:
        """Run everything due in the next ``delta_ms`` and move the clock forward by it."""
        return self.run(until_ms=self.now_ms + delta_ms)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: int) -> bool:
        """Run events until ``predicate()`` holds (True) or ``timeout_ms`` passes (False)."""
        deadline = self.now_ms + timeout_ms
        count = 0
        while not predicate():
            next_time = self.next_event_time()
            if next_time is None or next_time > deadline:
                self.now_ms = max(self.now_ms, deadline)
                return predicate()
            if count >= self.DEFAULT_MAX_EVENTS:
                raise SimulationError(self._runaway_message(count))
            self.step()
            count += 1
        return True

    def _runaway_message(self, limit: int) -> str:
        last = "\n".join(record.to_text() for record in self.trace.tail(10))
        return f"more than {limit} events without finishing (a timer that reschedules itself forever?); last trace lines:\n{last}"

    # -- trace and invariants ---------------------------------------------------------------
    def record(self, kind: str, node: str | None = None, **detail: Any) -> TraceRecord:
        """Append a record to the trace at the current simulated time."""
        self._trace_seq += 1
        record = TraceRecord(self.now_ms, self._trace_seq, kind, node, detail)
        if not (self._untraced and kind.startswith(self._untraced)):
            self.trace.append(record)
        return record

    def stop_tracing(self, *prefixes: str) -> None:
        """Keep no trace records whose kind starts with one of ``prefixes`` (e.g. ``"net."``): for
        experiments with millions of messages, whose memory the trace would otherwise hold. Sequence
        numbers still count them, so the records that are kept are numbered as in a full trace."""
        self._untraced = tuple(sorted(set(self._untraced) | set(prefixes)))

    def add_invariant(self, name: str, check: Invariant) -> None:
        """``check(sim)`` raises AssertionError when the invariant is broken; run after every event."""
        self._invariants.append((name, check))

    def check_invariants(self) -> None:
        for name, check in self._invariants:
            try:
                check(self)
            except InvariantViolation:
                raise
            except AssertionError as broken:
                raise InvariantViolation(name, self.seed, self.now_ms, str(broken), self.trace.tail(20)) from None
