"""``kafkalab topics``: kafka-topics.sh — create, list, describe, alter and delete topics on any Kafka broker.

    kafkalab topics --bootstrap-server 127.0.0.1:9092 --create --topic orders --partitions 3 --config retention.ms=60000
    kafkalab topics --bootstrap-server 127.0.0.1:9092 --list [--exclude-internal]
    kafkalab topics --bootstrap-server 127.0.0.1:9092 --describe [--topic orders]
    kafkalab topics --bootstrap-server 127.0.0.1:9092 --alter --topic orders --partitions 6
    kafkalab topics --bootstrap-server 127.0.0.1:9092 --delete --topic orders

Output is Kafka's, byte for byte where it can be: ``Created topic orders.``; ``--describe`` prints a
topic line then one line per partition, tab-separated::

    Topic: orders	TopicId: dWE5ed6ITC-YBIWurKCI0Q	PartitionCount: 3	ReplicationFactor: 1	Configs: retention.ms=60000
    	Topic: orders	Partition: 0	Leader: 1	Replicas: 1	Isr: 1	Elr: 	LastKnownElr: 

``Configs:`` lists the topic's settings whose source is not the built-in default (so a broker-wide
override such as ``min.insync.replicas`` shows too, as in Kafka). A topic id prints as Kafka prints
a ``Uuid``: its 16 bytes in URL-safe base64 without padding. ``--topic`` is a regular expression
for ``--list``, ``--describe``, ``--alter`` and ``--delete`` (``,`` means "or"), as in Kafka.

Requests (kafka-python's admin client): Metadata (list), CreateTopics, DeleteTopics,
CreatePartitions (alter), DescribeTopicPartitions (describe; Metadata when the broker lacks it) and
DescribeConfigs. Errors go to stderr with Kafka's wording and exit 1; bad flags exit 2.

Kafka: org.apache.kafka.tools.TopicCommand (TopicService, TopicCommandOptions),
org.apache.kafka.tools.filter.TopicFilter.IncludeList, org.apache.kafka.common.Uuid#toString.
"""

from __future__ import annotations

import argparse
import base64
import re
import uuid
from dataclasses import dataclass
from typing import Any

from kafkalab.tools.client_config import ToolError, UsageError, build_settings, check_bootstrap, parse_key_values, run_tool

PROG = "kafkalab topics"
# org.apache.kafka.common.internals.Topic#isInternal
INTERNAL_TOPICS = {"__consumer_offsets", "__transaction_state", "__share_group_state"}


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("topics", help="create, list, describe, alter or delete topics (kafka-topics.sh)",
                                 description="Create, delete, describe, or change a topic, as kafka-topics.sh does.")
    actions = parser.add_mutually_exclusive_group(required=True)
    actions.add_argument("--create", action="store_true", help="create a new topic")
    actions.add_argument("--list", action="store_true", help="list all available topics")
    actions.add_argument("--describe", action="store_true", help="list details for the given topics")
    actions.add_argument("--alter", action="store_true", help="raise the number of partitions of a topic")
    actions.add_argument("--delete", action="store_true", help="delete a topic")
    parser.add_argument("--bootstrap-server", metavar="HOST:PORT", help="REQUIRED: the Kafka server(s) to connect to")
    parser.add_argument("--command-config", metavar="FILE", help="properties file of admin client settings")
    parser.add_argument("--topic", help="the topic (a regular expression, except with --create)")
    parser.add_argument("--partitions", type=int, help="number of partitions (default: the broker's num.partitions)")
    parser.add_argument("--replication-factor", type=int, help="replicas per partition (default: the broker's default.replication.factor)")
    parser.add_argument("--config", action="append", metavar="NAME=VALUE", help="a topic config override, with --create (repeatable)")
    parser.add_argument("--if-not-exists", action="store_true", help="with --create: do nothing if the topic exists")
    parser.add_argument("--if-exists", action="store_true", help="with --alter, --describe, --delete: do nothing if no topic matches")
    parser.add_argument("--exclude-internal", action="store_true", help="leave out internal topics (__consumer_offsets, ...)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_tool(PROG, lambda: _topics(args))


def _topics(args: argparse.Namespace) -> int:
    _check_flags(args)
    from kafka import KafkaAdminClient

    settings = build_settings(args.bootstrap_server, KafkaAdminClient.DEFAULT_CONFIG, "admin",
                              config_file=("--command-config", args.command_config), client_id="kafkalab-topics")
    check_bootstrap(settings)
    admin = KafkaAdminClient(**settings)
    try:
        if args.create:
            return create_topic(admin, args)
        if args.list:
            print("\n".join(matching_topics(admin, args.topic, args.exclude_internal)))
            return 0
        if args.describe:
            return describe_topics(admin, args)
        if args.alter:
            return alter_topics(admin, args)
        return delete_topics(admin, args)
    finally:
        admin.close()


def _check_flags(args: argparse.Namespace) -> None:
    """TopicCommandOptions#checkArgs: the flags each action needs or refuses."""
    if not args.bootstrap_server and not args.command_config:
        raise UsageError("--bootstrap-server must be specified")
    if (args.create or args.alter or args.delete) and not args.topic:
        action = "--create" if args.create else "--alter" if args.alter else "--delete"
        raise UsageError(f"{action} needs --topic")
    if args.alter and args.partitions is None:
        raise UsageError("--alter needs --partitions (to change configs, Kafka uses kafka-configs.sh)")
    if args.config and not args.create:
        raise UsageError("--config is supported only with --create")
    if args.replication_factor is not None and not args.create:
        raise UsageError("--replication-factor is supported only with --create")
    if args.partitions is not None and not (args.create or args.alter):
        raise UsageError("--partitions is supported only with --create or --alter")
    if args.if_not_exists and not args.create:
        raise UsageError("--if-not-exists is supported only with --create")
    if args.if_exists and not (args.alter or args.describe or args.delete):
        raise UsageError("--if-exists is supported only with --alter, --describe or --delete")
    if args.create:
        if args.replication_factor is not None and not 1 <= args.replication_factor <= 32767:
            raise UsageError("--replication-factor: the replication factor must be between 1 and 32767 inclusive")
        if args.partitions is not None and args.partitions < 1:
            raise UsageError("--partitions: the partitions must be greater than 0")


# -- create ------------------------------------------------------------------------------------------
def create_topic(admin: Any, args: argparse.Namespace) -> int:
    """TopicService#createTopic: CreateTopics with the broker's defaults for what is not given."""
    from kafka import errors as kafka_errors

    configs = parse_key_values(args.config, "--config")
    if "." in args.topic and "_" in args.topic:
        print("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could "
              "collide. To avoid issues it is best to use either, but not both.")
    new_topic = {"num_partitions": -1 if args.partitions is None else args.partitions,
                 "replication_factor": -1 if args.replication_factor is None else args.replication_factor,
                 "configs": configs}
    try:
        admin.create_topics({args.topic: new_topic})
    except kafka_errors.TopicAlreadyExistsError:
        if args.if_not_exists:
            return 0
        raise ToolError(f"Topic '{args.topic}' already exists.") from None
    print(f"Created topic {args.topic}.")
    return 0


# -- list --------------------------------------------------------------------------------------------
def is_internal(topic: str) -> bool:
    return topic in INTERNAL_TOPICS


def include_list_pattern(raw: str) -> re.Pattern[str]:
    """TopicFilter.IncludeList: commas mean "or", spaces and surrounding quotes are dropped."""
    regex = raw.strip().replace(",", "|").replace(" ", "")
    regex = re.sub(r"""^["']+|["']+$""", "", regex)
    try:
        return re.compile(regex)
    except re.error as bad:
        raise UsageError(f"--topic {raw!r} is not a valid regular expression: {bad}") from None


def matching_topics(admin: Any, topic_regex: str | None, exclude_internal: bool) -> list[str]:
    """TopicService#getTopics: every topic (Metadata for all topics), sorted, filtered by --topic."""
    names = sorted(admin.list_topics())
    pattern = include_list_pattern(topic_regex) if topic_regex else None
    return [name for name in names
            if (pattern is None or pattern.fullmatch(name)) and not (exclude_internal and is_internal(name))]


def ensure_topics_exist(found: list[str], topic_regex: str | None, if_exists: bool) -> None:
    if topic_regex and not found and not if_exists:
        raise ToolError(f"Topic '{topic_regex}' does not exist as expected")


# -- describe ----------------------------------------------------------------------------------------
@dataclass
class PartitionInfo:
    """One partition as TopicCommand prints it (TopicPartitionInfo)."""

    partition: int
    leader: int  # -1: none
    replicas: list[int]
    isr: list[int]
    elr: list[int]
    last_known_elr: list[int]


@dataclass
class TopicInfo:
    name: str
    topic_id: str  # Kafka's Uuid text, "" for the zero id
    partitions: list[PartitionInfo]


def kafka_uuid_text(topic_id: Any) -> str:
    """org.apache.kafka.common.Uuid#toString: URL-safe base64 of the 16 bytes, no padding ("" for zero)."""
    if topic_id is None:
        return ""
    value = topic_id if isinstance(topic_id, uuid.UUID) else uuid.UUID(str(topic_id))
    if value.int == 0:
        return ""
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def describe_partitions(admin: Any, topics: list[str]) -> list[TopicInfo]:
    """DescribeTopicPartitions (KIP-966, with ELR) as Kafka's Admin does; Metadata on brokers without it."""
    from kafka import errors as kafka_errors

    try:
        described = admin.describe_topic_partitions(topics)["topics"]
        elr_keys = ("eligible_leader_replicas", "last_known_elr")
    except (kafka_errors.UnsupportedVersionError, kafka_errors.IncompatibleBrokerVersion):
        described = admin.describe_topics(topics)
        elr_keys = None
    result = []
    for topic in described:
        if topic["error_code"]:
            error = kafka_errors.for_code(topic["error_code"])
            raise ToolError(f"Topic '{topic['name']}': {error.__name__}: {error.description}")
        partitions = [
            PartitionInfo(p["partition_index"], p["leader_id"], list(p["replica_nodes"]), list(p["isr_nodes"]),
                          list((p.get(elr_keys[0]) or []) if elr_keys else []),
                          list((p.get(elr_keys[1]) or []) if elr_keys else []))
            for p in topic["partitions"]
        ]
        result.append(TopicInfo(topic["name"], kafka_uuid_text(topic["topic_id"]), sorted(partitions, key=lambda p: p.partition)))
    return sorted(result, key=lambda t: t.name)


def non_default_configs(admin: Any, topics: list[str]) -> dict[str, str]:
    """DescribeConfigs: each topic's settings whose source is not DEFAULT_CONFIG, as ``k=v,k=v`` (ConfigEntry#isDefault)."""
    from kafka.admin import ConfigResource

    described = admin.describe_configs([ConfigResource("TOPIC", name) for name in topics], config_filter="all")
    texts = {}
    for name in topics:
        entries = described.get("topic", {}).get(name, {})
        texts[name] = ",".join(f"{key}={entry['value']}" for key, entry in entries.items()
                               if entry.get("config_source") != "DEFAULT_CONFIG")
    return texts


def topic_line(topic: TopicInfo, configs: str) -> str:
    """TopicCommand.TopicDescription#printDescription."""
    replication_factor = len(topic.partitions[0].replicas) if topic.partitions else 0
    topic_id = f"\tTopicId: {topic.topic_id}" if topic.topic_id else ""
    return (f"Topic: {topic.name}{topic_id}\tPartitionCount: {len(topic.partitions)}"
            f"\tReplicationFactor: {replication_factor}\tConfigs: {configs}")


def partition_line(topic: str, partition: PartitionInfo) -> str:
    """TopicCommand.PartitionDescription#printDescription."""
    def ids(nodes: list[int]) -> str:
        return ",".join(str(node) for node in nodes)

    leader = str(partition.leader) if partition.leader >= 0 else "none"
    return (f"\tTopic: {topic}\tPartition: {partition.partition}\tLeader: {leader}\tReplicas: {ids(partition.replicas)}"
            f"\tIsr: {ids(partition.isr)}\tElr: {ids(partition.elr)}\tLastKnownElr: {ids(partition.last_known_elr)}")


def describe_topics(admin: Any, args: argparse.Namespace) -> int:
    """TopicService#describeTopic."""
    names = matching_topics(admin, args.topic, args.exclude_internal)
    ensure_topics_exist(names, args.topic, args.if_exists)
    if not names:
        return 0
    configs = non_default_configs(admin, names)
    for topic in describe_partitions(admin, names):
        print(topic_line(topic, configs.get(topic.name, "")))
        for partition in topic.partitions:
            print(partition_line(topic.name, partition))
    return 0


# -- alter and delete --------------------------------------------------------------------------------
def alter_topics(admin: Any, args: argparse.Namespace) -> int:
    """TopicService#alterTopic: CreatePartitions up to --partitions for every matching topic."""
    names = matching_topics(admin, args.topic, args.exclude_internal)
    ensure_topics_exist(names, args.topic, args.if_exists)
    if names:
        admin.create_partitions({name: args.partitions for name in names})
    return 0


def delete_topics(admin: Any, args: argparse.Namespace) -> int:
    """TopicService#deleteTopic: DeleteTopics for every matching topic (Kafka prints nothing on success)."""
    names = matching_topics(admin, args.topic, args.exclude_internal)
    ensure_topics_exist(names, args.topic, args.if_exists)
    if names:
        admin.delete_topics(names)
    return 0

