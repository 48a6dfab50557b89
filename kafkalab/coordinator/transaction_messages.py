"""The transaction APIs (KIP-98): what a transactional producer, the transaction coordinator and
the partition leaders say to each other.

A transactional producer gets its producer id and epoch from its transaction coordinator
(InitProducerId with its ``transactional.id``), registers each partition before writing to it
(AddPartitionsToTxn), registers the consumer group whose offsets it will commit
(AddOffsetsToTxn) and sends those offsets to the group coordinator (TxnOffsetCommit), then asks
to commit or abort (EndTxn). The coordinator writes a COMMIT or ABORT *marker* into every
partition of the transaction (WriteTxnMarkers) — that marker is what makes the records visible
to ``read_committed`` consumers, or hides them for good.

Kafka: clients/src/main/resources/common/message/{AddPartitionsToTxn,AddOffsetsToTxn,
TxnOffsetCommit,EndTxn,WriteTxnMarkers}{Request,Response}.json; KIP-98, KIP-447.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.coordinator.messages import OffsetCommitPartition, OffsetCommitPartitionResponse

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class AddPartitionsToTxnRequest:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    partitions: tuple[TopicPartition, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class AddPartitionsToTxnResponse:
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class AddOffsetsToTxnRequest:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    group_id: str
    correlation_id: int = 0


@dataclass(frozen=True)
class AddOffsetsToTxnResponse:
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class TxnOffsetCommitRequest:
    transactional_id: str
    group_id: str
    producer_id: int
    producer_epoch: int
    partitions: tuple[OffsetCommitPartition, ...]
    generation_id: int = -1  # KIP-447: the consumer's group metadata fences zombies
    member_id: str = ""
    group_instance_id: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class TxnOffsetCommitResponse:
    partitions: tuple[OffsetCommitPartitionResponse, ...] = ()
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class EndTxnRequest:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    committed: bool
    correlation_id: int = 0


@dataclass(frozen=True)
class EndTxnResponse:
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class WritableTxnMarker:
    producer_id: int
    producer_epoch: int
    committed: bool
    partitions: tuple[TopicPartition, ...]
    coordinator_epoch: int = 0


@dataclass(frozen=True)
class WriteTxnMarkersRequest:
    """From the transaction coordinator to a partition leader: append these markers."""

    markers: tuple[WritableTxnMarker, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class WriteTxnMarkersResponse:
    results: tuple[tuple[int, str, int, int], ...] = ()  # (producer id, topic, partition, error code)
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0

