"""The contract the stack config relies on from its models (`ConfigModel`, a pydantic
`BaseModel`): strict, frozen, stripped, every problem in one pass, set fields tracked."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from pushpools.components.config.base import ConfigModel, field_model
from pushpools.components.config.errors import describe_validation_error
from pushpools.components.config.stack import PoolConfig, StackConfig


def _gcp_pool(**gcp: Any) -> dict[str, Any]:
    return {"name": "ml", "type": "cloud-run:push", "gcp": {"project": "my-project", **gcp}}


def _problems(data: Any) -> list[str]:
    with pytest.raises(pydantic.ValidationError) as caught:
        StackConfig.model_validate(data)
    return describe_validation_error(caught.value, StackConfig)


def _models(model: type[ConfigModel]) -> set[type[ConfigModel]]:
    """`model` and every model its fields hold, the lazily loaded sections included."""
    found = {model}
    for field in model.model_fields.values():
        nested = field_model(field)
        if nested is not None and nested not in found:
            found |= _models(nested)
    return found


def test_every_config_model_is_a_strict_frozen_pydantic_model() -> None:
    models = _models(StackConfig)
    assert len(models) > 10  # the sections of every cloud were reached
    for model in models:
        assert issubclass(model, pydantic.BaseModel)
        config = model.model_config
        assert (config["extra"], config["frozen"], config["str_strip_whitespace"]) == (
            "forbid",
            True,
            True,
        ), model


def _bool_and_int_schemas(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list):
        return [found for item in schema for found in _bool_and_int_schemas(item)]
    if not isinstance(schema, dict):
        return []
    own = [schema] if schema.get("type") in ("bool", "int") else []
    return own + [found for value in schema.values() for found in _bool_and_int_schemas(value)]


def test_every_true_false_and_whole_number_setting_is_strict_once_built() -> None:
    # The models are built on first use (defer_build), after their bool and int fields
    # were made strict: a "no" or "1" in a stack file must still be refused, everywhere.
    for model in _models(StackConfig):
        schemas = _bool_and_int_schemas(dict(model.__pydantic_core_schema__))
        assert all(s.get("strict") is True for s in schemas), (model, schemas)
    gcp = _models(StackConfig) - {StackConfig}
    assert any(_bool_and_int_schemas(dict(m.__pydantic_core_schema__)) for m in gcp)


def test_an_unknown_key_is_refused_naming_the_keys_allowed_there() -> None:
    problems = _problems({"pools": [_gcp_pool(regoin="us-east1")]})
    assert problems == [
        "pushpools:pools[0].gcp.regoin: unknown key; allowed keys here: "
        "act_as_service_accounts, delete_images_on_destroy, delete_untagged_images_after_days, "
        "enable_services, key_generation, names, network, prefect_api_auth_string_secret, "
        "prefect_api_key_secret, project, region, runtime_roles, service_account_user_scope"
    ]


def test_a_validated_model_is_frozen() -> None:
    pool = PoolConfig.model_validate(_gcp_pool())
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        pool.name = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        pool.gcp.region = "us-east1"


def test_text_is_stripped_of_surrounding_spaces() -> None:
    pool = PoolConfig.model_validate(
        {
            "name": " ml ",
            "type": "cloud-run:push",
            "gcp": {"project": "  my-project\t", "runtime_roles": [" roles/viewer "]},
        }
    )
    assert (pool.name, pool.gcp.project, pool.gcp.runtime_roles) == (
        "ml",
        "my-project",
        ["roles/viewer"],
    )


def test_one_pass_reports_every_problem() -> None:
    # Problems in two pools, in a lazily loaded section and at the top level, at once.
    problems = _problems(
        {
            "pools": [
                _gcp_pool(region="mars-1", key_generation=0),
                {"name": "Bad Name", "type": "ecs:push", "aws": {"launch_type": "EC2"}},
            ],
            "labels": "team",
        }
    )
    assert [p.split(":", 2)[1] for p in problems] == [
        "pools[0].gcp.region",
        "pools[0].gcp.key_generation",
        "pools[1].name",
        "pools[1].aws.region",
        "pools[1].aws.launch_type",
        "labels",
    ]


def test_resolved_names_do_not_count_as_set() -> None:
    # Written back as component args, a pool carries only what its user set.
    pool = PoolConfig.model_validate(_gcp_pool(names={"repository": "images"}))
    assert pool.gcp.names.service_account == "ml-prefect"
    assert pool.gcp.names.model_fields_set == {"repository"}
    assert pool.model_dump(mode="json", exclude_unset=True)["gcp"] == {
        "project": "my-project",
        "names": {"repository": "images"},
    }


def test_each_model_has_its_own_default_list() -> None:
    first = PoolConfig.model_validate(_gcp_pool())
    second = PoolConfig.model_validate(_gcp_pool())
    first.gcp.runtime_roles.append("roles/viewer")
    assert second.gcp.runtime_roles == []


def test_every_setting_is_described_in_the_json_schema() -> None:
    schema = StackConfig.model_json_schema()
    models = {"StackConfig": schema, **schema["$defs"]}
    assert "CloudRunSettings" in models  # a lazily loaded section is described as well
    undescribed = [
        f"{model}.{name}"
        for model, model_schema in models.items()
        for name, setting in model_schema.get("properties", {}).items()
        if not setting.get("description")
    ]
    assert undescribed == []
