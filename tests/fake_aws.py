"""A fake AWS account that judges every API call against an IAM policy, for Prefect's ECS code.

Installed with botocore's own event hooks (the mechanism of `botocore.stub.Stubber`), on
every botocore and aiobotocore session the code under test creates: so the real clients
build and validate each request against AWS's service models, sign it with the
credentials they were given, and then, instead of sending it, hand it here. Each call is
turned into the authorizations IAM checks for it (action, resource ARN, condition keys),
as the Service Authorization Reference lists them (`parliament` ships a copy; see
`AUTHORIZE`), and judged against the policy the way IAM evaluates an identity policy: an
explicit Deny wins, else some Allow must match the action, the resource and every
condition. A denied call gets AWS's AccessDenied error, and is recorded: a test asserts
that nothing was denied, because Prefect's code swallows some failures. A call this fake
cannot judge is denied too, never waved through.

Answers have the shapes AWS documents (checked against botocore's output shapes).
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator

ACCOUNT_ID = "123456789012"
ECS_TASKS = "ecs-tasks.amazonaws.com"


@dataclass(frozen=True)
class Authorization:
    """One thing IAM authorizes for a call: an action on a resource, in a context."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One API call as AWS received it."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str
    access_key: str | None
    authorizations: list[Authorization]
    denied: list[Authorization]


# --- IAM policy evaluation ---------------------------------------------------------


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: `*` any run of characters (`:` and `/` too), `?` one character."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


_CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _matches,
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": _matches,
}


def _condition_holds(
    condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]
) -> bool:
    for operator, tests in condition.items():
        if operator not in _CONDITIONS:
            raise NotImplementedError(f"condition operator {operator} is not modelled")
        for key, expected in tests.items():
            # A key absent from the request context fails every operator used here.
            if key not in context:
                return False
            if not any(_CONDITIONS[operator](e, context[key]) for e in _listed(expected)):
                return False
    return True


def _statement_applies(statement: Mapping[str, Any], request: Authorization) -> bool:
    for unsupported in ("NotAction", "NotResource", "NotPrincipal"):
        if unsupported in statement:
            raise NotImplementedError(f"{unsupported} is not modelled")
    return (
        any(_matches(a, request.action, case_sensitive=False) for a in _listed(statement["Action"]))
        and any(_matches(r, request.resource) for r in _listed(statement["Resource"]))
        and _condition_holds(statement.get("Condition", {}), request.context)
    )


def allows(policy: Mapping[str, Any], request: Authorization) -> bool:
    """Whether an identity policy allows the request (no other policy in play)."""
    applying = [s for s in policy["Statement"] if _statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


# --- what IAM authorizes for each call ---------------------------------------------


@dataclass
class TaskDefinition:
    arn: str
    family: str
    revision: int
    body: dict[str, Any]
    status: str = "ACTIVE"


@dataclass
class _Account:
    """What the fake account holds: the pool's network, and what the calls created."""

    vpc_id: str
    subnet_ids: list[str]
    log_lines: list[str]
    task_definitions: dict[str, TaskDefinition] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"

    def cluster_arn(self, region: str, cluster: str | None) -> str:
        # ECS authorizes by ARN whether the request names the cluster or its ARN.
        cluster = cluster or "default"
        return (
            cluster if cluster.startswith("arn:") else self.arn("ecs", region, f"cluster/{cluster}")
        )

    def task_definition(self, region: str, reference: str) -> TaskDefinition | None:
        """By ARN, `family:revision`, or family (its latest ACTIVE revision)."""
        if not reference.startswith("arn:"):
            if ":" not in reference:
                revisions = [
                    t
                    for t in self.task_definitions.values()
                    if t.family == reference and t.status == "ACTIVE"
                ]
                return max(revisions, key=lambda t: t.revision) if revisions else None
            reference = self.arn("ecs", region, f"task-definition/{reference}")
        return self.task_definitions.get(reference)

    def next_id(self) -> str:
        return f"{next(self._ids):032x}"


def _pass_roles(*roles: str | None) -> list[Authorization]:
    return [
        Authorization("iam:PassRole", role, {"iam:PassedToService": ECS_TASKS})
        for role in dict.fromkeys(r for r in roles if r)
    ]


def _register_task_definition(
    account: _Account, region: str, p: dict[str, Any]
) -> list[Authorization]:
    family = p["family"]
    revisions = [t.revision for t in account.task_definitions.values() if t.family == family]
    arn = account.arn("ecs", region, f"task-definition/{family}:{max(revisions, default=0) + 1}")
    needed = [Authorization("ecs:RegisterTaskDefinition", arn)]
    if p.get("tags"):
        needed.append(
            Authorization("ecs:TagResource", arn, {"ecs:CreateAction": "RegisterTaskDefinition"})
        )
    return needed


def _run_task(account: _Account, region: str, p: dict[str, Any]) -> list[Authorization]:
    cluster = account.cluster_arn(region, p.get("cluster"))
    definition = account.task_definition(region, p["taskDefinition"])
    definition_arn = definition.arn if definition else p["taskDefinition"]
    body = definition.body if definition else {}
    overrides = p.get("overrides", {})
    needed = [Authorization("ecs:RunTask", definition_arn, {"ecs:cluster": cluster})]
    # RunTask's dependent action: passing the task's roles to ECS tasks.
    needed += _pass_roles(
        body.get("executionRoleArn"),
        body.get("taskRoleArn"),
        overrides.get("executionRoleArn"),
        overrides.get("taskRoleArn"),
    )
    if p.get("tags"):
        # Tagging on creation: TagResource on the new task, with ecs:CreateAction.
        task = f"{cluster.replace(':cluster/', ':task/')}/*"
        needed.append(
            Authorization(
                "ecs:TagResource", task, {"ecs:CreateAction": "RunTask", "ecs:cluster": cluster}
            )
        )
    return needed


def _on_tasks(action: str) -> Callable[[_Account, str, dict[str, Any]], list[Authorization]]:
    def needed(account: _Account, region: str, p: dict[str, Any]) -> list[Authorization]:
        cluster = account.cluster_arn(region, p.get("cluster"))
        tasks = p["tasks"] if "tasks" in p else [p["task"]]
        return [Authorization(action, task, {"ecs:cluster": cluster}) for task in tasks]

    return needed


def _on_star(action: str) -> Callable[[_Account, str, dict[str, Any]], list[Authorization]]:
    # Actions AWS authorizes on "*" only: IAM evaluates them against "*".
    return lambda account, region, p: [Authorization(action, "*")]


def _create_security_group(
    account: _Account, region: str, p: dict[str, Any]
) -> list[Authorization]:
    return [
        Authorization("ec2:CreateSecurityGroup", account.arn("ec2", region, f"vpc/{p['VpcId']}")),
        Authorization("ec2:CreateSecurityGroup", account.arn("ec2", region, "security-group/*")),
    ]


def _get_log_events(account: _Account, region: str, p: dict[str, Any]) -> list[Authorization]:
    stream = f"log-group:{p['logGroupName']}:log-stream:{p['logStreamName']}"
    return [Authorization("logs:GetLogEvents", account.arn("logs", region, stream))]


AUTHORIZE: dict[tuple[str, str], Callable[[_Account, str, dict[str, Any]], list[Authorization]]] = {
    ("ecs", "RegisterTaskDefinition"): _register_task_definition,
    ("ecs", "DescribeTaskDefinition"): _on_star("ecs:DescribeTaskDefinition"),
    ("ecs", "DeregisterTaskDefinition"): _on_star("ecs:DeregisterTaskDefinition"),
    ("ecs", "RunTask"): _run_task,
    ("ecs", "DescribeTasks"): _on_tasks("ecs:DescribeTasks"),
    ("ecs", "StopTask"): _on_tasks("ecs:StopTask"),
    ("ec2", "DescribeVpcs"): _on_star("ec2:DescribeVpcs"),
    ("ec2", "DescribeSubnets"): _on_star("ec2:DescribeSubnets"),
    ("ec2", "CreateSecurityGroup"): _create_security_group,
    ("logs", "GetLogEvents"): _get_log_events,
}


# --- what AWS answers --------------------------------------------------------------


def _described(definition: TaskDefinition) -> dict[str, Any]:
    # Tags are not part of a task definition's description (DescribeTaskDefinition returns
    # them beside it, and only when asked to).
    return {
        **{k: copy.deepcopy(v) for k, v in definition.body.items() if k != "tags"},
        "taskDefinitionArn": definition.arn,
        "revision": definition.revision,
        "status": definition.status,
        "compatibilities": ["EC2", "FARGATE"],
    }


def _answer(
    account: _Account, service: str, operation: str, region: str, p: dict[str, Any]
) -> dict[str, Any]:
    if (service, operation) == ("ecs", "RegisterTaskDefinition"):
        (needed,) = [
            a for a in _register_task_definition(account, region, p) if "Register" in a.action
        ]
        family_revision = needed.resource.rsplit("/", 1)[1]
        definition = TaskDefinition(
            needed.resource, p["family"], int(family_revision.rsplit(":", 1)[1]), copy.deepcopy(p)
        )
        account.task_definitions[definition.arn] = definition
        return {"taskDefinition": _described(definition)}
    if (service, operation) == ("ecs", "DescribeTaskDefinition"):
        definition = account.task_definition(region, p["taskDefinition"])
        if definition is None:
            raise _RefusedError("ClientException", "Unable to describe task definition.")
        return {"taskDefinition": _described(definition)}
    if (service, operation) == ("ecs", "DeregisterTaskDefinition"):
        definition = account.task_definition(region, p["taskDefinition"])
        if definition is None:
            raise _RefusedError("ClientException", "The specified task definition does not exist.")
        definition.status = "INACTIVE"
        return {"taskDefinition": _described(definition)}
    if (service, operation) == ("ecs", "RunTask"):
        cluster = account.cluster_arn(region, p.get("cluster"))
        definition = account.task_definition(region, p["taskDefinition"])
        if definition is None:
            raise _RefusedError("ClientException", "TaskDefinition not found.")
        task_arn = f"{cluster.replace(':cluster/', ':task/')}/{account.next_id()}"
        task = {
            "taskArn": task_arn,
            "clusterArn": cluster,
            "taskDefinitionArn": definition.arn,
            "lastStatus": "PROVISIONING",
            "tags": copy.deepcopy(p.get("tags", [])),
        }
        account.tasks[task_arn] = task
        return {"tasks": [task], "failures": []}
    if (service, operation) == ("ecs", "DescribeTasks"):
        found = [account.tasks[t] for t in p["tasks"] if t in account.tasks]
        return {"tasks": copy.deepcopy(found), "failures": []}
    if (service, operation) == ("ecs", "StopTask"):
        if p["task"] not in account.tasks:
            raise _RefusedError("InvalidParameterException", "The referenced task was not found.")
        account.tasks[p["task"]]["lastStatus"] = "STOPPED"
        return {"task": copy.deepcopy(account.tasks[p["task"]])}
    if (service, operation) == ("ec2", "DescribeVpcs"):
        wanted = p.get("VpcIds")
        filters = {f["Name"]: f["Values"] for f in p.get("Filters", [])}
        is_default = filters.get("isDefault") == ["true"]
        vpcs = [] if is_default else [v for v in [account.vpc_id] if wanted is None or v in wanted]
        return {"Vpcs": [{"VpcId": v, "IsDefault": False} for v in vpcs]}
    if (service, operation) == ("ec2", "DescribeSubnets"):
        filters = {f["Name"]: f["Values"] for f in p.get("Filters", [])}
        in_vpc = account.vpc_id in filters.get("vpc-id", [account.vpc_id])
        subnets = account.subnet_ids if in_vpc else []
        return {"Subnets": [{"SubnetId": s, "VpcId": account.vpc_id} for s in subnets]}
    if (service, operation) == ("logs", "GetLogEvents"):
        events = [{"timestamp": i, "message": line} for i, line in enumerate(account.log_lines)]
        return {"events": events}
    raise _RefusedError("UnknownOperationException", f"the fake answers no {service}:{operation}")


class _RefusedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --- the hooks -----------------------------------------------------------------------


class FakeAws:
    """Install with `install(monkeypatch)`; then every AWS call the process makes is
    judged against `policy` and recorded in `calls`."""

    def __init__(
        self,
        policy: Mapping[str, Any],
        *,
        vpc_id: str,
        subnet_ids: list[str],
        log_lines: list[str] | None = None,
    ) -> None:
        self.policy = policy
        self.account = _Account(vpc_id, list(subnet_ids), list(log_lines or []))
        self.calls: list[Call] = []

    def install(self, monkeypatch: Any) -> None:
        original = botocore.session.Session.__init__
        fake = self

        def init(session: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
            original(session, *args, **kwargs)
            session.register("before-parameter-build", fake._keep_params)
            session.register("before-call", fake._judge_and_answer)

        monkeypatch.setattr(botocore.session.Session, "__init__", init)

    def reset(self) -> None:
        """A fresh account with the same network and policy, and no calls recorded."""
        self.account = _Account(
            self.account.vpc_id, self.account.subnet_ids, self.account.log_lines
        )
        self.calls = []

    @property
    def denied(self) -> list[tuple[str, Authorization]]:
        return [(f"{c.service}:{c.operation}", d) for c in self.calls for d in c.denied]

    @property
    def authorized_actions(self) -> set[str]:
        return {a.action for c in self.calls for a in c.authorizations if a not in c.denied}

    def operations(self) -> list[str]:
        return [f"{c.service}:{c.operation}" for c in self.calls]

    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_aws_params"] = copy.deepcopy(params)

    def _judge_and_answer(
        self, model: Any, context: dict[str, Any], request_signer: Any, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        service = model.service_model.endpoint_prefix
        operation = model.name
        region = context["client_region"]
        params = context["fake_aws_params"]
        credentials = getattr(request_signer, "_credentials", None)
        authorize = AUTHORIZE.get((service, operation))
        if authorize is None:
            needed = [Authorization(f"{service}:{operation}", "<not modelled>")]
        else:
            needed = [
                Authorization(a.action, a.resource, {**a.context, "aws:RequestedRegion": region})
                for a in authorize(self.account, region, params)
            ]
        denied = [a for a in needed if authorize is None or not allows(self.policy, a)]
        self.calls.append(
            Call(
                service,
                operation,
                params,
                region,
                getattr(credentials, "access_key", None),
                needed,
                denied,
            )
        )
        if denied:
            return _error(
                "AccessDeniedException",
                f"not authorized to perform: {denied[0].action} on resource: "
                f"{denied[0].resource} because no identity-based policy allows it",
            )
        try:
            answer = _answer(self.account, service, operation, region, params)
        except _RefusedError as refusal:
            return _error(refusal.code, refusal.message)
        report = ParamValidator().validate(answer, model.output_shape)
        if report.has_errors():
            raise AssertionError(
                f"the fake's answer to {operation} is malformed:\n{report.generate_report()}"
            )
        return AWSResponse(None, 200, {}, None), {
            **answer,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, 400, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
