"""The producer (chapter 03, issue 3), as Kafka's Java client builds it. So far: its configuration,
validated as Kafka validates it, and the RecordAccumulator with its batches (sans-IO). Still to come:
KafkaProducer.send (metadata wait, serializers, partitioner), the Sender, idempotence."""

from kafkalab.producer.accumulator import BufferExhaustedError, ReadyCheck, RecordAccumulator
from kafkalab.producer.batch import ProducerBatch
from kafkalab.producer.config import ProducerConfig

__all__ = ["BufferExhaustedError", "ProducerBatch", "ProducerConfig", "ReadyCheck", "RecordAccumulator"]
