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


# The subset of Errors.java that kafkalab raises. Names and codes are Kafka's.
class UnknownServerError(KafkaError):
    """The server hit an unexpected error."""

    error_code = -1
    error_name = "UNKNOWN_SERVER_ERROR"


class OffsetOutOfRangeError(KafkaError):
    """The requested offset is outside the range kept on the server."""

    error_code = 1
    error_name = "OFFSET_OUT_OF_RANGE"


class CorruptRecordError(KafkaError):
    """A record or batch failed its CRC or is malformed."""

    error_code = 2
    error_name = "CORRUPT_MESSAGE"
    retriable = True


class UnknownTopicOrPartitionError(KafkaError):
    """This server does not host this topic-partition."""

    error_code = 3
    error_name = "UNKNOWN_TOPIC_OR_PARTITION"
    retriable = True


class InvalidFetchSizeError(KafkaError):
    """The requested fetch size is invalid."""

    error_code = 4
    error_name = "INVALID_FETCH_SIZE"


class LeaderNotAvailableError(KafkaError):
    """There is no leader for this topic-partition (an election may be in progress)."""

    error_code = 5
    error_name = "LEADER_NOT_AVAILABLE"
    retriable = True


class NotLeaderOrFollowerError(KafkaError):
    """This server is not the leader (or a follower) for that topic-partition."""

    error_code = 6
    error_name = "NOT_LEADER_OR_FOLLOWER"
    retriable = True


class RequestTimedOutError(KafkaError):
    """The request timed out."""

    error_code = 7
    error_name = "REQUEST_TIMED_OUT"
    retriable = True


class NetworkExceptionError(KafkaError):
    """The connection was lost before an answer arrived (the request may or may not have been processed)."""

    error_code = 13
    error_name = "NETWORK_EXCEPTION"
    retriable = True


class MessageTooLargeError(KafkaError):
    """The request included a message larger than the max message size the server will accept."""

    error_code = 10
    error_name = "MESSAGE_TOO_LARGE"


class InvalidTopicError(KafkaError):
    """The topic name is invalid (or an internal topic was written to)."""

    error_code = 17
    error_name = "INVALID_TOPIC_EXCEPTION"


class RecordListTooLargeError(KafkaError):
    """The request included a batch larger than the configured segment size."""

    error_code = 18
    error_name = "RECORD_LIST_TOO_LARGE"


class NotEnoughReplicasError(KafkaError):
    """Fewer in-sync replicas than min.insync.replicas."""

    error_code = 19
    error_name = "NOT_ENOUGH_REPLICAS"
    retriable = True


class NotEnoughReplicasAfterAppendError(KafkaError):
    """Written to the leader, but the ISR shrank below min.insync.replicas."""

    error_code = 20
    error_name = "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
    retriable = True


class InvalidRequiredAcksError(KafkaError):
    """acks must be -1 (all), 0 or 1."""

    error_code = 21
    error_name = "INVALID_REQUIRED_ACKS"


class InvalidTimestampError(KafkaError):
    """The timestamp of the message is out of the acceptable range."""

    error_code = 32
    error_name = "INVALID_TIMESTAMP"


class UnsupportedVersionError(KafkaError):
    """The version of the API is not supported."""

    error_code = 35
    error_name = "UNSUPPORTED_VERSION"


class TopicAlreadyExistsError(KafkaError):
    """Topic with this name already exists."""

    error_code = 36
    error_name = "TOPIC_ALREADY_EXISTS"


class InvalidPartitionsError(KafkaError):
    """Number of partitions is below 1."""

    error_code = 37
    error_name = "INVALID_PARTITIONS"


class InvalidReplicationFactorError(KafkaError):
    """Replication factor is below 1 or larger than the number of available brokers."""

    error_code = 38
    error_name = "INVALID_REPLICATION_FACTOR"


class InvalidRequestError(KafkaError):
    """The request is malformed or not valid for this server."""

    error_code = 42
    error_name = "INVALID_REQUEST"


class InvalidConfigurationError(KafkaError):
    """Configuration is invalid."""

    error_code = 40
    error_name = "INVALID_CONFIG"


class UnsupportedForMessageFormatError(KafkaError):
    """The message format version does not support the request."""

    error_code = 43
    error_name = "UNSUPPORTED_FOR_MESSAGE_FORMAT"


class OutOfOrderSequenceNumberError(KafkaError):
    """The broker received an out of order sequence number."""

    error_code = 45
    error_name = "OUT_OF_ORDER_SEQUENCE_NUMBER"


class DuplicateSequenceNumberError(KafkaError):
    """The broker received a duplicate sequence number."""

    error_code = 46
    error_name = "DUPLICATE_SEQUENCE_NUMBER"


class InvalidProducerEpochError(KafkaError):
    """Producer attempted to produce with an old epoch."""

    error_code = 47
    error_name = "INVALID_PRODUCER_EPOCH"


class UnsupportedCompressionTypeError(KafkaError):
    """The requesting client does not support the compression type of the given partition."""

    error_code = 76
    error_name = "UNSUPPORTED_COMPRESSION_TYPE"


class InvalidRecordError(KafkaError):
    """This record has failed the validation on the broker and hence was rejected."""

    error_code = 87
    error_name = "INVALID_RECORD"



class OffsetMetadataTooLargeError(KafkaError):
    """The metadata string of an offset commit is too large."""

    error_code = 12
    error_name = "OFFSET_METADATA_TOO_LARGE"


class CoordinatorLoadInProgressError(KafkaError):
    """The coordinator is loading its state (replaying __consumer_offsets) and cannot answer yet."""

    error_code = 14
    error_name = "COORDINATOR_LOAD_IN_PROGRESS"
    retriable = True


class CoordinatorNotAvailableError(KafkaError):
    """The coordinator is not available (its partition has no leader, or __consumer_offsets does not exist yet)."""

    error_code = 15
    error_name = "COORDINATOR_NOT_AVAILABLE"
    retriable = True


class NotCoordinatorError(KafkaError):
    """This broker is not the coordinator of that group (find it again with FindCoordinator)."""

    error_code = 16
    error_name = "NOT_COORDINATOR"
    retriable = True


class IllegalGenerationError(KafkaError):
    """The generation id in the request is not the group's current generation."""

    error_code = 22
    error_name = "ILLEGAL_GENERATION"


class InconsistentGroupProtocolError(KafkaError):
    """The member's protocol type or assignors do not match the group's."""

    error_code = 23
    error_name = "INCONSISTENT_GROUP_PROTOCOL"


class InvalidGroupIdError(KafkaError):
    """The group id is empty or null."""

    error_code = 24
    error_name = "INVALID_GROUP_ID"


class UnknownMemberIdError(KafkaError):
    """The coordinator does not know this member id (it was removed from the group)."""

    error_code = 25
    error_name = "UNKNOWN_MEMBER_ID"


class InvalidSessionTimeoutError(KafkaError):
    """session.timeout.ms is outside group.min.session.timeout.ms .. group.max.session.timeout.ms."""

    error_code = 26
    error_name = "INVALID_SESSION_TIMEOUT"


class RebalanceInProgressError(KafkaError):
    """The group is rebalancing: rejoin it."""

    error_code = 27
    error_name = "REBALANCE_IN_PROGRESS"


class InvalidTxnStateError(KafkaError):
    """The producer attempted a transactional operation in an invalid state."""

    error_code = 48
    error_name = "INVALID_TXN_STATE"


class InvalidProducerIdMappingError(KafkaError):
    """The producer id does not match the transactional id."""

    error_code = 49
    error_name = "INVALID_PRODUCER_ID_MAPPING"


class ConcurrentTransactionsError(KafkaError):
    """The previous transaction of this producer is still being completed."""

    error_code = 51
    error_name = "CONCURRENT_TRANSACTIONS"
    retriable = True


class NonEmptyGroupError(KafkaError):
    """The group is not empty."""

    error_code = 68
    error_name = "NON_EMPTY_GROUP"


class GroupIdNotFoundError(KafkaError):
    """The group id does not exist."""

    error_code = 69
    error_name = "GROUP_ID_NOT_FOUND"


class MemberIdRequiredError(KafkaError):
    """The coordinator gave the member an id: join again with it (KIP-394)."""

    error_code = 79
    error_name = "MEMBER_ID_REQUIRED"


class GroupMaxSizeReachedError(KafkaError):
    """The group already has group.max.size members."""

    error_code = 81
    error_name = "GROUP_MAX_SIZE_REACHED"


class FencedInstanceIdError(KafkaError):
    """Another member with the same group.instance.id has joined: this one is fenced (KIP-345)."""

    error_code = 82
    error_name = "FENCED_INSTANCE_ID"


class UnstableOffsetCommitError(KafkaError):
    """There are pending transactional offset commits for this partition (KIP-447)."""

    error_code = 88
    error_name = "UNSTABLE_OFFSET_COMMIT"
    retriable = True


class ProducerFencedError(KafkaError):
    """A newer producer with the same transactional.id has a higher epoch: this one is fenced."""

    error_code = 90
    error_name = "PRODUCER_FENCED"


class FencedLeaderEpochError(KafkaError):
    """The leader epoch in the request is older than the broker's: refresh metadata."""

    error_code = 74
    error_name = "FENCED_LEADER_EPOCH"
    retriable = True


class UnknownLeaderEpochError(KafkaError):
    """The leader epoch in the request is newer than the broker's."""

    error_code = 75
    error_name = "UNKNOWN_LEADER_EPOCH"
    retriable = True


class InvalidUpdateVersionError(KafkaError):
    """The AlterPartition request's partition epoch is stale."""

    error_code = 95
    error_name = "INVALID_UPDATE_VERSION"


class IneligibleReplicaError(KafkaError):
    """A replica proposed for the ISR is not eligible (fenced or not a replica)."""

    error_code = 107
    error_name = "INELIGIBLE_REPLICA"


class OffsetNotAvailableError(KafkaError):
    """The leader's high watermark has not caught up to its epoch start yet."""

    error_code = 78
    error_name = "OFFSET_NOT_AVAILABLE"
    retriable = True


class UnknownTopicIdError(KafkaError):
    """This server does not host this topic ID (requests naming topics by id, KIP-516)."""

    error_code = 100
    error_name = "UNKNOWN_TOPIC_ID"
    retriable = True


class TopicDeletionDisabledError(KafkaError):
    """Topic deletion is disabled (or, in kafkalab, the topic is internal)."""

    error_code = 73
    error_name = "TOPIC_DELETION_DISABLED"



class DuplicateBrokerRegistrationError(KafkaError):
    """A broker registered with a node id that is already taken (here: the controller's own)."""

    error_code = 101
    error_name = "DUPLICATE_BROKER_REGISTRATION"


class StaleBrokerEpochError(KafkaError):
    """A heartbeat or request from an older registration of the broker (its process restarted, or the
    controller did): the broker must register again."""

    error_code = 77
    error_name = "STALE_BROKER_EPOCH"


class InconsistentClusterIdError(KafkaError):
    """A node formatted for another cluster (``kafka-storage format -t``) tried to join this one."""

    error_code = 104
    error_name = "INCONSISTENT_CLUSTER_ID"

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


def raise_for_code(code: int, message: str | None = None) -> None:
    """Raise the exception for an error code from a response (nothing for 0); a message that already
    starts with the error's name is not prefixed twice."""
    error = error_for_code(code)
    if error is not None:
        raise error(message.split(": ", 1)[1] if message and message.startswith(error.error_name + ": ") else (message or ""))


class ImmutableLogError(Exception):
    """Raised when code tries to change or delete a record in place.

    Kafka has no API for that: a partition is an append-only log. Data leaves it only by retention
    (whole segments), by compaction (keeping the newest record per key), or by DeleteRecords moving
    the log start offset forward — never by editing a record.
    """


class ConfigError(ValueError):
    """A configuration key is unknown, or its value is invalid; the message names the key."""
