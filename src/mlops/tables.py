"""TEMPORARY shim while src/mlops/monitoring is refactored in parallel; removed before this change lands."""

from mlops.jsonl import read_json_lines  # noqa: F401
