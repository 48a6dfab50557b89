"""Chapter 05's experiments: a replicated cluster to break, and the classic failure scenarios.

``replica_table`` shows every replica of a partition (leader or follower, in the ISR or not, log
end offset, high watermark). ``ClusterLab`` replays a list of actions — crash, restart, lose the
disk of, or cut off a broker — on a seeded cluster while a producer writes steadily, so the same
actions always give the same picture (the widget in :mod:`kafkalab.widgets.cluster_view` draws it).
``unclean_election`` and ``kip101_scenario`` are the two stories the chapter tells with numbers.

Kafka: the Replication section of the Kafka documentation; KIP-101, KIP-279, KIP-903, KIP-966.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kafkalab.cluster import EmbeddedCluster
from kafkalab.errors import KafkaError

ACTIONS = ("crash", "restart", "wipe", "cut", "heal")


def replica_table(cluster: EmbeddedCluster, topic: str, partition: int = 0) -> list[dict[str, Any]]:
    """One row per broker holding a replica: role, ISR membership, log end offset, high watermark."""
    record = cluster.controller.controller.image.partitions[topic][partition]
    rows = []
    for broker_id in record.replicas:
        node = cluster.brokers[broker_id]
        state = node.broker.replica_manager.partitions.get((topic, partition))
        log = node.broker.logs.get((topic, partition))
        role = "down" if not node.alive else ("leader" if record.leader == broker_id else "follower")
        rows.append({
            "broker": broker_id, "role": role, "in ISR": broker_id in record.isr,
            "log end offset": log.log_end_offset if log is not None else 0,
            "high watermark": state.high_watermark if state is not None else 0,
            "leader epoch": record.leader_epoch,
        })
    return rows


def replication_events(cluster: EmbeddedCluster, topic: str) -> list[str]:
    """The events that decide what a partition keeps, in time order: crashes and restarts, fencings and
    the leaders they elect, ISR changes, truncations. A minimal trace for a learner's feedback."""
    lines = []
    for entry in cluster.trace:
        t = entry.time_ms / 1000
        if entry.kind == "controller.fence":
            elections = ", ".join(e for e in entry.detail["elections"] if e.startswith(topic)) or "none"
            lines.append(f"{t:7.1f} s  controller fences broker {entry.detail['broker']} (new leader: {elections})")
        elif entry.kind == "controller.alter_partition" and entry.detail["topic"] == topic:
            lines.append(f"{t:7.1f} s  ISR becomes {entry.detail['isr']}")
        elif entry.kind == "broker.replica.truncated" and entry.detail["topic"] == topic:
            lines.append(f"{t:7.1f} s  broker {entry.node.split('-')[1]} truncates {entry.detail['removed']} "
                         f"record(s) to offset {entry.detail['to']}: {entry.detail['why']}")
        elif entry.kind in ("node.crash", "node.restart", "node.wipe") and entry.node and entry.node.startswith("broker-"):
            verb = {"node.crash": "crashes", "node.restart": "restarts", "node.wipe": "loses its disk"}[entry.kind]
            lines.append(f"{t:7.1f} s  broker {entry.node.split('-')[1]} {verb}")
    return lines


def replica_story(cluster: EmbeddedCluster, topic: str, partition: int = 0, last: int = 10) -> str:
    """The replicas now (role, ISR, log end offset, high watermark) and the last events that led here."""
    events = replication_events(cluster, topic)[-last:]
    return (f"the replicas of {topic}-{partition} at {cluster.now_ms / 1000:.1f} s:\n{format_table(replica_table(cluster, topic, partition))}\n"
            "the events that led here:\n" + ("\n".join(events) if events else "(none)"))


def replica_logs_picture(cluster: EmbeddedCluster, topic: str, acknowledged: list[bytes], partition: int = 0) -> str:
    """Which replica holds which acknowledged record, as a grid: the picture of a loss.

    One column per acknowledged record (in the order they were acknowledged), one row per replica;
    ``■`` the replica's log has it, ``·`` it does not; ``^`` under a column no replica has.
    """
    record = cluster.controller.controller.image.partitions[topic][partition]
    holdings: dict[int, set[bytes]] = {}
    for broker_id in record.replicas:
        log = cluster.brokers[broker_id].broker.logs.get((topic, partition))
        holdings[broker_id] = {r.value for r in log.read(log.log_start_offset)} if log is not None and cluster.brokers[broker_id].alive else set()
    lines = [f"acknowledged records of {topic}-{partition} (columns, in order) on each replica (rows) at {cluster.now_ms / 1000:.1f} s;",
             f"leader {record.leader}, leader epoch {record.leader_epoch}, ISR {list(record.isr)}:"]
    for broker_id, held in holdings.items():
        role = "down" if not cluster.brokers[broker_id].alive else ("leader" if broker_id == record.leader else "follower")
        lines.append(f"  broker {broker_id} {role:<8} " + "".join("■" if v in held else "·" for v in acknowledged))
    lost = [v for v in acknowledged if not any(v in held for held in holdings.values())]
    lines.append("  " + " " * 18 + "".join("^" if v in lost else " " for v in acknowledged).rstrip())
    if lost:
        lines.append(f"  ^ acknowledged, then on no replica: {', '.join(v.decode(errors='replace') for v in lost[:5])}")
    return "\n".join(lines)


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no replicas)"
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class LabAction:
    time_ms: int
    kind: str
    broker: int
    other: int = -1  # for "cut": the broker it is cut off from (-1: from everyone)


@dataclass
class LabSnapshot:
    time_ms: int
    replicas: list[dict[str, Any]]
    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    acknowledged: int
    refused: int
    events: list[str] = field(default_factory=list)
    event_times_ms: list[int] = field(default_factory=list)  # when each of ``events`` happened (lab time)


class ClusterLab:
    """Three brokers, one partition with three replicas, a producer writing every 250 ms."""

    def __init__(self, seed: int = 1, acks: int = -1, min_insync_replicas: int = 2, unclean: bool = False,
                 duration_ms: int = 60_000) -> None:
        self.seed, self.acks, self.min_insync_replicas, self.unclean = seed, acks, min_insync_replicas, unclean
        self.duration_ms = duration_ms
        self.actions: list[LabAction] = []

    def act(self, time_ms: int, kind: str, broker: int, other: int = -1) -> None:
        if kind not in ACTIONS:
            raise ValueError(f"unknown action {kind!r}; use one of {', '.join(ACTIONS)}")
        if broker not in (0, 1, 2):
            raise ValueError(f"no broker {broker}: the lab has brokers 0, 1 and 2")
        self.actions.append(LabAction(time_ms, kind, broker, other))

    def run(self, until_ms: int | None = None) -> LabSnapshot:
        until = self.duration_ms if until_ms is None else until_ms
        cluster = EmbeddedCluster(seed=self.seed, brokers=3)
        cluster.create_topic("orders", partitions=1, replication_factor=3, config={
            "min.insync.replicas": self.min_insync_replicas, "unclean.leader.election.enable": str(self.unclean).lower()})
        start = cluster.now_ms
        producer = cluster.producer({"acks": "all" if self.acks == -1 else str(self.acks), "linger.ms": 0,
                                     "delivery.timeout.ms": 10_000, "request.timeout.ms": 5_000})
        counts = {"acknowledged": 0, "refused": 0}
        sent = [0]

        def done(metadata: Any, error: Exception | None) -> None:
            counts["refused" if error is not None else "acknowledged"] += 1

        def write() -> None:
            producer.send("orders", f"order-{sent[0]}", callback=done)
            sent[0] += 1
            producer.set_timer(250, write)

        producer.set_timer(0, write)

        def perform(action: LabAction) -> None:
            name = f"broker-{action.broker}"
            node = cluster.brokers[action.broker]
            if action.kind == "crash" and node.alive:
                cluster.crash_broker(action.broker)
            elif action.kind == "wipe" and node.alive:
                cluster.wipe_broker(action.broker)
            elif action.kind == "restart" and not node.alive:
                cluster.restart_broker(action.broker)
            elif action.kind == "cut":
                others = [f"broker-{b}" for b in cluster.brokers if b != action.broker and (action.other < 0 or b == action.other)]
                cluster.network.partition([name], others)
            elif action.kind == "heal":
                cluster.network.heal()

        for index, action in enumerate(sorted(self.actions, key=lambda a: a.time_ms)):
            if action.time_ms <= until:
                cluster.sim.schedule_at(start + action.time_ms, perform, action, label=f"{action.kind} broker {action.broker}")
        cluster.sim.run(until_ms=start + until)
        record = cluster.controller.controller.image.partitions["orders"][0]
        events, times = [], []
        for entry in cluster.trace:
            t = (entry.time_ms - start) / 1000
            if entry.kind == "timer":
                text = entry.detail["label"]
            elif entry.kind == "controller.fence":
                text = (f"controller fences broker {entry.detail['broker']} "
                        f"(new leaders: {', '.join(entry.detail['elections']) or 'none'})")
            elif entry.kind == "controller.alter_partition":
                text = f"ISR of orders-0 becomes {entry.detail['isr']}"
            elif entry.kind == "broker.replica.truncated":
                text = f"broker {entry.node.split('-')[1]} truncates to offset {entry.detail['to']}"
            else:
                continue
            events.append(f"{t:6.1f} s  {text}")
            times.append(entry.time_ms - start)
        return LabSnapshot(cluster.now_ms - start, replica_table(cluster, "orders"), record.leader, record.leader_epoch,
                           record.isr, counts["acknowledged"], counts["refused"], events, times)

    def step(self, time_ms: int, direction: int) -> int:
        """The time of the next (direction 1) or previous (-1) event of the whole run after/before
        ``time_ms`` — for stepping through the trace one event at a time; ``time_ms`` if there is none."""
        times = sorted(set(self.run().event_times_ms))
        later = [t for t in times if t > time_ms] if direction > 0 else [t for t in times if t < time_ms][::-1]
        return later[0] if later else time_ms


def unclean_election(unclean: bool, seed: int = 3) -> tuple[list[bytes] | None, EmbeddedCluster]:
    """Two replicas; the follower dies, the leader takes one more acknowledged write alone, then dies too,
    and only the stale follower comes back. Returns what the partition holds then (None: offline)."""
    cluster = EmbeddedCluster(seed=seed, brokers=2)
    cluster.create_topic("orders", partitions=1, replication_factor=2,
                         config={"min.insync.replicas": 1, "unclean.leader.election.enable": str(unclean).lower()})
    cluster.produce("orders", "both have it")
    leader = cluster.partitions_for("orders")[0]
    follower = 1 - leader
    cluster.crash_broker(follower)
    cluster.advance(12_000)  # fenced: the ISR is the leader alone
    cluster.produce("orders", "only the leader has it")  # acknowledged: ISR (1) ≥ min.insync.replicas (1)
    cluster.crash_broker(leader)
    cluster.restart_broker(follower)
    cluster.advance(15_000)
    if cluster.partitions_for("orders")[0] < 0:
        return None, cluster
    return [r.value for r in cluster.fetch("orders", 0, cluster.list_offsets("orders", 0, "earliest"))], cluster


def kip101_scenario(truncation: str, seed: int = 5) -> tuple[list[bytes], EmbeddedCluster]:
    """KIP-101's first scenario (the ZooKeeper era, before KIP-903): a follower that has m2 but not yet the
    high watermark that covers it restarts, and its leader dies before it fetches again."""
    cluster = EmbeddedCluster(seed=seed, brokers=2, truncation=truncation, fence_restarted_brokers=False)
    cluster.create_topic("orders", partitions=1, replication_factor=2, config={"min.insync.replicas": 1})
    cluster.produce("orders", "m1")
    cluster.produce("orders", "m2")  # acknowledged: both replicas have it, the follower's HW is still 1
    leader = cluster.partitions_for("orders")[0]
    follower = 1 - leader
    state = cluster.brokers[follower].broker.replica_manager.partitions[("orders", 0)]
    cluster.sim.record("lab.follower_before_restart", f"broker-{follower}", log_end_offset=state.log_end_offset,
                       high_watermark=state.high_watermark)
    cluster.network.partition([f"broker-{follower}"], [f"broker-{leader}"])
    cluster.crash_broker(follower)
    cluster.restart_broker(follower)
    cluster.advance(100)
    cluster.crash_broker(leader)
    cluster.advance(12_000)
    try:
        values = [r.value for r in cluster.fetch("orders", 0, 0)]
    except KafkaError:
        values = []
    return values, cluster


def kip101_divergence_scenario(truncation: str, seed: int = 5) -> tuple[dict[int, list[bytes]], EmbeddedCluster]:
    """KIP-101's second scenario, replica divergence: both replicas lose power at once. The follower
    had not flushed ``m2``; it comes back first and leads, and takes ``m3`` at offset 1. The old
    leader comes back holding ``m2`` at offset 1 with a high watermark of 2, so truncating to the high
    watermark keeps it — the two replicas now disagree on offset 1 for good. Returns each broker's log."""
    cluster = EmbeddedCluster(seed=seed, brokers=2, truncation=truncation, fence_restarted_brokers=False)
    cluster.create_topic("orders", partitions=1, replication_factor=2, config={"min.insync.replicas": 1})
    cluster.produce("orders", "m1")
    cluster.produce("orders", "m2")
    cluster.advance(1_000)  # both replicas have m1 and m2, and a high watermark of 2
    leader = cluster.partitions_for("orders")[0]
    follower = 1 - leader
    cluster.power_failure(leader, {})
    cluster.power_failure(follower, {("orders", 0): 1})  # m2 was still in the follower's page cache
    cluster.restart_broker(follower)
    cluster.advance(12_000)  # the old leader is fenced; the follower, still in the ISR, is elected
    cluster.produce("orders", "m3")  # offset 1 on the new leader, in the new leader epoch
    cluster.restart_broker(leader)
    cluster.advance(5_000)
    logs = {b: [r.value for r in cluster.brokers[b].broker.logs[("orders", 0)].read(0)] for b in (leader, follower)}
    return logs, cluster
