"""A ZooKeeper ensemble and its clients on the simulator.

``ZooKeeperEnsemble(servers=3, seed=…)`` starts the servers (``zk-1`` …); ``ensemble.client("broker-1")``
gives a ZooKeeper client node that connects to one server of its connect string, keeps its session
alive with pings, moves to another server when its server goes silent (keeping the session, its
watches and never going back in zxid), and calls back on replies and watch events. ``ensemble.call``
runs the simulation until one request is answered, for scripts and notebooks.

Invariants after every event: at most one established leader per epoch, and every server applies
the same transaction at the same zxid (ZAB's agreement).

ZooKeeper: org.apache.zookeeper.ZooKeeper, ClientCnxn (session timeout, read timeout = 2/3 of it,
ping interval = 1/3 of the read timeout, the last zxid seen), the ``zookeeper.connect`` string.
"""

from __future__ import annotations

from typing import Any, Callable

from kafkalab.sim import LinkConfig, Network, Node, Simulator
from kafkalab.sim.simulator import Event
from kafkalab.zookeeper.data_tree import CreateTxn, Txn, WatchedEvent, ZooKeeperError
from kafkalab.zookeeper.zab import (
    LEADING,
    ClientPing,
    ClientReply,
    ClientRequest,
    ConnectRequest,
    ConnectResponse,
    WatchNotification,
    ZkDurable,
    ZooKeeperServer,
    zxid,
)


def server_name(sid: int) -> str:
    return f"zk-{sid}"


class ZooKeeperServerNode(Node):
    """A thin driver around :class:`ZooKeeperServer`."""

    def __init__(self, sid: int, ensemble: tuple[int, ...], sim: Simulator, network: Network, tick_ms: int,
                 read_cost_us: int = 0) -> None:
        super().__init__(server_name(sid), sim, network)
        self.sid = sid
        self.ensemble_ids = ensemble
        self.tick_ms = tick_ms
        self.durable = ZkDurable()
        self.server: ZooKeeperServer | None = None
        # A server answers one request at a time (FinalRequestProcessor): with a cost per read, a burst
        # of reads queues up. 0 = instant (the default; the controllers lab sets a measured cost).
        self.read_cost_us = read_cost_us
        self._busy_until_us = 0

    def _trace(self, kind: str, **detail: Any) -> None:
        self.sim.record(f"zk.{kind}", self.node_id, **detail)

    def on_start(self) -> None:
        self.server = ZooKeeperServer(self.sid, self.ensemble_ids, self.durable, self.sim.now_ms, tick_ms=self.tick_ms, trace=self._trace)
        self._after(self.server.take_outbox())

    def on_crash(self) -> None:
        self.server = None

    def on_wipe(self) -> None:
        self.durable = ZkDurable()

    def on_message(self, src: str, message: Any) -> None:
        if self.server is None:
            return
        if self.read_cost_us and isinstance(message, ClientRequest) and message.op[0] in ("get_data", "exists", "get_children"):
            self._busy_until_us = max(self.sim.now_ms * 1000, self._busy_until_us) + self.read_cost_us
            due_ms = -(-self._busy_until_us // 1000)
            if due_ms > self.sim.now_ms:
                self.set_timer(due_ms - self.sim.now_ms, self._handle, src, message)
                return
        self._handle(src, message)

    def _handle(self, src: str, message: Any) -> None:
        if self.server is None:
            return
        sender: Any = int(src[3:]) if src.startswith("zk-") else src
        self._after(self.server.handle(sender, message, self.sim.now_ms))

    def _poll(self) -> None:
        if self.server is not None:
            self._after(self.server.poll(self.sim.now_ms))

    def _after(self, outbound: list[tuple[Any, Any]]) -> None:
        for destination, message in outbound:
            self.send(server_name(destination) if isinstance(destination, int) else destination, message)
        if self.server is None or not self.alive:
            return
        self.wake_at(self.server.next_deadline_ms(), self._poll)


Callback = Callable[[str, Any], None]  # (error code or "", result)


class ZooKeeperClient(Node):
    """A ZooKeeper client (the ``ZooKeeper`` handle and its ClientCnxn) as a simulator node."""

    def __init__(self, name: str, servers: tuple[int, ...], sim: Simulator, network: Network,
                 session_timeout_ms: int = 18_000) -> None:
        super().__init__(name, sim, network)
        self.servers = servers
        self.session_timeout_ms = session_timeout_ms
        self.session_id = 0
        self.state = "CONNECTING"  # CONNECTING, CONNECTED, EXPIRED, CLOSED
        self.server_index = sim.rng(f"zk-client-{name}").randrange(len(servers))  # the connect string is shuffled
        self.last_zxid_seen = 0
        self.xid = 0
        self.pending: dict[int, Callback] = {}
        self.data_watchers: dict[str, list[Callable[[WatchedEvent], None]]] = {}
        self.child_watchers: dict[str, list[Callable[[WatchedEvent], None]]] = {}
        self.on_state: list[Callable[[str], None]] = []
        self.last_heard_ms = 0
        self._ping_timer: Event | None = None

    @property
    def read_timeout_ms(self) -> int:
        return self.session_timeout_ms * 2 // 3

    @property
    def server(self) -> str:
        return server_name(self.servers[self.server_index])

    # -- connection --------------------------------------------------------------------------------
    def on_start(self) -> None:
        self._connect()

    def on_crash(self) -> None:
        self.pending.clear()
        self._ping_timer = None

    def _connect(self) -> None:
        self.state = "CONNECTING" if self.state != "EXPIRED" else self.state
        self.last_heard_ms = self.sim.now_ms
        self.send(self.server, ConnectRequest(self.session_id, self.session_timeout_ms, self.last_zxid_seen))
        self._schedule_ping()

    def _schedule_ping(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
        self._ping_timer = self.set_timer(max(1, self.read_timeout_ms // 3), self._ping)

    def _ping(self) -> None:
        self._ping_timer = None
        if self.state in ("EXPIRED", "CLOSED"):
            return
        if self.sim.now_ms - self.last_heard_ms >= self.read_timeout_ms or self.state == "CONNECTING" and \
                self.sim.now_ms - self.last_heard_ms >= 1000:
            self._connection_lost()
            return
        if self.state == "CONNECTED":
            self.send(self.server, ClientPing(self.session_id))
        self._schedule_ping()

    def _connection_lost(self) -> None:
        was = self.state
        for callback in list(self.pending.values()):
            callback("CONNECTIONLOSS", None)
        self.pending.clear()
        self.server_index = (self.server_index + 1) % len(self.servers)
        self.sim.record("zk.client.disconnected", self.node_id, next_server=self.server)
        if was == "CONNECTED":
            self.state = "CONNECTING"
            self._notify_state("Disconnected")
        self._connect()

    def _notify_state(self, state: str) -> None:
        for listener in list(self.on_state):
            listener(state)

    def on_message(self, src: str, message: Any) -> None:
        if src != self.server:
            return  # an answer from a server this client has left
        self.last_heard_ms = self.sim.now_ms
        if isinstance(message, ConnectResponse):
            self._on_connect_response(message)
        elif isinstance(message, ClientReply):
            self.last_zxid_seen = max(self.last_zxid_seen, message.zxid)
            callback = self.pending.pop(message.xid, None)
            if callback is not None:
                callback(message.error, message.result)
        elif isinstance(message, WatchNotification):
            table = self.child_watchers if message.event.type == "NodeChildrenChanged" else self.data_watchers
            watchers = table.pop(message.event.path, [])
            if message.event.type == "NodeDeleted":
                watchers += self.child_watchers.pop(message.event.path, [])
            for watcher in watchers:
                watcher(message.event)

    def _on_connect_response(self, response: ConnectResponse) -> None:
        if response.error == "SESSIONEXPIRED":
            if self.state != "EXPIRED":
                self.state = "EXPIRED"
                self.sim.record("zk.client.expired", self.node_id, session=hex(response.session_id))
                for callback in list(self.pending.values()):
                    callback("SESSIONEXPIRED", None)
                self.pending.clear()
                self._notify_state("Expired")
            return
        if response.error:
            # This server cannot take us (not serving yet, or behind what we have seen): ClientCnxn
            # waits a little and tries the next host of the connect string.
            self.server_index = (self.server_index + 1) % len(self.servers)
            self.set_timer(200, self._connect)
            return
        first = self.session_id == 0
        self.session_id = response.session_id
        self.state = "CONNECTED"
        self.sim.record("zk.client.connected", self.node_id, server=self.server, session=hex(self.session_id))
        if not first:
            self._reregister_watches()
        self._notify_state("SyncConnected")

    def _reregister_watches(self) -> None:
        # ClientCnxn's SetWatches: after moving to another server, the watches follow the client.
        for path in list(self.data_watchers):
            self._request(("exists", path, True), lambda error, result: None)
        for path in list(self.child_watchers):
            self._request(("get_children", path, True), lambda error, result: None)

    # -- operations (asynchronous: the callback gets (error, result)) ----------------------------
    def _request(self, op: tuple[Any, ...], callback: Callback) -> None:
        if self.state != "CONNECTED":
            callback("SESSIONEXPIRED" if self.state == "EXPIRED" else "CONNECTIONLOSS", None)
            return
        self.xid += 1
        self.pending[self.xid] = callback
        self.send(self.server, ClientRequest(self.session_id, self.xid, op))

    def create(self, path: str, data: bytes, callback: Callback, ephemeral: bool = False, sequential: bool = False) -> None:
        self._request(("create", path, bytes(data), ephemeral, sequential), callback)

    def delete(self, path: str, callback: Callback, version: int = -1) -> None:
        self._request(("delete", path, version), callback)

    def set_data(self, path: str, data: bytes, callback: Callback, version: int = -1) -> None:
        self._request(("set_data", path, bytes(data), version), callback)

    @staticmethod
    def _add_watcher(table: dict[str, list[Callable[[WatchedEvent], None]]], path: str,
                     watcher: Callable[[WatchedEvent], None] | None) -> None:
        """ZKWatchManager keeps a set per path: the same watcher registered twice fires once."""
        if watcher is not None and watcher not in table.setdefault(path, []):
            table[path].append(watcher)

    def get_data(self, path: str, callback: Callback, watcher: Callable[[WatchedEvent], None] | None = None) -> None:
        self._add_watcher(self.data_watchers, path, watcher)
        self._request(("get_data", path, watcher is not None), callback)

    def exists(self, path: str, callback: Callback, watcher: Callable[[WatchedEvent], None] | None = None) -> None:
        self._add_watcher(self.data_watchers, path, watcher)
        self._request(("exists", path, watcher is not None), callback)

    def get_children(self, path: str, callback: Callback, watcher: Callable[[WatchedEvent], None] | None = None) -> None:
        self._add_watcher(self.child_watchers, path, watcher)
        self._request(("get_children", path, watcher is not None), callback)

    def multi(self, ops: list[tuple[Any, ...]], callback: Callback) -> None:
        """All or nothing: ``("create", path, data, ephemeral, sequential)``, ``("delete", path,
        version)``, ``("set_data", path, data, version)``, ``("check", path, version)``."""
        self._request(("multi", [tuple(op) for op in ops]), callback)

    def sync(self, path: str, callback: Callback) -> None:
        self._request(("sync", path), callback)

    def close(self) -> None:
        self._request(("close",), lambda error, result: None)
        self.state = "CLOSED"


class ZooKeeperEnsemble:
    """Servers ``1..n`` on a seeded simulator, with invariants, and clients made on demand."""

    def __init__(self, servers: int = 3, seed: int = 0, *, tick_ms: int = 2000, link: LinkConfig | None = None,
                 sim: Simulator | None = None, network: Network | None = None, check_invariants: bool = True,
                 preload: list[tuple[str, bytes]] | None = None, read_cost_us: int = 0) -> None:
        if servers < 1:
            raise ValueError(f"an ensemble needs at least one server, got {servers}")
        self.sim = sim or Simulator(seed)
        self.network = network or Network(self.sim, link or LinkConfig(latency_ms=1, jitter_ms=1))
        self.ids = tuple(range(1, servers + 1))
        self.servers = {sid: ZooKeeperServerNode(sid, self.ids, self.sim, self.network, tick_ms, read_cost_us) for sid in self.ids}
        if preload:
            # Start from a restored snapshot: the same persistent znodes on every server (epoch 0).
            history = [(zxid(0, counter), CreateTxn(path, data), -1, -1) for counter, (path, data) in enumerate(preload, start=1)]
            for node in self.servers.values():
                node.durable.history = list(history)
        self.clients: dict[str, ZooKeeperClient] = {}
        self.leaders_by_epoch: dict[int, int] = {}
        self.applied: dict[int, Txn] = {}
        self._checked: dict[int, tuple[Any, int]] = {}
        if check_invariants:
            self.sim.add_invariant("one leader per epoch", self._check_one_leader_per_epoch)
            self.sim.add_invariant("servers agree on every applied transaction", self._check_agreement)
        for node in self.servers.values():
            node.start()

    # -- looking ----------------------------------------------------------------------------------
    def server(self, sid: int) -> ZooKeeperServer | None:
        node = self.servers[sid]
        return node.server if node.alive else None

    def leader(self) -> int | None:
        for sid in self.ids:
            server = self.server(sid)
            if server is not None and server.state == LEADING and server.established:
                return sid
        return None

    def describe(self) -> list[dict[str, Any]]:
        rows = []
        for sid in self.ids:
            server = self.server(sid)
            rows.append(server.describe() if server else {"server": sid, "state": "down"})
        return rows

    # -- doing ------------------------------------------------------------------------------------
    def client(self, name: str, session_timeout_ms: int = 18_000, servers: tuple[int, ...] | None = None) -> ZooKeeperClient:
        client = ZooKeeperClient(name, servers or self.ids, self.sim, self.network, session_timeout_ms)
        self.clients[name] = client
        client.start()
        return client

    def run(self, ms: int) -> None:
        self.sim.advance(ms)

    def wait_for_leader(self, timeout_ms: int = 30_000) -> int:
        if not self.sim.run_until(lambda: self.leader() is not None, timeout_ms):
            raise AssertionError(f"the ensemble elected no leader within {timeout_ms} ms (seed {self.sim.seed}): {self.describe()}")
        return self.leader()  # type: ignore[return-value]

    def wait_connected(self, client: ZooKeeperClient, timeout_ms: int = 30_000) -> None:
        if not self.sim.run_until(lambda: client.state == "CONNECTED", timeout_ms):
            raise AssertionError(f"{client.node_id} did not connect within {timeout_ms} ms (state {client.state})")

    def call(self, client: ZooKeeperClient, method: str, *args: Any, timeout_ms: int = 30_000, **kwargs: Any) -> Any:
        """Run one request to completion; its result, or ZooKeeperError with ZooKeeper's code."""
        answer: list[tuple[str, Any]] = []
        getattr(client, method)(*args, callback=lambda error, result: answer.append((error, result)), **kwargs)
        if not self.sim.run_until(lambda: bool(answer), timeout_ms):
            raise ZooKeeperError("OPERATIONTIMEOUT", args[0] if args else "", f"no answer within {timeout_ms} ms")
        error, result = answer[0]
        if error:
            raise ZooKeeperError(error, args[0] if args and isinstance(args[0], str) else "")
        return result

    def crash(self, sid: int) -> None:
        self.servers[sid].crash()

    def restart(self, sid: int) -> None:
        self.servers[sid].restart()

    def partition(self, side_a: list[str], side_b: list[str]) -> None:
        self.network.partition(side_a, side_b)

    def heal(self) -> None:
        self.network.heal()

    # -- invariants -------------------------------------------------------------------------------
    def _check_one_leader_per_epoch(self, _sim: Simulator) -> None:
        for sid in self.ids:
            server = self.server(sid)
            if server is not None and server.state == LEADING and server.established:
                previous = self.leaders_by_epoch.setdefault(server.epoch, sid)
                assert previous == sid, f"two established leaders in epoch {server.epoch}: servers {previous} and {sid}"

    def _check_agreement(self, _sim: Simulator) -> None:
        for sid in self.ids:
            server = self.server(sid)
            if server is None:
                continue
            history = server.durable.history
            applied = server.tree.last_processed_zxid
            cached = self._checked.get(sid)
            start = cached[1] if cached is not None and cached[0] is history else 0
            index = start
            while index < len(history) and history[index][0] <= applied:
                entry_zxid, txn = history[index][0], history[index][1]
                known = self.applied.setdefault(entry_zxid, txn)
                assert known == txn, f"zxid {entry_zxid:#x}: server {sid} applied {txn!r}, another server applied {known!r}"
                index += 1
            # a truncation replaces the list's contents: re-check from the start next time
            self._checked[sid] = (history, index if len(history) >= index else 0)
