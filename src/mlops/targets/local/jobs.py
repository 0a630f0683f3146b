"""The local target: run a pipeline job YAML step by step on this machine.

Each step runs its component's command in a subprocess, in a copy of the component's code snapshot, with the
project package blocked (as on Azure ML, where only the snapshot is uploaded). MLflow tracks to the SQLite store
in the state folder: a parent run for the pipeline and a child run per step, which the step's own
`mlflow.start_run()` attaches to through MLFLOW_RUN_ID. A deterministic step whose component, code and inputs are
unchanged is reused from the cache, like Azure ML's reuse; a failed or killed step caches nothing.

Supervision: a step never outlives the `mlops` that started it (`processes`).
- Each step is `/bin/bash -c COMMAND` in a session (process group) of its own, so a Ctrl-C in the terminal reaches
  `mlops` only, and `mlops` stops the step's whole group: SIGTERM, `STOP_GRACE_S` seconds, then SIGKILL. When the
  step exits by itself, whatever it left running in its group is killed too (a container ends with its job).
- A single simple command runs as `exec COMMAND`, so the step's program replaces bash (bash 5 does this on its own
  for most commands; `exec` makes it certain, redirections included). Compound commands (`a && b`, pipes, several
  lines) run as written.
- If `mlops` is SIGKILLed, the step's group dies with it: the leader by Linux's parent-death signal, the rest of
  the group (what a compound command's bash started) by the group's keeper (`processes.start_group`). Their MLflow
  runs are marked FAILED by the stale-run sweep at the next `mlops` start (see `tracking`).
- SIGINT, SIGTERM and SIGHUP reach the engine as `Interrupted` (the CLI's handler): the step's group is stopped,
  the step's child run and the pipeline run are marked KILLED, `run.json` says `killed`, and nothing goes into the
  cache. An engine error (any other exception) marks them FAILED instead.
- The parent run and each child run carry the engine's identity (`tracking.engine_tags`); `run.json` is written
  when the run starts (`running`, with the engine) and rewritten when it ends.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import Interrupted, MlopsError, StepFailed
from mlops.progress import Progress
from mlops.project import command as command_text
from mlops.project import environments
from mlops.project.catalog import LocalCatalog
from mlops.project.distribution import Distribution
from mlops.project.layout import Layout, StateDir, git_commit
from mlops.project.parallel import Parallel
from mlops.project.parameters import PARAMETER_TYPES, check_parameter
from mlops.project.pipeline import DataInput, Literal, ParentInput, Pipeline, Step, StepOutput, load_pipeline
from mlops.project.references import is_asset_ref, is_storage_uri
from mlops.project.sweep import Listed, Sweep
from mlops.reports import run_report
from mlops.targets.local import envs, registry, tracking
from mlops.targets.local.processes import end_group, exited, start_group, stop_group
from mlops.targets.local.sandbox import sandbox_environment
from mlops.targets.local.snapshot import build_snapshot, hash_path
from mlops.targets.local.warm import AHEAD, WarmPool, script_argv
from mlops.targets.local.warm import enabled as warm_start_enabled

CACHE_FORMAT = 1
LOG_TAIL_LINES = 25
FOLDER_TYPES = {"uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model"}
STOP_GRACE_S = 5.0  # between SIGTERM and SIGKILL when a step is stopped
POLICY_CHECK_S = 0.5  # how often a sweep reads its running trials' metrics for the early-termination policy
# Words that make a command more than one simple command when they come first.
SHELL_KEYWORDS = frozenset(
    {"!", "{", "[[", "((", "case", "coproc", "exec", "for", "function", "if", "select", "time", "until", "while"}
)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class StepResult:
    name: str
    status: str  # completed | reused | failed | skipped | killed (stopped by a signal)
    seconds: float = 0.0
    outputs: dict[str, Path] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    log: Path | None = None
    exit_code: int | None = None
    reused_from: str | None = None
    warm_started: bool = False  # ran in a pre-started Python (`warm`), not a fresh subprocess


@dataclass
class PipelineRun:
    run_id: str
    pipeline: Path
    status: str
    run_dir: Path
    state: StateDir
    steps: dict[str, StepResult]
    outputs: dict[str, Path]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": str(self.pipeline),
            "status": self.status,
            "engine": _engine_record(),
            "seconds": round(self.seconds, 2),
            "outputs": {k: str(v) for k, v in self.outputs.items()},
            "steps": {
                name: {
                    "status": s.status,
                    "seconds": round(s.seconds, 2),
                    "mlflow_run_id": s.mlflow_run_id,
                    "reused_from": s.reused_from,
                    "exit_code": s.exit_code,
                    "warm_started": s.warm_started,
                    "log": str(s.log) if s.log else None,
                    "outputs": {k: str(v) for k, v in s.outputs.items()},
                }
                for name, s in self.steps.items()
            },
        }


Echo = Callable[[str], None]


def submit(
    path: Path,
    overrides: list[str] | None = None,
    *,
    force_rerun: bool = False,
    stream_logs: bool = False,
    echo: Echo = print,
    layout: Layout | None = None,
    build_envs: bool = False,
) -> PipelineRun:
    """Run a command or pipeline job YAML locally; raises StepFailed (after recording the run) when a step fails.
    `layout`: the project whose catalog and state to use (default: the one the file belongs to)."""
    started = time.monotonic()
    path = Path(path).resolve()
    layout = layout or Layout.for_job(path)
    pipeline = load_pipeline(path, overrides)
    if pipeline.problems:
        raise MlopsError(f"{path}: " + "; ".join(pipeline.problems))
    parent_values = _resolve_pipeline_inputs(pipeline, layout.catalog)
    _check_literal_inputs(pipeline, parent_values)
    resolve = lambda reference: layout.catalog.environment(reference, f"{path}: environment").file  # noqa: E731
    state = layout.state.ensure()
    env_bins: dict[str, Path] = {}
    if build_envs:  # each environment's own venv (built once, cached): nothing to warn about
        for step in pipeline.steps.values():
            declared = environments.declared(step.environment, step.component_file, resolve)
            if declared is not None:
                env_bins[step.name] = envs.built_env(declared, state.root / "envs", echo)
    else:
        uses = [(step.environment, step.component_file) for step in pipeline.steps.values()]
        for warning in environments.warnings_for(uses, resolve, layout.relative):
            print(f"warning: {warning}", file=sys.stderr, flush=True)
    force = force_rerun or pipeline.force_rerun
    late = engine_variables(state, "", "").keys()  # the names only
    warm = WarmPool(sandbox_environment(), late) if warm_start_enabled() else None
    if warm is not None:  # they import while the run is set up
        warm.warm_up(min(AHEAD, sum(may_warm_start(step) for step in pipeline.steps.values())))
    commit = git_commit(layout.root)

    client = tracking.client(state)
    experiment_id = tracking.experiment_id(client, state, pipeline.experiment_name)
    parent = client.create_run(
        experiment_id,
        run_name=pipeline.name,
        tags={
            "mlops.target": "local",
            "mlops.pipeline_file": layout.relative(path),
            **tracking.engine_tags(),
            **({"mlflow.source.git.commit": commit} if commit else {}),
        },
    )
    run_id = parent.info.run_id
    run_dir = state.runs / run_id
    context = _RunContext(
        pipeline,
        state,
        client,
        experiment_id,
        run_id,
        run_dir,
        commit,
        parent_values,
        force,
        stream_logs,
        echo,
        layout.catalog,
        env_bins,
        warm,
    )
    results: dict[str, StepResult] = {}
    try:
        run_dir.mkdir(parents=True)
        tracking.write_run_record(
            run_dir,
            {
                "run_id": run_id,
                "pipeline": str(path),
                "status": "running",
                "engine": _engine_record(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        for name, value in parent_values.items():
            client.log_param(run_id, name, str(value)[:6000])
        count = len(pipeline.steps)
        shape = {"pipeline": f"{count} step{'s' if count != 1 else ''}", "sweep": "trials of one command"}.get(
            pipeline.kind, "one command"
        )
        if pipeline.notice:
            echo(f"note: {pipeline.notice}")
        echo(f"{pipeline.kind} job {pipeline.name}: {shape}, local target, run {run_id}")
        for index, step in enumerate(pipeline.steps.values(), start=1):
            label = f"[{index}/{len(pipeline.steps)}] {step.name}"
            blocked = [up for up in step.upstream if results[up].status in ("failed", "skipped")]
            stop = any(r.status == "failed" for r in results.values()) and not pipeline.continue_on_step_failure
            if blocked or stop:
                results[step.name] = StepResult(step.name, "skipped")
                echo(f"{label:<28} skipped (an upstream step failed)")
                continue
            results[step.name] = context.run_step(step, results, label)
    except BaseException as exc:  # a signal, Ctrl-C or an engine error: no run may stay RUNNING
        _record_abort(context, results, exc, time.monotonic() - started)
        raise
    finally:
        if context.warm is not None:
            context.warm.close()

    failed = [r for r in results.values() if r.status == "failed"]
    status = "failed" if failed else "completed"
    outputs = {
        parent_output: results[step.name].outputs[output]
        for step in pipeline.steps.values()
        for output, parent_output in step.outputs_to_parent.items()
        if output in results[step.name].outputs
    }
    run = PipelineRun(run_id, path, status, run_dir, state, results, outputs, seconds=time.monotonic() - started)
    _write_run_record(run, pipeline, client)
    client.set_terminated(run_id, "FAILED" if failed else "FINISHED")
    echo(f"{pipeline.kind} job {status} in {run.seconds:.1f}s; run folder {run_dir}")
    if failed:
        first = failed[0]
        raise StepFailed(
            f"step '{first.name}' failed with exit code {first.exit_code} after {first.seconds:.1f}s\n"
            f"  last lines of {first.log}:\n" + _indented_tail(first.log)
        )
    return run


def run_job(
    job: Any,
    overrides: list[str] | None = None,
    *,
    base: Path | None = None,
    force_rerun: bool = False,
    stream_logs: bool = False,
    echo: Echo = print,
) -> PipelineRun:
    """Run an azure-ai-ml job object locally: a PipelineJob built with `@dsl.pipeline` (the SDK twin of a pipeline
    YAML) or a job from `command(...)`, as `ml_client.jobs.create_or_update(job)` would submit it.

    The object is written as job YAML (`_to_dict()`, its components inline) to the state folder's `submitted/`,
    the record of what ran, and that file runs like any other. Local paths the SDK would upload are made absolute
    against `base` (default: the working directory), which also decides the project (catalog, state)."""
    base = (base or Path.cwd()).resolve()
    layout = Layout.for_job(base / "job.yml")
    document = submitted_document(job, base)
    folder = layout.state.ensure().root / "submitted"
    folder.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(document.get("display_name") or document.get("name") or "job"))
    path = folder / f"{name}-{uuid.uuid4().hex[:8]}.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return submit(path, overrides, force_rerun=force_rerun, stream_logs=stream_logs, echo=echo, layout=layout)


def submitted_document(job: Any, base: Path) -> dict[str, Any]:
    """The job object as the job YAML `submit` reads: what `_to_dict()` writes, with the two things it loses put
    back: local data paths (it prefixes them with `azureml:`) and `additional_includes` (relative to each
    component's own file, which the inline copy no longer has)."""
    document = job._to_dict()
    _unprefix_local_paths(document.get("inputs") or {}, base)
    for name, step in (document.get("jobs") or {}).items():
        if str(step.get("type", "command")) != "command":
            raise MlopsError(
                f"job object: jobs.{name}: a {step.get('type')} step does not survive azure-ai-ml's _to_dict(); "
                "run the job's YAML with `mlops job run` instead"
            )
        _unprefix_local_paths(step.get("inputs") or {}, base)
        component = step.get("component")
        node = job.jobs[name].component
        if isinstance(component, dict) and component.get("additional_includes"):
            component["additional_includes"] = [
                str((Path(node.base_path) / include).resolve()) for include in component["additional_includes"]
            ]
    return document


def _unprefix_local_paths(inputs: dict[str, Any], base: Path) -> None:
    for value in inputs.values():
        path = value.get("path") if isinstance(value, dict) else None
        if not isinstance(path, str) or not path.startswith("azureml:") or path.startswith("azureml://"):
            continue  # a literal, a binding, an asset URI
        rest = path.removeprefix("azureml:")
        local = base / rest
        if rest.startswith((".", "/")) or local.exists():  # `name:version` stays a data asset reference
            value["path"] = str(local.resolve())


def _record_abort(context: _RunContext, results: dict[str, StepResult], exc: BaseException, seconds: float) -> None:
    """The run was stopped (a signal, Ctrl-C: KILLED) or broke (an engine error: FAILED) mid-way. The step's process
    group is already stopped (`_run_command`); mark the step's child run and the pipeline run, write run.json and,
    for a signal, say what was stopped. Best effort: a store that fails now is left to the stale-run sweep."""
    killed = isinstance(exc, Interrupted | KeyboardInterrupt)
    status, mlflow_status = ("killed", "KILLED") if killed else ("failed", "FAILED")
    current = context.current
    if current is not None:
        current.status, current.seconds = status, time.monotonic() - context.current_started
        results[current.name] = current
    record = PipelineRun(
        context.run_id, context.pipeline.path, status, context.run_dir, context.state, results, {}, seconds
    )
    marks: list[Callable[[], Any]] = [
        lambda: _write_run_record(record, context.pipeline, context.client),
        lambda: context.client.set_terminated(context.run_id, mlflow_status),
    ]
    if current is not None and current.mlflow_run_id:
        child = current.mlflow_run_id
        marks.insert(0, lambda: context.client.set_terminated(child, mlflow_status))
    for mark in marks:
        try:
            mark()
        except Exception as problem:  # the original exception is the one to report
            print(f"mlops: could not record the stop of run {context.run_id}: {problem}", file=sys.stderr)
    if isinstance(exc, Interrupted):
        step = f"step '{current.name}' stopped, " if current is not None else ""
        exc.stopped.append(f"{step}run {context.run_id} marked {mlflow_status}")


def _write_run_record(run: PipelineRun, pipeline: Pipeline, client: Any) -> None:
    """run.json, naming the run's page (report.html), which is written first and logged to the pipeline's MLflow
    run."""
    record = run.to_dict()
    tracking.write_run_record(run.run_dir, record | run_report.publish(run.run_dir, record, pipeline, client))


def _engine_record() -> dict[str, Any]:
    tags = tracking.engine_tags()
    return {"pid": os.getpid(), "start": tags[tracking.ENGINE_START_TAG]}


@dataclass
class _RunContext:
    pipeline: Pipeline
    state: StateDir
    client: Any
    experiment_id: str
    run_id: str
    run_dir: Path
    commit: str | None
    parent_values: dict[str, Any]
    force: bool
    stream_logs: bool
    echo: Echo
    catalog: LocalCatalog
    env_bins: dict[str, Path]  # --build-envs: the bin folder of each step's own venv
    warm: WarmPool | None = None  # pre-started Pythons for plain `python SCRIPT.py` steps (`warm`)
    current: StepResult | None = None  # the step in progress, for `_record_abort`
    current_started: float = 0.0

    def warm_pool_for(self, step: Step) -> WarmPool | None:
        """The pool, for a step that may take a spare; it keeps importing only as many spares as later steps may
        take (up to `warm.AHEAD`)."""
        if self.warm is None or not may_warm_start(step):
            return None
        names = list(self.pipeline.steps)
        later = sum(may_warm_start(self.pipeline.steps[n]) for n in names[names.index(step.name) + 1 :])
        self.warm.ahead = min(AHEAD, later)
        return self.warm

    def run_step(self, step: Step, results: dict[str, StepResult], label: str) -> StepResult:
        self.current, self.current_started = StepResult(step.name, "running"), time.monotonic()
        result = self._run_step(step, results, label)
        self.current = None
        return result

    def _run_step(self, step: Step, results: dict[str, StepResult], label: str) -> StepResult:
        step_dir = self.run_dir / step.name
        values, paths = self._resolve_step_inputs(step, results)
        snapshot = step_dir / "code"
        build_snapshot(step.component, step.component_file, snapshot)
        if step.sweep is not None:  # trials read the registry or time: a sweep is never reused
            return self._run_sweep(step, step.sweep, values, snapshot, step_dir, label)
        key = _cache_key(step, snapshot, values, paths, self.env_bins.get(step.name))
        deterministic = step.component.is_deterministic is not False
        entry = self.state.cache / key
        if deterministic and not self.force and (entry / "entry.json").is_file():
            return self._reuse(step, entry, label)

        outputs = _output_paths(step, step_dir / "outputs")
        paths_text = {name: str(p) for name, p in outputs.items()}
        template = step.parallel.program_arguments if step.parallel else step.component.command
        rendered = command_text.render(template, values, paths_text)
        child_id = self._step_run(step)
        log = step_dir / "user_logs" / "std_log.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        assert self.current is not None
        self.current.mlflow_run_id, self.current.log = child_id, log
        (step_dir / "command.txt").write_text(rendered + "\n")
        self.echo(f"{label:<28} running …")
        started = time.monotonic()
        env = self._environment(child_id, step.environment_variables)
        if step.name in self.env_bins:  # its own venv's python comes first
            env["PATH"] = os.pathsep.join([str(self.env_bins[step.name]), env["PATH"]])
        warm_started = False
        if step.parallel is not None:
            exit_code = _run_parallel(step.parallel, rendered, snapshot, values, outputs, log, env)
        elif step.distribution is None:
            exit_code, warm_started = _run_command(
                rendered, snapshot, env, log, self.stream_logs, self.warm_pool_for(step)
            )
        else:
            exit_code, log = _run_distributed(rendered, snapshot, env, log.parent, self.stream_logs, step.distribution)
            self.current.log = log
        seconds = time.monotonic() - started
        if exit_code != 0:
            self._end_step_run(child_id, "FAILED")
            self.echo(f"{label:<28} failed (exit code {exit_code}) after {seconds:.1f}s")
            return StepResult(step.name, "failed", seconds, {}, child_id, log, exit_code, warm_started=warm_started)
        self._end_step_run(child_id, "FINISHED")
        missing = [name for name, p in outputs.items() if not p.exists()]
        if missing:
            _append(log, f"error: the step finished but did not write output(s): {', '.join(missing)}")
            self.echo(f"{label:<28} failed (missing outputs: {', '.join(missing)})")
            return StepResult(step.name, "failed", seconds, {}, child_id, log, exit_code, warm_started=warm_started)
        if deterministic:
            _store_in_cache(self.state, key, step, outputs, child_id, self.run_id)
        self.echo(f"{label:<28} completed in {seconds:.1f}s")
        return StepResult(step.name, "completed", seconds, outputs, child_id, log, exit_code, warm_started=warm_started)

    def _reuse(self, step: Step, entry: Path, label: str) -> StepResult:
        meta = json.loads((entry / "entry.json").read_text())
        outputs = {name: entry / "outputs" / relative for name, relative in meta["outputs"].items()}
        child_id = self._step_run(step, {"mlops.reused_from_run_id": meta["mlflow_run_id"]})
        assert self.current is not None
        self.current.mlflow_run_id = child_id
        self._end_step_run(child_id, "FINISHED")
        self.echo(f"{label:<28} reused (cache {entry.name[:12]}, first run {meta['mlflow_run_id'][:12]})")
        return StepResult(
            step.name,
            "reused",
            0.0,
            outputs,
            child_id,
            None,
            None,
            reused_from=meta["mlflow_run_id"],
        )

    def _step_run(self, step: Step, extra_tags: dict[str, str] | None = None) -> str:
        """The MLflow run the step logs to: a child of the pipeline run, or, for a command job (one run on Azure
        too), the job's own run."""
        if self.pipeline.kind in ("command", "sweep", "automl"):
            self.client.set_tag(self.run_id, "mlops.step", step.name)
            for key, value in (extra_tags or {}).items():
                self.client.set_tag(self.run_id, key, value)
            return self.run_id
        child = self.client.create_run(
            self.experiment_id, run_name=step.name, tags={**self._child_tags(step), **(extra_tags or {})}
        )
        return child.info.run_id

    def _end_step_run(self, run_id: str, status: str) -> None:
        if run_id != self.run_id:  # a command job's run ends with the job
            self.client.set_terminated(run_id, status)

    def _run_sweep(
        self, step: Step, sweep: Sweep, values: dict[str, str | None], snapshot: Path, step_dir: Path, label: str
    ) -> StepResult:
        """Run the sweep's trials (see `mlops.project.sweep`), at most max_concurrent_trials at a time, each a child
        run of the sweep's run with its own folder; the best trial by the objective gives the step its outputs."""
        sweep_run = self._step_run(step)
        assert self.current is not None
        self.current.mlflow_run_id, self.current.log = sweep_run, step_dir / "user_logs" / "sweep.txt"
        self.current.log.parent.mkdir(parents=True, exist_ok=True)
        sampler = sweep.sampler()
        self.echo(f"{label:<28} sweeping: {sampler.total} trial(s), {sweep.max_concurrent_trials} at a time …")
        started = time.monotonic()
        trials: list[dict[str, Any]] = []
        running: dict[int, tuple[subprocess.Popen, float, dict[str, Any]]] = {}
        histories: dict[int, list[float]] = {}  # every trial's primary metric, for the early-termination policy
        checked = 0.0
        progress = Progress(label, total=sampler.total, unit="trial")
        try:
            while sampler.has_next() or running:
                if sweep.early_termination is not None and time.monotonic() - checked >= POLICY_CHECK_S:
                    checked = time.monotonic()
                    self._apply_policy(sweep, running, histories)
                out_of_time = sweep.timeout is not None and time.monotonic() - started > sweep.timeout
                while sampler.has_next() and len(running) < sweep.max_concurrent_trials and not out_of_time:
                    number, params = sampler.ask()
                    trial = self._start_trial(step, sweep_run, number, params, values, snapshot, step_dir)
                    running[number] = (trial.pop("process"), time.monotonic(), trial)
                if out_of_time:
                    sampler = Listed([])  # no more trials
                for number, (process, since, trial) in list(running.items()):
                    late = sweep.trial_timeout is not None and time.monotonic() - since > sweep.trial_timeout
                    if trial.get("status") == "canceled":
                        stop_group(process, STOP_GRACE_S)
                    elif out_of_time or late:
                        stop_group(process, STOP_GRACE_S)
                        trial["status"] = "timed out"
                    elif exited(process):
                        trial["exit_code"] = end_group(process)
                        trial["status"] = "completed" if trial["exit_code"] == 0 else "failed"
                    else:
                        continue
                    del running[number]
                    progress.clear()  # the trial's line goes above the progress line
                    trials.append(self._finish_trial(trial, sweep))
                    sampler.tell(number, trial["metric"])
                progress.set(len(trials), note=self._sweep_note(sweep, trials, len(running)))
                time.sleep(0.05)
        finally:
            progress.close()
            for process, _, trial in running.values():  # a signal or an engine error: no trial goes on
                stop_group(process, STOP_GRACE_S)
                self.client.set_terminated(trial["mlflow_run_id"], "KILLED")
        return self._sweep_result(step, sweep, sweep_run, trials, step_dir, time.monotonic() - started, label)

    def _start_trial(
        self,
        step: Step,
        sweep_run: str,
        number: int,
        params: dict[str, Any],
        values: dict[str, str | None],
        snapshot: Path,
        step_dir: Path,
    ) -> dict[str, Any]:
        folder = step_dir / "trials" / f"{number:03d}"
        shutil.copytree(snapshot, folder / "code")
        outputs = _output_paths(step, folder / "outputs")
        ports = step.component.inputs
        sampled = {name: check_parameter(step.name, name, ports[name], value) for name, value in params.items()}
        paths_text = {name: str(path) for name, path in outputs.items()}
        command = command_text.render(step.component.command, {**values, **sampled}, paths_text)
        (folder / "command.txt").write_text(command + "\n")
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"{step.name}_trial_{number}",
            tags={**self._child_tags(step), "mlflow.parentRunId": sweep_run, "mlops.trial": str(number)},
        )
        for name, value in sampled.items():
            self.client.log_param(run.info.run_id, name, value)
        log = folder / "user_logs" / "std_log.txt"
        log.parent.mkdir(parents=True)
        env = self._environment(run.info.run_id, step.environment_variables)
        with log.open("w", encoding="utf-8") as handle:
            process = start_group(
                ["/bin/bash", "-c", exec_prefixed(command)],
                cwd=folder / "code",
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        return {"trial": number, "params": params, "mlflow_run_id": run.info.run_id, "outputs": outputs,
                "log": log, "process": process}  # fmt: skip

    def _apply_policy(
        self, sweep: Sweep, running: dict[int, tuple[subprocess.Popen, float, dict[str, Any]]], histories: dict
    ) -> None:
        """Read the running trials' metric histories and mark those the early-termination policy cancels."""
        assert sweep.early_termination is not None
        for number, (_, _, trial) in running.items():
            history = self.client.get_metric_history(trial["mlflow_run_id"], sweep.primary_metric)
            histories[number] = [m.value for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
        for number, (_, _, trial) in running.items():
            if trial.get("status") is None and sweep.early_termination.cancels(number, histories, sweep.goal):
                trial["status"] = "canceled"
                trial["canceled_at_interval"] = len(histories[number])

    def _finish_trial(self, trial: dict[str, Any], sweep: Sweep) -> dict[str, Any]:
        status = {"completed": "FINISHED", "failed": "FAILED"}.get(trial["status"], "KILLED")
        self.client.set_terminated(trial["mlflow_run_id"], status)
        metric = self.client.get_run(trial["mlflow_run_id"]).data.metrics.get(sweep.primary_metric)
        # a trial the policy canceled keeps what it logged (Azure's canceled trials stay eligible)
        trial["metric"] = metric if trial["status"] in ("completed", "canceled") else None
        shown = "no metric" if trial["metric"] is None else f"{sweep.primary_metric} {trial['metric']:.6g}"
        self.echo(f"    trial {trial['trial']}: {trial['params']} -> {trial['status']}, {shown}")
        return trial

    @staticmethod
    def _sweep_note(sweep: Sweep, trials: list[dict[str, Any]], running: int) -> str:
        """What the progress line says after the counts: the trials still running, the best metric so far."""
        best = None
        for trial in trials:
            if trial["metric"] is not None and sweep.better(trial["metric"], best):
                best = trial["metric"]
        shown = f"best {sweep.primary_metric} {best:.6g}" if best is not None else f"no {sweep.primary_metric} yet"
        return f"{running} running, {shown}" if running else shown

    def _sweep_result(
        self,
        step: Step,
        sweep: Sweep,
        sweep_run: str,
        trials: list[dict[str, Any]],
        step_dir: Path,
        seconds: float,
        label: str,
    ) -> StepResult:
        best = None
        for trial in sorted(trials, key=lambda t: t["trial"]):
            if trial["metric"] is not None and sweep.better(trial["metric"], best and best["metric"]):
                best = trial
        summary = {
            "primary_metric": sweep.primary_metric,
            "goal": sweep.goal,
            "best_trial": best and best["trial"],
            "trials": [
                {k: (str(v) if isinstance(v, Path) else v) for k, v in t.items() if k != "outputs"}
                for t in sorted(trials, key=lambda t: t["trial"])
            ],
        }
        (step_dir / "sweep.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        log = step_dir / "user_logs" / "sweep.txt"
        if best is None:
            log.write_text(f"no trial logged {sweep.primary_metric}; the trials' logs: {step_dir / 'trials'}\n")
            self._end_step_run(sweep_run, "FAILED")
            self.echo(f"{label:<28} failed (no trial logged {sweep.primary_metric})")
            return StepResult(step.name, "failed", seconds, {}, sweep_run, log, 1)
        self.client.set_tag(sweep_run, "best_child_run_id", best["mlflow_run_id"])
        self.client.log_metric(sweep_run, sweep.primary_metric, best["metric"])
        log.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        self._end_step_run(sweep_run, "FINISHED")
        self.echo(f"{label:<28} completed in {seconds:.1f}s: best trial {best['trial']} {best['params']}")
        return StepResult(step.name, "completed", seconds, best["outputs"], sweep_run, log, 0)

    def _child_tags(self, step: Step) -> dict[str, str]:
        tags = {
            "mlflow.parentRunId": self.run_id,
            "mlops.step": step.name,
            "mlops.component": f"{step.component.name}:{step.component.version}",
            **tracking.engine_tags(),
        }
        if self.commit:
            tags["mlflow.source.git.commit"] = self.commit
        return tags

    def _environment(self, child_run_id: str, declared: dict[str, str] | None = None) -> dict[str, str]:
        """The step's `environment_variables`, then what the engine must set (which they cannot override)."""
        return sandbox_environment(declared, engine=engine_variables(self.state, self.experiment_id, child_run_id))

    def _resolve_step_inputs(
        self, step: Step, results: dict[str, StepResult]
    ) -> tuple[dict[str, str | None], dict[str, Path]]:
        """Values for the command (None = not provided) and, for path inputs, the local paths."""
        values: dict[str, str | None] = {}
        paths: dict[str, Path] = {}
        for name, port in (step.component.inputs or {}).items():
            source = step.inputs.get(name)
            value: Any
            if isinstance(source, ParentInput):
                value = self.parent_values.get(source.name)
            elif isinstance(source, StepOutput):
                value = results[source.step].outputs[source.output]
            elif isinstance(source, Literal):
                value = source.value
            elif isinstance(source, DataInput):
                value = _local_data_path(source, self.pipeline, f"jobs.{step.name}.inputs.{name}", self.catalog)
            else:
                value = port.default
            if value is None or (isinstance(value, str) and value == "" and port.optional):
                values[name] = None
                continue
            if isinstance(value, Path):
                paths[name] = value
                values[name] = str(value)
            else:
                values[name] = check_parameter(step.name, name, port, value)
        return values, paths


def _check_literal_inputs(pipeline: Pipeline, parent_values: dict[str, Any]) -> None:
    """Type, enum and range errors surface before anything runs, as on submission to Azure."""
    for step in pipeline.steps.values():
        for name, port in (step.component.inputs or {}).items():
            if str(port.type) not in PARAMETER_TYPES:
                continue
            source = step.inputs.get(name)
            if isinstance(source, ParentInput):
                value = parent_values.get(source.name)
            elif isinstance(source, Literal):
                value = source.value
            else:
                value = port.default
            if value is not None and not (value == "" and port.optional):
                check_parameter(step.name, name, port, value)


def _resolve_pipeline_inputs(pipeline: Pipeline, catalog: LocalCatalog) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, source in pipeline.inputs.items():
        if isinstance(source, DataInput):
            values[name] = _local_data_path(source, pipeline, f"inputs.{name}", catalog)
        else:
            values[name] = source.value
    return values


def _local_data_path(source: DataInput, pipeline: Pipeline, where: str, catalog: LocalCatalog | None = None) -> Path:
    if source.registered_model:
        # A registered model version (azureml:<name>:<version>), from the local registry, as Azure mounts it.
        layout = Layout.for_job(pipeline.path)
        try:
            model = (catalog or layout.catalog).model(source.path)
        except MlopsError as exc:
            raise MlopsError(f"{pipeline.path}: {where}.path: {exc}") from None
        path = registry.materialize(layout.state, model) / "model"
    elif is_asset_ref(source.path):
        catalog = catalog or Layout.for_job(pipeline.path).catalog
        path = catalog.data(source.path, f"{pipeline.path}: {where}.path").path
    elif is_storage_uri(source.path):
        raise MlopsError(
            f"{pipeline.path}: {where}.path: {source.path} is remote; the local target reads local files and "
            "azureml:<name>:<version> data assets defined in data/*.yml"
        )
    else:
        path = Path(source.path)
        if not path.is_absolute():
            path = (pipeline.path.parent / path).resolve()
    if not path.exists():
        raise MlopsError(f"{pipeline.path}: {where}.path: {path} does not exist")
    if source.type == "uri_file" and not path.is_file():
        raise MlopsError(f"{pipeline.path}: {where}: type uri_file needs a file, {path} is a folder")
    if source.type in ("uri_folder", "mlflow_model") and not path.is_dir():
        raise MlopsError(f"{pipeline.path}: {where}: type {source.type} needs a folder, {path} is a file")
    return path


def _output_paths(step: Step, folder: Path) -> dict[str, Path]:
    outputs = {}
    for name, port in (step.component.outputs or {}).items():
        if str(port.type) in FOLDER_TYPES:
            outputs[name] = folder / name
            outputs[name].mkdir(parents=True)
        else:  # uri_file: a file path inside its own folder
            (folder / name).mkdir(parents=True)
            outputs[name] = folder / name / name
    return outputs


def _cache_key(
    step: Step, snapshot: Path, values: dict[str, str | None], paths: dict[str, Path], env_bin: Path | None = None
) -> str:
    """Same component spec, same code, same input values/contents and the same runtime (the project's venv, or
    the environment's own venv with --build-envs) -> same key (Azure ML's reuse rule)."""
    spec = step.component._to_dict()
    # The snapshot's hash stands for the code and its additional_includes, however they are written; and what runs
    # decides reuse, not what it is called: an inline copy (the SDK twin's) is anonymous and still reuses.
    for key in ("code", "additional_includes", "name", "version"):
        spec.pop(key, None)
    payload = {
        "format": CACHE_FORMAT,
        "component": spec,
        "code": hash_path(snapshot),
        **({"runtime": env_bin.parent.name} if env_bin is not None else {}),
        "inputs": {
            name: ({"content": hash_path(paths[name])} if name in paths else value)
            for name, value in sorted(values.items())
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _store_in_cache(state: StateDir, key: str, step: Step, outputs: dict[str, Path], run_id: str, parent: str) -> None:
    """Copy outputs into the cache; the entry appears atomically (a rename) once complete."""
    final = state.cache / key
    if final.exists():
        return
    staging = state.cache / f".{key}.{uuid.uuid4().hex}"
    staging.mkdir(parents=True)  # a step without outputs still gets an entry (it is reused)
    relative = {}
    for name, path in outputs.items():
        target = staging / "outputs" / path.relative_to(path.parents[1] if path.is_file() else path.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy2(path, target)
        relative[name] = target.relative_to(staging / "outputs").as_posix()
    meta = {
        "key": key,
        "step": step.name,
        "component": f"{step.component.name}:{step.component.version}",
        "mlflow_run_id": run_id,
        "pipeline_run_id": parent,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "outputs": relative,
    }
    (staging / "entry.json").write_text(json.dumps(meta, indent=2) + "\n")
    try:
        staging.rename(final)
    except OSError:  # another run stored the same entry first
        shutil.rmtree(staging, ignore_errors=True)


def _run_command(
    command: str, cwd: Path, env: dict[str, str], log: Path, stream: bool, pool: WarmPool | None = None
) -> tuple[int, bool]:
    """Run a step's command in its own process group, supervised (see the module docstring); its exit code and
    whether it was warm-started. The log is line-buffered: `std_log.txt` can be followed while the step runs.
    With `pool`, a plain `python SCRIPT.py ...` runs in its pre-started Python (`warm`), anything else in bash."""
    with log.open("w", encoding="utf-8", buffering=1) as handle:
        argv = script_argv(command, env) if pool is not None and pool.fits(env) else None
        process = pool.start(argv, cwd, env) if pool is not None and argv is not None else None
        warm = process is not None
        if process is None:
            process = start_group(
                ["/bin/bash", "-c", exec_prefixed(command)],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,  # as in a job's container, and as a warm-started step has it
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                handle.write(line)
                if stream:
                    sys.stdout.write("    " + line)
            return end_group(process), warm  # what the step left running in its group dies with it
        except BaseException:
            stop_group(process, STOP_GRACE_S)
            raise


def _run_parallel(
    parallel: Parallel,
    arguments: str,
    snapshot: Path,
    values: dict[str, str | None],
    outputs: dict[str, Path],
    log: Path,
    env: dict[str, str],
) -> int:
    """A parallel step through the batch driver (see `mlops.project.parallel`); its exit code: 0, or 1 when the
    thresholds fail it or it scored nothing. The worker's output and the driver's summary go to the step's log."""
    from mlops.targets.local import batch

    argv, file_name = parallel.arguments(arguments)
    output_dir = outputs[parallel.append_row_to] if parallel.append_row_to else log.parent
    settings = batch.BatchSettings(
        mini_batch_size=parallel.mini_batch_size,
        output_action="append_row" if parallel.append_row_to else "summary_only",
        output_file_name=file_name,
        max_retries=parallel.max_retries,
        timeout_s=parallel.timeout,
        error_threshold=parallel.error_threshold,
        environment_variables={**env, **parallel.environment_variables},
        code_dir=snapshot,
        scoring_script=parallel.entry_script,
        endpoint="parallel",
        deployment=parallel.entry_script,
        program_arguments=tuple(argv),
        mini_batch_error_threshold=parallel.mini_batch_error_threshold,
        append_row_format="parallel",
    )
    said: list[str] = []
    try:  # the workers write the log; the driver's summary follows them
        batch.invoke(settings, None, Path(str(values[parallel.input_data])), output_dir, log, said.append)
        code = 0
    except (StepFailed, MlopsError) as exc:  # the job failed as Azure's would: thresholds, nothing scored, no files
        said.append(f"error: {exc}")
        code = 1
    with log.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(said) + "\n")
    return code


def _run_distributed(
    command: str, cwd: Path, env: dict[str, str], log_dir: Path, stream: bool, distribution: Distribution
) -> tuple[int, Path]:
    """Run the command once per process of `distribution` (see `mlops.project.distribution`), each in a group of
    its own with its rank's variables and its own log (`std_log_process_<rank>.txt`, Azure's names). When one
    process fails the others are stopped, as Azure fails the job. Returns the first failure's exit code and log
    (else 0 and rank 0's log); `stream` follows rank 0's log."""
    plan = distribution.processes()
    logs = [log_dir / p.log_name for p in plan]
    started: list[subprocess.Popen] = []
    codes: list[int | None] = [None] * len(plan)
    try:
        for process, log in zip(plan, logs, strict=True):
            with log.open("w", encoding="utf-8") as handle:
                started.append(
                    start_group(
                        ["/bin/bash", "-c", exec_prefixed(command)],
                        cwd=cwd,
                        env={**env, **process.environment},
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                )
        with logs[0].open(encoding="utf-8", errors="replace") as follow:
            while None in codes and not any(codes):
                for index, process in enumerate(started):
                    if codes[index] is None and exited(process):
                        codes[index] = end_group(process)
                if stream:
                    sys.stdout.writelines("    " + line for line in follow.readlines())
                time.sleep(0.05)
            if stream:
                sys.stdout.writelines("    " + line for line in follow.readlines())
    finally:
        for process in started:  # a failure, a signal or an engine error: nothing may go on running
            stop_group(process, STOP_GRACE_S)
    failed = next((i for i, code in enumerate(codes) if code), None)
    return (0, logs[0]) if failed is None else (int(codes[failed] or 1), logs[failed])


def engine_variables(state: StateDir, experiment_id: str, run_id: str) -> dict[str, str]:
    """What the engine sets in every step's environment (the YAML's variables cannot override it). No library
    reads these at import, so a warm-started step (`warm`) may differ from its spare in them."""
    return {
        "MLFLOW_TRACKING_URI": state.tracking_uri,
        "MLFLOW_REGISTRY_URI": state.tracking_uri,
        "MLFLOW_EXPERIMENT_ID": experiment_id,
        "MLFLOW_RUN_ID": run_id,
        # Read by the components' tabular_common: the registry lock to hold while changing the champion,
        # and the engine to outlive (a step whose `mlops` died must not go on to touch the registry).
        "MLOPS_REGISTRY_LOCK": str(state.registry_lock),
        "MLOPS_ENGINE_PID": str(os.getpid()),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


def may_warm_start(step: Step) -> bool:
    """Could this step run in a pre-started Python? (Its rendered command and environment decide for sure.)"""
    plain = step.sweep is None and step.parallel is None and step.distribution is None
    return plain and str(step.component.command or "").lstrip().startswith(("python ", "python3 "))


def exec_prefixed(command: str) -> str:
    """`exec COMMAND` when COMMAND is one simple command (words and redirections, no leading assignment or shell
    keyword), so that its program replaces bash; otherwise COMMAND unchanged."""
    text = command.strip()
    if not text or "\n" in text:
        return command
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # unbalanced quotes: let bash report it
        return command
    if not words or words[0] in SHELL_KEYWORDS or ASSIGNMENT.match(words[0]):
        return command
    operators = [w for w in words if w and set(w) <= set(lexer.punctuation_chars)]
    if any(set(op) - set("<>&") or not set(op) & set("<>") for op in operators):  # ; & | ( ): not one command
        return command
    return "exec " + text


def _append(log: Path, line: str) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _indented_tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return "    (no log)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join("    " + line for line in lines)
