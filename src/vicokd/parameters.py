"""The base of every typed parameter block.

Nodes declare their ``params:`` inputs with these models as type hints; Kedro validates the YAML
against them before any node runs. Unknown keys and wrong types are errors, and nothing is coerced:
``"false"`` is not a boolean and ``"10"`` is not a number. Values live in the YAML files; a model
declares no default for a value that a file gives (one place for each default).
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Parameters(BaseModel):
    """A strictly validated, immutable parameter block."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
