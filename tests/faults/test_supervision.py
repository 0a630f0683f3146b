"""The executor's process supervision, on small stand-in processes: which commands bash is told to exec, a process
group stopped with SIGTERM then SIGKILL, leftovers of a finished step, and the parent-death signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from fault_helpers import wait_until

from mlops.targets.local import jobs, processes

pytestmark = pytest.mark.faults


@pytest.mark.parametrize(
    ("command", "prefixed"),
    [
        ("python train.py --a 1 --b 'x y'", True),
        ("  python train.py --a 1\n", True),  # a YAML block's trailing newline
        ("python a.py\npython b.py", False),  # two lines: two commands
        ("python train.py > out.txt 2>&1", True),  # redirections are still one command
        ("python train.py --text 'a;b|c&d'", True),  # operators inside quotes are text
        ("cd sub && python train.py", False),
        ("python a.py; python b.py", False),
        ("python a.py | tee log", False),
        ("python a.py &", False),
        ("python $(which train.py)", False),
        ("X=1 python train.py", False),  # `exec X=1 …` would fail
        ("if true; then python a.py; fi", False),
        ("exec python a.py", False),  # already
        ("python 'unbalanced", False),
        ("", False),
    ],
)
def test_only_one_simple_command_is_execed(command, prefixed):
    assert jobs.exec_prefixed(command) == ("exec " + command.strip() if prefixed else command)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                members.append(process.pid)
        except OSError:  # gone meanwhile
            continue
    return members


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_group_that_ignores_sigterm_is_killed_after_the_grace():
    # bash and its sleep both ignore SIGTERM (an ignored signal stays ignored across exec)
    process = subprocess.Popen(["/bin/bash", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    wait_until(lambda: len(group_members(process.pid)) == 2, "bash and sleep", 20)
    started = time.monotonic()
    processes.stop_group(process, grace=0.5)
    assert 0.5 <= time.monotonic() - started < 10
    assert process.returncode == -9
    wait_until(lambda: group_members(process.pid) == [], "the group to be gone", 10)


def test_a_finished_step_leaves_nothing_running_in_its_group(tmp_path):
    log = tmp_path / "std_log.txt"
    command = "sleep 60 >/dev/null 2>&1 & echo started $!"
    assert jobs._run_command(command, tmp_path, {"PATH": "/usr/bin:/bin"}, log, stream=False) == (0, False)
    leftover = int(log.read_text().split()[-1])
    wait_until(lambda: gone(leftover), "the step's background sleep to be killed", 10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_a_step_dies_with_its_sigkilled_parent(tmp_path):
    middle = textwrap.dedent(
        """
        import subprocess, sys, time
        from mlops.targets.local.processes import die_with_parent
        child = subprocess.Popen(["sleep", "60"], start_new_session=True, preexec_fn=die_with_parent())
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", middle], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert not gone(child)
    parent.kill()
    parent.wait(timeout=10)
    wait_until(lambda: gone(child), "the child to die with its SIGKILLed parent", 10)


def test_no_prctl_no_preexec_function_elsewhere(monkeypatch):
    monkeypatch.setattr(processes.sys, "platform", "darwin")
    assert processes.die_with_parent() is None


def keepers_of(pgid: int) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[-2:] == [KEEPER_NAME, str(pgid)]]


KEEPER_NAME = "mlops-group-keeper"


def test_a_compound_commands_whole_group_dies_with_its_sigkilled_parent():
    """bash running `a & b; c` is not exec'd away: only bash gets the parent-death signal, the keeper kills the rest."""
    middle = textwrap.dedent(
        """
        import time
        from mlops.targets.local.processes import start_group
        step = start_group(["/bin/bash", "-c", "sleep 60 & sleep 61; true"])
        print(step.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", middle], stdout=subprocess.PIPE, text=True)
    try:
        group = int(parent.stdout.readline())
        wait_until(lambda: len(group_members(group)) == 3, "bash and its two sleeps", 20)
        assert len(keepers_of(group)) == 1
        parent.kill()
        parent.wait(timeout=10)
        wait_until(lambda: group_members(group) == [], "the whole group to die with its SIGKILLed parent", 10)
        wait_until(lambda: keepers_of(group) == [], "the keeper to exit", 10)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_group_that_ends_or_is_stopped_releases_its_keeper():
    """The keeper is told `done` once the group is handled, so it exits without signalling a reused group id."""
    ended = processes.start_group(["/bin/bash", "-c", "sleep 0.2; true"])
    assert len(keepers_of(ended.pid)) == 1
    assert processes.end_group(ended) == 0 and keepers_of(ended.pid) == []
    process = processes.start_group(["sleep", "60"])
    assert len(keepers_of(process.pid)) == 1
    processes.stop_group(process, grace=0.5)
    assert process.returncode == -15 and keepers_of(process.pid) == []


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signal masks are POSIX threads' (no Windows)")
def test_a_stop_signal_arriving_while_a_group_starts_is_not_lost():
    """A SIGTERM whose handler would run inside an at-fork hook (logging has one) was printed as "Exception ignored"
    and lost, so `mlops` went on after being told to stop. start_group holds it until the group is started and
    then raises it there, stopping the group it just started."""
    script = textwrap.dedent(
        """
        import os, signal
        from mlops.targets.local import processes

        class Stop(BaseException):
            pass

        def handler(signum, frame):
            raise Stop(signum)

        signal.signal(signal.SIGTERM, handler)
        os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))  # arrives mid-fork
        try:
            processes.start_group(["sleep", "60"])
        except Stop:
            print("stopped", flush=True)
        else:
            print("went on", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "Exception ignored" not in done.stderr, done.stderr
    assert done.stdout.strip() == "stopped", (done.stdout, done.stderr)
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "60"]]
