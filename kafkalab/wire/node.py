"""One kafkalab server process, sans-IO: a KRaft combined node (controller + broker) fed frames and time.

``ServerNode`` is what ``kafkalab server-start`` runs, minus the sockets: the TCP driver
(:mod:`kafkalab.wire.server`) hands it each request frame with the current time and gets back the
response frame — or nothing yet (a fetch waiting for data, a JoinGroup waiting for the rebalance,
an acks=all produce waiting for replicas), in which case the answer comes out of
:meth:`ServerNode.take_replies` later. Everything Kafka-specific lives in the same sans-IO pieces
the simulator drives: :class:`~kafkalab.broker.Broker` (logs, fetch purgatory, group and
transaction coordinators) and :class:`~kafkalab.broker.Controller` (topics, placement, broker
liveness). This module translates between Kafka's wire messages (decoded by kio) and those
pieces' requests and responses (:mod:`kafkalab.wire.apis`), and keeps the metadata log on disk.

Kafka: kafka.server.KafkaRaftServer / BrokerServer / ControllerServer (combined mode),
KafkaApis (the request dispatch), RequestChannel; KIP-500, KIP-631.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.broker import Broker, Controller
from kafkalab.broker.broker import LogFactory
from kafkalab.broker.messages import (
    CreateTopicsRequest,
    MetadataImage,
    MetadataRecord,
    RegisterBrokerRecord,
)
from kafkalab.config import BrokerConfig
from kafkalab.wire import apis
from kafkalab.wire.protocol import (
    API_VERSIONS_KEY,
    ProtocolError,
    api_name,
    build,
    encode_response,
    read_request_body,
    read_request_header,
    response_class,
)

Reply = bytes | None


class Parked:
    """The request's answer comes later, from :meth:`ServerNode.take_replies`."""

    def __repr__(self) -> str:
        return "PARKED"


PARKED = Parked()
NO_RESPONSE = None  # acks=0: Kafka sends nothing back at all


@dataclass(frozen=True)
class Endpoint:
    listener: str
    host: str
    port: int


@dataclass
class ServerSettings:
    """What ``server.properties`` told the node (kafkalab.wire.properties reads the file)."""

    node_id: int
    cluster_id: str
    broker_config: BrokerConfig
    advertised: tuple[Endpoint, ...]  # where clients reach this broker, first = the client listener
    rack: str | None = None
    socket_request_max_bytes: int = 104857600  # socket.request.max.bytes
    process_roles: tuple[str, ...] = ("broker", "controller")


@dataclass
class Call:
    """One request in flight: where its answer goes and how to encode it."""

    connection: str
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    host: str
    encode: Callable[[Any], dict] | None = None  # core response → wire fields, for parked answers


@dataclass
class MetadataStore:
    """Where the node keeps its metadata log between runs (KRaft: the ``__cluster_metadata`` log).
    ``load`` returns every record so far; ``append`` adds records. kafkalab.wire.metadata_log
    implements it on disk; this default keeps them in memory."""

    records: list[MetadataRecord] = field(default_factory=list)

    def load(self) -> list[MetadataRecord]:
        return list(self.records)

    def append(self, records: list[MetadataRecord]) -> None:
        self.records.extend(records)


def topic_uuid(topic_id: str) -> uuid.UUID:
    """The wire's 16-byte topic id for a kafkalab topic id (KIP-516 topic ids are UUIDs)."""
    return uuid.UUID(hashlib.sha256(topic_id.encode()).hexdigest()[:32])


class ServerNode:
    """A KRaft combined-mode node: the controller and the broker of one process, behind Kafka's APIs."""

    def __init__(self, settings: ServerSettings, log_factory: LogFactory | None = None, store: MetadataStore | None = None,
                 now_ms: int = 0, log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.node_id = settings.node_id
        self.config = settings.broker_config
        self.store = store or MetadataStore()
        self.log = log or (lambda line: None)
        self.controller = Controller(self.config, MetadataImage())
        self.broker = Broker(self.node_id, self.config, log_factory, uuid_rng=random.Random())
        self.broker.controller_id = self.node_id
        self.calls: dict[int, Call] = {}  # internal correlation id → the request it answers
        self._next_id = 0
        self._replies: list[tuple[str, bytes]] = []
        self.started_ms = now_ms
        self.last_retention_check_ms = now_ms
        self._replay(self.store.load(), now_ms)
        self._register(now_ms)

    # -- metadata -------------------------------------------------------------------------------
    def _replay(self, records: list[MetadataRecord], now_ms: int) -> None:
        """Start from the metadata log on disk: the controller and the broker replay it."""
        if records:
            self.controller.append(list(records))
            self.broker.apply_metadata(records, now_ms)
            self.log(f"replayed {len(records)} metadata record(s): {len(self.controller.image.topic_ids)} topic(s)")

    def publish(self, records: list[MetadataRecord] | tuple[MetadataRecord, ...], now_ms: int, appended: bool = False) -> None:
        """Append records to the metadata log (unless the controller already did) and apply them."""
        if not records:
            return
        if not appended:
            self.controller.append(list(records))
        self.store.append(list(records))
        self.broker.apply_metadata(list(records), now_ms)

    def _register(self, now_ms: int) -> None:
        endpoints = tuple((e.listener, e.host, e.port) for e in self.settings.advertised)
        record = RegisterBrokerRecord(self.node_id, self.settings.rack, endpoints)
        if self.controller.image.brokers.get(self.node_id) != record:
            self.publish([record], now_ms)
        self.broker.replica_manager.send_heartbeat()  # unfenced by its first heartbeat, as a KRaft broker is
        self._run_effects(now_ms)

    # -- requests -------------------------------------------------------------------------------
    def handle_frame(self, connection: str, frame: bytes, now_ms: int, host: str = "127.0.0.1") -> bytes | Parked | None:
        """Answer one request frame (without its size prefix). Returns the response frame, PARKED, or
        None for a request Kafka never answers (acks=0). Raises ProtocolError when the connection
        must be closed (an unreadable frame, an unknown API, an unsupported version)."""
        header = read_request_header(frame)
        supported = apis.SUPPORTED.get(header.api_key)
        if supported is None:
            raise ProtocolError(f"unknown API key {header.api_key} (correlation id {header.correlation_id}, "
                                f"client {header.client_id!r})")
        lowest, highest = supported
        if not lowest <= header.api_version <= highest:
            if header.api_key == API_VERSIONS_KEY:  # KIP-511: answer in v0 with the versions we have
                return encode_response(API_VERSIONS_KEY, 0, header.correlation_id, apis.api_versions_error_v0())
            raise ProtocolError(f"{api_name(header.api_key)} v{header.api_version} is not supported "
                                f"(this broker serves v{lowest}-v{highest}); client {header.client_id!r}")
        body = read_request_body(frame, header)
        call = Call(connection, header.api_key, header.api_version, header.correlation_id, header.client_id, host)
        answer = apis.handle(self, call, body, now_ms)
        self._after_work(now_ms)
        if answer is PARKED or answer is None:
            return answer
        return self.encode(call, answer)

    def encode(self, call: Call, fields: dict) -> bytes:
        cls = response_class(call.api_key, call.api_version)
        return encode_response(call.api_key, call.api_version, call.correlation_id, build(cls, fields))

    def new_call_id(self, call: Call) -> int:
        """A correlation id for the core request standing for ``call`` (unique in this process)."""
        self._next_id += 1
        self.calls[self._next_id] = call
        return self._next_id

    def take_replies(self) -> list[tuple[str, bytes]]:
        """Answers to parked requests that completed, as (connection, response frame)."""
        replies, self._replies = self._replies, []
        return replies

    def connection_closed(self, connection: str) -> None:
        """A client went away: forget what it was waiting for (its parked answers are dropped)."""
        for call_id in [i for i, c in self.calls.items() if c.connection == connection]:
            self.calls.pop(call_id)

    # -- time -----------------------------------------------------------------------------------
    def tick(self, now_ms: int) -> None:
        """Let time pass: expire parked fetches, group sessions and produce timeouts; heartbeat;
        fence brokers that stopped heartbeating; run retention every log.retention.check.interval.ms."""
        self.broker.tick_requests(now_ms)
        if now_ms - self.last_retention_check_ms >= self.config["log.retention.check.interval.ms"]:
            self.last_retention_check_ms = now_ms
            self.broker.tick(now_ms)
        for broker_id in self.controller.expired_brokers(now_ms):
            self.publish(self.controller.fence(broker_id), now_ms, appended=False)
        self._after_work(now_ms)

    def next_deadline_ms(self, now_ms: int) -> int:
        deadlines = [self.last_retention_check_ms + self.config["log.retention.check.interval.ms"]]
        for deadline in (self.broker.next_deadline_ms(), self.controller.next_liveness_deadline(now_ms)):
            if deadline is not None:
                deadlines.append(deadline)
        return min(deadlines)

    # -- plumbing between the broker, the controller and the connections -------------------------
    def _after_work(self, now_ms: int) -> None:
        self._run_effects(now_ms)
        for _client, response in self.broker.take_responses():
            call = self.calls.pop(response.correlation_id, None)
            if call is None or call.encode is None:
                continue  # its connection closed meanwhile
            self._replies.append((call.connection, self.encode(call, call.encode(response))))
        for kind, detail in self.broker.drain_events():
            if kind.endswith("error") or kind.startswith(("group.", "log.", "internal_topic")):
                self.log(f"broker {kind} {detail}")

    def _run_effects(self, now_ms: int) -> None:
        """Requests the broker sends to the controller — here, in the same process."""
        for _ in range(100):  # answers may cause more requests; a bound guards against a loop
            effects = self.broker.take_effects()
            if not effects:
                return
            for effect in effects:
                destination, request = effect if isinstance(effect, tuple) else ("controller", CreateTopicsRequest((effect,)))
                if destination != "controller":
                    self.log(f"no peer {destination!r} for {type(request).__name__}: this node runs alone")
                    continue
                answer = self.controller.handle_request(request, now_ms)
                for kind, detail in answer.events:
                    self.log(f"{kind} {detail}")
                for _start, records in answer.published:
                    self.publish(records, now_ms, appended=True)
                self.broker.on_peer_response("controller", answer.response, now_ms)

    def controller_request(self, request: Any, now_ms: int) -> Any:
        """A client request the broker forwards to the controller (CreateTopics, DeleteTopics)."""
        answer = self.controller.handle_request(request, now_ms)
        for _start, records in answer.published:
            self.publish(records, now_ms, appended=True)
        for kind, detail in answer.events:
            self.log(f"{kind} {detail}")
        return answer.response
