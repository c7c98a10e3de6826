"""Keep ultralytics offline, quiet, and its files inside the project's data folder.

Ultralytics reads ``YOLO_OFFLINE`` and ``YOLO_CONFIG_DIR`` once, when it is first imported, so every
module of this package imports it through :func:`import_ultralytics`.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import ModuleType

#: ``<project>/data/ultralytics``: ultralytics' settings, fonts, runs, datasets and weights folders.
ULTRALYTICS_HOME = Path(__file__).resolve().parents[3] / "data" / "ultralytics"


def import_ultralytics() -> ModuleType:
    """Set the offline environment, import ultralytics quietly and point its folders at
    ``ULTRALYTICS_HOME``.

    Quiet: no banner, hyper-parameter dump, model summary or per-batch bars (``YOLO_VERBOSE``
    unless already set); its warnings and errors go through the project's logging.

    ``YOLO_CONFIG_DIR`` is only a default: a value already set (e.g. by ``settings.py``) is kept.
    Ultralytics looks for ``Arial.ttf`` in its config folder (``<YOLO_CONFIG_DIR>/Ultralytics``) and
    tries to download it when absent; matplotlib's DejaVu Sans is placed there under that name so no
    download is ever attempted.
    """
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ULTRALYTICS_HOME))
    config_dir = Path(os.environ["YOLO_CONFIG_DIR"])

    import ultralytics
    from ultralytics.utils import LOGGER, USER_CONFIG_DIR

    _through_project_logging(LOGGER)

    _provide_font(USER_CONFIG_DIR / "Arial.ttf")

    wanted = {
        "runs_dir": str(config_dir / "runs"),
        "datasets_dir": str(config_dir / "datasets"),
        "weights_dir": str(config_dir / "weights"),
        "sync": False,
        # the project tracks its own runs (kedro-mlflow); ultralytics' MLflow callback would end
        # the Kedro run's MLflow run from inside the detector's training
        "mlflow": False,
    }
    if any(ultralytics.settings.get(key) != value for key, value in wanted.items()):
        ultralytics.settings.update(wanted)
    return ultralytics


def _through_project_logging(logger: logging.Logger) -> None:
    """Ultralytics' logger without its own console handler, passing its warnings and errors on
    to the project's handlers."""
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(max(logger.level, logging.WARNING))
    logger.propagate = True


def _provide_font(target: Path) -> None:
    """Copy matplotlib's bundled DejaVu Sans to ``target`` if nothing is there yet."""
    if target.exists():
        return
    from matplotlib import font_manager

    source = font_manager.findfont("DejaVu Sans", fallback_to_default=True)
    shutil.copyfile(source, target)
