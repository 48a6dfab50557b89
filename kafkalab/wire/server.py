"""The TCP driver: asyncio sockets around a sans-IO ServerNode (kafka.network.SocketServer, in miniature).

Per connection it reads one size-prefixed frame at a time and hands it to the node with the wall
clock's time. Like Kafka, it processes a connection's requests strictly in order: while one is
parked (a long-poll fetch, a JoinGroup), the next is not read, so responses leave in request
order. A timer task wakes the node at its next deadline (expiring fetches and sessions, retention).

Bad input never takes the server down. A frame larger than ``socket.request.max.bytes``, a frame
that cannot be parsed, an unknown API key or an unsupported version closes *that* connection, and
the log says why (Kafka does the same: InvalidReceiveException, InvalidRequestException). A client
that disappears mid-frame is logged and forgotten; what was acknowledged stays acknowledged.

Sockets and threads live only here and in ``kafkalab.wire.launch`` / ``kafkalab.wire.local`` (which start it);
the browser edition never imports it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from typing import Any, Callable

from kafkalab.wire.node import PARKED, ServerNode
from kafkalab.wire.protocol import ProtocolError

LOG = logging.getLogger("kafkalab.server")


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class KafkaServer:
    """Serves one ServerNode on one or more listening sockets."""

    def __init__(self, node: ServerNode | None, addresses: list[tuple[str, int]], max_request_bytes: int = 104857600,
                 clock: Callable[[], int] = wall_clock_ms, listener_names: list[str] | None = None) -> None:
        self.node = node
        self.addresses = addresses
        self.listener_names = listener_names or ["PLAINTEXT"] * len(addresses)
        self.peers: Any = None  # kafkalab.wire.peers.PeerLinks: requests to other nodes (None: this node runs alone)
        self.max_request_bytes = max_request_bytes
        self.clock = clock
        self.servers: list[asyncio.base_events.Server] = []
        self.writers: dict[str, asyncio.StreamWriter] = {}
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self._ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._timer_target = 0
        self.bound: list[tuple[str, int]] = []

    async def start(self) -> None:
        await self.bind()
        self.start_timer()

    async def bind(self) -> None:
        """Listen on every address (port 0: any free port; ``bound`` says which)."""
        for (host, port), listener in zip(self.addresses, self.listener_names):
            server = await asyncio.start_server(functools.partial(self._serve, listener=listener), host, port, limit=2**20)
            self.servers.append(server)
            sockname = server.sockets[0].getsockname()
            self.bound.append((sockname[0], sockname[1]))

    def start_timer(self) -> None:
        self._timer = asyncio.create_task(self._tick_loop())

    async def stop(self) -> None:
        """Stop accepting, close every connection, stop the timer; connection handlers finish."""
        if self.peers is not None:
            await self.peers.close()
        for server in self.servers:
            server.close()
        for writer in list(self.writers.values()):
            writer.close()
        for waiter in list(self.waiting.values()):  # parked requests (a follower's long poll) end with their connection
            if not waiter.done():
                waiter.cancel()
        if self._timer is not None:
            self._timer.cancel()
        handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        await asyncio.gather(*handlers, return_exceptions=True)
        for server in self.servers:
            await server.wait_closed()

    async def serve_forever(self) -> None:
        await self.start()
        await asyncio.gather(*(server.serve_forever() for server in self.servers))

    # -- connections ----------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener: str = "PLAINTEXT") -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        host = str(peer[0])
        connection = f"{host}:{peer[1]}-{next(self._ids)}"
        self.writers[connection] = writer
        try:
            while True:
                try:
                    size_bytes = await reader.readexactly(4)
                except asyncio.IncompleteReadError as partial:
                    if partial.partial:
                        LOG.info("connection %s closed in the middle of a size prefix", connection)
                    break
                size = int.from_bytes(size_bytes, "big", signed=True)
                if size < 0 or size > self.max_request_bytes:
                    LOG.warning("closing %s: invalid receive (size = %d larger than socket.request.max.bytes = %d)",
                                connection, size, self.max_request_bytes)
                    break
                try:
                    frame = await reader.readexactly(size)
                except asyncio.IncompleteReadError as partial:
                    LOG.info("connection %s went away mid-request (%d of %d bytes arrived); nothing of it was applied",
                             connection, len(partial.partial), size)
                    break
                try:
                    answer = self.node.handle_frame(connection, frame, self.clock(), host, listener)
                except ProtocolError as bad:
                    LOG.warning("closing %s: %s", connection, bad)
                    LOG.debug("the frame: %s", frame.hex())
                    break
                except Exception:  # a bug must not take the server down: this connection ends, the rest go on
                    LOG.exception("closing %s: internal error while handling a request", connection)
                    break
                if answer is PARKED:
                    waiter = asyncio.get_running_loop().create_future()
                    self.waiting[connection] = waiter
                    self._deliver()
                    self._maybe_wake()
                    try:
                        await waiter
                    except asyncio.CancelledError:
                        break  # the server is stopping: this parked request ends with its connection
                else:
                    if answer is not None:
                        writer.write(answer)
                    self._deliver()
                    self._maybe_wake()
                if writer.transport.get_write_buffer_size() > 4 * 2**20:
                    await writer.drain()
        except (ConnectionError, OSError) as gone:
            LOG.info("connection %s lost: %s", connection, gone)
        finally:
            self.writers.pop(connection, None)
            waiter = self.waiting.pop(connection, None)
            if waiter is not None and not waiter.done():
                waiter.cancel()
            self.node.connection_closed(connection)
            writer.close()

    def after_peer_answer(self) -> None:
        """An answer from another node was handled: send what it completed, re-arm the timer."""
        self._deliver()
        self._maybe_wake()

    def _deliver(self) -> None:
        """Send the answers of parked requests that completed, and let their connections go on; hand
        requests for other nodes to the peer links."""
        if self.peers is not None:
            self.peers.dispatch()
        for connection, frame in self.node.take_replies():
            writer = self.writers.get(connection)
            if writer is None:
                continue
            writer.write(frame)
            waiter = self.waiting.pop(connection, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _maybe_wake(self) -> None:
        """A request may have made the node's next deadline earlier (a parked fetch): re-arm the timer."""
        if self.node.next_deadline_ms(self.clock()) < self._timer_target:
            self._wake.set()

    async def _tick_loop(self) -> None:
        while True:
            now = self.clock()
            delay_ms = max(1, min(self.node.next_deadline_ms(now) - now, 1000))
            self._timer_target = now + delay_ms
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay_ms / 1000)
            except asyncio.TimeoutError:
                pass
            try:
                self.node.tick(self.clock())
            except Exception:
                LOG.exception("internal error in the broker's timers")
            self._deliver()
