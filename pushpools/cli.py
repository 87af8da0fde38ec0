"""`pushpools`: the offline plan of a stack, for machines without clouds or the Pulumi CLI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_BAD_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pushpools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline",
        description="Run the stack program on an offline engine and show every resource, "
        "output and Prefect registration it would declare. Needs no credentials.",
    )
    which = plan.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="stack name: reads stacks/Pulumi.<NAME>.yaml")
    which.add_argument("--stack-file", type=Path, help="any file in Pulumi's stack-config format")
    plan.add_argument("--json", action="store_true", help="print a machine-readable plan")
    args = parser.parse_args(argv)
    return _plan(args.stack, args.stack_file, as_json=args.json)


def _plan(stack: str | None, stack_file: Path | None, *, as_json: bool) -> int:
    # Imported here so that `pushpools --help` stays instant.
    from pushpools.components.config import ConfigError
    from pushpools.plan import plan_document, render_text, run_stack
    from pushpools.provider_mocks.keys import canary_key_material
    from pushpools.stackfile import StackFileError, load_stack, project_dir, stack_file_path

    try:
        directory = project_dir()
        path = stack_file if stack_file is not None else stack_file_path(directory, str(stack))
        settings = load_stack(directory, path, stack)
        with canary_key_material():
            run = run_stack(directory, settings)
    except (ConfigError, StackFileError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_CONFIG
    if as_json:
        json.dump(plan_document(run), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
