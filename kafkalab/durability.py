"""The durability lab: which settings lose acknowledged records, under which faults.

The course notes say that with replication factor N a topic survives N-1 broker losses. That is
true only under conditions: the producer must wait for the in-sync replicas (``acks=all``), the
ISR must not be allowed to shrink to one (``min.insync.replicas`` ≥ 2), and an out-of-sync replica
must never be elected (``unclean.leader.election.enable=false``). :func:`durability_run` writes
records through a seeded schedule of broker crashes, restarts and network partitions and counts:

* **acknowledged lost** — the producer was told "written", and the record is not in the log at
  the end (after every broker came back): a durability failure;
* **unavailable** — acknowledged records that cannot be read at the end because the partition has no
  leader (no in-sync replica is left, and unclean election is off): not lost, but not servable;
* **not acknowledged** — writes refused or timed out (NOT_ENOUGH_REPLICAS, no leader…): the
  price of safety, paid in availability.

:func:`durability_table` runs every combination over many seeds.

Kafka: the replication design in the Kafka documentation ("Replication", "Unclean leader
election", "Availability and Durability Guarantees"); KIP-101, KIP-966.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterable

from kafkalab.cluster import EmbeddedCluster
from kafkalab.cluster_lab import replication_events
from kafkalab.errors import KafkaError


@dataclass(frozen=True)
class Settings:
    acks: int = -1  # -1 (all), 1 or 0
    replication_factor: int = 3
    min_insync_replicas: int = 2
    unclean: bool = False

    def label(self) -> str:
        acks = "all" if self.acks == -1 else str(self.acks)
        return (f"acks={acks} RF={self.replication_factor} min.insync.replicas={self.min_insync_replicas}"
                f"{' unclean' if self.unclean else ''}")


@dataclass
class DurabilityResult:
    settings: Settings
    seed: int
    attempted: int
    acknowledged: int
    acknowledged_lost: list[bytes]
    faults: list[str]
    cluster: EmbeddedCluster
    offline: bool = False  # the partition had no leader at the end: nothing could be read
    acknowledged_values: list[bytes] = field(default_factory=list)  # in the order they were acknowledged

    @property
    def lost(self) -> int:
        return len(self.acknowledged_lost)


def fault_schedule(rng: random.Random, cluster: EmbeddedCluster, down: set[int], max_down: int, disk_losses: list[int] | None = None) -> str | None:
    """One random fault (or recovery), applied now; returns what happened. While ``disk_losses[0]`` > 0,
    half the crashes also lose the broker's disk (its logs come back empty) and use up one."""
    fault = rng.random()
    if fault < 0.15 and len(down) < max_down:
        victim = rng.choice(sorted(set(cluster.brokers) - down))
        down.add(victim)
        if disk_losses and disk_losses[0] > 0 and rng.random() < 0.5:
            disk_losses[0] -= 1
            cluster.wipe_broker(victim)
            return f"crash broker {victim}, losing its disk"
        cluster.crash_broker(victim)
        return f"crash broker {victim}"
    if fault < 0.3 and down:
        back = rng.choice(sorted(down))
        cluster.restart_broker(back)
        down.discard(back)
        return f"restart broker {back}"
    if fault < 0.38:
        a, b = rng.sample(sorted(cluster.brokers), 2)
        cluster.network.partition([f"broker-{a}"], [f"broker-{b}"])
        return f"cut broker {a} from broker {b}"
    if fault < 0.5:
        cluster.network.heal()
        return "heal the network"
    return None


def durability_run(settings: Settings, seed: int, writes: int = 40, brokers: int = 3, max_down: int = 2, disk_losses: int = 0,
                   prepare: Callable[[EmbeddedCluster], None] | None = None) -> DurabilityResult:
    """Write ``writes`` records through a seeded fault schedule (at most ``max_down`` brokers down at
    once, at most ``disk_losses`` crashes that lose a disk); count acknowledged records lost.
    ``prepare(cluster)`` runs first (tests add invariants)."""
    rng = random.Random(seed)
    cluster = EmbeddedCluster(seed=seed, brokers=brokers)
    cluster.create_topic("ledger", partitions=1, replication_factor=settings.replication_factor, config={
        "min.insync.replicas": settings.min_insync_replicas,
        "unclean.leader.election.enable": str(settings.unclean).lower()})
    if prepare is not None:
        prepare(cluster)
    acknowledged: list[bytes] = []
    faults: list[str] = []
    down: set[int] = set()
    budget = [disk_losses]
    for step in range(writes):
        value = f"entry-{step}".encode()
        try:
            cluster.produce("ledger", value, acks=settings.acks)
            acknowledged.append(value)
        except KafkaError:
            pass  # refused or timed out: not acknowledged
        what = fault_schedule(rng, cluster, down, max_down, budget)
        if what is not None:
            faults.append(f"{cluster.now_ms / 1000:.1f} s: {what}")
        cluster.advance(rng.randint(100, 6_000))
    for broker_id in sorted(down):
        cluster.restart_broker(broker_id)
    cluster.network.heal()
    cluster.advance(60_000)
    stored = _stored(cluster)
    if stored is None:
        return DurabilityResult(settings, seed, writes, len(acknowledged), [], faults, cluster, offline=True, acknowledged_values=acknowledged)
    lost = [v for v in acknowledged if v not in stored]
    return DurabilityResult(settings, seed, writes, len(acknowledged), lost, faults, cluster, acknowledged_values=acknowledged)


def _stored(cluster: EmbeddedCluster) -> set[bytes] | None:
    """Every value in the partition, or None if it has no leader (offline)."""
    if cluster.partitions_for("ledger")[0] < 0:
        return None
    try:
        start = cluster.list_offsets("ledger", 0, "earliest")
        return {r.value for r in cluster.fetch("ledger", 0, start) if r.value is not None}
    except KafkaError:
        return None


@dataclass(frozen=True)
class TableRow:
    settings: Settings
    runs: int
    acknowledged: int
    acknowledged_lost: int
    runs_with_loss: int
    runs_offline: int
    not_acknowledged: int


def durability_table(all_settings: Iterable[Settings], seeds: Iterable[int], max_down: int = 2, disk_losses: int = 0) -> list[TableRow]:
    rows = []
    seeds = list(seeds)
    for settings in all_settings:
        results = [durability_run(settings, seed, max_down=max_down, disk_losses=disk_losses) for seed in seeds]
        rows.append(TableRow(settings, len(results), sum(r.acknowledged for r in results), sum(r.lost for r in results),
                             sum(1 for r in results if r.lost), sum(1 for r in results if r.offline),
                             sum(r.attempted - r.acknowledged for r in results)))
    return rows


def loss_story(result: DurabilityResult) -> list[str]:
    """How a run lost (or kept) its acknowledged records, in a dozen lines: the faults, elections,
    ISR changes and truncations, in time order — the minimal trace the chapter shows."""
    lost = ", ".join(v.decode() for v in result.acknowledged_lost[:5]) or "nothing"
    return replication_events(result.cluster, "ledger") + [f"acknowledged but lost: {lost}"]
