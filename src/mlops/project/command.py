"""Render a component's `command` the way Azure ML does, with local values.

`${{inputs.x}}` and `${{outputs.y}}` are replaced by values; an optional block `$[[ ... ]]` is kept (without its
brackets) only when every input it mentions has a value, and dropped otherwise. Values are shell-quoted so a local
path with spaces stays one argument (on Azure paths never contain spaces, so the command means the same there).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from mlops.errors import MlopsError

PLACEHOLDER = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)


def placeholders(command: str) -> set[tuple[str, str]]:
    """Every (`inputs`|`outputs`, name) the command mentions."""
    return {(kind, name) for kind, name in PLACEHOLDER.findall(command)}


def required_placeholders(command: str) -> set[tuple[str, str]]:
    """Placeholders outside optional blocks: these must always have a value."""
    return placeholders(OPTIONAL_BLOCK.sub("", command))


def render(command: str, inputs: Mapping[str, str | None], outputs: Mapping[str, str]) -> str:
    """Substitute values; inputs mapped to None are "not provided"."""

    def value_of(kind: str, name: str) -> str | None:
        table = inputs if kind == "inputs" else outputs
        if name not in table:
            raise MlopsError(f"command refers to ${{{{{kind}.{name}}}}}, which the component does not declare")
        return table[name]

    def keep_block(match: re.Match[str]) -> str:
        body = match.group(1)
        if all(value_of(kind, name) is not None for kind, name in PLACEHOLDER.findall(body)):
            return body
        return ""

    def substitute(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        value = value_of(kind, name)
        if value is None:
            raise MlopsError(f"input '{name}' has no value and is used outside an optional $[[ ]] block of the command")
        return shlex.quote(value)

    return PLACEHOLDER.sub(substitute, OPTIONAL_BLOCK.sub(keep_block, command)).strip()
