"""A ZooKeeper ensemble under faults: election of the server with the newest zxid, atomic broadcast
that needs a majority, stale reads and sync, sessions whose ephemeral znodes and watches follow them,
uncommitted proposals truncated, and agreement of every server on every applied transaction."""

from __future__ import annotations

import pytest

from kafkalab.zookeeper.data_tree import ZooKeeperError
from kafkalab.zookeeper.ensemble import ZooKeeperEnsemble
from kafkalab.zookeeper.zab import FOLLOWING, LEADING


@pytest.mark.parametrize("servers", [1, 3, 5])
def test_an_ensemble_elects_one_leader_and_commits_writes(servers: int) -> None:
    ensemble = ZooKeeperEnsemble(servers, seed=3)
    leader = ensemble.wait_for_leader()
    client = ensemble.client("app")
    ensemble.wait_connected(client)
    assert ensemble.call(client, "create", "/a", b"1") == "/a"
    ensemble.run(3_000)  # a follower that asked before the leader was leading asks again at its next tick
    for sid in ensemble.ids:
        assert ensemble.server(sid).tree.get_data("/a")[0] == b"1"
    assert sum(1 for sid in ensemble.ids if ensemble.server(sid).state == LEADING) == 1
    assert ensemble.server(leader).durable.current_epoch == 1


def test_no_write_commits_without_a_majority_and_a_new_leader_has_every_committed_write() -> None:
    ensemble = ZooKeeperEnsemble(3, seed=1)
    leader = ensemble.wait_for_leader()
    client = ensemble.client("app", servers=(leader,))
    ensemble.wait_connected(client)
    ensemble.call(client, "create", "/kept", b"")
    followers = [sid for sid in ensemble.ids if sid != leader]
    for sid in followers:
        ensemble.crash(sid)
    with pytest.raises(ZooKeeperError):
        ensemble.call(client, "create", "/lost", b"", timeout_ms=5_000)
    ensemble.crash(leader)  # it logged /lost, uncommitted
    for sid in followers:
        ensemble.restart(sid)
    new_leader = ensemble.wait_for_leader(60_000)
    assert new_leader in followers and ensemble.server(new_leader).durable.current_epoch >= 2
    ensemble.restart(leader)
    ensemble.run(15_000)
    old = ensemble.server(leader)
    assert old.state == FOLLOWING
    assert old.tree.exists("/kept") is not None and old.tree.exists("/lost") is None  # TRUNC removed it


def test_reads_can_be_stale_until_sync() -> None:
    ensemble = ZooKeeperEnsemble(3, seed=2)
    leader = ensemble.wait_for_leader()
    follower = next(sid for sid in ensemble.ids if sid != leader)
    other = next(sid for sid in ensemble.ids if sid not in (leader, follower))
    writer = ensemble.client("writer", servers=(leader,))
    reader = ensemble.client("reader", servers=(follower,))
    ensemble.wait_connected(writer)
    ensemble.wait_connected(reader)
    ensemble.call(writer, "create", "/config", b"v1")
    ensemble.run(100)
    # the follower's link from the leader is slow: it acknowledges nothing late, but applies late
    ensemble.network.set_link(f"zk-{leader}", f"zk-{follower}", latency_ms=300)
    ensemble.call(writer, "set_data", "/config", b"v2")  # committed by leader + the other follower
    assert ensemble.server(other).tree.last_processed_zxid >= 0
    assert ensemble.call(reader, "get_data", "/config")[0] == b"v1"  # stale
    ensemble.call(reader, "sync", "/config")
    assert ensemble.call(reader, "get_data", "/config")[0] == b"v2"


def test_an_expired_session_takes_its_ephemeral_znodes_and_fires_watches() -> None:
    ensemble = ZooKeeperEnsemble(3, seed=4)
    ensemble.wait_for_leader()
    owner = ensemble.client("owner", session_timeout_ms=6_000)
    watcher = ensemble.client("watcher")
    ensemble.wait_connected(owner)
    ensemble.wait_connected(watcher)
    ensemble.call(owner, "create", "/lock", b"mine", ephemeral=True)
    events = []
    ensemble.call(watcher, "exists", "/lock", watcher=events.append)
    owner.crash()  # no more pings
    ensemble.run(5_000)
    assert events == [] and ensemble.call(watcher, "exists", "/lock") is not None
    ensemble.run(6_000)
    assert [event.type for event in events] == ["NodeDeleted"]
    assert ensemble.call(watcher, "exists", "/lock") is None


def test_a_client_moves_to_another_server_keeping_its_session() -> None:
    ensemble = ZooKeeperEnsemble(3, seed=5)
    ensemble.wait_for_leader()
    client = ensemble.client("app", session_timeout_ms=12_000)
    ensemble.wait_connected(client)
    ensemble.call(client, "create", "/e", b"", ephemeral=True)
    first = client.server
    session = client.session_id
    ensemble.crash(int(first[3:]))
    ensemble.run(30_000)
    assert client.state == "CONNECTED" and client.server != first and client.session_id == session
    assert ensemble.call(client, "exists", "/e") is not None
