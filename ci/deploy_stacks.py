"""Which stacks the deploy workflow runs, in order, or a clear refusal.

The deploy job of stack `<name>` runs in the GitHub environment `<name>` with that
environment's deploy identity, which `ci/` creates for each name in
`pushpools-ci:github.environments`. A stack file whose name is not among them would get no
deploy identity: instead of skipping it silently (it would be planned and previewed but
never deployed), this refuses the whole deploy and says what to do.

    python ci/deploy_stacks.py [ROOT]   # prints the JSON list, e.g. ["dev", "prod"]

Exit status 1 with the problems on stderr when a stack file has no deploy environment.
Run in the deploy workflow (its matrix) and by the tests (so a pull request adding such a
stack file fails before it is merged).
"""

import json
import sys
from pathlib import Path

import yaml


def deploy_environments(root: Path) -> list[str]:
    """The environments the `ci/` stacks give deploy identities to, in their order."""
    found: list[str] = []
    for path in sorted((root / "ci" / "stacks").glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        github = config.get("pushpools-ci:github") or {}
        for env in github.get("environments", ["dev", "prod"]):
            if env not in found:
                found.append(str(env))
    return found


def stack_names(root: Path) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (root / "stacks").glob("Pulumi.*.yaml")
    )


def deploy_order(root: Path) -> tuple[list[str], list[str]]:
    """(the stacks to deploy, in the environments' order; the problems)."""
    environments = deploy_environments(root)
    stacks = stack_names(root)
    problems = [
        f"stacks/Pulumi.{stack}.yaml: no deploy environment {stack!r}. Add it to "
        "pushpools-ci:github.environments in ci/stacks/, run `pulumi up` in ci/, and create "
        f"the GitHub environment {stack!r} with its deploy variables (docs/gitops.md)"
        for stack in stacks
        if stack not in environments
    ]
    return [env for env in environments if env in stacks], problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    order, problems = deploy_order(root)
    if problems:
        print("refusing to deploy:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    print(json.dumps(order))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
