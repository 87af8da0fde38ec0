"""Modal: a `modal:push` pool needs no cloud resources, only its token in a block.

The token ID and secret are read from secret stack config, so they are Pulumi secrets
from the start and never stand in plain text in a stack file or an output.
"""

from __future__ import annotations

import pulumi

from pushpools.components.config import PoolConfig
from pushpools.components.config.errors import NAMESPACE
from pushpools.components.config.modal import ModalSettings
from pushpools.components.pool_component import PoolComponent


class ModalPushPool(PoolComponent):
    """One Modal work pool: its credentials block payload and template defaults."""

    def __init__(
        self,
        pool: PoolConfig,
        stack_labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:modal:ModalPushPool", pool, opts)
        modal = self._cloud_settings(ModalSettings)
        # The loader has checked that both keys are set, as secrets.
        config = pulumi.Config(NAMESPACE)
        token_id = config.require_secret(modal.token_id_key)
        token_secret = config.require_secret(modal.token_secret_key)

        self._finish(
            credentials_data=pulumi.Output.all(token_id=token_id, token_secret=token_secret),
            template_defaults={"env": modal.env} if modal.env else {},
            image_namespace=None,
        )
