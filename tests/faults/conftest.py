"""The fault-injection suite (see README.md): its marker, so `pytest -m faults` selects it. It is not skipped
anywhere: `make test` runs it with everything else."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "faults: fault injection (signals, kills, busy ports, stale state)")
