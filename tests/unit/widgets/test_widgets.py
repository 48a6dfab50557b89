"""The widgets' plain-data parts, and that the widgets build and react (no browser needed)."""

from __future__ import annotations

from kafkalab.partitioner import partition_for_key
from kafkalab.record import CompressionType, decode_batch
from kafkalab.widgets.batch_explorer import BatchExplorer, batch_bytes
from kafkalab.widgets.key_explorer import KeyExplorer, key_partition_row, keys_moved
from kafkalab.widgets.log_explorer import LogExplorer, LogExplorerModel


def test_key_rows_follow_kafkas_formula() -> None:
    row = key_partition_row("foobar", 6)
    assert row["murmur2"] == -790332482 and row["partition"] == partition_for_key(b"foobar", 6)
    assert key_partition_row("k", 1)["notes_formula"] == "division by zero"
    moved = keys_moved([f"k{i}" for i in range(50)], 6, 6)
    assert not any(r["moved"] for r in moved)
    assert any(r["moved"] for r in keys_moved([f"k{i}" for i in range(50)], 6, 7))


def test_log_explorer_model_deletes_segments_but_keeps_offsets() -> None:
    model = LogExplorerModel(seed=1, retention_days=1)
    model.append(30)
    end = model.summary()["log_end_offset"]
    model.advance_days(3)
    summary = model.summary()
    assert summary["log_start_offset"] == summary["log_end_offset"] == end == 30
    assert summary["segments_deleted"] > 0 and "deleted" in model.html()


def test_log_explorer_slider_changes_the_view() -> None:
    box = LogExplorer(seed=1, retention_days=7)
    slider, view = box.children[0], box.children[2]
    before = view.value
    slider.value = 0
    assert view.value != before and box.model_state.summary()["log_start_offset"] > 0


def test_batch_bytes_decode_and_compression_changes_size() -> None:
    plain = batch_bytes("k", "v" * 100, "h", CompressionType.NONE, copies=10)
    packed = batch_bytes("k", "v" * 100, "h", CompressionType.GZIP, copies=10)
    assert decode_batch(plain).record_count == 10 and len(packed) < len(plain)
    box = BatchExplorer()
    view = box.children[-1]
    before = view.value
    box.children[0].value = 5
    assert view.value != before


def test_key_explorer_reacts_to_the_slider() -> None:
    box = KeyExplorer()
    before = box.children[2].value
    box.children[0].value = 7
    assert box.children[2].value != before and "6 → 7 partitions" in box.children[2].value


def test_producer_timeline_reacts_and_batches() -> None:
    from kafkalab.producer.experiments import batching_experiment, retry_storm
    from kafkalab.widgets.producer_timeline import ProducerTimeline

    eager, patient = batching_experiment(0, 16384), batching_experiment(20, 16384)
    assert eager.requests > patient.requests and eager.mean_latency_ms < patient.mean_latency_ms
    assert retry_storm(True).duplicates == 0 and retry_storm(True).out_of_order == 0
    box = ProducerTimeline()
    before = box.children[2].value
    box.children[0].value = 20
    assert box.children[2].value != before and "linger.ms=20" in box.children[2].value


def test_retry_storm_widget_reacts() -> None:
    from kafkalab.widgets.producer_timeline import RetryStorm

    box = RetryStorm(drop_percent=20)
    before = box.children[2].value
    box.children[1].value = True
    assert box.children[2].value != before and "0 duplicate(s), 0 out of order" in box.children[2].value
