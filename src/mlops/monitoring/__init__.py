"""The local model monitor: Azure ML's monitoring signals, computed the way Azure defines them.

`run_monitor` is the entry point; monitoring/README.md describes the signals, definitions and the retrain rule.
kinds.py is the registry with one entry per signal type.
"""

from mlops.monitoring.config import load_config, reference_assets
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.history import should_retrain
from mlops.monitoring.monitor import run_monitor
from mlops.monitoring.results import MonitorResult
from mlops.monitoring.settings import MonitorConfig

__all__ = [
    "MonitorConfig",
    "MonitorInputError",
    "MonitorResult",
    "load_config",
    "reference_assets",
    "run_monitor",
    "should_retrain",
]
