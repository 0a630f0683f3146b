"""Render a component's command line from its component.yml, for tests that run the scripts.

The scripts declare no defaults (component.yml owns them), so a test gets its arguments the way Azure ML and the
local executor build them: `command_args("train", train_data=..., c=0.5)`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

COMPONENTS = Path(__file__).resolve().parents[3] / "components"
SCRIPTS = {
    "prep": "prep.py",
    "train": "train.py",
    "evaluate": "evaluate.py",
    "rai": "rai.py",
    "register": "register.py",
}

_PLACEHOLDER = re.compile(r"\$\{\{(inputs|outputs)\.(\w+)\}\}")
_OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]")


def command_args(component: str, **values: object) -> list[str]:
    """The script's arguments as component.yml's `command` renders them: `values` for inputs and outputs, the
    component's defaults for inputs not given, `$[[ ... ]]` blocks dropped when their input has no value."""
    document = yaml.safe_load((COMPONENTS / component / "component.yml").read_text())
    known = {**(document.get("inputs") or {}), **(document.get("outputs") or {})}
    unknown = set(values) - set(known)
    assert not unknown, f"{component} has no input or output {sorted(unknown)}"
    resolved = {name: values.get(name, (spec or {}).get("default")) for name, spec in known.items()}

    def fill(match: re.Match) -> str:
        value = resolved[match[2]]
        assert value is not None, f"{component}: no value for {match[1]}.{match[2]} (and no default)"
        return shlex.quote(str(value))

    def optional(block: re.Match) -> str:
        names = [name for _, name in _PLACEHOLDER.findall(block[1])]
        return _PLACEHOLDER.sub(fill, block[1]) if all(resolved[n] is not None for n in names) else ""

    command = _PLACEHOLDER.sub(fill, _OPTIONAL_BLOCK.sub(optional, " ".join(document["command"].split())))
    python, script, *args = shlex.split(command)
    assert (python, script) == ("python", SCRIPTS[component])
    return args
