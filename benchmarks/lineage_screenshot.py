"""A PNG of the project's lineage graph, taken from `kedro viz run` in headless Chromium.

    python benchmarks/lineage_screenshot.py [--out docs/lineage.png] [--pipeline __default__]

Starts `kedro viz run --no-browser` on a free port, opens it in headless Chromium through the
DevTools protocol, closes kedro-viz's feature hints and banners, fits the graph to the window, saves the
screenshot and stops both processes. Needs the Debian `chromium` package.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Close the walkthrough and the banner: click their close / dismiss controls.
DISMISS = """
for (const el of document.querySelectorAll('button, [role=button]')) {
  const text = (el.textContent || '').trim().toLowerCase();
  const label = (el.getAttribute('aria-label') || '').toLowerCase();
  const kind = String(el.className.baseVal ?? el.className).toLowerCase();
  if (['dismiss', 'skip', 'close', '×', 'got it'].includes(text) || label.includes('close')
      || kind.includes('close')) el.click();
}
"""
# kedro-viz keeps its feature-hint tour state in localStorage["KedroViz"]; mark it as seen.
HIDE_HINTS = """
const state = JSON.parse(localStorage.getItem('KedroViz') || '{}');
state.showFeatureHints = false;
localStorage.setItem('KedroViz', JSON.stringify(state));
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, seconds: float) -> str:
    """GET ``url`` until it answers (returns the body) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {seconds:.0f} s") from None
            time.sleep(1)


async def capture(devtools: str, url: str, out: Path, settle: float) -> None:
    """Open ``url`` in the page behind ``devtools`` (websocket), tidy it and save a PNG."""
    ids = itertools.count(1)
    async with websockets.connect(devtools, max_size=64 * 2**20) as page:
        async def call(method: str, **params):
            message_id = next(ids)
            await page.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                reply = json.loads(await page.recv())
                if reply.get("id") == message_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})

        await call("Page.enable")
        await call("Page.navigate", url=url)
        await asyncio.sleep(settle / 2)
        await call("Runtime.evaluate", expression=HIDE_HINTS)
        await call("Page.reload")
        await asyncio.sleep(settle)
        for _ in range(8):  # the walkthrough has several steps
            await call("Runtime.evaluate", expression=DISMISS)
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        shot = await call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "lineage.png")
    parser.add_argument("--pipeline", default="__default__")
    parser.add_argument("--size", default="3000,1500", help="window width,height in pixels")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds for the page to lay out")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is missing: apt-get install -y chromium")
    viz_port, debug_port = free_port(), free_port()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    kedro = Path(sys.executable).with_name("kedro")
    profile = tempfile.mkdtemp(prefix="lineage-chromium-")
    log = Path(profile) / "kedro-viz.log"
    with log.open("w") as sink:  # kedro-viz's server does not start with its output thrown away
        viz = subprocess.Popen([str(kedro), "viz", "run", "--no-browser", "--port", str(viz_port)],
                               cwd=PROJECT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    browser = None
    try:
        try:
            wait_http(f"http://127.0.0.1:{viz_port}/api/main", 180)
        except TimeoutError:
            sys.exit(f"kedro viz run did not start:\n{log.read_text()[-3000:]}")
        browser = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={args.size}",
             f"--remote-debugging-port={debug_port}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        targets = json.loads(wait_http(f"http://127.0.0.1:{debug_port}/json/list", 60))
        devtools = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        url = f"http://127.0.0.1:{viz_port}/?pipeline_id={args.pipeline}"
        args.out.parent.mkdir(parents=True, exist_ok=True)
        asyncio.run(capture(devtools, url, args.out, args.settle))
        print(f"{args.out}: {args.out.stat().st_size} bytes")
    finally:
        for process in (browser, viz):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
