"""A MetadataImage written as snapshot records (KIP-630) rebuilds the same image."""

from __future__ import annotations

from kafkalab.broker.messages import (
    ConfigRecord, FenceBrokerRecord, MetadataImage, PartitionChangeRecord, PartitionRecord, RegisterBrokerRecord,
    TopicRecord, UnfenceBrokerRecord,
)


def test_an_image_written_as_records_replays_into_the_same_image_without_the_history() -> None:
    history = [RegisterBrokerRecord(1), RegisterBrokerRecord(2, "rack-b"), RegisterBrokerRecord(3),
               FenceBrokerRecord(1), FenceBrokerRecord(2), UnfenceBrokerRecord(1),
               TopicRecord("orders", "id-orders"), PartitionRecord("orders", 0, (1, 2, 3), (1, 2, 3), 1),
               PartitionRecord("orders", 1, (2, 3, 1), (2, 3, 1), 2), ConfigRecord("orders", "retention.ms", "1000"),
               PartitionChangeRecord("orders", 1, leader=3, isr=(3, 1), bump_leader_epoch=True),
               PartitionChangeRecord("orders", 1, isr=(3,))]
    image = MetadataImage()
    for record in history:
        image.apply(record)
    records = image.to_records()
    rebuilt = MetadataImage()
    for record in records:
        rebuilt.apply(record)
    assert rebuilt == image
    assert not any(isinstance(r, (PartitionChangeRecord, UnfenceBrokerRecord)) for r in records)  # state, not history
    assert PartitionRecord("orders", 1, (2, 3, 1), (3,), 3, leader_epoch=1, partition_epoch=2) in records
