"""Which availability zones a new VPC's subnets go to: only zones where Fargate runs.

AWS lists the regions of Linux containers on Fargate, with "the supported Availability Zone
IDs ... noted when applicable" ("Supported Regions for Amazon ECS on AWS Fargate",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html).
In those regions a subnet in another zone takes tasks Fargate cannot start. The filter is by
zone ID, never by name: in AWS's oldest regions each account maps the names (`us-west-1a`)
to the physical zones (`usw1-az3`) in its own way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Regions where Fargate runs in some zones only -> the zone IDs where it runs. Regions not
# listed: every standard zone.
FARGATE_ZONE_IDS: Mapping[str, frozenset[str]] = {
    # "us-west-1 (usw1-az1 & usw1-az3 only)"
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    # "ap-northeast-1 (apne1-az1, apne1-az2, & apne1-az4 only)"
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    # The Linux table lists us-east-1 without a restriction today, but the same page leaves
    # use1-az3 out for Windows containers, earlier versions of it left it out altogether,
    # and it is the region's constrained zone, where newer capacity is not offered. With
    # five zones left, skipping it costs nothing; a subnet there could fail tasks.
    "us-east-1": frozenset({"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}),
}


def fargate_zones(
    region: str, names: Sequence[str], zone_ids: Sequence[str], *, slots: int, limit: int
) -> list[tuple[str, int]]:
    """Up to `limit` zones where Fargate runs, each with its slot: its place among the first
    `slots` standard zones of the region in name order. `names` and `zone_ids` are
    DescribeAvailabilityZones' answer, element by element.

    A subnet's CIDR is picked by its zone's slot, not by its place among the zones kept: so
    skipping a zone never moves another zone's subnet to a CIDR an existing one still holds
    (stacks made before the filter keep their other subnets as they are).
    """
    allowed = FARGATE_ZONE_IDS.get(region)
    if not zone_ids:
        # Test mocks that answer only the names (AWS always answers both): no ID to filter by.
        zone_ids, allowed = [""] * len(names), None
    in_name_order = sorted(zip(names, zone_ids, strict=True))[:slots]
    kept = [
        (name, slot)
        for slot, (name, zone_id) in enumerate(in_name_order)
        if allowed is None or zone_id in allowed
    ]
    return kept[:limit]
