"""The Prefect side: credentials blocks and work pools as Pulumi resources.

Nothing here imports `prefect` at module level. The resources' providers import it inside
their methods, which run in Pulumi's provider process at `pulumi up`; the stack program and
the offline plan never pay its import cost, and never contact Prefect.
"""
