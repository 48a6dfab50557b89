"""A node's connections to the other nodes of its cluster (asyncio): the I/O half of inter-node traffic.

The sans-IO node decides *what* to send (:meth:`ServerNode.take_outgoing`); this module only carries
it. Each (destination, lane) pair gets one TCP connection and sends one request at a time on it,
in order: the controller's "control" lane (registration, heartbeats, AlterPartition, forwarded
CreateTopics), its "metadata" lane (the long-polling metadata fetch), and one "replication" lane per
leader (a follower's Fetch and OffsetForLeaderEpoch). A destination that cannot be reached, or does
not answer within the request timeout, gives the node ``None`` as the answer — the node then
behaves as after a network error (a follower backs off and fetches again; a heartbeat is simply
missed, and the controller fences a broker that misses them for ``broker.session.timeout.ms``).

Kafka: NodeToControllerChannelManager, BrokerBlockingSender / ReplicaFetcherThread's NetworkClient,
KafkaRaftClient's channel.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Callable

from kafkalab.wire.node import Outgoing, ServerNode, topic_uuid
from kafkalab.wire.peer_messages import answer_timeout_ms, decode_response, encode_request, lane
from kafkalab.wire.protocol import ProtocolError, decode_response as decode_frame, encode_request as encode_frame

LOG = logging.getLogger("kafkalab.server")

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_MS = 30_000  # request.timeout.ms / controller.socket.timeout.ms
RECONNECT_BACKOFF_S = 0.2  # reconnect.backoff.ms: after a failure, before the lane tries again


class PeerLinks:
    """Carries a node's outgoing requests to the other nodes and their answers back."""

    def __init__(self, node: ServerNode, controller_address: tuple[str, int] | None, clock: Callable[[], int],
                 after_answer: Callable[[], None]) -> None:
        self.node = node
        self.controller_address = controller_address
        self.clock = clock
        self.after_answer = after_answer
        self.lanes: dict[tuple[int | str, str], _Lane] = {}
        self._closed = False

    def address_of(self, destination: int | str) -> tuple[str, int] | None:
        if destination == "controller":
            return self.controller_address
        assert isinstance(destination, int)
        return self.node.broker_endpoint(destination)

    def dispatch(self) -> None:
        """Queue every request the node wants sent, each on its lane (started on first use)."""
        if self._closed:
            return
        for outgoing in self.node.take_outgoing():
            key = (outgoing.destination, lane(outgoing.message))
            link = self.lanes.get(key)
            if link is None:
                link = self.lanes[key] = _Lane(self, outgoing.destination, key[1])
            link.queue.put_nowait(outgoing)

    async def close(self) -> None:
        self._closed = True
        for link in self.lanes.values():
            link.close()
        await asyncio.gather(*(link.task for link in self.lanes.values()), return_exceptions=True)


class _Lane:
    """One connection to one destination; requests go one at a time, answers come back in order."""

    def __init__(self, links: PeerLinks, destination: int | str, name: str) -> None:
        self.links = links
        self.destination = destination
        self.name = name
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.address: tuple[str, int] | None = None
        self.failing = False
        self._correlation = itertools.count(1)
        self.task = asyncio.create_task(self._run(), name=f"peer-{destination}-{name}")

    def close(self) -> None:
        self.task.cancel()
        if self.writer is not None:
            self.writer.close()

    async def _run(self) -> None:
        while True:
            outgoing = await self.queue.get()
            response = await self._exchange(outgoing)
            try:
                self.links.node.on_peer_answer(outgoing, response, self.links.clock())
            except Exception:  # a bug must not stop the lane: the next request still goes
                LOG.exception("internal error while handling the answer to %s from %s", type(outgoing.message).__name__,
                              self.destination)
            self.links.after_answer()

    async def _connect(self, address: tuple[str, int]) -> None:
        if self.writer is not None and self.address == address and not self.writer.is_closing():
            return
        self._drop_connection()
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(*address, limit=2**20), CONNECT_TIMEOUT_S)
        self.address = address

    def _drop_connection(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _exchange(self, outgoing: Outgoing) -> Any:
        """Send one request and wait for its answer; None when the destination cannot be reached."""
        node = self.links.node
        address = self.links.address_of(self.destination)
        what = f"{type(outgoing.message).__name__} to {'the controller' if self.destination == 'controller' else f'broker {self.destination}'}"
        if address is None:
            self._failed(f"{what}: its address is not known (yet)")
            await asyncio.sleep(RECONNECT_BACKOFF_S)
            return None
        try:
            await self._connect(address)
            assert self.reader is not None and self.writer is not None

            def wire_id(topic: str) -> Any:
                return topic_uuid(node.broker.image.topic_ids[topic])

            api_key, version, body = encode_request(outgoing.message, wire_id, node.broker_epoch)
            correlation_id = next(self._correlation)
            self.writer.write(encode_frame(api_key, version, correlation_id, f"kafkalab-node-{node.node_id}", body))
            await self.writer.drain()
            timeout = answer_timeout_ms(outgoing.message, REQUEST_TIMEOUT_MS) / 1000
            size = int.from_bytes(await asyncio.wait_for(self.reader.readexactly(4), timeout), "big", signed=True)
            frame = await asyncio.wait_for(self.reader.readexactly(size), timeout)
            answered_id, answer = decode_frame(frame, api_key, version)
            if answered_id != correlation_id:
                raise ProtocolError(f"the answer has correlation id {answered_id}, expected {correlation_id}")
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError, ProtocolError) as error:
            self._failed(f"{what} at {address[0]}:{address[1]} failed: {type(error).__name__}: {error}")
            self._drop_connection()
            await asyncio.sleep(RECONNECT_BACKOFF_S)
            return None
        if self.failing:
            LOG.info("%s at %s:%d: reachable again", what, *address)
            self.failing = False
        return decode_response(outgoing.message, answer)

    def _failed(self, why: str) -> None:
        """Log the first failure of a run of them (a dead broker would otherwise fill the log)."""
        if not self.failing:
            LOG.warning(why)
        else:
            LOG.debug(why)
        self.failing = True
