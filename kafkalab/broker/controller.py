"""The controller's part of creating a topic: validate, place replicas, emit metadata records.

In Kafka 4.x (KRaft) a broker forwards CreateTopics to the active controller, which writes
TopicRecord, PartitionRecord and ConfigRecord entries to the ``__cluster_metadata`` log; every
broker replays them. Here the controller is a sans-IO object returning those records; the
controllers chapter (issue 6) replaces it with a Raft quorum.

Replica placement is Kafka's StripedReplicaPlacer (:mod:`kafkalab.broker.placement`): rack-aware
when brokers set ``broker.rack``, leaders striped over the brokers, seeded from the simulator.

Kafka: org.apache.kafka.controller.ReplicationControlManager#createTopic,
org.apache.kafka.metadata.placement.StripedReplicaPlacer, KIP-500, KIP-631.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from kafkalab.broker.messages import (
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteTopicsRequest,
    DeleteTopicsResponse,
    AlterPartitionRequest,
    AlterPartitionResponse,
    ConfigRecord,
    CreatableTopic,
    CreatableTopicResult,
    FenceBrokerRecord,
    MetadataImage,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnfenceBrokerRecord,
)
from kafkalab.broker.placement import StripedReplicaPlacer, UsableBroker
from kafkalab.config import INTERNAL_TOPICS, BrokerConfig
from kafkalab.jvm import JavaRandom
from kafkalab.errors import (
    ConfigError,
    FencedLeaderEpochError,
    IneligibleReplicaError,
    InvalidUpdateVersionError,
    NotLeaderOrFollowerError,
    UnknownTopicOrPartitionError,
    InvalidConfigurationError,
    TopicDeletionDisabledError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    KafkaError,
    TopicAlreadyExistsError,
)

LEGAL_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_TOPIC_NAME_LENGTH = 249
PRODUCER_ID_BLOCK_SIZE = 1000  # ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE


def validate_topic_name(name: str) -> None:
    """org.apache.kafka.common.internals.Topic#validate."""
    if not name:
        raise InvalidTopicError("Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise InvalidTopicError("Topic name cannot be \".\" or \"..\"")
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise InvalidTopicError(f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters")
    if not LEGAL_TOPIC_NAME.match(name):
        raise InvalidTopicError(f"Topic name {name!r} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")


def choose_leader(replicas: tuple[int, ...], isr: tuple[int, ...], fenced: set[int], unclean_allowed: bool) -> int:
    """PartitionChangeBuilder's election: the first replica, in replica order, that is in the ISR and
    not fenced; if there is none, the first live replica when unclean election is allowed (what only
    the ISR had is then lost); otherwise -1 (the partition stays offline)."""
    # BEGIN EXERCISE ex12_leader_election
    for replica in replicas:
        if replica in isr and replica not in fenced:
            return replica
    if unclean_allowed:
        for replica in replicas:
            if replica not in fenced:
                return replica  # unclean: an out-of-sync replica leads
    return -1
    # END EXERCISE


@dataclass
class ControllerAnswer:
    """What the controller did with one request: the response, and the metadata records it appended,
    in the groups a driver publishes them in (each group starting at ``starts[i]`` in the log), with
    events for the trace."""

    response: Any
    published: list[tuple[int, tuple[MetadataRecord, ...]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class Controller:
    """Validates CreateTopics, watches broker heartbeats, elects leaders and changes ISRs — all as
    metadata records appended to the metadata log that every broker replays.

    * **Liveness.** Each broker heartbeats every ``broker.heartbeat.interval.ms`` (2 s). A broker
      silent for ``broker.session.timeout.ms`` (9 s) is *fenced*: it leads nothing and leaves every
      ISR. Its next heartbeat unfences it; it then catches up as a follower and its leaders add it
      back to the ISR.
    * **Elections** (PartitionChangeBuilder): the new leader is the first replica, in replica
      order, that is in the ISR and not fenced — a *clean* election. If none is left the partition
      is offline (leader -1) unless ``unclean.leader.election.enable`` lets an out-of-sync replica
      lead, losing what only the ISR had. Each new leader gets the next leader epoch.
    * **AlterPartition** (KIP-497): a leader proposes a new ISR with the partition epoch it knows;
      a stale proposal gets INVALID_UPDATE_VERSION, a fenced replica INELIGIBLE_REPLICA.

    Kafka: org.apache.kafka.controller.ReplicationControlManager (handleBrokerFenced,
    handleBrokerUnfenced, alterPartition, electLeaders), PartitionChangeBuilder,
    BrokerHeartbeatManager, ClusterControlManager; KIP-631, KIP-497.
    """

    def __init__(self, config: BrokerConfig, image: MetadataImage, placement_random: JavaRandom | None = None) -> None:
        self.config = config
        self.image = image
        # Kafka's QuorumController seeds its placer from the clock; kafkalab from the simulator's seed.
        self.placer = StripedReplicaPlacer(placement_random or JavaRandom(0))
        self._topics_created = 0
        self.log: list[MetadataRecord] = []  # the metadata log (__cluster_metadata): offset = index
        self.last_heartbeat_ms: dict[int, int] = {}
        self.incarnations: dict[int, int] = {}
        self.directories: dict[int, int] = {}
        self.fence_restarted_brokers = True  # False: the ZooKeeper era before KIP-903 (a restarted broker stayed in the ISR)
        self.choose_leader = choose_leader  # the seam for a learner's election rule (exercise ex12)
        self.every_broker_heartbeats = False  # the KRaft quorum lab: every registered broker must heartbeat

    # -- the metadata log ---------------------------------------------------------------------
    def append(self, records: list[MetadataRecord]) -> int:
        """Apply and append records; returns the offset of the first one."""
        start = len(self.log)
        for record in records:
            self.image.apply(record)
            self.log.append(record)
        return start

    # -- requests -------------------------------------------------------------------------------
    def handle_request(self, message: Any, now_ms: int) -> ControllerAnswer:
        """Answer a broker's or client's request to the controller (ControllerApis): broker heartbeats
        (unfencing, re-registration, a lost log directory), AlterPartition, CreateTopics, DeleteTopics.
        Records are appended here; the driver sends them to every broker."""
        answer = ControllerAnswer(None)

        def publish(records: list[MetadataRecord]) -> None:
            if records:
                answer.published.append((self.append(list(records)), tuple(records)))

        if isinstance(message, BrokerHeartbeatRequest):
            lost = self.lost_directory(message.broker_id, message.directory_id)
            if lost:
                answer.events.append(("controller.directory_lost", {"broker": message.broker_id}))
                publish(lost)
            if self.reregistered(message.broker_id, message.incarnation):
                answer.events.append(("controller.reregister", {"broker": message.broker_id}))
                publish(self.fence(message.broker_id))
            records = self.broker_heartbeat(message.broker_id, now_ms)
            if records:
                answer.events.append(("controller.unfence", {"broker": message.broker_id}))
            publish(records)
            missed = tuple(self.log[message.metadata_offset:])
            answer.response = BrokerHeartbeatResponse(message.broker_id in self.image.fenced, 0, message.correlation_id,
                                                      missed, message.metadata_offset)
        elif isinstance(message, AlterPartitionRequest):
            response, records = self.alter_partition(message)
            answer.events.append(("controller.alter_partition", {"topic": message.topic, "partition": message.partition,
                                                                 "isr": list(message.new_isr), "error": response.error_code}))
            publish(records)
            answer.response = response
        elif isinstance(message, CreateTopicsRequest):
            results = []
            for topic in message.topics:
                result, records = self.create_topic(topic)
                results.append(result)
                if records:
                    answer.events.append(("controller.create_topic", {"topic": topic.name, "partitions": result.num_partitions}))
                    publish(records)
            answer.response = CreateTopicsResponse(tuple(results), message.correlation_id)
        elif isinstance(message, DeleteTopicsRequest):
            results = []
            for name in message.topics:
                error_code, error_message, records = self.delete_topic(name)
                results.append((name, error_code, error_message))
                if records:
                    answer.events.append(("controller.delete_topic", {"topic": name}))
                    publish(records)
            answer.response = DeleteTopicsResponse(tuple(results), message.correlation_id)
        elif isinstance(message, CreatePartitionsRequest):
            results = []
            for name, count in message.topics:
                error_code, error_message, records = self.create_partitions(name, count)
                results.append((name, error_code, error_message))
                if records:
                    answer.events.append(("controller.create_partitions", {"topic": name, "count": count}))
                    publish(records)
            answer.response = CreatePartitionsResponse(tuple(results), message.correlation_id)
        else:
            raise TypeError(f"the controller does not handle {type(message).__name__}")
        return answer

    # -- producer ids ---------------------------------------------------------------------------
    def allocate_producer_ids(self, broker_id: int) -> tuple[int, list[MetadataRecord]]:
        """ProducerIdControlManager.generateNextProducerId: the next block of PRODUCER_ID_BLOCK_SIZE ids,
        recorded in the metadata log so that no id is handed out twice, even after a restart."""
        start = self.image.next_producer_id
        return start, [ProducerIdsRecord(broker_id, start + PRODUCER_ID_BLOCK_SIZE)]

    # -- broker liveness ----------------------------------------------------------------------
    def broker_heartbeat(self, broker_id: int, now_ms: int) -> list[MetadataRecord]:
        """Records to append because of this heartbeat (unfencing, and the elections it allows)."""
        self.last_heartbeat_ms[broker_id] = now_ms
        if broker_id not in self.image.fenced:
            return []
        return [UnfenceBrokerRecord(broker_id), *self._elect_offline_partitions(set(self.image.fenced) - {broker_id})]

    def reregistered(self, broker_id: int, incarnation: int) -> bool:
        """A broker process that restarted registers anew: until it has caught up it must not count as in
        sync (whatever its disk holds), so it is fenced first — out of every ISR (KIP-903's concern)."""
        known = self.incarnations.get(broker_id)
        self.incarnations[broker_id] = incarnation
        return (self.fence_restarted_brokers and known is not None and known != incarnation
                and broker_id not in self.image.fenced)

    def lost_directory(self, broker_id: int, directory_id: int) -> list[MetadataRecord]:
        """A broker came back with a new log directory (KIP-858): its replicas are empty, so it leaves every
        ISR — even as the last member — and leads nothing; those partitions wait for an in-sync replica
        (or an unclean election) rather than elect an empty log."""
        known = self.directories.get(broker_id)
        self.directories[broker_id] = directory_id
        if known is None or known == directory_id:
            return []
        records: list[MetadataRecord] = []
        fenced = set(self.image.fenced) | {broker_id}
        for topic in sorted(self.image.partitions):
            for record in sorted(self.image.partitions[topic].values(), key=lambda r: r.partition_id):
                if (broker_id not in record.isr and record.leader != broker_id) or len(record.replicas) == 1:
                    continue  # a single-replica partition simply comes back empty: there is nobody else
                isr = tuple(r for r in record.isr if r != broker_id)
                if record.leader == broker_id or record.leader == -1:
                    leader = next((r for r in record.replicas if r in isr and r not in fenced), -1)
                    records.append(PartitionChangeRecord(topic, record.partition_id, leader=leader, isr=isr,
                                                         bump_leader_epoch=record.leader != leader))
                else:
                    records.append(PartitionChangeRecord(topic, record.partition_id, isr=isr))
        return records

    def expects_heartbeats(self, broker_id: int) -> bool:
        """Simulator economy: only brokers hosting a replicated partition heartbeat (see ReplicaManager)."""
        if self.every_broker_heartbeats:
            return True
        return any(broker_id in r.replicas and len(r.replicas) > 1 for parts in self.image.partitions.values() for r in parts.values())

    def expired_brokers(self, now_ms: int) -> list[int]:
        timeout = self.config["broker.session.timeout.ms"]
        return sorted(b for b in self.image.brokers if b not in self.image.fenced and self.expects_heartbeats(b)
                      and now_ms - self.last_heartbeat_ms.setdefault(b, now_ms) > timeout)

    def next_liveness_deadline(self, now_ms: int) -> int | None:
        timeout = self.config["broker.session.timeout.ms"]
        deadlines = [self.last_heartbeat_ms.setdefault(b, now_ms) + timeout + 1 for b in self.image.brokers
                     if b not in self.image.fenced and self.expects_heartbeats(b)]
        return min(deadlines, default=None)

    def leaders_imbalanced(self) -> bool:
        """ReplicationControlManager.arePartitionLeadersImbalanced: some partition is not led by its first replica."""
        return any(record.leader != record.replicas[0]
                   for partitions in self.image.partitions.values() for record in partitions.values())

    def preferred_leader_elections(self) -> list[MetadataRecord]:
        """Give each partition back to its *preferred* leader (the first replica) when it is alive and in
        sync — after failovers, leadership piles up on the survivors; this spreads it out again
        (auto.leader.rebalance.enable, kafka-leader-election.sh --election-type PREFERRED)."""
        records: list[MetadataRecord] = []
        for topic in sorted(self.image.partitions):
            for record in sorted(self.image.partitions[topic].values(), key=lambda r: r.partition_id):
                preferred = record.replicas[0]
                if record.leader != preferred and preferred in record.isr and preferred not in self.image.fenced:
                    records.append(PartitionChangeRecord(topic, record.partition_id, leader=preferred, bump_leader_epoch=True))
        return records

    def fence(self, broker_id: int) -> list[MetadataRecord]:
        """handleBrokerFenced: out of every ISR, and new leaders where it led."""
        records: list[MetadataRecord] = [FenceBrokerRecord(broker_id)]
        fenced = set(self.image.fenced) | {broker_id}
        for topic in sorted(self.image.partitions):
            for record in sorted(self.image.partitions[topic].values(), key=lambda r: r.partition_id):
                if broker_id not in record.isr and record.leader != broker_id:
                    continue
                isr = tuple(r for r in record.isr if r != broker_id) or record.isr  # the last ISR member stays (ELR-like)
                if record.leader == broker_id:
                    leader = self._choose_leader(record, fenced, isr)
                    records.append(PartitionChangeRecord(topic, record.partition_id, leader=leader,
                                                         isr=isr if leader == -1 or leader in isr else (leader,),
                                                         bump_leader_epoch=True))
                elif isr != record.isr:
                    records.append(PartitionChangeRecord(topic, record.partition_id, isr=isr))
        return records

    def _choose_leader(self, record: PartitionRecord, fenced: set[int], isr: tuple[int, ...]) -> int:
        return self.choose_leader(record.replicas, isr, fenced, self._unclean_allowed(record.topic))

    def _unclean_allowed(self, topic: str) -> bool:
        value = self.image.configs.get(topic, {}).get("unclean.leader.election.enable")
        if value is None:
            return bool(self.config["unclean.leader.election.enable"])
        return value.lower() == "true"

    def _elect_offline_partitions(self, fenced: set[int]) -> list[MetadataRecord]:
        records: list[MetadataRecord] = []
        for topic in sorted(self.image.partitions):
            for record in sorted(self.image.partitions[topic].values(), key=lambda r: r.partition_id):
                if record.leader >= 0:
                    continue
                leader = self._choose_leader(record, fenced, record.isr)
                if leader >= 0:
                    isr = record.isr if leader in record.isr else (leader,)
                    records.append(PartitionChangeRecord(topic, record.partition_id, leader=leader, isr=isr, bump_leader_epoch=True))
        return records

    # -- AlterPartition -----------------------------------------------------------------------
    def alter_partition(self, request: AlterPartitionRequest) -> tuple[AlterPartitionResponse, list[MetadataRecord]]:
        reply = {"topic": request.topic, "partition": request.partition, "correlation_id": request.correlation_id}
        record = self.image.partitions.get(request.topic, {}).get(request.partition)
        if record is None:
            return AlterPartitionResponse(**reply, error_code=UnknownTopicOrPartitionError.error_code), []
        if record.leader != request.broker_id:
            return AlterPartitionResponse(**reply, error_code=NotLeaderOrFollowerError.error_code), []
        if request.leader_epoch != record.leader_epoch:
            return AlterPartitionResponse(**reply, error_code=FencedLeaderEpochError.error_code), []
        if request.partition_epoch != record.partition_epoch:
            return AlterPartitionResponse(**reply, error_code=InvalidUpdateVersionError.error_code,
                                          isr=record.isr, leader_epoch=record.leader_epoch, partition_epoch=record.partition_epoch), []
        ineligible = [r for r in request.new_isr if r not in record.replicas or (r in self.image.fenced and r not in record.isr)]
        if ineligible or request.broker_id not in request.new_isr:
            return AlterPartitionResponse(**reply, error_code=IneligibleReplicaError.error_code,
                                          error_message=f"replicas {ineligible} cannot join the ISR"), []
        change = PartitionChangeRecord(request.topic, request.partition, isr=tuple(request.new_isr))
        return AlterPartitionResponse(**reply, isr=tuple(request.new_isr), leader_epoch=record.leader_epoch,
                                      partition_epoch=record.partition_epoch + 1), [change]

    def create_topic(self, topic: CreatableTopic) -> tuple[CreatableTopicResult, list[MetadataRecord]]:
        try:
            records = self._create(topic)
        except KafkaError as error:
            return CreatableTopicResult(topic.name, error.error_code, str(error)), []
        partitions = [r for r in records if isinstance(r, PartitionRecord)]
        return CreatableTopicResult(topic.name, 0, None, len(partitions), len(partitions[0].replicas)), records

    def delete_topic(self, name: str) -> tuple[int, str | None, list[MetadataRecord]]:
        """DeleteTopics (ReplicationControlManager.deleteTopic): one RemoveTopicRecord; every broker then
        drops the topic's partitions and deletes their logs. Returns (error code, message, records)."""
        if name not in self.image.topic_ids:
            return UnknownTopicOrPartitionError.error_code, "This server does not host this topic-partition.", []
        if name in INTERNAL_TOPICS:
            return TopicDeletionDisabledError.error_code, f"Topic '{name}' is internal and cannot be deleted.", []
        return 0, None, [RemoveTopicRecord(name)]

    def create_partitions(self, name: str, count: int) -> tuple[int, str | None, list[MetadataRecord]]:
        """CreatePartitions (ReplicationControlManager.createPartitions): grow a topic to ``count``
        partitions, placing the new ones as a new topic's would be. Partitions never shrink: keyed
        records would move. Returns (error code, message, records)."""
        if name not in self.image.topic_ids:
            return UnknownTopicOrPartitionError.error_code, f"The topic '{name}' does not exist.", []
        existing = self.image.partitions[name]
        if count <= len(existing):
            return InvalidPartitionsError.error_code, (f"Topic currently has {len(existing)} partitions, which is higher than "
                                                       f"the requested {count}." if count < len(existing) else
                                                       f"Topic already has {len(existing)} partitions."), []
        replication_factor = len(next(iter(existing.values())).replicas)
        usable = [UsableBroker(b, record.rack, b in self.image.fenced) for b, record in sorted(self.image.brokers.items())]
        try:
            placement = self.placer.place(count - len(existing), replication_factor, usable)
        except InvalidReplicationFactorError as refused:
            return InvalidReplicationFactorError.error_code, str(refused), []
        records: list[MetadataRecord] = []
        for offset, replicas in enumerate(placement):
            isr = tuple(r for r in replicas if r not in self.image.fenced)
            records.append(PartitionRecord(name, len(existing) + offset, replicas, isr, replicas[0], 0))
        return 0, None, records

    def _create(self, topic: CreatableTopic) -> list[MetadataRecord]:
        validate_topic_name(topic.name)
        if topic.name in self.image.topic_ids:
            raise TopicAlreadyExistsError(f"Topic '{topic.name}' already exists.")
        if topic.replication_factor < -1 or topic.replication_factor == 0:
            raise InvalidReplicationFactorError("Replication factor must be larger than 0, or -1 to use the default value.")
        if topic.num_partitions < -1 or topic.num_partitions == 0:
            raise InvalidPartitionsError("Number of partitions was set to an invalid non-positive value.")
        num_partitions = self.config["num.partitions"] if topic.num_partitions == -1 else topic.num_partitions
        replication_factor = self.config["default.replication.factor"] if topic.replication_factor == -1 else topic.replication_factor
        try:
            self.config.topic_config(dict(topic.configs), internal=topic.name in INTERNAL_TOPICS)
        except ConfigError as bad:
            raise InvalidConfigurationError(str(bad)) from None
        usable = [UsableBroker(b, record.rack, b in self.image.fenced) for b, record in sorted(self.image.brokers.items())]
        try:
            placement = self.placer.place(num_partitions, replication_factor, usable)
        except InvalidReplicationFactorError as refused:
            raise InvalidReplicationFactorError(
                f"Unable to replicate the partition {replication_factor} time(s): {refused.detail}") from None
        topic_id = hashlib.sha256(f"{topic.name}:{self._topics_created}".encode()).hexdigest()[:22]
        self._topics_created += 1
        records: list[MetadataRecord] = [TopicRecord(topic.name, topic_id)]
        records += [ConfigRecord(topic.name, key, str(value)) for key, value in topic.configs]
        for p, replicas in enumerate(placement):
            # A fenced broker may hold a replica (when there is no other way) but starts outside the ISR.
            isr = tuple(r for r in replicas if r not in self.image.fenced)
            records.append(PartitionRecord(topic.name, p, replicas, isr, replicas[0], 0))
        return records
