"""The local batch driver: runs a batch deployment's scoring script with the semantics of Azure ML batch endpoints.

From the deployment YAML's `settings`: input files are split into mini batches of `mini_batch_size` files; each
goes to `run(mini_batch)` in a worker process (the scoring script's `init()` runs once per worker); a failing or
timed-out mini batch is retried `retry_settings.max_retries` times (a timed-out worker is killed and restarted),
then its files count against `error_threshold` (Azure: the job is aborted when the count of failed files goes
above it; -1 ignores all failures); with `output_action: append_row` the returned rows are appended, in mini-batch
order, to `output_file_name`. The output file appears only when the job succeeds (written to a temporary name,
then renamed); a summary gives the counts and the first failure.

Given the columns the scoring script needs (`scoring_columns`), the driver first reads every input file the way
endpoints/batch/score.py does (in chunks: memory stays bounded), while the worker's init() runs: when no file could
be scored (empty, header only, unreadable, not CSV/parquet, a missing column) it stops before scoring anything,
with one line naming the file and the column (bad input, not a failed job), and leaves nothing in the output
folder. Files that can be scored are scored even when others cannot, as on Azure.

The worker writes each mini batch's rows to a parquet part; the driver appends it to the output while the worker
scores the next mini batch, and removes it.
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError, StepFailed
from mlops.progress import Progress
from mlops.project import loaders
from mlops.targets.local.processes import start_group, stop_group
from mlops.targets.local.sandbox import GUARD_DIR, sandbox_environment

WORKER = GUARD_DIR / "batch_worker.py"
INIT_TIMEOUT_S = 120
# What endpoints/batch/score.py reads, and the deployment variable naming the id column it copies to the output.
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
ID_COLUMN_VARIABLE = "ID_COLUMN"
# Progress (stderr: a bar on a terminal, a line every 10 s elsewhere) once scoring has run this long; small jobs
# stay quiet. While a mini batch is scored, the driver updates it every POLL_S seconds.
PROGRESS_DELAY_S = 5.0
POLL_S = 1.0
CHUNK_ROWS = 200_000  # rows at a time when the driver reads an input file first or appends a part


@dataclass(frozen=True)
class BatchSettings:
    mini_batch_size: int
    output_action: str
    output_file_name: str
    max_retries: int
    timeout_s: float
    error_threshold: int
    environment_variables: dict[str, str]
    code_dir: Path
    scoring_script: str
    endpoint: str
    deployment: str
    # A parallel job step (project.parallel) uses the same driver: its entry script's argv, Azure's second
    # threshold, and ParallelRunStep's append_row format (values separated by spaces, no header).
    program_arguments: tuple[str, ...] = ()
    mini_batch_error_threshold: int = -1
    append_row_format: str = "csv"

    @classmethod
    def from_yaml(cls, path: Path) -> BatchSettings:
        entity = loaders.load_entity(path)
        settings = entity.settings
        retry = settings.retry_settings
        code_dir, script = loaders.scoring_code(path, entity)
        output_action = str(settings.output_action or "append_row").lower()
        if output_action not in ("append_row", "summary_only"):
            raise MlopsError(
                f"{path}: settings.output_action: expected append_row or summary_only, got {output_action}"
            )
        return cls(
            mini_batch_size=int(settings.mini_batch_size or 10),
            output_action=output_action,
            output_file_name=str(settings.output_file_name or "predictions.csv"),
            max_retries=int(retry.max_retries if retry and retry.max_retries is not None else 3),
            timeout_s=float(retry.timeout if retry and retry.timeout is not None else 30),
            error_threshold=int(settings.error_threshold if settings.error_threshold is not None else -1),
            environment_variables={k: str(v) for k, v in (settings.environment_variables or {}).items()},
            code_dir=code_dir,
            scoring_script=script,
            endpoint=str(entity.endpoint_name),
            deployment=str(entity.name),
        )


@dataclass
class BatchSummary:
    files: int
    mini_batches: int
    succeeded: int = 0
    failed: int = 0  # mini batches
    failed_files: int = 0  # what error_threshold counts
    failed_rows: int | None = None  # known when the inputs were read first (`columns` given)
    retries: int = 0
    rows: int = 0
    output: Path | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def render(self, log_file: Path | None = None) -> str:
        failed_rows = f", {self.failed_rows} row(s) failed" if self.failed_rows else ""
        lines = [
            f"batch scoring: {self.files} file(s) in {self.mini_batches} mini batch(es): {self.succeeded} succeeded, "
            f"{self.failed} failed ({self.failed_files} file(s)), {self.retries} retried; {self.rows} row(s) scored"
            f"{failed_rows} in {self.seconds:.1f}s",
        ]
        if self.errors:
            lines.append(f"  first failure: {self.errors[0]}")
        if len(self.errors) > 1:
            where = f" (worker log {log_file})" if log_file else ""
            lines.append(f"  {len(self.errors) - 1} more failed mini batch(es){where}")
        if self.output:
            lines.append(f"  output: {self.output}")
        return "\n".join(lines)


@dataclass(frozen=True)
class InputFile:
    path: Path
    rows: int | None  # data rows; None when the file cannot be read
    problem: str | None = None  # why the scoring script cannot score it


def input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if files:
            return files
        raise MlopsError(f"{path}: the input folder has no files")
    raise MlopsError(f"{path}: no such file or folder")


def scoring_columns(model_dir: Path, settings: BatchSettings) -> list[str]:
    """The columns endpoints/batch/score.py needs in every file: the model signature's inputs, then the id column
    the deployment names. Empty when the model has no MLmodel or signature (the script's init() says why)."""
    mlmodel = next(model_dir.rglob("MLmodel"), None)
    if mlmodel is None:
        return []
    import mlflow

    signature = mlflow.models.Model.load(str(mlmodel.parent)).signature
    columns = list(signature.inputs.input_names()) if signature is not None else []
    id_column = settings.environment_variables.get(ID_COLUMN_VARIABLE)
    return [*columns, id_column] if columns and id_column and id_column not in columns else columns


def inspect_file(path: Path, columns: Sequence[str]) -> InputFile:
    """Read one input file as the scoring script would: its data rows, or the one reason it cannot be scored.
    A CSV is parsed CHUNK_ROWS at a time and a parquet file's footer only, so memory stays bounded."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return InputFile(path, None, f"expected a .csv or .parquet file, got '{path.suffix or path.name}'")
    if path.stat().st_size == 0:
        return InputFile(path, 0, "the file is empty (expected a header row and data rows)")
    import pandas as pd

    kind = "CSV" if path.suffix.lower() == ".csv" else "parquet"
    try:
        names, rows = _csv_shape(path) if kind == "CSV" else _parquet_shape(path)
    except (OSError, ValueError) as exc:  # pandas' and pyarrow's parse errors are ValueErrors
        if isinstance(exc, pd.errors.EmptyDataError):
            return InputFile(path, 0, "the file is empty (expected a header row and data rows)")
        reason = " ".join(str(exc).split())[:200]
        return InputFile(path, None, f"not a readable {kind} file: {type(exc).__name__}: {reason}")
    missing = [c for c in columns if c not in names]
    if missing:
        return InputFile(path, rows, f"missing column(s) {', '.join(missing)} (the model scores {', '.join(columns)})")
    if rows == 0:
        return InputFile(path, 0, "a header but no data rows")
    return InputFile(path, rows)


def _csv_shape(path: Path) -> tuple[list[str], int]:
    import pandas as pd

    names: list[str] | None = None
    rows = 0
    with pd.read_csv(path, chunksize=CHUNK_ROWS) as reader:
        for chunk in reader:
            names = [str(c) for c in chunk.columns] if names is None else names
            rows += len(chunk)
    return names or [], rows


def _parquet_shape(path: Path) -> tuple[list[str], int]:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    return list(metadata.schema.to_arrow_schema().names), metadata.num_rows


def inspect_inputs(files: list[Path], columns: Sequence[str]) -> list[InputFile]:
    """Every file inspected; MlopsError (bad input) when none of them could be scored."""
    inspected = [inspect_file(f, columns) for f in files]
    bad = [f for f in inspected if f.problem]
    if bad and len(bad) == len(inspected):
        others = f" ({len(bad) - 1} other file(s) cannot be scored either)" if len(bad) > 1 else ""
        raise MlopsError(f"{bad[0].path}: {bad[0].problem}; nothing was scored{others}")
    return inspected


def mini_batches(files: list[Path], size: int) -> list[list[Path]]:
    if size < 1:
        raise MlopsError(f"settings.mini_batch_size must be at least 1, got {size}")
    return [files[i : i + size] for i in range(0, len(files), size)]


class _Worker:
    """A scoring worker process; restarted after a timeout, as Azure restarts a hung process.

    Supervised like a pipeline step: its own process group (stopped whole, with whatever the scoring script
    started), so a SIGKILLed `mlops batch-score` leaves nothing scoring on (`processes.start_group`)."""

    def __init__(self, settings: BatchSettings, env: dict[str, str], log: Any):
        self.settings, self.env, self.log = settings, env, log
        self.process: subprocess.Popen | None = None
        self.sent = 0.0  # when the pending mini batch was sent

    def launch(self) -> None:
        """Start the process; its init() runs while the driver goes on (`ready` waits for it)."""
        self.process = start_group(  # from the driver's one thread
            [
                sys.executable,
                str(WORKER),
                str(self.settings.code_dir),
                self.settings.scoring_script,
                *self.settings.program_arguments,
            ],
            cwd=self.settings.code_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def ready(self) -> None:
        """Wait for init()'s answer; StepFailed when it failed or did not answer in time."""
        answer = self._read(INIT_TIMEOUT_S)
        if answer is None or not answer.get("ok"):
            reason = answer.get("error") if answer else f"no answer within {INIT_TIMEOUT_S}s"
            self.stop()
            raise StepFailed(f"the scoring script's init() failed: {reason}")

    def send(self, files: list[Path], out: Path | None) -> None:
        """Hand one mini batch to the worker (restarted first when it died or was stopped); `out`: where it
        writes the rows run() returned (None: summary_only, nothing is written)."""
        if self.process is None or self.process.poll() is not None:
            self.launch()
            self.ready()
        assert self.process and self.process.stdin
        request = {"files": [str(f) for f in files], "out": str(out) if out else None}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        self.sent = time.monotonic()

    def receive(self, tick: Callable[[], None] | None = None) -> dict[str, Any]:
        """The mini batch's answer, within the timeout counted from `send`; a worker that gave none is stopped.
        `tick` is called about every POLL_S seconds while waiting (progress)."""
        answer = self._read(max(self.settings.timeout_s - (time.monotonic() - self.sent), 0.0), tick)
        if answer is None:
            self.stop()  # hung or dead: the next mini batch gets a fresh worker
            return {"ok": False, "error": f"no result within the {self.settings.timeout_s:g}s timeout"}
        return answer

    def _read(self, timeout: float, tick: Callable[[], None] | None = None) -> dict[str, Any] | None:
        assert self.process and self.process.stdout
        deadline = time.monotonic() + timeout
        while True:
            wait = max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([self.process.stdout], [], [], min(wait, POLL_S) if tick else wait)
            if ready:
                line = self.process.stdout.readline()
                return json.loads(line) if line else None
            if time.monotonic() >= deadline:
                return None
            if tick is not None:
                tick()

    def stop(self) -> None:
        """Kill the worker's whole group at once (a hung worker gets no grace; it holds no state to save)."""
        if self.process is not None:
            stop_group(self.process, grace=0)
        self.process = None


def invoke(
    settings: BatchSettings,
    model_dir: Path | None,
    inputs: Path,
    output_dir: Path,
    log_file: Path,
    echo: Any = print,
    columns: Sequence[str] | None = None,
) -> BatchSummary:
    """Score every input file, like a batch endpoint job (the twin of `targets.azure.batch.invoke`).

    With `columns` (see `scoring_columns`) the files are read first and MlopsError is raised when none can be
    scored. Raises StepFailed, writing no output, when more files fail than error_threshold allows or when no row
    was scored."""
    started = time.monotonic()
    files = input_files(inputs)
    batches = mini_batches(files, settings.mini_batch_size)
    summary = BatchSummary(files=len(files), mini_batches=len(batches))
    engine = {"AZUREML_MODEL_DIR": str(model_dir)} if model_dir is not None else {}
    env = sandbox_environment(settings.environment_variables, engine)
    created = [folder for folder in (output_dir, log_file.parent) if not folder.exists()]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as log:
        worker = _Worker(settings, env, log)
        worker.launch()  # init() (imports, model load) runs while the inputs are read
        try:
            inspected = {f.path: f for f in inspect_inputs(files, columns)} if columns is not None else {}
            worker.ready()
        except BaseException as exc:
            worker.stop()
            if isinstance(exc, MlopsError) and not isinstance(exc, StepFailed):  # bad input leaves nothing behind
                log.close()
                _remove_created(log_file, created)
            raise
        if columns is not None:
            summary.failed_rows = 0
        with tempfile.TemporaryDirectory(prefix="batch-", dir=output_dir) as scratch:
            staging = Path(scratch) / settings.output_file_name
            try:
                _score_batches(settings, batches, worker, Path(scratch), staging, summary, inspected, log)
            finally:
                worker.stop()
            summary.seconds = time.monotonic() - started
            _fail_beyond_thresholds(settings, summary, log_file, echo)
            if settings.output_action == "append_row":
                summary.output = output_dir / settings.output_file_name
                shutil.move(staging, summary.output)
    echo(summary.render(log_file))
    return summary


def _fail_beyond_thresholds(settings: BatchSettings, summary: BatchSummary, log_file: Path, echo: Any) -> None:
    """StepFailed (after the summary) when more files or mini batches failed than the thresholds allow, or when
    no row was scored."""
    first = f"; first failure: {summary.errors[0]}" if summary.errors else ""
    if 0 <= settings.error_threshold < summary.failed_files:
        echo(summary.render(log_file))
        raise StepFailed(
            f"{summary.failed_files} failed file(s) exceed error_threshold {settings.error_threshold}; "
            f"no output written{first}; worker log {log_file}"
        )
    if 0 <= settings.mini_batch_error_threshold < summary.failed:
        echo(summary.render(log_file))
        raise StepFailed(
            f"{summary.failed} failed mini batch(es) exceed mini_batch_error_threshold "
            f"{settings.mini_batch_error_threshold}; no output written{first}; worker log {log_file}"
        )
    if summary.rows == 0:
        # Azure's job would "succeed" with an empty file; a batch that scored nothing is a failure here.
        echo(summary.render(log_file))
        raise StepFailed(
            f"no row was scored ({summary.failed_files} of {summary.files} file(s) failed); no output written"
            f"{first}; worker log {log_file}"
        )


def _score_batches(
    settings: BatchSettings,
    batches: list[list[Path]],
    worker: _Worker,
    scratch: Path,
    staging: Path,
    summary: BatchSummary,
    inspected: dict[Path, InputFile],
    log: Any,
) -> None:
    """Every mini batch through the worker, with retries, until the thresholds stop the job. With append_row the
    rows of a mini batch are appended to `staging` while the worker scores the next one."""
    rows = _RowWriter(staging, settings.append_row_format) if settings.output_action == "append_row" else None
    pending: Path | None = None  # a scored mini batch's rows, not yet appended
    with contextlib.ExitStack() as closing:
        if rows is not None:
            closing.enter_context(rows)
        progress = closing.enter_context(Progress("batch scoring", summary.files, "file", delay=PROGRESS_DELAY_S))
        for index, batch in enumerate(batches):
            part = scratch / f"part-{index:06d}.parquet" if rows is not None else None
            for attempt in range(settings.max_retries + 1):
                worker.send(batch, part)
                if pending is not None and rows is not None:
                    rows.append(pending)
                    pending = None
                answer = worker.receive(tick=progress.refresh)
                if answer.get("ok"):
                    pending = part
                    summary.succeeded += 1
                    summary.rows += int(answer.get("rows", 0))
                    break
                summary.retries += attempt < settings.max_retries
                log.write(f"mini batch {index} attempt {attempt + 1}: {answer.get('error')}\n")
            else:
                summary.failed += 1
                summary.failed_files += len(batch)
                if summary.failed_rows is not None:
                    summary.failed_rows += sum(inspected[f].rows or 0 for f in batch)
                summary.errors.append(f"mini batch {index} ({', '.join(p.name for p in batch)}): {answer.get('error')}")
            failed = f", {summary.failed_files} failed" if summary.failed_files else ""
            progress.advance(len(batch), note=f"{summary.rows:,} rows scored{failed}")
            if 0 <= settings.error_threshold < summary.failed_files:
                return
            if 0 <= settings.mini_batch_error_threshold < summary.failed:
                return
        if pending is not None and rows is not None:
            rows.append(pending)


class _RowWriter:
    """The mini batches' rows, appended in order to one file: a CSV with one header (batch deployments), or, for
    a parallel job, ParallelRunStep's lines (values separated by spaces, no header). Each part is removed once
    appended, so the scratch folder holds at most two."""

    def __init__(self, path: Path, row_format: str = "csv"):
        self.path, self.header = path, row_format == "csv"
        self.separator = "," if row_format == "csv" else " "
        self.handle: Any = None

    def __enter__(self) -> _RowWriter:
        self.handle = self.path.open("w", encoding="utf-8", newline="")
        return self

    def append(self, part: Path) -> None:
        """One part, CHUNK_ROWS rows at a time (memory stays bounded whatever a mini batch returned)."""
        import pandas as pd
        import pyarrow.parquet as pq

        source = pq.ParquetFile(part)
        if source.metadata.num_rows:
            frames = (batch.to_pandas() for batch in source.iter_batches(batch_size=CHUNK_ROWS))
        else:  # no rows, but its columns (the header, when it is the first part)
            frames = iter([pd.read_parquet(part)])
        for frame in frames:
            frame.to_csv(self.handle, index=False, header=self.header, sep=self.separator, lineterminator="\n")
            self.header = False
        source.close()
        part.unlink()

    def __exit__(self, *_exc: object) -> None:
        self.handle.close()


def _remove_created(log_file: Path, folders: list[Path]) -> None:
    """Undo what the driver made before it found the input bad: the worker log and the folders it created."""
    log_file.unlink(missing_ok=True)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: something else is in it
            folder.rmdir()
