"""The brokers the real-client battery runs against, each started once per session on loopback.

    broker["apache-kafka"]  Apache Kafka 4.x, KRaft combined mode (apache_kafka.py: jars from Maven Central)
    broker["kafkalab"]      kafkalab's server: `python -m kafkalab storage format ... --standalone`,
                            then `python -m kafkalab server-start server.properties`

Both get the same server.properties (apache_kafka.server_properties); starting each kind lives in
one function below (start_apache_kafka_broker, start_kafkalab_broker). A broker that cannot be had
here (no java or mvn, no `kafkalab server-start` yet) skips its tests and says why.

    KAFKALAB_WIRE_BROKERS=apache-kafka     run against these kinds only (comma-separated)
    KAFKALAB_WIRE_KAFKALAB=127.0.0.1:9092  use a kafkalab server already running there
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

import apache_kafka

BROKER_KINDS = ["apache-kafka", "kafkalab"]
START_TIMEOUT_S = 60.0


@dataclass
class Broker:
    """A running broker the battery talks to."""

    name: str
    bootstrap: str  # "127.0.0.1:PORT"
    directory: Path
    log_file: Path
    started_in_s: float
    stop: Callable[[], None]

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_file.exists():
            return f"(no {self.log_file.name})"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


# -- Apache Kafka ------------------------------------------------------------------------------------
def start_apache_kafka_broker(directory: Path) -> Broker:
    try:
        apache_kafka.check_prerequisites()
    except apache_kafka.PrerequisiteMissing as missing:
        pytest.skip(f"Apache Kafka cannot run here: {missing}")
    port = apache_kafka.free_port()
    node = apache_kafka.start_apache_kafka(directory, port, log_requests=True)
    return Broker("apache-kafka", node.bootstrap, directory, node.log_file, node.started_in_s, node.stop)


# -- kafkalab ----------------------------------------------------------------------------------------
KAFKALAB = [sys.executable, "-m", "kafkalab"]


def random_cluster_id() -> str:
    """What kafka-storage.sh random-uuid prints: 16 random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def kafkalab_server_missing() -> str | None:
    """Why kafkalab's server cannot be started here, or None when `kafkalab server-start` exists."""
    done = subprocess.run([*KAFKALAB, "server-start", "--help"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"`python -m kafkalab server-start --help` failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}"
    return None


def start_kafkalab_broker(directory: Path) -> Broker:
    running = os.environ.get("KAFKALAB_WIRE_KAFKALAB")
    if running:
        return Broker("kafkalab", running, directory, directory / "(started elsewhere)", 0.0, lambda: None)
    missing = kafkalab_server_missing()
    if missing:
        pytest.skip(f"kafkalab's server is not there yet: {missing}")
    port = apache_kafka.free_port()
    controller_port = apache_kafka.free_port()
    properties = directory / "server.properties"
    # The very file Apache Kafka gets: kafkalab reads Kafka's keys. Kafka 4.x formats with --standalone only
    # under controller.quorum.bootstrap.servers (it refuses controller.quorum.voters with --standalone).
    properties.write_text(apache_kafka.server_properties(directory / "data", port, controller_port))
    formatted = subprocess.run([*KAFKALAB, "storage", "format", "-t", random_cluster_id(), "-c", str(properties), "--standalone"],
                               capture_output=True, text=True)
    assert formatted.returncode == 0, f"kafkalab storage format failed:\n{formatted.stdout}\n{formatted.stderr}"

    log_file = directory / "server.log"
    started = time.monotonic()
    with open(log_file, "wb") as log:
        process = subprocess.Popen([*KAFKALAB, "server-start", str(properties)], stdout=log, stderr=subprocess.STDOUT,
                                   **apache_kafka.popen_options())

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    broker = Broker("kafkalab", f"127.0.0.1:{port}", directory, log_file, 0.0, stop)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not apache_kafka.broker_is_ready(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"kafkalab's server did not start (exit code {process.returncode}):\n{broker.log_tail()}")
        time.sleep(0.1)
    broker.started_in_s = time.monotonic() - started
    return broker


STARTERS: dict[str, Callable[[Path], Broker]] = {
    "apache-kafka": start_apache_kafka_broker,
    "kafkalab": start_kafkalab_broker,
}


@pytest.fixture(scope="session", params=BROKER_KINDS)
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One running broker of each kind for the whole session (its tests use their own topics)."""
    chosen = os.environ.get("KAFKALAB_WIRE_BROKERS")
    if chosen and request.param not in chosen.split(","):
        pytest.skip(f"KAFKALAB_WIRE_BROKERS={chosen}")
    started = STARTERS[request.param](tmp_path_factory.mktemp(request.param))
    try:
        yield started
    finally:
        started.stop()


# -- the other tools ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kcat() -> str:
    """The kcat binary (Debian's package: apt-get install kcat; python3 run.py test installs it)."""
    found = shutil.which("kcat") or shutil.which("kafkacat")
    if found is None:
        pytest.skip("kcat is not installed (apt-get install kcat)")
    return found


@pytest.fixture(scope="session")
def kafka_tools() -> None:
    """Kafka's own tools and Java client need java 17+ and mvn (jars fetched once from Maven Central)."""
    try:
        apache_kafka.check_prerequisites()
    except apache_kafka.PrerequisiteMissing as missing:
        pytest.skip(str(missing))
    apache_kafka.ensure_jars()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A failing battery test shows the end of its broker's log."""
    report = yield
    broker = getattr(item, "funcargs", {}).get("broker")
    if report.failed and isinstance(broker, Broker):
        report.sections.append((f"{broker.name} log ({broker.log_file})", broker.log_tail()))
    return report
