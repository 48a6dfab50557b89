"""Apache Kafka 4.x on loopback: the reference peer that kafkalab's wire tests compare against.

The jars come from Maven Central through tools/kafka-reference/pom.xml (the Kafka version is set
there, once) and are cached outside the repository, in ~/.cache/kafkalab/apache-kafka-<version>/:

    libs/                       every runtime jar: broker, tools, Java client, log4j2
    build/kafka-reference-1.0.jar   the Java client battery (JavaClientBattery.java)

A node is started as Kafka's scripts start it, with `java -cp 'libs/*' <main class>`:

    kafka-storage.sh random-uuid          kafka.tools.StorageTool random-uuid
    kafka-storage.sh format -t ID -c P --standalone
                                          kafka.tools.StorageTool format -t ID -c P --standalone
    kafka-server-start.sh P               kafka.Kafka P
    kafka-topics.sh ...                   org.apache.kafka.tools.TopicCommand ...

KRaft combined mode (process.roles=broker,controller), one node, the PLAINTEXT listener on the
port asked for and the CONTROLLER listener on another free loopback port. Only java (17+) and mvn
are needed; the first run downloads about 55 MB of jars.

Kafka: bin/kafka-storage.sh, bin/kafka-server-start.sh, config/server.properties (4.x quickstart).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAVEN_PROJECT = ROOT / "tools" / "kafka-reference"
POM = MAVEN_PROJECT / "pom.xml"
BATTERY_SOURCE = MAVEN_PROJECT / "src" / "main" / "java" / "kafkalab" / "reference" / "JavaClientBattery.java"
BATTERY_MAIN_CLASS = "kafkalab.reference.JavaClientBattery"

STORAGE_TOOL = "kafka.tools.StorageTool"
SERVER_MAIN = "kafka.Kafka"
TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"

HEAP = "-Xmx512m"
START_TIMEOUT_S = 60.0

# Kafka's own log4j2.yaml sends the server log to files; here one file, INFO, and the request log
# (every request's header: API key, version, client id) in another when asked for.
LOG4J2_PROPERTIES = """\
status = warn
appender.server.type = File
appender.server.name = SERVER
appender.server.fileName = {log_dir}/server.log
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.requests.type = File
appender.requests.name = REQUESTS
appender.requests.fileName = {log_dir}/kafka-request.log
appender.requests.layout.type = PatternLayout
appender.requests.layout.pattern = [%d] %m%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.requests.name = kafka.request.logger
logger.requests.level = {request_level}
logger.requests.additivity = false
logger.requests.appenderRef.requests.ref = REQUESTS
"""

# For the command-line tools and the Java client: warnings only, on stderr.
LOG4J2_TOOLS_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
"""


class PrerequisiteMissing(Exception):
    """java 17+ or mvn is not installed: the tests that need Apache Kafka skip with this message."""


# -- the jars ----------------------------------------------------------------------------------------
def kafka_version() -> str:
    """The Kafka version pinned in tools/kafka-reference/pom.xml (<kafka.version>)."""
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    assert found, f"{POM} has no <kafka.version> property"
    return found.group(1).strip()


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kafkalab" / f"apache-kafka-{kafka_version()}"


def java_major_version() -> int | None:
    """The major version of the `java` on PATH (17 for 17.0.15), or None without one."""
    java = shutil.which("java")
    if java is None:
        return None
    shown = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def check_prerequisites() -> None:
    """Raise PrerequisiteMissing unless java 17+ and mvn are installed."""
    major = java_major_version()
    if major is None:
        raise PrerequisiteMissing("no `java` on PATH: Apache Kafka 4.x needs Java 17 or newer")
    if major < 17:
        raise PrerequisiteMissing(f"`java` is Java {major}: Apache Kafka 4.x brokers need Java 17 or newer")
    if shutil.which("mvn") is None:
        raise PrerequisiteMissing("no `mvn` on PATH: the Apache Kafka jars are fetched from Maven Central with Maven")


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _maven(args: list[str], what: str) -> None:
    done = subprocess.run(["mvn", "-q", "-B", *args], cwd=MAVEN_PROJECT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mvn could not {what} (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


def ensure_jars() -> Path:
    """Download Kafka's runtime jars once (Maven Central → the cache) and return the libs folder."""
    check_prerequisites()
    libs = cache_dir() / "libs"
    stamp = cache_dir() / "libs.complete"
    wanted = _fingerprint(POM)
    if libs.is_dir() and stamp.exists() and stamp.read_text() == wanted:
        return libs
    cache_dir().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=cache_dir()))
    _maven(["dependency:copy-dependencies", f"-DoutputDirectory={staging}", "-DincludeScope=runtime"],
           f"download Apache Kafka {kafka_version()}'s jars")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)  # whole or not at all: an interrupted download leaves no half folder
    stamp.write_text(wanted)
    return libs


def ensure_battery_jar() -> Path:
    """Build the Java client battery (mvn package) once per change of its source; return its jar."""
    ensure_jars()
    build = cache_dir() / "build"
    jar = build / "kafka-reference-1.0.jar"
    stamp = cache_dir() / "build.complete"
    wanted = _fingerprint(POM, BATTERY_SOURCE)
    if jar.exists() and stamp.exists() and stamp.read_text() == wanted:
        return jar
    _maven(["package", f"-Dkafkalab.build.dir={build}"], "build JavaClientBattery")
    assert jar.exists(), f"mvn package did not make {jar}"
    stamp.write_text(wanted)
    return jar


def _tools_log4j(libs: Path) -> Path:
    config = libs.parent / "log4j2-tools.properties"
    if not config.exists() or config.read_text() != LOG4J2_TOOLS_PROPERTIES:
        config.write_text(LOG4J2_TOOLS_PROPERTIES)
    return config


def java_command(main_class: str, *args: str, classpath: list[Path] | None = None, log4j2: Path | None = None) -> list[str]:
    """`java -cp 'libs/*' main_class args` with a small heap, as Kafka's kafka-run-class.sh runs it."""
    libs = ensure_jars()
    entries = [str(libs / "*"), *(str(path) for path in classpath or [])]
    return ["java", HEAP, f"-Dlog4j2.configurationFile={log4j2 or _tools_log4j(libs)}",
            "-cp", os.pathsep.join(entries), main_class, *args]


def kafka_topics(args: list[str], timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run Kafka's own kafka-topics tool (TopicCommand), e.g. kafka_topics(["--bootstrap-server", b, "--list"])."""
    return subprocess.run(java_command(TOPIC_COMMAND, *args), capture_output=True, text=True, timeout=timeout_s)


def run_java_battery(bootstrap: str, prefix: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run JavaClientBattery against a broker: KafkaProducer, KafkaConsumer and Admin from kafka-clients."""
    jar = ensure_battery_jar()
    command = java_command(BATTERY_MAIN_CLASS, bootstrap, prefix, classpath=[jar])
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)


# -- a node ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_properties(log_dirs: Path, port: int, controller_port: int, node_id: int = 1, replicas: int = 1,
                      extra: tuple[str, ...] = ()) -> str:
    """Kafka 4.x's KRaft server.properties on loopback: node 1 combined (broker and the only controller,
    a dynamic quorum: format it --standalone), other nodes broker-only, finding the controller at
    controller_port. ``replicas``: the internal topics' replication factor (the cluster's size)."""
    combined = node_id == 1
    listeners = f"PLAINTEXT://127.0.0.1:{port}" + (f",CONTROLLER://127.0.0.1:{controller_port}" if combined else "")
    return "\n".join([
        f"process.roles={'broker,controller' if combined else 'broker'}",
        f"node.id={node_id}",
        f"listeners={listeners}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}",
        f"log.dirs={log_dirs}",
        "num.partitions=1",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min(replicas, 2)}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min(replicas, 2)}",
        "group.initial.rebalance.delay.ms=0",
        *extra,
        "",
    ])


@dataclass
class ApacheKafka:
    """A running Apache Kafka node: its client address, its files and its process."""

    bootstrap: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]
    cluster_id: str
    started_in_s: float
    log_file: Path = field(init=False)
    request_log_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_file = self.directory / "server.log"
        self.request_log_file = self.directory / "kafka-request.log"

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no server.log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (Kafka's controlled shutdown), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def random_uuid() -> str:
    """kafka-storage.sh random-uuid: a new cluster id."""
    done = subprocess.run(java_command(STORAGE_TOOL, "random-uuid"), capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def format_storage(properties: Path, cluster_id: str) -> None:
    """kafka-storage.sh format -t ID -c server.properties --standalone (this node is the only voter)."""
    done = subprocess.run(java_command(STORAGE_TOOL, "format", "-t", cluster_id, "-c", str(properties), "--standalone"),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"kafka-storage format failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def start_apache_kafka(tmp_dir: Path, port: int, log_requests: bool = False) -> ApacheKafka:
    """Format storage in tmp_dir and start Kafka listening on 127.0.0.1:port; return once it answers."""
    directory = Path(tmp_dir)
    directory.mkdir(parents=True, exist_ok=True)
    controller_port = free_port()
    while controller_port == port:
        controller_port = free_port()
    properties = directory / "server.properties"
    properties.write_text(server_properties(directory / "data", port, controller_port))
    log4j2 = directory / "log4j2.properties"
    log4j2.write_text(LOG4J2_PROPERTIES.format(log_dir=directory, request_level="DEBUG" if log_requests else "WARN"))

    cluster_id = random_uuid()
    format_storage(properties, cluster_id)
    started = time.monotonic()
    console = open(directory / "console.log", "wb")
    process = subprocess.Popen(java_command(SERVER_MAIN, str(properties), log4j2=log4j2),
                               stdout=console, stderr=subprocess.STDOUT, **popen_options())
    console.close()  # the child keeps its own descriptor
    node = ApacheKafka(f"127.0.0.1:{port}", port, directory, process, cluster_id, 0.0)
    try:
        wait_until_serving(node, START_TIMEOUT_S)
    except BaseException:
        node.stop()
        raise
    node.started_in_s = time.monotonic() - started
    return node


def die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL it if the test run dies, so no broker outlives pytest."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def popen_options() -> dict[str, object]:
    return {"preexec_fn": die_with_parent} if sys.platform.startswith("linux") else {}


# -- is it up? ---------------------------------------------------------------------------------------
def _request(sock: socket.socket, api_key: int, api_version: int, correlation_id: int, body: bytes) -> bytes:
    """Send one request with a v1 header (no tagged fields) and return the response body."""
    client_id = b"kafkalab-probe"
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(client_id)) + client_id
    sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    size = struct.unpack(">i", _read_exactly(sock, 4))[0]
    response = _read_exactly(sock, size)
    assert struct.unpack(">i", response[:4])[0] == correlation_id, "response to another request"
    return response[4:]


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data


def broker_is_ready(port: int) -> bool:
    """ApiVersions v0 answers without error and Metadata v1 lists one broker: clients can work."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            api_versions = _request(sock, 18, 0, 1, b"")
            if struct.unpack(">h", api_versions[:2])[0] != 0:
                return False
            metadata = _request(sock, 3, 1, 2, struct.pack(">i", 0))  # topics: [] (none)
            return struct.unpack(">i", metadata[:4])[0] >= 1  # the brokers array
    except (OSError, ConnectionError, struct.error, AssertionError):
        return False


def wait_until_serving(node: ApacheKafka, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"Apache Kafka exited with code {node.process.returncode} before serving:\n{node.log_tail()}")
        if broker_is_ready(node.port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"Apache Kafka did not answer on {node.bootstrap} within {timeout_s} s:\n{node.log_tail()}")


# -- what the clients sent ---------------------------------------------------------------------------
def api_versions_used(request_log: Path) -> dict[str, dict[str, set[int]]]:
    """From a request log (start_apache_kafka(..., log_requests=True)): client → API name → versions sent.

    A client is named by what it reports in ApiVersions v3+ (softwareName softwareVersion, e.g.
    "librdkafka 2.0.2") and its client id; clients that send ApiVersions v0 (aiokafka) show as
    "unknown unknown". Kafka: kafka.network.RequestChannel's "Completed request" lines.
    """
    used: dict[str, dict[str, set[int]]] = {}
    for line in Path(request_log).read_text(errors="replace").splitlines():
        start = line.find("{")
        if "Completed request:" not in line or start < 0:
            continue
        entry = json.loads(line[start:])
        header = entry["requestHeader"]
        software = entry.get("clientInformation", {})
        client = f"{software.get('softwareName')} {software.get('softwareVersion')} [{header.get('clientId')}]"
        used.setdefault(client, {}).setdefault(header["requestApiKeyName"], set()).add(header["requestApiVersion"])
    return used
