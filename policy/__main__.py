"""The policy pack the Pulumi CLI runs: `pulumi preview --policy-pack policy`.

`PolicyPack()` starts the gRPC server the CLI talks to and blocks: it is built here and
nowhere else. The rules live in `pushpools_policy`, tested without the CLI.
"""

import sys
from pathlib import Path

# The CLI starts this file from the pack's folder; make its package importable however
# it is started.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_policy import PolicyPack

from pushpools_policy.pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=build_policies())
