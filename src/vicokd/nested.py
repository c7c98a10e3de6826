"""Nested settings (parameter blocks, fingerprint parts, checkpoint configurations) as flat
``dotted.key -> value`` mappings."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf of ``tree`` under its dotted path: ``{"model": {"dim": 64}}`` gives
    ``{"model.dim": 64}``.

    A non-empty mapping is a branch; so is a list that holds a mapping (its items are named by
    position: ``recipe.terms.0.weight``). Anything else is a leaf, an empty mapping and a list of
    plain values included.

    Raises:
        ValueError: two keys flatten to one name (``{"a.b": 1, "a": {"b": 2}}``).
    """
    flat: dict[str, Any] = {}
    for key, value in _children(tree):
        name = f"{prefix}.{key}" if prefix else str(key)
        below = flatten(value, name) if _is_branch(value) else {name: value}
        for leaf, item in below.items():
            if leaf in flat:
                raise ValueError(f"Two keys of the settings both flatten to {leaf!r}")
            flat[leaf] = item
    return flat


def _is_branch(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value)
    return (isinstance(value, Sequence) and not isinstance(value, str | bytes)
            and any(isinstance(item, Mapping) for item in value))


def _children(branch: Mapping[str, Any] | Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(branch.items()) if isinstance(branch, Mapping) else enumerate(branch)
