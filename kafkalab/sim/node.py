"""A node: one single-threaded participant of a simulation (a broker, a client, a controller).

A node reacts to messages and timers and nothing else. ``crash()`` is a process dying: timers are
cancelled, messages in flight to it are dropped, and ``on_crash()`` lets a subclass throw away
whatever it had not flushed to disk. ``wipe()`` is losing the disk as well: ``on_wipe()`` drops the
flushed state too. ``restart()`` brings it back through ``on_restart()`` and ``on_start()``.

Kafka: the distinction RaftEventSimulationTest makes between killing a node and wiping its log.
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
        self.incarnation = 0  # bumped on restart: messages sent to an earlier life are lost
        self._timers: list[Event] = []
        self._prune_at = 64
        self._wake_timer: Event | None = None
        self._wake_timer_at: int | None = None
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
        self.sim.record("node.start", self.node_id)
        self.on_start()

    def send(self, dst: str, message: Any) -> None:
        if not self.alive:
            return
        if self.network is None:
            raise RuntimeError(f"node {self.node_id!r} is on no network")
        self.network.send(self.node_id, dst, message)

    def set_timer(self, delay_ms: int, callback: Callable[..., Any], *args: Any, label: str = "") -> Event:
        """A timer that dies with the node."""
        if len(self._timers) >= self._prune_at:  # forget fired and cancelled timers now and then, not on every call
            self._timers = [timer for timer in self._timers if not timer.cancelled and timer.time_ms >= self.sim.now_ms]
            self._prune_at = max(64, 2 * len(self._timers))
        event = self.sim.schedule(delay_ms, self._fire, callback, args, label=label)
        self._timers.append(event)
        return event

    def wake_at(self, deadline_ms: int | None, callback: Callable[[], Any]) -> None:
        """Keep one wake-up timer at ``deadline_ms`` (None: none). A sans-IO state machine says when
        it next needs time to pass (``next_deadline_ms``); its driver calls this after every step."""
        if deadline_ms == self._wake_timer_at:
            return
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wake_timer_at = deadline_ms
        self._wake_timer = None if deadline_ms is None else self.set_timer(max(0, deadline_ms - self.sim.now_ms), self._woken, callback)

    def _woken(self, callback: Callable[[], Any]) -> None:
        self._wake_timer = self._wake_timer_at = None
        callback()

    def _fire(self, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self.alive:
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
        self._wake_timer = self._wake_timer_at = None
        self.sim.record("node.crash", self.node_id)
        self.on_crash()

    def wipe(self) -> None:
        """Crash and lose the disk as well."""
        self.crash()
        self.sim.record("node.wipe", self.node_id)
        self.on_wipe()

    def restart(self) -> None:
        if self.alive:
            raise RuntimeError(f"node {self.node_id!r} is running; crash it before restarting")
        self.alive = True
        self.incarnation += 1
        self.sim.record("node.restart", self.node_id)
        self.on_restart()
        self.on_start()
