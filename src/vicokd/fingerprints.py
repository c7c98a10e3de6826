"""Fingerprints: what a stored result (a run folder, a stage's output) must agree on to be resumed or reused.

A fingerprint hashes its parts (configuration, the content of the data read, the teacher, the seed)
and keeps them, so a run folder whose ``last.pt`` no longer matches can say what changed.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Self

from vicokd.nested import flatten


class Fingerprint(str):
    """A short hash of JSON-serialisable parts (it compares as that hash); ``parts`` keeps them."""

    parts: dict[str, Any]

    def __new__(cls, parts: Mapping[str, Any]) -> Self:
        plain = json.loads(json.dumps(parts, sort_keys=True, default=str))
        text = json.dumps(plain, sort_keys=True)
        fingerprint = super().__new__(cls, hashlib.sha256(text.encode()).hexdigest()[:16])
        fingerprint.parts = plain
        return fingerprint


def run_fingerprint(**parts: Any) -> Fingerprint:
    """The fingerprint of a training run made of ``parts``."""
    return Fingerprint(parts)


def changed_parts(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Dotted names of the leaves that differ between two fingerprints' parts (``["unknown"]`` when
    either side kept none)."""
    if before is None or after is None:
        return ["unknown (the previous run kept no parts)"]
    old, new = flatten(before), flatten(after)
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))

