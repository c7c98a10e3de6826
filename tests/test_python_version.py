"""The Python versions pyproject.toml claims are those the pinned set-up installs on."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

PROJECT = Path(__file__).resolve().parents[1]


def test_every_pinned_distribution_supports_the_oldest_python_the_project_claims():
    claimed = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["requires-python"]
    oldest = re.fullmatch(r">=\s*(\d+\.\d+)", claimed)[1]
    constraints = (PROJECT / "constraints.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", constraints, re.MULTILINE)
    refusing = []
    for name, version in pins:
        try:
            metadata = importlib.metadata.metadata(name)
        except importlib.metadata.PackageNotFoundError:  # another platform's pin
            continue
        needs = metadata.get("Requires-Python")
        if metadata["Version"] == version and needs and f"{oldest}.0" not in SpecifierSet(needs):
            refusing.append(f"{name}=={version} (Requires-Python {needs})")
    assert not refusing, f"requires-python = {claimed!r}, but constraints.txt pins {refusing}"
