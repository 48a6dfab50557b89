"""Chapter 02's bytes widget: build a record batch and read it byte by byte, field by field."""

from __future__ import annotations

from kafkalab.record import CompressionType, Header, Record, RecordBatch, dump_html, encode_batch


def batch_bytes(key: str, value: str, header: str, compression: CompressionType, copies: int = 1) -> bytes:
    """The encoded v2 batch for ``copies`` identical records (plain data for the widget and tests)."""
    headers = (Header("source", header.encode()),) if header else ()
    records = [Record(key.encode() if key else None, value.encode(), headers, timestamp=1_700_000_000_000 + i) for i in range(copies)]
    return encode_batch(RecordBatch.of(records, base_timestamp=1_700_000_000_000, compression=compression))


def BatchExplorer(key: str = "alice", value: str = "hello, kafka", header: str = "web"):  # noqa: N802
    """The widget: a record-count slider (first), key/value/header boxes, a codec menu, and the bytes."""
    import ipywidgets as widgets

    copies = widgets.IntSlider(value=1, min=1, max=20, description="records", continuous_update=False, style={"description_width": "initial"})
    key_box = widgets.Text(value=key, description="key")
    value_box = widgets.Text(value=value, description="value")
    header_box = widgets.Text(value=header, description="header")
    codec = widgets.Dropdown(options=[(c.codec_name, c) for c in CompressionType], value=CompressionType.NONE, description="compression")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        data = batch_bytes(key_box.value, value_box.value, header_box.value, codec.value, copies.value)
        view.value = f"<div style='font-family:monospace'>{len(data)} bytes for {copies.value} record(s), {codec.value.codec_name}</div>" + dump_html(data)

    for control in (copies, key_box, value_box, header_box, codec):
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([copies, widgets.HBox([key_box, value_box]), widgets.HBox([header_box, codec]), view])
