"""A Cloud Run pool's way into a VPC: a Serverless VPC Access connector (created, or an
existing one), the grants Google's service agents need across projects for a Shared VPC,
and the template default that points the jobs at it.

Who needs what (Google's Shared VPC pages for Cloud Run and Serverless VPC Access):
- the jobs' runtime account: nothing; the connector carries traffic, not identity;
- a connector in the pool's own project, on its own network: nothing more (the Cloud Run
  service agent may use the project's connectors through its own role);
- a connector created in the pool's project on a Shared VPC host's subnet: the pool
  project's Serverless VPC Access service agent and Google APIs service agent need
  `compute.networkUser` on that subnet (granted on the subnet only, not the host project);
- an existing connector in another project (a host project's shared connector): the pool
  project's Cloud Run service agent needs `vpcaccess.user` on that project.
"""

from collections.abc import Callable

import pulumi
from pulumi_gcp import compute, organizations, projects, vpcaccess

from pushpools.components.gcp.network_settings import CloudRunNetwork, NewConnector

VPC_ACCESS_API = "vpcaccess.googleapis.com"
NETWORK_USER_ROLE = "roles/compute.networkUser"
CONNECTOR_USER_ROLE = "roles/vpcaccess.user"

Grant = Callable[[pulumi.Resource], object]
"""Records a grant the pool's Prefect objects must wait for."""


def services_needed(network: CloudRunNetwork | None) -> tuple[str, ...]:
    """APIs the pool's project needs for its network: creating a connector needs the
    Serverless VPC Access API there (using an existing one does not)."""
    return (VPC_ACCESS_API,) if network is not None and network.connector is not None else ()


def declare_network(
    name: str,
    network: CloudRunNetwork,
    project: pulumi.Input[str],
    pool_project: str,
    region: str,
    after_services: pulumi.ResourceOptions,
    granted: Grant,
) -> pulumi.Output[str]:
    """Declare the pool's connector (or the grants to use an existing one); returns the
    connector's full name, the template's `vpc_connector_name`.

    `pool_project` is the validated project ID (a stand-in when `project` is another
    resource's output); `after_services` makes a resource wait for the APIs."""
    if network.connector is not None:
        return _new_connector(name, network.connector, project, region, after_services, granted)
    existing = str(network.existing_connector)
    if network.existing_connector_project != pool_project:
        # Another project's connector (a Shared VPC host's). Compared by ID: a project
        # given by number, or a pool project that is an output, gets the grant even if it
        # is the pool's own project, where it is redundant and harmless.
        granted(
            projects.IAMMember(
                f"{name}-run-agent-vpcaccess-user",
                project=str(network.existing_connector_project),
                role=CONNECTOR_USER_ROLE,
                member=_project_number(project).apply(
                    lambda n: (
                        f"serviceAccount:service-{n}@serverless-robot-prod.iam.gserviceaccount.com"
                    )
                ),
                opts=after_services,
            )
        )
    return pulumi.Output.from_input(existing)


def _new_connector(
    name: str,
    connector: NewConnector,
    project: pulumi.Input[str],
    region: str,
    after_services: pulumi.ResourceOptions,
    granted: Grant,
) -> pulumi.Output[str]:
    subnet_grants: list[pulumi.Resource] = []
    if connector.host_project is not None:
        number = _project_number(project)
        # Google creates the connector's instances in the host's subnet as these agents.
        for agent, email in (
            ("vpcaccess-agent", "service-{}@gcp-sa-vpcaccess.iam.gserviceaccount.com"),
            ("google-apis-agent", "{}@cloudservices.gserviceaccount.com"),
        ):
            grant = compute.SubnetworkIAMMember(
                f"{name}-{agent}-network-user",
                project=connector.host_project,
                region=region,
                subnetwork=str(connector.subnet),
                role=NETWORK_USER_ROLE,
                member=number.apply(lambda n, e=email: "serviceAccount:" + e.format(n)),
                opts=after_services,
            )
            granted(grant)
            subnet_grants.append(grant)
    subnet: vpcaccess.ConnectorSubnetArgsDict | None = None
    if connector.subnet is not None:
        subnet = {"name": connector.subnet}
        if connector.host_project is not None:
            subnet["project_id"] = connector.host_project
    created = vpcaccess.Connector(
        f"{name}-vpc-connector",
        project=project,
        region=region,
        name=connector.name,
        network=connector.network,
        ip_cidr_range=connector.ip_cidr_range,
        subnet=subnet,
        min_instances=connector.min_instances,
        max_instances=connector.max_instances,
        machine_type=connector.machine_type.value,
        opts=pulumi.ResourceOptions.merge(
            after_services, pulumi.ResourceOptions(depends_on=subnet_grants)
        ),
    )
    # The full name, as Cloud Run takes it: it holds for a connector of any project.
    return pulumi.Output.all(project, created.name).apply(
        lambda values: f"projects/{values[0]}/locations/{region}/connectors/{values[1]}"
    )


def _project_number(project: pulumi.Input[str]) -> pulumi.Output[str]:
    """The project's number, which names its Google-managed service agents."""
    return organizations.get_project_output(project_id=project).number
