"""Rough throughput of the pure-Python record batch codec (not part of the test run).

    .venv/bin/python benchmarks/bench_record.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.record import CompressionType, Header, Record, RecordBatch, codec_available, decode_batch, encode_batch
from kafkalab.record.crc32c import IMPLEMENTATION, crc32c, crc32c_pure


def bench(label: str, fn, repeat: int, records_per_call: int = 0) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    seconds = (time.perf_counter() - start) / repeat
    rate = f"{records_per_call / seconds:12,.0f} records/s" if records_per_call else ""
    print(f"{label:<40} {seconds * 1e6:10.1f} µs/call {rate}")


def main() -> None:
    print_header("record batch v2 codec")
    records = [Record(f"key-{i}".encode(), b"v" * 100, (Header("h", b"x"),), timestamp=1_000 + i) for i in range(100)]
    for codec in CompressionType:
        if not codec_available(codec):
            continue
        batch = RecordBatch.of(records, compression=codec)
        data = encode_batch(batch)
        bench(f"encode 100 records, {codec.codec_name} ({len(data)} B)", lambda: encode_batch(batch), 200, 100)
        bench(f"decode 100 records, {codec.codec_name}", lambda: decode_batch(data), 200, 100)
    blob = bytes(range(256)) * 64
    bench(f"crc32c 16 KiB ({IMPLEMENTATION})", lambda: crc32c(blob), 200)
    bench("crc32c_pure 16 KiB", lambda: crc32c_pure(blob), 20)


if __name__ == "__main__":
    main()
