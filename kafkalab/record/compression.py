"""Compression codecs, framed exactly as Kafka's producer writes them.

A v2 batch compresses all of its records together as one block; the batch header stays plain.
The codec id lives in the low three bits of the batch ``attributes``:

    id  codec   framing Kafka writes                        kafkalab uses
    0   none    -                                           -
    1   gzip    gzip member (java.util.zip.GZIPOutputStream) stdlib zlib, level 6, mtime 0, OS 255
    2   snappy  xerial snappy-java stream (see below)        raw blocks from cramjam
    3   lz4     LZ4 frame format (see below)                 raw blocks from cramjam
    4   zstd    zstd frame (zstd-jni)                        cramjam, level 3

Snappy, as ``org.xerial.snappy.SnappyOutputStream`` frames it::

    82 53 4e 41 50 50 59 00   magic "\\x82SNAPPY\\x00"
    00 00 00 01               version 1 (big-endian int32)
    00 00 00 01               minimum compatible version 1
    then, per 32 KiB of input: [int32 big-endian length][raw snappy block]

Reading accepts that framing (also several streams one after the other) and, as
``SnappyInputStream.readHeader`` does, input that does not start with the magic header is taken
to be one plain raw snappy block (what some other clients, e.g. sarama, write).

LZ4, as ``Lz4BlockOutputStream`` frames it (the standard LZ4 frame format)::

    04 22 4d 18               magic 0x184D2204 (little-endian)
    60                        FLG: version 01, blocks independent, no checksums, no content size
    40                        BD: maximum block size 64 KiB
    82                        HC: (xxHash32(FLG BD) >> 8) & 0xFF
    then per block: [uint32 little-endian size, top bit set = stored uncompressed][block]
    00 00 00 00               end mark

Before KIP-57 Kafka computed HC over the magic bytes too (a bug); message format v0 still
expects that, v1 and v2 (all of kafkalab) use the correct checksum. Reading validates HC and,
as ``Lz4BlockInputStream`` does, accepts a content size and skips block and content checksums
without verifying them.

GZIP and NONE always work (standard library). SNAPPY, LZ4 and ZSTD need the optional
``cramjam`` package; without it they raise :class:`~kafkalab.errors.UnsupportedCompressionTypeError`
naming the codec and the package.

Kafka: org.apache.kafka.common.record.CompressionType, org.apache.kafka.common.compress.*
(GzipCompression, SnappyCompression, Lz4Compression, Lz4BlockOutputStream, Lz4BlockInputStream,
ZstdCompression); config ``compression.type``; KIP-57 (LZ4 header checksum), KIP-110 (zstd),
KIP-390 (compression levels).
"""

from __future__ import annotations

import enum
import struct
import zlib
from types import ModuleType

from kafkalab.errors import CorruptRecordError, UnsupportedCompressionTypeError

__all__ = [
    "CompressionType",
    "compress",
    "decompress",
    "codec_available",
    "xxh32",
    "SNAPPY_MAGIC",
    "LZ4_FRAME_MAGIC",
]


class CompressionType(enum.IntEnum):
    """Kafka's codec ids: the low three bits of a batch's attributes."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @property
    def codec_name(self) -> str:
        """The name used by the ``compression.type`` config (``none``, ``gzip``, ...)."""
        return self.name.lower()


def _load_cramjam() -> ModuleType | None:
    try:
        import cramjam
    except ImportError:
        return None
    return cramjam


_cramjam = _load_cramjam()


def codec_available(compression: CompressionType) -> bool:
    """True when this Python can both compress and decompress with ``compression``."""
    return CompressionType(compression) in (CompressionType.NONE, CompressionType.GZIP) or _cramjam is not None


def _require_cramjam(compression: CompressionType) -> ModuleType:
    if _cramjam is None:
        raise UnsupportedCompressionTypeError(
            f"{compression.codec_name} compression needs the 'cramjam' package, which is not installed "
            "(pip install cramjam); none and gzip work without it"
        )
    return _cramjam


# --------------------------------------------------------------------------- gzip

_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])  # deflate, no flags, mtime 0, xfl 0, OS unknown
GZIP_LEVEL_DEFAULT = 6  # Deflater.DEFAULT_COMPRESSION; compression.gzip.level = -1 means this


def _gzip_compress(data: bytes, level: int = GZIP_LEVEL_DEFAULT) -> bytes:
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = deflater.compress(data) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


def _gzip_decompress(data: bytes) -> bytes:
    out = bytearray()
    rest = bytes(data)
    while rest:  # a gzip stream may hold several members
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += d.decompress(rest)
        if not d.eof:
            raise CorruptRecordError("gzip stream ended before its end marker")
        rest = d.unused_data
    return bytes(out)


# --------------------------------------------------------------------------- snappy (xerial)

SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_SNAPPY_HEADER = SNAPPY_MAGIC + struct.pack(">ii", 1, 1)
_SNAPPY_BLOCK_SIZE = 32 * 1024  # SnappyOutputStream.DEFAULT_BLOCK_SIZE


def _snappy_compress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.SNAPPY)
    out = bytearray(_SNAPPY_HEADER)
    for start in range(0, len(data), _SNAPPY_BLOCK_SIZE):
        block = bytes(cj.snappy.compress_raw(data[start : start + _SNAPPY_BLOCK_SIZE]))
        out += struct.pack(">i", len(block)) + block
    return bytes(out)


def _snappy_decompress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.SNAPPY)
    data = bytes(data)
    if not data:
        return b""
    if len(data) < len(_SNAPPY_HEADER) or not data.startswith(SNAPPY_MAGIC):
        return bytes(cj.snappy.decompress_raw(data))  # a plain raw block, as SnappyInputStream allows
    out = bytearray()
    pos = 0
    while pos < len(data):
        if data.startswith(SNAPPY_MAGIC, pos):  # a (possibly concatenated) stream header
            if pos + len(_SNAPPY_HEADER) > len(data):
                raise CorruptRecordError("truncated snappy stream header")
            (compatible,) = struct.unpack_from(">i", data, pos + 12)
            if compatible > 1:
                raise CorruptRecordError(f"snappy stream needs compatible version {compatible}, only 1 is supported")
            pos += len(_SNAPPY_HEADER)
            continue
        if pos + 4 > len(data):
            raise CorruptRecordError(f"truncated snappy chunk length at byte {pos}")
        (size,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if size < 0 or pos + size > len(data):
            raise CorruptRecordError(f"snappy chunk of {size} bytes at byte {pos - 4} runs past the end of the data")
        out += bytes(cj.snappy.decompress_raw(data[pos : pos + size]))
        pos += size
    return bytes(out)


# --------------------------------------------------------------------------- lz4 frame

LZ4_FRAME_MAGIC = 0x184D2204
_LZ4_BLOCK_SIZES = {4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024}
_LZ4_UNCOMPRESSED_BIT = 0x80000000
_LZ4_FLG_KAFKA = 0x60  # version 01, block independence; no checksums, no content size
_LZ4_BD_64KB = 0x40

_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
_M32 = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def xxh32(data: bytes, seed: int = 0) -> int:
    """xxHash32 (pure Python): the LZ4 frame's header, block and content checksum."""
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M32, (seed + _P2) & _M32, seed & _M32, (seed - _P1) & _M32]
        while i + 16 <= n:
            for lane in range(4):
                (word,) = struct.unpack_from("<I", data, i + 4 * lane)
                v[lane] = (_rotl((v[lane] + word * _P2) & _M32, 13) * _P1) & _M32
            i += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M32
    else:
        h = (seed + _P5) & _M32
    h = (h + n) & _M32
    while i + 4 <= n:
        (word,) = struct.unpack_from("<I", data, i)
        h = (_rotl((h + word * _P3) & _M32, 17) * _P4) & _M32
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * _P5) & _M32, 11) * _P1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M32
    h ^= h >> 13
    h = (h * _P3) & _M32
    h ^= h >> 16
    return h


def _lz4_header_checksum(descriptor: bytes) -> int:
    return (xxh32(descriptor) >> 8) & 0xFF


def _lz4_compress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.LZ4)
    descriptor = bytes([_LZ4_FLG_KAFKA, _LZ4_BD_64KB])
    out = bytearray(struct.pack("<I", LZ4_FRAME_MAGIC) + descriptor + bytes([_lz4_header_checksum(descriptor)]))
    block_size = _LZ4_BLOCK_SIZES[4]
    for start in range(0, len(data), block_size):
        block = data[start : start + block_size]
        packed = bytes(cj.lz4.compress_block(block, store_size=False))
        if len(packed) >= len(block):  # incompressible: store it as is, flagged by the top bit
            out += struct.pack("<I", len(block) | _LZ4_UNCOMPRESSED_BIT) + block
        else:
            out += struct.pack("<I", len(packed)) + packed
    out += struct.pack("<I", 0)  # end mark
    return bytes(out)


def _lz4_decompress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.LZ4)
    data = bytes(data)

    def need(pos: int, n: int, what: str) -> None:
        if pos + n > len(data):
            raise CorruptRecordError(f"truncated lz4 frame: {what} at byte {pos} needs {n} bytes")

    need(0, 7, "frame header")
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic != LZ4_FRAME_MAGIC:
        raise CorruptRecordError(f"not an lz4 frame: magic {magic:#010x}, expected {LZ4_FRAME_MAGIC:#010x}")
    flg, bd = data[4], data[5]
    if flg >> 6 != 1:
        raise CorruptRecordError(f"unsupported lz4 frame version {flg >> 6}")
    if flg & 0x03 or bd & 0x8F:
        raise CorruptRecordError("lz4 frame descriptor has reserved bits (or a dictionary id) set")
    block_checksum, has_content_size, content_checksum = bool(flg & 0x10), bool(flg & 0x08), bool(flg & 0x04)
    max_block = _LZ4_BLOCK_SIZES.get((bd >> 4) & 0x07)
    if max_block is None:
        raise CorruptRecordError(f"unsupported lz4 block size code {(bd >> 4) & 0x07}")
    pos = 6 + (8 if has_content_size else 0)
    need(pos, 1, "header checksum")
    descriptor = data[4:pos]
    if data[pos] != _lz4_header_checksum(descriptor):
        raise CorruptRecordError(
            f"lz4 frame header checksum {data[pos]:#04x} does not match computed "
            f"{_lz4_header_checksum(descriptor):#04x} (KIP-57)"
        )
    pos += 1
    out = bytearray()
    scratch = bytearray(max_block)
    while True:
        need(pos, 4, "block size")
        (size,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if size == 0:
            break
        stored = bool(size & _LZ4_UNCOMPRESSED_BIT)
        size &= ~_LZ4_UNCOMPRESSED_BIT
        need(pos, size, "block")
        block = data[pos : pos + size]
        pos += size
        if block_checksum:  # skipped unverified, as Lz4BlockInputStream does
            need(pos, 4, "block checksum")
            pos += 4
        if stored:
            out += block
        else:
            try:
                n = cj.lz4.decompress_block_into(block, scratch)
            except Exception as exc:
                raise CorruptRecordError(f"invalid lz4 block: {exc}") from exc
            out += scratch[:n]
    if content_checksum:  # skipped unverified, as Lz4BlockInputStream does
        need(pos, 4, "content checksum")
    return bytes(out)


# --------------------------------------------------------------------------- zstd

ZSTD_LEVEL_DEFAULT = 3  # compression.zstd.level default


def _zstd_compress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.ZSTD)
    return bytes(cj.zstd.compress(data, level=ZSTD_LEVEL_DEFAULT))


def _zstd_decompress(data: bytes) -> bytes:
    cj = _require_cramjam(CompressionType.ZSTD)
    return bytes(cj.zstd.decompress(bytes(data)))


# --------------------------------------------------------------------------- dispatch

_COMPRESSORS = {
    CompressionType.NONE: bytes,
    CompressionType.GZIP: _gzip_compress,
    CompressionType.SNAPPY: _snappy_compress,
    CompressionType.LZ4: _lz4_compress,
    CompressionType.ZSTD: _zstd_compress,
}
_DECOMPRESSORS = {
    CompressionType.NONE: bytes,
    CompressionType.GZIP: _gzip_decompress,
    CompressionType.SNAPPY: _snappy_decompress,
    CompressionType.LZ4: _lz4_decompress,
    CompressionType.ZSTD: _zstd_decompress,
}


def _codec(compression: int) -> CompressionType:
    try:
        return CompressionType(compression)
    except ValueError:
        raise UnsupportedCompressionTypeError(
            f"unknown compression type id {compression} (Kafka knows 0=none, 1=gzip, 2=snappy, 3=lz4, 4=zstd)"
        ) from None


def compress(compression: CompressionType | int, data: bytes) -> bytes:
    """Compress ``data`` framed as Kafka's producer frames ``compression``."""
    return _COMPRESSORS[_codec(compression)](bytes(data))


def decompress(compression: CompressionType | int, data: bytes) -> bytes:
    """Undo :func:`compress` (and accept what Kafka and other clients write); CorruptRecordError if invalid."""
    codec = _codec(compression)
    try:
        return _DECOMPRESSORS[codec](bytes(data))
    except (CorruptRecordError, UnsupportedCompressionTypeError):
        raise
    except Exception as exc:  # zlib.error, cramjam.DecompressionError, ...
        raise CorruptRecordError(f"cannot decompress {codec.codec_name} data: {exc}") from exc
