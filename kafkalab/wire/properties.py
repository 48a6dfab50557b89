"""``server.properties``: Java properties files, and the server settings they hold.

The keys are Kafka's. Those about the process (roles, node id, listeners, directories, sockets) are
read here; every other key goes to :class:`kafkalab.config.BrokerConfig`, which knows Kafka's broker
keys, their types and defaults. A key neither knows is an error that names it (with the closest
known key) — Kafka only warns, but a learner's typo should not pass silently. Keys Kafka's sample
configs set that change nothing in kafkalab (thread counts, socket buffers) are accepted and listed
at start-up as having no effect.

Kafka: kafka.server.KafkaConfig, org.apache.kafka.common.utils.Utils.loadProps, java.util.Properties.load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kafkalab.config import BROKER_CONFIG_KEYS, BrokerConfig, ConfigError, closest_key

# Keys the server itself reads (not BrokerConfig's).
SERVER_KEYS = {
    "process.roles", "node.id", "broker.id", "listeners", "advertised.listeners", "listener.security.protocol.map",
    "controller.listener.names", "inter.broker.listener.name", "controller.quorum.voters",
    "controller.quorum.bootstrap.servers", "log.dirs", "log.dir", "metadata.log.dir", "socket.request.max.bytes",
    "broker.rack",
}
# Keys Kafka's sample server.properties sets that have no effect here (kafkalab has one thread and no
# socket tuning); accepted so that Kafka's own config files work unchanged.
NO_EFFECT_KEYS = {
    "num.network.threads", "num.io.threads", "socket.send.buffer.bytes", "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir", "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr", "transaction.state.log.min.isr", "log.flush.interval.messages",
    "log.flush.interval.ms", "num.replica.fetchers", "controller.quorum.election.timeout.ms",
    "controller.quorum.fetch.timeout.ms", "delete.topic.enable",
}


def load_properties(path: str | Path) -> dict[str, str]:
    """Read a Java properties file: ``key=value`` or ``key: value``, ``#``/``!`` comments, ``\\`` line continuations."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_properties(text)


def parse_properties(text: str) -> dict[str, str]:
    properties: dict[str, str] = {}
    lines = iter(text.splitlines())
    for raw in lines:
        line = raw.lstrip()
        if not line or line[0] in "#!":
            continue
        while line.endswith("\\") and not line.endswith("\\\\"):
            line = line[:-1] + next(lines, "").lstrip()
        separator = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if separator < 0:
            key, value = line.strip(), ""
        else:
            key, value = line[:separator].strip(), line[separator + 1:].strip()
        properties[key] = value.replace("\\\\", "\\")
    return properties


@dataclass(frozen=True)
class ListenerAddress:
    name: str
    host: str
    port: int


def parse_listeners(value: str, key: str = "listeners") -> list[ListenerAddress]:
    """``PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9093`` → listeners (an empty host means loopback here)."""
    listeners = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        if "://" not in item:
            raise ConfigError(f"{key}: {item!r} is not NAME://host:port")
        name, address = item.split("://", 1)
        host, _, port = address.rpartition(":")
        if not port.isdigit():
            raise ConfigError(f"{key}: {item!r} has no port number")
        listeners.append(ListenerAddress(name.upper(), host.strip("[]") or "127.0.0.1", int(port)))
    return listeners


@dataclass
class ServerProperties:
    """What ``kafkalab server-start`` needs from server.properties."""

    node_id: int
    process_roles: tuple[str, ...]
    listeners: list[ListenerAddress]
    advertised: list[ListenerAddress]
    controller_listener_names: tuple[str, ...]
    quorum_voters: list[tuple[int, str, int]]
    bootstrap_servers: list[tuple[str, int]]  # controller.quorum.bootstrap.servers
    log_dirs: list[Path]
    metadata_log_dir: Path
    socket_request_max_bytes: int
    rack: str | None
    broker_config: BrokerConfig
    no_effect: list[str] = field(default_factory=list)

    @property
    def client_listeners(self) -> list[ListenerAddress]:
        return [listener for listener in self.listeners if listener.name not in self.controller_listener_names]


def server_properties(properties: dict[str, str], source: str = "server.properties") -> ServerProperties:
    """Check and split the properties; raise ConfigError naming the bad key."""
    broker_values = {}
    no_effect = []
    for key, value in properties.items():
        if key in SERVER_KEYS:
            continue
        if key in NO_EFFECT_KEYS:
            no_effect.append(key)
            continue
        if key not in BROKER_CONFIG_KEYS:
            suggestion = closest_key(key, {**BROKER_CONFIG_KEYS, **{k: None for k in SERVER_KEYS}})
            raise ConfigError(f"{source}: unknown property {key!r}" + (f"; did you mean {suggestion}?" if suggestion else ""))
        broker_values[key] = value
    broker_config = BrokerConfig(broker_values)

    def required(key: str) -> str:
        if key not in properties or not properties[key].strip():
            raise ConfigError(f"{source}: {key} is required")
        return properties[key].strip()

    roles = tuple(role.strip() for role in properties.get("process.roles", "broker,controller").split(",") if role.strip())
    for role in roles:
        if role not in ("broker", "controller"):
            raise ConfigError(f"{source}: process.roles={properties['process.roles']!r}: roles are broker and controller")
    node_id_text = properties.get("node.id", properties.get("broker.id"))
    if node_id_text is None or not node_id_text.strip().lstrip("-").isdigit():
        raise ConfigError(f"{source}: node.id must be set to a number (got {node_id_text!r})")
    listeners = parse_listeners(required("listeners"))
    controller_names = tuple(n.strip().upper() for n in properties.get("controller.listener.names", "CONTROLLER").split(",") if n.strip())
    if "advertised.listeners" in properties:
        advertised = parse_listeners(properties["advertised.listeners"], "advertised.listeners")
    else:
        advertised = [listener for listener in listeners if listener.name not in controller_names]
    if "broker" in roles and not [a for a in advertised if a.name not in controller_names]:
        raise ConfigError(f"{source}: listeners has no listener for clients (only {', '.join(controller_names)})")
    voters = []
    for item in filter(None, (v.strip() for v in properties.get("controller.quorum.voters", "").split(","))):
        try:
            voter_id, address = item.split("@", 1)
            host, port = address.rsplit(":", 1)
            voters.append((int(voter_id), host, int(port)))
        except ValueError:
            raise ConfigError(f"{source}: controller.quorum.voters: {item!r} is not id@host:port") from None
    bootstrap = []
    for item in filter(None, (v.strip() for v in properties.get("controller.quorum.bootstrap.servers", "").split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{source}: controller.quorum.bootstrap.servers: {item!r} is not host:port")
        bootstrap.append((host, int(port)))
    log_dirs_text = properties.get("log.dirs", properties.get("log.dir", "/tmp/kraft-combined-logs"))
    log_dirs = [Path(d.strip()) for d in log_dirs_text.split(",") if d.strip()]
    metadata_dir = Path(properties["metadata.log.dir"]) if properties.get("metadata.log.dir") else log_dirs[0]
    try:
        max_bytes = int(properties.get("socket.request.max.bytes", "104857600"))
    except ValueError:
        raise ConfigError(f"{source}: socket.request.max.bytes must be a number of bytes") from None
    return ServerProperties(int(node_id_text), roles, listeners, advertised, controller_names, voters, bootstrap, log_dirs, metadata_dir,
                            max_bytes, properties.get("broker.rack") or None, broker_config, sorted(no_effect))
