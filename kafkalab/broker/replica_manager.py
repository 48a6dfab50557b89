"""Replication on one broker: the partitions it leads or follows, its fetchers, and acks=all.

* As a **follower**, the broker runs a fetcher per leader (ReplicaFetcherThread): it first asks the
  new leader where its last leader epoch ended (OffsetsForLeaderEpoch) and truncates what the leader
  does not have, then fetches from its log end offset, appends what comes back (at the same
  offsets) and takes the leader's high watermark. Before Kafka 0.11 (KIP-101) followers truncated to
  their own high watermark instead; ``truncation="high-watermark"`` brings that back for chapter 05.
* As a **leader**, each follower fetch tells it that follower's log end offset: the high watermark
  may advance, a follower that caught up rejoins the ISR, one that did not for
  ``replica.lag.time.max.ms`` leaves it (both through the controller, AlterPartition).
* **acks=all**: a write is answered when the high watermark passes it (DelayedProduce), or refused
  at once with NOT_ENOUGH_REPLICAS while the ISR is smaller than ``min.insync.replicas``.
* **Liveness**: the broker heartbeats to the controller (and catches up on metadata it missed).
  Simulator economy, said out loud: only brokers hosting a replicated partition (replication factor
  ≥ 2) heartbeat periodically — a broker with nothing to fail over sends one heartbeat when it starts
  and none after, and the controller never fences it. That keeps days of simulated retention cheap.

Sans-IO: requests to other nodes leave as ``effects`` ``(destination, request)`` where destination
is a broker id or ``"controller"``.

Kafka: kafka.server.ReplicaManager (appendRecords, fetchMessages, maybeShrinkIsr, becomeLeaderOrFollower),
ReplicaFetcherThread / AbstractFetcherThread (truncateToEpochEndOffsets), DelayedProduce,
kafka.cluster.Partition, BrokerLifecycleManager (heartbeats); KIP-101, KIP-279, KIP-320, KIP-497.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kafkalab.broker.messages import (
    AlterPartitionRequest,
    AlterPartitionResponse,
    BrokerHeartbeatRequest,
    FetchPartition,
    FetchRequest,
    FetchResponse,
    OffsetsForLeaderEpochRequest,
    OffsetsForLeaderEpochResponse,
    PartitionProduceResponse,
    PartitionRecord,
    ProduceRequest,
    ProduceResponse,
)
from kafkalab.broker.partition import UNDEFINED_EPOCH, Partition
from kafkalab.broker.transactions import parse_control_key
from kafkalab.errors import (
    NotEnoughReplicasAfterAppendError,
    NotLeaderOrFollowerError,
    OffsetOutOfRangeError,
    RequestTimedOutError,
)
from kafkalab.record import Record, RecordBatch
from kafkalab.record.raw import split_batches

if TYPE_CHECKING:
    from kafkalab.broker.broker import Broker

Key = tuple[str, int]
TRUNCATION_MODES = ("leader-epoch", "high-watermark")


@dataclass
class _Following:
    leader: int
    leader_epoch: int
    epoch_checked: bool = False


@dataclass
class _Fetcher:
    in_flight_until: int | None = None
    backoff_until: int = 0


@dataclass
class _DelayedProduce:
    client: str
    request: ProduceRequest
    deadline_ms: int
    required: dict[Key, int]
    responses: dict[Key, PartitionProduceResponse]


@dataclass
class ReplicaManager:
    broker: Broker
    truncation: str = "leader-epoch"
    partitions: dict[Key, Partition] = field(default_factory=dict)
    following: dict[Key, _Following] = field(default_factory=dict)
    fetchers: dict[int, _Fetcher] = field(default_factory=dict)
    delayed_produces: list[_DelayedProduce] = field(default_factory=list)
    effects: list[tuple[int | str, Any]] = field(default_factory=list)
    next_heartbeat_ms: int | None = None
    next_isr_check_ms: int | None = None
    truncations: dict[Key, int] = field(default_factory=dict)  # how many times each log was truncated
    incarnation: int = 0  # bumped at every restart of the broker process
    directory_id: int = 0  # bumped when the disk is lost (a wipe)
    always_heartbeat: bool = False  # a real KRaft broker heartbeats all its life (the wire layer); see the module docstring

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {TRUNCATION_MODES}, got {self.truncation!r}")
        self._correlation = 0

    @property
    def broker_id(self) -> int:
        return self.broker.broker_id

    def _next_id(self) -> int:
        self._correlation += 1
        return self._correlation

    # -- metadata: become leader or follower ----------------------------------------------------
    def on_partition_record(self, record: PartitionRecord, now_ms: int) -> None:
        key = (record.topic, record.partition_id)
        if self.broker_id not in record.replicas:
            self.partitions.pop(key, None)
            self.following.pop(key, None)
            return
        log = self.broker.ensure_log(record.topic, record.partition_id, now_ms)
        partition = self.partitions.get(key)
        if partition is None or partition.log is not log:
            partition = self.partitions[key] = self.broker.partition_class(record.topic, record.partition_id, log, self.broker_id)
            stored = getattr(getattr(log, "epoch_cache", None), "entries", None)
            if stored and hasattr(partition, "epoch_cache"):  # a log on disk remembers its epochs (leader-epoch-checkpoint)
                partition.epoch_cache = list(stored)
        partition.min_insync_replicas = self.broker.topic_config(record.topic)["min.insync.replicas"]
        if record.leader == self.broker_id:
            partition.make_leader(record.replicas, record.isr, record.leader_epoch, record.partition_epoch, now_ms)
            self.following.pop(key, None)
            self._complete_delayed_produces(now_ms)
        else:
            if partition.make_follower(record.replicas, record.isr, record.leader, record.leader_epoch, record.partition_epoch):
                self._fail_delayed_produces_for(key)
                if record.leader >= 0:
                    self.following[key] = _Following(record.leader, record.leader_epoch)
                else:
                    self.following.pop(key, None)
        if len(record.replicas) > 1 and self.next_heartbeat_ms is None:
            self.next_heartbeat_ms = now_ms
        if partition.is_leader and len(record.replicas) > 1 and self.next_isr_check_ms is None:
            self.next_isr_check_ms = now_ms + self.broker.config["replica.lag.time.max.ms"] // 2

    def partition(self, key: Key) -> Partition | None:
        """The replica state of ``key``, looking at the broker's current log (it may have been replaced)."""
        partition = self.partitions.get(key)
        if partition is not None:
            log = self.broker.logs.get(key)
            if log is not None and log is not partition.log:
                partition.log = log
        return partition

    def hosts_replicated_partitions(self) -> bool:
        return any(len(p.replicas) > 1 for p in self.partitions.values())

    def high_watermark(self, topic: str, partition: int, log_end_offset: int) -> int:
        state = self.partition((topic, partition))
        return log_end_offset if state is None else state.high_watermark

    # -- the leader side --------------------------------------------------------------------------
    def on_leader_append(self, key: Key, now_ms: int) -> None:
        partition = self.partition(key)
        if partition is not None and partition.maybe_increment_high_watermark():
            self._complete_delayed_produces(now_ms)

    def on_follower_fetch(self, key: Key, replica_id: int, fetch_offset: int, now_ms: int) -> None:
        partition = self.partition(key)
        assert partition is not None
        if partition.update_follower_fetch(replica_id, fetch_offset, now_ms):
            self._complete_delayed_produces(now_ms)
            self.broker._try_complete_delayed_fetches(now_ms, {key})
        expanded = partition.isr_to_expand(replica_id)
        if expanded is not None:
            self._alter_isr(partition, expanded, "a follower caught up")

    def _alter_isr(self, partition: Partition, new_isr: tuple[int, ...], why: str) -> None:
        partition.pending_isr = new_isr
        self.broker._event("isr.alter_requested", topic=partition.topic, partition=partition.partition,
                           isr=list(partition.isr), proposed=list(new_isr), why=why)
        self.effects.append(("controller", AlterPartitionRequest(
            self.broker_id, partition.topic, partition.partition, partition.leader_epoch, partition.partition_epoch,
            new_isr, self._next_id())))

    def on_alter_partition_response(self, response: AlterPartitionResponse, now_ms: int) -> None:
        partition = self.partitions.get((response.topic, response.partition))
        if partition is not None:
            partition.pending_isr = None  # the metadata update carries the new ISR (or a retry follows)

    def check_enough_replicas(self, key: Key, required_offset: int) -> int | None:
        """DelayedProduce's test: the error code once decided (0 = done), None while waiting."""
        partition = self.partition(key)
        if partition is None or not partition.is_leader:
            return NotLeaderOrFollowerError.error_code
        if partition.high_watermark >= required_offset:
            if len(partition.isr) < partition.min_insync_replicas:
                return NotEnoughReplicasAfterAppendError.error_code
            return 0
        return None

    def park_produce(self, client: str, request: ProduceRequest, responses: dict[Key, PartitionProduceResponse],
                     required: dict[Key, int], now_ms: int) -> ProduceResponse | None:
        parked = _DelayedProduce(client, request, now_ms + request.timeout_ms, required, responses)
        response = self._try_complete(parked)
        if response is not None:
            return response
        self.delayed_produces.append(parked)
        return None

    def _try_complete(self, parked: _DelayedProduce, expire: bool = False) -> ProduceResponse | None:
        for key, offset in list(parked.required.items()):
            code = self.check_enough_replicas(key, offset)
            if code is None and expire:
                code = RequestTimedOutError.error_code
            if code is None:
                return None
            if code:
                old = parked.responses[key]
                parked.responses[key] = PartitionProduceResponse(old.topic, old.partition, code, None, old.base_offset)
            del parked.required[key]
        ordered = tuple(parked.responses[(d.topic, d.partition)] for d in parked.request.partitions)
        return ProduceResponse(ordered, parked.request.correlation_id)

    def _complete_delayed_produces(self, now_ms: int, expire: bool = False) -> None:
        waiting = []
        for parked in self.delayed_produces:
            response = self._try_complete(parked, expire and parked.deadline_ms <= now_ms)
            if response is None:
                waiting.append(parked)
            else:
                self.broker._outbox.append((parked.client, response))
        self.delayed_produces = waiting

    def _fail_delayed_produces_for(self, key: Key) -> None:
        for parked in self.delayed_produces:
            if key in parked.required:
                old = parked.responses[key]
                parked.responses[key] = PartitionProduceResponse(old.topic, old.partition, NotLeaderOrFollowerError.error_code,
                                                                 "the leader changed before the write was replicated", old.base_offset)
                del parked.required[key]

    def end_offset_for_epoch(self, request: OffsetsForLeaderEpochRequest) -> OffsetsForLeaderEpochResponse:
        reply = {"topic": request.topic, "partition": request.partition, "correlation_id": request.correlation_id}
        partition = self.partitions.get((request.topic, request.partition))
        if partition is None or not partition.is_leader:
            return OffsetsForLeaderEpochResponse(**reply, error_code=NotLeaderOrFollowerError.error_code)
        epoch, offset = partition.end_offset_for_epoch(request.leader_epoch)
        return OffsetsForLeaderEpochResponse(**reply, leader_epoch=epoch, end_offset=offset)

    # -- the follower side ------------------------------------------------------------------------
    def poll_fetchers(self, now_ms: int) -> None:
        """Send what each fetcher needs: epoch checks, then one FetchRequest per leader at a time."""
        by_leader: dict[int, list[Key]] = {}
        for key, follow in sorted(self.following.items()):
            by_leader.setdefault(follow.leader, []).append(key)
        for leader, keys in sorted(by_leader.items()):
            fetcher = self.fetchers.setdefault(leader, _Fetcher())
            if fetcher.in_flight_until is not None or now_ms < fetcher.backoff_until:
                continue
            unchecked = [k for k in keys if not self.following[k].epoch_checked]
            if unchecked:
                if self.truncation == "high-watermark":
                    for key in unchecked:  # pre-KIP-101: trust nothing above our own high watermark
                        partition = self.partitions[key]
                        self._truncate(partition, partition.high_watermark, "to its own high watermark (pre-KIP-101)")
                        self.following[key].epoch_checked = True
                else:
                    key = unchecked[0]
                    partition = self.partitions[key]
                    fetcher.in_flight_until = now_ms + self.broker.config["replica.socket.timeout.ms"]
                    self.effects.append((leader, OffsetsForLeaderEpochRequest(
                        key[0], key[1], partition.latest_epoch(), self.following[key].leader_epoch, self.broker_id, self._next_id())))
                    continue
            wanted = tuple(FetchPartition(k[0], k[1], self.partitions[k].log_end_offset, 1048576, None, self.following[k].leader_epoch)
                           for k in keys if self.following[k].epoch_checked)
            if not wanted:
                continue
            fetcher.in_flight_until = now_ms + self.broker.config["replica.socket.timeout.ms"]
            self.effects.append((leader, FetchRequest(wanted, self.broker.config["replica.fetch.wait.max.ms"],
                                                      self.broker.config["replica.fetch.min.bytes"], 10485760, 0,
                                                      self._next_id(), replica_id=self.broker_id)))

    def on_epoch_response(self, leader: int, response: OffsetsForLeaderEpochResponse, now_ms: int) -> None:
        fetcher = self.fetchers.setdefault(leader, _Fetcher())
        fetcher.in_flight_until = None
        key = (response.topic, response.partition)
        follow = self.following.get(key)
        if follow is None or follow.leader != leader:
            return
        if response.error_code:
            fetcher.backoff_until = now_ms + self.broker.config["replica.fetch.backoff.ms"]
            return
        partition = self.partitions[key]
        if response.end_offset < 0:  # the leader knows no such epoch: fall back to the high watermark
            target = partition.high_watermark
        else:
            target = min(response.end_offset, partition.log_end_offset)
        self._truncate(partition, target, f"to where epoch {response.leader_epoch} ended on the leader (KIP-101)")
        follow.epoch_checked = True

    def lose_unflushed(self, key: Key, offset: int) -> None:
        """A power failure took the records at ``offset`` and above, which were only in the page cache
        (Kafka leaves flushing to the OS: log.flush.interval.messages is Long.MAX_VALUE). Log recovery
        on restart trims the leader epoch cache and the high watermark to what is left."""
        partition = self.partitions.get(key)
        if partition is not None:
            self._truncate(partition, offset, "a power failure lost what the OS had not flushed")

    def _truncate(self, partition: Partition, offset: int, why: str) -> None:
        removed = partition.log.truncate_to(offset) if hasattr(partition.log, "truncate_to") else 0
        partition.truncate_epoch_cache(partition.log_end_offset)
        partition.high_watermark = min(partition.high_watermark, partition.log_end_offset)
        if removed:
            key = (partition.topic, partition.partition)
            self.truncations[key] = self.truncations.get(key, 0) + 1
            self.broker._event("replica.truncated", topic=partition.topic, partition=partition.partition,
                               to=offset, removed=removed, why=why)

    def on_fetch_response(self, leader: int, response: FetchResponse, now_ms: int) -> None:
        fetcher = self.fetchers.setdefault(leader, _Fetcher())
        fetcher.in_flight_until = None
        for answer in response.partitions:
            key = (answer.topic, answer.partition)
            follow = self.following.get(key)
            if follow is None or follow.leader != leader or not follow.epoch_checked:
                continue
            partition = self.partitions[key]
            if answer.error_code == OffsetOutOfRangeError.error_code:
                self._truncate(partition, 0, "the leader's log does not reach our position")
                continue
            if answer.error_code:
                fetcher.backoff_until = now_ms + self.broker.config["replica.fetch.backoff.ms"]
                continue
            if answer.batches:  # the wire: whole batches as the leader stores them
                self._append_replicated_batches(partition, answer.batches, now_ms)
            else:
                records = [r for r in answer.records if r.offset >= partition.log_end_offset]
                if records and records[0].offset != partition.log_end_offset:
                    continue  # a gap (the leader's log start moved): fetch again from where we are
                self._append_replicated(partition, records, now_ms)
            partition.high_watermark = max(partition.high_watermark, min(answer.high_watermark, partition.log_end_offset))
        self.broker._try_complete_delayed_fetches(now_ms, {(p.topic, p.partition) for p in response.partitions})

    def _append_replicated(self, partition: Partition, records: list[Any], now_ms: int) -> None:
        """Append the leader's records at the same offsets, keeping transactions, leader epochs and the
        producer state (so that, as a new leader, this replica recognises the producers' sequences)."""
        key = (partition.topic, partition.partition)
        transactions = self.broker.partition_transactions(partition.topic, partition.partition)
        run: list[Any] = []

        def flush() -> None:
            if not run:
                return
            first = run[0]
            batch_records = [Record(r.key, r.value, r.headers, r.timestamp) for r in run]
            info = partition.log.append(batch_records, now_ms)
            if first.is_control:
                transactions.on_marker(first.producer_id, parse_control_key(first.key or b""), info.first_offset)
            else:
                transactions.on_append(info.first_offset, info.last_offset, first.producer_id, first.is_transactional,
                                       first.producer_epoch, first.sequence)
                if first.producer_id >= 0 and first.sequence >= 0:
                    state = self.broker.producer_states.setdefault(key, self.broker.producer_state_class())
                    state.update(RecordBatch.of(batch_records, producer_id=first.producer_id, producer_epoch=first.producer_epoch,
                                                base_sequence=first.sequence, is_transactional=first.is_transactional),
                                 info.first_offset, info.last_offset)
            run.clear()

        for record in records:
            if record.leader_epoch != UNDEFINED_EPOCH:
                partition.assign_epoch_start(record.leader_epoch, record.offset)
            if run and (record.is_control or run[0].is_control or record.producer_id != run[0].producer_id
                        or record.is_transactional != run[0].is_transactional or record.producer_epoch != run[0].producer_epoch
                        or (record.sequence >= 0 and record.sequence != run[-1].sequence + 1)):
                flush()
            run.append(record)
        flush()

    def _append_replicated_batches(self, partition: Partition, data: bytes, now_ms: int) -> None:
        """The same as :meth:`_append_replicated` for batches that arrived as bytes (a follower over the
        wire): each batch is stored exactly as the leader stored it — offsets, leader epoch, producer id
        and sequence in its header, compression and CRC untouched (Log.appendAsFollower)."""
        key = (partition.topic, partition.partition)
        transactions = self.broker.partition_transactions(partition.topic, partition.partition)
        for batch in split_batches(data, allow_truncated_tail=True):  # a fetch may end inside a batch
            if batch.next_offset <= partition.log_end_offset:
                continue  # we have it already (the fetch started inside a batch we hold)
            if batch.base_offset != partition.log_end_offset:
                return  # a gap (the leader's log start moved): fetch again from where we are
            batch.ensure_valid()  # a corrupt batch raises: this fetch is dropped and retried
            if batch.partition_leader_epoch != UNDEFINED_EPOCH:
                partition.assign_epoch_start(batch.partition_leader_epoch, batch.base_offset)
            if hasattr(partition.log, "append_as_follower"):
                partition.log.append_as_follower(batch, now_ms)
            else:  # a log that keeps records (the simulator's, a learner's) gets them decoded
                partition.log.append(list(batch.records), now_ms, batch.compression)
            if batch.is_control:
                transactions.on_marker(batch.producer_id, parse_control_key(batch.records[0].key or b""), batch.base_offset)
                continue
            transactions.on_append(batch.base_offset, batch.last_offset, batch.producer_id, batch.is_transactional,
                                   batch.producer_epoch, batch.base_sequence)
            if batch.producer_id >= 0 and batch.base_sequence >= 0:
                state = self.broker.producer_states.setdefault(key, self.broker.producer_state_class())
                state.update(batch.decoded, batch.base_offset, batch.last_offset)

    # -- time -------------------------------------------------------------------------------------
    def next_deadline_ms(self) -> int | None:
        deadlines = [p.deadline_ms for p in self.delayed_produces]
        deadlines += [f.in_flight_until for f in self.fetchers.values() if f.in_flight_until is not None]
        deadlines += [f.backoff_until for f in self.fetchers.values() if f.in_flight_until is None and f.backoff_until]
        for value in (self.next_heartbeat_ms, self.next_isr_check_ms):
            if value is not None:
                deadlines.append(value)
        return min(deadlines, default=None)

    def tick(self, now_ms: int) -> None:
        self._complete_delayed_produces(now_ms, expire=True)
        for fetcher in self.fetchers.values():
            if fetcher.in_flight_until is not None and fetcher.in_flight_until <= now_ms:
                fetcher.in_flight_until = None  # no answer: the leader is gone or unreachable
                fetcher.backoff_until = now_ms + self.broker.config["replica.fetch.backoff.ms"]
            if fetcher.in_flight_until is None and fetcher.backoff_until and fetcher.backoff_until <= now_ms:
                fetcher.backoff_until = 0
        if self.next_heartbeat_ms is not None and self.next_heartbeat_ms <= now_ms:
            self.send_heartbeat()
            again = self.always_heartbeat or self.hosts_replicated_partitions() or self.broker.catching_up
            self.next_heartbeat_ms = now_ms + self.broker.config["broker.heartbeat.interval.ms"] if again else None
        if self.next_isr_check_ms is not None and self.next_isr_check_ms <= now_ms:
            lag = self.broker.config["replica.lag.time.max.ms"]
            for partition in sorted(self.partitions.values(), key=lambda p: (p.topic, p.partition)):
                if partition.is_leader:
                    shrunk = partition.isr_to_shrink(now_ms, lag)
                    if shrunk is not None:
                        self._alter_isr(partition, shrunk, f"followers behind for more than replica.lag.time.max.ms={lag}")
            self.next_isr_check_ms = now_ms + lag // 2
        self.poll_fetchers(now_ms)

    def send_heartbeat(self) -> None:
        self.effects.append(("controller", BrokerHeartbeatRequest(self.broker_id, self.broker.metadata_offset, self._next_id(),
                                                                  self.incarnation, self.directory_id)))

    def take_effects(self) -> list[tuple[int | str, Any]]:
        effects, self.effects = self.effects, []
        return effects

    def forget_everything(self) -> None:
        """The process died: fetchers, parked produces and follower positions are gone (logs are not)."""
        self.following.clear()
        self.fetchers.clear()
        self.delayed_produces.clear()
        self.effects.clear()
        self.next_heartbeat_ms = self.next_isr_check_ms = None
        self.incarnation += 1
        for partition in self.partitions.values():
            partition.leader, partition.leader_epoch = -1, UNDEFINED_EPOCH
            partition.followers = {}


def annotate_epochs(partition: Partition | None, records: list[Any]) -> list[Any]:
    """Each record with the leader epoch it was written in (Kafka keeps it in the batch header)."""
    if partition is None or not partition.epoch_cache:
        return records
    out = []
    cache = partition.epoch_cache
    index = 0
    for record in records:
        while index + 1 < len(cache) and cache[index + 1][1] <= record.offset:
            index += 1
        epoch = cache[index][0] if cache[index][1] <= record.offset else UNDEFINED_EPOCH
        out.append(replace(record, leader_epoch=epoch))
    return out
