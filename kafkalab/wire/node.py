"""One kafkalab server process, sans-IO: a KRaft node (combined controller + broker, or broker only) fed frames and time.

``ServerNode`` is what ``kafkalab server-start`` runs, minus the sockets: the TCP driver
(:mod:`kafkalab.wire.server`) hands it each request frame with the current time and gets back the
response frame — or nothing yet (a fetch waiting for data, a JoinGroup waiting for the rebalance,
an acks=all produce waiting for replicas), in which case the answer comes out of
:meth:`ServerNode.take_replies` later. Everything Kafka-specific lives in the same sans-IO pieces
the simulator drives: :class:`~kafkalab.broker.Broker` (logs, fetch purgatory, group and
transaction coordinators) and :class:`~kafkalab.broker.Controller` (topics, placement, broker
liveness). This module translates between Kafka's wire messages (decoded by kio) and those
pieces' requests and responses (:mod:`kafkalab.wire.apis`), and keeps the metadata log on disk.

Several nodes make a cluster: one combined node (``process.roles=broker,controller``) and
broker-only nodes (``process.roles=broker``) that reach it on its CONTROLLER listener. What a node
sends to another — registration, heartbeats, metadata fetches, AlterPartition, a follower's Fetch,
a client's CreateTopics forwarded to the controller — leaves as :class:`Outgoing` requests from
:meth:`ServerNode.take_outgoing`; the driver carries them (in Kafka's wire format,
:mod:`kafkalab.wire.peer_messages`) and hands the answers to :meth:`ServerNode.on_peer_answer`.

Kafka: kafka.server.KafkaRaftServer / BrokerServer / ControllerServer (combined mode),
KafkaApis (the request dispatch), RequestChannel; KIP-500, KIP-631.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkalab.broker import Broker, Controller
from kafkalab.broker.broker import LogFactory
from kafkalab.broker.messages import (
    BrokerHeartbeatRequest,
    CreateTopicsRequest,
    MetadataImage,
    MetadataRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from kafkalab.config import BrokerConfig
from kafkalab.errors import (
    DuplicateBrokerRegistrationError,
    InconsistentClusterIdError,
    StaleBrokerEpochError,
    error_for_code,
)
from kafkalab.wire import apis
from kafkalab.wire.metadata_log import encode_metadata_batch
from kafkalab.wire.peer_messages import (
    AllocateProducerIds,
    MetadataBatch,
    MetadataFetch,
    ProducerIdBlock,
    RegisterBroker,
    Registered,
    failure_response,
)
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
RETRY_BACKOFF_MS = 100  # retry.backoff.ms: a failed metadata fetch is tried again after this


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
    controller_id: int = -1  # a broker-only node: the node id of the controller it reaches
    controller_listener_names: tuple[str, ...] = ("CONTROLLER",)  # controller.listener.names


@dataclass(frozen=True)
class Outgoing:
    """A request this node sends another: to a broker (by id) or to ``"controller"``. ``call_id``:
    a client's request forwarded to the controller, whose answer goes back to that client."""

    destination: int | str
    message: Any
    call_id: int | None = None


@dataclass
class _MetadataWaiter:
    call: "Call"
    offset: int
    deadline_ms: int
    encode: Callable[[bytes, int], dict]


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
    listener: str = "PLAINTEXT"  # the listener it arrived on


@dataclass
class MetadataStore:
    """Where the node keeps its metadata log between runs (KRaft: the ``__cluster_metadata`` log).
    ``load`` returns every record so far; ``append`` adds records. kafkalab.wire.metadata_log
    implements it on disk; this default keeps them in memory."""

    records: list[MetadataRecord] = field(default_factory=list)
    batches: list[tuple[int, int, bytes]] = field(default_factory=list)  # (base offset, record count, batch)

    def load(self) -> list[MetadataRecord]:
        return list(self.records)

    @property
    def end_offset(self) -> int:
        return len(self.records)

    def read_raw(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches from the one holding ``offset`` (at least one, then up to ``max_bytes``)."""
        out = bytearray()
        for base, count, data in self.batches:
            if base + count <= offset:
                continue
            if out and len(out) + len(data) > max_bytes:
                break
            out += data
        return bytes(out)

    def append(self, records: list[MetadataRecord]) -> None:
        self.batches.append((len(self.records), len(records), encode_metadata_batch(records, len(self.records))))
        self.records.extend(records)


def topic_uuid(topic_id: str) -> uuid.UUID:
    """The wire's 16-byte topic id for a kafkalab topic id (KIP-516 topic ids are UUIDs)."""
    return uuid.UUID(hashlib.sha256(topic_id.encode()).hexdigest()[:32])


def kafka_uuid_string(value: uuid.UUID) -> str:
    """Kafka's Uuid.toString: the 16 bytes in URL-safe base64, without padding."""
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


class ServerNode:
    """A KRaft node behind Kafka's APIs: combined (the controller and a broker in one process) or broker-only."""

    def __init__(self, settings: ServerSettings, log_factory: LogFactory | None = None, store: MetadataStore | None = None,
                 now_ms: int = 0, log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.node_id = settings.node_id
        self.config = settings.broker_config
        self.store = store or MetadataStore()
        self.log = log or (lambda line: None)
        self.is_controller = "controller" in settings.process_roles
        self.controller: Controller | None = Controller(self.config, MetadataImage()) if self.is_controller else None
        self.broker = Broker(self.node_id, self.config, log_factory, uuid_rng=random.Random())
        self.broker.controller_id = self.node_id if self.is_controller else settings.controller_id
        # Every KRaft broker heartbeats every broker.heartbeat.interval.ms, and the controller fences any that
        # stops (the simulator's economy — only brokers with replicated partitions — is not needed here).
        self.broker.replica_manager.always_heartbeat = True
        if self.controller is not None:
            self.controller.every_broker_heartbeats = True
        self.calls: dict[int, Call] = {}  # internal correlation id → the request it answers
        self._next_id = 0
        self._replies: list[tuple[str, bytes]] = []
        self._outgoing: list[Outgoing] = []
        self.started_ms = now_ms
        self.last_retention_check_ms = now_ms
        # The controller's side: broker epochs handed out at registration, metadata fetches waiting for news.
        self.broker_epochs: dict[int, int] = {}
        self._metadata_waiters: list[_MetadataWaiter] = []
        # A broker-only node's side: its registration and how far it has read the metadata log.
        self.broker_epoch = -1
        self.incarnation_id = uuid.uuid4()
        self.caught_up = self.is_controller
        self._metadata_fetch_in_flight = False
        self._metadata_fetch_due: int | None = None
        self._metadata_error = 0
        self._registration_due: int | None = None
        self._producer_ids_wanted = False
        self._now_ms = now_ms
        if self.is_controller:
            self._replay(self.store.load(), now_ms)
            self._register(now_ms)
            self.broker.producer_ids.use_controller_blocks(self._request_producer_ids)
        else:
            # KRaft broker start-up (BrokerServer, BrokerLifecycleManager): register with the controller and
            # read the metadata log from the start; lead or follow nothing until caught up.
            self.broker.catching_up = True
            self._send_registration()
            self._fetch_metadata()
            self.broker.producer_ids.use_controller_blocks(self._request_producer_ids)

    # -- metadata -------------------------------------------------------------------------------
    def _replay(self, records: list[MetadataRecord], now_ms: int) -> None:
        """Start from the metadata log on disk: the controller and the broker replay it."""
        if records and self.controller is not None:
            self.controller.append(list(records))
            # Topic ids come from the name and a creation count: continue the count, so that a topic
            # deleted and created again after a restart gets a new id (as KIP-516 requires).
            self.controller._topics_created = sum(isinstance(r, TopicRecord) for r in records)
            self.broker.apply_metadata(records, now_ms)
            self._record_topic_ids()
            self.log(f"replayed {len(records)} metadata record(s): {len(self.controller.image.topic_ids)} topic(s)")

    def publish(self, records: list[MetadataRecord] | tuple[MetadataRecord, ...], now_ms: int, appended: bool = False) -> None:
        """Append records to the metadata log (unless the controller already did) and apply them; wake the
        brokers whose metadata fetches are waiting."""
        if not records:
            return
        assert self.controller is not None, "only the controller publishes metadata"
        if not appended:
            self.controller.append(list(records))
        self.store.append(list(records))
        self.broker.apply_metadata(list(records), now_ms)
        self._record_topic_ids()
        self.broker.replica_manager.poll_fetchers(now_ms)  # a new follower starts fetching now, not at the next tick
        self._answer_metadata_waiters(now_ms)

    def _record_topic_ids(self) -> None:
        """Each partition directory names its topic's id in ``partition.metadata`` (KIP-516), as Kafka's
        brokers write it when they create a log: a directory left from a deleted topic of the same name
        is then told apart."""
        for (topic, _partition), log in self.broker.logs.items():
            topic_id = self.broker.image.topic_ids.get(topic)
            if topic_id is None or not hasattr(log, "assign_topic_id") or getattr(log, "topic_id", None) is not None:
                continue
            try:
                log.assign_topic_id(kafka_uuid_string(topic_uuid(topic_id)))
            except Exception as refused:  # noqa: BLE001 - InconsistentTopicIdException: say so, keep serving
                self.log(f"partition.metadata: {refused}")

    def _register(self, now_ms: int) -> None:
        endpoints = tuple((e.listener, e.host, e.port) for e in self.settings.advertised)
        record = RegisterBrokerRecord(self.node_id, self.settings.rack, endpoints)
        assert self.controller is not None
        if self.controller.image.brokers.get(self.node_id) != record:
            self.publish([record], now_ms)
        self.broker.replica_manager.send_heartbeat()  # unfenced by its first heartbeat, as a KRaft broker is
        self._schedule_heartbeats(now_ms)
        self._run_effects(now_ms)

    def _schedule_heartbeats(self, now_ms: int) -> None:
        self.broker.replica_manager.next_heartbeat_ms = now_ms + self.config["broker.heartbeat.interval.ms"]

    # -- the controller's side of other nodes' requests ------------------------------------------
    def register_broker(self, broker_id: int, cluster_id: str, endpoints: tuple[tuple[str, str, int], ...], rack: str | None,
                        now_ms: int) -> tuple[int, int]:
        """BrokerRegistration (ClusterControlManager.registerBroker): (error code, broker epoch). Every
        registration appends a RegisterBrokerRecord; its offset is the broker's new epoch."""
        assert self.controller is not None
        if cluster_id != self.settings.cluster_id:
            self.log(f"refused the registration of broker {broker_id}: it was formatted for cluster {cluster_id}, "
                     f"this is cluster {self.settings.cluster_id}")
            return InconsistentClusterIdError.error_code, -1
        if broker_id == self.node_id:
            self.log(f"refused the registration of broker {broker_id}: that is this node's own node.id")
            return DuplicateBrokerRegistrationError.error_code, -1
        epoch = len(self.controller.log)
        self.publish([RegisterBrokerRecord(broker_id, rack, endpoints)], now_ms)
        self.broker_epochs[broker_id] = epoch
        self.log(f"registered broker {broker_id} (epoch {epoch}) at {', '.join(f'{n}://{h}:{p}' for n, h, p in endpoints)}")
        return 0, epoch

    def allocate_producer_ids(self, broker_id: int, broker_epoch: int, now_ms: int) -> tuple[int, int, int]:
        """AllocateProducerIds (KIP-730): (error code, first id, how many) for a registered broker."""
        assert self.controller is not None
        if broker_id != self.node_id and self.broker_epochs.get(broker_id) != broker_epoch:
            return StaleBrokerEpochError.error_code, -1, 0
        start, records = self.controller.allocate_producer_ids(broker_id)
        self.publish(records, now_ms)
        return 0, start, records[0].next_producer_id - start

    def _request_producer_ids(self) -> None:
        """The broker's producer-id manager wants its next block."""
        if self.controller is not None:  # our own controller answers at once
            _error, start, length = self.allocate_producer_ids(self.node_id, -1, self._now_ms)
            self.broker.producer_ids.add_block(start, length)
        elif self.broker_epoch >= 0:
            self._outgoing.append(Outgoing("controller", AllocateProducerIds(self.node_id)))
        else:
            self._producer_ids_wanted = True  # asked for once registered

    def broker_heartbeat(self, broker_id: int, broker_epoch: int, metadata_offset: int, now_ms: int) -> tuple[int, bool]:
        """BrokerHeartbeat: (error code, is fenced). A heartbeat from an epoch that is not the broker's
        latest registration is stale (the process restarted and must register again)."""
        if self.broker_epochs.get(broker_id) != broker_epoch:
            return StaleBrokerEpochError.error_code, True  # the broker registers again
        response = self.controller_request(BrokerHeartbeatRequest(broker_id, metadata_offset, 0, broker_epoch), now_ms)
        return response.error_code, response.is_fenced

    def fetch_metadata_log(self, call: "Call", offset: int, max_wait_ms: int, now_ms: int,
                           encode: Callable[[bytes, int], dict]) -> Any:
        """A broker's Fetch of ``__cluster_metadata-0``: the batches from ``offset``, or (nothing new yet)
        the request parked until a record is published or ``max_wait_ms`` passes."""
        if offset < self.store.end_offset or max_wait_ms <= 0:
            return encode(self.store.read_raw(offset, 8388608), self.store.end_offset)
        self._metadata_waiters.append(_MetadataWaiter(call, offset, now_ms + max_wait_ms, encode))
        return PARKED

    def _answer_metadata_waiters(self, now_ms: int, expire: bool = False) -> None:
        keep = []
        for waiter in self._metadata_waiters:
            if waiter.offset < self.store.end_offset or (expire and waiter.deadline_ms <= now_ms):
                fields = waiter.encode(self.store.read_raw(waiter.offset, 8388608), self.store.end_offset)
                self._replies.append((waiter.call.connection, self.encode(waiter.call, fields)))
            else:
                keep.append(waiter)
        self._metadata_waiters = keep

    # -- a broker-only node's side -----------------------------------------------------------------
    def _send_registration(self) -> None:
        endpoints = tuple((e.listener, e.host, e.port) for e in self.settings.advertised)
        self._outgoing.append(Outgoing("controller", RegisterBroker(self.node_id, self.settings.cluster_id, self.incarnation_id,
                                                                    endpoints, self.settings.rack)))

    def _fetch_metadata(self) -> None:
        self._metadata_fetch_in_flight = True
        self._metadata_fetch_due = None
        self._outgoing.append(Outgoing("controller", MetadataFetch(self.node_id, self.broker.metadata_offset,
                                                                   cluster_id=self.settings.cluster_id)))

    def take_outgoing(self) -> list[Outgoing]:
        """Requests for other nodes, for the driver to send."""
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def on_peer_answer(self, outgoing: Outgoing, response: Any, now_ms: int) -> None:
        """The answer to one of :meth:`take_outgoing`'s requests — or, when the other node could not be
        reached, ``None`` (the request then fails the way it would with a network error)."""
        message = outgoing.message
        if response is None:
            response = failure_response(message)
            if response is None:
                return
        if isinstance(message, RegisterBroker):
            self._on_registered(response, now_ms)
        elif isinstance(message, AllocateProducerIds):
            self._on_producer_ids(response)
        elif isinstance(message, MetadataFetch):
            self._on_metadata(response, now_ms)
        elif outgoing.call_id is not None:  # a client's request, forwarded: its answer goes back to the client
            call = self.calls.pop(outgoing.call_id, None)
            if call is not None and call.encode is not None:
                self._replies.append((call.connection, self.encode(call, call.encode(response))))
        else:
            if isinstance(message, BrokerHeartbeatRequest) and response.error_code == StaleBrokerEpochError.error_code:
                self.log("the controller does not know this registration (it restarted?): registering again")
                self._send_registration()
            self.broker.on_peer_response(outgoing.destination, response, now_ms)
        self._after_work(now_ms)

    def _on_registered(self, answer: Registered, now_ms: int) -> None:
        if answer.error_code:
            error = error_for_code(answer.error_code)
            name = error.error_name if error is not None else str(answer.error_code)
            hint = {InconsistentClusterIdError.error_code: ": this node was formatted for another cluster "
                    f"({self.settings.cluster_id}); format it with the controller's cluster id",
                    DuplicateBrokerRegistrationError.error_code: f": node.id={self.node_id} is taken"}.get(answer.error_code, "")
            self.log(f"registration with the controller failed: {name}{hint}; retrying in 1 s")
            self._registration_due = now_ms + 1000
            return
        self.broker_epoch = answer.broker_epoch
        self.log(f"registered with the controller: broker epoch {answer.broker_epoch}")
        if self._producer_ids_wanted:
            self._producer_ids_wanted = False
            self._outgoing.append(Outgoing("controller", AllocateProducerIds(self.node_id)))
        if self.caught_up:
            self.broker.replica_manager.send_heartbeat()
            self._schedule_heartbeats(now_ms)

    def _on_producer_ids(self, answer: ProducerIdBlock) -> None:
        if answer.error_code:  # asked again by the next InitProducerId (which answers "retry" meanwhile)
            error = error_for_code(answer.error_code)
            self.log(f"no block of producer ids from the controller: {error.error_name if error else answer.error_code}")
            self.broker.producer_ids.block_requested = False
            return
        self.broker.producer_ids.add_block(answer.start, answer.length)

    def _on_metadata(self, answer: MetadataBatch, now_ms: int) -> None:
        self._metadata_fetch_in_flight = False
        if answer.error_code:
            if answer.error_code == InconsistentClusterIdError.error_code and self._metadata_error != answer.error_code:
                self.log(f"the controller refuses to send its metadata: INCONSISTENT_CLUSTER_ID (this node was formatted "
                         f"for cluster {self.settings.cluster_id})")
            self._metadata_error = answer.error_code
            self._metadata_fetch_due = now_ms + RETRY_BACKOFF_MS
            return
        self._metadata_error = 0
        if answer.records:
            self.broker.apply_metadata(answer.records, now_ms, answer.start_offset)
            self._record_topic_ids()
            self.broker.replica_manager.poll_fetchers(now_ms)
        if not self.caught_up and self.broker.metadata_offset >= answer.high_watermark >= 0:
            self.caught_up = True
            self.log(f"caught up with the metadata log at offset {self.broker.metadata_offset}")
            self.broker._caught_up(now_ms)
            if self.broker_epoch >= 0:
                self.broker.replica_manager.send_heartbeat()
                self._schedule_heartbeats(now_ms)
        self._fetch_metadata()

    # -- requests -------------------------------------------------------------------------------
    def handle_frame(self, connection: str, frame: bytes, now_ms: int, host: str = "127.0.0.1",
                     listener: str = "PLAINTEXT") -> bytes | Parked | None:
        """Answer one request frame (without its size prefix) that arrived on ``listener``. Returns the
        response frame, PARKED, or None for a request Kafka never answers (acks=0). Raises ProtocolError
        when the connection must be closed (an unreadable frame, an unknown API, an unsupported version)."""
        self._now_ms = now_ms
        header = read_request_header(frame)
        on_controller_listener = listener in self.settings.controller_listener_names
        table = apis.CONTROLLER_SUPPORTED if on_controller_listener else apis.SUPPORTED
        supported = table.get(header.api_key)
        if supported is None:
            where = f"on the {listener} listener" if header.api_key in apis.HANDLERS else ""
            raise ProtocolError(f"unknown API key {header.api_key} {where}(correlation id {header.correlation_id}, "
                                f"client {header.client_id!r})".replace("  ", " "))
        lowest, highest = supported
        if not lowest <= header.api_version <= highest:
            if header.api_key == API_VERSIONS_KEY:  # KIP-511: answer in v0 with the versions we have
                return encode_response(API_VERSIONS_KEY, 0, header.correlation_id, apis.api_versions_error_v0(table))
            raise ProtocolError(f"{api_name(header.api_key)} v{header.api_version} is not supported "
                                f"(this broker serves v{lowest}-v{highest}); client {header.client_id!r}")
        body = read_request_body(frame, header)
        call = Call(connection, header.api_key, header.api_version, header.correlation_id, header.client_id, host, None, listener)
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
        self._metadata_waiters = [w for w in self._metadata_waiters if w.call.connection != connection]

    # -- time -----------------------------------------------------------------------------------
    def tick(self, now_ms: int) -> None:
        """Let time pass: expire parked fetches, group sessions and produce timeouts; heartbeat;
        fence brokers that stopped heartbeating; run retention every log.retention.check.interval.ms."""
        self._now_ms = now_ms
        self.broker.tick_requests(now_ms)
        if now_ms - self.last_retention_check_ms >= self.config["log.retention.check.interval.ms"]:
            self.last_retention_check_ms = now_ms
            self.broker.tick(now_ms)
        if self.controller is not None:
            for broker_id in self.controller.expired_brokers(now_ms):
                self.log(f"broker {broker_id} sent no heartbeat for broker.session.timeout.ms="
                         f"{self.config['broker.session.timeout.ms']}: fenced")
                self.publish(self.controller.fence(broker_id), now_ms, appended=False)
            self._answer_metadata_waiters(now_ms, expire=True)
        if self._registration_due is not None and self._registration_due <= now_ms:
            self._registration_due = None
            self._send_registration()
        if self._metadata_fetch_due is not None and self._metadata_fetch_due <= now_ms and not self._metadata_fetch_in_flight:
            self._fetch_metadata()
        self._after_work(now_ms)

    def next_deadline_ms(self, now_ms: int) -> int:
        deadlines = [self.last_retention_check_ms + self.config["log.retention.check.interval.ms"]]
        deadlines += [w.deadline_ms for w in self._metadata_waiters]
        deadlines += [d for d in (self._registration_due, self._metadata_fetch_due) if d is not None]
        liveness = self.controller.next_liveness_deadline(now_ms) if self.controller is not None else None
        for deadline in (self.broker.next_deadline_ms(), liveness):
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
            if kind.endswith("error") or kind.startswith(("group.", "log.", "internal_topic", "replica.", "isr.")):
                self.log(f"broker {kind} {detail}")

    def _run_effects(self, now_ms: int) -> None:
        """Requests the broker sends: to the controller in this process, or out to other nodes."""
        for _ in range(100):  # answers may cause more requests; a bound guards against a loop
            effects = self.broker.take_effects()
            if not effects:
                return
            for effect in effects:
                destination, request = effect if isinstance(effect, tuple) else ("controller", CreateTopicsRequest((effect,)))
                if destination == "controller" and self.controller is not None:
                    answer = self.controller.handle_request(request, now_ms)
                    for kind, detail in answer.events:
                        self.log(f"{kind} {detail}")
                    for _start, records in answer.published:
                        self.publish(records, now_ms, appended=True)
                    self.broker.on_peer_response("controller", answer.response, now_ms)
                elif destination == "controller" or (isinstance(destination, int) and destination >= 0):
                    if isinstance(request, BrokerHeartbeatRequest) and (self.broker_epoch < 0 or not self.caught_up):
                        continue  # not registered yet: the first heartbeat follows the registration
                    self._outgoing.append(Outgoing(destination, request))
                # destination -1: the partition has no leader now; the fetcher retries after its backoff

    def controller_request(self, request: Any, now_ms: int) -> Any:
        """A request answered by this node's own controller (CreateTopics, DeleteTopics, heartbeats)."""
        assert self.controller is not None
        answer = self.controller.handle_request(request, now_ms)
        for _start, records in answer.published:
            self.publish(records, now_ms, appended=True)
        for kind, detail in answer.events:
            self.log(f"{kind} {detail}")
        return answer.response

    def ask_controller(self, call: Call, request: Any, now_ms: int, encode: Callable[[Any], dict]) -> Any:
        """A client's request that the controller answers (CreateTopics, DeleteTopics, CreatePartitions):
        here if this node is the controller, else forwarded to it (KIP-590) and the call parked."""
        if self.controller is not None:
            return encode(self.controller_request(request, now_ms))
        call_id = self.new_call_id(call)
        call.encode = encode
        self._outgoing.append(Outgoing("controller", request, call_id))
        return PARKED

    def broker_endpoint(self, broker_id: int) -> tuple[str, int] | None:
        """Where another broker listens for brokers (its first advertised listener), from the metadata."""
        record = self.broker.image.brokers.get(broker_id)
        if record is None or not record.endpoints:
            return None
        _listener, host, port = record.endpoints[0]
        return host, port
