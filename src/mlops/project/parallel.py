"""A `type: parallel` step: what Azure ML's parallel runtime needs, read from the step and its parallel component.

The local target runs it with the batch driver (`targets.local.batch`), the runtime of batch deployments too: the
files of the `input_data` input in mini batches of `mini_batch_size` files, the entry script's `init()` once per
worker and `run(mini_batch)` per mini batch, `retry_settings` (a timed-out worker is restarted), `error_threshold`
(failed files) and `mini_batch_error_threshold` (failed mini batches; -1: ignore all), and with `append_row_to`
the rows every `run()` returned, in mini-batch order, in one file of that output (`parallel_run_step.txt`, or the
`--append_row_file_name` of `program_arguments`; values separated by spaces, no header, as ParallelRunStep writes
them). `program_arguments` reach the entry script as its `sys.argv`.

Defaults are the parallel job YAML reference's: mini_batch_size 1, max_retries 2, timeout 60 s, both thresholds
-1. Refused, naming the field: `task.type` other than run_function, tabular inputs (`mltable`: mini batches by size
need Azure's data runtime) and a mini_batch_size given as a size (`10mb`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from mlops.errors import MlopsError

INPUT_BINDING = re.compile(r"^\$\{\{\s*inputs\.(\w+)\s*\}\}$")
OUTPUT_BINDING = re.compile(r"^\$\{\{\s*outputs\.(\w+)\s*\}\}$")
DEFAULT_APPEND_ROW_FILE_NAME = "parallel_run_step.txt"
FILE_INPUT_TYPES = ("uri_folder", "uri_file")


@dataclass(frozen=True)
class Parallel:
    input_data: str  # the input whose files are split into mini batches
    entry_script: str
    program_arguments: str  # a template: ${{inputs.x}} and ${{outputs.y}} as in a command
    append_row_to: str | None  # the output that gets the rows
    mini_batch_size: int = 1
    max_retries: int = 2
    timeout: float = 60.0
    error_threshold: int = -1
    mini_batch_error_threshold: int = -1
    environment_variables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, node: Any, component: Any, where: str, written_size: Any = None) -> Parallel:
        """From a loaded parallel step (`node`) and its ParallelComponent; a value on the step wins.
        `written_size`: mini_batch_size as the YAML writes it (the SDK turns "10mb" into a number of bytes)."""
        if written_size is not None:
            _files(written_size, f"{where}mini_batch_size")

        def pick(name: str) -> Any:
            value = getattr(node, name, None)
            return value if value is not None else getattr(component, name, None)

        task = pick("task")
        if task is None or str(getattr(task, "type", "run_function")) != "run_function":
            raise MlopsError(f"{where}task.type: {getattr(task, 'type', None)!r}; the local target runs run_function")
        input_data = INPUT_BINDING.match(str(pick("input_data") or "").strip())
        if not input_data or input_data[1] not in (component.inputs or {}):
            raise MlopsError(f"{where}input_data: expected ${{{{inputs.<name>}}}} naming an input of the component")
        kind = str(component.inputs[input_data[1]].type)
        if kind not in FILE_INPUT_TYPES:
            raise MlopsError(
                f"{where}inputs.{input_data[1]}: type {kind}; locally a parallel step splits files "
                f"({', '.join(FILE_INPUT_TYPES)}); tabular mini batches need --target azure"
            )
        append = OUTPUT_BINDING.match(str(getattr(task, "append_row_to", None) or "").strip())
        if getattr(task, "append_row_to", None) and not (append and append[1] in (component.outputs or {})):
            raise MlopsError(f"{where}task.append_row_to: expected ${{{{outputs.<name>}}}} naming an output")
        retry = pick("retry_settings")
        return cls(
            input_data=input_data[1],
            entry_script=str(task.entry_script),
            program_arguments=str(getattr(task, "program_arguments", None) or ""),
            append_row_to=append[1] if append else None,
            mini_batch_size=_files(pick("mini_batch_size"), f"{where}mini_batch_size"),
            max_retries=_whole(_get(retry, "max_retries"), f"{where}retry_settings.max_retries", 2, 0),
            timeout=float(_whole(_get(retry, "timeout"), f"{where}retry_settings.timeout", 60, 1)),
            error_threshold=_whole(pick("error_threshold"), f"{where}error_threshold", -1, -1),
            mini_batch_error_threshold=_whole(
                pick("mini_batch_error_threshold"), f"{where}mini_batch_error_threshold", -1, -1
            ),
            environment_variables={str(k): str(v) for k, v in (pick("environment_variables") or {}).items()},
        )

    def arguments(self, rendered: str) -> tuple[list[str], str]:
        """The entry script's argv from the rendered program_arguments, and the append_row file's name."""
        words = shlex.split(rendered)
        name = DEFAULT_APPEND_ROW_FILE_NAME
        if "--append_row_file_name" in words[:-1]:
            name = words[words.index("--append_row_file_name") + 1]
        return words, name


def _get(settings: Any, name: str) -> Any:
    return settings.get(name) if isinstance(settings, dict) else getattr(settings, name, None)


def _files(value: Any, where: str) -> int:
    if value is None:
        return 1
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise MlopsError(f"{where}: {value!r}; locally a mini batch is a number of files (>= 1), not a size")
    return int(text)


def _whole(value: Any, where: str, default: int, low: int) -> int:
    if value is None:
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise MlopsError(f"{where}: expected a whole number, got {value!r}") from None
    if number < low:
        raise MlopsError(f"{where}: expected at least {low}, got {number}")
    return number
