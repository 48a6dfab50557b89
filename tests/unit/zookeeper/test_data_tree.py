"""ZooKeeper's data tree: znodes, versions, ephemerals, sequential names, multi, watch events."""

from __future__ import annotations

import pytest

from kafkalab.zookeeper.data_tree import (
    CloseSessionTxn, CreateSessionTxn, DataTree, ErrorTxn, MultiTxn, WatchedEvent, ZooKeeperError,
)
from kafkalab.zookeeper.zab import show_zxid, zxid, zxid_counter, zxid_epoch


def test_zxid_is_epoch_and_counter() -> None:
    value = zxid(3, 7)
    assert value == 0x300000007 and zxid_epoch(value) == 3 and zxid_counter(value) == 7
    assert zxid(2, 0xFFFFFFFF) < zxid(3, 0)  # a newer epoch orders after everything before it
    assert show_zxid(value) == "0x300000007 (epoch 3, counter 7)"


def test_create_set_delete_with_versions_and_events() -> None:
    tree = DataTree()
    assert tree.prepare_create("/a/b", b"") == ErrorTxn("NONODE", "/a")
    assert tree.apply(1, tree.prepare_create("/a", b"x")) == [WatchedEvent("NodeCreated", "/a"), WatchedEvent("NodeChildrenChanged", "/")]
    assert tree.prepare_create("/a", b"y") == ErrorTxn("NODEEXISTS", "/a")
    assert tree.prepare_set_data("/a", b"y", version=5) == ErrorTxn("BADVERSION", "/a")
    tree.apply(2, tree.prepare_set_data("/a", b"y", version=0))
    data, stat = tree.get_data("/a")
    assert data == b"y" and stat.version == 1 and stat.czxid == 1 and stat.mzxid == 2
    tree.apply(3, tree.prepare_create("/a/c", b""))
    assert tree.prepare_delete("/a") == ErrorTxn("NOTEMPTY", "/a")
    with pytest.raises(ZooKeeperError, match="NONODE"):
        tree.get_children("/nope")
    with pytest.raises(AssertionError, match="zxid order"):
        tree.apply(3, tree.prepare_delete("/a/c"))


def test_sequential_names_and_ephemerals_die_with_their_session() -> None:
    tree = DataTree()
    tree.apply(1, tree.prepare_create("/election", b""))
    tree.apply(2, CreateSessionTxn(77, 6000))
    first = tree.prepare_create("/election/n_", b"", ephemeral_owner=77, sequential=True)
    tree.apply(3, first)
    second = tree.prepare_create("/election/n_", b"", ephemeral_owner=77, sequential=True)
    assert (first.path, second.path) == ("/election/n_0000000000", "/election/n_0000000001")
    tree.apply(4, second)
    assert tree.prepare_create("/election/n_0000000000/child", b"") == ErrorTxn("NOCHILDRENFOREPHEMERALS", "/election/n_0000000000")
    events = tree.apply(5, CloseSessionTxn(77))
    assert tree.get_children("/election") == []
    assert WatchedEvent("NodeDeleted", "/election/n_0000000001") in events
    assert tree.prepare_create("/x", b"", ephemeral_owner=77) == ErrorTxn("SESSIONEXPIRED", "/x")


def test_multi_is_all_or_nothing() -> None:
    tree = DataTree()
    tree.apply(1, tree.prepare_create("/controller_epoch", b"0"))
    ok = tree.prepare_multi([("create", "/controller", b"1", 0, False), ("set_data", "/controller_epoch", b"1", 0)])
    assert isinstance(ok, MultiTxn) and len(ok.txns) == 2
    tree.apply(2, ok)
    stale = tree.prepare_multi([("check", "/controller_epoch", 0), ("set_data", "/brokers", b"", -1)])
    assert stale == ErrorTxn("BADVERSION", "/controller_epoch")
    assert tree.prepare_multi([("create", "/y", b"", 0, False), ("create", "/y", b"", 0, False)]) == ErrorTxn("NODEEXISTS", "/y")
    assert tree.exists("/y") is None
