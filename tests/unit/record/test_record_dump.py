"""The annotated view of a batch, and the diff graders use to name a learner's wrong field."""

import struct

from kafkalab.record import (
    CompressionType,
    Header,
    Record,
    RecordBatch,
    annotate,
    diff_fields,
    dump_html,
    dump_text,
    encode_batch,
)
from kafkalab.record.crc32c import crc32c
from kafkalab.record.dump import hexdump


def batch(**kw):
    records = [
        Record(b"key-1", b"value-1", (Header("trace", b"t1"), Header("none", None)), timestamp=1000),
        Record(None, b"value-2", timestamp=1002),
    ]
    return RecordBatch.of(records, base_offset=10, **kw)


def _recrc(data: bytearray) -> bytes:
    struct.pack_into(">I", data, 17, crc32c(bytes(data[21:])))
    return bytes(data)


def test_top_level_fields_tile_the_bytes():
    data = encode_batch(batch())
    fields = annotate(data)
    names = [f.name for f in fields]
    assert names == [
        "base_offset", "batch_length", "partition_leader_epoch", "magic", "crc", "attributes",
        "last_offset_delta", "base_timestamp", "max_timestamp", "producer_id", "producer_epoch",
        "base_sequence", "records_count", "records",
    ]  # fmt: skip
    pos = 0
    for f in fields:
        assert f.offset == pos and f.raw == data[f.offset : f.offset + f.length]
        pos += f.length
    assert pos == len(data)
    assert fields[4].note == "ok"


def test_record_and_header_children():
    fields = annotate(encode_batch(batch()))
    records = fields[-1]
    assert [r.path for r in records.children] == ["records[0]", "records[1]"]
    first = {c.name: c for c in records.children[0].children}
    assert first["key"].value == b"key-1"
    header = first["headers[0]"]
    assert header.path == "records[0].headers[0]"
    assert header.value == ("trace", b"t1")
    null_header = first["headers[1]"]
    assert null_header.value == ("none", None)
    leaves = [f for f in records.walk() if not f.children]
    pos = records.offset
    for leaf in leaves:  # uncompressed: leaves are contiguous
        assert leaf.offset == pos
        pos += leaf.length
    assert pos == records.offset + records.length


def test_compressed_records_are_annotated_in_decompressed_bytes():
    fields = annotate(encode_batch(batch(compression=CompressionType.GZIP)))
    records = fields[-1]
    assert "gzip" in records.value
    assert records.children[0].space == "decompressed"
    assert records.children[0].offset == 0


def test_annotate_never_raises_on_garbage():
    for data in [b"", b"\x00" * 5, b"\xff" * 70, encode_batch(batch())[:-4], encode_batch(batch())[:-4] + b"\x00" * 9]:
        annotate(data)  # does not raise
    for data in [b"\x00" * 5, encode_batch(batch())[:-4]]:
        assert any(f.name == "<error>" for top in annotate(data) for f in top.walk())
    fields = annotate(b"\xff" * 70)
    assert "cannot decompress" in fields[-1].value
    assert "negative" in fields[-2].note


def test_dump_text_lists_every_field():
    text = dump_text(encode_batch(batch()))
    for name in ("base_offset = 10", "crc = 0x", "(ok)", "records[1]", "headers[1]", "value = null", "'trace'"):
        assert name in text
    assert "* offset within the decompressed records" in dump_text(encode_batch(batch(compression=1)))


def test_dump_html_is_self_contained():
    out = dump_html(encode_batch(batch()))
    assert out.count("<tr") > 20 and "<table" in out
    assert "http" not in out and "<script" not in out
    assert "&#x27;trace&#x27;" in out  # values are escaped


def test_diff_equal_is_none():
    data = encode_batch(batch())
    assert diff_fields(data, data) is None


def test_diff_names_the_wrong_key_not_the_crc():
    expected = encode_batch(batch())
    wrong = RecordBatch.of(
        [Record(b"key-X", b"value-1", (Header("trace", b"t1"), Header("none", None)), timestamp=1000),
         Record(None, b"value-2", timestamp=1002)], base_offset=10)  # fmt: skip
    diff = diff_fields(expected, encode_batch(wrong))
    assert diff.path == "records[0].key"
    assert (diff.expected, diff.got) == (b"key-1", b"key-X")
    text = diff.explain()
    assert "records[0].key" in text and "^^" in text


def test_diff_null_header_value_written_as_empty():
    expected = encode_batch(batch())
    wrong = RecordBatch.of(
        [Record(b"key-1", b"value-1", (Header("trace", b"t1"), Header("none", b"")), timestamp=1000),
         Record(None, b"value-2", timestamp=1002)], base_offset=10)  # fmt: skip
    diff = diff_fields(expected, encode_batch(wrong))
    assert diff.path == "records[0].headers[1].value_length"
    assert (diff.expected, diff.got) == (-1, 0)


def test_diff_wrong_attribute_bit():
    diff = diff_fields(encode_batch(batch()), encode_batch(batch(is_transactional=True)))
    assert diff.path == "attributes.is_transactional"


def test_diff_only_crc():
    data = bytearray(encode_batch(batch()))
    data[17] ^= 0xFF
    diff = diff_fields(encode_batch(batch()), bytes(data))
    assert diff.path == "crc" and diff.offset == 17 and diff.length == 4


def test_diff_wrong_record_length_is_reported_after_content():
    expected = encode_batch(batch())
    data = bytearray(expected)
    data[61] += 2  # record 0's length varint, body unchanged
    diff = diff_fields(expected, _recrc(data))
    assert diff.path == "records[0].length"


def test_diff_missing_record():
    expected = encode_batch(batch())
    short = RecordBatch.of([batch().records[0]], base_offset=10)
    diff = diff_fields(expected, encode_batch(short))
    assert diff.path in ("last_offset_delta", "records_count")
    data = bytearray(encode_batch(short))
    struct.pack_into(">ii", data, 23, 1, 0)  # fake last_offset_delta ...
    struct.pack_into(">i", data, 57, 2)  # ... and records_count: now the second record is missing
    struct.pack_into(">q", data, 35, 1002)
    diff = diff_fields(expected, _recrc(data))
    assert diff.path.startswith("records[1]") or diff.path == "records.<error>"


def test_diff_in_compressed_batch_points_into_decompressed_bytes():
    expected = encode_batch(batch(compression=CompressionType.GZIP))
    wrong = batch(compression=CompressionType.GZIP)
    recs = list(wrong.records)
    recs[1] = Record(None, b"value-3", timestamp=1002, offset_delta=1)
    got = encode_batch(RecordBatch(**{**wrong.__dict__, "records": tuple(recs)}))
    diff = diff_fields(expected, got)
    assert diff.path == "records[1].value" and diff.space == "decompressed"
    assert b"value-3" in diff.context


def test_hexdump_marks_bytes():
    out = hexdump(bytes(range(40)), 17, 20)
    marked = [line for line in out.splitlines() if "^^" in line]
    assert len(marked) == 1 and marked[0].count("^^") == 3
