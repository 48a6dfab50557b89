"""The producer (chapter 03, issue 3). So far: its configuration, validated as Kafka validates it."""

from kafkalab.producer.config import ProducerConfig

__all__ = ["ProducerConfig"]
