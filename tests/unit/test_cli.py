"""The command line: every verb registered beside its handler, shared flags declared once, imports kept lazy."""

from __future__ import annotations

import subprocess
import sys

from mlops.cli import VERB_MODULES, build_parser


def test_every_verb_has_a_handler_in_its_own_module():
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    assert set(verbs) >= {"run", "pipeline", "validate", "serve", "invoke", "batch-score", "monitor", "deploy"}
    assert {"promote", "azure"} <= set(verbs)
    handlers = {
        "run": [],
        "pipeline": ["run", "x.yml"],
        "validate": [],
        "serve": [],
        "invoke": [],
        "batch-score": ["in.csv"],
        "monitor": [],
        "deploy": ["online", "--traffic", "blue=100"],
        "promote": ["--model", "m:1", "--registry", "r"],
        "azure": ["ensure"],
    }
    modules = {m.__name__ for m in VERB_MODULES}
    for verb, rest in handlers.items():
        args = parser.parse_args([verb, *rest])
        assert args.func.__module__ in modules, verb


def test_shared_run_flags_mean_the_same_on_every_verb_that_takes_them():
    parser = build_parser()
    for argv in (["run"], ["pipeline", "run", "x.yml"]):
        args = parser.parse_args([*argv, "--set", "inputs.a=1", "--set", "inputs.b=2", "--force-rerun", "--stream"])
        assert (args.overrides, args.force_rerun, args.stream) == (["inputs.a=1", "inputs.b=2"], True, True)


def test_help_does_not_import_the_engine():
    code = (
        "import sys\n"
        "from mlops.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('mlflow', 'pandas', 'azure.ai.ml', 'sklearn') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == ""
