"""The data the benchmarks run on: real CIFAR-10 when it is there, else a stand-in of its size.

The stand-in is ptm's synthetic data written in CIFAR-10's on-disk format, with as many
images as CIFAR-10 (5,000 training and 1,000 validation images per class), so that both
sides read, decode and transform exactly as much as they would on the real files.

The benchmarks never write into the real data's folder: they work in a folder of their
own whose ``cifar-10-batches-py`` is a link to the real one, so ptm's cache entries (and
their removal before each run) stay inside the benchmark's folder.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import ptm
import ptm.cifar
from ptm.cifar import BATCHES_FOLDER, CACHE_FOLDER

STANDIN_SEED = 0


@dataclass(frozen=True)
class BenchmarkData:
    """Where the benchmarks' CIFAR-10 files are, and what they are.

    Attributes:
        path: the folder holding ``cifar-10-batches-py/``, owned by the benchmark; pass
            it as ``data_dir``.
        synthetic: True for ptm's stand-in, False for real CIFAR-10.
        files: where the files really are (the link's target for real data).
        n_train_images, n_val_images: CIFAR-10 images in each split.
    """

    path: Path
    synthetic: bool
    files: Path
    n_train_images: int
    n_val_images: int

    @property
    def description(self) -> str:
        """E.g. "CIFAR-10 (50,000 + 10,000 images)" or "stand-in (synthetic, ...)"."""
        sizes = f"{self.n_train_images:,} + {self.n_val_images:,} images"
        return f"stand-in (synthetic, {sizes})" if self.synthetic else f"CIFAR-10 ({sizes})"


def standin_data(data_dir: Path, n_train_per_class: int, n_val_per_class: int) -> BenchmarkData:
    """ptm's stand-in under ``data_dir``, written on first use and reused afterwards."""
    root = Path(data_dir) / f"standin-{n_train_per_class}-{n_val_per_class}-seed{STANDIN_SEED}"
    if not (root / BATCHES_FOLDER).is_dir():
        with contextlib.suppress(FileExistsError):  # written meanwhile by another run
            ptm.write_standin_cifar10(root, n_train_per_class, n_val_per_class, seed=STANDIN_SEED)
    n_classes = len(ptm.CLASS_NAMES)
    return BenchmarkData(
        root,
        True,
        root / BATCHES_FOLDER,
        n_classes * n_train_per_class,
        n_classes * n_val_per_class,
    )


def find_real_cifar10(cifar_dir: Path | None = None) -> Path | None:
    """The folder holding real CIFAR-10 (checked, never downloaded), or None.

    Looks in ``cifar_dir``, by default ptm's `default_data_dir` (``$PTM_DATA_DIR`` or
    ``data-unversioned/p1ch7``). A stand-in found there does not count.
    """
    root = Path(cifar_dir) if cifar_dir is not None else ptm.default_data_dir()
    try:
        dataset = ptm.load_cifar10(False, root, download=False)
    except ptm.CifarDataError:
        return None
    return None if dataset.synthetic else root


def real_data(data_dir: Path, cifar_root: Path) -> BenchmarkData:
    """A benchmark-owned folder under ``data_dir`` whose batches folder links to real CIFAR-10."""
    workspace = Path(data_dir) / "cifar10-workspace"
    link = workspace / BATCHES_FOLDER
    target = (Path(cifar_root) / BATCHES_FOLDER).resolve()
    if link.is_symlink() and link.resolve() != target:
        link.unlink()  # our own link, pointing at an older location
    if not link.is_symlink():
        workspace.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target, target_is_directory=True)
    n_train = len(ptm.load_cifar10(True, workspace, download=False))
    n_val = len(ptm.load_cifar10(False, workspace, download=False))
    return BenchmarkData(workspace, False, target, n_train, n_val)


def clear_ptm_cache(data: BenchmarkData) -> None:
    """Remove ptm's CIFAR-2 cache from the benchmark's own folder (never from real data)."""
    cache = data.path / CACHE_FOLDER
    if cache.resolve().is_relative_to(data.files):
        raise RuntimeError(f"refusing to remove {cache}: it lies inside the data files' folder")
    shutil.rmtree(cache, ignore_errors=True)


def forget_checksums() -> None:
    """Make ptm hash the data files again, as a fresh process would.

    ptm remembers, per process, which files it has already checked
    (``ptm.cifar._verified``); a "cold" load clears that memory first.
    """
    ptm.cifar._verified.clear()
