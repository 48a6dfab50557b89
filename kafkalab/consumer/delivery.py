"""Delivery semantics: what a consumer application's *commit strategy* does when it crashes.

A consumer application loops: poll, process each record, commit. Where it commits decides what
a crash costs:

* **at-most-once** — commit *before* processing. A crash after the commit and before the
  processing finishes loses those records: the next owner starts after them.
* **at-least-once** — commit *after* processing. A crash after processing and before the commit
  repeats those records: the next owner starts from the last commit. No loss, some duplicates.
* **auto-commit** (``enable.auto.commit=true``, the default) commits, inside ``poll()``, what the
  *previous* polls returned. With processing done before the next poll, that is at-least-once.
* **exactly-once** needs the output and the offsets to commit together (transactions) — or an
  idempotent output; a consumer alone cannot do it.

A strategy here is a function ``strategy(records, process, commit)``: it calls ``process(record)``
for each record and ``commit()`` (the positions after this poll, as ``commitSync()`` does) or
``commit(offsets)`` where it wants. :class:`ConsumerApp` runs it on the simulator: each
``process`` takes simulated time, each commit waits for the broker's answer, and a crash can
land between any two steps. :func:`check_delivery` compares what was produced with what was
processed and counts lost, duplicated and reordered records.

Kafka: the "Consumer" section of the Kafka documentation (delivery semantics), KafkaConsumer's
javadoc ("Manual Offset Control"), KIP-98 (exactly-once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from kafkalab.consumer.consumer import ConsumerRecord

if TYPE_CHECKING:
    from kafkalab.cluster import EmbeddedCluster
    from kafkalab.consumer.consumer import KafkaConsumer

TopicPartition = tuple[str, int]
Process = Callable[[ConsumerRecord], None]
Commit = Callable[..., None]
Strategy = Callable[[list[ConsumerRecord], Process, Commit], None]


# -- commit strategies ------------------------------------------------------------------------------
def at_most_once(records: list[ConsumerRecord], process: Process, commit: Commit) -> None:
    """Commit first, then process: a crash while processing loses the rest of the batch."""
    commit()
    for record in records:
        process(record)


def at_least_once(records: list[ConsumerRecord], process: Process, commit: Commit) -> None:
    """Handle one poll's records so that a crash never loses one, and repeats at most this poll's records."""
    # BEGIN EXERCISE ex08_at_least_once
    for record in records:
        process(record)
    commit()
    # END EXERCISE


def never_commit(records: list[ConsumerRecord], process: Process, commit: Commit) -> None:
    """Process and never commit: nothing is lost, but every restart starts over (auto.offset.reset)."""
    for record in records:
        process(record)


STRATEGIES: dict[str, Strategy] = {
    "at-most-once": at_most_once,
    "at-least-once": at_least_once,
    "never-commit": never_commit,
}


# -- the history --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Processed:
    """One record processed by one application instance (its side effect happened)."""

    time_ms: int
    instance: str
    topic: str
    partition: int
    offset: int
    value: Any


@dataclass
class DeliveryReport:
    produced: int
    processed: int
    lost: list[tuple[str, int, int]] = field(default_factory=list)
    duplicated: dict[tuple[str, int, int], int] = field(default_factory=dict)  # (topic, partition, offset) -> extra copies
    out_of_order: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(self.duplicated.values())

    @property
    def exactly_once(self) -> bool:
        return not self.lost and not self.duplicated and not self.out_of_order

    def summary(self) -> str:
        return (f"{self.produced} produced, {self.processed} processed: {len(self.lost)} lost, "
                f"{self.duplicates} duplicates, {len(self.out_of_order)} out of order")

    def __repr__(self) -> str:
        return f"DeliveryReport({self.summary()})"


def check_delivery(produced: Iterable[tuple[str, int, int]], processed: Iterable[Processed]) -> DeliveryReport:
    """Compare records produced (topic, partition, offset) with the processing history.

    *lost*: produced, never processed. *duplicated*: processed more than once (count of extra
    copies). *out of order*: within a partition, a record whose **first** processing came before
    the first processing of an earlier offset (re-processing after a crash is a duplicate, not a
    reordering).
    """
    produced_set = sorted(set(produced))
    history = list(processed)
    counts: dict[tuple[str, int, int], int] = {}
    first_seen: dict[tuple[str, int, int], int] = {}
    for index, entry in enumerate(history):
        key = (entry.topic, entry.partition, entry.offset)
        counts[key] = counts.get(key, 0) + 1
        first_seen.setdefault(key, index)
    report = DeliveryReport(len(produced_set), len(history))
    report.lost = [key for key in produced_set if key not in counts]
    report.duplicated = {key: count - 1 for key, count in sorted(counts.items()) if count > 1}
    by_partition: dict[TopicPartition, list[tuple[int, int]]] = {}
    for (topic, partition, offset), index in first_seen.items():
        by_partition.setdefault((topic, partition), []).append((offset, index))
    for (topic, partition), entries in sorted(by_partition.items()):
        latest_index = -1
        for offset, index in sorted(entries):
            if index < latest_index:
                report.out_of_order.append((topic, partition, offset))
            latest_index = max(latest_index, index)
    return report


# -- a consumer application on the simulator -------------------------------------------------------
class ConsumerApp:
    """A simulated application: ``poll(0)``, run the strategy step by step with processing time, repeat.

    ``crash()`` kills the process (its consumer stops mid-step: no LeaveGroup, no commit);
    ``restart()`` starts a fresh consumer with the same configuration (a new member of the group,
    or the same static member if ``group.instance.id`` is set).
    """

    def __init__(self, cluster: EmbeddedCluster, name: str, topics: Iterable[str], strategy: Strategy | str = "at-least-once",
                 config: Mapping[str, Any] | None = None, processing_ms: int = 20, poll_interval_ms: int = 50,
                 history: list[Processed] | None = None, strict: bool = False, **consumer_seams: Any) -> None:
        """``strict``: an exception in the strategy stops the simulation (graders); otherwise it is logged in ``errors``."""
        self.cluster = cluster
        self.strict = strict
        self.name = name
        self.topics = tuple(topics)
        settings = {"group.id": "app", "auto.offset.reset": "earliest", "enable.auto.commit": False}
        settings.update(config or {})
        if strategy == "auto-commit":  # enable.auto.commit: poll() commits what the previous polls returned
            strategy, settings["enable.auto.commit"] = never_commit, True
        if isinstance(strategy, str) and strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join([*STRATEGIES, 'auto-commit'])} or a function")
        self.strategy: Strategy = STRATEGIES[strategy] if isinstance(strategy, str) else strategy
        self.config = settings
        self.processing_ms = processing_ms
        self.poll_interval_ms = poll_interval_ms
        self.history: list[Processed] = [] if history is None else history
        self.consumer_seams = consumer_seams
        self.incarnation = 0
        self.consumer: KafkaConsumer | None = None
        self.errors: list[str] = []
        self.running = False
        self.processed = 0  # by every incarnation
        self.crash_after: int | None = None  # crash right after the n-th record processed (a side effect done)
        self.on_crash: Callable[[ConsumerApp], None] | None = None
        self.on_process: Callable[[ConsumerRecord], None] | None = None  # the side effect of processing, if any

    @property
    def instance(self) -> str:
        return f"{self.name}#{self.incarnation}"

    def start(self) -> ConsumerApp:
        self.incarnation += 1
        self.consumer = self.cluster.consumer(self.config, name=f"{self.name}-{self.incarnation}", **self.consumer_seams)
        self.consumer.subscribe(self.topics)
        self.running = True
        self.cluster.sim.record("app.start", self.consumer.node_id, strategy=getattr(self.strategy, "__name__", "strategy"))
        self.consumer.set_timer(0, self._loop)
        return self

    def crash(self) -> None:
        """The process dies now, wherever it is in its loop."""
        if self.consumer is not None and self.running:
            self.running = False
            self.consumer.crash()

    def restart(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is running; crash or stop it first")
        self.start()

    def stop(self) -> None:
        """A clean shutdown: close() commits (with auto-commit) and leaves the group."""
        if self.consumer is not None and self.running:
            self.running = False
            self.consumer.close()

    def pause(self) -> None:
        """Stuck in processing: no more poll() calls (the heartbeats go on, until max.poll.interval.ms)."""
        self.running = False

    def resume(self) -> None:
        if not self.running and self.consumer is not None and self.consumer.alive and not self.consumer.closed:
            self.running = True
            self.consumer.set_timer(0, self._loop)

    # -- the loop, as events ------------------------------------------------------------------
    def _loop(self) -> None:
        consumer = self.consumer
        if not self.running or consumer is None or not consumer.alive:
            return
        try:
            records = list(consumer.poll(0))
        except Exception as error:  # noqa: BLE001 - an application logs and carries on
            self.errors.append(f"{self.instance}: poll: {error}")
            consumer.set_timer(self.poll_interval_ms, self._loop)
            return
        if not records:
            consumer.set_timer(self.poll_interval_ms, self._loop)
            return
        steps: list[tuple[str, Any]] = []
        positions = consumer.subscriptions.all_consumed()

        def process(record: ConsumerRecord) -> None:
            steps.append(("process", record))

        def commit(offsets: Mapping[TopicPartition, int] | None = None) -> None:
            steps.append(("commit", dict(positions if offsets is None else offsets)))

        try:
            self.strategy(records, process, commit)
        except Exception as error:  # noqa: BLE001 - a learner's strategy: report, do not crash the simulation
            if self.strict:
                raise
            self.errors.append(f"{self.instance}: the strategy raised {type(error).__name__}: {error}")
            self.running = False
            return
        self._run_steps(consumer, steps, 0)

    def _run_steps(self, consumer: KafkaConsumer, steps: list[tuple[str, Any]], index: int) -> None:
        if not self.running or not consumer.alive:
            return
        if index == len(steps):
            consumer.set_timer(0, self._loop)
            return
        kind, payload = steps[index]
        if kind == "process":
            def done() -> None:
                if self.on_process is not None:
                    self.on_process(payload)
                self.history.append(Processed(self.cluster.sim.now_ms, self.instance, payload.topic, payload.partition,
                                              payload.offset, payload.value))
                if not _processed_one(self, consumer.node_id):
                    self._run_steps(consumer, steps, index + 1)

            consumer.set_timer(self.processing_ms, done)
        else:
            def committed(_offsets: Any, error: Exception | None) -> None:
                if error is not None:
                    self.errors.append(f"{self.instance}: commit: {error}")
                if consumer.alive and self.running:
                    consumer.set_timer(0, self._run_steps, consumer, steps, index + 1)

            consumer.commit_async(payload, committed)


@dataclass
class DeliveryRun:
    report: DeliveryReport
    history: list[Processed]
    errors: list[str]
    cluster: Any


def run_delivery_scenario(strategy: Strategy | str, seed: int = 0, records: int = 60, partitions: int = 3, consumers: int = 2,
                          crashes: Iterable[tuple[int, int]] = ((0, 12), (1, 23)), restart_after_ms: int = 1000,
                          processing_ms: int = 20, config: Mapping[str, Any] | None = None, settle_ms: int = 120_000,
                          strict: bool = False, **consumer_seams: Any) -> DeliveryRun:
    """Produce ``records`` to a topic, run ``consumers`` applications with ``strategy`` in one group,
    and for each ``(app, n)`` in ``crashes`` crash application ``app`` right after it has processed
    its ``n``-th record (counting across restarts), restarting it ``restart_after_ms`` later. Let the
    group settle for ``settle_ms`` and check the history."""
    from kafkalab.cluster import EmbeddedCluster

    cluster = EmbeddedCluster(seed=seed, brokers=1)
    cluster.create_topic("events", partitions=partitions)
    produced = [cluster.produce("events", f"event-{i}", key=f"key-{i % 7}") for i in range(records)]
    history: list[Processed] = []
    settings = {"session.timeout.ms": 10_000, "heartbeat.interval.ms": 1_000, "max.poll.interval.ms": 30_000, "max.poll.records": 5}
    settings.update(config or {})
    apps = [ConsumerApp(cluster, f"app-{i}", ["events"], strategy, settings, processing_ms=processing_ms, history=history,
                        strict=strict, **consumer_seams) for i in range(consumers)]
    _start_with_crashes(cluster, apps, crashes, restart_after_ms)
    cluster.advance(settle_ms)
    report = check_delivery([(r.topic, r.partition, r.offset) for r in produced], history)
    return DeliveryRun(report, history, [e for app in apps for e in app.errors], cluster)


def _processed_one(app: Any, node_id: str) -> bool:
    """Count a processed record; crash the app if that was its ``crash_after``-th (True: it crashed)."""
    app.processed += 1
    if app.crash_after is None or app.processed < app.crash_after:
        return False
    app.crash_after = None
    app.cluster.sim.record("app.crash", node_id, after_processed=app.processed)
    app.crash()
    if app.on_crash is not None:
        app.on_crash(app)
    return True


def _start_with_crashes(cluster: EmbeddedCluster, apps: list[Any], crashes: Iterable[tuple[int, int]], restart_after_ms: int) -> None:
    """Start the apps; for each ``(app index, n)`` crash that app right after its n-th processed record
    (counting across restarts) and restart it ``restart_after_ms`` later."""
    schedule: dict[int, list[int]] = {}
    for index, after in sorted(crashes):
        schedule.setdefault(index, []).append(after)

    def arm(app: Any) -> None:
        pending = schedule.get(apps.index(app), [])
        app.crash_after = pending.pop(0) if pending else None

    def crashed(app: Any) -> None:
        cluster.sim.schedule(restart_after_ms, app.restart, label=f"restart {app.name}")
        arm(app)

    for app in apps:
        app.on_crash = crashed
        arm(app)
        app.start()


# -- exactly-once: read, process, write — in one transaction ------------------------------------------
class TransactionalApp:
    """A read-process-write application (Kafka's exactly-once pattern, KIP-98 / KIP-447).

    Each poll's records are processed into output records **and** the consumed offsets are
    committed in one producer transaction: ``begin_transaction`` → ``send`` each result →
    ``send_offsets_to_transaction(positions, consumer.group_metadata())`` → ``commit_transaction``.
    A crash leaves the transaction open; the restarted instance (same ``transactional.id``) fences
    the old epoch and the coordinator aborts it, so its outputs are never seen by ``read_committed``
    readers and its offsets never count. Outputs name their source: ``"<partition>:<offset>:<value>"``.
    """

    def __init__(self, cluster: EmbeddedCluster, name: str, source: str, sink: str, config: Mapping[str, Any] | None = None,
                 processing_ms: int = 20, poll_interval_ms: int = 50, strict: bool = False) -> None:
        self.cluster, self.name, self.source, self.sink = cluster, name, source, sink
        settings = {"group.id": "eos-app", "auto.offset.reset": "earliest", "enable.auto.commit": False,
                    "isolation.level": "read_committed"}
        settings.update(config or {})
        self.config = settings
        self.processing_ms, self.poll_interval_ms, self.strict = processing_ms, poll_interval_ms, strict
        self.incarnation = 0
        self.consumer: KafkaConsumer | None = None
        self.producer: Any = None
        self.running = False
        self.processed = 0
        self.crash_after: int | None = None
        self.on_crash: Callable[[TransactionalApp], None] | None = None
        self.errors: list[str] = []

    def start(self) -> TransactionalApp:
        self.incarnation += 1
        self.consumer = self.cluster.consumer(self.config, name=f"{self.name}-{self.incarnation}")
        self.consumer.subscribe([self.source])
        self.producer = self.cluster.producer({"transactional.id": f"{self.name}-txn", "linger.ms": 0})
        self.running = True
        self.consumer.set_timer(0, self._init)
        return self

    def _init(self) -> None:
        result = self.producer.init_transactions()
        result.on_done(lambda error: self._loop() if error is None else self._fail(f"init_transactions: {error}"))

    def crash(self) -> None:
        if self.running and self.consumer is not None:
            self.running = False
            self.consumer.crash()
            self.producer.crash()

    def restart(self) -> None:
        if not self.running:
            self.start()

    def _fail(self, message: str) -> None:
        self.errors.append(f"{self.name}#{self.incarnation}: {message}")
        if self.running and self.consumer is not None and self.consumer.alive:
            self.consumer.set_timer(self.poll_interval_ms * 4, self._init if "init" in message else self._loop)

    def _loop(self) -> None:
        consumer, producer = self.consumer, self.producer
        if not self.running or consumer is None or not consumer.alive:
            return
        records = list(consumer.poll(0))
        if not records:
            consumer.set_timer(self.poll_interval_ms, self._loop)
            return
        positions = consumer.subscriptions.all_consumed()
        producer.begin_transaction()
        self._process(records, 0, positions)

    def _process(self, records: list[ConsumerRecord], index: int, positions: dict[TopicPartition, int]) -> None:
        consumer, producer = self.consumer, self.producer
        if not self.running or consumer is None or not consumer.alive:
            return
        if index < len(records):
            def done() -> None:
                record = records[index]
                value = record.value.decode() if isinstance(record.value, bytes) else str(record.value)
                producer.send(self.sink, f"{record.partition}:{record.offset}:{value}", key=record.key)
                if not _processed_one(self, consumer.node_id):
                    self._process(records, index + 1, positions)

            consumer.set_timer(self.processing_ms, done)
            return
        producer.send_offsets_to_transaction(positions, consumer.group_metadata())
        producer.commit_transaction().on_done(self._committed)

    def _committed(self, error: Exception | None) -> None:
        if not self.running or self.consumer is None or not self.consumer.alive:
            return
        if error is None:
            self.consumer.set_timer(0, self._loop)
            return
        self.errors.append(f"{self.name}#{self.incarnation}: commit_transaction: {error}")
        if getattr(error, "error_name", "") in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"):
            self.running = False  # a newer instance owns the transactional.id: this one must stop
            return
        # The group rebalanced under us: abort, rewind to the committed offsets, carry on.
        self.producer.abort_transaction().on_done(lambda _e: self._rewind())

    def _rewind(self) -> None:
        """After an abort, read again from the group's committed offsets (what the aborted transaction had)."""
        if self.consumer is not None and self.consumer.alive:
            self.consumer.reset_to_committed()
            self.consumer.set_timer(0, self._loop)


def read_outputs(cluster: EmbeddedCluster, topic: str, partitions: int, isolation: str = "read_committed",
                 **consumer_seams: Any) -> list[ConsumerRecord]:
    """Everything a fresh consumer with ``isolation`` reads from ``topic`` now."""
    reader = cluster.consumer({"isolation.level": isolation, "auto.offset.reset": "earliest"}, **consumer_seams)
    reader.assign([(topic, p) for p in range(partitions)])
    records: list[ConsumerRecord] = []
    for _ in range(50):
        batch = list(reader.poll(700))
        records += batch
        if not batch and all(reader.position((topic, p)) >= cluster.list_offsets(topic, p) for p in range(partitions)):
            break
    reader.close()
    return records


def outputs_as_history(outputs: Iterable[ConsumerRecord], source: str) -> list[Processed]:
    """Output records ``"<partition>:<offset>:<value>"`` as a processing history of the source topic."""
    history = []
    for record in outputs:
        text = record.value.decode() if isinstance(record.value, bytes) else str(record.value)
        partition, offset, value = text.split(":", 2)
        history.append(Processed(record.timestamp, "output", source, int(partition), int(offset), value))
    return history


def run_exactly_once_scenario(seed: int = 0, records: int = 60, partitions: int = 3, apps: int = 2,
                              crashes: Iterable[tuple[int, int]] = ((0, 12), (1, 23)), restart_after_ms: int = 1000,
                              transactional: bool = True, settle_ms: int = 120_000, **reader_seams: Any) -> DeliveryRun:
    """Read "events", write "results" in transactions, crash apps mid-transaction; check "results"
    as a read_committed consumer sees it. ``transactional=False`` runs the same loop with plain
    at-least-once commits, for contrast."""
    from kafkalab.cluster import EmbeddedCluster

    cluster = EmbeddedCluster(seed=seed, brokers=2)
    cluster.create_topic("events", partitions=partitions)
    cluster.create_topic("results", partitions=partitions)
    produced = [cluster.produce("events", f"event-{i}", key=f"key-{i % 7}") for i in range(records)]
    settings = {"session.timeout.ms": 10_000, "heartbeat.interval.ms": 1_000, "max.poll.interval.ms": 30_000, "max.poll.records": 5}
    if transactional:
        runners: list[Any] = [TransactionalApp(cluster, f"app-{i}", "events", "results", settings) for i in range(apps)]
    else:
        runners = [_ForwardingApp(cluster, f"app-{i}", settings) for i in range(apps)]
    _start_with_crashes(cluster, runners, crashes, restart_after_ms)
    cluster.advance(settle_ms)
    outputs = read_outputs(cluster, "results", partitions, **reader_seams)
    history = outputs_as_history(outputs, "events")
    report = check_delivery([(r.topic, r.partition, r.offset) for r in produced], history)
    return DeliveryRun(report, history, [e for app in runners for e in app.errors], cluster)


def _ForwardingApp(cluster: EmbeddedCluster, name: str, config: Mapping[str, Any]) -> ConsumerApp:  # noqa: N802
    """At-least-once read-process-write without transactions: results are sent, then offsets committed."""
    app = ConsumerApp(cluster, name, ["events"], at_least_once, config)
    producers: dict[str, Any] = {}  # one producer per incarnation of the application

    def forward(record: ConsumerRecord) -> None:
        node = app.consumer.node_id if app.consumer is not None else name
        producer = producers.setdefault(node, cluster.producer({"linger.ms": 0}))
        value = record.value.decode() if isinstance(record.value, bytes) else str(record.value)
        producer.send("results", f"{record.partition}:{record.offset}:{value}", key=record.key)

    app.on_process = forward
    return app
