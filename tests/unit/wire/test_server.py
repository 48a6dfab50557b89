"""The TCP driver against bad clients: oversized, truncated and garbage frames, clients that vanish.

Each misbehaving connection is closed and logged; the server goes on serving everyone else and
keeps what it acknowledged."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time

import pytest

pytest.importorskip("kio")

from kafkalab.config import BrokerConfig  # noqa: E402
from kafkalab.wire.node import Endpoint, ServerNode, ServerSettings  # noqa: E402
from kafkalab.wire.protocol import build, decode_response, encode_request, request_class  # noqa: E402
from kafkalab.wire.server import KafkaServer, wall_clock_ms  # noqa: E402


@pytest.fixture
def server():
    settings = ServerSettings(1, "test-cluster", BrokerConfig({"offsets.topic.replication.factor": 1}),
                              (Endpoint("PLAINTEXT", "127.0.0.1", 0),))
    node = ServerNode(settings, now_ms=wall_clock_ms())
    kafka = KafkaServer(node, [("127.0.0.1", 0)], max_request_bytes=1024)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(kafka.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    yield kafka
    asyncio.run_coroutine_threadsafe(kafka.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def connect(server: KafkaServer) -> socket.socket:
    return socket.create_connection(server.bound[0], timeout=5)


def request(sock: socket.socket, api_key: int, version: int, fields: dict, correlation_id: int = 1):
    sock.sendall(encode_request(api_key, version, correlation_id, "test", build(request_class(api_key, version), fields)))
    size = struct.unpack(">i", recv_exactly(sock, 4))[0]
    return decode_response(recv_exactly(sock, size), api_key, version)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_frame_larger_than_socket_request_max_bytes_closes_that_connection_only(server, caplog):
    caplog.set_level(logging.INFO, "kafkalab.server")
    bad, good = connect(server), connect(server)
    bad.sendall(struct.pack(">i", 10_000_000))
    assert closed_by_server(bad)
    assert "larger than socket.request.max.bytes = 1024" in caplog.text
    _cid, body = request(good, 3, 12, {"topics": None})
    assert body.cluster_id == "test-cluster"


def test_garbage_and_unknown_api_keys_close_the_connection_and_the_server_goes_on(server, caplog):
    caplog.set_level(logging.INFO, "kafkalab.server")
    garbage = connect(server)
    garbage.sendall(struct.pack(">i", 12) + b"\xff" * 12)
    assert closed_by_server(garbage)
    assert "unknown API key -1" in caplog.text
    _cid, body = request(connect(server), 18, 3, {"client_software_name": "t", "client_software_version": "1"})
    assert body.error_code == 0


def test_a_client_vanishing_mid_request_changes_nothing(server, caplog):
    caplog.set_level(logging.INFO, "kafkalab.server")
    vanisher = connect(server)
    frame = encode_request(3, 12, 1, "test", build(request_class(3, 12), {"topics": None}))
    vanisher.sendall(frame[:-3])  # the size says more is coming; then the client is gone
    vanisher.close()
    deadline = time.time() + 5
    while "went away mid-request" not in caplog.text and time.time() < deadline:
        time.sleep(0.02)
    assert "went away mid-request" in caplog.text
    _cid, body = request(connect(server), 3, 12, {"topics": None})
    assert body.controller_id == 1


def test_responses_leave_in_request_order_even_when_a_request_is_parked(server):
    sock = connect(server)
    request(sock, 19, 7, {"topics": [{"name": "t", "num_partitions": 1, "replication_factor": 1, "assignments": (), "configs": ()}],
                          "timeout": 1000})
    fetch = build(request_class(1, 12), {"max_wait": 300, "min_bytes": 1, "max_bytes": 1 << 20, "topics": [
        {"topic": "t", "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]})
    metadata = build(request_class(3, 12), {"topics": None})
    sock.sendall(encode_request(1, 12, 10, "test", fetch) + encode_request(3, 12, 11, "test", metadata))
    order = []
    for api_key, version in ((1, 12), (3, 12)):
        size = struct.unpack(">i", recv_exactly(sock, 4))[0]
        correlation_id, _body = decode_response(recv_exactly(sock, size), api_key, version)
        order.append(correlation_id)
    assert order == [10, 11]  # the fetch waited max_wait for data; the metadata answer came after it


def test_stopping_ends_requests_parked_in_a_long_poll(server):
    """A follower's (or consumer's) fetch waiting for data must not keep the server from shutting down."""
    sock = connect(server)
    created = request(sock, 19, 7, {"topics": [{"name": "quiet", "num_partitions": 1, "replication_factor": 1, "assignments": (),
                                                "configs": ()}], "timeout": 5000})
    assert created[1].topics[0].error_code == 0
    sock.sendall(encode_request(1, 12, 2, "test", build(request_class(1, 12), {
        "max_wait": 60_000, "min_bytes": 1, "max_bytes": 1 << 20, "session_epoch": -1,
        "topics": [{"topic": "quiet", "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]})))
    time.sleep(0.3)  # the fetch is parked now: nothing to read for a minute
    assert server.waiting
    loop = server._timer.get_loop()
    started = time.monotonic()
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    assert time.monotonic() - started < 5
