"""Bytes on the wire and on disk: Kafka's record batch format v2, byte for byte.

``varint`` (zigzag varints), ``crc32c`` (the batch checksum), ``compression`` (codecs framed as
Kafka frames them), ``batch`` (Record, Header, RecordBatch; encode/decode) and ``dump`` (an
annotated, field-by-field view of a batch's bytes, and a diff that names the first wrong field).
The checksum function is ``kafkalab.record.crc32c.crc32c`` (not re-exported here, so the name
``kafkalab.record.crc32c`` stays the module).

Kafka: org.apache.kafka.common.record (DefaultRecordBatch, DefaultRecord, MemoryRecordsBuilder),
org.apache.kafka.common.utils (ByteUtils, Crc32C); KIP-98 (format v2), KIP-57 (LZ4).
"""

from kafkalab.record.batch import (
    LOG_OVERHEAD,
    MAGIC_V2,
    NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    NO_TIMESTAMP,
    RECORD_BATCH_OVERHEAD,
    Header,
    Record,
    RecordBatch,
    TimestampType,
    batch_size_in_bytes,
    decode_batch,
    decode_batches,
    decode_record,
    encode_batch,
    encode_record,
    iter_batches,
    record_size_in_bytes,
)
from kafkalab.record.compression import CompressionType, codec_available, compress, decompress
from kafkalab.record.dump import Field, FieldDiff, annotate, diff_fields, dump_html, dump_text

__all__ = [
    "CompressionType",
    "Field",
    "FieldDiff",
    "Header",
    "LOG_OVERHEAD",
    "MAGIC_V2",
    "NO_PARTITION_LEADER_EPOCH",
    "NO_PRODUCER_EPOCH",
    "NO_PRODUCER_ID",
    "NO_SEQUENCE",
    "NO_TIMESTAMP",
    "RECORD_BATCH_OVERHEAD",
    "Record",
    "RecordBatch",
    "TimestampType",
    "annotate",
    "batch_size_in_bytes",
    "codec_available",
    "compress",
    "decode_batch",
    "decode_batches",
    "decode_record",
    "decompress",
    "diff_fields",
    "dump_html",
    "dump_text",
    "encode_batch",
    "encode_record",
    "iter_batches",
    "record_size_in_bytes",
]
