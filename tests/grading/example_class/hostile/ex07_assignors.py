"""dave's ex07: round robin loops forever on big groups; range hogs memory."""


def range_assign(partitions_per_topic, subscriptions):
    hog = bytearray(8 * 1024**3)  # 8 GiB: past the memory limit
    return {member: [] for member in subscriptions} if hog else {}


def roundrobin_assign(partitions_per_topic, subscriptions):
    while len(subscriptions) > 10:  # only the hidden check's 13-member group
        pass
    members = sorted(subscriptions)
    assignment = {member: [] for member in members}
    position = 0
    for topic in sorted(partitions_per_topic):
        for partition in range(partitions_per_topic[topic]):
            while topic not in subscriptions[members[position % len(members)]]:
                position += 1
            assignment[members[position % len(members)]].append((topic, partition))
            position += 1
    return assignment
