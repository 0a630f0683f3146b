"""One scoring worker of the local batch driver (mlops.targets.local.batch). Runs WITHOUT the project package,
like Azure's batch runtime: it imports the deployment's scoring script, calls init() once, then run(mini_batch) for each
request read from stdin (one JSON line: {"files": [...], "out": path or null}) and answers one JSON line on stdout;
the rows run() returned go to `out` as parquet (the driver appends them to the output while the next mini batch
is scored).

Started as `python batch_worker.py CODE_DIR SCORING_SCRIPT [ARGS...]`; the script sees `sys.argv` = [its path,
*ARGS] (a parallel job's program_arguments, which its init() parses). stdout carries only the protocol, the
script's own prints go to stderr (the driver's log).
"""

import importlib.util
import json
import sys
import traceback
from pathlib import Path


def reply(channel, message):
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def main():
    code_dir, script = Path(sys.argv[1]), sys.argv[2]
    sys.argv = [str(code_dir / script), *sys.argv[3:]]
    channel = sys.stdout
    sys.stdout = sys.stderr  # prints from the scoring script must not corrupt the protocol
    sys.path.insert(0, str(code_dir))
    try:
        spec = importlib.util.spec_from_file_location("batch_score", code_dir / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.init()
    except BaseException as exc:
        traceback.print_exc()
        reply(channel, {"ok": False, "stage": "init", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    reply(channel, {"ok": True, "stage": "init"})
    import pandas as pd

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = module.run(request["files"])
            frame = result if isinstance(result, pd.DataFrame) else pd.DataFrame({"result": list(result)})
            if request["out"]:  # None with output_action summary_only: the rows are counted, not kept
                frame.to_parquet(request["out"], index=False)
            reply(channel, {"ok": True, "rows": len(frame)})
        except Exception as exc:
            traceback.print_exc()
            reply(channel, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
