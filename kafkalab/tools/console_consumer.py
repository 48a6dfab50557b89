"""``kafkalab console-consumer``: kafka-console-consumer.sh — print a topic's records.

    kafkalab console-consumer --bootstrap-server 127.0.0.1:9092 --topic orders --from-beginning \\
        --property print.key=true --property key.separator=: --max-messages 10
    kafkalab console-consumer --bootstrap-server 127.0.0.1:9092 --topic orders --group billing --timeout-ms 5000
    kafkalab console-consumer --bootstrap-server 127.0.0.1:9092 --topic orders --partition 1 --offset 42

Each record prints as Kafka's DefaultMessageFormatter prints it: optional ``CreateTime:<ms>``,
``Partition:<p>``, ``Offset:<o>``, headers and key, each followed by ``key.separator`` (a tab), then
the value and ``line.separator`` (a newline). Keys and values are written as raw bytes; a null one
prints as ``null.literal`` ("null"). The tool stops after ``--max-messages`` records, or when no
record came for ``--timeout-ms``, or on Ctrl-C, and then prints "Processed a total of N messages"
on stderr.

Where to start: ``--from-beginning`` sets ``auto.offset.reset=earliest``, which applies only where
there is no committed offset; ``--partition P --offset O|earliest|latest`` reads one partition from
that position. With ``--group`` the consumer joins the group (JoinGroup, SyncGroup, Heartbeat),
starts at its committed offsets (OffsetFetch) and commits what it printed when it stops
(OffsetCommit; ``enable.auto.commit=true`` as in Kafka). It polls at most the records still wanted,
so the committed position is exactly after the last record printed. Without ``--group`` Kafka's
tool joins a throwaway group ``console-consumer-NNNNN`` and commits nothing; this one assigns
itself every partition of the topic (Metadata, ListOffsets, Fetch only), which reads the same
records without needing a group coordinator.

Kafka: org.apache.kafka.tools.consumer.ConsoleConsumer, ConsoleConsumerOptions, DefaultMessageFormatter.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import IO, Any

from kafkalab.tools.client_config import ToolError, UsageError, build_settings, check_bootstrap, parse_key_values, run_tool

PROG = "kafkalab console-consumer"
FORMATTER_PROPERTIES = {"print.timestamp", "print.key", "print.offset", "print.partition", "print.headers", "print.value",
                        "key.separator", "line.separator", "headers.separator", "null.literal"}
POLL_MS = 200  # each poll waits at most this long, so --timeout-ms and Ctrl-C are noticed promptly


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("console-consumer", help="print records of a topic (kafka-console-consumer.sh)",
                                 description="Consume records from a topic and print them to standard output.")
    parser.add_argument("--bootstrap-server", metavar="HOST:PORT", help="REQUIRED: the Kafka server(s) to connect to")
    parser.add_argument("--topic", help="REQUIRED: the topic to consume")
    parser.add_argument("--group", help="the consumer group to join (its committed offsets are used and updated)")
    parser.add_argument("--from-beginning", action="store_true", help="start at the earliest offset where nothing is committed")
    parser.add_argument("--max-messages", type=int, metavar="N", help="exit after printing N records")
    parser.add_argument("--timeout-ms", type=int, metavar="MS", help="exit when no record arrives for MS milliseconds")
    parser.add_argument("--partition", type=int, metavar="P", help="read only this partition")
    parser.add_argument("--offset", metavar="O", help="with --partition: a non-negative offset, earliest or latest (default latest)")
    parser.add_argument("--property", "--formatter-property", dest="property", action="append", metavar="NAME=VALUE",
                        help="a formatter property: print.key, print.partition, print.offset, key.separator, ... (repeatable)")
    parser.add_argument("--consumer-property", action="append", metavar="NAME=VALUE",
                        help="a consumer setting with the Java client's name, e.g. auto.offset.reset=earliest (repeatable)")
    parser.add_argument("--consumer.config", "--command-config", dest="consumer_config", metavar="FILE",
                        help="properties file of consumer settings (--consumer-property wins)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_tool(PROG, lambda: consume(args, sys.stdout.buffer))


@dataclass
class MessageFormatter:
    """DefaultMessageFormatter: which fields a record prints, and the separators between them."""

    print_timestamp: bool = False
    print_key: bool = False
    print_offset: bool = False
    print_partition: bool = False
    print_headers: bool = False
    print_value: bool = True
    key_separator: bytes = b"\t"
    line_separator: bytes = b"\n"
    headers_separator: bytes = b","
    null_literal: bytes = b"null"

    @classmethod
    def from_properties(cls, properties: dict[str, str]) -> "MessageFormatter":
        unknown = sorted(set(properties) - FORMATTER_PROPERTIES)
        if unknown:
            raise UsageError(f"--property {unknown[0]}: unknown formatter property; known: {', '.join(sorted(FORMATTER_PROPERTIES))}")
        formatter = cls()
        for name, value in properties.items():
            attribute = name.replace(".", "_")
            if name.startswith("print."):
                setattr(formatter, attribute, value.strip().lower() == "true")
            else:
                setattr(formatter, attribute, value.encode("utf-8"))
        return formatter

    def format(self, record: Any) -> bytes:
        """DefaultMessageFormatter#writeTo: the fields asked for, each followed by key.separator, then the value."""
        fields: list[bytes] = []
        if self.print_timestamp:
            kind = {0: "CreateTime", 1: "LogAppendTime"}.get(record.timestamp_type)
            fields.append(f"{kind}:{record.timestamp}".encode() if kind else b"NO_TIMESTAMP")
        if self.print_partition:
            fields.append(f"Partition:{record.partition}".encode())
        if self.print_offset:
            fields.append(f"Offset:{record.offset}".encode())
        if self.print_headers:
            headers = [name.encode("utf-8") + b":" + (self.null_literal if value is None else value)
                       for name, value in record.headers or []]
            fields.append(self.headers_separator.join(headers) if headers else b"NO_HEADERS")
        if self.print_key:
            fields.append(self.null_literal if record.key is None else record.key)
        if self.print_value:
            value = self.null_literal if record.value is None else record.value
            return b"".join(field + self.key_separator for field in fields) + value + self.line_separator
        return self.key_separator.join(fields) + (self.line_separator if fields else b"")


def parse_offset(text: str) -> str | int:
    """ConsoleConsumerOptions#parseOffset: earliest, latest or a non-negative number."""
    if text in ("earliest", "latest"):
        return text
    if text.isdigit():
        return int(text)
    raise UsageError(f"--offset {text!r}: the offset must be 'earliest', 'latest' or a non-negative number")


def check_flags(args: argparse.Namespace) -> None:
    """ConsoleConsumerOptions#checkRequiredArgs and friends."""
    if not args.topic:
        raise UsageError("--topic is required")
    if args.offset is not None and args.partition is None:
        raise UsageError("--offset needs --partition: the partition is required when offset is specified")
    if args.offset is not None and args.from_beginning:
        raise UsageError("--from-beginning and --offset cannot be used together")
    if args.max_messages is not None and args.max_messages < 1:
        raise UsageError("--max-messages must be at least 1")
    if args.timeout_ms is not None and args.timeout_ms < 0:
        raise UsageError("--timeout-ms must not be negative")


def consumer_settings(args: argparse.Namespace, defaults: dict[str, Any]) -> dict[str, Any]:
    settings = build_settings(args.bootstrap_server, defaults, "consumer",
                              config_file=("--consumer.config", args.consumer_config),
                              properties=("--consumer-property", args.consumer_property), client_id="console-consumer")
    if args.group:
        if settings.get("group_id") not in (None, args.group):
            raise UsageError(f"--group {args.group} and the consumer property group.id={settings['group_id']} disagree")
        settings["group_id"] = args.group
    if not settings.get("group_id"):
        settings["enable_auto_commit"] = False  # nothing to commit to without a group
    if args.from_beginning:
        settings["auto_offset_reset"] = "earliest"
    return settings


def start(consumer: Any, args: argparse.Namespace, grouped: bool) -> None:
    """Subscribe (a group), or assign one partition (--partition) or every partition (no group)."""
    from kafka import TopicPartition

    if args.partition is None and grouped:
        consumer.subscribe([args.topic])
        return
    partitions = consumer.partitions_for_topic(args.topic)
    if not partitions:
        raise ToolError(f"Topic '{args.topic}' does not exist (no partitions in the broker's metadata)")
    if args.partition is not None and args.partition not in partitions:
        raise UsageError(f"--partition {args.partition}: topic '{args.topic}' has partitions {min(partitions)}..{max(partitions)}")
    chosen = [args.partition] if args.partition is not None else sorted(partitions)
    assigned = [TopicPartition(args.topic, p) for p in chosen]
    consumer.assign(assigned)
    if args.partition is not None:
        offset = parse_offset(args.offset) if args.offset is not None else ("earliest" if args.from_beginning else "latest")
        if offset == "earliest":
            consumer.seek_to_beginning(*assigned)
        elif offset == "latest":
            consumer.seek_to_end(*assigned)
        else:
            consumer.seek(assigned[0], offset)


def consume(args: argparse.Namespace, out: IO[bytes]) -> int:
    """ConsoleConsumer#run: poll, print, stop at --max-messages or --timeout-ms, close (committing in a group)."""
    check_flags(args)
    if args.offset is not None:
        parse_offset(args.offset)
    formatter = MessageFormatter.from_properties(parse_key_values(args.property, "--property"))
    from kafka import KafkaConsumer

    settings = consumer_settings(args, KafkaConsumer.DEFAULT_CONFIG)
    check_bootstrap(settings)
    consumer = KafkaConsumer(**settings)
    processed = 0
    try:
        start(consumer, args, grouped=bool(settings.get("group_id")))
        last_record_at = time.monotonic()
        while args.max_messages is None or processed < args.max_messages:
            wanted = None if args.max_messages is None else args.max_messages - processed
            batches = consumer.poll(timeout_ms=POLL_MS, max_records=wanted)
            if not batches:
                if args.timeout_ms is not None and (time.monotonic() - last_record_at) * 1000 >= args.timeout_ms:
                    break
                continue
            last_record_at = time.monotonic()
            for records in batches.values():
                for record in records:
                    out.write(formatter.format(record))
                    processed += 1
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
        print(f"Processed a total of {processed} messages", file=sys.stderr)
    return 0
