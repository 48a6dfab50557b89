"""``kafkalab dump-log --files <segment>.log``: kafka-dump-log.sh — a segment's batches and records.

    kafkalab dump-log --files /tmp/kafkalab-combined-logs/orders-0/00000000000000000000.log --print-data-log

Works on ``.log`` segments, ``.index`` and ``.timeindex`` files, written by kafkalab or by Kafka.

Kafka: kafka.tools.DumpLogSegments.
"""

from __future__ import annotations

import argparse
import sys


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("dump-log", help="print the batches and records of log segments (kafka-dump-log.sh)")
    parser.add_argument("--files", required=True, help="comma-separated segment files (.log, .index, .timeindex)")
    parser.add_argument("--print-data-log", action="store_true", help="print every record's key and value")
    parser.add_argument("--deep-iteration", action="store_true", help="print every record, not only batch headers")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from kafkalab.storage import dump_log

    status = 0
    for name in filter(None, (f.strip() for f in args.files.split(","))):
        try:
            sys.stdout.write(dump_log(name, print_data=args.print_data_log, deep_iteration=args.deep_iteration))
        except (OSError, ValueError) as bad:
            print(f"kafkalab dump-log: {name}: {bad}", file=sys.stderr)
            status = 1
    return status
