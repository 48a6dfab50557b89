"""Chapter 01's widget: append records, let days pass, and watch retention delete whole segments.

The widget drives a seeded :class:`~kafkalab.cluster.EmbeddedCluster`; moving the retention slider
changes the topic's ``retention.ms`` and runs a retention check at once, so the picture changes
while the offsets of what is left stay the same.
"""

from __future__ import annotations

from typing import Any

from kafkalab.cluster import EmbeddedCluster, days, hours
from kafkalab.log.view import partition_log_html

TOPIC = "clicks"


class LogExplorerModel:
    """The logic-free state behind the widget: a cluster, a topic, and what retention removed."""

    def __init__(self, seed: int = 1, segment_bytes: int = 500, retention_days: int = 3) -> None:
        self.seed = seed
        self.segment_bytes = segment_bytes
        self.retention_days = retention_days
        self.appended = 0
        self.deleted: list[dict[str, Any]] = []
        self.cluster = EmbeddedCluster(seed=seed)
        self.cluster.create_topic(TOPIC, partitions=1, config={"segment.bytes": segment_bytes, "retention.ms": days(retention_days)})

    @property
    def log(self):
        return self.cluster.log(TOPIC, 0)

    def append(self, count: int = 10) -> None:
        for _ in range(count):
            self.cluster.produce(TOPIC, f"click-{self.appended}", partition=0)
            self.appended += 1
            self.cluster.advance(hours(1))

    def _remember_deleted(self, before: list[dict[str, Any]]) -> None:
        now = {segment["base_offset"] for segment in self.log.describe()["segments"]}
        self.deleted += [segment for segment in before if segment["base_offset"] not in now and segment["records"]]

    def advance_days(self, count: float = 1) -> None:
        before = self.log.describe()["segments"]
        self.cluster.advance(days(count))
        self._remember_deleted(before)

    def set_retention_days(self, retention_days: int) -> None:
        """Change retention.ms and run a retention check now (a stand-in for `kafka-configs --alter`, which a later chapter adds)."""
        before = self.log.describe()["segments"]
        self.retention_days = retention_days
        self.log.config = self.cluster.brokers[0].broker.config.topic_config(
            {"segment.bytes": self.segment_bytes, "retention.ms": days(retention_days)}
        )
        self.log.delete_retention_breached_segments(self.cluster.now_ms)
        self._remember_deleted(before)

    def summary(self) -> dict[str, Any]:
        described = self.log.describe()
        return {
            "day": round(self.cluster.now_ms / days(1), 2),
            "retention_days": self.retention_days,
            "records_appended": self.appended,
            "log_start_offset": described["log_start_offset"],
            "log_end_offset": described["log_end_offset"],
            "segments": len(described["segments"]),
            "segments_deleted": len(self.deleted),
        }

    def html(self) -> str:
        summary = self.summary()
        header = (
            f"<div style='font-family:monospace'>day {summary['day']} · retention.ms = {summary['retention_days']} days · "
            f"{summary['records_appended']} records appended · {summary['segments_deleted']} segment(s) deleted by retention</div>"
        )
        return header + partition_log_html(self.log.describe(), deleted=self.deleted[-4:])


def LogExplorer(seed: int = 1, segment_bytes: int = 500, retention_days: int = 3):  # noqa: N802 - reads like a class
    """The widget: a retention slider (first, so the browser test moves it), and buttons."""
    import ipywidgets as widgets

    model = LogExplorerModel(seed, segment_bytes, retention_days)
    model.append(30)
    view = widgets.HTML(model.html())
    retention = widgets.IntSlider(value=retention_days, min=0, max=7, description="retention (days)", continuous_update=False, style={"description_width": "initial"})
    append_button = widgets.Button(description="append 10 records")
    advance_button = widgets.Button(description="advance 1 day")

    def refresh() -> None:
        view.value = model.html()

    retention.observe(lambda change: (model.set_retention_days(change["new"]), refresh()), names="value")
    append_button.on_click(lambda _: (model.append(10), refresh()))
    advance_button.on_click(lambda _: (model.advance_days(1), refresh()))
    box = widgets.VBox([retention, widgets.HBox([append_button, advance_button]), view])
    box.model_state = model  # for tests and curious learners
    return box
