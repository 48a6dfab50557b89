"""Starting and stopping a kafkalab server process (what ``kafkalab server-start`` runs).

    properties → ServerProperties (errors name the key) → storage checked and opened (recovery)
    → ServerNode (replays __cluster_metadata) → KafkaServer on the client listeners → serve
    SIGTERM / Ctrl-C → stop accepting → flush and checkpoint every log → clean-shutdown marker

Kafka: kafka.Kafka.main, KafkaRaftServer.startup/shutdown, LogManager.startup/shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.errors import ConfigError

LOG = logging.getLogger("kafkalab.server")


class ServerStartError(Exception):
    """The server cannot start: the message says what to fix."""


def read_server_properties(config_path: str | Path, overrides: list[str] = ()):  # type: ignore[assignment]
    from kafkalab.wire.properties import load_properties, server_properties

    path = Path(config_path)
    if not path.is_file():
        raise ServerStartError(f"{path}: no such file (give the path to a server.properties; samples are in config/)")
    properties = load_properties(path)
    for item in overrides:
        if "=" not in item:
            raise ServerStartError(f"--override {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        properties[key.strip()] = value.strip()
    try:
        return server_properties(properties, str(path))
    except ConfigError as bad:
        raise ServerStartError(str(bad)) from None


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="[%(asctime)s] %(levelname)s %(message)s (%(name)s)")


def run_server(config_path: str | Path, overrides: list[str] = ()) -> int:  # type: ignore[assignment]
    configure_logging()
    props = read_server_properties(config_path, overrides)
    return asyncio.run(_serve(props))


@dataclass
class RunningNode:
    """A started node: its storage, its sans-IO node and its TCP server."""

    storage: Any
    node: Any
    server: Any

    async def shutdown(self) -> None:
        await self.server.stop()
        self.storage.close(self.node)


def _controller_of(props) -> tuple[tuple[str, int] | None, int]:  # noqa: ANN001 - ServerProperties
    """Where this node's broker reaches the controller, and the controller's id (-1: not known).

    kafkalab's controller quorum has one voter: a combined node (``process.roles=broker,controller``).
    Other nodes are brokers (``process.roles=broker``) that find it through ``controller.quorum.voters``
    (``id@host:port``) or ``controller.quorum.bootstrap.servers`` (``host:port``, KIP-853)."""
    voters = props.quorum_voters
    if len(voters) > 1:
        raise ServerStartError(
            f"controller.quorum.voters names {len(voters)} voters ({', '.join(f'{i}@{h}:{p}' for i, h, p in voters)}); "
            "kafkalab's controller quorum over the wire has a single voter. List one (the combined node), or use "
            "controller.quorum.bootstrap.servers; the Raft quorum itself is chapter 07's simulator")
    if "controller" in props.process_roles:
        if "broker" not in props.process_roles:
            raise ServerStartError("process.roles=controller: kafkalab's controller runs in a combined node; use "
                                   "process.roles=broker,controller for it and process.roles=broker for the other nodes")
        if voters and voters[0][0] != props.node_id:
            raise ServerStartError(f"controller.quorum.voters names node {voters[0][0]}, but this controller is node.id={props.node_id}")
        own = [listener for listener in props.listeners if listener.name in props.controller_listener_names]
        return ((own[0].host, own[0].port), props.node_id) if own else (None, props.node_id)
    if voters:
        voter_id, host, port = voters[0]
        if voter_id == props.node_id:
            raise ServerStartError(f"controller.quorum.voters names this node ({voter_id}), but process.roles=broker: "
                                   "a voter must have the controller role")
        return (host, port), voter_id
    if props.bootstrap_servers:
        return props.bootstrap_servers[0], -1
    raise ServerStartError("process.roles=broker: set controller.quorum.bootstrap.servers (or controller.quorum.voters) "
                           "to the controller's CONTROLLER listener, host:port")


async def start_node(props) -> RunningNode:  # noqa: ANN001 - ServerProperties
    """Open storage (recovering it), replay metadata, listen. Raises ServerStartError with what to fix."""
    from kafkalab.wire.metadata_log import MetadataLogStore
    from kafkalab.wire.node import Endpoint, ServerNode, ServerSettings
    from kafkalab.wire.node_storage import StorageError, open_node_storage
    from kafkalab.wire.peers import PeerLinks
    from kafkalab.wire.server import KafkaServer, wall_clock_ms

    controller_address, controller_id = _controller_of(props)
    try:
        storage = open_node_storage(props.log_dirs, props.metadata_log_dir, props.node_id, props.broker_config, wall_clock_ms())
    except StorageError as refused:
        raise ServerStartError(str(refused)) from None
    for line in storage.recovery_report():
        LOG.info(line)
    if props.no_effect:
        LOG.info("accepted with no effect in kafkalab: %s", ", ".join(props.no_effect))
    listeners = list(props.client_listeners)
    if "controller" in props.process_roles:  # the controller listener: where broker-only nodes reach this controller
        listeners += [listener for listener in props.listeners if listener.name in props.controller_listener_names]
    addresses = [(listener.host, listener.port) for listener in listeners]
    advertised = [a for a in props.advertised if a.name not in props.controller_listener_names]
    settings = ServerSettings(props.node_id, storage.cluster_id, props.broker_config, (), props.rack,
                              props.socket_request_max_bytes, props.process_roles, controller_id,
                              props.controller_listener_names)
    server = KafkaServer(None, addresses, props.socket_request_max_bytes, listener_names=[listener.name for listener in listeners])
    try:
        await server.bind()
    except OSError as busy:
        storage.close(None)
        raise ServerStartError(f"cannot listen on {', '.join(f'{h}:{p}' for h, p in addresses)}: {busy.strerror}") from None
    # An advertised port 0 (listen on any free port) becomes the port actually bound.
    bound_ports = {listener.name: port for listener, (_host, port) in zip(listeners, server.bound)}
    settings.advertised = tuple(Endpoint(a.name, a.host, a.port or bound_ports.get(a.name, 0)) for a in advertised)
    if controller_address is not None and controller_address[1] == 0:  # a combined node on a free port
        controller_address = (controller_address[0], next(port for name, port in bound_ports.items()
                                                           if name in props.controller_listener_names))
    node = ServerNode(settings, storage.log_factory, MetadataLogStore(storage.metadata_log(), wall_clock_ms), wall_clock_ms(),
                      log=lambda line: LOG.info(line))
    server.node = node
    server.peers = PeerLinks(node, controller_address, wall_clock_ms, server.after_peer_answer)
    server.start_timer()
    server.peers.dispatch()  # a broker-only node registers and starts reading the metadata log now
    role = "combined broker and controller" if "controller" in props.process_roles else \
        f"broker (controller at {controller_address[0]}:{controller_address[1]})" if controller_address else "broker"
    LOG.info("[KafkaRaftServer nodeId=%d] Kafka Server started (kafkalab %s; cluster id %s; listening on %s; log dirs %s)",
             props.node_id, role, storage.cluster_id,
             ", ".join(f"{name}://{h}:{p}" for name, (h, p) in zip(server.listener_names, server.bound)),
             ", ".join(str(d) for d in props.log_dirs))
    return RunningNode(storage, node, server)


async def _serve(props) -> int:  # noqa: ANN001 - ServerProperties
    running = await start_node(props)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    LOG.info("[KafkaRaftServer nodeId=%d] shutting down", props.node_id)
    await running.shutdown()
    LOG.info("[KafkaRaftServer nodeId=%d] shut down completed", props.node_id)
    return 0
