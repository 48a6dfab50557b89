"""Three nodes on loopback — Apache Kafka first (proving the scenario), then kafkalab — with real clients.

Node 1 is a combined broker + controller (the only controller voter); nodes 2 and 3 are broker-only
and reach the controller on node 1's CONTROLLER listener (``controller.quorum.bootstrap.servers``).
Both kinds get the very same server.properties files. The scenario:

1. the three brokers register; a topic is created with replication factor 3;
2. confluent-kafka produces keyed records with ``acks=all`` (each lands where murmur2 says), and every
   replica of every partition ends up with the same bytes on disk (followers store the leader's batches);
3. the process leading a partition (a broker-only node) is killed with SIGKILL while the producer keeps
   going: leadership moves to another in-sync replica (Kafka's own kafka-topics shows it), every record
   is acknowledged, none is lost or duplicated, and a group consumer reads each partition back in order;
4. the killed node is started again on its old disk: it catches up, rejoins every ISR, and holds the
   same bytes as the leaders.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

pytest.importorskip("confluent_kafka")

import apache_kafka  # noqa: E402
from conftest import KAFKALAB, kafkalab_server_missing, random_cluster_id  # noqa: E402

from kafkalab.partitioner import partition_for_key  # noqa: E402

TOPIC = "replicated"
PARTITIONS = 3
TIMEOUT_S = 60.0
SESSION_TIMEOUT_MS = 6000  # broker.session.timeout.ms: how long the controller waits before fencing a silent broker


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = TIMEOUT_S) -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


# -- the cluster -------------------------------------------------------------------------------------
def node_properties(node_id: int, port: int, controller_port: int, log_dirs: Path) -> str:
    """The same file for Apache Kafka and kafkalab: node 1 combined, the others broker-only."""
    return apache_kafka.server_properties(log_dirs, port, controller_port, node_id, replicas=3, extra=(
        f"broker.session.timeout.ms={SESSION_TIMEOUT_MS}", "broker.heartbeat.interval.ms=1000"))


@dataclass
class Node:
    node_id: int
    port: int
    directory: Path
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / f"server-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, **apache_kafka.popen_options())

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, no goodbye to the controller."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        log = self.directory / "server.log"  # Apache Kafka's log4j2 file; kafkalab's output goes to server-<n>.log
        log = log if log.exists() else self.log_file
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        return f"--- node {self.node_id} ({log.name}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    kind: str
    nodes: dict[int, Node] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes.values() if n.process is not None and n.process.poll() is None)

    def logs(self) -> str:
        return "\n".join(node.log_tail() for node in self.nodes.values())


def format_and_command(kind: str, node_id: int, properties: Path, cluster_id: str) -> list[str]:
    """Format this node's storage (the controller --standalone) and return the command that starts it."""
    standalone = ["--standalone"] if node_id == 1 else []
    if kind == "apache-kafka":
        log4j2 = properties.parent / "log4j2.properties"
        log4j2.write_text(apache_kafka.LOG4J2_PROPERTIES.format(log_dir=properties.parent, request_level="WARN"))
        formatted = subprocess.run(apache_kafka.java_command(apache_kafka.STORAGE_TOOL, "format", "-t", cluster_id, "-c",
                                                             str(properties), *standalone), capture_output=True, text=True)
        command = apache_kafka.java_command(apache_kafka.SERVER_MAIN, str(properties), log4j2=log4j2)
    else:
        formatted = subprocess.run([*KAFKALAB, "storage", "format", "-t", cluster_id, "-c", str(properties), *standalone],
                                   capture_output=True, text=True)
        command = [*KAFKALAB, "server-start", str(properties)]
    assert formatted.returncode == 0, f"{kind}: formatting node {node_id} failed:\n{formatted.stdout}\n{formatted.stderr}"
    return command


@pytest.fixture(params=["apache-kafka", "kafkalab"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    kind = request.param
    chosen = os.environ.get("KAFKALAB_WIRE_BROKERS")
    if chosen and kind not in chosen.split(","):
        pytest.skip(f"KAFKALAB_WIRE_BROKERS={chosen}")
    if kind == "apache-kafka":
        try:
            apache_kafka.check_prerequisites()
        except apache_kafka.PrerequisiteMissing as missing:
            pytest.skip(f"Apache Kafka cannot run here: {missing}")
        apache_kafka.ensure_jars()
    elif (missing := kafkalab_server_missing()) is not None:
        pytest.skip(missing)
    cluster_id = random_cluster_id()
    controller_port = apache_kafka.free_port()
    ports = {node_id: apache_kafka.free_port() for node_id in (1, 2, 3)}
    cluster = Cluster(kind)
    for node_id, port in ports.items():
        directory = tmp_path / f"node{node_id}"
        directory.mkdir()
        properties = directory / "server.properties"
        properties.write_text(node_properties(node_id, port, controller_port, directory / "data"))
        cluster.nodes[node_id] = Node(node_id, port, directory, format_and_command(kind, node_id, properties, cluster_id))
    try:
        for node in cluster.nodes.values():
            node.start()
        for node in cluster.nodes.values():
            wait_until(lambda: apache_kafka.broker_is_ready(node.port) or (node.process and node.process.poll() is not None),
                       f"node {node.node_id} to listen")
            assert node.process is not None and node.process.poll() is None, f"node {node.node_id} exited:\n{cluster.logs()}"
        yield cluster
    finally:
        for node in reversed(cluster.nodes.values()):  # the brokers first: their controlled shutdown needs the controller
            node.stop()


# -- what the clients see ----------------------------------------------------------------------------
def admin(cluster: Cluster):  # noqa: ANN201 - confluent_kafka.admin.AdminClient
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": cluster.bootstrap})


def partitions_of(cluster: Cluster) -> dict[int, tuple[int, tuple[int, ...]]]:
    """partition → (leader, ISR), as the cluster's metadata says now."""
    metadata = admin(cluster).list_topics(TOPIC, timeout=10)
    topic = metadata.topics.get(TOPIC)
    if topic is None or topic.error is not None:
        return {}
    return {p.id: (p.leader, tuple(sorted(p.isrs))) for p in topic.partitions.values()}


def all_in_sync(cluster: Cluster) -> bool:
    try:
        state = partitions_of(cluster)
    except Exception:  # noqa: BLE001 - a node is still starting
        return False
    return len(state) == PARTITIONS and all(leader >= 1 and isr == (1, 2, 3) for leader, isr in state.values())


def segment_bytes(node: Node, partition: int) -> bytes:
    """Every record batch this replica stores for the partition, segment after segment."""
    folder = node.data / f"{TOPIC}-{partition}"
    return b"".join(path.read_bytes() for path in sorted(folder.glob("*.log")))


def replicas_identical(cluster: Cluster) -> bool:
    return all(len({segment_bytes(node, p) for node in cluster.nodes.values()}) == 1 and segment_bytes(cluster.nodes[1], p)
               for p in range(PARTITIONS))


class Producing:
    """confluent-kafka producing keyed records with acks=all (idempotent) on a thread, counting acks."""

    def __init__(self, cluster: Cluster) -> None:
        from confluent_kafka import Producer

        self.producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "enable.idempotence": True,
                                  "partitioner": "murmur2_random",  # the Java client's partitioner (librdkafka defaults to CRC32)
                                  "linger.ms": 5, "message.timeout.ms": 120000})
        self.acked: list[tuple[int, int, bytes, bytes]] = []  # (partition, offset, key, value)
        self.errors: list[str] = []

    def _delivered(self, error, message) -> None:  # noqa: ANN001 - librdkafka's callback
        if error is not None:
            self.errors.append(str(error))
        else:
            self.acked.append((message.partition(), message.offset(), message.key(), message.value()))

    def send(self, first: int, count: int, pause_s: float = 0.0) -> None:
        for i in range(first, first + count):
            self.producer.produce(TOPIC, key=f"key-{i % 37}".encode(), value=f"value-{i}".encode(), on_delivery=self._delivered)
            self.producer.poll(0)
            if pause_s:
                time.sleep(pause_s)

    def flush(self) -> None:
        remaining = self.producer.flush(90)
        assert remaining == 0, f"{remaining} record(s) never acknowledged"


def consume_all(cluster: Cluster, count: int) -> list[tuple[int, int, bytes, bytes]]:
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": f"check-{cluster.kind}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, "session.timeout.ms": 6000})
    consumer.subscribe([TOPIC])
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            records.append((message.partition(), message.offset(), message.key(), message.value()))
    finally:
        consumer.close()
    return records


# -- the scenario ------------------------------------------------------------------------------------
def test_three_brokers_replicate_fail_over_and_recover(cluster: Cluster) -> None:
    from confluent_kafka.admin import NewTopic

    try:
        wait_until(lambda: len(admin(cluster).list_topics(timeout=10).brokers) == 3, "three registered brokers")
        client = admin(cluster)  # kept: the futures need their client alive
        client.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=3)])[TOPIC].result(30)
        wait_until(lambda: all_in_sync(cluster), "every partition led, with ISR 1,2,3")

        # 2. acks=all, keyed: murmur2 places each record; every replica stores the same bytes.
        producing = Producing(cluster)
        producing.send(0, 300)
        producing.flush()
        assert not producing.errors
        for partition, _offset, key, _value in producing.acked:
            assert partition == partition_for_key(key, PARTITIONS)
        wait_until(lambda: replicas_identical(cluster), "identical replicas on the three disks")

        # 3. Kill the leader of a partition that a broker-only node leads, while the producer keeps going.
        state = partitions_of(cluster)
        victim_partition, (victim, _isr) = next((p, s) for p, s in sorted(state.items()) if s[0] != 1)
        worker = threading.Thread(target=producing.send, args=(300, 600, 0.005))
        worker.start()
        wait_until(lambda: len(producing.acked) >= 400, "acknowledgements before the kill")
        cluster.nodes[victim].kill()
        worker.join()
        producing.flush()
        assert not producing.errors, producing.errors[:5]
        moved = wait_until(lambda: (lambda s: s if s and s[victim_partition][0] not in (victim, -1) else None)(partitions_of(cluster)),
                           f"a new leader for partition {victim_partition}")
        assert all(victim not in isr for _leader, isr in moved.values())  # fenced: out of every ISR
        described = apache_kafka.kafka_topics(["--bootstrap-server", cluster.bootstrap, "--describe", "--topic", TOPIC])
        assert described.returncode == 0, described.stderr[-2000:]
        lines = [line for line in described.stdout.splitlines() if "Partition: " in line]  # Kafka's own tool agrees
        assert len(lines) == PARTITIONS and all(f"Leader: {victim}\t" not in line for line in lines), described.stdout

        acked = sorted(producing.acked)
        assert len(acked) == 900 and len({value for *_rest, value in acked}) == 900
        consumed = consume_all(cluster, 900)
        assert sorted(consumed) == acked  # nothing lost, nothing twice, at the offsets acknowledged
        for partition in range(PARTITIONS):  # and in order: per key, the values come back as produced
            values = [int(v.split(b"-")[1]) for p, _o, _k, v in consumed if p == partition]
            by_key: dict[bytes, list[int]] = {}
            for p, _o, k, v in consumed:
                if p == partition:
                    by_key.setdefault(k, []).append(int(v.split(b"-")[1]))
            assert all(seq == sorted(seq) for seq in by_key.values()), f"partition {partition} out of order: {values[:20]}"

        # 4. The killed node comes back on its old disk, catches up and rejoins every ISR.
        cluster.nodes[victim].start()
        wait_until(lambda: all_in_sync(cluster), f"node {victim} back in every ISR")
        wait_until(lambda: replicas_identical(cluster), "identical replicas after the restart")
    except BaseException:
        print(cluster.logs())
        raise
