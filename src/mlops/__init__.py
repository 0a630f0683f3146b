"""The `mlops` command line and the local engine of the Azure ML template.

Everything here reads the repo's Azure ML YAML; nothing defines a component, pipeline or asset twice.
"""

__version__ = "0.1.0"
