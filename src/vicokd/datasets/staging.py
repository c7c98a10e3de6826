"""Staging names that say which process owns them, and sweeping the ones whose owner is gone.

A file or folder is written under a staging name beside its target and renamed into place when
complete. The name carries the host and process id of its writer plus a random token
(``.<target name>.<host>.<pid>.<token>.tmp``), so concurrent writers never clash, and a staging
entry left by a killed process can be told apart from one still being written: it is removed when
its host is this host and its process no longer runs.

Every writer of the project (these staging helpers and the ingestion spool) reports a full disk
through :func:`naming_full_disk`: a :class:`DiskFullError` that names the path being written and the
free space on its filesystem, instead of the writer's own words ("384000 requested and 30656
written", "unexpected pos"), which name neither.
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
from datetime import UTC, datetime
from pathlib import Path

#: ``.<name>.<host>.<pid>.<token>.tmp``
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def host_name() -> str:
    """This machine's name, reduced to ``[A-Za-z0-9-]`` (it is a field of staging names)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "localhost"


def timestamped_id() -> str:
    """A unique id that sorts by creation time (UTC), e.g. ``20260115T101500123456Z-3f2a9c1b``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


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


#: ``errno`` of a write to a full filesystem, or beyond the user's disk quota.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

#: A write that fails while less than this is free on its filesystem ran out of space, whatever
#: its error says: ``np.save`` raises ``OSError("N requested and M written")`` without an errno,
#: ``torch.save`` a ``RuntimeError`` ("unexpected pos").
NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """Writing ``path`` failed because its filesystem is full (or the disk quota is spent).

    ``free_bytes``: the space left there when the write failed (None when it cannot be read);
    ``cause``: the writer's own error message.
    """

    def __init__(self, path: str | Path, free_bytes: int | None, cause: str):
        self.free_bytes = free_bytes
        self.cause = cause
        free = "unknown space" if free_bytes is None else _size(free_bytes)
        super().__init__(
            errno.ENOSPC,
            f"Disk full: writing {path} failed with {free} free on its filesystem ({cause}). "
            "Free some space there (or point the output elsewhere) and run again; files written "
            "before are untouched.",
            str(path),
        )

    def __str__(self) -> str:
        return self.strerror

    def __reduce__(self):
        """Pickled as its constructor's arguments, so a worker process can hand one back."""
        return type(self), (self.filename, self.free_bytes, self.cause)


def _size(n_bytes: int) -> str:
    """``1536`` → ``1.5 KiB``."""
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def free_bytes(path: Path) -> int | None:
    """Bytes free to this user on the filesystem that holds ``path`` (or would hold it: its
    nearest existing folder); None when that cannot be read."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def disk_full_error(error: BaseException, path: Path) -> DiskFullError | None:
    """``error``, raised while writing ``path``, as a :class:`DiskFullError` when the disk is full:
    its errno says so (:data:`DISK_FULL_ERRNOS`), or it is a failed write (``OSError``, or the
    ``RuntimeError`` of ``torch.save``) while less than :data:`NEARLY_FULL_BYTES` are free there.
    None for any other error."""
    if isinstance(error, DiskFullError) or not isinstance(error, OSError | RuntimeError):
        return None
    free = free_bytes(path)
    full = getattr(error, "errno", None) in DISK_FULL_ERRNOS
    if full or (free is not None and free < NEARLY_FULL_BYTES):
        return DiskFullError(path, free, f"{type(error).__name__}: {error}")
    return None


@contextmanager
def naming_full_disk(path: Path) -> Iterator[None]:
    """Run the block that writes ``path``; a full disk raises :class:`DiskFullError` naming it (its
    cause chained), any other error passes unchanged. Cleaning up is the caller's."""
    try:
        yield
    except (OSError, RuntimeError) as error:
        full = disk_full_error(error, path)
        if full is None:
            raise
        raise full from error


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a staging path for ``target``; on success rename it onto ``target`` (``os.replace``:
    atomic, and it replaces a file target), on any failure delete it. A full disk raises
    :class:`DiskFullError` naming ``target``.

    Stale staging entries beside ``target`` are swept first, so a killed writer leaves nothing
    behind past the next write.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    staging = staging_path(target)
    try:
        with naming_full_disk(target):
            yield staging
            os.replace(staging, target)
    except BaseException:
        remove(staging)
        raise


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a staging folder for ``target``; on success it replaces ``target`` (the previous folder
    is moved aside first and deleted after the swap), on any failure it is deleted and ``target``
    is left as it was. A full disk raises :class:`DiskFullError` naming ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    staging = staging_path(target)
    staging.mkdir()
    try:
        with naming_full_disk(target):
            yield staging
            retired = staging_path(target)
            if target.exists():
                os.replace(target, retired)
            os.replace(staging, target)
            remove(retired)
    except BaseException:
        remove(staging)
        raise
