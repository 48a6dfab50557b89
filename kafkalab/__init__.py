"""kafkalab: a faithful, teachable reference implementation of Apache Kafka."""
