"""Settings of a Modal push pool: where its token is, and the runs' environment."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.config.errors import holds_credential
from pushpools.components.config.prefect import secret_key_of_a_pool

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ModalSettings(ConfigModel):
    """The `modal` section of a Modal pool. May be left out: every setting has a default."""

    token_id_key: str = Field(
        default="modalTokenId",
        description=(
            "Secret stack-config key holding the Modal token ID (`pulumi config set --secret "
            "pushpools:modalTokenId ak-...`)."
        ),
    )
    token_secret_key: str = Field(
        default="modalTokenSecret",
        description=(
            "Secret stack-config key holding the Modal token secret (`pulumi config set --secret "
            "pushpools:modalTokenSecret as-...`)."
        ),
    )
    env: dict[str, str] = Field(
        default={},
        description=(
            "Environment variables of every flow run (the template's `env`); no secrets here: "
            "template defaults are plain text in Prefect."
        ),
    )

    @field_validator("token_id_key", "token_secret_key")
    @classmethod
    def _config_key(cls, value: str) -> str:
        return secret_key_of_a_pool(value, "Modal token", "modalTokenId / modalTokenSecret")

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        return valid_env(env)

    @model_validator(mode="after")
    def _two_keys(self) -> ModalSettings:
        if self.token_id_key == self.token_secret_key:
            raise ValueError(
                f"token_id_key and token_secret_key are both {self.token_id_key!r}; "
                "the token ID and secret need one key each"
            )
        return self

    def secret_config_keys(self) -> dict[str, str]:
        """Top-level secret config keys this pool reads -> the setting that names each."""
        return {
            self.token_id_key: "modal.token_id_key",
            self.token_secret_key: "modal.token_secret_key",
        }


def valid_env(env: dict[str, str]) -> dict[str, str]:
    bad = [name for name in env if not _ENV_NAME.match(name)]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not an environment variable name; allowed: letters, digits "
            "and '_', not starting with a digit"
        )
    # Template defaults are plain text in Prefect, readable by every workspace member.
    secrets = [name for name, value in env.items() if holds_credential(value)]
    if secrets:
        raise ValueError(
            f"{secrets[0]!r} holds a credential (a Prefect API key, or a URL with a password "
            "or a key); env values are plain text in Prefect, readable by anyone who can "
            "read the work pool: keep credentials in a secret store or a Prefect Secret "
            "block, not here"
        )
    return env
