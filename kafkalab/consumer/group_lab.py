"""A consumer group to play with: add, kill and pause members, and watch the rebalances.

``GroupLab`` is plain data over a seeded simulation: a producer writes steadily to a topic, a
group of :class:`~kafkalab.consumer.delivery.ConsumerApp` members reads it, and the lab replays a
list of *actions* (add a consumer, kill one, pause one) from the start each time it changes — so
the same actions always give the same picture. It reports, at any moment, who owns which
partition, each partition's lag (log end offset − committed offset), and a timeline of ownership
and rebalances (the widget in :mod:`kafkalab.widgets.group_view` draws it).

What to look for:

* **eager** assignors (range, roundrobin, sticky): at every rebalance *all* members give up *all*
  partitions (a stop-the-world pause), then receive the new assignment;
* **cooperative-sticky** (KIP-429): members keep what stays theirs; only moving partitions pause,
  over two quick rebalances;
* a **killed** member keeps its partitions in the coordinator's eyes until ``session.timeout.ms``
  passes; a **paused** one (stuck in processing) leaves after ``max.poll.interval.ms``; a member
  closed cleanly leaves at once (LeaveGroup).

Kafka: ConsumerCoordinator / AbstractCoordinator, KIP-429, KIP-62, KIP-345.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kafkalab.cluster import EmbeddedCluster
from kafkalab.consumer.delivery import ConsumerApp, Processed

ACTIONS = ("add", "kill", "pause", "resume", "close")


@dataclass(frozen=True)
class Action:
    time_ms: int
    kind: str  # add, kill, pause, resume, close
    member: str = ""


@dataclass
class Ownership:
    """One member owning one partition from ``start_ms`` to ``end_ms`` (None: still owns it)."""

    member: str
    partition: int
    start_ms: int
    end_ms: int | None = None


@dataclass
class GroupSnapshot:
    time_ms: int
    owners: dict[int, list[str]]  # partition -> members that believe they own it
    lag: dict[int, int]  # partition -> log end offset - committed offset
    generation: int
    state: str
    members: dict[str, str]  # member name -> "running" / "killed" / "paused" / "closed"
    ownership: list[Ownership] = field(default_factory=list)
    rebalances: list[tuple[int, int | None]] = field(default_factory=list)  # (PreparingRebalance at, Stable at)
    events: list[str] = field(default_factory=list)


class GroupLab:
    """A seeded group over a steadily written topic, rebuilt from its actions on every change."""

    def __init__(self, partitions: int = 6, consumers: int = 2, assignor: str = "range", seed: int = 1,
                 rate_per_s: int = 20, session_timeout_ms: int = 10_000, max_poll_interval_ms: int = 20_000,
                 duration_ms: int = 60_000) -> None:
        self.partitions = partitions
        self.assignor = assignor
        self.seed = seed
        self.rate_per_s = rate_per_s
        self.session_timeout_ms = session_timeout_ms
        self.max_poll_interval_ms = max_poll_interval_ms
        self.duration_ms = duration_ms
        self.actions: list[Action] = [Action(0, "add", f"c{i + 1}") for i in range(consumers)]

    # -- changing the script -----------------------------------------------------------------
    def add(self, time_ms: int) -> str:
        name = f"c{sum(1 for a in self.actions if a.kind == 'add') + 1}"
        self.actions.append(Action(time_ms, "add", name))
        return name

    def act(self, time_ms: int, kind: str, member: str) -> None:
        if kind not in ACTIONS:
            raise ValueError(f"unknown action {kind!r}; use one of {', '.join(ACTIONS)}")
        if member not in self.member_names():
            raise ValueError(f"no member {member!r}; members are {', '.join(self.member_names())}")
        self.actions.append(Action(time_ms, kind, member))

    def member_names(self) -> list[str]:
        return [a.member for a in self.actions if a.kind == "add"]

    # -- running --------------------------------------------------------------------------------
    def run(self, until_ms: int | None = None) -> GroupSnapshot:
        """Replay the actions on a fresh cluster up to ``until_ms`` and describe the group then."""
        until = self.duration_ms if until_ms is None else until_ms
        cluster = EmbeddedCluster(seed=self.seed, brokers=3)
        cluster.create_topic("orders", partitions=self.partitions)
        start = cluster.now_ms
        config = {"group.id": "lab", "partition.assignment.strategy": self.assignor, "auto.offset.reset": "earliest",
                  "session.timeout.ms": self.session_timeout_ms, "heartbeat.interval.ms": 1_000,
                  "max.poll.interval.ms": self.max_poll_interval_ms, "max.poll.records": 20}
        history: list[Processed] = []
        apps: dict[str, ConsumerApp] = {}
        status: dict[str, str] = {}
        producer = cluster.producer({"linger.ms": 5})
        interval = max(1, 1000 // max(1, self.rate_per_s))
        counter = [0]

        def produce() -> None:
            producer.send("orders", f"order-{counter[0]}", key=f"customer-{counter[0] % 17}")
            counter[0] += 1
            producer.set_timer(interval, produce)

        producer.set_timer(0, produce)

        def perform(action: Action) -> None:
            if action.kind == "add":
                apps[action.member] = ConsumerApp(cluster, action.member, ["orders"], "at-least-once", config,
                                                  processing_ms=5, poll_interval_ms=50, history=history).start()
                status[action.member] = "running"
                return
            app = apps.get(action.member)
            if app is None or status.get(action.member) in ("killed", "closed"):
                return
            if action.kind == "kill":
                app.crash()
                status[action.member] = "killed"
            elif action.kind == "close":
                app.stop()
                status[action.member] = "closed"
            elif action.kind == "pause":
                app.pause()
                status[action.member] = "paused"
            elif action.kind == "resume" and status[action.member] == "paused":
                app.resume()
                status[action.member] = "running"

        for action in sorted(self.actions, key=lambda a: (a.time_ms, self.actions.index(a))):
            if action.time_ms <= until:
                cluster.sim.schedule_at(start + action.time_ms, perform, action, label=f"{action.kind} {action.member}")
        cluster.sim.run(until_ms=start + until)
        return self._snapshot(cluster, start, apps, status)

    def _snapshot(self, cluster: EmbeddedCluster, start: int, apps: dict[str, ConsumerApp], status: dict[str, str]) -> GroupSnapshot:
        node_to_member = {}
        for name, app in apps.items():
            for incarnation in range(1, app.incarnation + 1):
                node_to_member[f"{name}-{incarnation}"] = name
        ownership: list[Ownership] = []
        open_: dict[tuple[str, int], Ownership] = {}
        rebalances: list[tuple[int, int | None]] = []
        events: list[str] = []
        for record in cluster.trace:
            t = record.time_ms - start
            member = node_to_member.get(record.node or "")
            if record.kind == "consumer.assigned" and member:
                for text in record.detail["partitions"]:
                    partition = int(text.rsplit("-", 1)[1])
                    if (member, partition) not in open_:
                        open_[(member, partition)] = Ownership(member, partition, t)
                        ownership.append(open_[(member, partition)])
            elif record.kind == "consumer.revoke" and member:
                for text in record.detail["partitions"]:
                    entry = open_.pop((member, int(text.rsplit("-", 1)[1])), None)
                    if entry is not None:
                        entry.end_ms = t
            elif record.kind in ("consumer.generation_reset",) and member:
                for key in [k for k in open_ if k[0] == member]:
                    open_.pop(key).end_ms = t
            elif record.kind == "node.crash" and member:
                for key in [k for k in open_ if k[0] == member]:
                    open_.pop(key).end_ms = t
                events.append(f"{t / 1000:6.1f} s  {member} killed")
            elif record.kind == "broker.group.preparing_rebalance" and record.detail.get("group") == "lab":
                if not rebalances or rebalances[-1][1] is not None:
                    rebalances.append((t, None))
                events.append(f"{t / 1000:6.1f} s  rebalance: {record.detail['reason']}")
            elif record.kind == "broker.group.stable" and record.detail.get("group") == "lab":
                if rebalances and rebalances[-1][1] is None:
                    rebalances[-1] = (rebalances[-1][0], t)
                events.append(f"{t / 1000:6.1f} s  generation {record.detail['generation']} stable")
            elif record.kind == "broker.group.session_timeout":
                events.append(f"{t / 1000:6.1f} s  session timeout: {record.detail['member']} removed")
            elif record.kind == "consumer.poll_timeout" and member:
                events.append(f"{t / 1000:6.1f} s  {member} exceeded max.poll.interval.ms and left")
        names = re.compile(r"\b(c\d+)-\d+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        events = [names.sub(r"\1", line) for line in events]
        owners: dict[int, list[str]] = {p: [] for p in range(self.partitions)}
        for (member, partition) in sorted(open_):
            owners[partition].append(member)
        committed = _committed(cluster, self.partitions)
        ends = {p: log.log_end_offset for node in cluster.brokers.values() for (topic, p), log in node.broker.logs.items()
                if topic == "orders"}
        group = _group(cluster)
        return GroupSnapshot(
            time_ms=cluster.now_ms - start, owners=owners,
            lag={p: ends[p] - committed.get(p, 0) for p in range(self.partitions)},
            generation=group.generation_id if group else 0, state=group.state.value if group else "Empty",
            members=dict(status), ownership=ownership, rebalances=rebalances, events=events,
        )


def _group(cluster: EmbeddedCluster) -> Any:
    for node in cluster.brokers.values():
        group = node.broker.group_coordinator.groups.get("lab")
        if group is not None:
            return group
    return None


def _committed(cluster: EmbeddedCluster, partitions: int) -> dict[int, int]:
    for node in cluster.brokers.values():
        offsets = node.broker.group_coordinator.offsets.get("lab")
        if offsets is not None:
            return {p: o.offset for (topic, p), o in offsets.items() if topic == "orders"}
    return {}
