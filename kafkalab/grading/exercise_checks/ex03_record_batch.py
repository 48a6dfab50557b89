"""Checks for ex03_record_batch: the learner's encoder, byte for byte, and through a broker."""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

from kafkalab.broker.messages import ProducePartitionData, ProduceRequest
from kafkalab.cluster import EmbeddedCluster, broker_node_id
from kafkalab.errors import CorruptRecordError
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed
from kafkalab.record import RECORD_BATCH_OVERHEAD, CompressionType, Header, Record, RecordBatch, decode_batch, diff_fields
from kafkalab.record.batch import encode_batch as reference_encode_batch
from kafkalab.record.batch import encode_record as reference_encode_record

EXERCISE = "ex03_record_batch"

# A batch a Kafka 0.11 broker wrote (value "hdr", header hkey=hval), from kafka-python's
# test/record/test_records.py record_batch_data_v2.
KAFKA_BATCH_WITH_HEADER = (
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00E\x00\x00\x00\x00\x02\\"
    b"\xd8\xefR\x00\x00\x00\x00\x00\x00\x00\x00\x01e\x85\xb6\xf3\xc1\x00\x00"
    b"\x01e\x85\xb6\xf3\xc1\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\xff\xff\x00\x00\x00\x01&\x00\x00\x00\x01\x06hdr\x02\x08hkey\x08hval"
)

RECORDS = [
    Record(None, b""),
    Record(b"k", b"v"),
    Record(None, None),
    Record(b"key", b"value" * 30, timestamp=1_000),
    Record(b"k", b"v", (Header("h", b"x"),), timestamp=1_500),
    Record(b"k", b"v", (Header("trace-id", None), Header("é", b"\x00\xff")), timestamp=900),
    Record(b"\x00" * 70, b"y" * 200, timestamp=1_000 + 10**9),
]


def _bytes_message(what: str, expected: bytes, got: bytes) -> str:
    return f"{what}: bytes differ\n  expected {expected.hex(' ')}\n  got      {got.hex(' ')}"


def _record_message(record: Record, expected: bytes, got: bytes) -> str:
    """Bytes differ, plus the first wrong field: the learner's record bytes are read inside a batch."""
    message = _bytes_message(f"encode_record({record!r}, base_timestamp=1000)", expected, got)
    reference = reference_encode_batch(RecordBatch.of([record], base_timestamp=1_000))
    if reference[RECORD_BATCH_OVERHEAD:] != expected:
        return message
    difference = diff_fields(reference, reference[:RECORD_BATCH_OVERHEAD] + got)
    return message if difference is None else f"{message}\n{difference.explain()}"


def _first_different_value(expected: Any, got: Any, path: str) -> str | None:
    """The path and both values of the first field where two decoded batches/records differ."""
    if dataclasses.is_dataclass(expected) and type(expected) is type(got):
        for item in dataclasses.fields(expected):
            if item.name == "crc":
                continue
            found = _first_different_value(getattr(expected, item.name), getattr(got, item.name), f"{path}.{item.name}")
            if found:
                return found
        return None
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(expected) == len(got):
        for index, (e, g) in enumerate(zip(expected, got)):
            found = _first_different_value(e, g, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == got else f"{path}: expected {expected!r}, got {got!r}"


@check(EXERCISE, points=2)
def encode_record_matches_kafkas_layout(impl: ModuleType) -> None:
    """encode_record writes DefaultRecord's layout (simple records)"""
    for record in RECORDS[:4]:
        expected, got = reference_encode_record(record, 1_000), impl.encode_record(record, 1_000)
        if got != expected:
            raise CheckFailed(_record_message(record, expected, got))


@check(EXERCISE, points=2)
def encode_record_handles_headers_nulls_and_negative_deltas(impl: ModuleType) -> None:
    """encode_record handles headers, null header values and negative/large timestamp deltas"""
    for record in RECORDS[4:]:
        expected, got = reference_encode_record(record, 1_000), impl.encode_record(record, 1_000)
        if got != expected:
            raise CheckFailed(_record_message(record, expected, got))


@check(EXERCISE, points=2)
def encode_batch_matches_a_batch_kafka_wrote(impl: ModuleType) -> None:
    """encode_batch rebuilds, byte for byte, a batch a Kafka broker wrote"""
    batch = decode_batch(KAFKA_BATCH_WITH_HEADER)
    got = impl.encode_batch(batch)
    difference = diff_fields(KAFKA_BATCH_WITH_HEADER, got)
    if difference is not None:
        raise CheckFailed(difference.explain())


@check(EXERCISE, points=1)
def encode_batch_compresses_the_records(impl: ModuleType) -> None:
    """encode_batch compresses the records block (gzip) as Kafka does"""
    batch = RecordBatch.of(RECORDS, base_offset=42, base_timestamp=1_000, compression=CompressionType.GZIP)
    expected, got = reference_encode_batch(batch), impl.encode_batch(batch)
    difference = diff_fields(expected, got)
    if difference is not None:
        raise CheckFailed(difference.explain())


@check(EXERCISE, points=1)
def the_crc_is_valid(impl: ModuleType) -> None:
    """Kafka's decoder accepts your batch: the CRC-32C covers attributes to the end"""
    batch = RecordBatch.of(RECORDS, base_offset=7, base_timestamp=1_000, producer_id=5, producer_epoch=1, base_sequence=0)
    try:
        decoded = decode_batch(impl.encode_batch(batch))
    except CorruptRecordError as corrupt:
        raise CheckFailed(f"the reference decoder rejected your batch: {corrupt}") from None
    if decoded != batch:
        where = _first_different_value(batch, decoded, "batch") or "(the batches differ)"
        raise CheckFailed(f"the reference decoder reads your bytes as a different batch; first difference: {where}")


@check(EXERCISE, points=2, timeout_s=20)
def a_broker_stores_what_you_encode(impl: ModuleType) -> None:
    """a broker accepts batches decoded from your bytes; a consumer reads the same records back"""
    seed = 3
    cluster = EmbeddedCluster(seed=seed)
    cluster.create_topic("events", partitions=1)
    sent = [Record(f"user-{i}".encode(), f"event-{i}".encode(), (Header("n", str(i).encode()),)) for i in range(12)]
    for start in range(0, 12, 4):
        wire = impl.encode_batch(RecordBatch.of(sent[start : start + 4], base_timestamp=cluster.now_ms))
        try:
            batch = decode_batch(wire)  # what the broker does with the bytes on the wire
        except CorruptRecordError as corrupt:
            raise CheckFailed(f"the broker rejected your batch (CORRUPT_MESSAGE): {corrupt} (seed {seed})") from None
        request = (ProducePartitionData("events", 0, batch),)
        answer = cluster.request(broker_node_id(0), lambda cid: ProduceRequest(-1, 30_000, request, cid)).responses[0]
        if answer.error_code:
            raise CheckFailed(f"the broker answered {answer.error_message} (seed {seed})")
    got = [(r.offset, r.key, r.value, r.headers) for r in cluster.fetch("events", 0, 0)]
    expected = [(i, r.key, r.value, r.headers) for i, r in enumerate(sent)]
    if got != expected:
        index = next((i for i, (e, g) in enumerate(zip(expected, got)) if e != g), min(len(expected), len(got)))
        shown = lambda rows: repr(rows[index]) if index < len(rows) else "nothing"  # noqa: E731
        raise CheckFailed(
            f"records read back differ at offset {index} (seed {seed}): (offset, key, value, headers)\n"
            f"  expected {shown(expected)}\n  got      {shown(got)}"
        )
