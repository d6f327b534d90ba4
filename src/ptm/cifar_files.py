"""CIFAR-10 on disk: where it lives, download, checks and safe reading (DLwPT §7.1.1–§7.1.2).

CIFAR-10 holds 60,000 colour images of 32×32 pixels in ten classes, stored as pickled
batch files in ``cifar-10-batches-py/``. This module finds that folder, downloads it
through torchvision when it is missing, checks every file's checksum and reads the files
with an unpickler that admits only what a CIFAR file holds (arrays, lists, numbers,
strings), so a crafted file can never run code. Errors name the file and what to do; ptm
never deletes or overwrites anything in the data folder.

Where the data lives is the rule of `ptm.data_folder`: ``$PTM_DATA_DIR`` if set; else, when
ptm runs from its own checkout, that checkout's ``data-unversioned/p1ch7/``; else a per-user
cache folder (on Linux ``~/.cache/ptm/p1ch7``). Never the working directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import socket
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ptm.data_folder import resolve_data_dir, writable_folder

__all__ = [
    "CIFAR10_URL",
    "CLASS_NAMES",
    "CifarCorruptedError",
    "CifarDataError",
    "CifarNotFoundError",
    "load_cifar10",
]

CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
"""CIFAR-10's class names, indexed by label (DLwPT §7.1.1)."""

# torchvision's record of the files (torchvision.datasets.CIFAR10), written out so that
# importing this module does not import torchvision
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCHES_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
}
TEST_FILES = {"test_batch": "40351d587109b95175f43aff81a1287e"}
META_FILE = ("batches.meta", "5ff9c542aee3614f3951f8cda6e48888")

STANDIN_MANIFEST = "ptm-standin-manifest.json"
"""Written by `ptm.write_standin_cifar10` beside its files: their checksums, and a flag
saying the data is synthetic. Real CIFAR-10 folders never contain it."""
MANIFEST_FORMAT = "ptm-standin-cifar10"

DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is given up


class CifarDataError(Exception):
    """CIFAR-10 is missing or damaged; the message says where and what to do."""


class CifarNotFoundError(CifarDataError, FileNotFoundError):
    """CIFAR-10 is not in the data folder and could not be downloaded."""


class CifarCorruptedError(CifarDataError, ValueError):
    """A CIFAR-10 file is truncated, corrupted or not a CIFAR file; the message names it."""


# -- where the data lives ----------------------------------------------------------------


# -- checking files ----------------------------------------------------------------------

_verified: dict[tuple[str, str, int, int], bool] = {}  # (path, md5, size, mtime) → intact


def forget_checksums() -> None:
    """Forget which files this process has checked, so the next load hashes them again."""
    _verified.clear()


def _file_is_intact(path: Path, md5: str) -> bool:
    """True when ``path`` exists and its MD5 is ``md5``; each file is hashed once per
    process unless its size or modification time changes."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    key = (str(path.resolve()), md5, stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        _verified[key] = digest.hexdigest() == md5
    return _verified[key]


def write_manifest(folder: Path, checksums: dict[str, str], **details: Any) -> None:
    """Write the stand-in manifest: the files' MD5s and ``details`` (seed, sizes, ...)."""
    manifest = {"format": MANIFEST_FORMAT, **details, "files": checksums}
    (folder / STANDIN_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The stand-in manifest in ``folder``, None for real CIFAR-10.

    A manifest only supplies checksums: every file is still read with the safe unpickler.

    Raises:
        CifarCorruptedError: the manifest is not readable or incomplete.
    """
    path = folder / STANDIN_MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["format"] != MANIFEST_FORMAT or not isinstance(manifest["files"], dict):
            raise KeyError("format")
    except (ValueError, KeyError, TypeError) as error:
        raise CifarCorruptedError(
            f"the stand-in manifest {path} is not readable ({type(error).__name__}: {error}): "
            f"remove {folder} and write the stand-in again"
        ) from None
    missing = sorted(set(expected_files(None)) - set(manifest["files"]))
    if missing:
        raise CifarCorruptedError(f"the stand-in manifest {path} lists no checksum for {missing}")
    return manifest


def expected_files(manifest: dict[str, Any] | None) -> dict[str, str]:
    """File name → MD5 for a CIFAR-10 folder: torchvision's record, or a stand-in's manifest."""
    if manifest is not None:
        return {name: str(md5) for name, md5 in manifest["files"].items()}
    return {**TRAIN_FILES, **TEST_FILES, META_FILE[0]: META_FILE[1]}


def verify_folder(folder: Path, manifest: dict[str, Any] | None) -> None:
    """Raise a clear error naming the first missing or damaged file in a CIFAR-10 folder."""
    expected = {name: md5 for name, md5 in expected_files(manifest).items() if name in
                {*TRAIN_FILES, *TEST_FILES, META_FILE[0]}}  # fmt: skip
    for name in expected:
        if not (folder / name).is_file():
            raise CifarNotFoundError(
                f"the CIFAR-10 folder {folder} is incomplete: {name} is missing. ptm does not "
                f"delete or overwrite data: remove {folder} by hand and load again to download "
                "a fresh copy, or copy the missing file in."
            )
    # hash the files side by side: hashlib releases the GIL, so threads use every core
    with ThreadPoolExecutor(max_workers=max(1, min(len(expected), os.cpu_count() or 1))) as pool:
        intact = list(pool.map(lambda item: _file_is_intact(folder / item[0], item[1]),
                               expected.items()))  # fmt: skip
    for (name, md5), ok in zip(expected.items(), intact, strict=True):
        if not ok:
            raise CifarCorruptedError(
                f"the CIFAR-10 file {folder / name} is truncated or corrupted (its MD5 checksum "
                f"is not {md5}). ptm does not delete or overwrite data: remove {folder} by hand "
                "and load again to download a fresh copy."
            )


# -- reading files safely --------------------------------------------------------------


def _numpy_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("an array of Python objects (object dtype)")
    return dtype


class _CifarUnpickler(pickle.Unpickler):
    """Admits the globals numpy needs to rebuild an array, and nothing else."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("_codecs", "encode"),  # bytes in protocol 2 pickles written by Python 3: str → bytes
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("numpy", "dtype"):
            return _numpy_dtype
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it asks for {module}.{name}, which no CIFAR file holds")


PLAIN = (str, bytes, int, float, type(None))


def _check_plain(value: Any, depth: int = 0) -> None:
    """Refuse anything but dicts, lists, tuples, numbers, strings, bytes and plain arrays.

    The unpickler already refuses every other global, so this is a second line of defence;
    lists of plain values (CIFAR's labels and file names) are checked by type at C speed.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise pickle.UnpicklingError("an array of Python objects (object dtype)")
    elif isinstance(value, list | tuple):
        kinds = set(map(type, value))
        if not kinds <= set(PLAIN):
            if depth >= 4:
                raise pickle.UnpicklingError("containers nested deeper than a CIFAR file's")
            for item in value:
                _check_plain(item, depth + 1)
    elif isinstance(value, dict):
        if depth >= 4:
            raise pickle.UnpicklingError("containers nested deeper than a CIFAR file's")
        for key, item in value.items():
            _check_plain(key, depth + 1)
            _check_plain(item, depth + 1)
    elif not isinstance(value, PLAIN):
        raise pickle.UnpicklingError(f"a {type(value).__name__}, which no CIFAR file holds")


def read_batch(path: str | Path, keys: tuple[str, ...] = ("data", "labels")) -> dict[str, Any]:
    """Read one CIFAR batch or meta file with the safe unpickler (DLwPT §7.1.1).

    Args:
        path: e.g. ``.../cifar-10-batches-py/data_batch_1``.
        keys: the keys the file must hold (``labels`` may be ``fine_labels``).

    Raises:
        CifarCorruptedError: the file is truncated, not a pickle, holds anything but plain
            data, or lacks a key; the message names the file.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            entry = _CifarUnpickler(file, encoding="latin1").load()
        _check_plain(entry)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, ImportError) as error:  # fmt: skip
        reason = str(error) or type(error).__name__
        if isinstance(error, EOFError) or "truncated" in reason:
            reason = "the pickle data is truncated"
        raise CifarCorruptedError(
            f"the CIFAR file {path} cannot be read safely: {reason}. Replace it with a fresh "
            "copy of CIFAR-10."
        ) from None
    if not isinstance(entry, dict):
        raise CifarCorruptedError(
            f"the CIFAR file {path} holds a {type(entry).__name__}, not a dict"
        )
    if "labels" in keys and "labels" not in entry and "fine_labels" in entry:
        entry["labels"] = entry["fine_labels"]
    missing = [key for key in keys if key not in entry]
    if missing:
        raise CifarCorruptedError(
            f"the CIFAR file {path} has no {', '.join(repr(key) for key in missing)} entry "
            f"(it holds {sorted(map(str, entry))}): replace it with a fresh copy of CIFAR-10"
        )
    return entry


def read_images(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A batch file's images as N×3×32×32 uint8 and its labels as int64, checked."""
    entry = read_batch(path)
    try:
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry["labels"], dtype=np.int64).reshape(-1)
    except (ValueError, TypeError) as error:
        raise CifarCorruptedError(f"the CIFAR file {path} holds malformed data: {error}") from None
    if len(data) != len(labels):
        raise CifarCorruptedError(
            f"the CIFAR file {path} holds {len(data)} images but {len(labels)} labels"
        )
    return data, labels


def open_dataset(data_dir: Path, train: bool = True, transform: Any = None) -> Any:
    """torchvision's ``CIFAR10`` reading checked files through ptm's safe unpickler (§7.1.2).

    Returns an instance of a subclass of ``torchvision.datasets.CIFAR10`` (so it is a
    ``Dataset`` with ``data``, ``targets``, ``classes``), with ``synthetic`` set when the
    files are ptm's stand-in. The subclass is made on first use, so that importing
    this module does not import torchvision.
    """
    return _dataset_class()(data_dir, train=train, transform=transform)


_DATASET_CLASS: list[type] = []


def _dataset_class() -> type:
    if _DATASET_CLASS:
        return _DATASET_CLASS[0]
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.vision import VisionDataset

    class PtmCIFAR10(CIFAR10):  # type: ignore[misc, valid-type]
        """torchvision's CIFAR10, its files read by ptm's safe unpickler after ptm's checks."""

        synthetic = False

        def __init__(self, root: Path, train: bool = True, transform: Any = None) -> None:
            VisionDataset.__init__(self, str(root), transform=transform)
            self.train = train
            folder = Path(root) / BATCHES_FOLDER
            self.synthetic = read_manifest(folder) is not None
            parts = [read_images(folder / name) for name in (TRAIN_FILES if train else TEST_FILES)]
            images = np.concatenate([data for data, _ in parts])
            self.data = images.transpose((0, 2, 3, 1))  # N×H×W×C, as torchvision keeps it
            self.targets = [int(label) for _, labels in parts for label in labels]
            self._load_meta()

        def _load_meta(self) -> None:
            meta = read_batch(Path(self.root) / BATCHES_FOLDER / META_FILE[0], ("label_names",))
            self.classes = list(meta["label_names"])
            self.class_to_idx = {name: index for index, name in enumerate(self.classes)}

    PtmCIFAR10.__qualname__ = "PtmCIFAR10"
    PtmCIFAR10.__module__ = __name__
    _DATASET_CLASS.append(PtmCIFAR10)
    return PtmCIFAR10


# -- making sure the data is there -------------------------------------------------------


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Give network reads without a timeout of their own (torchvision's) ``seconds``."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _missing_message(root: Path, reason: str) -> str:
    return (
        f"CIFAR-10 is not available: {reason}.\n"
        f"  ptm looked in: {root}\n"
        f"  for the folder {BATCHES_FOLDER}/ or the archive {ARCHIVE_NAME}.\n"
        f"  To fix it: on a machine with internet, download {CIFAR10_URL} (about 170 MB)\n"
        f"  and copy it into that folder; ptm unpacks it the next time it loads. Or set\n"
        f"  PTM_DATA_DIR (or pass data_dir=) to a folder that holds {BATCHES_FOLDER}/."
    )


def _download(root: Path) -> None:
    """Download and unpack the archive into ``root``; remove the folders this made if it fails."""
    from torchvision.datasets.utils import download_and_extract_archive

    created = [folder for folder in (root, *root.parents) if not folder.exists()]
    writable_folder(root)
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT):  # a silent network fails instead of hanging
            download_and_extract_archive(
                CIFAR10_URL, str(root), filename=ARCHIVE_NAME, md5=ARCHIVE_MD5
            )
    except (urllib.error.URLError, OSError, RuntimeError) as error:
        for folder in created:  # the deepest first: only what this call made, if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise CifarNotFoundError(
            _missing_message(root, f"it is not there and the download failed ({error})")
        ) from None


def ensure_cifar10(data_dir: Path, download: bool) -> dict[str, Any] | None:
    """Make sure ``data_dir`` holds an intact ``cifar-10-batches-py/``: unpack the archive if
    only that is there, else download it; then check every file.

    Returns:
        The stand-in's manifest, or None for real CIFAR-10.
    """
    folder, archive = data_dir / BATCHES_FOLDER, data_dir / ARCHIVE_NAME
    if not folder.is_dir() and archive.is_file():
        if not _file_is_intact(archive, ARCHIVE_MD5):
            raise CifarCorruptedError(
                f"the CIFAR-10 archive {archive} is incomplete or corrupted (its MD5 checksum "
                "does not match). ptm does not delete or overwrite data: remove it by hand and "
                "load again to download a fresh copy, or copy a good one in its place."
            )
        from torchvision.datasets.utils import extract_archive

        try:
            extract_archive(str(archive), str(data_dir))  # creates the folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # a half-unpacked folder of our own
            raise
    if not folder.is_dir():
        if not download:
            raise CifarNotFoundError(
                _missing_message(data_dir, "it is not there and download=False")
            )
        _download(data_dir)
    manifest = read_manifest(folder)
    verify_folder(folder, manifest)
    return manifest


def load_cifar10(
    train: bool = True,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    transform: Any = None,
) -> Any:
    """Load CIFAR-10's training (50,000) or validation (10,000) images (DLwPT §7.1.1).

    Args:
        train: the training split if True, else the validation (test) split.
        data_dir: the folder holding ``cifar-10-batches-py/``; `default_data_dir` if None.
        download: download the archive when neither the folder nor the archive is there.
        transform: applied to each PIL image on indexing, e.g. ``transforms.ToTensor()``.

    Returns:
        A torchvision ``CIFAR10`` dataset: ``len(dataset)``, and ``dataset[i]`` gives
        ``(image, label)``; ``dataset.data`` holds the raw N×32×32×3 uint8 images,
        ``dataset.targets`` the labels and ``dataset.synthetic`` says whether the files
        are ptm's stand-in.

    Raises:
        CifarNotFoundError: no data there and no download possible; the message says
            where ptm looked and how to put the data there by hand.
        CifarCorruptedError: a file is truncated, corrupted or unsafe; the message names it.
    """
    data_dir = resolve_data_dir(data_dir)
    ensure_cifar10(data_dir, download)
    return open_dataset(data_dir, train=train, transform=transform)
