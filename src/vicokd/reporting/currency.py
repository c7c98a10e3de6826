"""Whether the published reports are current: a fingerprint of everything the reporting stage reads.

The reports are current when the reporting stage would read exactly what it read when it last wrote
them: the same bytes in every file of its input datasets, the same parameters, the same vicokd source
and library versions, the same settings of its report datasets, and every report still on disk.
Files are compared by content, except the array stores' ``.npy`` files (gigabytes of frames and
log-mels, written once per generation and never rewritten in place): by size and modification
time, as ``make`` and ``rsync`` do. The fingerprint of the last reports is kept in :data:`RECORD`
(``data/08_reporting/report_inputs.json``), written only after every report was written.
"""
from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kedro.pipeline import Pipeline

import vicokd
from vicokd.fingerprints import Fingerprint, changed_parts

#: The catalog dataset holding the fingerprint of the inputs of the published reports.
RECORD = "report_inputs"
#: Files compared by size and modification time (array store members), the others by content.
WRITTEN_ONCE = (".npy",)
#: The libraries whose results or drawings the reports depend on.
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "torch", "kedro-datasets")
#: Keys of a dataset's description that name its files.
PATH_KEYS = ("filepath", "path", "table", "stores")


def file_digest(path: Path) -> str:
    """A file's content hash, or its size and mtime for a file written once (:data:`WRITTEN_ONCE`)."""
    if path.suffix in WRITTEN_ONCE:
        status = path.stat()
        return f"{status.st_size}:{status.st_mtime_ns}"
    with path.open("rb") as file:
        return hashlib.file_digest(file, "blake2b").hexdigest()[:16]


def _folder_digest(folder: Path, skip: tuple[str, ...] = ()) -> str:
    """The digest of every file under ``folder`` (names included), but those under a folder named
    in ``skip``."""
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not set(p.relative_to(folder).parts) & set(skip))
    return Fingerprint({str(p.relative_to(folder)): file_digest(p) for p in files})


def path_digest(path: Path) -> str:
    """The digest of a file, or of every file under a folder (names included); ``missing`` when
    there is nothing at ``path``."""
    if path.is_file():
        return file_digest(path)
    return _folder_digest(path) if path.is_dir() else "missing"


def dataset_paths(description: dict[str, Any]) -> list[Path]:
    """The files and folders a dataset's ``_describe()`` names (none: it is held in memory)."""
    paths = []
    for key in PATH_KEYS:
        value = description.get(key)
        for item in value if isinstance(value, list | tuple) else [value]:
            if item:
                paths.append(Path(str(item)))
    return paths


def source_digest(package: Path = Path(vicokd.__file__).parent) -> str:
    """The digest of the vicokd package's files (its code and data, not its bytecode)."""
    return _folder_digest(package, skip=("__pycache__",))


def _input_digest(catalog: Any, name: str) -> str | None:
    """A parameter's value or the digest of a dataset's files; None for a dataset held in memory."""
    if name.startswith("params:"):
        return Fingerprint({"value": catalog.load(name)})
    paths = dataset_paths(catalog.get(name, fallback_to_runtime_pattern=True)._describe())
    return Fingerprint({str(p): path_digest(p) for p in paths}) if paths else None


def reporting_inputs(catalog: Any, stage: Pipeline) -> Fingerprint:
    """The fingerprint of what ``stage`` (the reporting nodes of a run) reads: its inputs' files or
    values (``None`` for one held in memory), the settings of its output datasets, the vicokd code
    and the libraries' versions."""
    outputs = {name: catalog.get(name, fallback_to_runtime_pattern=True)._describe()
               for name in sorted(stage.all_outputs())}
    return Fingerprint({
        "inputs": {name: _input_digest(catalog, name) for name in sorted(stage.inputs())},
        "outputs": outputs,
        "code": source_digest(),
        "libraries": {name: version(name) for name in LIBRARIES},
    })


def missing_reports(catalog: Any, stage: Pipeline) -> list[str]:
    """The output datasets of ``stage`` written to files that are not on disk."""
    return [name for name in sorted(stage.all_outputs())
            if dataset_paths(catalog.get(name, fallback_to_runtime_pattern=True)._describe())
            and not catalog.exists(name)]


def why_not_current(catalog: Any, stage: Pipeline, now: Fingerprint) -> list[str]:
    """Why the published reports are not those ``stage`` would write from the inputs fingerprinted
    in ``now`` (:func:`reporting_inputs`): empty when they are."""
    record = catalog.load(RECORD) if catalog.exists(RECORD) else {}
    if not record:
        return ["no record of the inputs of the published reports"]
    held = sorted(name for name, digest in now.parts["inputs"].items() if digest is None)
    if held:
        return [f"inputs held in memory: {', '.join(held)}"]
    reasons = []
    if record.get("fingerprint") != now:
        reasons.append(f"changed: {', '.join(changed_parts(record.get('parts'), now.parts))}")
    missing = missing_reports(catalog, stage)
    if missing:
        reasons.append(f"missing: {', '.join(missing)}")
    return reasons


def keep(catalog: Any, now: Fingerprint) -> None:
    """Record ``now`` as the inputs of the reports just written."""
    catalog.save(RECORD, {"fingerprint": str(now), "parts": now.parts})


def forget(catalog: Any) -> None:
    """Drop the record (before reports are rewritten: a run stopped half-way leaves none)."""
    if catalog.exists(RECORD):
        catalog.save(RECORD, {})
