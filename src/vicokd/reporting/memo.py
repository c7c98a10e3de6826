"""Per-model results kept between runs: a model's segment-level mAP and its bootstrap replicates are
computed again only when the model (its ``model_version``) or what the result depends on changes.

Each result is a table saved as one partition per model (``<dataset>/<home>/seed<k>``, the names of
``collect_predictions``) carrying a ``memo_key`` column: the model's ``model_version`` and a digest of
the settings and data the computation read. A partition is reused only when its key equals the
one the model would be computed with now, so nothing stale is read back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from vicokd.fingerprints import Fingerprint

logger = logging.getLogger(__name__)

#: The column holding a partition's key.
MEMO_KEY = "memo_key"


def memo_key(table: pd.DataFrame, **depends_on: Any) -> str | None:
    """The key of a result of the model(s) whose prediction table is ``table``: their
    ``model_version`` and a digest of ``depends_on`` (settings, the data read besides the
    predictions); None for a table without versions (its result is computed and not kept)."""
    if "model_version" not in table.columns:
        return None
    return f"{'+'.join(sorted(set(table['model_version'])))}-{Fingerprint(depends_on)}"


def reuse_or_compute(
    tables: Mapping[str, pd.DataFrame], published: Mapping[str, Callable[[], pd.DataFrame]],
    key_of: Callable[[pd.DataFrame], str | None], compute: Callable[[str, pd.DataFrame], pd.DataFrame],
    what: str,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Every model's result, reused from ``published`` (name → loader of a saved partition) when
    its key is :func:`memo_key`'s, else ``compute(name, table)``.

    Returns:
        ``name -> result`` for every model of ``tables`` (in their order) and the computed ones
        only, each with its :data:`MEMO_KEY` (what to save).
    """
    results, computed, reused = {}, {}, 0
    for name, table in tables.items():
        key = key_of(table)
        saved = _read(published, name, what) if key is not None else None
        if saved is not None and not saved.empty and (saved[MEMO_KEY] == key).all():
            results[name] = saved.drop(columns=MEMO_KEY)
            reused += 1
            continue
        results[name] = compute(name, table)
        if key is not None:
            computed[name] = results[name].assign(**{MEMO_KEY: key})
    logger.info("%s: %d of %d models reused (same model and settings), %d computed", what,
                reused, len(results), len(results) - reused)
    return results, computed


def _read(published: Mapping[str, Callable[[], pd.DataFrame]], name: str, what: str) -> pd.DataFrame | None:
    """The saved partition ``name``, or None when there is none or it cannot be read (a file cut
    short by a stopped run: it is computed again and replaced)."""
    if name not in published:
        return None
    try:
        saved = published[name]()
    except Exception as error:  # noqa: BLE001 - any unreadable file is only a cache miss
        logger.warning("%s: the kept result of %s cannot be read (%s); computing it again", what, name,
                       str(error).splitlines()[0][:200])
        return None
    return saved if MEMO_KEY in saved.columns else None
