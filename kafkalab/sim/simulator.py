"""The deterministic simulator: virtual time, one event queue, named seeded random generators.

Design: a single-threaded loop pops the earliest event from a heap ordered by
``(time_ms, priority, sequence)`` — a lower priority runs first at the same time, and the sequence
number breaks the remaining ties in scheduling order, so two runs with the same seed execute the
same events in the same order. Time is an integer number of milliseconds and only moves when an
event runs (or when ``run(until_ms=...)`` / ``run_until`` reach their end). Randomness comes only
from ``sim.rng(name)``: each name gets its own ``random.Random`` seeded from SHA-256 of
``(seed, name)`` — never Python's ``hash()``, which is salted per process for strings — so adding a
random draw in the network does not shift the draws of a partitioner. Invariants are checked after
every event; a broken one stops the run with the seed, the time and the last trace lines —
everything needed to replay and explain it. An event may schedule events but not run the loop
itself (that would run later events in the middle of an earlier one).

Nodes never read the wall clock, sleep, start threads or use the module-level ``random``.

Kafka: org.apache.kafka.raft.RaftEventSimulationTest (seeded event loop, invariants after every
event), org.apache.kafka.common.utils.MockTime.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.sim.trace import Trace, TraceRecord, plain_detail

Invariant = Callable[["Simulator"], None]


class SimulationError(RuntimeError):
    """The simulation was driven wrongly (time in the past, a runaway loop, a nested run)."""


class InvariantViolation(AssertionError):
    """An invariant failed after an event. Carries what is needed to replay and explain it."""

    def __init__(self, name: str, seed: int, time_ms: int, message: str, trace_tail: list[TraceRecord]) -> None:
        self.name = name
        self.seed = seed
        self.time_ms = time_ms
        self.message = message
        self.trace_tail = trace_tail
        lines = "\n".join(record.to_text() for record in trace_tail)
        super().__init__(
            f"invariant {name!r} broken at t={time_ms} ms (seed={seed}): {message}\n"
            f"last {len(trace_tail)} trace lines:\n{lines}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Survives pickling (the grader's worker process sends failures back to its parent).
        return (type(self), (self.name, self.seed, self.time_ms, self.message, self.trace_tail))


@dataclass(order=True, slots=True)
class Event:
    """A callback due at ``time_ms``. Cancel it with ``event.cancel()``."""

    time_ms: int
    priority: int
    sequence: int
    callback: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)
    node: str | None = field(compare=False, default=None)

    def cancel(self) -> None:
        self.cancelled = True

    def describe(self) -> str:
        """``t=<time> <label or function>`` for error messages."""
        what = self.label or getattr(self.callback, "__qualname__", repr(self.callback))
        if not self.label and self.args and callable(self.args[0]):  # a node timer: name what it runs
            what += " -> " + getattr(self.args[0], "__qualname__", repr(self.args[0]))
        where = f" [{self.node}]" if self.node is not None else ""
        return f"t={self.time_ms} {what}{where}"


class Simulator:
    """Owns virtual time, the event queue, the random generators, invariants and the trace."""

    DEFAULT_MAX_EVENTS = 10_000_000
    """A run without ``max_events`` stops with SimulationError after this many events."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.now_ms = 0
        self.trace = Trace()
        self.events_run = 0
        self.invariant_trace_lines = 20
        self._queue: list[tuple[int, int, int, Event]] = []
        self._sequence = 0
        self._trace_seq = 0
        self._rngs: dict[str, random.Random] = {}
        self._invariants: list[tuple[str, Invariant]] = []
        self._recent: deque[Event] = deque(maxlen=10)
        self._in_event: Event | None = None

    # -- randomness -------------------------------------------------------------------------
    def rng(self, name: str) -> random.Random:
        """The random generator called ``name``: the same (seed, name) always gives the same draws."""
        if name not in self._rngs:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode("utf-8")).digest()
            self._rngs[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return self._rngs[name]

    # -- scheduling -------------------------------------------------------------------------
    def schedule(
        self, delay_ms: int, callback: Callable[..., Any], *args: Any, priority: int = 0, label: str = "", node: str | None = None
    ) -> Event:
        """Run ``callback(*args)`` ``delay_ms`` from now. A ``label`` puts a ``timer`` line in the trace."""
        if delay_ms < 0:
            raise SimulationError(f"cannot schedule {label or callback!r} {delay_ms} ms in the past")
        return self.schedule_at(self.now_ms + delay_ms, callback, *args, priority=priority, label=label, node=node)

    def schedule_at(
        self, time_ms: int, callback: Callable[..., Any], *args: Any, priority: int = 0, label: str = "", node: str | None = None
    ) -> Event:
        """Run ``callback(*args)`` at simulated time ``time_ms`` (whole milliseconds)."""
        if time_ms != int(time_ms):
            raise SimulationError(f"simulated time is whole milliseconds; got {time_ms!r} for {label or callback!r}")
        if time_ms < self.now_ms:
            raise SimulationError(f"cannot schedule {label or callback!r} at t={time_ms} ms: it is already t={self.now_ms} ms")
        self._sequence += 1
        event = Event(int(time_ms), priority, self._sequence, callback, args, label, False, node)
        heapq.heappush(self._queue, (event.time_ms, priority, self._sequence, event))
        return event

    @property
    def pending(self) -> int:
        """Events still queued (cancelled ones included until they are popped)."""
        return len(self._queue)

    def next_event_time(self) -> int | None:
        """When the next live event is due, or None if nothing is queued."""
        self._drop_cancelled()
        return self._queue[0][0] if self._queue else None

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0][3].cancelled:
            heapq.heappop(self._queue)

    # -- running ----------------------------------------------------------------------------
    def step(self) -> bool:
        """Run the next event, then check the invariants. False when nothing is left to run."""
        self._refuse_nested("step()")
        self._drop_cancelled()
        if not self._queue:
            return False
        event = heapq.heappop(self._queue)[3]
        self.now_ms = event.time_ms
        self._recent.append(event)
        if event.label:
            self.record("timer", event.node, label=event.label)
        self._in_event = event
        try:
            event.callback(*event.args)
        finally:
            self._in_event = None
        self.events_run += 1
        if self._invariants:
            self.check_invariants()
        return True

    def run(self, until_ms: int | None = None, max_events: int | None = None) -> int:
        """Run events due up to ``until_ms`` (inclusive; then the clock is set to it). Returns events run.

        With ``max_events`` the run stops quietly after that many events (the clock stays at the
        last event). Without it, more than ``DEFAULT_MAX_EVENTS`` is a runaway: SimulationError.
        """
        self._refuse_nested("run()")
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
        """Run events until ``predicate()`` holds (True) or ``timeout_ms`` passes (False, clock at the deadline)."""
        self._refuse_nested("run_until()")
        if timeout_ms < 0:
            raise SimulationError(f"timeout_ms must be >= 0, got {timeout_ms}")
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

    def _refuse_nested(self, what: str) -> None:
        if self._in_event is not None:
            raise SimulationError(
                f"{what} called from inside the event {self._in_event.describe()}: an event may schedule "
                "more events (sim.schedule, node.set_timer) but must not run the loop itself"
            )

    def _runaway_message(self, limit: int) -> str:
        events = "\n".join(f"  {event.describe()}" for event in self._recent)
        lines = "\n".join(record.to_text() for record in self.trace.tail(10))
        return (
            f"more than {limit} events without finishing at t={self.now_ms} ms (seed={self.seed}); a timer that "
            f"reschedules itself forever? Pass until_ms, or max_events to stop early.\n"
            f"last {len(self._recent)} events:\n{events}\nlast trace lines:\n{lines}"
        )

    # -- trace and invariants ---------------------------------------------------------------
    def record(self, kind: str, node: str | None = None, **detail: Any) -> TraceRecord:
        """Append a record to the trace at the current simulated time."""
        self._trace_seq += 1
        record = TraceRecord(self.now_ms, self._trace_seq, kind, node, plain_detail(detail))
        self.trace.append(record)
        return record

    def add_invariant(self, name: str, check: Invariant) -> None:
        """``check(sim)`` raises AssertionError when the invariant is broken; run after every event."""
        if any(existing == name for existing, _ in self._invariants):
            raise ValueError(f"an invariant called {name!r} is already checked")
        self._invariants.append((name, check))

    def remove_invariant(self, name: str) -> None:
        self._invariants = [(existing, check) for existing, check in self._invariants if existing != name]

    def check_invariants(self) -> None:
        """Run every invariant now; the first broken one raises InvariantViolation."""
        for name, check in self._invariants:
            try:
                check(self)
            except InvariantViolation:
                raise
            except AssertionError as broken:
                message = str(broken) or "assertion failed"
                tail = self.trace.tail(self.invariant_trace_lines)
                raise InvariantViolation(name, self.seed, self.now_ms, message, tail) from None
