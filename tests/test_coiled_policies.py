"""The IAM documents of Coiled's AWS setup, audited by parliament like the ECS pool's.

Coiled's control plane needs what Coiled documents; each finding parliament still reports is
pinned here with the reason it is accepted, so a new finding (or a finding gone) fails.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # parliament imports pkg_resources, deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    from parliament import analyze_policy_string, expand_action

from pushpools.components.coiled import aws_policies
from pushpools_tools.engine import ProgramRun
from tests.harness import inputs, run_config

# Accepted findings, per policy: (issue, Sid of the statement) -> why.
ACCEPTED: dict[str, dict[tuple[str, str], str]] = {
    "coiled-aws-coiled-setup": {
        # Coiled builds a VPC, subnets, gateway and routes whose IDs do not exist yet, and
        # names its IAM objects after the workspace; Coiled says to detach this policy once
        # set up (`setup_policy_attached: false`).
        ("RESOURCE_STAR", "Setup"): "one-time setup of resources that do not exist yet",
    },
    "coiled-aws-coiled-ongoing": {
        # RunInstances/CreateFleet use AMIs, subnets, groups and launch templates Coiled picks
        # per cluster; its log groups and security groups are named at run time.
        ("RESOURCE_STAR", "Ongoing"): "Coiled launches VMs with resources chosen per cluster",
        # Limited by Coiled's own condition (`ec2:ResourceTag/owner: coiled`), which parliament
        # does not count as a resource limit.
        ("RESOURCE_STAR", "OngoingDestructive"): "only on resources tagged owner=coiled",
        ("RESOURCE_STAR", "OptionalLogPull"): "Coiled reads its clusters' logs",
        # Software environments are built into repositories Coiled names per environment.
        ("RESOURCE_STAR", "OptionalECR"): "Coiled's software-environment images",
        # Coiled sets the policy of the `coiled-data-*` buckets it creates itself.
        ("RESOURCE_POLICY_PRIVILEGE_ESCALATION", "OngoingPersistentDataBuckets"): (
            "only on Coiled's own coiled-data-* buckets"
        ),
    },
    "coiled-aws-coiled-instance-logs": {
        ("RESOURCE_STAR", "CoiledEC2LogPolicy"): "the VMs write to log groups Coiled names",
    },
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    pool = {
        "name": "coiled-aws",
        "type": "coiled:push",
        "coiled": {
            "cloud_setup": {
                "aws": {"coiled_principal": "111122223333", "external_id": "ws-acme-8f3a2c"}
            }
        },
    }
    return run_config(
        {"pushpools:pools": [pool], "pushpools:coiledApiToken": "coiled-tok"},
        ["pushpools:coiledApiToken"],
    )


def _documents(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {
        r.name: json.loads(inputs(r)["policy"])
        for type_ in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")
        for r in run.find(type_)
    }


def _sid_at(document: dict[str, Any], text: str, column: int | None) -> str:
    """The Sid of the statement a finding points at (parliament gives a column in the JSON)."""
    if column is None:
        return ""
    sids = [(text.find(json.dumps(s)), s.get("Sid", "")) for s in document["Statement"]]
    return max((at, sid) for at, sid in sids if 0 <= at <= column)[1]


def _findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    text = json.dumps(document)
    policy = analyze_policy_string(text)
    found = set()
    for finding in policy.findings:
        location = finding.location or {}
        column = location.get("column")
        if finding.issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION":
            # Reported for the resource, not a statement: the bucket statement's.
            found.add((finding.issue, "OngoingPersistentDataBuckets"))
        else:
            found.add((finding.issue, _sid_at(document, text, column)))
    return found


def test_the_program_declares_the_documents_audited_here(run: ProgramRun) -> None:
    assert set(_documents(run)) == set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_parliament_finds_only_the_accepted_findings(run: ProgramRun, name: str) -> None:
    assert _findings(_documents(run)[name]) == set(ACCEPTED[name]), name


def test_parliament_finds_nothing_in_the_trust_policies_but_their_missing_resource() -> None:
    """Trust policies have no Resource by definition; parliament 1.6 has no trust-policy mode,
    so that is the one thing it may say of them."""
    for document in (
        aws_policies.trust_policy("arn:aws:iam::111122223333:root", "ws-acme-8f3a2c"),
        aws_policies.instance_trust_policy(),
    ):
        findings = analyze_policy_string(json.dumps(document)).findings
        assert [(f.issue, f.detail) for f in findings] == [
            ("MALFORMED", "Statement contains neither Resource nor NotResource")
        ]


def test_every_action_is_a_real_iam_action(run: ProgramRun) -> None:
    for name, document in _documents(run).items():
        for statement in document["Statement"]:
            for action in statement["Action"]:
                assert "*" not in action, f"{name}: {action}"
                expanded = expand_action(action)  # raises on an unknown action
                assert {f"{e['service']}:{e['action']}" for e in expanded} == {action}
