"""A Kedro runner that runs no node (``kedro run --runner dry_runner.DryRunner``): it records, for
each node of the run, the parameters Kedro's runner would hand it, so tests see what a command line
gives the nodes without training anything."""
from __future__ import annotations

from typing import Any, ClassVar

from kedro.runner import AbstractRunner


class DryRunner(AbstractRunner):
    """Records ``{node name: {"params:<key>": value}}`` of the last run in :attr:`inputs`."""

    inputs: ClassVar[dict[str, dict[str, Any]]] = {}

    def run(self, pipeline, catalog, hook_manager=None, run_id=None, only_missing_outputs=False):
        DryRunner.inputs = {node.name: {name: catalog.load(name) for name in node.inputs
                                        if name.startswith("params:")}
                            for node in pipeline.nodes}
        return {}

    def _get_executor(self, max_workers: int) -> None:
        return None

    def _run(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("DryRunner runs no node")
