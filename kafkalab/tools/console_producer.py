"""``kafkalab console-producer``: kafka-console-producer.sh — one record per line of stdin.

    printf 'alice:1\\nbob:2\\n' | kafkalab console-producer --bootstrap-server 127.0.0.1:9092 --topic orders \\
        --property parse.key=true --property key.separator=:

Each line (UTF-8, without its line ending) becomes a record's value; with ``parse.key=true`` the text
before the first ``key.separator`` (default a tab) is the key. At end of input the producer flushes,
and any record the broker refused is reported with its error; the exit code is then 1.

The reader's properties (``--property``) are Kafka's LineMessageReader's: ``parse.key``,
``key.separator``, ``parse.headers``, ``headers.delimiter`` (tab), ``headers.separator`` (``,``),
``headers.key.separator`` (``:``), ``null.marker`` and ``ignore.error``. A line without the separator
is an error ("No key separator found on line number 3: 'x'") unless ``ignore.error=true``, which
sends it without a key.

Partitions: a record with a key goes to ``toPositive(murmur2(key)) % partitions``, the Java client's
rule (kafka-python's DefaultPartitioner is that same murmur2; kafkalab's is
:func:`kafkalab.partitioner.murmur2.partition_for_key`). Records without a key go to a random
partition; the Java client 'sticks' to one partition per batch instead (KIP-480).

The producer is kafka-python's, idempotent with acks=all by default as Kafka's 3.0+ clients are,
so a broker must answer InitProducerId before the first Produce. ``--producer-property acks=1``
and the rest of the Java client's names work (see :mod:`kafkalab.tools.client_config`).

Kafka: org.apache.kafka.tools.ConsoleProducer, org.apache.kafka.tools.LineMessageReader,
org.apache.kafka.clients.producer.internals.BuiltInPartitioner#partitionForKey.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Iterator

from kafkalab.tools.client_config import ToolError, UsageError, build_settings, check_bootstrap, describe_error, parse_key_values, run_tool

PROG = "kafkalab console-producer"
READER_PROPERTIES = {"parse.key", "key.separator", "parse.headers", "headers.delimiter", "headers.separator",
                     "headers.key.separator", "null.marker", "ignore.error"}


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("console-producer", help="send lines of stdin as records (kafka-console-producer.sh)",
                                 description="Read lines from standard input and publish each as a record.")
    parser.add_argument("--bootstrap-server", metavar="HOST:PORT", help="REQUIRED: the Kafka server(s) to connect to")
    parser.add_argument("--topic", help="REQUIRED: the topic to produce to")
    parser.add_argument("--property", "--reader-property", dest="property", action="append", metavar="NAME=VALUE",
                        help="a line reader property: parse.key, key.separator, parse.headers, ... (repeatable)")
    parser.add_argument("--producer-property", action="append", metavar="NAME=VALUE",
                        help="a producer setting with the Java client's name, e.g. acks=1 (repeatable)")
    parser.add_argument("--producer.config", "--command-config", dest="producer_config", metavar="FILE",
                        help="properties file of producer settings (--producer-property wins)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_tool(PROG, lambda: produce(args, sys.stdin.buffer))


@dataclass
class LineReader:
    """LineMessageReader: how a line splits into headers, key and value."""

    parse_key: bool = False
    key_separator: str = "\t"
    parse_headers: bool = False
    headers_delimiter: str = "\t"
    headers_separator: str = ","
    headers_key_separator: str = ":"
    null_marker: str | None = None
    ignore_error: bool = False
    line_number: int = field(default=0, init=False)

    @classmethod
    def from_properties(cls, properties: dict[str, str]) -> "LineReader":
        unknown = sorted(set(properties) - READER_PROPERTIES)
        if unknown:
            raise UsageError(f"--property {unknown[0]}: unknown line reader property; known: {', '.join(sorted(READER_PROPERTIES))}")

        def flag(name: str) -> bool:
            return properties.get(name, "false").strip().lower() == "true"

        reader = cls(parse_key=flag("parse.key"), parse_headers=flag("parse.headers"), ignore_error=flag("ignore.error"),
                     null_marker=properties.get("null.marker"))
        reader.key_separator = properties.get("key.separator", reader.key_separator)
        reader.headers_delimiter = properties.get("headers.delimiter", reader.headers_delimiter)
        reader.headers_separator = properties.get("headers.separator", reader.headers_separator)
        reader.headers_key_separator = properties.get("headers.key.separator", reader.headers_key_separator)
        reader.check()
        return reader

    def check(self) -> None:
        """LineMessageReader#configure: separators that would make a line ambiguous are refused."""
        if not self.key_separator:
            raise UsageError("--property key.separator: must not be empty")
        pairs = [("headers.delimiter", self.headers_delimiter, "headers.separator", self.headers_separator),
                 ("headers.delimiter", self.headers_delimiter, "headers.key.separator", self.headers_key_separator),
                 ("headers.separator", self.headers_separator, "headers.key.separator", self.headers_key_separator)]
        if self.parse_headers:
            for name, value, other_name, other in pairs:
                if value == other:
                    raise UsageError(f"--property {name} and {other_name} may not be equal")
        if self.null_marker is not None:
            for name, value in (("key.separator", self.key_separator), ("headers.separator", self.headers_separator),
                                ("headers.delimiter", self.headers_delimiter), ("headers.key.separator", self.headers_key_separator)):
                if value == self.null_marker:
                    raise UsageError(f"--property null.marker and {name} may not be equal")

    def _split(self, enabled: bool, line: str, start: int, separator: str, what: str) -> str | None:
        if not enabled:
            return None
        index = line.find(separator, start)
        if index < 0:
            if self.ignore_error:
                return None
            raise ToolError(f"No {what} found on line number {self.line_number}: '{line}'")
        return line[start:index]

    def _bytes(self, text: str | None) -> bytes | None:
        return None if text is None or text == self.null_marker else text.encode("utf-8")

    def parse(self, line: str) -> tuple[list[tuple[str, bytes | None]], bytes | None, bytes | None]:
        """One line → (headers, key, value), as LineMessageReader#readRecords."""
        self.line_number += 1
        headers_text = self._split(self.parse_headers, line, 0, self.headers_delimiter, "headers delimiter")
        header_end = 0 if headers_text is None else len(headers_text) + len(self.headers_delimiter)
        key = self._split(self.parse_key, line, header_end, self.key_separator, "key separator")
        key_end = 0 if key is None else len(key) + len(self.key_separator)
        value = line[header_end + key_end:]
        headers = [] if headers_text is None or headers_text == self.null_marker else self._headers(headers_text)
        return headers, self._bytes(key), self._bytes(value)

    def _headers(self, text: str) -> list[tuple[str, bytes | None]]:
        headers = []
        for pair in text.split(self.headers_separator):
            name, separator, value = pair.partition(self.headers_key_separator)
            if not separator:
                if not self.ignore_error:
                    raise ToolError(f"No header key separator found in pair '{pair}' on line number {self.line_number}")
                headers.append((pair, None))
                continue
            if name == self.null_marker:
                raise ToolError(f"Header keys should not be equal to the null marker '{self.null_marker}' as they can't be null")
            headers.append((name, self._bytes(value)))
        return headers


def read_lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines of UTF-8 text without their endings (``\\n`` or ``\\r\\n``), as BufferedReader#readLine."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\n").removesuffix("\r")


def produce(args: argparse.Namespace, stdin: IO[bytes]) -> int:
    """ConsoleProducer#main: read, send each record asynchronously, flush at end of input."""
    if not args.topic:
        raise UsageError("--topic is required")
    reader = LineReader.from_properties(parse_key_values(args.property, "--property"))
    from kafka import KafkaProducer

    settings = build_settings(args.bootstrap_server, KafkaProducer.DEFAULT_CONFIG, "producer",
                              config_file=("--producer.config", args.producer_config),
                              properties=("--producer-property", args.producer_property), client_id="console-producer")
    check_bootstrap(settings)
    producer = KafkaProducer(**settings)
    sent: list[tuple[Any, bytes | None, bytes | None]] = []
    try:
        for line in read_lines(stdin):
            headers, key, value = reader.parse(line)
            sent.append((producer.send(args.topic, value=value, key=key, headers=headers or None), key, value))
        producer.flush()
    finally:
        producer.close()
    failures = 0
    for future, key, value in sent:
        if future.failed():
            failures += 1
            # ErrorLoggingCallback#onCompletion
            shown_key = key.decode("utf-8", errors="replace") if key is not None else "null"
            size = "null" if value is None else f"{len(value)} bytes"
            print(f"{PROG}: Error when sending message to topic {args.topic} with key: {shown_key}, value: {size} "
                  f"with error: {describe_error(future.exception)}", file=sys.stderr)
    return 1 if failures else 0
