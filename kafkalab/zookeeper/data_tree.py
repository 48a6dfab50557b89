"""ZooKeeper's data tree: znodes, the transactions that change them, and one-shot watches.

A znode has a path (``/brokers/ids/1``), data (bytes), a ``version`` bumped by each setData, a
``cversion`` bumped when its children change, the zxid that created it (``czxid``) and last changed
it (``mzxid``), and for an *ephemeral* znode the session that owns it (``ephemeral_owner``): when
that session ends, the znode is deleted. A *sequential* create appends a ten-digit counter to the
name (``/election/n_0000000003``), taken from the parent's cversion.

Every change is a *transaction* (Txn) with a zxid, applied in zxid order on every server — so all
servers' trees go through the same states. Checks that can fail (the node exists, the version does
not match) are made by the leader when it turns a request into a transaction, as ZooKeeper's
PrepRequestProcessor does; an error becomes an ErrorTxn that changes nothing but still answers the
client in order.

Watches are one-shot triggers a client leaves on a read: ``exists``/``get_data`` watch the node
(NodeCreated, NodeDeleted, NodeDataChanged), ``get_children`` watches its children
(NodeChildrenChanged, NodeDeleted). Each server keeps the watches of its own clients.

ZooKeeper: org.apache.zookeeper.server.DataTree, DataNode, StatPersisted, PrepRequestProcessor,
WatchManager, Watcher.Event.EventType, KeeperException.Code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


class ZooKeeperError(Exception):
    """A KeeperException: ``code`` is ZooKeeper's name (NODEEXISTS, NONODE, BADVERSION, …)."""

    def __init__(self, code: str, path: str = "", detail: str = "") -> None:
        self.code = code
        self.path = path
        super().__init__(f"KeeperErrorCode = {code}" + (f" for {path}" if path else "") + (f": {detail}" if detail else ""))


@dataclass(frozen=True)
class Stat:
    czxid: int
    mzxid: int
    version: int
    cversion: int
    ephemeral_owner: int
    num_children: int


@dataclass
class ZNode:
    data: bytes
    czxid: int
    mzxid: int
    ephemeral_owner: int = 0
    version: int = 0
    cversion: int = 0
    children: set[str] = field(default_factory=set)

    def stat(self) -> Stat:
        return Stat(self.czxid, self.mzxid, self.version, self.cversion, self.ephemeral_owner, len(self.children))


# -- transactions (what the leader proposes; every server applies them in zxid order) ---------
@dataclass(frozen=True)
class CreateTxn:
    path: str
    data: bytes
    ephemeral_owner: int = 0


@dataclass(frozen=True)
class DeleteTxn:
    path: str


@dataclass(frozen=True)
class SetDataTxn:
    path: str
    data: bytes
    version: int  # the new version


@dataclass(frozen=True)
class CreateSessionTxn:
    session_id: int
    timeout_ms: int


@dataclass(frozen=True)
class CloseSessionTxn:
    session_id: int  # deletes every ephemeral znode the session owns


@dataclass(frozen=True)
class ErrorTxn:
    code: str
    path: str = ""


@dataclass(frozen=True)
class MultiTxn:
    """ZooKeeper's ``multi``: several changes applied together or not at all (ZOOKEEPER-965)."""

    txns: tuple["Txn", ...]


Txn = CreateTxn | DeleteTxn | SetDataTxn | CreateSessionTxn | CloseSessionTxn | ErrorTxn | MultiTxn


@dataclass(frozen=True)
class WatchedEvent:
    """Watcher.Event: what happened to which path."""

    type: str  # NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged
    path: str


def parent_of(path: str) -> str:
    parent = path.rsplit("/", 1)[0]
    return parent or "/"


def validate_path(path: str) -> None:
    """PathUtils.validatePath, the parts that matter here."""
    if not path.startswith("/"):
        raise ZooKeeperError("BADARGUMENTS", path, "a path must start with /")
    if path != "/" and path.endswith("/"):
        raise ZooKeeperError("BADARGUMENTS", path, "a path must not end with /")
    if "//" in path:
        raise ZooKeeperError("BADARGUMENTS", path, "empty node name")


class DataTree:
    """The tree every server replicates, plus the sessions and the ephemeral index."""

    def __init__(self) -> None:
        self.nodes: dict[str, ZNode] = {"/": ZNode(b"", 0, 0)}
        self.sessions: dict[int, int] = {}  # session id -> timeout ms
        self.ephemerals: dict[int, set[str]] = {}
        self.last_processed_zxid = 0

    # -- reads ---------------------------------------------------------------------------------
    def exists(self, path: str) -> Stat | None:
        node = self.nodes.get(path)
        return node.stat() if node else None

    def get_data(self, path: str) -> tuple[bytes, Stat]:
        node = self.nodes.get(path)
        if node is None:
            raise ZooKeeperError("NONODE", path)
        return node.data, node.stat()

    def get_children(self, path: str) -> list[str]:
        node = self.nodes.get(path)
        if node is None:
            raise ZooKeeperError("NONODE", path)
        return sorted(node.children)

    # -- turning a request into a transaction (the leader's PrepRequestProcessor) ------------------
    def prepare_create(self, path: str, data: bytes, ephemeral_owner: int = 0, sequential: bool = False) -> Txn:
        validate_path(path)
        parent = self.nodes.get(parent_of(path))
        if parent is None:
            return ErrorTxn("NONODE", parent_of(path))
        if parent.ephemeral_owner:
            return ErrorTxn("NOCHILDRENFOREPHEMERALS", parent_of(path))
        if sequential:
            path = f"{path}{parent.cversion:010d}"
        if path in self.nodes:
            return ErrorTxn("NODEEXISTS", path)
        if ephemeral_owner and ephemeral_owner not in self.sessions:
            return ErrorTxn("SESSIONEXPIRED", path)
        return CreateTxn(path, bytes(data), ephemeral_owner)

    def prepare_delete(self, path: str, version: int = -1) -> Txn:
        node = self.nodes.get(path)
        if node is None:
            return ErrorTxn("NONODE", path)
        if version != -1 and node.version != version:
            return ErrorTxn("BADVERSION", path)
        if node.children:
            return ErrorTxn("NOTEMPTY", path)
        return DeleteTxn(path)

    def prepare_set_data(self, path: str, data: bytes, version: int = -1) -> Txn:
        node = self.nodes.get(path)
        if node is None:
            return ErrorTxn("NONODE", path)
        if version != -1 and node.version != version:
            return ErrorTxn("BADVERSION", path)
        return SetDataTxn(path, bytes(data), node.version + 1)

    def prepare_multi(self, ops: list[tuple]) -> Txn:  # type: ignore[type-arg]
        """Check every op against the tree as the earlier ops leave it; all or nothing."""
        scratch = DataTree()
        scratch.nodes = _CopyOnRead(self.nodes)  # only the znodes the ops touch are copied
        scratch.sessions = self.sessions
        scratch.ephemerals = {session: set(paths) for session, paths in self.ephemerals.items()}
        scratch.last_processed_zxid = self.last_processed_zxid
        txns: list[Txn] = []
        for op in ops:
            kind = op[0]
            if kind == "create":
                txn = scratch.prepare_create(op[1], op[2], op[3], op[4])
            elif kind == "delete":
                txn = scratch.prepare_delete(op[1], op[2])
            elif kind == "set_data":
                txn = scratch.prepare_set_data(op[1], op[2], op[3])
            elif kind == "check":
                node = scratch.nodes.get(op[1])
                txn = ErrorTxn("NONODE", op[1]) if node is None else (
                    ErrorTxn("BADVERSION", op[1]) if op[2] != -1 and node.version != op[2] else SetDataTxn("", b"", -1))
                if not isinstance(txn, ErrorTxn):
                    continue
            else:
                raise ValueError(f"unknown multi op {kind!r}")
            if isinstance(txn, ErrorTxn):
                return txn
            scratch._apply_one(scratch.last_processed_zxid, txn)
            txns.append(txn)
        return MultiTxn(tuple(txns))

    # -- applying a committed transaction (every server, in zxid order) -------------------------
    def apply(self, zxid: int, txn: Txn) -> list[WatchedEvent]:
        """Apply ``txn`` committed at ``zxid``; returns the watch events it triggers."""
        if zxid <= self.last_processed_zxid:
            raise AssertionError(f"transaction {zxid:#x} applied after {self.last_processed_zxid:#x}: out of zxid order")
        self.last_processed_zxid = zxid
        events: list[WatchedEvent] = []
        if isinstance(txn, MultiTxn):
            for part in txn.txns:
                events += self._apply_one(zxid, part)
            return events
        return self._apply_one(zxid, txn)

    def _apply_one(self, zxid: int, txn: Txn) -> list[WatchedEvent]:
        events: list[WatchedEvent] = []
        if isinstance(txn, CreateTxn):
            parent = self.nodes[parent_of(txn.path)]
            self.nodes[txn.path] = ZNode(txn.data, zxid, zxid, txn.ephemeral_owner)
            parent.children.add(txn.path.rsplit("/", 1)[1])
            parent.cversion += 1
            if txn.ephemeral_owner:
                self.ephemerals.setdefault(txn.ephemeral_owner, set()).add(txn.path)
            events += [WatchedEvent("NodeCreated", txn.path), WatchedEvent("NodeChildrenChanged", parent_of(txn.path))]
        elif isinstance(txn, DeleteTxn):
            events += self._delete(txn.path)
        elif isinstance(txn, SetDataTxn):
            node = self.nodes[txn.path]
            node.data, node.version, node.mzxid = txn.data, txn.version, zxid
            events.append(WatchedEvent("NodeDataChanged", txn.path))
        elif isinstance(txn, CreateSessionTxn):
            self.sessions[txn.session_id] = txn.timeout_ms
        elif isinstance(txn, CloseSessionTxn):
            self.sessions.pop(txn.session_id, None)
            for path in sorted(self.ephemerals.pop(txn.session_id, set()), reverse=True):
                if path in self.nodes:
                    events += self._delete(path)
        return events

    def _delete(self, path: str) -> list[WatchedEvent]:
        node = self.nodes.pop(path)
        parent = self.nodes[parent_of(path)]
        parent.children.discard(path.rsplit("/", 1)[1])
        parent.cversion += 1
        if node.ephemeral_owner:
            self.ephemerals.get(node.ephemeral_owner, set()).discard(path)
        return [WatchedEvent("NodeDeleted", path), WatchedEvent("NodeChildrenChanged", parent_of(path))]

    def digest(self) -> tuple[Any, ...]:
        """Everything that must be equal on two servers that applied the same transactions."""
        return (self.last_processed_zxid, tuple(sorted((p, n.data, n.version, n.ephemeral_owner) for p, n in self.nodes.items())),
                tuple(sorted(self.sessions.items())))


class _CopyOnRead(dict):  # type: ignore[type-arg]
    """A scratch view of a tree's znodes for trying a multi: a znode is copied the first time an op
    looks at it, so trying four ops costs four copies, not a copy of a million-znode tree."""

    def __init__(self, base: dict[str, ZNode]) -> None:
        super().__init__()
        self.base = base
        self.deleted: set[str] = set()

    def _load(self, path: str) -> ZNode | None:
        if path in self.deleted:
            return None
        if dict.__contains__(self, path):
            return dict.__getitem__(self, path)
        node = self.base.get(path)
        if node is None:
            return None
        copied = replace(node, children=set(node.children))
        dict.__setitem__(self, path, copied)
        return copied

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        node = self._load(path)
        return default if node is None else node

    def __getitem__(self, path: str) -> ZNode:
        node = self._load(path)
        if node is None:
            raise KeyError(path)
        return node

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._load(path) is not None

    def __setitem__(self, path: str, node: ZNode) -> None:
        self.deleted.discard(path)
        dict.__setitem__(self, path, node)

    def pop(self, path: str, *default: Any) -> Any:  # type: ignore[override]
        node = self._load(path)
        if node is None:
            if default:
                return default[0]
            raise KeyError(path)
        dict.pop(self, path)
        self.deleted.add(path)
        return node


def copy_tree(tree: DataTree) -> DataTree:
    """A deep copy (a snapshot a leader sends a follower that is too far behind)."""
    other = DataTree()
    other.nodes = {path: replace(node, children=set(node.children)) for path, node in tree.nodes.items()}
    other.sessions = dict(tree.sessions)
    other.ephemerals = {session: set(paths) for session, paths in tree.ephemerals.items()}
    other.last_processed_zxid = tree.last_processed_zxid
    return other
