"""``kafkalab server-start <server.properties>``: kafka-server-start.sh for kafkalab's broker.

Reads Kafka's server.properties, checks that the log directories were formatted (``kafkalab
storage format``), opens the logs (recovering them after a crash), replays the metadata log and
serves Kafka's wire protocol on the client listeners until SIGTERM or Ctrl-C, then shuts down
cleanly (logs flushed, checkpoints written, the clean-shutdown marker left for the next start).

Kafka: kafka.Kafka (main), kafka.server.KafkaRaftServer, bin/kafka-server-start.sh.
"""

from __future__ import annotations

import argparse
import sys


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser(
        "server-start", help="start a kafkalab broker (KRaft, combined broker+controller) from server.properties",
        description="Start a kafkalab node the way kafka-server-start.sh starts Kafka: "
                    "kafkalab server-start config/server.properties")
    parser.add_argument("config", metavar="server.properties", help="Kafka's server.properties (see config/ for samples)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="override a property from the file (as kafka-server-start.sh --override)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from kafkalab.wire.launch import ServerStartError, run_server

    try:
        return run_server(args.config, args.override)
    except ServerStartError as refused:
        print(f"kafkalab server-start: {refused}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
