"""Code shared by the tabular components (prep, train, evaluate, register).

Each component brings this package into its code snapshot with Azure ML's `additional_includes`
(`../shared/tabular_common`), so on Azure and locally it is importable as `tabular_common` from the snapshot
root. It must stay small and depend only on packages of the training environment (pandas, numpy, pyarrow,
pyyaml, scikit-learn); it never imports the project package under `src/`.
"""

from tabular_common.errors import DataError, run_main

__all__ = ["DataError", "run_main"]
