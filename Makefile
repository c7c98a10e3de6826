# Two commands: `make run` (set-up + the default job) and `make test` (set-up if needed + the test suite).
# The set-up installs the exact versions of constraints.txt (torch, torchvision, torchaudio and every
# package the project pulls in); `make constraints` rewrites that file from a working .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt
export YOLO_OFFLINE := 1
export HF_HUB_OFFLINE := 1
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: run test install constraints clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --constraint $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kedro run

# One test worker per usable core, each pinned to its core; the longest tests first (tests/conftest.py).
test: $(STAMP)
	$(VENV)/bin/pytest -n $$($(PY) -c "import os; print(len(os.sched_getaffinity(0)))") --dist loadgroup --no-loadscope-reorder

# The installed version of every distribution that pyproject.toml's dependencies (with the dev extra)
# need, followed through their own requirements on this platform.
define FREEZE
import sys
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: kedro's tomli
    import tomli as tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
todo = [(Requirement(r), "") for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
versions, visited = {}, set()
while todo:
    requirement, parent_extra = todo.pop()
    if requirement.marker and not requirement.marker.evaluate({"extra": parent_extra}):
        continue
    name = canonicalize_name(requirement.name)
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        sys.exit(f"{name} is required but not installed")
    versions[name] = f"{dist.metadata['Name']}=={dist.version}"
    for extra in {"", *requirement.extras} - {e for n, e in visited if n == name}:
        visited.add((name, extra))
        todo += [(Requirement(r), extra) for r in dist.requires or []]
print("# Exact versions of the set-up, written by `make constraints` from a working venv")
print("# (Python %d.%d, %s); the Makefile installs with --constraint constraints.txt." % (*sys.version_info[:2], sys.platform))
print(*(versions[name] for name in sorted(versions)), sep="\n")
endef
export FREEZE

constraints:
	$(PY) -c "$$FREEZE" > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean-venv:
	rm -rf $(VENV)
