"""AutoML (tabular) jobs and steps, read from Azure ML's YAML, and what the local target runs for them.

On Azure ML an AutoML job or pipeline step (`type: automl`) is Azure's own service. The local target runs the same
YAML with FLAML over the same search: Azure's algorithm names map to FLAML learners (`LEARNERS`; a name with no
local counterpart is refused, listing the ones that exist), Azure's primary metrics to what FLAML optimises
(`METRICS`), and `limits` to FLAML's budget. The search runs as one step of the engine: a command component whose
code is `automl_step/` (with the project's shared table reader), so it is isolated, logged and killable like any
other step, and its `best_model` output is an MLflow model the evaluate and register steps take as they take
train_model's.

What is not the same, and says so in the step's log: no ensembles (Azure's stack/vote ensembles are on by
default; FLAML returns one model), trials run one at a time (max_concurrent_trials applies on Azure),
`exit_score` and test data are not used locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import AzureOnly, MlopsError

# Azure's algorithm names (azure.ai.ml.automl.ClassificationModels / RegressionModels values) -> FLAML learners.
# GradientBoosting maps to scikit-learn's histogram gradient boosting (FLAML's only plain gradient boosting).
LEARNERS: dict[str, dict[str, tuple[str, ...]]] = {
    "classification": {
        "LogisticRegression": ("lrl1", "lrl2"),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostClassifier": ("xgboost",),
        "GradientBoosting": ("histgb",),
    },
    "regression": {
        "ElasticNet": ("enet",),
        "LassoLars": ("lassolars",),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostRegressor": ("xgboost",),
        "GradientBoosting": ("histgb",),
    },
    "forecasting": {
        "Naive": ("naive",),
        "SeasonalNaive": ("snaive",),
        "Average": ("avg",),
        "SeasonalAverage": ("savg",),
        "LassoLars": ("lassolars",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostRegressor": ("xgboost",),
    },
}
# Why an Azure algorithm has no local counterpart (otherwise: FLAML has none for the task).
NO_LOCAL_LEARNER = {
    "AutoArima": "FLAML's ARIMA needs statsmodels, which the lock does not install",
    "Arimax": "FLAML's SARIMAX needs statsmodels, which the lock does not install",
    "ExponentialSmoothing": "FLAML's Holt-Winters needs statsmodels, which the lock does not install",
    "Prophet": "Prophet is not in the lock",
    "TCNForecaster": "a deep-learning forecaster Azure trains on GPU",
    "LinearSVM": "FLAML's linear SVM gives no class probabilities, which evaluation and scoring need",
    "SVM": "FLAML has no kernel SVM",
    "DecisionTree": "FLAML has no single decision tree",
    "MultinomialNaiveBayes": "FLAML has no naive Bayes",
    "BernoulliNaiveBayes": "FLAML has no naive Bayes",
}

# Azure's primary metric (as the YAML writes it, and the name the step logs) -> the enum value azure-ai-ml loads it
# as. The runner computes each one as Azure defines it (automl_step/automl_metrics.py; a test keeps the names equal).
METRICS: dict[str, dict[str, str]] = {
    "classification": {
        "AUC_weighted": "AUCWeighted",
        "accuracy": "Accuracy",
        "norm_macro_recall": "NormMacroRecall",
        "average_precision_score_weighted": "AveragePrecisionScoreWeighted",
        "precision_score_weighted": "PrecisionScoreWeighted",
    },
    "regression": {
        "spearman_correlation": "SpearmanCorrelation",
        "normalized_root_mean_squared_error": "NormalizedRootMeanSquaredError",
        "r2_score": "R2Score",
        "normalized_mean_absolute_error": "NormalizedMeanAbsoluteError",
    },
}
METRICS["forecasting"] = METRICS["regression"]  # Azure's forecasting metrics are the regression ones
DEFAULT_METRIC = {
    "classification": "accuracy",
    "regression": "normalized_root_mean_squared_error",
    "forecasting": "normalized_root_mean_squared_error",
}

# Azure's defaults for the limits the YAML leaves out.
DEFAULT_TIMEOUT_MINUTES = 360
DEFAULT_MAX_TRIALS = 1000

RUNNER = Path(__file__).parent / "automl_step"
SHARED_READER = "tabular_common"  # the project's shared table reader (components/shared), brought in like a component's


@dataclass(frozen=True)
class AutoML:
    """What the local AutoML step needs from an AutoML job or step."""

    task: str
    primary_metric: str  # Azure's name, e.g. AUC_weighted
    target_column: str
    positive_label: str | None
    learners: tuple[str, ...]  # FLAML learner names, in Azure's order
    timeout_minutes: int
    trial_timeout_minutes: int | None
    max_trials: int
    early_termination: bool
    validation: str  # "auto", "size:<fraction>", "cv:<folds>" or "data" (validation_data given)
    featurization: str  # auto | off
    notes: tuple[str, ...]  # what runs differently here (written to the step's log)
    time_column: str | None = None  # forecasting: the time column, the horizon in periods, the frequency
    forecast_horizon: int | None = None
    frequency: str | None = None

    @classmethod
    def of(cls, job: Any, where: str) -> AutoML:
        """From a loaded azure-ai-ml ClassificationJob / RegressionJob (or the pipeline node); `where` prefixes the
        errors (the file and the step)."""
        loaded = getattr(job, "task_type", None)
        task = str(getattr(loaded, "value", loaded) or "").lower()
        if task not in LEARNERS:
            raise AzureOnly(f"{where}task: {task} AutoML runs on Azure ML only; locally {', '.join(LEARNERS)}")
        target = getattr(job, "target_column_name", None)
        if not target:
            raise MlopsError(f"{where}target_column_name: required")
        limits = getattr(job, "limits", None)
        notes = []
        training = getattr(job, "training", None)
        if training is None or getattr(training, "enable_stack_ensemble", None) is not False:
            notes.append("stack/vote ensembles are Azure's (on by default); locally FLAML returns one model")
        if limits is not None and (limits.max_concurrent_trials or 1) > 1:
            notes.append(
                f"max_concurrent_trials {limits.max_concurrent_trials} applies on Azure; trials run one by one here"
            )
        if limits is not None and limits.exit_score is not None:
            notes.append("limits.exit_score applies on Azure only")
        if getattr(job, "test_data", None) is not None or getattr(job, "test_data_size", None):
            notes.append("test_data is scored on Azure only; the pipeline's evaluate step scores the test split")
        positive = getattr(job, "positive_label", None)
        forecast = _forecasting(job, where, notes) if task == "forecasting" else {}
        return cls(
            task=task,
            primary_metric=metric_name(task, getattr(job, "primary_metric", None), where),
            target_column=str(target),
            positive_label=None if positive in (None, "") else str(positive),
            learners=learners(task, training, where),
            timeout_minutes=_positive(limits, "timeout_minutes", DEFAULT_TIMEOUT_MINUTES, where),
            trial_timeout_minutes=_positive(limits, "trial_timeout_minutes", None, where),
            max_trials=_positive(limits, "max_trials", DEFAULT_MAX_TRIALS, where),
            early_termination=bool(getattr(limits, "enable_early_termination", None)),
            validation=_validation(job, where),
            featurization=_featurization(job, where),
            notes=tuple(notes),
            **forecast,
        )

    def arguments(self) -> dict[str, Any]:
        """The runner's settings, as literal inputs of its component (so a change is a change of the step)."""
        return {
            "task": self.task,
            "primary_metric": self.primary_metric,
            "target_column_name": self.target_column,
            "positive_label": self.positive_label,
            "learners": ",".join(self.learners),
            "timeout_minutes": self.timeout_minutes,
            "trial_timeout_minutes": self.trial_timeout_minutes,
            "max_trials": self.max_trials,
            "early_termination": self.early_termination,
            "validation": self.validation,
            "featurization": self.featurization,
            "notes": " | ".join(self.notes) or None,
            "time_column_name": self.time_column,
            "forecast_horizon": self.forecast_horizon,
            "frequency": self.frequency,
        }


def metric_name(task: str, loaded: Any, where: str) -> str:
    """Azure's name of the primary metric azure-ai-ml loaded (an enum), or the task's default."""
    if loaded is None:
        return DEFAULT_METRIC[task]
    value = str(getattr(loaded, "value", loaded))
    for name, enum_value in METRICS[task].items():
        if value in (enum_value, name):
            return name
    raise MlopsError(
        f"{where}primary_metric: {value!r} is not a {task} metric; expected one of {', '.join(METRICS[task])}"
    )


def learners(task: str, training: Any, where: str) -> tuple[str, ...]:
    """FLAML learners for `allowed_training_algorithms` minus `blocked_training_algorithms` (Azure's names)."""
    known = LEARNERS[task]
    allowed = [_algorithm(a) for a in (getattr(training, "allowed_training_algorithms", None) or [])]
    blocked = [_algorithm(a) for a in (getattr(training, "blocked_training_algorithms", None) or [])]
    for field, names in (("allowed_training_algorithms", allowed), ("blocked_training_algorithms", blocked)):
        for name in names:
            if name not in known:
                why = NO_LOCAL_LEARNER.get(name, f"FLAML has no {task} counterpart")
                raise AzureOnly(
                    f"{where}training.{field}: {name} has no local counterpart ({why}); the local target runs "
                    f"{', '.join(known)} (or submit with --target azure)"
                )
    chosen = [name for name in (allowed or known) if name not in blocked]
    if not chosen:
        raise MlopsError(f"{where}training: every algorithm is blocked; allow at least one of {', '.join(known)}")
    return tuple(dict.fromkeys(learner for name in chosen for learner in known[name]))


def _forecasting(job: Any, where: str, notes: list[str]) -> dict[str, Any]:
    """The forecasting settings the local run takes: one series, a horizon in periods, an optional frequency."""
    settings = getattr(job, "forecasting_settings", None)
    time_column = getattr(settings, "time_column_name", None)
    if not time_column:
        raise MlopsError(f"{where}forecasting.time_column_name: required for a forecasting job")
    if getattr(settings, "time_series_id_column_names", None):
        raise AzureOnly(
            f"{where}forecasting.time_series_id_column_names: several series run on Azure ML only; the local "
            "target forecasts one series"
        )
    horizon = getattr(settings, "forecast_horizon", None)
    if horizon is None or str(horizon).lower() == "auto":
        raise AzureOnly(f"{where}forecasting.forecast_horizon: auto runs on Azure ML only; locally give a number")
    if int(horizon) < 1:
        raise MlopsError(f"{where}forecasting.forecast_horizon: expected an integer >= 1, got {horizon}")
    if getattr(job, "validation_data", None) is not None:
        raise AzureOnly(
            f"{where}validation_data: runs on Azure ML only for forecasting; locally the last forecast_horizon "
            "periods validate"
        )
    notes.append("columns other than the time column and the target are not used locally (one series, no regressors)")
    frequency = getattr(settings, "frequency", None)
    return {"time_column": str(time_column), "forecast_horizon": int(horizon), "frequency": frequency or None}


def _algorithm(value: Any) -> str:
    return str(getattr(value, "value", value))


def _positive(limits: Any, field: str, default: int | None, where: str) -> Any:
    value = getattr(limits, field, None) if limits is not None else None
    if value is None:
        return default
    if int(value) < 1:
        raise MlopsError(f"{where}limits.{field}: expected an integer >= 1, got {value}")
    return int(value)


def _validation(job: Any, where: str) -> str:
    given = [
        name
        for name in ("validation_data", "validation_data_size", "n_cross_validations", "cv_split_column_names")
        if getattr(job, name, None) not in (None, "")
    ]
    if len(given) > 1:
        raise MlopsError(f"{where}{given[1]}: give one of validation_data, validation_data_size, n_cross_validations")
    if not given:
        return "auto"
    name = given[0]
    if name == "cv_split_column_names":
        raise AzureOnly(f"{where}cv_split_column_names: runs on Azure ML only; locally use n_cross_validations")
    if name == "validation_data":
        return "data"
    value = getattr(job, name)
    if name == "validation_data_size":
        if not 0.0 < float(value) < 1.0:
            raise MlopsError(f"{where}validation_data_size: expected a fraction between 0 and 1, got {value}")
        return f"size:{float(value)}"
    if str(value).lower() == "auto":
        return "auto"
    if int(value) < 2:
        raise MlopsError(f"{where}n_cross_validations: expected auto or an integer >= 2, got {value}")
    return f"cv:{int(value)}"


def _featurization(job: Any, where: str) -> str:
    mode = str(getattr(getattr(job, "featurization", None), "mode", None) or "auto").lower()
    if mode not in ("auto", "off"):
        raise AzureOnly(
            f"{where}featurization.mode: {mode} runs on Azure ML only; locally auto (impute, scale, one-hot) or off"
        )
    return mode


def component(automl: AutoML, base: Path, shared: Path | None, where: str, data_inputs: dict[str, Any]) -> Any:
    """The command component the local engine runs for an AutoML job or step: the runner over the data inputs
    (`training_data`, and `validation_data` when given) with the settings as literal inputs; one output,
    `best_model` (mlflow_model), as Azure's AutoML step has."""
    from azure.ai.ml import Input, Output
    from azure.ai.ml.entities import CommandComponent

    if shared is None or not (shared / SHARED_READER).is_dir():
        raise AzureOnly(
            f"{where}type: automl runs locally inside a project (it reads MLTable data with the project's "
            f"components/shared/{SHARED_READER}); run it from a project or submit with --target azure"
        )
    inputs: dict[str, Any] = {name: Input(type="mltable") for name in data_inputs}
    flags = [_flag(name) for name in data_inputs]
    for name, value in automl.arguments().items():
        kind = "boolean" if isinstance(value, bool) else "integer" if isinstance(value, int) else "string"
        inputs[name] = Input(type=kind, optional=value is None)
        flags.append("$[[" + _flag(name) + "]]" if value is None else _flag(name))
    return CommandComponent(
        name="automl_local",
        display_name="AutoML (local: FLAML)",
        command=" ".join(["python automl_train.py", *flags, "--best_model ${{outputs.best_model}}"]),
        code=str(RUNNER),
        additional_includes=[str(shared / SHARED_READER)],
        inputs=inputs,
        outputs={"best_model": Output(type="mlflow_model")},
        is_deterministic=False,  # a time-bounded search: never reused
        base_path=str(base),
    )


def _flag(name: str) -> str:
    return "--" + name + " ${{inputs." + name + "}}"
