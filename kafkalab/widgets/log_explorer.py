"""Chapter 01's widget: append records, let days pass, and watch retention delete whole segments.

Three layers, only the last one imports ipywidgets:

* :func:`log_rows` turns a partition log (a ``PartitionLog``, its ``describe()`` dict, or an
  ``EmbeddedCluster.describe()`` snapshot) into plain rows, one per segment: offsets held, size,
  age of the newest record (what ``retention.ms`` is measured against) and its state.
  :func:`segment_view_html` draws those rows as boxes, oldest left, deleted segments greyed out.
* :class:`LogExplorerModel` keeps a *history* of the learner's actions (append records, let days
  pass) and replays it on a fresh seeded :class:`~kafkalab.cluster.EmbeddedCluster` whenever a
  setting changes. Moving the ``retention.ms`` or ``segment.bytes`` slider therefore answers "what
  would this partition look like now, had the topic been created with that setting?" — the broker,
  the log and retention do all the work; the model only records and replays.
* :func:`LogExplorer` is the ipywidgets front-end. Its FIRST slider is ``retention.ms`` (in days):
  moving it replays at once and the view changes (the browser test relies on that).

Kafka: what the boxes show is ``UnifiedLog``'s segment list (``kafka-log-dirs`` /
``kafka-dump-log`` on a real broker); retention runs every ``log.retention.check.interval.ms``.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from kafkalab.cluster import EmbeddedCluster, days, hours

TOPIC = "clicks"
MS_PER_DAY = days(1)


# -- plain data ---------------------------------------------------------------------------------
def _described_log(source: Any, topic: str | None, partition: int | None) -> tuple[dict[str, Any], int | None]:
    """Find one partition's ``describe()`` dict (and the snapshot's time, if any) in ``source``."""
    if hasattr(source, "describe") and not isinstance(source, Mapping):
        source = source.describe()
    if "partitions" in source:  # an EmbeddedCluster.describe() snapshot
        for entry in source["partitions"]:
            if (topic is None or entry["topic"] == topic) and (partition is None or entry["partition"] == partition):
                return entry, source.get("now_ms")
        raise KeyError(f"no partition {topic}-{partition} in the snapshot")
    if "segments" not in source:
        raise TypeError("expected a PartitionLog, its describe() dict, or an EmbeddedCluster.describe() snapshot")
    return source, None


def log_rows(
    source: Any,
    now_ms: int | None = None,
    topic: str | None = None,
    partition: int | None = None,
    deleted: list[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One plain row per segment, oldest first: deleted ones (if given), then those the log holds.

    ``source`` is a PartitionLog, its ``describe()`` dict, or a cluster snapshot (then ``topic`` and
    ``partition`` pick the log; its ``now_ms`` is used unless ``now_ms`` is given). Each row has
    ``file_name``, ``base_offset``, ``last_offset`` (None when empty), ``records``,
    ``size_in_bytes``, ``newest_record_age_ms`` (None when empty or when no time is known) and
    ``state``: ``"deleted"``, ``"closed"`` or ``"active"``.
    """
    described, snapshot_now_ms = _described_log(source, topic, partition)
    now = now_ms if now_ms is not None else snapshot_now_ms
    rows: list[dict[str, Any]] = []
    for segment, state in [(s, "deleted") for s in deleted or []] + [
        (s, "active" if s["active"] else "closed") for s in described["segments"]
    ]:
        has_records = segment["records"] > 0
        rows.append(
            {
                "file_name": segment["file_name"],
                "base_offset": segment["base_offset"],
                "last_offset": segment["next_offset"] - 1 if has_records else None,
                "records": segment["records"],
                "size_in_bytes": segment["size_in_bytes"],
                "newest_record_age_ms": now - segment["largest_timestamp"] if has_records and now is not None and state != "deleted" else None,
                "state": state,
            }
        )
    return rows


def _days(ms: int) -> str:
    return f"{ms / MS_PER_DAY:.1f} d"


def segment_view_html(
    source: Any,
    now_ms: int | None = None,
    topic: str | None = None,
    partition: int | None = None,
    deleted: list[Mapping[str, Any]] | None = None,
) -> str:
    """The rows of :func:`log_rows` as boxes, with the log start and end offsets above them."""
    described, _ = _described_log(source, topic, partition)
    boxes = []
    for row in log_rows(source, now_ms, topic, partition, deleted):
        colours = {"deleted": ("#eeeeee", "#999999"), "closed": ("#f1f8e9", "#222222"), "active": ("#e3f2fd", "#222222")}[row["state"]]
        offsets = f"offsets {row['base_offset']}–{row['last_offset']}" if row["last_offset"] is not None else "(empty)"
        age = f"newest record {_days(row['newest_record_age_ms'])} old" if row["newest_record_age_ms"] is not None else "&nbsp;"
        style = "text-decoration:line-through;" if row["state"] == "deleted" else ""
        boxes.append(
            f"<div style='border:1px solid #888;padding:4px;background:{colours[0]};color:{colours[1]};min-width:130px'>"
            f"<div style='{style}'>{html.escape(row['file_name'])}</div><div>{offsets}</div>"
            f"<div>{row['records']} records, {row['size_in_bytes']} B</div><div>{age}</div><div><i>{row['state']}</i></div></div>"
        )
    title = html.escape(f"{described['topic']}-{described['partition']}")
    return (
        f"<div style='font-family:monospace'><b>{title}</b> &nbsp; log start offset = {described['log_start_offset']}, "
        f"log end offset = {described['log_end_offset']}"
        f"<div style='display:flex;flex-wrap:wrap;gap:4px;margin-top:4px'>{''.join(boxes)}</div></div>"
    )


# -- the model: a history, replayed on a seeded cluster ------------------------------------------
class LogExplorerModel:
    """A seeded cluster with one topic, the learner's actions on it, and the segments retention removed."""

    def __init__(self, seed: int = 1, segment_bytes: int = 500, retention_days: float = 3) -> None:
        self.seed = seed
        self.segment_bytes = segment_bytes
        self.retention_days = retention_days
        self.history: list[tuple[str, float]] = []  # ("append", count) or ("advance", days)
        self._replay()

    def _replay(self) -> None:
        """Build a fresh cluster with the current settings and run the whole history on it."""
        self.cluster = EmbeddedCluster(seed=self.seed)
        self.cluster.create_topic(
            TOPIC, partitions=1, config={"segment.bytes": self.segment_bytes, "retention.ms": days(self.retention_days)}
        )
        self.appended = 0
        self._seen: dict[int, dict[str, Any]] = {}
        for action, amount in self.history:
            self._run(action, amount)

    def _remember_segments(self) -> None:
        for segment in self.log.describe()["segments"]:
            self._seen[segment["base_offset"]] = segment

    def _run(self, action: str, amount: float) -> None:
        if action == "append":
            for _ in range(int(amount)):
                self.cluster.produce(TOPIC, f"click-{self.appended}", partition=0)
                self.appended += 1
                self._remember_segments()
                self.cluster.advance(hours(1))  # one record an hour
        else:
            self._remember_segments()
            self.cluster.advance(days(amount))
        self._remember_segments()

    @property
    def log(self):
        return self.cluster.log(TOPIC, 0)

    @property
    def deleted(self) -> list[dict[str, Any]]:
        """Segments that held records and are gone (wholly below the log start offset), oldest first."""
        start = self.log.log_start_offset
        return [s for base, s in sorted(self._seen.items()) if s["records"] and s["next_offset"] <= start]

    # actions (each one is remembered, so a settings change can replay it)
    def append(self, count: int = 10) -> None:
        """Produce ``count`` records, one an hour."""
        self.history.append(("append", count))
        self._run("append", count)

    def advance_days(self, count: float = 1) -> None:
        """Let ``count`` simulated days pass (the broker checks retention every 5 minutes)."""
        self.history.append(("advance", count))
        self._run("advance", count)

    # settings (each one replays the history on a new cluster)
    def set_retention_days(self, retention_days: float) -> None:
        """Replay the history on a topic created with this retention.ms (in days)."""
        self.retention_days = retention_days
        self._replay()

    def set_segment_bytes(self, segment_bytes: int) -> None:
        """Replay the history on a topic created with this segment.bytes."""
        self.segment_bytes = segment_bytes
        self._replay()

    # looking
    def rows(self) -> list[dict[str, Any]]:
        """The view's plain data: deleted segments, then the log's, oldest first."""
        return log_rows(self.log, self.cluster.now_ms, deleted=self.deleted)

    def summary(self) -> dict[str, Any]:
        described = self.log.describe()
        return {
            "day": round(self.cluster.now_ms / MS_PER_DAY, 2),
            "retention_days": self.retention_days,
            "segment_bytes": self.segment_bytes,
            "records_appended": self.appended,
            "log_start_offset": described["log_start_offset"],
            "log_end_offset": described["log_end_offset"],
            "segments": len(described["segments"]),
            "segments_deleted": len(self.deleted),
        }

    def html(self) -> str:
        s = self.summary()
        header = (
            f"<div style='font-family:monospace;margin-bottom:4px'>day {s['day']:.2f} · retention.ms = {s['retention_days']:g} days"
            f" · segment.bytes = {s['segment_bytes']} · {s['records_appended']} records appended"
            f" · {s['segments_deleted']} segment(s) deleted by retention</div>"
        )
        return header + segment_view_html(self.log, self.cluster.now_ms, deleted=self.deleted[-4:])


# -- the widget ---------------------------------------------------------------------------------
def LogExplorer(seed: int = 1, segment_bytes: int = 500, retention_days: int = 3, initial_records: int = 30):  # noqa: N802 - reads like a class
    """Sliders for retention.ms (first) and segment.bytes, buttons to append and to let a day pass."""
    import ipywidgets as widgets

    model = LogExplorerModel(seed, segment_bytes, retention_days)
    if initial_records:
        model.append(initial_records)
    view = widgets.HTML(model.html())
    wide = {"description_width": "initial"}
    retention = widgets.IntSlider(value=retention_days, min=0, max=14, description="retention.ms (days)", continuous_update=False, style=wide)
    segment = widgets.IntSlider(value=segment_bytes, min=200, max=2000, step=100, description="segment.bytes", continuous_update=False, style=wide)
    append_button = widgets.Button(description="append 10 records")
    advance_button = widgets.Button(description="advance 1 day")

    def refresh() -> None:
        view.value = model.html()

    retention.observe(lambda change: (model.set_retention_days(change["new"]), refresh()), names="value")
    segment.observe(lambda change: (model.set_segment_bytes(change["new"]), refresh()), names="value")
    append_button.on_click(lambda _: (model.append(10), refresh()))
    advance_button.on_click(lambda _: (model.advance_days(1), refresh()))
    box = widgets.VBox([retention, widgets.HBox([segment, append_button, advance_button]), view])
    box.model_state = model  # for tests and curious learners
    return box
