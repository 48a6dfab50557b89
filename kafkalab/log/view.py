"""HTML pictures of a partition log, from plain data (``PartitionLog.describe()``)."""

from __future__ import annotations

import html
from typing import Any


def partition_log_html(described: dict[str, Any], deleted: list[dict[str, Any]] | None = None) -> str:
    """Segments as boxes, oldest left; deleted segments (if given) greyed out."""
    boxes = []
    for segment in deleted or []:
        boxes.append(_box(segment, "#eee", "#999", "deleted"))
    for segment in described["segments"]:
        boxes.append(_box(segment, "#e3f2fd" if segment["active"] else "#f1f8e9", "#222", "active" if segment["active"] else "closed"))
    title = html.escape(f"{described['topic']}-{described['partition']}")
    return (
        f"<div style='font-family:monospace'><b>{title}</b> &nbsp; log start offset = {described['log_start_offset']}, "
        f"log end offset = {described['log_end_offset']}, {described['size_in_bytes']} bytes"
        f"<div style='display:flex;flex-wrap:wrap;gap:4px;margin-top:4px'>{''.join(boxes)}</div></div>"
    )


def _box(segment: dict[str, Any], background: str, color: str, state: str) -> str:
    last = segment["next_offset"] - 1
    offsets = f"{segment['base_offset']}–{last}" if segment["records"] else "(empty)"
    return (
        f"<div style='border:1px solid #888;padding:4px;background:{background};color:{color};min-width:110px'>"
        f"<div>{html.escape(segment['file_name'])}</div><div>offsets {offsets}</div>"
        f"<div>{segment['records']} records, {segment['size_in_bytes']} B</div><div><i>{state}</i></div></div>"
    )
