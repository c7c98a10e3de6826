"""Screenshots of local web apps (kedro-viz, the MLflow UI) in headless Chromium over the DevTools
protocol. Shared by lineage_screenshot.py and mlflow_screenshot.py; needs Debian's ``chromium``.

- :func:`serve` starts a server process and waits until it answers, :func:`chromium` a headless
  browser; both are stopped (by their own process id) when the ``with`` block ends.
- :class:`Page` drives one tab: navigate, run JavaScript, wait for a condition, size the viewport,
  save a PNG.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import websockets

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def free_port(start: int | None = None) -> int:
    """A TCP port nothing listens on now: the first from ``start`` up (kedro-viz refuses ports
    above 49151), else one the system picks."""
    for port in range(start, 49152) if start else [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError(f"no free port from {start} to 49151")


def wait_http(url: str, seconds: float, process: subprocess.Popen | None = None) -> str:
    """GET ``url`` until it answers (returns the body), ``seconds`` pass (``TimeoutError``) or
    ``process`` ends (``RuntimeError``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"it exited with status {process.returncode}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {seconds:.0f} s") from None
            time.sleep(1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(command: Sequence[str], ready_url: str, seconds: float, log: Path, **popen: Any) -> Iterator[None]:
    """Run ``command`` (its output to ``log``) until the block ends; wait until ``ready_url``
    answers. Exits with the log's end when it does not within ``seconds``."""
    with log.open("w") as sink:  # kedro-viz's server does not start with its output thrown away
        process = subprocess.Popen(list(command), stdout=sink, stderr=subprocess.STDOUT, **popen)
    try:
        try:
            wait_http(ready_url, seconds, process)
        except (TimeoutError, RuntimeError) as error:
            sys.exit(f"{' '.join(command)}: {error}\n{log.read_text()[-3000:]}")
        yield
    finally:
        _stop(process)


@contextmanager
def chromium(width: int = 1600, height: int = 1000) -> Iterator[str]:
    """A headless Chromium with a fresh profile; yields the DevTools websocket URL of its tab."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("Chromium is missing: apt-get install -y chromium")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="vicokd-chromium-")
    process = subprocess.Popen(
        [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = json.loads(wait_http(f"http://127.0.0.1:{port}/json/list", 60, process))
        yield next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
    finally:
        _stop(process)
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """One Chromium tab over its DevTools websocket (``async with Page(url) as page``)."""

    def __init__(self, devtools: str):
        self.devtools = devtools
        self._ids = itertools.count(1)
        self._socket = None

    async def __aenter__(self) -> Self:
        self._socket = await websockets.connect(self.devtools, max_size=256 * 2**20)
        await self.call("Page.enable")
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._socket.close()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events arriving meanwhile are dropped)."""
        message_id = next(self._ids)
        await self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await self._socket.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited); raises on a JS error."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float, interval: float = 0.5) -> Any:
        """Evaluate ``expression`` until it is truthy (returns it) or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression[:80]}… stayed false for {seconds:.0f} s")
            await asyncio.sleep(interval)

    async def wait_stable(self, expression: str, seconds: float, checks: int = 3,
                          interval: float = 1.0) -> Any:
        """Evaluate ``expression`` until it returns the same non-null value ``checks`` times in a
        row (a layout that stopped moving); returns that value."""
        deadline = time.monotonic() + seconds
        previous, same = None, 0
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            same = same + 1 if value is not None and value == previous else 0
            if same >= checks - 1:
                return value
            previous = value
            await asyncio.sleep(interval)
        raise TimeoutError(f"{expression[:80]}… did not settle within {seconds:.0f} s")

    async def navigate(self, url: str, before: str | None = None, seconds: float = 60) -> None:
        """Open ``url`` and wait until its document has loaded; ``before``: JavaScript run in the
        new document before its own scripts (e.g. to seed its localStorage, which the page being
        left may rewrite as it unloads)."""
        await self.evaluate("window.__left = true")  # gone once the new document is in place
        script = None
        if before is not None:
            script = (await self.call("Page.addScriptToEvaluateOnNewDocument", source=before))["identifier"]
        try:
            await self.call("Page.navigate", url=url)
            await self.wait_for("!window.__left && document.readyState === 'complete'", seconds)
        finally:
            if script is not None:
                await self.call("Page.removeScriptToEvaluateOnNewDocument", identifier=script)

    async def set_viewport(self, width: int, height: int) -> None:
        """The page's viewport in CSS pixels (one device pixel each)."""
        await self.call("Emulation.setDeviceMetricsOverride", width=int(width), height=int(height),
                        deviceScaleFactor=1, mobile=False)

    async def screenshot(self, out: Path, clip: dict[str, float] | None = None) -> None:
        """Save the viewport (or the ``clip`` rectangle ``{x, y, width, height}``) as a PNG."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params.update(clip={**clip, "scale": 1}, captureBeyondViewport=True)
        shot = await self.call("Page.captureScreenshot", **params)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
