"""The batch driver SIGKILLed while a worker scores: the worker (and what it started) dies with it.

The driver runs in a process of its own (`batch.invoke` on a scoring script whose `run()` starts a child and then
waits), so the test can SIGKILL it the way a CI runner or the OOM killer would. Linux's parent-death signal stops
the worker; the worker's own child is stopped the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fault_helpers import processes_naming, wait_until

pytestmark = pytest.mark.faults

SCORE = """\
import subprocess, sys, time
from pathlib import Path

def init():
    pass

def run(mini_batch):
    marker = Path(mini_batch[0]).parent.parent / "scoring"
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(marker)])
    marker.write_text("started")
    time.sleep(120)
"""

DRIVER = """\
import sys
from pathlib import Path
from mlops.targets.local import batch

root = Path(sys.argv[1])
settings = batch.BatchSettings(
    mini_batch_size=1, output_action="append_row", output_file_name="predictions.csv", max_retries=0,
    timeout_s=300, error_threshold=-1, environment_variables={}, code_dir=root / "code", scoring_script="score.py",
    endpoint="e", deployment="d",
)
batch.invoke(settings, root, root / "inputs", root / "out", root / "out" / "worker.log")
"""


def test_a_sigkilled_driver_leaves_no_worker_scoring(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text(SCORE)
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "a.csv").write_text("x\n1\n")
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DRIVER), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        wait_until(lambda: (tmp_path / "scoring").exists(), "the worker to be scoring", process=driver)
        workers = processes_naming(str(tmp_path / "code"), by_cwd=False)  # the helper works in the code folder too
        helpers = processes_naming(str(tmp_path / "scoring"), by_cwd=False)
        assert len(workers) == 1 and len(helpers) == 1, (workers, helpers)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        wait_until(lambda: not processes_naming(str(tmp_path)), "the worker and its child to be gone", timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
        for leftover in processes_naming(str(tmp_path)):  # never leave a process behind, even when failing
            leftover.kill()
    assert not (tmp_path / "out" / "predictions.csv").exists()
