"""Kafka's error codes, as exceptions a learner can read.

Every error the broker can return has the name and numeric code that Apache Kafka gives it, so a
message printed here can be searched in Kafka's documentation and source.

Kafka: org.apache.kafka.common.protocol.Errors and org.apache.kafka.common.errors.*
"""

from __future__ import annotations


class KafkaError(Exception):
    """Base of every error that carries a Kafka protocol error code."""

    error_code: int = -1
    error_name: str = "UNKNOWN_SERVER_ERROR"
    retriable: bool = False

    def __init__(self, message: str = "") -> None:
        super().__init__(f"{self.error_name}: {message}" if message else self.error_name)
        self.detail = message


def _error(name: str, code: int, *, retriable: bool = False, doc: str = "") -> type[KafkaError]:
    class_name = "".join(part.capitalize() for part in name.split("_")) + "Error"
    cls = type(class_name, (KafkaError,), {"error_code": code, "error_name": name, "retriable": retriable, "__doc__": doc})
    cls.__module__ = __name__
    return cls


# The subset of Errors.java that kafkalab raises. Names and codes are Kafka's.
UnknownServerError = _error("UNKNOWN_SERVER_ERROR", -1, doc="The server hit an unexpected error.")
OffsetOutOfRangeError = _error("OFFSET_OUT_OF_RANGE", 1, doc="The requested offset is outside the range kept on the server.")
CorruptRecordError = _error("CORRUPT_MESSAGE", 2, retriable=True, doc="A record or batch failed its CRC or is malformed.")
UnknownTopicOrPartitionError = _error("UNKNOWN_TOPIC_OR_PARTITION", 3, retriable=True, doc="This server does not host this topic-partition.")
InvalidFetchSizeError = _error("INVALID_FETCH_SIZE", 4, doc="The requested fetch size is invalid.")
LeaderNotAvailableError = _error("LEADER_NOT_AVAILABLE", 5, retriable=True, doc="There is no leader for this topic-partition (an election may be in progress).")
NotLeaderOrFollowerError = _error("NOT_LEADER_OR_FOLLOWER", 6, retriable=True, doc="This server is not the leader (or a follower) for that topic-partition.")
RequestTimedOutError = _error("REQUEST_TIMED_OUT", 7, retriable=True, doc="The request timed out.")
MessageTooLargeError = _error("MESSAGE_TOO_LARGE", 10, doc="The request included a message larger than the max message size the server will accept.")
InvalidTopicError = _error("INVALID_TOPIC_EXCEPTION", 17, doc="The topic name is invalid (or an internal topic was written to).")
RecordListTooLargeError = _error("RECORD_LIST_TOO_LARGE", 18, doc="The request included a batch larger than the configured segment size.")
NotEnoughReplicasError = _error("NOT_ENOUGH_REPLICAS", 19, retriable=True, doc="Fewer in-sync replicas than min.insync.replicas.")
NotEnoughReplicasAfterAppendError = _error("NOT_ENOUGH_REPLICAS_AFTER_APPEND", 20, retriable=True, doc="Written to the leader, but the ISR shrank below min.insync.replicas.")
InvalidRequiredAcksError = _error("INVALID_REQUIRED_ACKS", 21, doc="acks must be -1 (all), 0 or 1.")
InvalidTimestampError = _error("INVALID_TIMESTAMP", 32, doc="The timestamp of the message is out of the acceptable range.")
UnsupportedVersionError = _error("UNSUPPORTED_VERSION", 35, doc="The version of the API is not supported.")
TopicAlreadyExistsError = _error("TOPIC_ALREADY_EXISTS", 36, doc="Topic with this name already exists.")
InvalidPartitionsError = _error("INVALID_PARTITIONS", 37, doc="Number of partitions is below 1.")
InvalidReplicationFactorError = _error("INVALID_REPLICATION_FACTOR", 38, doc="Replication factor is below 1 or larger than the number of available brokers.")
InvalidRequestError = _error("INVALID_REQUEST", 42, doc="The request is malformed or not valid for this server.")
InvalidConfigurationError = _error("INVALID_CONFIG", 40, doc="Configuration is invalid.")
UnsupportedForMessageFormatError = _error("UNSUPPORTED_FOR_MESSAGE_FORMAT", 43, doc="The message format version does not support the request.")
OutOfOrderSequenceNumberError = _error("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, doc="The broker received an out of order sequence number.")
DuplicateSequenceNumberError = _error("DUPLICATE_SEQUENCE_NUMBER", 46, doc="The broker received a duplicate sequence number.")
InvalidProducerEpochError = _error("INVALID_PRODUCER_EPOCH", 47, doc="Producer attempted to produce with an old epoch.")
UnsupportedCompressionTypeError = _error("UNSUPPORTED_COMPRESSION_TYPE", 76, doc="The requesting client does not support the compression type of the given partition.")
InvalidRecordError = _error("INVALID_RECORD", 87, doc="This record has failed the validation on the broker and hence was rejected.")

ERRORS_BY_CODE: dict[int, type[KafkaError]] = {
    cls.error_code: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, KafkaError) and cls is not KafkaError
}
ERRORS_BY_NAME: dict[str, type[KafkaError]] = {cls.error_name: cls for cls in ERRORS_BY_CODE.values()}


def error_for_code(code: int) -> type[KafkaError] | None:
    """The exception class for a protocol error code (None for 0, NONE)."""
    if code == 0:
        return None
    return ERRORS_BY_CODE.get(code, UnknownServerError)


class ImmutableLogError(Exception):
    """Raised when code tries to change or delete a record in place.

    Kafka has no API for that: a partition is an append-only log. Data leaves it only by retention
    (whole segments), by compaction (keeping the newest record per key), or by DeleteRecords moving
    the log start offset forward — never by editing a record.
    """


class ConfigError(ValueError):
    """A configuration key is unknown, or its value is invalid; the message names the key."""
