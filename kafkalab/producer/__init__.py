"""The producer (chapter 03, issue 3), as Kafka's Java client builds it: configuration validated as
Kafka validates it, the RecordAccumulator and its batches, the Sender (sans-IO), and KafkaProducer,
the client node that runs them on the simulator (``cluster.producer(config)``)."""

from kafkalab.producer.accumulator import BufferExhaustedError, ReadyCheck, RecordAccumulator
from kafkalab.producer.batch import ProducerBatch
from kafkalab.producer.config import ProducerConfig
from kafkalab.producer.sender import Sender

__all__ = ["BufferExhaustedError", "ProducerBatch", "ProducerConfig", "ReadyCheck", "RecordAccumulator", "Sender"]
