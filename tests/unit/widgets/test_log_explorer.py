"""Chapter 01's log explorer: its plain-data rows, its HTML, the replaying model and the widget."""

from __future__ import annotations

import pytest

from kafkalab.cluster import EmbeddedCluster, days, hours
from kafkalab.config import TopicConfig
from kafkalab.log import PartitionLog
from kafkalab.record import Record
from kafkalab.widgets.log_explorer import LogExplorer, LogExplorerModel, log_rows, segment_view_html


def small_log(count: int = 12) -> PartitionLog:
    log = PartitionLog("orders", 0, TopicConfig({"segment.bytes": 300}), 0)
    for i in range(count):
        log.append([Record(f"k{i}".encode(), b"v" * 20)], now_ms=i * 1000)
    return log


def test_rows_cover_every_offset_once_oldest_first() -> None:
    log = small_log()
    rows = log_rows(log, now_ms=20_000)
    assert [r["state"] for r in rows] == ["closed"] * (len(rows) - 1) + ["active"]
    held = [offset for r in rows for offset in range(r["base_offset"], r["last_offset"] + 1)]
    assert held == list(range(12)), "segments hold consecutive offsets, none twice"
    assert sum(r["size_in_bytes"] for r in rows) == log.size_in_bytes
    assert rows[-1]["newest_record_age_ms"] == 20_000 - 11_000
    assert [r["file_name"] for r in rows][0] == "00000000000000000000.log"


def test_rows_accept_describe_dicts_and_cluster_snapshots() -> None:
    log = small_log()
    assert log_rows(log.describe(), now_ms=5) == log_rows(log, now_ms=5)
    cluster = EmbeddedCluster(seed=4)
    cluster.create_topic("a", partitions=2, config={"segment.bytes": 300})
    for i in range(6):
        cluster.produce("a", f"v{i}", partition=1)
    snapshot = cluster.describe()
    rows = log_rows(snapshot, topic="a", partition=1)
    assert sum(r["records"] for r in rows) == 6
    assert all(r["newest_record_age_ms"] >= 0 for r in rows if r["records"]), "the snapshot's now_ms is used"
    assert log_rows(snapshot, topic="a", partition=0)[0]["last_offset"] is None, "an empty segment holds no offsets"
    with pytest.raises(KeyError):
        log_rows(snapshot, topic="missing")
    with pytest.raises(TypeError):
        log_rows({"nothing": 1})


def test_html_shows_offsets_and_deleted_segments() -> None:
    model = LogExplorerModel(seed=1, retention_days=1)
    model.append(30)
    model.advance_days(2)
    page = segment_view_html(model.log, model.cluster.now_ms, deleted=model.deleted)
    assert "log start offset = 30" in page and "log end offset = 30" in page
    assert page.count("<i>deleted</i>") == len(model.deleted) > 0
    assert "offsets 0–" in page, "the first (deleted) segment still shows what it held"


def test_model_retention_deletes_whole_segments_and_keeps_offsets() -> None:
    model = LogExplorerModel(seed=2, segment_bytes=500, retention_days=3)
    model.append(30)
    before = model.summary()
    assert before["log_start_offset"] == 0 and before["log_end_offset"] == 30 and before["segments_deleted"] == 0
    model.advance_days(2)  # the oldest segment's newest record is now older than 3 days
    after = model.summary()
    assert 0 < after["log_start_offset"] < 30 and after["log_end_offset"] == 30
    assert after["log_start_offset"] == model.log.describe()["segments"][0]["base_offset"], "the log starts at a segment boundary"
    deleted = model.deleted
    assert deleted[-1]["next_offset"] == after["log_start_offset"]
    model.append(1)
    assert model.summary()["log_end_offset"] == 31, "offsets are never reused"


def test_changing_a_setting_replays_the_same_history() -> None:
    model = LogExplorerModel(seed=5, retention_days=7)
    model.append(20)
    model.advance_days(2)
    assert model.summary()["log_start_offset"] == 0
    model.set_retention_days(1)
    shorter = model.summary()
    assert shorter["records_appended"] == 20 and shorter["log_start_offset"] == 20 and shorter["day"] > 2
    model.set_retention_days(7)
    assert model.summary()["log_start_offset"] == 0, "a longer retention brings the replayed history back"
    segments_small = model.summary()["segments"]
    model.set_segment_bytes(2000)
    assert model.summary()["segments"] < segments_small, "bigger segments, fewer of them"


def test_same_seed_same_picture() -> None:
    one, two = LogExplorerModel(seed=9), LogExplorerModel(seed=9)
    for model in (one, two):
        model.append(25)
        model.advance_days(3)
    assert one.html() == two.html()
    assert one.cluster.trace.digest() == two.cluster.trace.digest()


def test_first_slider_is_retention_and_changes_the_text() -> None:
    import ipywidgets as widgets

    box = LogExplorer(seed=3, segment_bytes=500, retention_days=3)
    sliders = [w for w in _walk(box) if isinstance(w, widgets.IntSlider)]
    assert [s.description for s in sliders] == ["retention.ms (days)", "segment.bytes"]
    view = box.children[-1]
    before = view.value
    sliders[0].value += 1  # what the browser test's ArrowRight does
    assert view.value != before and "retention.ms = 4 days" in view.value
    before = view.value
    sliders[1].value = 1000
    assert view.value != before and "segment.bytes = 1000" in view.value


def test_buttons_append_and_advance() -> None:
    import ipywidgets as widgets

    box = LogExplorer(seed=3, retention_days=1, initial_records=0)
    append, advance = [w for w in _walk(box) if isinstance(w, widgets.Button)]
    append.click()
    assert box.model_state.summary()["log_end_offset"] == 10
    advance.click()
    advance.click()
    summary = box.model_state.summary()
    assert summary["log_start_offset"] == 10 and summary["segments_deleted"] >= 1
    assert "day 2.4" in box.children[-1].value


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_hours_and_days_helpers_match_kafka_defaults() -> None:
    assert days(7) == 604_800_000 == 168 * hours(1)
