"""``kafkalab consumer-groups``: kafka-consumer-groups.sh — list, describe and delete consumer groups.

    kafkalab consumer-groups --bootstrap-server 127.0.0.1:9092 --list
    kafkalab consumer-groups --bootstrap-server 127.0.0.1:9092 --describe --group billing [--members]
    kafkalab consumer-groups --bootstrap-server 127.0.0.1:9092 --delete --group billing

``--describe`` prints Kafka's table, one row per partition the group has a member for or an offset
committed in::

    GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
    billing         orders          0          3               5               2               -               -               -

CURRENT-OFFSET is the group's committed offset (OffsetFetch), LOG-END-OFFSET the partition's end as
a reader sees it, the high watermark (ListOffsets, timestamp -1), and LAG their difference: the
records the group has still to read. A partition no member owns shows ``-`` for the member. A group
with no members is reported on stderr ("Consumer group 'billing' has no active members."), a group
in a rebalance with a warning, as Kafka does; columns widen to fit long names as Kafka's do.

Requests: ListGroups (list), FindCoordinator then DescribeGroups and OffsetFetch (describe), Metadata
and ListOffsets (log end offsets), DeleteGroups (delete). Unlike Kafka's tool, which exits 0 even
when the group is missing, a missing group or a failed deletion exits 1.

Kafka: org.apache.kafka.tools.consumer.group.ConsumerGroupCommand (ConsumerGroupService#describeGroups,
collectGroupsOffsets, printOffsets, printMembers, deleteGroups), PartitionAssignmentState.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from kafkalab.tools.client_config import ToolError, UsageError, build_settings, check_bootstrap, run_tool

PROG = "kafkalab consumer-groups"
MISSING = "-"  # ConsumerGroupCommand.MISSING_COLUMN_VALUE
REBALANCING = {"PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling"}


def add_commands(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser("consumer-groups", help="list, describe or delete consumer groups (kafka-consumer-groups.sh)",
                                 description="List all consumer groups, describe a consumer group, or delete consumer group info.")
    actions = parser.add_mutually_exclusive_group(required=True)
    actions.add_argument("--list", action="store_true", help="list all consumer groups")
    actions.add_argument("--describe", action="store_true", help="describe a group: committed offsets and lag per partition")
    actions.add_argument("--delete", action="store_true", help="delete a group's committed offsets and metadata (it must be empty)")
    parser.add_argument("--bootstrap-server", metavar="HOST:PORT", help="REQUIRED: the Kafka server(s) to connect to")
    parser.add_argument("--command-config", metavar="FILE", help="properties file of admin client settings")
    parser.add_argument("--group", action="append", metavar="G", help="the consumer group (repeatable)")
    parser.add_argument("--members", action="store_true", help="with --describe: list the group's members instead of offsets")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_tool(PROG, lambda: _consumer_groups(args))


def _consumer_groups(args: argparse.Namespace) -> int:
    if not args.bootstrap_server and not args.command_config:
        raise UsageError("--bootstrap-server must be specified")
    if (args.describe or args.delete) and not args.group:
        raise UsageError(f"{'--describe' if args.describe else '--delete'} needs --group")
    if args.members and not args.describe:
        raise UsageError("--members is supported only with --describe")
    from kafka import KafkaAdminClient

    settings = build_settings(args.bootstrap_server, KafkaAdminClient.DEFAULT_CONFIG, "admin",
                              config_file=("--command-config", args.command_config), client_id="kafkalab-consumer-groups")
    check_bootstrap(settings)
    admin = KafkaAdminClient(**settings)
    try:
        if args.list:
            for group_id in list_consumer_groups(admin):
                print(group_id)
            return 0
        if args.delete:
            return delete_groups(admin, args.group)
        status = 0
        for group_id in args.group:
            status = max(status, describe_group(admin, group_id, args.members))
        return status
    finally:
        admin.close()


def list_consumer_groups(admin: Any) -> list[str]:
    """ListGroups on every broker; consumer groups only (protocol type "consumer", or "" for offsets-only groups)."""
    return sorted(group["group_id"] for group in admin.list_groups() if group.get("protocol_type") in ("consumer", ""))


# -- describe ----------------------------------------------------------------------------------------
@dataclass
class Member:
    consumer_id: str
    host: str
    client_id: str
    partitions: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class GroupDescription:
    group_id: str
    state: str | None  # None: the broker's DescribeGroups answer could not be read
    members: list[Member]


@dataclass
class PartitionRow:
    """PartitionAssignmentState: one row of the offsets table."""

    group: str
    topic: str
    partition: int
    current_offset: int | None
    log_end_offset: int | None
    member: Member | None

    @property
    def lag(self) -> int | None:
        """ConsumerGroupCommand#getLag: log end offset minus committed offset, when both are known."""
        if self.current_offset is None or self.current_offset < 0 or self.log_end_offset is None:
            return None
        return self.log_end_offset - self.current_offset


def describe_group_members(admin: Any, group_id: str) -> GroupDescription:
    """DescribeGroups (at the group's coordinator): state, members and their assigned partitions."""
    try:
        described = admin.describe_groups([group_id])[group_id]
    except ValueError as unreadable:  # e.g. Tansu sets authorized-operation bits kafka-python rejects
        print(f"{PROG}: warning: the broker's DescribeGroups answer could not be read ({unreadable}); "
              f"group state and members are not shown", file=sys.stderr)
        return GroupDescription(group_id, None, [])
    if described.get("error"):
        return GroupDescription(group_id, "Dead", [])
    members = []
    for member in described.get("members") or []:
        assignment = member.get("member_assignment")
        partitions = sorted(assignment.partitions()) if hasattr(assignment, "partitions") else []
        members.append(Member(member["member_id"], member.get("client_host") or MISSING, member.get("client_id") or MISSING,
                              [(tp.topic, tp.partition) for tp in partitions]))
    return GroupDescription(group_id, described.get("group_state"), members)


def committed_offsets(admin: Any, group_id: str) -> dict[tuple[str, int], int]:
    """OffsetFetch for all of the group's partitions: (topic, partition) → committed offset."""
    fetched = admin.list_group_offsets({group_id: None}).get(group_id, {})
    return {(tp.topic, tp.partition): meta.offset for tp, meta in fetched.items() if meta.offset is not None and meta.offset >= 0}


def log_end_offsets(admin: Any, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """ListOffsets(LATEST) at each partition's leader: the high watermark."""
    from kafka import TopicPartition
    from kafka.protocol.consumer import OffsetSpec

    if not partitions:
        return {}
    found = admin.list_partition_offsets({TopicPartition(topic, p): OffsetSpec.LATEST for topic, p in partitions})
    return {(tp.topic, tp.partition): answer.offset for tp, answer in found.items()}


def collect_rows(admin: Any, group: GroupDescription) -> list[PartitionRow]:
    """ConsumerGroupService#collectGroupsOffsets: members' partitions first, then committed ones nobody owns."""
    committed = committed_offsets(admin, group.group_id)
    owner = {partition: member for member in group.members for partition in member.partitions}
    partitions = sorted(set(owner) | set(committed))
    ends = log_end_offsets(admin, partitions)
    rows = [PartitionRow(group.group_id, topic, p, committed.get((topic, p)), ends.get((topic, p)), owner.get((topic, p)))
            for topic, p in partitions]
    return sorted(rows, key=lambda row: (row.member is None, row.member.consumer_id if row.member else "", row.topic, row.partition))


def text(value: object) -> str:
    return MISSING if value is None else str(value)


def offsets_table(rows: list[PartitionRow]) -> list[str]:
    """ConsumerGroupService#printOffsets: the header and rows, columns as wide as Kafka's printOffsetFormat."""
    group_width = max([15] + [len(row.group) for row in rows])
    topic_width = max([15] + [len(row.topic) for row in rows])
    consumer_width = max([15] + [len(row.member.consumer_id) for row in rows if row.member])
    host_width = max([15] + [len(row.member.host) for row in rows if row.member])

    def line(*cells: str) -> str:
        group, topic, partition, current, end, lag, consumer, host, client = cells
        return (f"{group:<{group_width}} {topic:<{topic_width}} {partition:<10} {current:<15} {end:<15} {lag:<15} "
                f"{consumer:<{consumer_width}} {host:<{host_width}} {client}")

    lines = [line("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")]
    for row in rows:
        member = row.member
        lines.append(line(row.group, row.topic, str(row.partition), text(row.current_offset), text(row.log_end_offset),
                          text(row.lag), member.consumer_id if member else MISSING, member.host if member else MISSING,
                          member.client_id if member else MISSING))
    return lines


def members_table(group: GroupDescription) -> list[str]:
    """ConsumerGroupService#printMembers (without --verbose)."""
    members = group.members
    widths = [max([15, len(group.group_id)]), max([15] + [len(m.consumer_id) for m in members]),
              max([15] + [len(m.host) for m in members]), max([15] + [len(m.client_id) for m in members])]

    def line(*cells: str) -> str:
        return " ".join(f"{cell:<{width}}" for cell, width in zip(cells, widths)) + f" {cells[4]:<15} "

    return [line("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS")] + [
        line(group.group_id, m.consumer_id, m.host, m.client_id, str(len(m.partitions))) for m in members]


def report_state(group: GroupDescription) -> None:
    """ConsumerGroupService#shouldPrintMemberState's messages (stderr)."""
    if group.state == "Empty":
        print(f"\nConsumer group '{group.group_id}' has no active members.", file=sys.stderr)
    elif group.state in REBALANCING:
        print(f"\nWarning: Consumer group '{group.group_id}' is rebalancing.", file=sys.stderr)


def describe_group(admin: Any, group_id: str, members_only: bool) -> int:
    """ConsumerGroupService#describeGroups for one group."""
    group = describe_group_members(admin, group_id)
    if group.state == "Dead":
        raise ToolError(f"Consumer group '{group_id}' does not exist.")
    if members_only:
        if group.state is None:
            raise ToolError(f"Consumer group '{group_id}': members unknown (DescribeGroups could not be read)")
        report_state(group)
        print()
        print("\n".join(members_table(group)))
        return 0
    rows = collect_rows(admin, group)
    if group.state is None and not rows:
        raise ToolError(f"Consumer group '{group_id}' does not exist.")
    report_state(group)
    print()
    print("\n".join(offsets_table(rows)))
    return 0


# -- delete ------------------------------------------------------------------------------------------
def delete_groups(admin: Any, group_ids: list[str]) -> int:
    """ConsumerGroupService#deleteGroups: DeleteGroups at each group's coordinator."""
    from kafka import errors as kafka_errors

    results = admin.delete_groups(group_ids)
    deleted = [group_id for group_id in group_ids if results.get(group_id) == "OK"]
    failed = {group_id: results.get(group_id, "no answer") for group_id in group_ids if group_id not in deleted}
    if deleted and not failed:
        print("Deletion of requested consumer groups (" + ", ".join(f"'{g}'" for g in deleted) + ") was successful.")
        return 0
    lines = ["Error: Deletion of some consumer groups failed:"]
    for group_id, error_name in failed.items():
        error = getattr(kafka_errors, error_name, None)
        reason = f"{error_name}: {error.description}" if error is not None and hasattr(error, "description") else error_name
        lines.append(f"* Group '{group_id}' could not be deleted due to: {reason}")
    if deleted:
        lines.append("\nThese consumer groups were deleted successfully: " + ", ".join(f"'{g}'" for g in deleted))
    raise ToolError("\n".join(lines))
