"""The pushpools components, imported as `pushpools.components` and by no other name.

In a checkout this folder is reached through the link `pushpools/components`; an installed
wheel carries it as `pushpools/components`. A second name (`components`, with the project
folder on the path) would load a second copy of every module: two classes for one thing,
and dynamic providers pickled under a module path no installed library has.
"""

if __name__ != "pushpools.components":
    raise ImportError(
        f"the pushpools components were imported as {__name__!r}; import them as "
        "'pushpools.components' (one name, one copy of each module)"
    )
