"""Cloud Run: which of the helper's objects a pool's resources import, and the clean-up.

Import IDs follow the "Import" section of each resource's page in the Pulumi Registry
(pulumi-gcp), cited next to each rule.
"""

from __future__ import annotations

from pushpools.components.config import PoolConfig
from pushpools.components.gcp.pool import ACT_AS_ROLE, PREFECT_ROLE
from pushpools.components.gcp.settings import CloudRunSettings
from pushpools_tools.migrate_model import Action, CloudPlan, Decision, Declared, Step

# Google's quota of user-managed keys per service account (IAM quotas and limits).
KEYS_PER_ACCOUNT = 10
# The APIs `--provision-infra` enables; it forgets iam.googleapis.com.
HELPER_SERVICES = ("run.googleapis.com", "artifactregistry.googleapis.com")

SERVICE = "gcp:projects/service:Service"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
ACCOUNT_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
KEY = "gcp:serviceaccount/key:Key"
PAUSE = "pulumi-python:dynamic/pushpools:Pause"


def _settings(pool: PoolConfig) -> CloudRunSettings:
    assert pool.gcp is not None
    return pool.gcp


def prefect_account_email(gcp: CloudRunSettings) -> str:
    return f"{gcp.names.service_account}@{gcp.project}.iam.gserviceaccount.com"


def decide_all(resources: list[Declared]) -> dict[str, Decision]:
    """Each of a pool's resources -> what happens to it (by URN)."""
    return {r.urn: _decide(r) for r in resources}


def _decide(resource: Declared) -> Decision:
    gcp = _settings(resource.pool)
    inputs = resource.inputs
    if resource.type == SERVICE:
        if inputs["service"] in HELPER_SERVICES:
            # pulumi-gcp projects.Service, Import: `{{project_id}}/{{service}}`.
            return Decision(Action.IMPORT, f"{inputs['project']}/{inputs['service']}")
        return Decision(
            Action.CREATE,
            why="the helper does not enable it; enabling an API that is already on changes nothing",
        )
    if resource.type == PAUSE:
        return Decision(
            Action.CREATE,
            why="a one-time wait for newly enabled APIs; nothing exists in Google Cloud",
        )
    if resource.type == REPOSITORY:
        # pulumi-gcp artifactregistry.Repository, Import:
        # `projects/{{project}}/locations/{{location}}/repositories/{{repository_id}}`.
        return Decision(
            Action.IMPORT,
            f"projects/{inputs['project']}/locations/{inputs['location']}"
            f"/repositories/{inputs['repositoryId']}",
        )
    if resource.type == ACCOUNT:
        if inputs["accountId"] != gcp.names.service_account:
            return Decision(
                Action.CREATE,
                why="the helper runs jobs as the default compute account; pushpools gives "
                "them an account of their own",
            )
        # pulumi-gcp serviceaccount.Account, Import:
        # `projects/{{project_id}}/serviceAccounts/{{email}}`.
        email = f"{inputs['accountId']}@{inputs['project']}.iam.gserviceaccount.com"
        return Decision(Action.IMPORT, f"projects/{inputs['project']}/serviceAccounts/{email}")
    if resource.type == PROJECT_MEMBER:
        helper_member = f"serviceAccount:{prefect_account_email(gcp)}"
        if inputs["member"] == helper_member and inputs["role"] in (PREFECT_ROLE, ACT_AS_ROLE):
            # pulumi-gcp projects.IAMMember, Import: the project, role and member separated
            # by spaces: `"{{project_id}} roles/viewer user:foo@example.com"`.
            return Decision(
                Action.IMPORT, f"{inputs['project']} {inputs['role']} {inputs['member']}"
            )
        return Decision(Action.CREATE, why="a grant the helper does not make")
    if resource.type == ACCOUNT_MEMBER:
        return Decision(
            Action.CREATE,
            why="Prefect may act as the runtime account only (the helper grants "
            f"{ACT_AS_ROLE} on the whole project)",
        )
    if resource.type == KEY:
        return Decision(Action.NEW_KEY, why="a key file cannot be read back from Google")
    raise LookupError(resource.type)


def plan(pool: PoolConfig) -> CloudPlan:
    gcp = _settings(pool)
    email = prefect_account_email(gcp)
    project = f"--project {gcp.project}"
    cloud = CloudPlan()
    keys = (
        f"gcloud iam service-accounts keys list --iam-account {email} --managed-by user {project}"
    )
    cloud.before_up.append(
        Step(
            f"GCP allows {KEYS_PER_ACCOUNT} keys per service account, and the helper mints one "
            f"on every run: if {email} has {KEYS_PER_ACCOUNT} user-managed keys, delete one "
            "that no block uses (not the key in the helper's block, which runs flows until "
            "`pulumi up` replaces it), or `pulumi up` cannot create the new key",
            (
                keys,
                f"gcloud iam service-accounts keys delete <UNUSED_KEY_ID> --iam-account {email} "
                f"{project}",
            ),
        )
    )
    cloud.after_up.append(
        Step(
            "Delete the helper's key of the Prefect service account (the block holds the "
            f"new key: its ID ends the ID of `{pool.name}-key` in `pulumi stack --show-ids`)",
            (
                f"gcloud iam service-accounts keys list --iam-account {email} "
                f"--managed-by user {project}",
                f"gcloud iam service-accounts keys delete <OLD_KEY_ID> --iam-account {email} "
                f"{project}",
            ),
        )
    )
    if gcp.service_account_user_scope == "runtime-account":
        cloud.after_up.append(
            Step(
                f"Remove the helper's project-wide {ACT_AS_ROLE} grant: Prefect's account "
                "may now act as the runtime account only",
                (
                    f"gcloud projects remove-iam-policy-binding {gcp.project} "
                    f"--member serviceAccount:{email} --role {ACT_AS_ROLE} --condition None",
                ),
            )
        )
    cloud.after_up.append(
        Step(
            "Jobs the helper's pool kept (`keep_job`) run as the default compute account: "
            "list them with their account, and delete those that do",
            (
                f"gcloud run jobs list --region {gcp.region} {project} "
                "--format 'value(metadata.name,"
                "spec.template.spec.template.spec.serviceAccountName)'",
                f"gcloud run jobs delete <JOB_NAME> --region {gcp.region} {project}",
            ),
        )
    )
    cloud.notes.append(
        "The repository and the region must be the helper's: it made "
        f"{gcp.names.repository!r} in the region it ran with (default us-central1); check "
        f"with `gcloud artifacts repositories list {project}`."
    )
    return cloud
