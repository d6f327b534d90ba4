"""Writing files so that a crash never leaves half of one behind (used by data and models).

`atomic_write` writes to a temporary file beside the target and renames it into place:
afterwards either the old file or the complete new one is there. Temporary files of
writes that were killed are removed by a later write once they are stale (older than
`STALE_SECONDS`), so a write still in progress in another process is never touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]

STALE_SECONDS = 3600.0
"""A temporary file older than this (one hour) belongs to a write that will never finish."""


def temporary_prefix(path: Path) -> str:
    """The name prefix of ``path``'s temporary files: ``.<name>.``."""
    return f".{path.name}."


def remove_stale_temporaries(path: str | Path, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove temporary files of ``path`` left by interrupted writes, if older than ``max_age``.

    Returns:
        The files removed.
    """
    path = Path(path)
    removed = []
    now = time.time()
    for candidate in path.parent.glob(f"{temporary_prefix(path)}*.tmp"):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
            if now - candidate.stat().st_mtime > max_age:
                candidate.unlink()
                removed.append(candidate)
    return removed


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None], *, sync: bool = True) -> Path:
    """Call ``write(file)`` on a temporary file, then rename it to ``path``.

    The parent folder is created if needed; stale temporaries of earlier, killed writes
    are removed first. ``sync`` waits until the data is on disk before the rename, so even a
    power cut leaves the old or the new file; a file with checksums of its own (a cache) can
    skip that wait.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(
        prefix=temporary_prefix(path), suffix=".tmp", dir=path.parent
    )
    try:
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp makes it owner-only
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            if sync:
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path
