"""See a record batch byte by byte: an annotated field tree, a hex listing, an HTML table, a diff.

:func:`annotate` walks a v2 batch's bytes and returns a tree of :class:`Field`: each with its
name, path (``records[0].headers[1].value``), offset, length, raw bytes, decoded value and
children (the attribute bits, each record, each header). It never raises: bytes it cannot parse
become a field named ``<error>`` that says why, so a learner's broken encoder still gets a view.

Records of a compressed batch are annotated in the *decompressed* bytes; their fields have
``space == "decompressed"`` and offsets counted from the start of that uncompressed block.

The parser reads records one after the other and does not trust the length fields it meets
(``batch_length``, each record's ``length``) or the CRC: those are *derived* fields, reported
after the fields they are computed from, so :func:`diff_fields` can say "records[0].key is
wrong" rather than "the CRC is wrong" when a key is wrong.

Kafka: DefaultRecordBatch and DefaultRecord field layout (see kafkalab.record.batch); the
idea of ``kafka-dump-log.sh --deep-iteration --print-data-log`` (kafka.tools.DumpLogSegments).
Offsets are printed in decimal, matching the byte layout in kafkalab.record.batch.
"""

from __future__ import annotations

import html
import struct
from dataclasses import dataclass, field
from typing import Any, Iterator

from kafkalab.record.batch import (
    ATTRIBUTES_OFFSET,
    COMPRESSION_CODEC_MASK,
    CONTROL_FLAG_MASK,
    DELETE_HORIZON_FLAG_MASK,
    TIMESTAMP_TYPE_MASK,
    TRANSACTIONAL_FLAG_MASK,
    TimestampType,
)
from kafkalab.record.compression import CompressionType, decompress
from kafkalab.record.crc32c import crc32c
from kafkalab.record.varint import VarintError, decode_varint, decode_varlong

__all__ = ["Field", "FieldDiff", "annotate", "dump_text", "dump_html", "diff_fields", "field_tree_text", "hexdump"]


@dataclass
class Field:
    """One field of a batch's bytes: where it is, its raw bytes, what they mean."""

    name: str
    path: str
    offset: int
    length: int
    raw: bytes
    value: Any
    children: list[Field] = field(default_factory=list)
    note: str = ""
    derived: bool = False  # computed from other fields: batch_length, crc, a record's length
    space: str = "batch"  # "batch", or "decompressed" for records inside a compressed batch

    def walk(self) -> Iterator[Field]:
        """This field, then all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class _Stop(Exception):
    """Parsing cannot continue; an <error> field has been recorded."""


class _Annotator:
    def __init__(self, data: bytes, space: str, prefix: str) -> None:
        self.data = data
        self.pos = 0
        self.space = space
        self.prefix = prefix

    def _path(self, parent: str, name: str) -> str:
        return f"{parent}.{name}" if parent else name

    def error(self, out: list[Field], parent: str, message: str) -> None:
        rest = self.data[self.pos :]
        out.append(
            Field("<error>", self._path(parent, "<error>"), self.pos, len(rest), rest, message, space=self.space)
        )
        raise _Stop(message)

    def fixed(self, out: list[Field], parent: str, name: str, fmt: str, **kw: Any) -> Field:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            self.error(out, parent, f"{name} needs {size} bytes at offset {self.pos}; only {len(self.data) - self.pos} remain")
        raw = self.data[self.pos : self.pos + size]
        (value,) = struct.unpack(fmt, raw)
        f = Field(name, self._path(parent, name), self.pos, size, raw, value, space=self.space, **kw)
        self.pos += size
        out.append(f)
        return f

    def var(self, out: list[Field], parent: str, name: str, long: bool = False, **kw: Any) -> Field:
        start = self.pos
        try:
            value, end = (decode_varlong if long else decode_varint)(self.data, start)
        except VarintError as exc:
            self.error(out, parent, f"{name}: {exc}")
        f = Field(name, self._path(parent, name), start, end - start, self.data[start:end], value, space=self.space, **kw)
        self.pos = end
        out.append(f)
        return f

    def blob(self, out: list[Field], parent: str, name: str, n: int, text: bool = False) -> Field:
        if n < 0:
            f = Field(name, self._path(parent, name), self.pos, 0, b"", None, note="null", space=self.space)
            out.append(f)
            return f
        if self.pos + n > len(self.data):
            self.error(out, parent, f"{name} needs {n} bytes at offset {self.pos}; only {len(self.data) - self.pos} remain")
        raw = self.data[self.pos : self.pos + n]
        value: Any = raw
        if text:
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                value = raw
        f = Field(name, self._path(parent, name), self.pos, n, raw, value, space=self.space)
        self.pos += n
        out.append(f)
        return f

    def finish(self, parent_field: Field) -> None:
        parent_field.length = self.pos - parent_field.offset
        parent_field.raw = self.data[parent_field.offset : self.pos]

    def record(self, out: list[Field], index: int) -> None:
        path = f"{self.prefix}records[{index}]"
        rec = Field(f"records[{index}]", path, self.pos, 0, b"", None, space=self.space)
        out.append(rec)
        kids = rec.children
        try:
            length = self.var(kids, path, "length", derived=True)
            body_start = self.pos
            self.fixed(kids, path, "attributes", ">b")
            self.var(kids, path, "timestamp_delta", long=True)
            self.var(kids, path, "offset_delta")
            for name in ("key", "value"):
                n = self.var(kids, path, f"{name}_length").value
                self.blob(kids, path, name, n)
            count = self.var(kids, path, "headers_count").value
            if count < 0:
                self.error(kids, path, f"headers_count {count} is negative")
            for j in range(count):
                hpath = f"{path}.headers[{j}]"
                hdr = Field(f"headers[{j}]", hpath, self.pos, 0, b"", None, space=self.space)
                kids.append(hdr)
                try:
                    n = self.var(hdr.children, hpath, "key_length").value
                    key = self.blob(hdr.children, hpath, "key", n, text=True)
                    n = self.var(hdr.children, hpath, "value_length").value
                    val = self.blob(hdr.children, hpath, "value", n)
                    hdr.value = (key.value, val.value)
                finally:
                    self.finish(hdr)
            actual = self.pos - body_start
            if actual != length.value:
                length.note = f"the body that follows is {actual} bytes"
        finally:
            self.finish(rec)
        rec.value = f"offset_delta {_child_value(rec, 'offset_delta')}"


def _child_value(f: Field, name: str) -> Any:
    for c in f.children:
        if c.name == name:
            return c.value
    return None


def _attribute_bits(f: Field) -> None:
    a = f.value
    codec = a & COMPRESSION_CODEC_MASK
    try:
        codec_value: Any = CompressionType(codec)
    except ValueError:
        codec_value = codec
    bits = [
        ("compression", codec_value),
        ("timestamp_type", TimestampType(1 if a & TIMESTAMP_TYPE_MASK else 0)),
        ("is_transactional", bool(a & TRANSACTIONAL_FLAG_MASK)),
        ("is_control", bool(a & CONTROL_FLAG_MASK)),
        ("has_delete_horizon_ms", bool(a & DELETE_HORIZON_FLAG_MASK)),
    ]
    f.children = [Field(n, f"{f.path}.{n}", f.offset, f.length, f.raw, v, space=f.space) for n, v in bits]


def annotate(data: bytes) -> list[Field]:
    """The field tree of one v2 record batch's bytes (best effort: never raises)."""
    data = bytes(data)
    a = _Annotator(data, "batch", "")
    out: list[Field] = []
    try:
        a.fixed(out, "", "base_offset", ">q")
        blen = a.fixed(out, "", "batch_length", ">i", derived=True)
        a.fixed(out, "", "partition_leader_epoch", ">i")
        magic = a.fixed(out, "", "magic", ">b")
        if magic.value != 2:
            magic.note = "expected 2 (record batch format v2)"
        crc = a.fixed(out, "", "crc", ">I", derived=True)
        end = min(len(data), 12 + max(blen.value, 0))
        computed = crc32c(data[ATTRIBUTES_OFFSET:end]) if len(data) > ATTRIBUTES_OFFSET else None
        crc.note = "ok" if computed == crc.value else f"computed crc32c is {computed:#010x}" if computed is not None else ""
        attrs = a.fixed(out, "", "attributes", ">h")
        _attribute_bits(attrs)
        a.fixed(out, "", "last_offset_delta", ">i")
        a.fixed(out, "", "base_timestamp", ">q")
        a.fixed(out, "", "max_timestamp", ">q")
        a.fixed(out, "", "producer_id", ">q")
        a.fixed(out, "", "producer_epoch", ">h")
        a.fixed(out, "", "base_sequence", ">i")
        count_field = a.fixed(out, "", "records_count", ">i")
        count = count_field.value
        if count < 0:
            count_field.note = "negative: Kafka rejects this batch"
        if 12 + blen.value != len(data):
            blen.note = f"the data after this field is {len(data) - 12} bytes"
        _annotate_records(a, out, attrs.value & COMPRESSION_CODEC_MASK, count)
    except _Stop:
        pass
    return out


def _annotate_records(a: _Annotator, out: list[Field], codec: int, count: int) -> None:
    payload = a.data[a.pos :]
    records = Field("records", "records", a.pos, len(payload), payload, f"{count} record(s)")
    out.append(records)
    inner = a
    if codec != CompressionType.NONE:
        try:
            plain = decompress(codec, payload)
        except Exception as exc:  # CorruptRecordError, UnsupportedCompressionTypeError
            records.value = f"cannot decompress: {exc}"
            a.pos = len(a.data)
            return
        records.value = f"{count} record(s), {CompressionType(codec).codec_name}: {len(payload)} bytes -> {len(plain)}"
        records.note = "children are annotated in the decompressed bytes"
        inner = _Annotator(plain, "decompressed", "")
    try:
        for i in range(max(count, 0)):
            if inner.pos >= len(inner.data):
                inner.error(records.children, "records", f"records_count is {count}, but the data ends after {i} record(s)")
            inner.record(records.children, i)
        if inner.pos < len(inner.data):
            inner.error(records.children, "records", f"{len(inner.data) - inner.pos} bytes follow the last record")
    finally:
        a.pos = len(a.data)


# --------------------------------------------------------------------------- text


def _fmt_value(f: Field) -> str:
    v = f.value
    if f.note == "null":
        return "null"
    if isinstance(v, (CompressionType, TimestampType)):
        return f"{v.name} ({int(v)})"
    if isinstance(v, bytes):
        shown = repr(v[:40]) + ("…" if len(v) > 40 else "")
        return f"{shown} ({len(v)} bytes)" if len(v) > 0 else "b'' (empty)"
    if f.name == "crc" and isinstance(v, int):
        return f"{v:#010x}"
    if isinstance(v, tuple):
        return f"{v[0]!r}: {v[1]!r}"
    if isinstance(v, str) and f.name == "key":
        return repr(v)
    return str(v)


def _hex(raw: bytes, limit: int = 16) -> str:
    text = raw[:limit].hex(" ")
    return text + (" …" if len(raw) > limit else "")


def dump_text(data: bytes) -> str:
    """A readable listing: offset, bytes, field name and value, one field per line."""
    lines = []

    def emit(fields: list[Field], depth: int) -> None:
        for f in fields:
            bits = f.name in ("compression", "timestamp_type", "is_transactional", "is_control", "has_delete_horizon_ms")
            hexpart = "" if bits or (f.children and f.name != "attributes") else _hex(f.raw)
            where = "" if bits else f"{f.offset:06d}"
            note = f"   ({f.note})" if f.note and f.note != "null" else ""
            marker = "*" if f.space == "decompressed" and not f.children else " "
            lines.append(f"{where:>6}{marker} {hexpart:<50} {'  ' * depth}{f.name} = {_fmt_value(f)}{note}")
            emit(f.children, depth + 1)

    emit(annotate(data), 0)
    if any(f.space == "decompressed" for top in annotate(data) for f in top.walk()):
        lines.append("* offset within the decompressed records")
    return "\n".join(lines)


def hexdump(data: bytes, start: int = 0, end: int = 0, *, context_lines: int = 2) -> str:
    """Hex dump of ``data``, with ``^^`` under bytes start..end (exclusive), around those lines."""
    lines = []
    first_line, last_line = start // 16, max(start, end - 1) // 16
    lo = max(0, first_line - context_lines)
    hi = min((len(data) - 1) // 16 if data else 0, last_line + context_lines)
    for row in range(lo, hi + 1):
        chunk = data[row * 16 : row * 16 + 16]
        lines.append(f"{row * 16:06d}  {chunk.hex(' '):<47}  |{''.join(chr(b) if 32 <= b < 127 else '.' for b in chunk)}|")
        if end > start and row * 16 < end and row * 16 + 16 > start:
            marks = "".join(
                "^^ " if start <= row * 16 + i < end else "   " for i in range(len(chunk) or 1)
            ).rstrip()
            lines.append(f"{'':6}  {marks}")
    if end > start and end > len(data):
        lines.append(f"{'':6}  (the field runs {end - len(data)} byte(s) past the end)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- html

_STYLE = (
    "<style>.kl-batch{border-collapse:collapse;font-family:monospace;font-size:12px}"
    ".kl-batch td,.kl-batch th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    ".kl-batch th{background:#f0f0f0}.kl-batch .kl-derived{color:#666}.kl-batch .kl-error{background:#fdd}"
    ".kl-batch .kl-group{background:#f7f7ff}.kl-batch .kl-dec td:first-child{font-style:italic}</style>"
)


def dump_html(data: bytes) -> str:
    """The field tree as an HTML table (inline style, no external assets)."""
    rows = []

    def emit(fields: list[Field], depth: int) -> None:
        for f in fields:
            classes = []
            if f.derived:
                classes.append("kl-derived")
            if f.name == "<error>":
                classes.append("kl-error")
            if f.children:
                classes.append("kl-group")
            if f.space == "decompressed":
                classes.append("kl-dec")
            note = f" <small>({html.escape(f.note)})</small>" if f.note and f.note != "null" else ""
            rows.append(
                f"<tr class='{' '.join(classes)}'><td>{f.offset}</td><td>{f.length}</td>"
                f"<td>{html.escape('' if f.children and f.name != 'attributes' else _hex(f.raw, 24))}</td>"
                f"<td style='padding-left:{6 + 14 * depth}px'>{html.escape(f.name)}</td>"
                f"<td>{html.escape(_fmt_value(f))}{note}</td></tr>"
            )
            emit(f.children, depth + 1)

    emit(annotate(data), 0)
    head = "<tr><th>offset</th><th>len</th><th>bytes</th><th>field</th><th>value</th></tr>"
    caption = f"<caption>record batch v2, {len(data)} bytes (italic offsets: within the decompressed records)</caption>"
    return f"{_STYLE}<table class='kl-batch'>{caption}{head}{''.join(rows)}</table>"


# --------------------------------------------------------------------------- diff


@dataclass
class FieldDiff:
    """The first field where two encodings of a batch differ."""

    path: str
    offset: int
    length: int
    expected: Any
    got: Any
    expected_raw: bytes
    got_raw: bytes
    space: str
    context: bytes  # the bytes ``offset`` refers to: the batch, or the decompressed records
    tree: list[Field] = field(default_factory=list)  # the got side's field tree, for field_tree_text

    @property
    def name(self) -> str:
        """The field's own name (the last part of its path)."""
        return self.path.rsplit(".", 1)[-1]

    def explain(self) -> str:
        """A message for a learner: the field, both values and a hex dump marking the bad bytes."""
        where = "in the decompressed records" if self.space == "decompressed" else "in your batch"
        lines = [
            f"first wrong field: {self.path} at byte {self.offset} {where}",
            f"  expected {self.expected!r} (bytes {self.expected_raw.hex(' ') or '-'})",
            f"  got      {self.got!r} (bytes {self.got_raw.hex(' ') or '-'})",
        ]
        if self.tree:
            lines.append("your bytes, field by field (✗ marks the first wrong one):")
            lines.extend("  " + line for line in field_tree_text(self.tree, self.path, self.expected))
        lines.append(hexdump(self.context, self.offset, self.offset + max(self.length, 1)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


def _on_the_way(parent: Field, path: str) -> bool:
    return path == parent.path or path.startswith(parent.path + ".") or path.startswith(parent.path + "[")


def field_tree_text(fields: list[Field], marked: str, expected: Any = None, depth: int = 0) -> list[str]:
    """The field tree as indented lines, opened only along the way to ``marked`` (marked ✗ with the expected value)."""
    lines = []
    for f in fields:
        indent = "  " * depth
        mark = "✗ " if f.path == marked else "  "
        if f.children and not _on_the_way(f, marked):
            lines.append(f"{mark}{indent}{f.name}  ({len(f.children)} fields, {f.length} bytes)")
            continue
        shown = "" if f.children else repr(f.value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        expected_note = f"   ← expected {expected!r}" if f.path == marked else ""
        lines.append(f"{mark}{indent}{f.name:<{max(1, 24 - len(indent))}} {shown}{expected_note}".rstrip())
        if f.children:
            lines.extend(field_tree_text(f.children, marked, expected, depth + 1))
    return lines


def _leaves(fields: list[Field]) -> list[Field]:
    return [f for top in fields for f in top.walk() if not f.children]


def _parents(fields: list[Field]) -> list[Field]:
    return [f for top in fields for f in top.walk() if f.children]


def _context(data: bytes, f: Field | None, fields: list[Field]) -> bytes:
    if f is not None and f.space == "decompressed":
        for top in fields:
            if top.name == "records":
                try:
                    codec = next(x for x in fields if x.name == "attributes").value & COMPRESSION_CODEC_MASK
                    return decompress(codec, top.raw)
                except Exception:
                    return top.raw
    return data


def diff_fields(expected: bytes, got: bytes) -> FieldDiff | None:
    """The first field where ``got`` differs from ``expected`` (None if the bytes are equal).

    Fields are compared in byte order, content before derived fields: a wrong key is reported as
    the key, not as the record length or CRC it also changes. Attribute bits compare by value.
    """
    expected, got = bytes(expected), bytes(got)
    if expected == got:
        return None
    exp_fields, got_fields = annotate(expected), annotate(got)
    got_by_path = {f.path: f for f in _leaves(got_fields)}
    exp_leaves = _leaves(exp_fields)
    exp_paths = {f.path for f in exp_leaves}

    def make(e: Field | None, g: Field | None) -> FieldDiff:
        ref = g or e
        assert ref is not None
        return FieldDiff(
            path=ref.path,
            offset=(g.offset if g else _missing_offset(got_fields, got, e)),
            length=(g.length if g else 0),
            expected=(e.value if e else "<absent>"),
            got=(g.value if g else "<missing>"),
            expected_raw=(e.raw if e else b""),
            got_raw=(g.raw if g else b""),
            space=ref.space,
            context=_context(got, ref, got_fields),
            tree=got_fields,
        )

    for derived_pass in (False, True):
        # derived fields: lengths (innermost first) before the CRC that covers them all
        order = exp_leaves if not derived_pass else sorted(exp_leaves, key=lambda f: (f.name == "crc", f.path.count(".") * -1))
        for e in order:
            if e.derived != derived_pass:
                continue
            g = got_by_path.get(e.path)
            if g is None:
                return make(e, None)
            if e.value != g.value or (e.raw != g.raw and e.name not in _BIT_NAMES):
                return make(e, g)
        if not derived_pass:
            for g in _leaves(got_fields):
                if g.path not in exp_paths and not g.derived:
                    return make(None, g)
    # Same leaves, different bytes: e.g. compressed blocks from another compressor.
    exp_parents = {f.path: f for f in _parents(exp_fields)}
    for g in _parents(got_fields):
        e = exp_parents.get(g.path)
        if e is not None and e.raw != g.raw:
            diff = make(e, g)
            diff.expected, diff.got = f"{len(e.raw)} bytes", f"{len(g.raw)} bytes (same fields, different bytes)"
            return diff
    first = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), min(len(expected), len(got)))
    return FieldDiff("<bytes>", first, 1, expected[first : first + 1], got[first : first + 1],
                     expected[first : first + 1], got[first : first + 1], "batch", got)  # fmt: skip


_BIT_NAMES = {"compression", "timestamp_type", "is_transactional", "is_control", "has_delete_horizon_ms"}


def _missing_offset(got_fields: list[Field], got: bytes, e: Field | None) -> int:
    leaves = [f for f in _leaves(got_fields) if e is None or f.space == e.space]
    return (leaves[-1].offset + leaves[-1].length) if leaves else len(got)
