"""A node: one single-threaded participant of a simulation (a broker, a client, a controller).

Design: a node reacts to messages and timers and nothing else; it never sleeps, starts threads,
reads the wall clock or uses the module-level ``random`` (use ``self.sim.rng(...)``).

Two failures, as Kafka's own simulation tests tell them apart:

- ``crash()`` — the process dies, the disk survives. Timers are cancelled, messages in flight to
  it are dropped (also if it restarts before they arrive: they belonged to dead connections), and
  ``on_crash()`` lets a subclass throw away whatever it had not flushed (page cache, in-memory
  state). What it had flushed is still there on ``restart()``.
- ``wipe()`` — the process dies *and* the disk is lost: a crash, then ``on_wipe()`` drops the
  flushed state too, so the node restarts empty (a replaced machine).

``restart()`` brings it back: ``on_restart()`` rebuilds memory from what survived, then
``on_start()`` runs as on the first ``start()``. Each life is an ``incarnation`` (0, 1, ...).
Every start, crash, wipe and restart is traced.

Kafka: RaftEventSimulationTest's ``Cluster.kill`` vs. ``Cluster.killAndDeletePersistentState``, and
the unflushed tail a broker loses in an unclean shutdown (``log.flush.interval.messages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from kafkalab.sim.network import Network
    from kafkalab.sim.simulator import Event, Simulator


class Node:
    """Base class: subclasses override ``on_message`` and optionally the lifecycle hooks."""

    def __init__(self, node_id: str, sim: Simulator, network: Network | None = None) -> None:
        self.node_id = node_id
        self.sim = sim
        self.network = network
        self.alive = True
        self.incarnation = 0
        self._timers: list[Event] = []
        self._prune_timers_at = 64
        if network is not None:
            network.register(self)

    # -- what subclasses implement ----------------------------------------------------------
    def on_start(self) -> None:
        """Called by ``start()`` and after ``restart()``."""

    def on_message(self, src: str, message: Any) -> None:
        """A message from ``src`` arrived."""
        raise NotImplementedError(f"{type(self).__name__} does not handle messages")

    def on_crash(self) -> None:
        """Drop state that was not flushed (the process died; the disk survives)."""

    def on_wipe(self) -> None:
        """Drop everything, flushed state included (the disk is gone too)."""

    def on_restart(self) -> None:
        """Rebuild in-memory state from what survived, before ``on_start``."""

    # -- what subclasses call ---------------------------------------------------------------
    def start(self) -> None:
        """Start the node's first life (traced as ``node.start``)."""
        self.sim.record("node.start", self.node_id)
        self.on_start()

    def send(self, dst: str, message: Any) -> None:
        """Send ``message`` (a copy of it arrives) to the node ``dst``. A crashed node sends nothing."""
        if not self.alive:
            return
        if self.network is None:
            raise RuntimeError(f"node {self.node_id!r} is on no network")
        self.network.send(self.node_id, dst, message)

    def set_timer(self, delay_ms: int, callback: Callable[..., Any], *args: Any, label: str = "") -> Event:
        """``callback(*args)`` in ``delay_ms``, unless the node crashes first. A label traces it."""
        if len(self._timers) >= self._prune_timers_at:
            self._timers = [timer for timer in self._timers if not timer.cancelled and timer.time_ms >= self.sim.now_ms]
            self._prune_timers_at = max(64, 2 * len(self._timers))
        event = self.sim.schedule(delay_ms, self._fire, callback, args, self.incarnation, label=label, node=self.node_id)
        if self.alive:
            self._timers.append(event)
        else:
            event.cancel()  # a dead process sets no timers
        return event

    def _fire(self, callback: Callable[..., Any], args: tuple[Any, ...], incarnation: int) -> None:
        if self.alive and incarnation == self.incarnation:
            callback(*args)

    # -- faults -----------------------------------------------------------------------------
    def crash(self) -> None:
        """The process dies: timers stop, unflushed state is lost, messages to it are dropped."""
        if not self.alive:
            return
        self.alive = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.sim.record("node.crash", self.node_id)
        self.on_crash()

    def wipe(self) -> None:
        """Crash (if running) and lose the disk as well: the next restart starts empty."""
        self.crash()
        self.sim.record("node.wipe", self.node_id)
        self.on_wipe()

    def restart(self) -> None:
        """Start a new life after a crash or wipe: ``on_restart()`` then ``on_start()``."""
        if self.alive:
            raise RuntimeError(f"node {self.node_id!r} is running; crash it before restarting")
        self.alive = True
        self.incarnation += 1
        self.sim.record("node.restart", self.node_id)
        self.on_restart()
        self.on_start()
