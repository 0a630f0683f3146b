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
    for rest in (["quota"], ["teardown", "--environment", "dev"]):
        assert parser.parse_args(["azure", *rest]).func.__module__ in {m.__name__ for m in VERB_MODULES}
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


def test_a_stop_signal_ends_a_verb_with_one_line_and_128_plus_the_signal(monkeypatch, tmp_path, capsys):
    import os
    import signal
    import time

    from mlops.cli import main, run_verbs

    def hung_up(args):
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(10)  # the handler interrupts this
        return 0

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))  # the stale-run sweep looks here (no store: nothing)
    monkeypatch.setattr(run_verbs, "run_loop", hung_up)
    before = signal.getsignal(signal.SIGHUP)
    started = time.monotonic()
    assert main(["run"]) == 129
    assert time.monotonic() - started < 5
    assert capsys.readouterr().err == "mlops: interrupted by SIGHUP; nothing was running\n"
    assert signal.getsignal(signal.SIGHUP) is before  # restored
    assert not (tmp_path / "state").exists()


def test_invoke_refuses_a_server_json_whose_server_is_gone(monkeypatch, tmp_path, capsys):
    import json
    import subprocess

    from mlops.cli import main

    gone = subprocess.Popen(["true"])
    gone.wait()
    serving = tmp_path / "state" / "serving"
    serving.mkdir(parents=True)
    (serving / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid, "start": "x:1"}))
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    assert main(["invoke"]) == 2
    err = capsys.readouterr().err
    assert f"server.json: the server it records (pid {gone.pid}) is no longer running" in err


def test_azure_quota_teardown_and_instance_type_flags_parse():
    parser = build_parser()
    args = parser.parse_args(["azure", "quota", "--profile", "prod", "--instance-type", "Standard_DS2_v2"])
    assert (args.profile, args.instance_type, args.instance_count) == ("prod", "Standard_DS2_v2", None)
    assert parser.parse_args(["azure", "quota"]).profile == "dev"
    args = parser.parse_args(["azure", "teardown", "--environment", "dev", "--yes"])
    assert (args.environment, args.yes) == ("dev", True)
    assert parser.parse_args(["azure", "teardown", "--environment", "dev"]).yes is False
    args = parser.parse_args(
        ["deploy", "online", "--deployment", "blue", "--instance-type", "Standard_DS2_v2", "--instance-count", "2"]
    )
    assert (args.deployment, args.instance_type, args.instance_count) == ("blue", "Standard_DS2_v2", 2)
    assert parser.parse_args(["deploy", "online", "--deployment", "green", "--profile", "dev"]).profile == "dev"


def test_teardown_needs_an_environment_and_instance_overrides_need_a_deployment(capsys):
    import pytest

    from mlops.cli import main

    with pytest.raises(SystemExit):
        build_parser().parse_args(["azure", "teardown", "--yes"])
    assert main(["deploy", "online", "--traffic", "blue=100", "--instance-type", "Standard_DS2_v2"]) == 2
    assert "--instance-type, --instance-count and --profile go with --deployment" in capsys.readouterr().err
