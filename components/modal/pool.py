"""Modal: a `modal:push` pool needs no cloud resources, only its token in a block.

The stack program reads the token ID and secret from secret stack config, so they are
Pulumi secrets from the start and never stand in plain text in a stack file or an output;
the component makes whatever it is given a secret too.
"""

from typing import NotRequired, TypedDict

import pulumi

from pushpools.components.config import PoolType
from pushpools.components.modal.settings import ModalSettings
from pushpools.components.pool_args import ArgsSpec
from pushpools.components.pool_component import PoolComponent


class ModalPushPoolArgs(TypedDict):
    """The arguments of a Modal pool; each is the stack-config key named in brackets."""

    token_id: pulumi.Input[str]
    """Modal token ID, ak-... (stack users set it as a secret [modalTokenId])."""
    token_secret: pulumi.Input[str]
    """Modal token secret, as-... (stack users set it as a secret [modalTokenSecret])."""
    credentials_block_name: NotRequired[str]
    """Name of the credentials block [credentials_block_name]; default
    `<name>-modal-credentials`, as Prefect's helper names it."""
    env: NotRequired[dict[str, str]]
    """Environment variables of every flow run [modal.env]; no secrets: template defaults
    are plain text in Prefect."""


ARGS = ArgsSpec(
    component="ModalPushPool",
    default_type=PoolType.MODAL_PUSH,
    takes_labels=False,
    keys={"credentials_block_name": "credentials_block_name", "env": "modal.env"},
    own_args=frozenset({"token_id", "token_secret"}),
    # Where the stack program reads the token from: not component args. `naming` is
    # refused by the stack config for a pool that creates no named resource.
    handled_by_the_stack=frozenset(
        {
            "name",
            "description",
            "prefect",
            "naming",
            "modal.token_id_key",
            "modal.token_secret_key",
        }
    ),
)


class ModalPushPool(PoolComponent):
    """One Modal work pool: its credentials block payload and template defaults."""

    def __init__(
        self,
        name: str,
        args: ModalPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:modal:ModalPushPool", name, ARGS, args, opts)
        modal = self._cloud_settings(ModalSettings)
        self._finish(
            credentials_data=pulumi.Output.all(
                token_id=args["token_id"], token_secret=args["token_secret"]
            ),
            template_defaults={"env": modal.env} if modal.env else {},
            image_namespace=None,
        )
