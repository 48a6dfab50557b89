"""``kafkalab storage``: kafka-storage.sh — a cluster id, and formatting the log directories.

    kafkalab storage random-uuid
    kafkalab storage format -t <cluster id> -c config/server.properties [--standalone] [--ignore-formatted]

A controller needs a quorum flag exactly as Kafka 4.x asks: ``--standalone`` under
``controller.quorum.bootstrap.servers`` (a dynamic quorum), none under ``controller.quorum.voters``
(a static one); a broker-only node takes none.

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
                     help="this controller is the only voter of a dynamic quorum (controller.quorum.bootstrap.servers, KIP-853)")
    fmt.add_argument("--no-initial-controllers", "-N", action="store_true",
                     help="a controller that joins an existing dynamic quorum (kafkalab has one voter: rarely wanted)")
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
        refused = quorum_flag_problem(props, args.standalone, args.no_initial_controllers)
        if refused:
            print(f"kafkalab storage format: {refused}", file=sys.stderr)
            return 1
        directories = list(dict.fromkeys([*props.log_dirs, props.metadata_log_dir]))
        for line in format_storage(directories, args.cluster_id, props.node_id, ignore_formatted=args.ignore_formatted):
            print(line)
    except (ServerStartError, StorageError) as refused:
        print(f"kafkalab storage format: {refused}", file=sys.stderr)
        return 1
    return 0


def quorum_flag_problem(props, standalone: bool, no_initial_controllers: bool) -> str | None:  # noqa: ANN001 - ServerProperties
    """Kafka 4.x's rules (StorageTool) for the quorum flags, with its messages; None when the flags fit."""
    if standalone and no_initial_controllers:
        return "--standalone and --no-initial-controllers cannot be used together."
    if "controller" not in props.process_roles:
        if standalone:
            return "You can only use --standalone on a controller."
        if no_initial_controllers:
            return "You can only use --no-initial-controllers on a controller."
        return None
    if props.quorum_voters:
        if standalone:
            return ("You cannot specify controller.quorum.voters and format the node with --initial-controllers or "
                    "--standalone. If you want to use dynamic quorum, please remove controller.quorum.voters and specify "
                    "controller.quorum.bootstrap.servers instead.")
        return None
    if not standalone and not no_initial_controllers:
        return ("Because controller.quorum.voters is not set on this controller, you must specify one of the following: "
                "--standalone, --initial-controllers, or --no-initial-controllers.")
    return None
