"""`kafkalab server-start` and `kafkalab storage` refuse bad input with a message that names it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("kio")


def kafkalab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kafkalab", *args], capture_output=True, text=True, timeout=60)


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "server.properties"
    config.write_text(f"process.roles=broker,controller\nnode.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\n"
                      f"log.dirs={tmp_path / 'logs'}\n{extra}")
    return config


def test_a_missing_config_file(tmp_path):
    result = kafkalab("server-start", str(tmp_path / "nope.properties"))
    assert result.returncode == 1
    assert "nope.properties: no such file" in result.stderr


def test_a_misspelled_key(tmp_path):
    result = kafkalab("server-start", str(write_config(tmp_path, "num.partition=3\n")))
    assert result.returncode == 1
    assert "unknown property 'num.partition'; did you mean num.partitions?" in result.stderr


def test_other_voters_are_refused_with_the_reason(tmp_path):
    result = kafkalab("server-start", str(write_config(tmp_path, "controller.quorum.voters=1@localhost:9093,2@localhost:9094\n")))
    assert result.returncode == 1
    assert "single voter" in result.stderr and "2@localhost:9094" in result.stderr


def test_a_controller_only_node_is_refused_with_the_reason(tmp_path):
    config = tmp_path / "controller.properties"
    config.write_text(f"process.roles=controller\nnode.id=1\nlisteners=CONTROLLER://127.0.0.1:0\nlog.dirs={tmp_path}\n")
    result = kafkalab("server-start", str(config))
    assert result.returncode == 1
    assert "process.roles=controller" in result.stderr and "process.roles=broker,controller" in result.stderr


def test_a_broker_only_node_needs_to_know_where_the_controller_is(tmp_path):
    config = tmp_path / "broker.properties"
    config.write_text(f"process.roles=broker\nnode.id=2\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs={tmp_path}\n")
    result = kafkalab("server-start", str(config))
    assert result.returncode == 1
    assert "controller.quorum.bootstrap.servers" in result.stderr


def test_a_malformed_bootstrap_server_is_named(tmp_path):
    config = tmp_path / "broker.properties"
    config.write_text(f"process.roles=broker\nnode.id=2\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs={tmp_path}\n"
                      "controller.quorum.bootstrap.servers=localhost\n")
    result = kafkalab("server-start", str(config))
    assert result.returncode == 1
    assert "controller.quorum.bootstrap.servers: 'localhost' is not host:port" in result.stderr


def test_an_unformatted_log_dir_says_how_to_format_it(tmp_path):
    result = kafkalab("server-start", str(write_config(tmp_path)))
    assert result.returncode == 1
    assert "kafkalab storage format" in result.stderr


def test_override_needs_key_equals_value(tmp_path):
    result = kafkalab("server-start", str(write_config(tmp_path)), "--override", "num.partitions")
    assert result.returncode == 1
    assert "--override 'num.partitions': expected KEY=VALUE" in result.stderr


@pytest.mark.parametrize("roles, quorum, flags, refusal", [
    ("broker,controller", "controller.quorum.bootstrap.servers=127.0.0.1:9093", [],
     "you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers"),
    ("broker,controller", "controller.quorum.voters=1@127.0.0.1:9093", ["--standalone"],
     "You cannot specify controller.quorum.voters and format the node with --initial-controllers or --standalone"),
    ("broker", "controller.quorum.bootstrap.servers=127.0.0.1:9093", ["--standalone"], "You can only use --standalone on a controller."),
    ("broker,controller", "controller.quorum.bootstrap.servers=127.0.0.1:9093", ["--standalone"], None),
    ("broker,controller", "controller.quorum.voters=1@127.0.0.1:9093", [], None),
    ("broker", "controller.quorum.bootstrap.servers=127.0.0.1:9093", [], None),
])
def test_format_asks_for_the_quorum_flags_kafka_asks_for(tmp_path, roles, quorum, flags, refusal):
    """Kafka 4.3.1's StorageTool gives exactly these answers for these configs (checked against its jars)."""
    listeners = "PLAINTEXT://127.0.0.1:9092" + (",CONTROLLER://127.0.0.1:9093" if "controller" in roles else "")
    config = tmp_path / "server.properties"
    config.write_text(f"process.roles={roles}\nnode.id=1\nlisteners={listeners}\ncontroller.listener.names=CONTROLLER\n"
                      f"{quorum}\nlog.dirs={tmp_path / 'logs'}\n")
    result = kafkalab("storage", "format", "-t", "MkU3OEVBNTcwNTJENDM2Qk", "-c", str(config), *flags)
    if refusal is None:
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "logs" / "meta.properties").exists()
    else:
        assert result.returncode == 1 and refusal in result.stderr
        assert not (tmp_path / "logs" / "meta.properties").exists()
