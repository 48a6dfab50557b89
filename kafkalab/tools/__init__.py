"""kafkalab's twins of Kafka's command-line scripts, as sub-commands of ``kafkalab``.

    kafkalab storage random-uuid | format -t <id> -c <server.properties>     (kafka-storage.sh)
    kafkalab server-start <server.properties>                                (kafka-server-start.sh)
    kafkalab topics --bootstrap-server HOST:PORT --create/--list/--describe/--delete   (kafka-topics.sh)
    kafkalab console-producer / console-consumer                             (kafka-console-*.sh)
    kafkalab consumer-groups --describe --group G                            (kafka-consumer-groups.sh)
    kafkalab dump-log --files <segment>.log                                  (kafka-dump-log.sh)

Each module registers its own sub-command(s) with ``add_commands(subparsers)``; modules import
their heavy dependencies (sockets, the protocol library, clients) only when their command runs,
so ``kafkalab grade`` and the browser edition never load them.
"""

from __future__ import annotations

import argparse
import importlib

# One module per script, in the order ``kafkalab --help`` lists them.
TOOL_MODULES = (
    "kafkalab.tools.storage",
    "kafkalab.tools.server_start",
    "kafkalab.tools.topics",
    "kafkalab.tools.console_producer",
    "kafkalab.tools.console_consumer",
    "kafkalab.tools.consumer_groups",
    "kafkalab.tools.dump_log",
)


def add_tool_commands(commands: "argparse._SubParsersAction") -> None:
    for name in TOOL_MODULES:
        importlib.import_module(name).add_commands(commands)
