"""A kafkalab server inside this Python process, for a notebook: real sockets, real clients.

    server = LocalServer.start("/tmp/kafkalab-notebook")   # formats the directory on first use
    server.bootstrap                                         # "127.0.0.1:<port>" for any Kafka client
    server.inspect(lambda node: node.broker.logs)            # look inside, safely
    server.stop()

The node runs on an asyncio loop in a background thread — the same code ``kafkalab server-start``
runs (:func:`kafkalab.wire.launch.start_node`). The notebook's thread never touches the node
directly: :meth:`LocalServer.inspect` runs a function on the server's thread and returns its
result, so what it reads is never half-updated.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _log_to_file(path: Path) -> None:
    logger = logging.getLogger("kafkalab.server")
    for handler in list(logger.handlers):
        if getattr(handler, "kafkalab_local", False):
            logger.removeHandler(handler)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(message)s (%(name)s)"))
    handler.kafkalab_local = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class LocalServer:
    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, running: Any) -> None:
        self._loop = loop
        self._thread = thread
        self._running = running
        host, port = running.server.bound[0]
        self.bootstrap = f"{host}:{port}"
        self.cluster_id = running.storage.cluster_id
        self.directory = Path(running.storage.log_dirs[0])

    @classmethod
    def start(cls, directory: str | Path, port: int = 0, node_id: int = 1, cluster_id: str | None = None,
              properties: dict[str, str] | None = None) -> "LocalServer":
        """Start a combined node with its logs in ``directory`` (formatted on first use) on ``port`` (0: any free one)."""
        from kafkalab.storage import format_storage, random_uuid
        from kafkalab.wire.launch import start_node
        from kafkalab.wire.properties import server_properties

        directory = Path(directory)
        settings = {"process.roles": "broker,controller", "node.id": str(node_id),
                    "listeners": f"PLAINTEXT://127.0.0.1:{port}", "log.dirs": str(directory),
                    "offsets.topic.replication.factor": "1", "transaction.state.log.replication.factor": "1",
                    "group.initial.rebalance.delay.ms": "0", **(properties or {})}
        props = server_properties(settings, "LocalServer")
        if not (directory / "meta.properties").exists():
            format_storage([directory], cluster_id or random_uuid(), node_id)
        _log_to_file(directory / "server.log")  # not to the notebook: its lines carry wall-clock times
        loop = asyncio.new_event_loop()
        ready: dict[str, Any] = {}
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                ready["running"] = loop.run_until_complete(start_node(props))
            except BaseException as failed:  # noqa: BLE001 - handed to the caller's thread
                ready["error"] = failed
                started.set()
                return
            started.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name=f"kafkalab-node-{node_id}", daemon=True)
        thread.start()
        started.wait(60)
        if "error" in ready:
            raise ready["error"]
        return cls(loop, thread, ready["running"])

    def inspect(self, look: Callable[[Any], T], timeout: float = 10) -> T:
        """Run ``look(node)`` on the server's thread (between requests) and return what it returns."""
        async def on_loop() -> T:
            return look(self._running.node)
        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result(timeout)

    def stop(self) -> None:
        """Shut down cleanly: connections closed, logs flushed and checkpointed."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._running.shutdown(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def __repr__(self) -> str:
        return f"LocalServer({self.bootstrap}, cluster {self.cluster_id})"
