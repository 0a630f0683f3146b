"""Open a local HTML file in Debian's headless Chromium the way a person would, and report what happened.

Speaks the Chrome DevTools Protocol over a WebSocket (aiohttp's client, already in the lock): console messages,
uncaught exceptions, log entries (failed resource loads land there) and every network request the page made, then
the page's visible text, the result of a JavaScript expression and a screenshot. Chromium listens on 127.0.0.1 only,
runs in its own process group with a throw-away profile, and is stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
START_WAIT_S = 30.0
LOAD_WAIT_S = 30.0
# The flags the machine's own probe uses: without the background-networking ones Chromium tries to reach Google's
# hosts at every start and the closed network refuses them, many at a time.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
]
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")


def available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


@dataclass
class Rendered:
    """What a person's browser did with the page."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    text: str = ""
    evaluated: Any = None
    screenshot: bytes = b""

    def network_requests(self) -> list[str]:
        """Requests that left the machine's files: anything but file:, data: and the about: pages."""
        return [url for url in self.requests if not url.startswith(("file:", "data:", "about:"))]


def render(page: Path, *, evaluate: str = "null", screenshot: Path | None = None) -> Rendered:
    """Load `page` (a file) in headless Chromium and wait for its load event; `evaluate` is a JavaScript expression
    whose JSON-able value comes back in `Rendered.evaluated`."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        url = _devtools_url(process)
        rendered = asyncio.run(asyncio.wait_for(_drive(url, page.resolve().as_uri(), evaluate), LOAD_WAIT_S))
    finally:
        _stop(process)
        shutil.rmtree(profile, ignore_errors=True)
    if screenshot is not None:
        screenshot.write_bytes(rendered.screenshot)
    return rendered


def _devtools_url(process: subprocess.Popen) -> str:
    """Chromium prints its DevTools address on stderr once it listens. A thread keeps reading stderr (so Chromium
    never blocks on a full pipe) and hands lines over; the wait for the address is bounded."""
    assert process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, args=(process.stderr,), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_WAIT_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip())
        if found := DEVTOOLS_LINE.search(line):
            return found.group(1)
    raise RuntimeError("Chromium did not start its DevTools endpoint:\n" + "\n".join(seen[-20:]))


async def _drive(browser_url: str, page_url: str, evaluate: str) -> Rendered:
    import aiohttp

    rendered = Rendered()
    async with aiohttp.ClientSession() as http, http.ws_connect(browser_url, max_msg_size=0) as ws:
        protocol = _Protocol(ws, rendered)
        reader = asyncio.create_task(protocol.read())
        try:
            target = await protocol.call("Target.createTarget", {"url": "about:blank"})
            attached = await protocol.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            session = attached["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                await protocol.call(f"{domain}.enable", session=session)
            await protocol.call("Page.navigate", {"url": page_url}, session=session)
            await protocol.loaded.wait()
            rendered.text = await protocol.value("document.body ? document.body.innerText : ''", session)
            rendered.evaluated = await protocol.value(evaluate, session)
            shot = await protocol.call("Page.captureScreenshot", {"format": "png"}, session=session)
            rendered.screenshot = base64.b64decode(shot["data"])
        finally:
            reader.cancel()
    return rendered


class _Protocol:
    """Numbered calls and the events this check listens to, on one browser WebSocket (flattened sessions)."""

    def __init__(self, ws: Any, rendered: Rendered) -> None:
        self.ws, self.rendered = ws, rendered
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.loaded = asyncio.Event()

    async def call(self, method: str, params: dict | None = None, *, session: str | None = None) -> dict:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send_str(json.dumps(message))
        return await future

    async def value(self, expression: str, session: str) -> Any:
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame.data)
            if "id" in message:
                future = self.pending.pop(message["id"])
                if "error" in message:
                    future.set_exception(RuntimeError(f"DevTools: {message['error']}"))
                else:
                    future.set_result(message.get("result", {}))
                continue
            self._event(message.get("method", ""), message.get("params", {}))

    def _event(self, method: str, params: dict) -> None:
        errors = self.rendered.console_errors
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(f"{params['entry'].get('text')} ({params['entry'].get('url', '')})")
        elif method == "Network.requestWillBeSent":
            self.rendered.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded.set()


def _stop(process: subprocess.Popen) -> None:
    """Stop Chromium's whole process group (its renderer and GPU helpers too), by the PID we started."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
