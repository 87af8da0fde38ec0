"""The rules as CrossGuard policies. Building them starts nothing: only `PolicyPack()`
(in the pack's `__main__.py`) starts the gRPC server the CLI talks to."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from pushpools_policy.rules import RULES, Rule

PACK_NAME = "pushpools"

_LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def build_policies() -> list[Policy]:
    return [_policy(rule) for rule in RULES]


def _policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    schema = (
        PolicyConfigSchema(properties={k: dict(s.schema) for k, s in rule.settings.items()})
        if rule.settings
        else None
    )
    level = _LEVELS[rule.enforcement]
    if rule.on == "inputs":
        return ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_resource_validator(rule),
            enforcement_level=level,
            config_schema=schema,
        )
    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=_stack_validator(rule),
        enforcement_level=level,
        config_schema=schema,
    )


def _resource_validator(rule: Rule) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        # A value unknown during preview raises UnknownValueError here; pulumi_policy
        # reports that the policy could not run yet, and it runs again on `pulumi up`.
        for message in rule.run(args.resource_type, args.props, args.get_config()):
            report_violation(message, None)

    return validate


def _stack_validator(rule: Rule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config()
        for resource in args.resources:
            try:
                messages = rule.run(resource.resource_type, resource.props, config)
            except UnknownValueError:
                continue  # not created yet (preview): nothing to judge on this one
            for message in messages:
                report_violation(message, resource.urn)

    return validate
