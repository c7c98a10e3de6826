"""One PNG per registered pipeline of the lineage graph, taken from `kedro viz run` in headless
Chromium, at a zoom where node and dataset names can be read.

    python benchmarks/lineage_screenshot.py                     # every pipeline -> docs/lineage/<pipeline>.png
    python benchmarks/lineage_screenshot.py --pipelines distill --scale 0.9

Starts `kedro viz run --no-browser` on a free port and opens each pipeline in headless Chromium
(headless_chromium.py): light theme, no sidebar, minimap, feature hints or banner. It lays the graph
out top-down and left-right, keeps the orientation whose shape is nearer a 4:3 page, sizes the
viewport so that kedro-viz's fit-to-window zoom is ``--scale`` (1 = kedro-viz's natural size, where
labels are 15-px bold text), and saves the graph and its layer names. Namespaced runs stay collapsed
into one group each (the instances of the training template), except in the pipelines listed by
``--expand`` (default: teacher, whose two runs show the template's nodes). Needs the Debian
``chromium`` package.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from headless_chromium import Page, chromium, free_port, serve

PROJECT = Path(__file__).resolve().parents[1]
PIPELINES = ("simulation", "ingestion", "stratification", "masking", "pretraining", "features",
             "teacher", "distill", "reporting")
ORIENTATIONS = ("vertical", "horizontal")
PAGE_SHAPE = 4 / 3  # width / height the orientation is chosen for
MARGIN = 40  # pixels around the graph
TOOLBAR = 140  # pixels of kedro-viz's icon bars on the left
LAYER_NAMES = (130, 70)  # pixels the layer names take beside (top-down) or above (left-right) the graph
MAX_SIDE = 14_000  # Chromium's screenshots stay below 16,384 pixels a side
# The graph's extent: kedro-viz's zoom (scale of .pipeline-zoom-wrapper), node count, the bounding box
# of every node and layer name on the page, the right edge of the icon bars, and the graph's size at
# zoom 1.
MEASURE = """(() => {
  const wrapper = document.querySelector('.pipeline-zoom-wrapper');
  const nodes = [...document.querySelectorAll('.pipeline-node')];
  if (!wrapper || !nodes.length) return null;
  const zoom = parseFloat((wrapper.getAttribute('transform') || '').match(/scale\\(([^)]+)\\)/)?.[1]);
  if (!zoom) return null;
  const box = (elements) => {
    const r = elements.map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
    return {left: Math.min(...r.map(b => b.left)), top: Math.min(...r.map(b => b.top)),
            right: Math.max(...r.map(b => b.right)), bottom: Math.max(...r.map(b => b.bottom))};
  };
  const graph = box(nodes);
  const layers = [...document.querySelectorAll('.pipeline-layer-name')];
  const all = layers.length ? box([...nodes, ...layers]) : graph;
  const round = (x) => Math.round(x * 10) / 10;
  const toolbar = document.querySelector('.pipeline-sidebar')?.getBoundingClientRect().right || 0;
  return JSON.stringify({zoom: round(zoom * 1000) / 1000, nodes: nodes.length,
                         width: round((graph.right - graph.left) / zoom),
                         height: round((graph.bottom - graph.top) / zoom),
                         toolbar: round(toolbar), left: round(all.left), top: round(all.top),
                         right: round(all.right), bottom: round(all.bottom)});
})()"""
# kedro-viz's release reminder hidden (it would cover the graph's top right corner); in the left-right
# layout, the layer names lifted above the first row of nodes they would overlap.
STYLE = {"vertical": ".update-reminder-unexpanded, .update-reminder { display: none !important; }"}
STYLE["horizontal"] = STYLE["vertical"] + " .pipeline-layer-name { margin-top: -40px; }"


def viz_state(orientation: str) -> str:
    """kedro-viz's saved UI state (localStorage "KedroViz"): light theme, the graph alone."""
    return json.dumps({"showFeatureHints": False, "theme": "light", "orientation": orientation,
                       "isPrettyName": False, "textLabels": True,
                       "visible": {"sidebar": False, "miniMap": False, "code": False}})


def shape_error(extent: dict) -> float:
    """How far the graph's width/height ratio is from :data:`PAGE_SHAPE` (log scale)."""
    return abs(math.log(extent["width"] / max(extent["height"], 1.0) / PAGE_SHAPE))


async def load(page: Page, base: str, pipeline: str, orientation: str, expand: bool,
               settle: float) -> dict:
    """Open ``pipeline`` in ``orientation``; return the graph's extent once the layout is still."""
    query = f"pid={pipeline}" + ("&expandAllPipelines=true" if expand else "")
    await page.navigate("about:blank")  # kedro-viz saves its state as it unloads: not over ours
    await page.navigate(f"{base}/?{query}",
                        before=f"localStorage.setItem('KedroViz', {json.dumps(viz_state(orientation))});"
                               f"document.addEventListener('DOMContentLoaded', () => "
                               f"document.head.insertAdjacentHTML('beforeend', "
                               f"{json.dumps(f'<style>{STYLE[orientation]}</style>')}));")
    extent = json.loads(await page.wait_stable(MEASURE, settle))
    return extent


async def capture(page: Page, base: str, pipeline: str, out: Path, scale: float, expand: bool,
                  settle: float) -> dict:
    """Save ``pipeline``'s graph at kedro-viz zoom ``scale`` (or the largest that fits
    :data:`MAX_SIDE`) to ``out``; returns the extent it was taken at."""
    await page.set_viewport(1600, 1000)
    extents = {o: await load(page, base, pipeline, o, expand, settle) for o in ORIENTATIONS}
    orientation = min(ORIENTATIONS, key=lambda o: shape_error(extents[o]))
    natural = extents[orientation]
    width, height = natural["width"] * scale, natural["height"] * scale
    # room for the layer names: a column on the left (top-down layout) or a row on top
    names = (2 * LAYER_NAMES[0], 0) if orientation == "vertical" else (0, 2 * LAYER_NAMES[1])
    for _ in range(3):  # kedro-viz pads the fit: grow the viewport until the zoom reaches `scale`
        viewport = (min(MAX_SIDE, width + 2 * MARGIN + TOOLBAR + names[0]),
                    min(MAX_SIDE, height + 2 * MARGIN + names[1]))
        await page.set_viewport(*viewport)
        extent = await load(page, base, pipeline, orientation, expand, settle)
        if extent["zoom"] >= 0.98 * scale or max(viewport) >= MAX_SIDE:
            break
        width, height = width * scale / extent["zoom"], height * scale / extent["zoom"]
    await asyncio.sleep(1)
    left = max(extent["toolbar"], extent["left"] - MARGIN)
    top = max(0.0, extent["top"] - MARGIN)
    clip = {"x": left, "y": top, "width": min(viewport[0], extent["right"] + MARGIN) - left,
            "height": min(viewport[1], extent["bottom"] + MARGIN) - top}
    await page.screenshot(out, clip)
    return {**extent, "orientation": orientation, "size": [round(clip["width"]), round(clip["height"])]}


async def capture_all(devtools: str, base: str, pipelines: list[str], out_dir: Path, scale: float,
                      expanded: set[str], settle: float) -> None:
    async with Page(devtools) as page:
        for pipeline in pipelines:
            out = out_dir / f"{pipeline}.png"
            shot = await capture(page, base, pipeline, out, scale, pipeline in expanded, settle)
            print(f"{out}: {shot['size'][0]}x{shot['size'][1]} px, {shot['nodes']} nodes, "
                  f"{shot['orientation']}, zoom {shot['zoom']:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", nargs="+", default=list(PIPELINES),
                        help="registered pipelines to draw (default: every group but __default__)")
    parser.add_argument("--out-dir", type=Path, default=PROJECT / "docs" / "lineage")
    parser.add_argument("--scale", type=float, default=0.8,
                        help="kedro-viz zoom of the picture (1: labels are 15-px text)")
    parser.add_argument("--expand", nargs="*", default=["teacher"],
                        help="pipelines whose namespaced runs are drawn opened")
    parser.add_argument("--settle", type=float, default=60.0,
                        help="seconds a page may take to lay its graph out")
    args = parser.parse_args(argv)
    port = free_port(4141)  # kedro-viz's default port, or the next free one
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    kedro = Path(sys.executable).with_name("kedro")
    with (tempfile.TemporaryDirectory(prefix="lineage-") as scratch,
          serve([str(kedro), "viz", "run", "--no-browser", "--port", str(port)],
                f"http://127.0.0.1:{port}/api/main", 300, Path(scratch) / "kedro-viz.log",
                cwd=PROJECT, env=env),
          chromium() as devtools):
        asyncio.run(capture_all(devtools, f"http://127.0.0.1:{port}", args.pipelines, args.out_dir,
                                args.scale, set(args.expand), args.settle))


if __name__ == "__main__":
    main()
