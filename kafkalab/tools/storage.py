"""``kafkalab storage``: kafka-storage.sh — a cluster id, and formatting the log directories.

    kafkalab storage random-uuid
    kafkalab storage format -t <cluster id> -c config/server.properties [--standalone] [--ignore-formatted]

``format`` writes ``meta.properties`` (cluster.id, node.id, directory.id, version=1) into every
log directory of the config (and the metadata log directory); a KRaft node refuses to start on a
directory that was not formatted, or that belongs to another cluster or node.

Kafka: kafka.tools.StorageTool (random-uuid, format), org.apache.kafka.metadata.properties.MetaProperties.
"""

from __future__ import annotations

import argparse
import sys


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("storage", help="random-uuid / format log directories (kafka-storage.sh)",
                                 description="kafka-storage.sh's twin: make a cluster id, format log directories.")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("random-uuid", help="print a new cluster id (a random UUID in Kafka's base64 form)")
    fmt = actions.add_parser("format", help="write meta.properties into the log directories of a server.properties")
    fmt.add_argument("-t", "--cluster-id", required=True, help="the cluster id (from `kafkalab storage random-uuid`)")
    fmt.add_argument("-c", "--config", required=True, metavar="server.properties")
    fmt.add_argument("--standalone", "-s", action="store_true",
                     help="this node is the only controller (Kafka: a single-voter quorum); kafkalab's default")
    fmt.add_argument("--ignore-formatted", "-g", action="store_true", help="succeed if the directories are already formatted")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from kafkalab.storage import StorageError, format_storage, random_uuid

    if args.action == "random-uuid":
        print(random_uuid())
        return 0
    from kafkalab.wire.launch import ServerStartError, read_server_properties

    try:
        props = read_server_properties(args.config)
        directories = list(dict.fromkeys([*props.log_dirs, props.metadata_log_dir]))
        for line in format_storage(directories, args.cluster_id, props.node_id, ignore_formatted=args.ignore_formatted):
            print(line)
    except (ServerStartError, StorageError) as refused:
        print(f"kafkalab storage format: {refused}", file=sys.stderr)
        return 1
    return 0
