"""Chapter 02's key widget: type a key, see murmur2 → toPositive → partition; change the partition count.

Also shows the course notes' wrong formula side by side, and which sample keys move when the
partition count changes.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

from kafkalab.partitioner import murmur2, partition_for_key, to_positive
from kafkalab.partitioner.misconception import notes_formula

SAMPLE_KEYS = [f"customer-{i}" for i in range(12)]


def key_partition_row(key: str, num_partitions: int) -> dict[str, Any]:
    """Every step of Kafka's key → partition path for one key, plus the notes' formula."""
    data = key.encode("utf-8")
    hashed = murmur2(data)
    try:
        notes: int | str = notes_formula(data, num_partitions)
    except ZeroDivisionError:
        notes = "division by zero"
    return {
        "key": key,
        "bytes": data.hex(" "),
        "murmur2": hashed,
        "murmur2_hex": f"0x{hashed & 0xFFFFFFFF:08x}",
        "to_positive": to_positive(hashed),
        "partition": partition_for_key(data, num_partitions),
        "notes_formula": notes,
    }


def keys_moved(keys: Iterable[str], n_old: int, n_new: int) -> list[dict[str, Any]]:
    """For each key: its partition with n_old and with n_new partitions, and whether it moved."""
    rows = []
    for key in keys:
        old, new = partition_for_key(key.encode(), n_old), partition_for_key(key.encode(), n_new)
        rows.append({"key": key, "old": old, "new": new, "moved": old != new})
    return rows


def key_html(key: str, num_partitions: int, previous_partitions: int) -> str:
    row = key_partition_row(key, num_partitions)
    moved = keys_moved(SAMPLE_KEYS, previous_partitions, num_partitions)
    lines = [
        "<div style='font-family:monospace'>",
        f"key {html.escape(repr(key))} → bytes {row['bytes'] or '(empty)'}<br>",
        f"murmur2 = {row['murmur2']} ({row['murmur2_hex']}) → toPositive = {row['to_positive']}<br>",
        f"<b>partition = {row['to_positive']} % {num_partitions} = {row['partition']}</b>"
        f" &nbsp; (the notes' abs(…) % (n-1) would say: {row['notes_formula']})",
        f"<br><br>sample keys, {previous_partitions} → {num_partitions} partitions "
        f"({sum(r['moved'] for r in moved)} of {len(moved)} moved):<br>",
    ]
    for r in moved:
        style = "color:#b71c1c;font-weight:bold" if r["moved"] else ""
        lines.append(f"<span style='{style}'>{r['key']}: {r['old']} → {r['new']}</span><br>")
    lines.append("</div>")
    return "".join(lines)


def KeyExplorer(key: str = "customer-42", num_partitions: int = 6):  # noqa: N802 - reads like a class
    """The widget: a partition-count slider (first), a key box, and the live computation."""
    import ipywidgets as widgets

    partitions = widgets.IntSlider(value=num_partitions, min=1, max=24, description="partitions", continuous_update=False, style={"description_width": "initial"})
    key_box = widgets.Text(value=key, description="key")
    view = widgets.HTML(key_html(key, num_partitions, num_partitions))
    previous = {"n": num_partitions}

    def refresh(change: Any = None) -> None:
        if change is not None and change["owner"] is partitions:
            previous["n"] = change["old"]
        view.value = key_html(key_box.value, partitions.value, previous["n"])

    partitions.observe(refresh, names="value")
    key_box.observe(refresh, names="value")
    return widgets.VBox([partitions, key_box, view])
