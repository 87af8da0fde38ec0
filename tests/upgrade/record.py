"""Re-record the plans the upgrade test compares with: `.venv/bin/python -m tests.upgrade.record`.

Only for a change that is meant to alter what users' stacks declare, and only together with
a CHANGELOG entry that says what users of existing stacks must do.
"""

from __future__ import annotations

import json
import os

from tests.upgrade.stacks import DIGEST_KEY, RECORDED_DIR, STACK_FILES


def plan_of(name: str) -> dict:
    """The JSON plan of one recorded stack, as `pushpools plan --json` prints it."""
    from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document, run_stack
    from pushpools_tools.provider_mocks.keys import canary_key_material
    from pushpools_tools.stackfile import load_stack
    from tests.clock import fixed_clock
    from tests.upgrade.stacks import PROJECT_DIR

    settings = load_stack(PROJECT_DIR, STACK_FILES[name], stack=name)
    previous = os.environ.get(DIGEST_KEY_ENV)
    os.environ[DIGEST_KEY_ENV] = DIGEST_KEY
    try:
        # Mocked keys hold the plan's canary, as in `pushpools plan`: the same every run.
        # On the tests' fixed day: a rotation's dates are the same every run.
        with canary_key_material(), fixed_clock():
            return plan_document(run_stack(PROJECT_DIR, settings), settings)
    finally:
        if previous is None:
            del os.environ[DIGEST_KEY_ENV]
        else:
            os.environ[DIGEST_KEY_ENV] = previous


def main() -> None:
    RECORDED_DIR.mkdir(exist_ok=True)
    for name in STACK_FILES:
        path = RECORDED_DIR / f"{name}.json"
        path.write_text(json.dumps(plan_of(name), indent=1, sort_keys=True) + "\n")
        print(f"recorded {path}")


if __name__ == "__main__":
    main()
