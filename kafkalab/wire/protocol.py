"""The Kafka protocol's framing and headers, with message bodies from ``kio``.

Every request on a Kafka connection is a *frame*: a 4-byte big-endian size, then the request
header, then the body. The header is v1 (api_key, api_version, correlation_id, client_id) for
non-flexible versions and v2 (v1 plus tagged fields, KIP-482) for flexible ones; a response header
is v0 (the correlation id) or v1 (plus tagged fields) — except ApiVersions, whose response header
is always v0 so that a client that does not yet know the broker's versions can read it.

Bodies are encoded and decoded by ``kio``: Python classes generated from the same JSON message
specs Kafka's Java code is generated from (clients/src/main/resources/common/message/*.json), one
class per API version. kafkalab builds responses from plain dictionaries with :func:`build`, which
keeps only the fields the requested version has — so one handler serves every version.

Kafka: org.apache.kafka.common.requests.RequestHeader / ResponseHeader, RequestContext,
ApiMessageType.requestHeaderVersion/responseHeaderVersion; KIP-482 (tagged fields), KIP-511.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import struct
import types
import typing
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.schema.index import api_key_map, schema_name_map
from kio.serial import entity_reader, entity_writer
from kio.static.constants import EntityType

API_VERSIONS_KEY = 18
ZERO_UUID = uuid.UUID(int=0)


class ProtocolError(Exception):
    """A frame that cannot be read: the connection is closed (Kafka's InvalidRequestException)."""


@dataclass(frozen=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    size: int  # bytes the header took, so the body starts after it


def api_name(api_key: int) -> str:
    """Kafka's name for an API key (``ApiKeys``): 0 → Produce, 18 → ApiVersions."""
    name = api_key_map.get(api_key)
    return "".join(part.capitalize() for part in name.split("_")) if name else f"unknown API {api_key}"


def known_versions(api_key: int) -> tuple[int, int] | None:
    """The version range kio has message classes for (Kafka 4.x's own range), or None."""
    name = api_key_map.get(api_key)
    if name is None:
        return None
    versions = [v for v, kinds in schema_name_map[name].items() if EntityType.request in kinds]
    return (min(versions), max(versions)) if versions else None


@lru_cache(maxsize=None)
def request_class(api_key: int, version: int) -> type:
    return load_request_schema(api_key, version)


@lru_cache(maxsize=None)
def response_class(api_key: int, version: int) -> type:
    return load_response_schema(api_key, version)


@lru_cache(maxsize=None)
def _reader(cls: type) -> Any:
    return entity_reader(cls)


@lru_cache(maxsize=None)
def _writer(cls: type) -> Any:
    return entity_writer(cls)


# -- request side -------------------------------------------------------------------------------
def _read_uvarint(data: bytes | memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data):
            raise ProtocolError("the header ends inside a varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 28:
            raise ProtocolError("a varint in the header is longer than 5 bytes")


def read_request_header(frame: bytes | memoryview, flexible: bool | None = None) -> RequestHeader:
    """Read a request header (v1, or v2 when ``flexible``; None: decide from the API and version)."""
    if len(frame) < 10:
        raise ProtocolError(f"a request header needs at least 10 bytes, the frame has {len(frame)}")
    api_key, api_version, correlation_id, client_id_length = struct.unpack_from(">hhih", frame, 0)
    position = 10
    client_id = None
    if client_id_length >= 0:
        if position + client_id_length > len(frame):
            raise ProtocolError("the client id runs past the end of the frame")
        client_id = bytes(frame[position:position + client_id_length]).decode("utf-8", errors="replace")
        position += client_id_length
    if flexible is None:
        flexible = is_flexible(api_key, api_version)
    if flexible:  # header v2: tagged fields (none are defined for requests; skip whatever comes)
        count, position = _read_uvarint(frame, position)
        for _ in range(count):
            _tag, position = _read_uvarint(frame, position)
            size, position = _read_uvarint(frame, position)
            position += size
        if position > len(frame):
            raise ProtocolError("the header's tagged fields run past the end of the frame")
    return RequestHeader(api_key, api_version, correlation_id, client_id, position)


def is_flexible(api_key: int, api_version: int) -> bool:
    """Whether this API version uses compact encodings and tagged fields (KIP-482)."""
    try:
        return bool(request_class(api_key, api_version).__flexible__)
    except Exception:  # unknown API or version: the caller answers UNSUPPORTED_VERSION
        return False


def read_request_body(frame: bytes | memoryview, header: RequestHeader) -> Any:
    """Decode the body after ``header`` into kio's request class for that API version."""
    cls = request_class(header.api_key, header.api_version)
    try:
        body, size = _reader(cls)(frame, header.size)
    except Exception as bad:  # kio raises its own errors for truncated or malformed data
        raise ProtocolError(f"{api_name(header.api_key)} v{header.api_version} body could not be read: {bad}") from None
    # Bytes after the body are ignored, as Kafka's parser ignores them (librdkafka's Metadata v13
    # requests end with 3 such bytes).
    return body


# -- response side ------------------------------------------------------------------------------
def encode_response(api_key: int, api_version: int, correlation_id: int, body: Any) -> bytes:
    """A whole response frame: size, header (v0, or v1 for flexible versions but ApiVersions), body."""
    out = io.BytesIO()
    out.write(b"\0\0\0\0")
    out.write(struct.pack(">i", correlation_id))
    if type(body).__flexible__ and api_key != API_VERSIONS_KEY:
        out.write(b"\0")  # header v1: no tagged fields
    _writer(type(body))(out, body)
    frame = out.getbuffer()
    struct.pack_into(">i", frame, 0, len(frame) - 4)
    return bytes(frame)


def encode_request(api_key: int, api_version: int, correlation_id: int, client_id: str | None, body: Any) -> bytes:
    """A whole request frame (for kafkalab's own peers and tests)."""
    out = io.BytesIO()
    out.write(b"\0\0\0\0")
    out.write(struct.pack(">hhi", api_key, api_version, correlation_id))
    if client_id is None:
        out.write(struct.pack(">h", -1))
    else:
        encoded = client_id.encode()
        out.write(struct.pack(">h", len(encoded)) + encoded)
    if type(body).__flexible__:
        out.write(b"\0")
    _writer(type(body))(out, body)
    frame = out.getbuffer()
    struct.pack_into(">i", frame, 0, len(frame) - 4)
    return bytes(frame)


def decode_response(frame: bytes, api_key: int, api_version: int) -> tuple[int, Any]:
    """(correlation id, body) of a response frame without its size prefix (for tests and peers)."""
    cls = response_class(api_key, api_version)
    (correlation_id,) = struct.unpack_from(">i", frame, 0)
    position = 4
    if cls.__flexible__ and api_key != API_VERSIONS_KEY:
        count, position = _read_uvarint(frame, position)
        for _ in range(count):
            _tag, position = _read_uvarint(frame, position)
            size, position = _read_uvarint(frame, position)
            position += size
    body, _size = _reader(cls)(frame, position)
    return correlation_id, body


# -- building kio messages from plain data ----------------------------------------------------
@dataclass(frozen=True)
class _FieldPlan:
    name: str
    kafka_type: str | None
    nested: type | None  # the element class of an array of structs, or a struct
    is_array: bool
    required: bool


@lru_cache(maxsize=None)
def _plan(cls: type) -> tuple[_FieldPlan, ...]:
    hints = typing.get_type_hints(cls)
    plans = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None: look at X
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        nested = None
        is_array = typing.get_origin(hint) is tuple
        inner = typing.get_args(hint)[0] if is_array else hint
        for candidate in (typing.get_args(inner) or (inner,)):
            if dataclasses.is_dataclass(candidate):
                nested = candidate
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        plans.append(_FieldPlan(f.name, f.metadata.get("kafka_type"), nested, is_array, required))
    return tuple(plans)


def _zero(plan: _FieldPlan) -> Any:
    """A value for a field the caller did not give and kio has no default for."""
    if plan.is_array:
        return ()
    if plan.nested is not None:
        return build(plan.nested, {})
    return {
        "string": "", "bytes": b"", "records": None, "bool": False, "uuid": ZERO_UUID,
        "timedelta_i32": datetime.timedelta(0), "timedelta_i64": datetime.timedelta(0), "error_code": ErrorCode.none,
        "float64": 0.0,
    }.get(plan.kafka_type or "", 0)


def _convert(plan: _FieldPlan, value: Any) -> Any:
    if value is None:
        return None
    kind = plan.kafka_type
    if plan.nested is not None:
        if plan.is_array:
            return tuple(build(plan.nested, item) for item in value)
        return build(plan.nested, value)
    if plan.is_array:
        if kind in ("timedelta_i32", "timedelta_i64"):
            return tuple(datetime.timedelta(milliseconds=v) for v in value)
        return tuple(value)
    if kind == "error_code":
        return ErrorCode(int(value))
    if kind in ("timedelta_i32", "timedelta_i64"):
        return value if isinstance(value, datetime.timedelta) else datetime.timedelta(milliseconds=value)
    if kind == "uuid":
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    if kind == "datetime_i64":
        return value if isinstance(value, datetime.datetime) else datetime.datetime.fromtimestamp(value / 1000, datetime.timezone.utc)
    return value


def build(cls: type, values: Any) -> Any:
    """``cls(**values)`` keeping only the fields this version has, converting plain values
    (ints for error codes and millisecond durations, nested dicts and lists for structs) and filling
    required fields that are missing with Kafka's zero values."""
    if dataclasses.is_dataclass(values) and not isinstance(values, type):
        return values
    kwargs = {}
    for plan in _plan(cls):
        if plan.name in values:
            kwargs[plan.name] = _convert(plan, values[plan.name])
        elif plan.required:
            kwargs[plan.name] = _zero(plan)
    return cls(**kwargs)


def milliseconds(value: Any) -> int:
    """A kio duration (timedelta) or datetime as Kafka's int milliseconds."""
    if isinstance(value, datetime.timedelta):
        return int(value / datetime.timedelta(milliseconds=1))
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    return int(value)
