"""Where ptm keeps downloaded and generated data, and the one message for a folder it cannot
use (DLwPT §7.1.1).

The rule, in order: ``$PTM_DATA_DIR`` if set (a relative path means the folder the user ran
the command from, resolved before any kernel starts); else, when the imported ptm is the one
in a ptm checkout (judged from the package's own location, never from the working
directory), that checkout's ``data-unversioned/p1ch7/``; else a per-user cache folder (on
Linux ``~/.cache/ptm/p1ch7``). CIFAR-10 lives in that folder; the stand-ins (``standin/``),
the CIFAR-2 cache (``ptm-cache/``) and the wine data (``p1ch4/``) beside or inside it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DataFolderError",
    "data_dir_rule",
    "default_data_dir",
    "resolve_data_dir",
]

DATA_FOLDER_HELP = (
    "set PTM_DATA_DIR to a folder you can write to (e.g. PTM_DATA_DIR=~/ptm-data), or pass "
    "the folder as data_dir= (--data-dir on the command line)"
)


class DataFolderError(OSError):
    """ptm cannot use a data folder; the message names it, says why and how to choose another."""


def checkout_root() -> Path | None:
    """The ptm checkout that this imported package lives in (an editable install), or None.

    Judged from the package's own location, never from the working directory.
    """
    package = Path(__file__).resolve().parent
    root = package.parent.parent  # <root>/src/ptm
    project = root / "pyproject.toml"
    if package.parent.name == "src" and project.is_file():
        return root if 'name = "ptm' in project.read_text(encoding="utf-8") else None
    return None


def data_dir_rule() -> tuple[Path, str]:
    """Where CIFAR-10 lives by default, and which rule chose it (DLwPT §7.1.1)."""
    from_environment = os.environ.get("PTM_DATA_DIR")
    if from_environment:
        return Path(from_environment).expanduser().absolute(), "set by PTM_DATA_DIR"
    root = checkout_root()
    if root is not None:
        return root / "data-unversioned" / "p1ch7", f"the ptm checkout at {root}"
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("ptm", appauthor=False))
    return cache / "p1ch7", "the per-user cache folder (no PTM_DATA_DIR, no ptm checkout)"


def default_data_dir() -> Path:
    """The folder that holds (or will hold) ``cifar-10-batches-py/``: see `data_dir_rule`."""
    return data_dir_rule()[0]


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """``data_dir`` as an absolute Path, or `default_data_dir` when it is None.

    Raises:
        DataFolderError: the path exists but is a file, not a folder.
    """
    path = Path(data_dir).expanduser().absolute() if data_dir is not None else default_data_dir()
    if path.exists() and not path.is_dir():
        raise DataFolderError(
            f"ptm cannot use the data folder {path}: it is a file, not a folder; "
            + DATA_FOLDER_HELP
        )
    return path


def writable_folder(path: Path) -> Path:
    """``path``, created if needed, once it is known that ptm can write there.

    Raises:
        DataFolderError: the one message for a folder ptm cannot use, whatever needed it (a
            download, a stand-in, the CIFAR-2 cache, ``ptm notebooks``): the folder, why, and
            ``PTM_DATA_DIR`` as the way out.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise DataFolderError(
            f"ptm cannot use the data folder {path} ({why}): " + DATA_FOLDER_HELP
        ) from None
    if not os.access(path, os.W_OK):
        raise DataFolderError(
            f"ptm cannot use the data folder {path} (it is not writable): " + DATA_FOLDER_HELP
        )
    return path
