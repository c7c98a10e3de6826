"""Staging names that say which process owns them, and sweeping the ones whose owner is gone.

A file or folder is written under a staging name beside its target and renamed into place when
complete. The name carries the host and process id of its writer plus a random token
(``.<target name>.<host>.<pid>.<token>.tmp``), so concurrent writers never clash, and a staging
entry left by a killed process can be told apart from one still being written: it is removed when
its host is this host and its process no longer runs.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

#: ``.<name>.<host>.<pid>.<token>.tmp``
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def host_name() -> str:
    """This machine's name, reduced to ``[A-Za-z0-9-]`` (it is a field of staging names)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "localhost"


def timestamped_id() -> str:
    """A unique id that sorts by creation time (UTC), e.g. ``20260115T101500123456Z-3f2a9c1b``."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


def staging_path(target: Path) -> Path:
    """A sibling of ``target`` that no other writer uses: ``.<name>.<host>.<pid>.<token>.tmp``."""
    return target.with_name(
        f".{target.name}.{host_name()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    )


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM  # it runs, under another user
    return True


def is_stale(path: Path) -> bool:
    """Whether ``path`` is a staging entry written on this host by a process that no longer runs."""
    match = _STAGING.match(path.name)
    return bool(match) and match["host"] == host_name() and not _process_runs(int(match["pid"]))


def remove(path: Path) -> None:
    """Delete a file or a folder tree; a missing path is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep_stale(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the stale staging entries directly inside ``folder`` (see :func:`is_stale`), only
    those staging a target called ``name`` when given; returns what was removed."""
    if not folder.is_dir():
        return []
    stale = [
        entry
        for entry in folder.iterdir()
        if is_stale(entry) and (name is None or _STAGING.match(entry.name)["name"] == name)
    ]
    for entry in stale:
        remove(entry)
    return stale


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a staging path for ``target``; on success rename it onto ``target`` (``os.replace``:
    atomic, and it replaces a file target), on any failure delete it.

    Stale staging entries beside ``target`` are swept first, so a killed writer leaves nothing
    behind past the next write.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    staging = staging_path(target)
    try:
        yield staging
        os.replace(staging, target)
    except BaseException:
        remove(staging)
        raise


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a staging folder for ``target``; on success it replaces ``target`` (the previous folder
    is moved aside first and deleted after the swap), on any failure it is deleted and ``target``
    is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    staging = staging_path(target)
    staging.mkdir()
    try:
        yield staging
        retired = staging_path(target)
        if target.exists():
            os.replace(target, retired)
        os.replace(staging, target)
        remove(retired)
    except BaseException:
        remove(staging)
        raise
