"""`mlops batch-score INPUT`: a batch deployment's scoring, locally (the batch driver) or as an Azure batch job.

Exit codes (local target):

- 0: the job succeeded; `predictions.csv` is complete. Files that failed within the deployment's
  `error_threshold` are reported with the counts (files, rows) and the first failure.
- 1: the job failed: more files failed than `error_threshold` allows, or every file failed (no row was scored).
  No output file is written.
- 2: bad input, found before anything is scored: the input does not exist, a folder has no files, or no file can
  be scored (empty, header only, unreadable, not CSV/parquet, or missing a column the model needs); one line names
  the file and the column. No output file is written.

The output file is written under a temporary name and renamed when complete, so it is never empty or partial.
A job that runs longer than a few seconds shows its progress on stderr (files and rows done): a bar on a
terminal, a plain line every 10 s elsewhere (`MLOPS_PROGRESS_INTERVAL`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client, local_model, model_layout


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    batch = verbs.add_parser(
        "batch-score",
        parents=[flags.model, flags.target, flags.wait],
        help="score files with the batch deployment's script, like a batch endpoint",
    )
    batch.add_argument("input", type=Path, help="a CSV/parquet file or a folder of them")
    batch.add_argument("--output", type=Path, help="output folder (default: a new folder under .mlops/batch/)")
    batch.add_argument("--deployment", type=Path, help="batch deployment YAML (default: the model's batch deployment)")
    batch.set_defaults(func=batch_score)


def batch_score(args: argparse.Namespace) -> int:
    model = model_layout(args.model)
    if args.target == "azure":
        from mlops.targets.azure import batch

        batch.invoke(azure_client(model.project), model, str(args.input), args.wait)
        return EXIT_OK
    from datetime import UTC, datetime

    from mlops.targets.local import batch
    from mlops.targets.local.registry import materialize

    state = model.state.ensure()
    settings = batch.BatchSettings.from_yaml(args.deployment or model.batch_deployment)
    model_dir = materialize(state, local_model(model, args.model))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.output or state.batch / f"{args.input.stem}-{stamp}"
    columns = batch.scoring_columns(model_dir, settings)
    batch.invoke(settings, model_dir, args.input.resolve(), out, out / "logs" / "worker.log", columns=columns)
    return EXIT_OK
