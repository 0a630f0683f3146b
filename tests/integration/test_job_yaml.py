"""`mlops job run` on small job YAML files of the kind Azure ML's documentation publishes, from a folder that is not
a project (tests/fixtures/jobs, copied to a temporary folder): a command job, pipelines with inline components,
components without code or outputs, `file:` references, an output declared with an empty body.

Every `refused-*.yml` names, in its first line (`# expect: ...`), what both `mlops validate` and `mlops job run`
must say about it; every other file must validate and run. Nothing may run for a refused file.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from mlops.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jobs"
REFUSED = sorted(p.name for p in FIXTURES.glob("refused-*.yml"))
RUNNABLE = sorted(p.name for p in FIXTURES.glob("*.yml") if not p.name.startswith("refused-"))


@pytest.fixture
def jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "jobs"
    shutil.copytree(FIXTURES, folder)
    monkeypatch.delenv("MLOPS_PROJECT_ROOT", raising=False)
    monkeypatch.delenv("MLOPS_HOME", raising=False)
    monkeypatch.chdir(folder)  # outside any project: the state goes to ./.mlops
    return folder


def expectation(name: str) -> str:
    first = (FIXTURES / name).read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{name}: the first line must say what is expected"
    return first.removeprefix("# expect: ")


def test_the_fixture_suite_has_both_kinds() -> None:
    assert len(REFUSED) >= 4 and len(RUNNABLE) >= 3


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_job_is_refused_alike_by_validate_and_run(jobs: Path, capsys, name: str) -> None:
    assert main(["validate", name]) == 1
    said = capsys.readouterr().out.splitlines()[0]
    assert said.startswith(f"{name}: ") and expectation(name) in said, said
    assert main(["job", "run", name]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {jobs / name}: {said.removeprefix(name + ': ')}\n"  # one line, the same words
    assert not (jobs / ".mlops" / "runs").exists() or not any((jobs / ".mlops" / "runs").iterdir())


@pytest.mark.parametrize("name", RUNNABLE)
def test_a_job_that_validates_runs(jobs: Path, capsys, name: str) -> None:
    assert main(["validate", name]) == 0, capsys.readouterr().out
    assert main(["job", "run", name]) == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err


def test_a_command_job_is_one_mlflow_run_with_its_outputs(jobs: Path, capsys) -> None:
    assert main(["job", "run", "command-job.yml", "--set", "inputs.label=rows"]) == 0
    out = capsys.readouterr().out
    assert "command job count-lines: one command, local target" in out
    output = Path(next(line for line in out.splitlines() if "output out:" in line).split("output out: ")[1])
    # lines.txt has 3 lines; --set reached the command, and so did the job's environment_variables
    assert (output / "count.txt").read_text() == "rows_seen=3\n"
    client = MlflowClient(tracking_uri=f"sqlite:///{jobs / '.mlops' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fixture-jobs")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"  # no child run: on Azure a command job is one run
    assert runs[0].info.run_name == "count-lines" and runs[0].data.tags["mlops.step"] == "command_job"


def test_a_step_without_outputs_and_without_code_runs_and_is_reused(jobs: Path, capsys) -> None:
    assert main(["pipeline", "run", "pipeline-no-outputs.yml"]) == 0  # `pipeline run` is `job run`'s alias
    first = capsys.readouterr().out
    assert "[1/1] hello" in first and "completed" in first
    log = next((jobs / ".mlops" / "runs").glob("*/hello/user_logs/std_log.txt"))
    assert log.read_text() == "hello pipelines\n"
    assert main(["job", "run", "pipeline-no-outputs.yml"]) == 0
    assert "reused (cache" in capsys.readouterr().out


def test_an_output_declared_with_an_empty_body_is_a_folder_output(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-empty-output.yml"]) == 0
    out = capsys.readouterr().out
    output = Path(next(line for line in out.splitlines() if "output counted:" in line).split("output counted: ")[1])
    assert (output / "count.txt").read_text() == "lines=3\n"


def test_a_job_outside_the_project_named_by_mlops_project_root(jobs: Path, capsys, monkeypatch, repo_root) -> None:
    """MLOPS_PROJECT_ROOT names the project whose catalog and state are used; the job file may live elsewhere."""
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(repo_root / "tests" / "fixtures" / "miniproject"))
    monkeypatch.setenv("MLOPS_HOME", str(jobs.parent / "state"))
    assert main(["job", "run", str(jobs / "command-job.yml")]) == 0
    assert (jobs.parent / "state" / "mlflow.db").is_file() and not (jobs / ".mlops").exists()


def ranks_written(out: str, output: str) -> dict[int, dict[str, str]]:
    folder = Path(next(line for line in out.splitlines() if f"output {output}:" in line).split(": ", 1)[1])
    return {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in folder.glob("rank-*.json")}


def test_pytorch_distribution_starts_every_rank_with_azures_variables(jobs: Path, capsys) -> None:
    assert main(["job", "run", "distributed-pytorch.yml"]) == 0
    ranks = ranks_written(capsys.readouterr().out, "ranks")
    assert sorted(ranks) == [0, 1, 2, 3]  # instance_count 2 x process_count_per_instance 2
    assert {(r["NODE_RANK"], r["LOCAL_RANK"]) for r in ranks.values()} == {
        ("0", "0"),
        ("0", "1"),
        ("1", "0"),
        ("1", "1"),
    }
    assert {r["WORLD_SIZE"] for r in ranks.values()} == {"4"} and {r["MASTER_ADDR"] for r in ranks.values()} == {
        "127.0.0.1"
    }
    assert len({r["MASTER_PORT"] for r in ranks.values()}) == 1
    logs = sorted(p.name for p in (jobs / ".mlops" / "runs").glob("*/distributed_pytorch/user_logs/*"))
    assert logs == [f"std_log_process_{rank}.txt" for rank in range(4)]


def test_a_failing_rank_stops_the_others_and_fails_the_step_with_its_log(jobs: Path, capsys) -> None:
    """The other ranks would wait 120 s: they are stopped as soon as rank 2 fails, and nothing is left running."""
    started = time.monotonic()
    overrides = ["--set", "inputs.fail_rank=2", "--set", "inputs.sleep=120"]
    assert main(["job", "run", "distributed-pytorch.yml", *overrides]) == 1
    assert time.monotonic() - started < 60
    err = capsys.readouterr().err
    assert "failed with exit code 3" in err and "std_log_process_2.txt" in err and "rank 2 of 4" in err
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(jobs) in " ".join(p.info["cmdline"] or [])]


def test_tensorflow_and_mpi_distributions(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-distributed-tensorflow.yml"]) == 0
    tasks = {rank: json.loads(v["TF_CONFIG"]) for rank, v in ranks_written(capsys.readouterr().out, "ranks").items()}
    assert sorted(tasks) == [0, 1, 100]  # two workers and one parameter server
    assert {t["task"]["type"] for t in tasks.values()} == {"worker", "ps"}
    cluster = tasks[0]["cluster"]
    assert (
        len(cluster["worker"]) == 2 and len(cluster["ps"]) == 1 and all(t["cluster"] == cluster for t in tasks.values())
    )
    assert tasks[0]["environment"] == "cloud"

    assert main(["job", "run", "distributed-mpi.yml"]) == 0
    ranks = ranks_written(capsys.readouterr().out, "ranks")
    assert sorted(ranks) == [0, 1, 2]
    assert {r["OMPI_COMM_WORLD_SIZE"] for r in ranks.values()} == {"3"}
    assert [ranks[i]["OMPI_COMM_WORLD_LOCAL_RANK"] for i in range(3)] == ["0", "1", "2"]
    assert len({r["AZ_BATCH_MASTER_NODE"] for r in ranks.values()}) == 1


def output_of(out: str, name: str) -> Path:
    return Path(next(line for line in out.splitlines() if f"output {name}:" in line).split(": ", 1)[1])


def test_a_nested_pipeline_runs_its_steps_with_the_bindings_of_every_level(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-nested.yml"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.endswith("running …")] == [
        "counts.once",
        "counts.twice",
        "recount",
    ]
    assert (output_of(out, "counted") / "count.txt").read_text() == "counted=3\n"  # the component input's default
    recount = next((jobs / ".mlops" / "runs").glob("*/recount/outputs/out/count.txt"))
    assert recount.read_text() == "recounted=1\n"  # counts.twice's output folder holds one line: again=3
    # --set reaches a nested pipeline's input; only the inner step that reads it runs again
    assert main(["job", "run", "pipeline-nested.yml", "--set", "jobs.counts.inputs.label=firsts"]) == 0
    again = capsys.readouterr().out
    assert "counts.once            completed" in again
    assert "counts.twice           reused" in again and "recount                reused" in again
    assert (output_of(again, "counted") / "count.txt").read_text() == "firsts=3\n"


def test_pipeline_components_nest_to_any_depth(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-nested-twice.yml"]) == 0
    out = capsys.readouterr().out
    assert "outer.inner.once" in out and "outer.inner.twice" in out
    assert (output_of(out, "result") / "count.txt").read_text() == "deep=3\n"


def test_an_environment_the_venv_does_not_match_is_named_once_and_the_job_runs(jobs: Path, capsys) -> None:
    assert main(["job", "run", "command-job-env.yml"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert "environment inline in command-job-env.yml (env/conda.yml) asks for" in warnings[0]
    assert "pandas==1.5.3 (venv has " in warnings[0] and "leftpad-fixture-package==1.0 (not installed)" in warnings[0]
    assert "python=3.10 (venv has 3." in warnings[0]


def test_an_sdk_job_object_runs_locally_with_its_local_data(jobs: Path, capsys) -> None:
    """A `@dsl.pipeline` job object (what notebooks and pipelines/train_pipeline.py build) through run_job: its
    components inline, a local input path the SDK's `_to_dict()` would prefix with `azureml:` made absolute."""
    from azure.ai.ml import Input, dsl, load_component

    from mlops.targets.local.jobs import run_job

    count = load_component(source=jobs / "count" / "component.yml")

    @dsl.pipeline(display_name="sdk-count")
    def counting(text):  # no annotation: this module has postponed (string) annotations, which dsl cannot read
        step = count(text=text, label="sdk")
        return {"counted": step.outputs.out}

    job = counting(text=Input(type="uri_file", path="./lines.txt"))
    run = run_job(job, base=jobs)
    assert run.status == "completed"
    assert (run.outputs["counted"] / "count.txt").read_text() == "sdk=3\n"
    submitted = list((jobs / ".mlops" / "submitted").glob("sdk-count-*.yml"))
    assert len(submitted) == 1 and str(jobs / "lines.txt") in submitted[0].read_text()  # the record of what ran
    # the same file given by its absolute path: the same step, reused
    again = run_job(counting(text=Input(type="uri_file", path=str(jobs / "lines.txt"))), base=jobs)
    assert [step.status for step in again.steps.values()] == ["reused"]


def test_a_parallel_step_runs_its_entry_script_on_mini_batches(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-parallel.yml"]) == 0
    counts = output_of(capsys.readouterr().out, "counts") / "parallel_run_step.txt"
    # three files in mini batches of two, in mini-batch order; program_arguments reached init() (weight 10)
    assert counts.read_text().splitlines() == ["one.txt 20", "three.txt 30", "two.txt 10"]
    log = next((jobs / ".mlops" / "runs").glob("*/count/user_logs/std_log.txt")).read_text()
    assert "3 file(s) in 2 mini batch(es): 2 succeeded" in log


def test_a_parallel_step_fails_past_its_mini_batch_error_threshold(jobs: Path, capsys) -> None:
    """mini_batch_error_threshold 0: one failed mini batch (after its retry) fails the step; no output file."""
    assert main(["job", "run", "pipeline-parallel.yml", "--set", "jobs.count.inputs.fail_on=two"]) == 1
    err = capsys.readouterr().err
    assert "step 'count' failed with exit code 1" in err
    assert "1 failed mini batch(es) exceed mini_batch_error_threshold 0" in err and "asked to fail on two" in err
    assert not list((jobs / ".mlops" / "runs").glob("*/count/outputs/counts/*"))


def test_build_envs_runs_a_step_in_its_environments_own_venv_built_once(jobs: Path, capsys) -> None:
    """--build-envs: uv builds env-six/conda.yml's pip lines (six 1.16.0; the project's venv has 1.17.0) into the
    state folder, once; the step runs with that venv's python. Needs the package index, as `make` does."""
    assert main(["job", "run", "command-job-build-env.yml", "--build-envs"]) == 0
    first = capsys.readouterr()
    assert "building environment inline in command-job-build-env.yml" in first.out
    assert "warning:" not in first.err  # the environment is what it asks for
    log = next((jobs / ".mlops" / "runs").glob("*/command_job_build_env/user_logs/std_log.txt")).read_text()
    assert log.startswith("six 1.16.0 in ") and str(jobs / ".mlops" / "envs") in log
    assert main(["job", "run", "command-job-build-env.yml", "--build-envs", "--force-rerun"]) == 0
    assert "building environment" not in capsys.readouterr().out  # cached
    assert len([p for p in (jobs / ".mlops" / "envs").iterdir() if not p.name.startswith("uv-")]) == 1


def test_build_envs_names_an_environment_that_cannot_be_built(jobs: Path, capsys) -> None:
    conda = jobs / "env-six" / "conda.yml"
    conda.write_text(conda.read_text().replace("six==1.16.0", "mlops-fixture-no-such-package==0.0.1"))
    assert main(["job", "run", "command-job-build-env.yml", "--build-envs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: environment inline in command-job-build-env.yml (") and "uv failed: " in err
    assert "mlops-fixture-no-such-package" in err
    assert not (jobs / ".mlops" / "runs").exists() or not any((jobs / ".mlops" / "runs").iterdir())  # nothing ran
    assert [p.name for p in (jobs / ".mlops" / "envs").iterdir()] == ["uv-cache"]  # no half-built venv


def test_a_sweep_job_runs_its_trials_and_keeps_the_best(jobs: Path, capsys) -> None:
    assert main(["job", "run", "sweep-job.yml", "--set", "limits.max_total_trials=2"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(next((jobs / ".mlops" / "runs").glob("*/sweep_job/sweep.json")).read_text())
    trials = {t["trial"]: t for t in summary["trials"]}
    assert sorted(trials) == [1, 2] and all(t["status"] == "completed" for t in trials.values())
    for trial in trials.values():  # the trial logged score = lr * depth with the sampled values
        assert trial["metric"] == pytest.approx(trial["params"]["lr"] * trial["params"]["depth"])
        assert 0.01 <= trial["params"]["lr"] <= 0.1 and trial["params"]["depth"] in (2, 4, 8)
    best = max(trials.values(), key=lambda t: t["metric"])
    assert summary["best_trial"] == best["trial"]
    params = (output_of(out, "model") / "params.txt").read_text()
    assert params == f"lr={best['params']['lr']} depth={best['params']['depth']}\n"  # the best trial's output
    client = MlflowClient(tracking_uri=f"sqlite:///{jobs / '.mlops' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fixture-jobs")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    sweep_run = runs["sweep-trial"]
    assert sweep_run.data.tags["best_child_run_id"] == best["mlflow_run_id"]
    assert sweep_run.data.metrics["score"] == pytest.approx(best["metric"])
    trial_runs = [r for name, r in runs.items() if name.startswith("sweep_job_trial_")]
    assert len(trial_runs) == 2 and {r.data.tags["mlflow.parentRunId"] for r in trial_runs} == {sweep_run.info.run_id}
    assert {float(r.data.params["lr"]) for r in trial_runs} == {t["params"]["lr"] for t in trials.values()}


def test_a_grid_sweep_step_feeds_its_best_trial_to_the_next_step(jobs: Path, capsys) -> None:
    assert main(["job", "run", "pipeline-sweep-step.yml"]) == 0
    out = capsys.readouterr().out
    assert "tune                   sweeping: 2 trial(s), 2 at a time" in out  # the grid has two points; limit 4
    assert "best trial 2 {'depth': 6}" in out  # 0.05 * 6 beats 0.05 * 2
    assert (output_of(out, "counted") / "count.txt").read_text() == "best=1\n"


def test_a_bandit_policy_cancels_the_trial_that_falls_behind(jobs: Path, capsys) -> None:
    """Two trials log accuracy once per epoch, one at 30% of the other's rate: from interval 2 on, bandit with
    slack_factor 0.5 cancels it (0.3 x < x / 1.5); the other completes and is the best."""
    assert main(["job", "run", "sweep-early-termination.yml"]) == 0
    summary = json.loads(next((jobs / ".mlops" / "runs").glob("*/sweep_early_termination/sweep.json")).read_text())
    trials = {t["params"]["quality"]: t for t in summary["trials"]}
    assert trials[0.3]["status"] == "canceled" and trials[0.3]["canceled_at_interval"] >= 2
    assert trials[1.0]["status"] == "completed" and trials[1.0]["metric"] == pytest.approx(1.0)
    assert summary["best_trial"] == trials[1.0]["trial"]
    client = MlflowClient(tracking_uri=f"sqlite:///{jobs / '.mlops' / 'mlflow.db'}")
    assert client.get_run(trials[0.3]["mlflow_run_id"]).info.status == "KILLED"
    assert "canceled" in capsys.readouterr().out


def test_a_sweep_whose_trials_never_log_the_primary_metric_fails_naming_it(jobs: Path, capsys) -> None:
    """The trials log `score`; an objective on another name can pick no best trial (Azure fails such a sweep)."""
    job = jobs / "sweep-unlogged.yml"
    job.write_text((jobs / "sweep-job.yml").read_text().replace("primary_metric: score", "primary_metric: auc"))
    assert main(["job", "run", job.name, "--set", "limits.max_total_trials=2"]) == 1
    out = capsys.readouterr().out
    assert "failed (no trial logged auc)" in out
    step_log = next((jobs / ".mlops" / "runs").glob("*/*/user_logs/sweep.txt"))
    assert step_log.read_text().startswith("no trial logged auc; the trials' logs: ")
