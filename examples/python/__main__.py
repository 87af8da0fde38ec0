"""A platform team's own Pulumi program: two push pools and their registration in Prefect,
built from pushpools' components directly, without pushpools' stack config.

    pulumi config set gcpProject acme-data-dev
    pulumi config set prefectApiUrl https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>
    pulumi config set --secret prefectApiKey pnu_...
    pulumi up
"""

import pulumi

from pushpools.components.aws.pool import EcsPushPool
from pushpools.components.aws.settings import LaunchType
from pushpools.components.gcp.pool import CloudRunPushPool
from pushpools.components.gcp.settings import ServiceAccountUserScope
from pushpools.components.prefect.registration import PoolRegistration

config = pulumi.Config()

ml = CloudRunPushPool(
    "ml",
    {
        "project": config.require("gcpProject"),
        "region": "europe-west1",
        "service_account_user_scope": ServiceAccountUserScope.RUNTIME_ACCOUNT,
        "runtime_roles": ["roles/storage.objectViewer"],
        "labels": {"team": "data"},
    },
)
# The args are the pool's section of a stack file, nested the same way (`aws.network`, ...).
etl = EcsPushPool(
    "etl",
    {
        "region": "eu-west-1",
        "network": {"cidr_block": "10.30.0.0/16"},
        "launch_type": LaunchType.FARGATE_SPOT,
        "ecr": {"keep_last_images": 50},
        "labels": {"team": "data"},
    },
)

for pool in (ml, etl):
    PoolRegistration(
        pool.pool_name,
        {
            "api_url": config.require("prefectApiUrl"),
            "api_key": config.require_secret("prefectApiKey"),
            "pool": pool,
            "concurrency_limit": 10,
        },
    )

pulumi.export("ml_image_namespace", ml.image_namespace)
pulumi.export("etl_image_reference", etl.image_reference)
