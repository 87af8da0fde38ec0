"""Tools beside the pushpools library: the `pushpools` command (offline plan, plan diff,
migration from Prefect's `--provision-infra` helper), the offline engine and provider mocks
behind it, and the GitOps pipeline's own identities.

A distribution of its own (`pushpools-tools`), so that a program that uses the library
imports none of this.
"""
