"""pushpools' guardrails as Pulumi CrossGuard rules.

Each rule is a plain function of a resource's type and properties (its inputs, or for
the rules that judge the result of an update, its outputs), returning one message per
violation that says what to change. `pack.py` turns them into CrossGuard policies;
`__main__.py` (the pack's entry point) serves them.
"""
