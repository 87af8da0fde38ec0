"""The pushpools component package, served to every Pulumi language.

Pulumi starts this file as the package's plugin (see PulumiPlugin.yaml); it prints its port
and answers the engine over gRPC: GetSchema, and Construct for each component.
"""

from pushpools.components.package import serve

if __name__ == "__main__":
    serve()
