"""Fingerprints of training runs: what a run folder's state must agree on to be resumed or reused."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def run_fingerprint(**parts: Any) -> str:
    """A short hash of JSON-serialisable parts (configuration, data identity, seed, …)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
