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


async def start_node(props) -> RunningNode:  # noqa: ANN001 - ServerProperties
    """Open storage (recovering it), replay metadata, listen. Raises ServerStartError with what to fix."""
    from kafkalab.wire.metadata_log import MetadataLogStore
    from kafkalab.wire.node import Endpoint, ServerNode, ServerSettings
    from kafkalab.wire.node_storage import StorageError, open_node_storage
    from kafkalab.wire.server import KafkaServer, wall_clock_ms

    others = [v for v in props.quorum_voters if v[0] != props.node_id]
    if others:
        raise ServerStartError(
            f"controller.quorum.voters names other voters ({', '.join(f'{i}@{h}:{p}' for i, h, p in others)}); "
            "kafkalab server-start runs a single-node KRaft quorum: list only this node (node.id="
            f"{props.node_id}), or leave controller.quorum.voters out")
    if "broker" not in props.process_roles:
        raise ServerStartError("process.roles=controller: a controller-only node needs brokers that reach it over the wire, "
                               "which kafkalab does not do yet; use process.roles=broker,controller")
    try:
        storage = open_node_storage(props.log_dirs, props.metadata_log_dir, props.node_id, props.broker_config, wall_clock_ms())
    except StorageError as refused:
        raise ServerStartError(str(refused)) from None
    for line in storage.recovery_report():
        LOG.info(line)
    if props.no_effect:
        LOG.info("accepted with no effect in kafkalab: %s", ", ".join(props.no_effect))
    addresses = [(listener.host, listener.port) for listener in props.client_listeners]
    advertised = [a for a in props.advertised if a.name not in props.controller_listener_names]
    settings = ServerSettings(props.node_id, storage.cluster_id, props.broker_config, (), props.rack,
                              props.socket_request_max_bytes, props.process_roles)
    server = KafkaServer(None, addresses, props.socket_request_max_bytes)
    try:
        await server.bind()
    except OSError as busy:
        storage.close(None)
        raise ServerStartError(f"cannot listen on {', '.join(f'{h}:{p}' for h, p in addresses)}: {busy.strerror}") from None
    # An advertised port 0 (listen on any free port) becomes the port actually bound.
    bound_ports = {listener.name: port for listener, (_host, port) in zip(props.client_listeners, server.bound)}
    settings.advertised = tuple(Endpoint(a.name, a.host, a.port or bound_ports.get(a.name, 0)) for a in advertised)
    node = ServerNode(settings, storage.log_factory, MetadataLogStore(storage.metadata_log(), wall_clock_ms), wall_clock_ms(),
                      log=lambda line: LOG.info(line))
    server.node = node
    server.start_timer()
    for name in props.controller_listener_names:
        if any(listener.name == name for listener in props.listeners):
            LOG.info("listener %s is not opened: this node's broker reaches its controller in-process", name)
    LOG.info("[KafkaRaftServer nodeId=%d] Kafka Server started (kafkalab; cluster id %s; listening on %s; log dirs %s)",
             props.node_id, storage.cluster_id, ", ".join(f"{h}:{p}" for h, p in server.bound),
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
