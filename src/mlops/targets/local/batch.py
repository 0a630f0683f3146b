"""The local batch driver: runs a batch deployment's scoring script with the semantics of Azure ML batch endpoints.

From the deployment YAML's `settings`: input files are split into mini batches of `mini_batch_size` files; each
goes to `run(mini_batch)` in a worker process (the scoring script's `init()` runs once per worker); a failing or
timed-out mini batch is retried `retry_settings.max_retries` times (a timed-out worker is killed and restarted),
then counted against `error_threshold` (-1 = ignore all failures); with `output_action: append_row` the returned
rows are appended, in mini-batch order, to `output_file_name`. The output file appears only when the job
succeeds (written to a temporary name, then renamed); a summary says what happened.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError, StepFailed
from mlops.project import loaders
from mlops.targets.local.sandbox import GUARD_DIR, sandbox_environment

WORKER = GUARD_DIR / "batch_worker.py"
INIT_TIMEOUT_S = 120


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
    failed: int = 0
    retries: int = 0
    rows: int = 0
    output: Path | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"batch scoring: {self.files} file(s) in {self.mini_batches} mini batch(es): {self.succeeded} succeeded, "
            f"{self.failed} failed, {self.retries} retried; {self.rows} row(s) in {self.seconds:.1f}s",
        ]
        lines += [f"  failed: {error}" for error in self.errors]
        if self.output:
            lines.append(f"  output: {self.output}")
        return "\n".join(lines)


def input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if files:
            return files
        raise MlopsError(f"{path}: the input folder has no files")
    raise MlopsError(f"{path}: no such file or folder")


def mini_batches(files: list[Path], size: int) -> list[list[Path]]:
    if size < 1:
        raise MlopsError(f"settings.mini_batch_size must be at least 1, got {size}")
    return [files[i : i + size] for i in range(0, len(files), size)]


class _Worker:
    """A scoring worker process; restarted after a timeout, as Azure restarts a hung process."""

    def __init__(self, settings: BatchSettings, env: dict[str, str], log: Any):
        self.settings, self.env, self.log = settings, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(self.settings.code_dir), self.settings.scoring_script],
            cwd=self.settings.code_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        answer = self._read(INIT_TIMEOUT_S)
        if answer is None or not answer.get("ok"):
            reason = answer.get("error") if answer else f"no answer within {INIT_TIMEOUT_S}s"
            self.stop()
            raise StepFailed(f"the scoring script's init() failed: {reason}")

    def score(self, files: list[Path], out: Path) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process and self.process.stdin
        self.process.stdin.write(json.dumps({"files": [str(f) for f in files], "out": str(out)}) + "\n")
        self.process.stdin.flush()
        answer = self._read(self.settings.timeout_s)
        if answer is None:
            self.stop()  # hung or dead: the next mini batch gets a fresh worker
            return {"ok": False, "error": f"no result within the {self.settings.timeout_s:g}s timeout"}
        return answer

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.process and self.process.stdout
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def invoke(
    settings: BatchSettings, model_dir: Path, inputs: Path, output_dir: Path, log_file: Path, echo: Any = print
) -> BatchSummary:
    """Score every input file, like a batch endpoint job (the twin of `targets.azure.batch.invoke`); raises
    StepFailed when more mini batches fail than error_threshold allows."""
    started = time.monotonic()
    files = input_files(inputs)
    batches = mini_batches(files, settings.mini_batch_size)
    summary = BatchSummary(files=len(files), mini_batches=len(batches))
    env = sandbox_environment(settings.environment_variables, {"AZUREML_MODEL_DIR": str(model_dir)})
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="batch-", dir=output_dir) as scratch, log_file.open("w") as log:
        worker = _Worker(settings, env, log)
        parts: list[Path] = []
        try:
            for index, batch in enumerate(batches):
                part = Path(scratch) / f"part-{index:06d}.parquet"
                for attempt in range(settings.max_retries + 1):
                    answer = worker.score(batch, part)
                    if answer.get("ok"):
                        parts.append(part)
                        summary.succeeded += 1
                        summary.rows += int(answer.get("rows", 0))
                        break
                    summary.retries += attempt < settings.max_retries
                    log.write(f"mini batch {index} attempt {attempt + 1}: {answer.get('error')}\n")
                else:
                    summary.failed += 1
                    summary.errors.append(
                        f"mini batch {index} ({', '.join(p.name for p in batch)}): {answer.get('error')}"
                    )
                    if 0 <= settings.error_threshold < summary.failed:
                        break
        finally:
            worker.stop()
        summary.seconds = time.monotonic() - started
        if 0 <= settings.error_threshold < summary.failed:
            raise StepFailed(
                summary.render() + f"\n  {summary.failed} failed mini batch(es) exceed error_threshold "
                f"{settings.error_threshold}; no output written; worker log {log_file}"
            )
        if summary.rows == 0:
            # Azure's job would "succeed" with an empty file; a batch that scored nothing is a failure here.
            raise StepFailed(summary.render() + f"\n  no row was scored; no output written; worker log {log_file}")
        if settings.output_action == "append_row":
            summary.output = _append_rows(parts, Path(scratch), output_dir / settings.output_file_name)
    echo(summary.render())
    return summary


def _append_rows(parts: list[Path], scratch: Path, target: Path) -> Path:
    import pandas as pd

    staging = scratch / target.name
    header = True
    with staging.open("w", encoding="utf-8", newline="") as handle:
        for part in parts:
            frame = pd.read_parquet(part)
            frame.to_csv(handle, index=False, header=header, lineterminator="\n")
            header = False
    shutil.move(staging, target)
    return target
