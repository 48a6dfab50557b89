"""Partition log throughput: append and read, in records/s and MB/s of record batch bytes (v2 sizes).

No assertions on timing; the figures come with the machine (benchmarks/machine.py).

    .venv/bin/python benchmarks/bench_log.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_header  # noqa: E402

from kafkalab.config import TopicConfig  # noqa: E402
from kafkalab.log import PartitionLog  # noqa: E402
from kafkalab.record import Record  # noqa: E402


def bench(value_size: int, batch_records: int, batches: int) -> None:
    log = PartitionLog("bench", 0, TopicConfig({"segment.bytes": 64 * 1024 * 1024}))
    records = [Record(f"key-{i}".encode(), b"x" * value_size) for i in range(batch_records)]
    start = time.perf_counter()
    for i in range(batches):
        log.append(records, now_ms=i)
    append_s = time.perf_counter() - start
    total_records = batch_records * batches
    total_mb = log.size_in_bytes / 1e6
    start = time.perf_counter()
    read = 0
    offset = 0
    while offset < log.log_end_offset:
        chunk = log.read(offset, max_records=500)
        read += len(chunk)
        offset = chunk[-1].offset + 1
    read_s = time.perf_counter() - start
    assert read == total_records
    start = time.perf_counter()
    offset = 0
    while offset < log.log_end_offset:  # as a consumer fetches: whole batches, up to 1 MiB (max.partition.fetch.bytes)
        offset = log.read(offset, max_bytes=1024 * 1024)[-1].offset + 1
    read_bytes_s = time.perf_counter() - start
    label = f"{value_size} B values, {batch_records} records/batch"
    print(f"append  {label:<32} {total_records / append_s:12,.0f} records/s {total_mb / append_s:8.1f} MB/s")
    print(f"read    {label:<32} {total_records / read_s:12,.0f} records/s {total_mb / read_s:8.1f} MB/s  (max_records=500)")
    print(f"read    {label:<32} {total_records / read_bytes_s:12,.0f} records/s {total_mb / read_bytes_s:8.1f} MB/s  (max_bytes=1 MiB)")


def main() -> None:
    print_header("partition log (in memory, pure Python)")
    bench(100, 1, 5_000)
    bench(100, 100, 200)
    bench(1024, 100, 100)
    bench(1024, 1, 20_000)


if __name__ == "__main__":
    main()
