"""The training pipeline built with the Python SDK (`@dsl.pipeline`): the twin of pipelines/train.yml.

Both use the same component YAML files, so there is one definition of each step. Input values are read from
train.yml's `inputs:` (one place for them); this file shows the SDK pattern the DP-100 / AI-300 exams ask for:
`load_component`, a `@dsl.pipeline` function wiring step outputs to step inputs, and the job's settings.
tests/contract/test_sdk_twin.py proves this graph and train.yml's are the same.

    .venv/bin/python pipelines/train_pipeline.py     # prints the pipeline job as YAML
    .venv/bin/python pipelines/train_pipeline.py --local --set inputs.n_estimators=50   # runs this object locally

`--local` hands the job object to the local target (`mlops.targets.local.jobs.run_job`), as
`ml_client.jobs.create_or_update(job)` hands it to Azure; it reuses the steps `mlops job run pipelines/train.yml`
already ran with the same inputs, since both are the same components.
"""

import logging
import warnings
from pathlib import Path

logging.getLogger("azure.ai.ml").setLevel(logging.ERROR)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from azure.ai.ml import Input, dsl, load_component, load_job
    from azure.ai.ml.entities import PipelineJob

HERE = Path(__file__).resolve().parent
COMPONENTS = HERE.parent / "components"
YAML_TWIN = HERE / "train.yml"

prep_data = load_component(source=COMPONENTS / "prep" / "component.yml")
train_model = load_component(source=COMPONENTS / "train" / "component.yml")
evaluate_model = load_component(source=COMPONENTS / "evaluate" / "component.yml")
responsible_ai_insights = load_component(source=COMPONENTS / "rai" / "component.yml")
register_model = load_component(source=COMPONENTS / "register" / "component.yml")


@dsl.pipeline(
    display_name="train-diabetes-classifier",
    description="prep -> train -> evaluate (against the champion) -> rai -> register (when the gate says so)",
)
def train_pipeline(
    training_data: Input,
    data_asset: str,
    target_column: str,
    numeric_features: str,
    categorical_features: str,
    sensitive_feature: str,
    id_column: str,
    task: str,
    positive_label: str,
    test_size: float,
    seed: int,
    estimator: str,
    n_estimators: int,
    model_name: str,
    primary_metric: str,
    gate_mode: str,
    min_metric: float,
    min_improvement: float,
    max_disparity: float,
    disparity_metric: str,
):
    prep = prep_data(
        raw_data=training_data,
        target_column=target_column,
        numeric_features=numeric_features,
        categorical_features=categorical_features,
        sensitive_feature=sensitive_feature,
        id_column=id_column,
        task=task,
        positive_label=positive_label,
        test_size=test_size,
        seed=seed,
    )
    train = train_model(
        train_data=prep.outputs.train_data,
        target_column=target_column,
        numeric_features=numeric_features,
        categorical_features=categorical_features,
        task=task,
        positive_label=positive_label,
        estimator=estimator,
        n_estimators=n_estimators,
        seed=seed,
    )
    evaluate = evaluate_model(
        model=train.outputs.model_output,
        test_data=prep.outputs.test_data,
        target_column=target_column,
        task=task,
        primary_metric=primary_metric,
        model_name=model_name,
        sensitive_feature=sensitive_feature,
        gate_mode=gate_mode,
        min_metric=min_metric,
        min_improvement=min_improvement,
        max_disparity=max_disparity,
        disparity_metric=disparity_metric,
    )
    rai = responsible_ai_insights(
        model=train.outputs.model_output,
        test_data=prep.outputs.test_data,
        target_column=target_column,
        task=task,
        evaluation=evaluate.outputs.evaluation,
    )
    register = register_model(
        model=train.outputs.model_output,
        evaluation=evaluate.outputs.evaluation,
        model_name=model_name,
        data_asset=data_asset,
        insights=rai.outputs.insights,
    )
    return {
        "evaluation": evaluate.outputs.evaluation,
        "registration": register.outputs.registration,
        "insights": rai.outputs.insights,
    }


def build_pipeline_job() -> PipelineJob:
    """The job with train.yml's input values and settings, ready for `ml_client.jobs.create_or_update`."""
    yaml_job = load_job(source=YAML_TWIN)
    values = {}
    for name, value in yaml_job._to_dict()["inputs"].items():
        values[name] = Input(type=value["type"], path=value["path"]) if isinstance(value, dict) else value
    job = train_pipeline(**values)
    job.experiment_name = yaml_job.experiment_name
    job.settings.default_compute = yaml_job.settings.default_compute
    job.settings.force_rerun = yaml_job.settings.force_rerun
    job.settings.continue_on_step_failure = yaml_job.settings.continue_on_step_failure
    return job


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="The training pipeline job, built with the SDK.")
    parser.add_argument("--local", action="store_true", help="run it on the local target instead of printing it")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if not args.local:
        print(build_pipeline_job()._to_yaml())
        sys.exit(0)
    from mlops.cli import guarded
    from mlops.targets.local.jobs import run_job

    def run_locally() -> int:
        run_job(build_pipeline_job(), args.overrides)  # raises (a step failed, bad input): `guarded` says why
        return 0

    sys.exit(guarded(run_locally))
