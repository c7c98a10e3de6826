"""A JSON dataset whose missing file loads as ``{}``: an input a pipeline may run without."""
from __future__ import annotations

import logging
from typing import Any

from kedro_datasets.json import JSONDataset

log = logging.getLogger(__name__)


class OptionalJSONDataset(JSONDataset):
    """:class:`kedro_datasets.json.JSONDataset`, except that loading a file that does not exist
    returns an empty dict instead of failing.

    For ``recordings_manifest``: written by the simulation pipeline and read by ingestion only so
    that the whole flow runs simulation first; ingestion on a real dataset runs without it.

    Example catalog entry::

        recordings_manifest:
          type: vicokd.datasets.OptionalJSONDataset
          filepath: data/01_raw/recordings_manifest.json
    """

    def load(self) -> Any:
        if not self._exists():
            log.info("%s does not exist: loading it as {}", self._filepath)
            return {}
        return super().load()
