"""Golden bytes: v2 record batches written by Kafka itself and by other clients, pinned field by field.

Sources (only the byte vectors are copied):
  * KAFKA_011_BROKER_V2: dpkp/kafka-python, test/record/test_records.py, ``record_batch_data_v2``
    ("real live data from Kafka 11 broker"): four uncompressed batches, one with a header.
  * SARAMA_*: IBM/sarama, record_test.go, ``recordBatchTestCases`` (Go client): empty, control,
    uncompressed with a header, gzip, snappy (a raw block, no xerial framing) and lz4 (a frame with
    a content checksum).
  * JDK_GZIP_BATCH: records block compressed by JDK 17 ``java.util.zip.GZIPOutputStream`` wrapped
    as Kafka's GzipCompression.wrapForOutput wraps it (BufferedOutputStream 16 KiB over a
    GZIPOutputStream with an 8 KiB buffer, default level), header and CRC per DefaultRecordBatch.
"""

import pytest

import kafkalab.record.compression as compression
from kafkalab.record import (
    CompressionType,
    Header,
    Record,
    RecordBatch,
    TimestampType,
    decode_batch,
    decode_batches,
    diff_fields,
    encode_batch,
)

needs_cramjam = pytest.mark.skipif(compression._cramjam is None, reason="cramjam not installed")

# --- dpkp/kafka-python test/record/test_records.py: record_batch_data_v2 (Kafka 0.11 broker) -----------
KAFKA_011_BROKER_V2 = [
    # value "123", key null, offset 0
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00;\x00\x00\x00\x01\x02\x03"
    b"\x18\xa2p\x00\x00\x00\x00\x00\x00\x00\x00\x01]\xff{\x06<\x00\x00\x01]"
    b"\xff{\x06<\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00"
    b"\x00\x00\x01\x12\x00\x00\x00\x01\x06123\x00",
    # two records, both value b"" (the second 168 ms later), offsets 1..2
    b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00@\x00\x00\x00\x02\x02\xc8"
    b"\\\xbd#\x00\x00\x00\x00\x00\x01\x00\x00\x01]\xff|\xddl\x00\x00\x01]\xff"
    b"|\xde\x14\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00"
    b"\x00\x00\x02\x0c\x00\x00\x00\x01\x00\x00\x0e\x00\xd0\x02\x02\x01\x00"
    b"\x00",
    # value "123", offset 3
    b"\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00;\x00\x00\x00\x02\x02.\x0b"
    b"\x85\xb7\x00\x00\x00\x00\x00\x00\x00\x00\x01]\xff|\xe7\x9d\x00\x00\x01]"
    b"\xff|\xe7\x9d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\x00\x00\x00\x01\x12\x00\x00\x00\x01\x06123\x00",
    # value "hdr" with header hkey=hval
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00E\x00\x00\x00\x00\x02\\"
    b"\xd8\xefR\x00\x00\x00\x00\x00\x00\x00\x00\x01e\x85\xb6\xf3\xc1\x00\x00"
    b"\x01e\x85\xb6\xf3\xc1\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\xff\xff\x00\x00\x00\x01&\x00\x00\x00\x01\x06hdr\x02\x08hkey\x08hval",
]


def test_kafka_broker_batches_decode():
    # kafka-python appends 4 zero bytes: a fetch response's partial trailing batch
    batches = decode_batches(b"".join(KAFKA_011_BROKER_V2) + b"\x00" * 4, allow_truncated_tail=True)
    assert [b.base_offset for b in batches] == [0, 1, 3, 0]
    assert [b.partition_leader_epoch for b in batches] == [1, 2, 2, 0]
    first = batches[0]
    assert first.records == (Record(None, b"123", (), 1503229838908, 0),)
    assert first.max_timestamp == 1503229838908
    assert (first.producer_id, first.producer_epoch, first.base_sequence) == (-1, -1, -1)
    assert first.compression == CompressionType.NONE and first.timestamp_type == TimestampType.CREATE_TIME
    second = batches[1]
    assert second.last_offset_delta == 1 and second.record_count == 2
    assert [r.value for r in second.records] == [b"", b""]
    assert [r.timestamp - second.base_timestamp for r in second.records] == [0, 168]
    assert second.max_timestamp == second.records[1].timestamp
    assert batches[3].records[0].headers == (Header("hkey", b"hval"),)
    assert batches[3].records[0].value == b"hdr"


@pytest.mark.parametrize("index", range(4))
def test_kafka_broker_batches_reencode_byte_for_byte(index):
    data = KAFKA_011_BROKER_V2[index]
    assert encode_batch(decode_batch(data)) == data


def test_kafka_broker_batch_rebuilt_from_records():
    # the header batch, rebuilt from scratch the way a producer's MemoryRecordsBuilder would
    original = decode_batch(KAFKA_011_BROKER_V2[3])
    rebuilt = RecordBatch.of([Record(None, b"hdr", (Header("hkey", b"hval"),), timestamp=original.base_timestamp)],
                             partition_leader_epoch=0)  # fmt: skip
    assert encode_batch(rebuilt) == KAFKA_011_BROKER_V2[3]
    assert diff_fields(KAFKA_011_BROKER_V2[3], encode_batch(rebuilt)) is None


# --- IBM/sarama record_test.go: recordBatchTestCases -------------------------------------------------
_SARAMA_HEADER_TAIL = bytes([0, 0, 1, 88, 141, 205, 89, 56] + [0] * 8 + [0] * 8 + [0, 0] + [0] * 4 + [0, 0, 0, 1])
_SARAMA_RECORD = bytes([40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12])


def _sarama(length: int, crc: list[int], attributes: int, payload: bytes) -> bytes:
    return (
        bytes([0] * 8 + [0, 0, 0, length] + [0, 0, 0, 0] + [2] + crc + [0, attributes] + [0, 0, 0, 0])
        + _SARAMA_HEADER_TAIL
        + payload
    )


SARAMA_EMPTY = bytes([0] * 8 + [0, 0, 0, 49] + [0] * 4 + [2] + [89, 95, 183, 221] + [0] * 40)
SARAMA_CONTROL = bytes([0] * 8 + [0, 0, 0, 49] + [0] * 4 + [2] + [81, 46, 67, 217] + [0, 32] + [0] * 38)
SARAMA_UNCOMPRESSED = _sarama(70, [84, 121, 97, 253], 0, _SARAMA_RECORD)
SARAMA_GZIP = _sarama(95, [231, 74, 206, 165], 1, bytes([
    31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 0, 21, 0, 234, 255, 40, 0, 10, 0, 8, 1, 2,
    3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 3, 0, 173, 201, 88, 103, 21, 0, 0, 0,
]))  # fmt: skip
SARAMA_SNAPPY = _sarama(72, [21, 0, 159, 97], 2, bytes([21, 80]) + _SARAMA_RECORD)
SARAMA_LZ4 = _sarama(89, [169, 74, 119, 197], 3, bytes([
    4, 34, 77, 24, 100, 112, 185, 21, 0, 0, 128, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2,
    6, 8, 9, 10, 4, 11, 12, 0, 0, 0, 0, 12, 59, 239, 146,
]))  # fmt: skip

SARAMA_RECORD = Record(
    key=bytes([1, 2, 3, 4]),
    value=bytes([5, 6, 7]),
    headers=(Header("\x08\t\n", bytes([11, 12])),),  # sarama's header key bytes 08 09 0a, valid UTF-8
    timestamp=1479847795000 + 5,
)


def _sarama_batch(compression: CompressionType) -> RecordBatch:
    return RecordBatch(
        base_offset=0, partition_leader_epoch=0, last_offset_delta=0, base_timestamp=1479847795000,
        max_timestamp=0, producer_id=0, producer_epoch=0, base_sequence=0, records=(SARAMA_RECORD,),
        compression=compression,
    )  # fmt: skip


def test_sarama_empty_and_control_batches():
    for data, control in ((SARAMA_EMPTY, False), (SARAMA_CONTROL, True)):
        b = decode_batch(data)
        assert b.record_count == 0 and b.is_control is control
        assert (b.base_timestamp, b.producer_id) == (0, 0)
        assert encode_batch(b) == data


def test_sarama_uncompressed_batch_byte_for_byte():
    assert decode_batch(SARAMA_UNCOMPRESSED) == _sarama_batch(CompressionType.NONE)
    assert encode_batch(_sarama_batch(CompressionType.NONE)) == SARAMA_UNCOMPRESSED


def test_sarama_gzip_batch_decodes():
    b = decode_batch(SARAMA_GZIP)
    assert b == _sarama_batch(CompressionType.GZIP)
    assert b.crc == 0xE74ACEA5
    # Go's deflate chose a stored block; ours differs, but re-encoding must decode the same
    assert decode_batch(encode_batch(b)) == b


@needs_cramjam
@pytest.mark.parametrize("data,codec", [(SARAMA_SNAPPY, CompressionType.SNAPPY), (SARAMA_LZ4, CompressionType.LZ4)])
def test_sarama_snappy_and_lz4_batches_decode(data, codec):
    b = decode_batch(data)
    assert b == _sarama_batch(codec)
    assert decode_batch(encode_batch(b)) == b


# --- JDK GZIPOutputStream, configured as Kafka's GzipCompression ----------------------------------
JDK_GZIP_RECORDS = [
    Record(b"user-42", b'{"clicks": 3}', (Header("trace-id", b"abc123"), Header("empty", None)), timestamp=1700000000000),
    Record(None, b"tombstone? no, a value", (), timestamp=1700000000005),
    Record(b"user-42", None, (), timestamp=1699999999990),
]
JDK_GZIP_BATCH = bytes.fromhex(
    "00000000000003e80000009c0000000302b68c32d30001000000020000018bcfe568000000018bcfe56805000000"
    "0000000007000000000000000000031f8b08000000000000ff4b626060e02b2d4e2dd2353192aa564acec94cce2e"
    "56b25230ae651128294a4c4ed5cd4ce1494c4a363432e64acd2d28a964b460e06262d429c9cf4d2a2ec9cf4bb557"
    "c8cbd7514854284bcc294d65906210668119c7c800008eaec7875d000000"
)


def test_jdk_gzip_batch_byte_for_byte():
    built = RecordBatch.of(JDK_GZIP_RECORDS, base_offset=1000, compression=CompressionType.GZIP,
                           producer_id=7, producer_epoch=0, base_sequence=0, partition_leader_epoch=3)  # fmt: skip
    assert encode_batch(built) == JDK_GZIP_BATCH
    decoded = decode_batch(JDK_GZIP_BATCH)
    assert decoded == built
    assert decoded.max_timestamp == 1700000000005 and decoded.base_timestamp == 1700000000000
    assert decoded.records[2].timestamp - decoded.base_timestamp == -10  # a negative delta
    assert decoded.records[0].headers[1].value is None
