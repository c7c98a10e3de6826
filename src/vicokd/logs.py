"""The project's logging, beyond what ``conf/logging.yml`` can say.

Kedro configures logging from ``conf/logging.yml`` when it starts: rich lines on the console, plain
lines in ``logs/vicokd.log``. Two things a YAML file cannot express are done here:

- :func:`readable_logs` (called by ``settings.py``): when the console is not a terminal (the output
  is redirected to a file), Kedro's rich handler gives way to a plain one in the log file's format,
  since rich would wrap every line at 80 columns and pad it with spaces; plain handlers drop
  terminal colour codes (MLflow colours its warnings, ultralytics its prefixes); the log file's
  folder is made when missing (``logs/`` of the project folder).
- :func:`worker_logging`: the ``initializer`` and ``initargs`` of a process pool whose workers log
  through this process's handlers. A spawned worker inherits no logging configuration; here each
  worker puts its records on a queue, and a thread of this process hands them to the logger of the
  same name, so the file and the console have a single writer (the logging cookbook's way for
  several processes to write one log).
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import re
from logging.handlers import QueueHandler, QueueListener
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from rich.logging import RichHandler

#: Terminal escape sequences (colours, cursor moves, line erasing).
_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

#: One queue and listener per start method, for the life of the process.
_QUEUES: dict[str, multiprocessing.Queue] = {}


def strip_terminal_codes(record: logging.LogRecord) -> bool:
    """A handler filter: the record's message without terminal escape codes; keeps every record."""
    message = record.getMessage()
    if "\x1b" in message:
        record.msg, record.args = _TERMINAL_CODES.sub("", message), None
    return True


def _is_plain(handler: logging.Handler) -> bool:
    """A handler that writes lines as they are: a log file, or a plain stream."""
    return isinstance(handler, logging.FileHandler) or type(handler) is logging.StreamHandler


def _file_format(root: logging.Logger) -> logging.Formatter:
    """The formatter of the log file (the first file handler of ``root``), else logging's own."""
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and handler.formatter is not None:
            return handler.formatter
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def readable_logs(root: logging.Logger | None = None) -> None:
    """Plain console lines when the console is not a terminal, no terminal codes in plain lines,
    and a folder for each log file.

    Each rich handler of ``root`` (default: the root logger) whose console is not a terminal is
    replaced by a ``logging.StreamHandler`` on the same stream, at the same level, in the log
    file's format; every plain handler gets :func:`strip_terminal_codes`; the folder of each file
    handler's file is made (files open at their first record). Calling it again changes nothing.
    """
    root = root or logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler):
            Path(handler.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(handler, RichHandler) and not handler.console.is_terminal:
            plain = logging.StreamHandler(handler.console.file)
            plain.setLevel(handler.level)
            plain.setFormatter(_file_format(root))
            root.removeHandler(handler)
            root.addHandler(plain)
            handler = plain
        if _is_plain(handler) and strip_terminal_codes not in handler.filters:
            handler.addFilter(strip_terminal_codes)


class _ToLoggerOfSameName(logging.Handler):
    """Hands a worker's record to this process's logger of the same name (its filters, its
    handlers, its propagation to the root's handlers)."""

    def handle(self, record: logging.LogRecord) -> bool:
        logging.getLogger(record.name).handle(record)
        return True


def _levels() -> dict[str, int]:
    """The level of the root logger (key ``""``) and of every logger given one in this process."""
    loggers = logging.Logger.manager.loggerDict.items()
    return {"": logging.getLogger().level,
            **{name: logger.level for name, logger in loggers
               if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET}}


def _listening_queue(context: BaseContext) -> multiprocessing.Queue:
    """The queue whose records this process logs (started on first use, stopped at exit)."""
    method = context.get_start_method()
    if method not in _QUEUES:
        queue = context.Queue()
        listener = QueueListener(queue, _ToLoggerOfSameName())
        listener.start()
        atexit.register(listener.stop)
        _QUEUES[method] = queue
    return _QUEUES[method]


def log_through_queue(queue: multiprocessing.Queue, levels: dict[str, int]) -> None:
    """A worker's logging: every record goes to ``queue`` (none is written here), loggers at
    ``levels`` (``""``: the root), warnings logged."""
    root = logging.getLogger()
    for handler in list(root.handlers):  # e.g. those Kedro made when the worker imported it
        root.removeHandler(handler)
    root.addHandler(QueueHandler(queue))
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)


def worker_logging(context: BaseContext) -> dict[str, Any]:
    """``initializer`` and ``initargs`` of a ``ProcessPoolExecutor`` on ``context`` whose workers
    log through this process's handlers, at this process's logger levels (taken now)."""
    return {"initializer": log_through_queue,
            "initargs": (_listening_queue(context), _levels())}
