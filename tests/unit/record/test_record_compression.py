"""Codecs: round trips, Kafka's framing, and the missing-package message."""

import gzip

import pytest
from hypothesis import given, settings, strategies as st

import kafkalab.record.compression as compression
from kafkalab.errors import CorruptRecordError, UnsupportedCompressionTypeError
from kafkalab.record.compression import SNAPPY_MAGIC, CompressionType, compress, decompress, xxh32

ALL = list(CompressionType)
CRAMJAM = [CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]
needs_cramjam = pytest.mark.skipif(compression._cramjam is None, reason="cramjam not installed")


def test_ids_are_kafkas():
    assert [int(c) for c in CompressionType] == [0, 1, 2, 3, 4]
    assert CompressionType.ZSTD.codec_name == "zstd"


@pytest.mark.parametrize("codec", ALL)
@pytest.mark.parametrize("data", [b"", b"x", b"hello kafka " * 1000, bytes(range(256)) * 600])
def test_round_trip(codec, data):
    if not compression.codec_available(codec):
        pytest.skip("codec needs cramjam")
    assert decompress(codec, compress(codec, data)) == data


def test_gzip_header_is_javas():
    # java.util.zip.GZIPOutputStream (JDK 16+): mtime 0, no flags, xfl 0, OS 255 (unknown)
    out = compress(CompressionType.GZIP, b"abc")
    assert out[:10] == bytes.fromhex("1f8b08000000000000ff")
    assert gzip.decompress(out) == b"abc"


def test_gzip_reads_concatenated_members():
    assert decompress(CompressionType.GZIP, gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"


@needs_cramjam
def test_snappy_uses_xerial_framing():
    out = compress(CompressionType.SNAPPY, b"a" * 100_000)
    assert out[:16] == SNAPPY_MAGIC + bytes.fromhex("0000000100000001")
    # 100 000 bytes in 32 KiB chunks: four [int32 length][raw block] chunks
    pos, chunks = 16, 0
    while pos < len(out):
        pos += 4 + int.from_bytes(out[pos : pos + 4], "big")
        chunks += 1
    assert pos == len(out) and chunks == 4


@needs_cramjam
def test_snappy_reads_plain_raw_block_and_concatenated_streams():
    import cramjam

    raw = bytes(cramjam.snappy.compress_raw(b"plain raw block"))
    assert decompress(CompressionType.SNAPPY, raw) == b"plain raw block"
    both = compress(CompressionType.SNAPPY, b"one ") + compress(CompressionType.SNAPPY, b"two")
    assert decompress(CompressionType.SNAPPY, both) == b"one two"


@needs_cramjam
def test_lz4_frame_header_is_kafkas():
    out = compress(CompressionType.LZ4, b"")
    # magic, FLG 0x60 (v01, independent blocks), BD 0x40 (64 KiB), HC 0x82, end mark
    assert out == bytes.fromhex("04224d1860408200000000")


@needs_cramjam
def test_lz4_incompressible_block_is_stored():
    data = bytes(range(200))
    out = compress(CompressionType.LZ4, data)
    assert int.from_bytes(out[7:11], "little") == 200 | 0x80000000
    assert decompress(CompressionType.LZ4, out) == data


@needs_cramjam
def test_lz4_rejects_pre_kip57_header_checksum():
    # Kafka before KIP-57 hashed the magic too: HC = xxh32(magic + FLG + BD)
    good = compress(CompressionType.LZ4, b"x" * 100)
    broken_hc = (xxh32(good[0:6]) >> 8) & 0xFF
    bad = good[:6] + bytes([broken_hc]) + good[7:]
    with pytest.raises(CorruptRecordError, match="header checksum"):
        decompress(CompressionType.LZ4, bad)


@needs_cramjam
def test_lz4_reads_frames_from_other_writers():
    import cramjam

    data = b"framed by the reference lz4 library " * 50
    assert decompress(CompressionType.LZ4, bytes(cramjam.lz4.compress(data))) == data


def test_xxh32_vectors():
    assert xxh32(b"") == 0x02CC5D05
    assert xxh32(b"a") == 0x550D7456
    assert xxh32(b"abc") == 0x32D153FF
    assert xxh32(b"Nobody inspects the spammish repetition") == 0xE2293B2F


@pytest.mark.parametrize("codec", [CompressionType.GZIP] + CRAMJAM)
def test_garbage_is_a_corrupt_record(codec):
    if not compression.codec_available(codec):
        pytest.skip("codec needs cramjam")
    with pytest.raises(CorruptRecordError):
        decompress(codec, b"\x04\x22\x4d\x18garbage-garbage" if codec == CompressionType.LZ4 else b"garbage!" * 3)


def test_unknown_codec_id():
    with pytest.raises(UnsupportedCompressionTypeError, match="unknown compression type id 5"):
        decompress(5, b"")


@pytest.mark.parametrize("codec", CRAMJAM)
def test_missing_cramjam_names_codec_and_package(codec, monkeypatch):
    monkeypatch.setattr(compression, "_cramjam", None)
    with pytest.raises(UnsupportedCompressionTypeError, match=f"{codec.codec_name}.*cramjam"):
        compress(codec, b"data")
    with pytest.raises(UnsupportedCompressionTypeError, match="cramjam"):
        decompress(codec, b"data")
    assert not compression.codec_available(codec)
    # none and gzip keep working
    assert decompress(CompressionType.GZIP, compress(CompressionType.GZIP, b"data")) == b"data"
    assert compress(CompressionType.NONE, b"data") == b"data"


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.sampled_from(ALL), st.binary(max_size=5000))
def test_round_trip_property(codec, data):
    if compression.codec_available(codec):
        assert decompress(codec, compress(codec, data)) == data
