"""`pushpools`: the offline plan of a stack, for machines without clouds or the Pulumi CLI."""

from __future__ import annotations

import argparse
import gc
import json
import re
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
    _add_review_arguments(plan, which)
    _add_migrate(commands)
    args = parser.parse_args(argv)
    problem = _argument_problem(args)
    if problem:
        print(f"pushpools {args.command}: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.command == "migrate":
        return _migrate(args)
    if args.diff or args.compare_to or args.diagram:
        return _review(args)
    return _plan(args.stack, args.stack_file, as_json=args.json)


# A stack's name as Pulumi allows it (the file is stacks/Pulumi.<name>.yaml).
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _argument_problem(args: argparse.Namespace) -> str | None:
    """An argument that names no stack, or a flag that would do nothing in this mode:
    said, never ignored."""
    if args.stack is not None and not _STACK_NAME.match(args.stack):
        return (
            f"--stack {args.stack!r}: not a stack name (letters, digits, '.', '_' and '-'; "
            "the file is stacks/Pulumi.<name>.yaml); for a file elsewhere use --stack-file"
        )
    if args.command != "plan":
        return None
    comparing = bool(args.diff or args.compare_to)
    if args.diff and args.compare_to:
        return (
            "--diff compares two plan files and --compare-to the stack at a revision; "
            "give one of them"
        )
    if args.compare_to is not None and args.stack is None:
        return "--compare-to needs --stack NAME (a stack under stacks/)"
    if args.markdown and not comparing:
        return (
            "--markdown formats a comparison and does nothing without one; add --diff OLD NEW "
            "or --compare-to REV (--diagram prints Markdown already)"
        )
    if args.json and (comparing or args.diagram):
        return (
            "--json prints a plan and does nothing with --diff, --compare-to or --diagram; "
            "drop it, or run `pushpools plan --json` on its own"
        )
    return None


def _add_review_arguments(
    plan: argparse.ArgumentParser, which: argparse._MutuallyExclusiveGroup
) -> None:
    which.add_argument(
        "--diff",
        nargs=2,
        type=Path,
        metavar=("OLD_JSON", "NEW_JSON"),
        help="compare two plans made with --json",
    )
    plan.add_argument(
        "--compare-to",
        metavar="REV",
        help="with --stack: compare the stack at git revision REV (its stack file and program) "
        "with the working tree",
    )
    plan.add_argument(
        "--markdown", action="store_true", help="print the comparison as Markdown (PR comments)"
    )
    plan.add_argument(
        "--diagram",
        action="store_true",
        help="print a Mermaid diagram of the stack and each pool's critical path (Markdown)",
    )


def _review(args: argparse.Namespace) -> int:
    """The reviewer's views: a plan diff (two JSON files, or a stack at two revisions)
    and the dependency diagram."""
    from pushpools_tools.compare import CompareError, plans_to_compare
    from pushpools_tools.diagram import critical_paths_markdown, mermaid
    from pushpools_tools.diff import diff_plans, render_markdown, render_text
    from pushpools_tools.plan_file import PlanFileError, read_plan
    from pushpools_tools.stackfile import StackFileError, project_dir

    try:
        if args.diff:
            old, new = (read_plan(path) for path in args.diff)
        elif args.compare_to:
            old, new = plans_to_compare(project_dir(), args.stack, args.compare_to)
        else:
            old = new = _plan_document(args.stack, args.stack_file)
    except (CompareError, PlanFileError, StackFileError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_CONFIG
    output = ""
    if args.diff or args.compare_to:
        difference = diff_plans(old, new)
        output = render_markdown(difference) if args.markdown else render_text(difference)
    if args.diagram:
        try:
            output += "\n```mermaid\n" + mermaid(new) + "```\n\n" + critical_paths_markdown(new)
        except RecursionError:  # only a plan file made by hand nests or chains this deep
            print(
                "--diagram: the plan's resources nest or chain too deeply to draw", file=sys.stderr
            )
            return EXIT_BAD_CONFIG
    sys.stdout.write(output)
    return 0


def _plan_document(stack: str | None, stack_file: Path | None) -> dict:
    import contextlib
    import io

    from pushpools_tools.stackfile import StackFileError

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = _plan(stack, stack_file, as_json=True)
    if status != 0:
        raise StackFileError("the stack cannot be planned (see above)")
    return json.loads(out.getvalue())


def _plan(stack: str | None, stack_file: Path | None, *, as_json: bool) -> int:
    # Imported here so that `pushpools --help` stays instant.
    from pushpools.components.loader import ConfigError
    from pushpools_tools.plan import plan_document, render_text, run_stack
    from pushpools_tools.provider_mocks.keys import canary_key_material
    from pushpools_tools.stackfile import StackFileError, load_stack, project_dir, stack_file_path

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
        json.dump(plan_document(run, settings), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(run, settings))
    return 0


def _add_migrate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="write a `pulumi import --file` for pools made with --provision-infra",
        description="For pools that `prefect work-pool create --provision-infra` made: write "
        "the bulk-import file that puts the helper's objects into the stack's state under "
        "the names the program declares, and print what is imported, created, replaced and "
        "left behind, with every command to run, in order. Offline.",
    )
    which = migrate.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="stack name: reads stacks/Pulumi.<NAME>.yaml")
    which.add_argument("--stack-file", type=Path, help="any file in Pulumi's stack-config format")
    migrate.add_argument(
        "--dry-run", action="store_true", help="print what would happen; write nothing"
    )
    migrate.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the import file "
        "(default: pushpools-import.json in the current folder)",
    )
    migrate.add_argument(
        "--pool", action="append", default=[], help="migrate only this pool (repeatable)"
    )
    migrate.add_argument(
        "--helper-vpc",
        action="store_true",
        help="ECS pools: import the VPC the helper made (it does when the account has no "
        "default VPC); the pool's aws.network.cidr_block must be that VPC's CIDR",
    )


def _migrate(args: argparse.Namespace) -> int:
    from pushpools.components.loader import ConfigError
    from pushpools_tools.migrate import (
        DEFAULT_IMPORT_FILE,
        MigrateOptions,
        MigrationError,
        build_migration,
        import_file,
        render,
    )
    from pushpools_tools.plan import run_stack
    from pushpools_tools.provider_mocks.keys import canary_key_material
    from pushpools_tools.stackfile import StackFileError, load_stack, project_dir, stack_file_path

    out: Path = args.out if args.out is not None else Path(DEFAULT_IMPORT_FILE)
    options = MigrateOptions(helper_vpc=args.helper_vpc, pools=tuple(args.pool))
    try:
        directory = project_dir()
        path = args.stack_file or stack_file_path(directory, str(args.stack))
        problem = _output_problem(out, [path, directory / "Pulumi.yaml"])
        if problem:
            raise MigrationError([problem])
        settings = load_stack(directory, path, args.stack)
        problem = _output_problem(out, _template_files(settings.config))
        if problem:
            raise MigrationError([problem])
        with canary_key_material():
            run = run_stack(directory, settings)
        migration = build_migration(run, settings, options)
        document = import_file(migration)
    except (ConfigError, StackFileError, MigrationError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not args.dry_run:
        try:
            out.write_text(json.dumps(document, indent=4) + "\n")
        except OSError as error:
            print(f"--out {out}: cannot be written: {error.strerror or error}", file=sys.stderr)
            return EXIT_BAD_CONFIG
    sys.stdout.write(render(migration, str(out), written=not args.dry_run))
    return 0


def _output_problem(out: Path, inputs: list[Path]) -> str | None:
    """Why the import file cannot go to `out`: a folder, a missing folder, or a file
    pushpools reads (the stack file, Pulumi.yaml, a template) or Pulumi does."""
    if out.is_dir():
        return f"--out {out}: is a folder; give a file path, e.g. {out / 'pushpools-import.json'}"
    folder = out.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return f"--out {out}: the folder {folder} {what}; create it, or choose another path"
    if out.exists():
        for given in inputs:
            if given.exists() and out.resolve() == given.resolve():
                return (
                    f"--out {out}: is {given}, which this migration reads; choose another "
                    f"path (default: ./pushpools-import.json)"
                )
        if re.match(r"^Pulumi(\..+)?\.ya?ml$", out.name):
            return (
                f"--out {out}: would overwrite a Pulumi project or stack file; choose "
                "another path (default: ./pushpools-import.json)"
            )
    return None


def _template_files(config: dict[str, str]) -> list[Path]:
    """The base job template files the stack's pools name (read by the stack program)."""
    try:
        pools = json.loads(config.get("pushpools:pools", "[]"))
    except json.JSONDecodeError:
        return []
    files = []
    for pool in pools if isinstance(pools, list) else []:
        prefect = pool.get("prefect") if isinstance(pool, dict) else None
        name = prefect.get("base_job_template_file") if isinstance(prefect, dict) else None
        if isinstance(name, str) and name:
            files.append(Path(name))
    return files


def run() -> None:
    """The `pushpools` command: `main` in a process of its own, which it ends quickly.

    At exit the interpreter walks every object the cloud SDKs created, to collect garbage
    that the operating system reclaims anyway (60-100 ms of a 0.3-0.6 s plan). Frozen
    objects are skipped; output is flushed and exit handlers run as usual.
    """
    status = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
