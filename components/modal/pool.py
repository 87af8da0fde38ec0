"""Modal: a `modal:push` pool needs no cloud resources, only its token in a block.

The stack program reads the token ID and secret from secret stack config, so they are
Pulumi secrets from the start and never stand in plain text in a stack file or an output;
the component makes whatever it is given a secret too.
"""

from typing import NotRequired, TypedDict

import pulumi

from pushpools.components.config import Cloud
from pushpools.components.modal.settings import ModalSettings
from pushpools.components.pool_component import PoolComponent


class ModalPushPoolArgs(TypedDict):
    """The `modal` section of a Modal pool in the stack config, with the same keys (each
    described by `ModalSettings`), the pool-level `credentials_block_name`, and the token
    itself, where the stack config names the secret keys that hold it."""

    token_id: pulumi.Input[str]
    """Modal token ID, ak-... (the stack program reads it from `token_id_key`)."""
    token_secret: pulumi.Input[str]
    """Modal token secret, as-... (the stack program reads it from `token_secret_key`)."""
    env: NotRequired[dict[str, str]]
    credentials_block_name: NotRequired[str]


class ModalPushPool(PoolComponent):
    """One Modal work pool: its credentials block payload and template defaults."""

    RESOURCE_TYPE = "pushpools:modal:ModalPushPool"
    CLOUD = Cloud.MODAL

    def __init__(
        self,
        name: str,
        args: ModalPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        modal = self._cloud_settings(ModalSettings)
        self._finish(
            credentials_data=pulumi.Output.all(
                token_id=self._secret("token_id"), token_secret=self._secret("token_secret")
            ),
            template_defaults={"env": modal.env} if modal.env else {},
            image_namespace=None,
        )
