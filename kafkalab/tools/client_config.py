"""Client settings for the client-side tools: Java property names in, kafka-python settings out.

Kafka's scripts take client settings three ways, and so do these tools::

    --command-config admin.properties        (kafka-topics, kafka-consumer-groups: a properties file)
    --producer.config / --consumer.config F  (the console clients: a properties file)
    --producer-property k=v / --consumer-property k=v   (one setting at a time; wins over the file)

The names are the Java client's (``request.timeout.ms``, ``enable.auto.commit``). kafka-python, the
client library under these tools, spells the same setting with underscores (``request_timeout_ms``),
so a name maps to a keyword argument by swapping dots for underscores, and its value is converted to
the type of kafka-python's default. A name kafka-python does not know is an error that names it
(with the closest known name): Kafka only logs "The configuration 'x' was supplied but isn't a known
config", but a typo in a course should not pass silently.

Before a client is built, :func:`check_bootstrap` opens a TCP connection to each bootstrap address,
so that a broker that is not there is reported with its address. The wait is 10 s, the Java
client's ``socket.connection.setup.timeout.ms``; that property (in a file or a ``--*-property``) sets it.

Kafka: org.apache.kafka.clients.CommonClientConfigs, AdminClientConfig, ProducerConfig,
ConsumerConfig; org.apache.kafka.common.utils.Utils.loadProps; bootstrap.servers.
"""

from __future__ import annotations

import difflib
import math
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

# How long the tools wait for a broker to answer at a bootstrap address (Kafka's tools wait up to
# default.api.timeout.ms, 60 s; a learner with a typo in the port should not wait that long).
BOOTSTRAP_TIMEOUT_MS = 10_000

# The Java client's connection set-up timeout (default 10 s); here it bounds the bootstrap wait.
SETUP_TIMEOUT = "socket.connection.setup.timeout.ms"

# Java settings that make no sense for these tools: they always send and receive raw bytes.
REFUSED_NAMES = {
    "key.serializer": "the console producer sends the bytes of each line; it has no serializers",
    "value.serializer": "the console producer sends the bytes of each line; it has no serializers",
    "key.deserializer": "the console consumer prints raw bytes; it has no deserializers",
    "value.deserializer": "the console consumer prints raw bytes; it has no deserializers",
}


class ToolError(Exception):
    """A problem the user can fix (a bad flag, property or address); the tool prints it and exits non-zero."""


class UsageError(ToolError):
    """A bad or missing flag or property: exit code 2, like argparse's own usage errors."""


def load_properties_file(path: str, flag: str) -> dict[str, str]:
    """Read a Java properties file given with ``flag`` (e.g. ``--command-config``)."""
    from kafkalab.wire.properties import load_properties

    if not Path(path).is_file():
        raise UsageError(f"{flag} {path}: no such file")
    return load_properties(path)


def parse_key_values(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; a pair without ``=`` is an error naming ``flag``."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"{flag} {pair!r}: expected key=value")
        values[key.strip()] = value.strip()
    return values


def client_settings(properties: dict[str, str], defaults: dict[str, Any], role: str, source: str) -> dict[str, Any]:
    """Java client properties → kafka-python keyword arguments, each checked against ``defaults``.

    ``role`` ("admin", "producer", "consumer") and ``source`` (the flag or file the names came from)
    only make the error messages precise.
    """
    settings: dict[str, Any] = {}
    for name, text in properties.items():
        if name in REFUSED_NAMES:
            raise UsageError(f"{source}: {name} is not supported: {REFUSED_NAMES[name]}")
        keyword = name.replace(".", "_")
        if keyword not in defaults:
            known = sorted(key.replace("_", ".") for key in defaults)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(f"{source}: unknown {role} property {name!r}{hint}")
        settings[keyword] = _convert(name, text, defaults[keyword], source)
    return settings


def _convert(name: str, text: str, default: Any, source: str) -> Any:
    """Convert a property's text to the type of kafka-python's default for it."""
    if name == "acks":  # Java: all, -1, 0, 1; kafka-python: 'all', -1, 0, 1
        if text == "all":
            return "all"
        if text in ("-1", "0", "1"):
            return int(text)
        raise UsageError(f"{source}: acks={text!r}: expected all, -1, 0 or 1")
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise UsageError(f"{source}: {name}={text!r}: expected true or false")
        return text.lower() == "true"
    if isinstance(default, int) or (isinstance(default, float) and math.isinf(default)):
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{source}: {name}={text!r}: expected a whole number") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"{source}: {name}={text!r}: expected a number") from None
    if default is None and text.lstrip("-").isdigit():
        return int(text)
    return text


def bootstrap_addresses(bootstrap_servers: str, flag: str = "--bootstrap-server") -> list[tuple[str, int]]:
    """``"a:9092,b:9093"`` → ``[("a", 9092), ("b", 9093)]``; a malformed address is an error naming ``flag``."""
    addresses = []
    for item in filter(None, (part.strip() for part in bootstrap_servers.split(","))):
        host, colon, port = item.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise UsageError(f"{flag} {item!r}: expected host:port")
        addresses.append((host.strip("[]"), int(port)))
    if not addresses:
        raise UsageError(f"{flag}: no address given")
    return addresses


def check_bootstrap(settings: dict[str, Any]) -> None:
    """Raise ToolError unless some bootstrap address accepts a TCP connection within the bootstrap timeout."""
    addresses = bootstrap_addresses(",".join(settings["bootstrap_servers"]))
    timeout_ms = settings.get("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_ms / 1000
    reasons: dict[str, str] = {}
    while True:
        for host, port in addresses:
            try:
                with socket.create_connection((host, port), timeout=max(0.1, min(2.0, deadline - time.monotonic()))):
                    return
            except OSError as refused:
                reasons[f"{host}:{port}"] = refused.strerror or type(refused).__name__
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    tried = "; ".join(f"{address} ({reason})" for address, reason in reasons.items())
    raise ToolError(f"no broker answered at {tried} within {timeout_ms / 1000:g} s")


def build_settings(
    bootstrap_server: str | None,
    defaults: dict[str, Any],
    role: str,
    config_file: tuple[str, str] | None = None,
    properties: tuple[str, list[str] | None] | None = None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments for a kafka-python client: file settings, then flag settings, then --bootstrap-server.

    ``config_file`` is ``(flag, path)``; ``properties`` is ``(flag, ["k=v", ...])``.
    """
    settings: dict[str, Any] = {"bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS}
    if client_id:
        settings["client_id"] = client_id
    sources: list[tuple[dict[str, str], str]] = []
    if config_file and config_file[1]:
        flag, path = config_file
        sources.append((load_properties_file(path, flag), f"{flag} {path}"))
    if properties:
        flag, pairs = properties
        sources.append((parse_key_values(pairs, flag), flag))
    for values, source in sources:
        if SETUP_TIMEOUT in values:  # the Java name for how long to wait for a connection: the bootstrap wait here
            settings["bootstrap_timeout_ms"] = _convert(SETUP_TIMEOUT, values.pop(SETUP_TIMEOUT), 0, source)
        settings.update(client_settings(values, defaults, role, source))
    if bootstrap_server:
        settings["bootstrap_servers"] = bootstrap_server
    if not settings.get("bootstrap_servers"):
        raise UsageError("--bootstrap-server is required (or bootstrap.servers in the config file)")
    bootstrap = settings["bootstrap_servers"]
    bootstrap_addresses(bootstrap)  # checks each is host:port
    settings["bootstrap_servers"] = [part.strip() for part in bootstrap.split(",") if part.strip()]
    return settings


def run_tool(prog: str, command: Callable[[], int]) -> int:
    """Run a tool's body; print a ToolError or a client error as ``prog: message`` and return the exit code.

    Usage errors exit 2 (as argparse's do), everything else that goes wrong exits 1.
    """
    from kafka import errors as kafka_errors

    try:
        return command()
    except UsageError as wrong:
        print(f"{prog}: {wrong}", file=sys.stderr)
        return 2
    except ToolError as failed:
        print(f"{prog}: {failed}", file=sys.stderr)
        return 1
    except kafka_errors.KafkaTimeoutError as slow:
        if "bootstrap" in str(slow):  # the port accepts TCP but nothing answers ApiVersions/Metadata
            print(f"{prog}: no broker answered: {slow} "
                  f"(the address accepts connections; is it a Kafka listener?)", file=sys.stderr)
        else:
            print(f"{prog}: timed out: {slow}", file=sys.stderr)
        return 1
    except kafka_errors.KafkaError as failed:
        print(f"{prog}: {describe_error(failed)}", file=sys.stderr)
        return 1


def describe_error(error: Exception) -> str:
    """A kafka-python error as one line: the broker's own message when it sent one, else the error's name."""
    text = str(error)
    found = re.search(r"error_message=(?P<quote>['\"])(?P<message>.*?)(?P=quote)", text)
    if found and found.group("message"):
        return f"{type(error).__name__}: {found.group('message')}"
    return text if len(text) < 300 else f"{type(error).__name__}: {getattr(error, 'description', '')}".rstrip(": ")
