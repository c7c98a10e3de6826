"""Progress of a long stage: one bar with an ETA on a terminal, and log lines that say the same.

A stage counts what takes its time: the models of the training stage, the epochs of the encoders'
pretraining, the detector's epochs. Its bar (tqdm) is drawn only when the console is a terminal,
and log lines written meanwhile appear above it. With ``log_items``, each finished item also gives a
log line with the count, the time so far and an estimate of the time left (elapsed time per item ×
items left), which is what a log file shows in place of the bar.

The training stage spans many Kedro nodes (one per run and supervision level), each training its
models in a pool of worker processes: the project's hooks announce it with the number of models
the Kedro run trains (:func:`plan_stage`), and :func:`stage` hands every node that one stage (a
stage of its own outside ``kedro run``).
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from rich.logging import RichHandler
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

#: The stage that counts the models a Kedro run trains (its training nodes, their worker pools).
TRAINING_STAGE = "training"

#: Stages announced by :func:`plan_stage` (their arguments), and those of them opened, by name.
_PLANNED: dict[str, dict[str, Any]] = {}
_OPEN: dict[str, Progress] = {}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


class _AboveBars(logging.Handler):
    """A console handler's stand-in while bars are drawn: bars cleared, the line written, bars
    drawn again (tqdm's ``external_write_mode``)."""

    def __init__(self, console: logging.Handler):
        super().__init__(console.level)
        self.console = console

    def handle(self, record: logging.LogRecord) -> bool:
        with tqdm.external_write_mode():
            return bool(self.console.handle(record))


def _is_console(handler: logging.Handler) -> bool:
    """A handler writing to the standard output or error (rich or plain), not a file."""
    if isinstance(handler, RichHandler):
        stream = handler.console.file
    else:
        stream = getattr(handler, "stream", None)
    return not isinstance(handler, logging.FileHandler) and stream in (sys.stdout, sys.stderr)


class Progress:
    """A stage of ``total`` items (``unit``: model, epoch): a bar on a terminal, optionally a log
    line per item. ``enabled=False`` draws no bar (the log lines remain)."""

    def __init__(self, description: str, total: int, unit: str, enabled: bool = True,
                 log_items: bool = False):
        self.description, self.total, self.unit = description, total, unit
        self.log_items = log_items
        self.done = 0
        self.started = time.monotonic()
        # disable=None: drawn only on a terminal
        self.bar = tqdm(total=total, desc=description, unit=unit, disable=None if enabled else True,
                        dynamic_ncols=True)
        self._handlers: list[logging.Handler] | None = None
        if not self.bar.disable:  # a new list: a thread logging meanwhile sees the old or the new
            root = logging.getLogger()
            self._handlers = root.handlers
            root.handlers = [_AboveBars(h) if _is_console(h) else h for h in root.handlers]

    def advance(self, item: str = "", count: int = 1) -> None:
        """``count`` more items done (``item`` names the last one in the log line)."""
        self.done += count
        self.bar.update(count)
        if self.log_items:
            elapsed = time.monotonic() - self.started
            left = elapsed / self.done * max(self.total - self.done, 0)
            log.info("%s: %d/%d %ss done%s, %s so far, about %s left", self.description, self.done,
                     self.total, self.unit, f" ({item})" if item else "", _minutes(elapsed),
                     _minutes(left))

    def close(self) -> None:
        """Remove the bar and give the console handlers back."""
        self.bar.close()
        if self._handlers is not None:
            logging.getLogger().handlers, self._handlers = self._handlers, None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def plan_stage(name: str, total: int, unit: str, enabled: bool = True,
               log_items: bool = False) -> None:
    """Announce the stage ``name`` of ``total`` items for the nodes that follow: the first
    :func:`stage` of that name opens it (its clock starts then) and it stays open until
    :func:`close_stage`. A stage of that name still open is closed first."""
    close_stage(name)
    _PLANNED[name] = {"total": total, "unit": unit, "enabled": enabled, "log_items": log_items}


def close_stage(name: str) -> None:
    """Close the stage ``name`` (and forget its plan)."""
    _PLANNED.pop(name, None)
    progress = _OPEN.pop(name, None)
    if progress is not None:
        progress.close()


@contextmanager
def stage(name: str, total: int, unit: str, enabled: bool = True,
          log_items: bool = False) -> Iterator[Progress]:
    """The planned stage ``name`` (:func:`plan_stage`; opened on first use, left open), else a
    stage of ``total`` items closed at the end."""
    if name in _PLANNED:
        if name not in _OPEN:
            _OPEN[name] = Progress(name, **_PLANNED[name])
        yield _OPEN[name]
        return
    with Progress(name, total, unit, enabled, log_items) as progress:
        yield progress
