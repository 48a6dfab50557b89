"""The node's metadata log on disk: ``__cluster_metadata-0``, replayed at start-up.

A KRaft node keeps every metadata record (brokers, topics, partitions, configs) in the
``__cluster_metadata`` partition and rebuilds its state from it when it starts. kafkalab does the
same with the same kind of log as any partition (segments, CRCs, recovery after a crash). One
difference, recorded in docs/compatibility.md: Kafka writes each record as a binary ApiMessage
(``MetadataRecordType``); kafkalab writes the record's fields as JSON, so that a learner can read
them with ``kafkalab dump-log --print-data-log``.

Kafka: org.apache.kafka.raft.KafkaRaftClient's log (KafkaMetadataLog), MetadataRecordSerde.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from kafkalab.broker import messages
from kafkalab.broker.messages import MetadataRecord
from kafkalab.record import Record, RecordBatch, encode_batch

METADATA_TOPIC = "__cluster_metadata"

RECORD_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (messages.RegisterBrokerRecord, messages.TopicRecord, messages.PartitionRecord, messages.PartitionChangeRecord,
                messages.ConfigRecord, messages.FenceBrokerRecord, messages.UnfenceBrokerRecord, messages.RemoveTopicRecord,
                messages.ProducerIdsRecord)
}


def encode_metadata_record(record: MetadataRecord) -> bytes:
    fields = dataclasses.asdict(record)
    return json.dumps({"type": type(record).__name__, **fields}, sort_keys=True).encode()


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def decode_metadata_record(data: bytes) -> MetadataRecord:
    fields = json.loads(data)
    cls = RECORD_TYPES[fields.pop("type")]
    return cls(**{name: _tuples(value) for name, value in fields.items()})


def encode_metadata_batch(records: list[MetadataRecord], base_offset: int, now_ms: int = 0) -> bytes:
    """The records as one record batch at ``base_offset``, as the metadata log stores them."""
    batch = RecordBatch.of([Record(None, encode_metadata_record(r)) for r in records], base_offset=base_offset,
                           base_timestamp=now_ms)
    return encode_batch(batch)


class MetadataLogStore:
    """The node's MetadataStore on a partition log (``kafkalab.storage.DiskPartitionLog`` on disk)."""

    def __init__(self, log: Any, clock: Any) -> None:
        self.log = log
        self.clock = clock

    def load(self) -> list[MetadataRecord]:
        if self.log.log_end_offset == self.log.log_start_offset:
            return []
        return [decode_metadata_record(r.value) for r in self.log.read(self.log.log_start_offset)]

    @property
    def end_offset(self) -> int:
        return self.log.log_end_offset

    def read_raw(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches from ``offset``, as stored: what a broker's metadata fetch receives."""
        return self.log.read_raw(offset, max_bytes)

    def append(self, records: list[MetadataRecord]) -> None:
        self.log.append([Record(None, encode_metadata_record(r)) for r in records], self.clock())
        if hasattr(self.log, "flush"):
            self.log.flush()  # the controller's answer waits for the record to be durable, as Raft's commit does
