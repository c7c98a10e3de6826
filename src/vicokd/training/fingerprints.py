"""Fingerprints of training runs: what a run folder's state must agree on to be resumed or reused.

A fingerprint hashes its parts (configuration, the content of the data read, the teacher, the seed)
and keeps them, so a run folder whose ``last.pt`` no longer matches can say what changed.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np


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

    def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                out.update(leaves(item, f"{prefix}.{key}" if prefix else str(key)))
            return out
        return {prefix: value}

    old, new = leaves(before), leaves(after)
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def content_digest(store: Mapping[str, np.ndarray], keys: Iterable[str]) -> str:
    """A hash of the arrays of ``keys`` in ``store`` (shapes, dtypes and bytes)."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        array = np.ascontiguousarray(store[key])
        digest.update(f"{key}:{array.shape}:{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """A hash of the file's bytes (16 hex digits), or ``"missing"`` when it cannot be read."""
    try:
        with Path(path).open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()[:16]
    except OSError:
        return "missing"
