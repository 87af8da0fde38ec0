"""Modal: a `modal:push` pool needs no cloud resources, only its token in a block.

The token ID and secret are read from secret stack config, so they are Pulumi secrets
from the start and never stand in plain text in a stack file or an output.
"""

from __future__ import annotations

import pulumi

from components.config import PoolConfig
from components.config.errors import NAMESPACE
from components.config.modal import ModalSettings
from components.pool_component import CredentialsBlock, PoolComponent


class ModalPushPool(PoolComponent):
    """One Modal work pool: its credentials block payload and template defaults."""

    def __init__(
        self,
        pool: PoolConfig,
        stack_labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:modal:ModalPushPool", pool, opts)
        modal = _settings(pool)
        # The loader has checked that both keys are set, as secrets.
        config = pulumi.Config(NAMESPACE)
        token_id = config.require_secret(modal.token_id_key)
        token_secret = config.require_secret(modal.token_secret_key)

        assert pool.block_name is not None
        assert pool.kind.block_type_slug is not None
        assert pool.kind.credentials_variable is not None
        self._finish(
            credentials_block=CredentialsBlock(
                type_slug=pool.kind.block_type_slug,
                name=pool.block_name,
                data=pulumi.Output.secret(
                    pulumi.Output.all(token_id=token_id, token_secret=token_secret)
                ),
                template_variable=pool.kind.credentials_variable,
            ),
            template_defaults={"env": modal.env} if modal.env else {},
            image_namespace=None,
        )


def _settings(pool: PoolConfig) -> ModalSettings:
    if pool.modal is None:  # the config model guarantees it; this keeps the types honest
        raise ValueError(f"pool {pool.name!r} has no modal settings")
    return pool.modal
