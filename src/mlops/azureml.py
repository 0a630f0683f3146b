"""TEMPORARY shim while src/mlops/monitoring is refactored in parallel; removed before this change lands."""

from mlops.spec.loaders import load_entity, read_yaml  # noqa: F401
