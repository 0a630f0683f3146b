"""The local target: the same YAML, run on this machine with real MLflow and the real Azure inference server."""
