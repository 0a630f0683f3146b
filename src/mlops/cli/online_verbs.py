"""`mlops serve` and `mlops invoke`: the online deployment on the local target."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mlops.cli.common import EXIT_FAILED, EXIT_OK, SharedFlags, local_model, model_layout, request_file


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    from mlops.targets.local.online import DEFAULT_PORT

    serve = verbs.add_parser(
        "serve", parents=[flags.model], help="serve a registered model with the Azure ML inference server on 127.0.0.1"
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--deployment", type=Path, help="online deployment YAML (default: the model's live deployment)")
    serve.set_defaults(func=serve_model)

    invoke = verbs.add_parser("invoke", parents=[flags.model], help="send a scoring request to the local server")
    invoke.add_argument("--file", type=Path, help="request JSON (default: the model's sample-request.json)")
    invoke.add_argument("--url", help="server URL (default: the one `mlops serve` recorded)")
    invoke.set_defaults(func=invoke_server)


def serve_model(args: argparse.Namespace) -> int:
    """Serve until a stop signal (SIGINT, SIGTERM, SIGHUP: the server is stopped by PID, exit 128 + N) or until the
    server dies on its own (exit 1)."""
    import time

    from mlops.errors import Interrupted, StepFailed
    from mlops.targets.local import online

    online.check_port_free(args.port)  # before anything else: a busy port is refused untouched
    model = model_layout(args.model)
    model.state.ensure()
    server = online.deploy(model, local_model(model, args.model), args.port, args.deployment)
    print(f"serving {server.model} at {server.url}/score (pid {server.pid}); log {server.log}; Ctrl-C stops it")
    with server:
        try:
            while server.process and server.process.poll() is None:
                time.sleep(1)
        except Interrupted as exc:
            exc.stopped.append(f"server pid {server.pid} on {server.url} stopped")
            raise
    code = server.process.returncode if server.process else None
    raise StepFailed(f"the inference server (pid {server.pid}) exited with code {code}; log {server.log}")


def invoke_server(args: argparse.Namespace) -> int:
    from mlops.targets.local import online

    model = model_layout(args.model)
    request = request_file(model, args.file)
    status, body = online.invoke(args.url or online.running_server_url(model.state), request.read_bytes())
    print(json.dumps(body, indent=2) if not isinstance(body, str) else body)
    return EXIT_OK if status < 400 else EXIT_FAILED
