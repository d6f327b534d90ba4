"""Synthetic stand-in data in CIFAR-10's on-disk format, and the choice of data source.

CIFAR-10 cannot be downloaded everywhere (CI machines, offline laptops). The stand-in
writes small ``cifar-10-batches-py`` pickles whose images carry class-dependent
structure, so the real loading code runs on them and a classifier visibly learns.
Its accuracy figures are not CIFAR-10's, and everything built on it says so.

A manifest beside the files records their MD5 checksums and marks them as synthetic;
the loader checks the files against it. Real downloads are still checked against
torchvision's own checksums.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ptm.cifar_files import (
    ARCHIVE_NAME,
    BATCHES_FOLDER,
    CLASS_NAMES,
    CifarDataError,
    ensure_cifar10,
    write_manifest,
)
from ptm.data_folder import default_data_dir, resolve_data_dir, writable_folder
from ptm.texts import check_language, say

__all__ = [
    "STANDIN_BANNER",
    "DataSource",
    "choose_data_source",
    "write_standin_cifar10",
]

STANDIN_BANNER = "synthetic stand-in data: accuracy figures are not CIFAR-10's"

SIZES = {"smoke": (200, 50), "full": (1000, 200)}
"""Images per class (train, validation) of the stand-in used by smoke runs and offline runs."""

N_TRAIN_BATCHES = 5
IMAGE_SIZE = 32


def _class_shapes(size: int = IMAGE_SIZE) -> np.ndarray:
    """Ten object masks, one per class (cross, disk, bars, ring, ...), centred, size×size."""
    y, x = np.mgrid[0:size, 0:size] - (size - 1) / 2
    radius = np.hypot(x, y)
    shapes = [
        (np.abs(y) < 2) & (np.abs(x) < 12) | (np.abs(x) < 2) & (np.abs(y) < 9),  # plane-like cross
        (np.abs(x) < 11) & (np.abs(y) < 4),  # long horizontal body
        radius < 7,  # round body
        (radius > 5) & (radius < 9),  # ring
        (np.abs(x) + np.abs(y)) < 9,  # diamond
        (np.abs(x) < 8) & (np.abs(y) < 8),  # square
        np.abs(np.abs(x) - np.abs(y)) < 2,  # X
        (np.abs(x) < 2) | (np.abs(y - 6) < 2) & (np.abs(x) < 10),  # T, upside down
        (y > -4) & (np.abs(x) < 12 - np.abs(y + 4)) & (y < 6),  # hull
        (np.abs(x) < 12) & (np.abs(y) < 7) & ~((np.abs(x) < 4) & (y < 0)),  # cab and box
    ]
    return np.stack([shape.astype(np.float32) for shape in shapes])


def _make_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images for ``labels`` as N×3×32×32 uint8: a class-specific shape on a background.

    Colours are drawn per image from one distribution for all classes, with only a small
    class-dependent tint, so a classifier has to use the shape, which sits near the
    centre (moved by up to 2 pixels). That also makes accuracy fall when the images are
    shifted further, as with real photographs (§7.2.7).
    """
    tints = np.random.default_rng(1234).normal(0, 30, size=(10, 3))  # fixed per class
    shapes = _class_shapes()
    n_images = len(labels)
    background = rng.uniform(50, 205, size=(n_images, 3)) + tints[labels]
    contrast = rng.choice([-1.0, 1.0], size=(n_images, 1)) * rng.uniform(
        60, 100, size=(n_images, 3)
    )
    masks = shapes[labels]
    for index, (dy, dx) in enumerate(rng.integers(-2, 3, size=(n_images, 2))):
        masks[index] = np.roll(masks[index], (dy, dx), axis=(0, 1))
    images = (
        background[:, :, None, None]
        + contrast[:, :, None, None] * masks[:, None]
        + rng.normal(0, 18, size=(n_images, 3, IMAGE_SIZE, IMAGE_SIZE))
    )
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def _balanced_labels(n_per_class: int, rng: np.random.Generator) -> np.ndarray:
    labels = np.repeat(np.arange(len(CLASS_NAMES)), n_per_class)
    return rng.permutation(labels)


def _write_pickle(path: Path, entry: dict) -> str:
    data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(data)
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def write_standin_cifar10(
    data_dir: str | Path, n_train_per_class: int = 100, n_val_per_class: int = 20, seed: int = 0
) -> Path:
    """Write a synthetic dataset in CIFAR-10's on-disk format under ``data_dir`` (DLwPT §7.1.1).

    Creates ``data_dir/cifar-10-batches-py/`` with ``data_batch_1`` … ``data_batch_5``,
    ``test_batch``, ``batches.meta`` (pickled dictionaries of N×3072 uint8 rows and
    labels, like the real files) and a manifest with their checksums. The folder is
    assembled elsewhere and renamed into place, so it is complete or absent. An
    existing folder is left untouched.

    Args:
        data_dir: the folder that will hold ``cifar-10-batches-py/``.
        n_train_per_class: training images per class (CIFAR-10 has 5,000).
        n_val_per_class: validation images per class (CIFAR-10 has 1,000).
        seed: the random seed; the same arguments always write the same bytes.

    Returns:
        ``data_dir``.

    Raises:
        FileExistsError: ``data_dir`` already holds a ``cifar-10-batches-py`` folder.
    """
    if n_train_per_class < N_TRAIN_BATCHES or n_val_per_class < 1:
        raise ValueError(
            f"need at least {N_TRAIN_BATCHES} training and 1 validation image per class, got "
            f"{n_train_per_class} and {n_val_per_class}"
        )
    data_dir = Path(data_dir)
    target = data_dir / BATCHES_FOLDER
    if target.exists():
        raise FileExistsError(f"{target} already exists; ptm does not overwrite data")
    writable_folder(data_dir)
    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix=".standin-", dir=data_dir))
    try:
        checksums = {}
        train_labels = _balanced_labels(n_train_per_class, rng)
        train_images = _make_images(train_labels, rng)
        for number, part in enumerate(
            np.array_split(np.arange(len(train_labels)), N_TRAIN_BATCHES), 1
        ):
            name = f"data_batch_{number}"
            checksums[name] = _write_pickle(work / name, {
                "batch_label": f"synthetic training batch {number} of {N_TRAIN_BATCHES}",
                "labels": train_labels[part].tolist(),
                "data": train_images[part].reshape(len(part), -1),
                "filenames": [f"standin_{index}.png" for index in part],
            })  # fmt: skip
        val_labels = _balanced_labels(n_val_per_class, rng)
        val_images = _make_images(val_labels, rng)
        checksums["test_batch"] = _write_pickle(work / "test_batch", {
            "batch_label": "synthetic testing batch",
            "labels": val_labels.tolist(),
            "data": val_images.reshape(len(val_labels), -1),
            "filenames": [f"standin_test_{index}.png" for index in range(len(val_labels))],
        })  # fmt: skip
        checksums["batches.meta"] = _write_pickle(work / "batches.meta", {
            "label_names": list(CLASS_NAMES),
            "num_cases_per_batch": len(train_labels) // N_TRAIN_BATCHES,
            "num_vis": 3 * IMAGE_SIZE * IMAGE_SIZE,
        })  # fmt: skip
        write_manifest(
            work,
            checksums,
            note=STANDIN_BANNER,
            seed=seed,
            n_train_per_class=n_train_per_class,
            n_val_per_class=n_val_per_class,
        )
        try:
            os.rename(work, target)
        except OSError:
            if target.exists():  # another process finished first
                raise FileExistsError(f"{target} already exists") from None
            raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return data_dir


def standin_data_dir(size: str = "smoke", seed: int = 0) -> Path:
    """The data folder of ptm's stand-in of a given size, written on first use.

    Lives in a folder ``standin/`` beside the real data's folder (by default
    ``data-unversioned/standin/``; with ``PTM_DATA_DIR`` set, next to that folder), one
    subfolder per size and seed, so a stand-in is never mistaken for CIFAR-10.

    Args:
        size: ``"smoke"`` (200 training and 50 validation images per class) or
            ``"full"`` (1,000 and 200).
        seed: the generator's seed.
    """
    if size not in SIZES:
        raise ValueError(f"unknown stand-in size {size!r}: expected one of {sorted(SIZES)}")
    n_train, n_val = SIZES[size]
    base = default_data_dir().resolve().parent / "standin"
    root = base / f"{size}-{n_train}-{n_val}-seed{seed}"
    if not (root / BATCHES_FOLDER).is_dir():
        with contextlib.suppress(FileExistsError):  # written meanwhile by another process
            write_standin_cifar10(root, n_train, n_val, seed)
    return root


BANNERS = {
    "real": {"en": "Data: CIFAR-10 from {folder}.", "ko": "데이터: {folder}의 CIFAR-10."},
    "standin": {
        "en": "NOTE: " + STANDIN_BANNER + " ({why}).",
        "ko": "참고: 합성 대체 데이터(synthetic stand-in)입니다. 정확도는 CIFAR-10의 값이 "
        "아닙니다 ({why}).",
    },
}
WHY = {
    "requested": {"en": "the stand-in was asked for", "ko": "대체 데이터를 요청함"},
    "requested, missing": {
        "en": "the stand-in was asked for; CIFAR-10 is not in {folder}",
        "ko": "대체 데이터를 요청함. {folder}에 CIFAR-10이 없음",
    },
    "unavailable": {"en": "{detail}", "ko": "CIFAR-10을 쓸 수 없음: {detail}"},
    "standin files": {
        "en": "the files in {folder} are a stand-in",
        "ko": "{folder}의 파일이 대체 데이터임",
    },
    "found": {"en": "found CIFAR-10", "ko": "CIFAR-10을 찾음"},
}


@dataclass(frozen=True)
class DataSource:
    """Which CIFAR-10 a notebook or command uses: the real one or the stand-in.

    Attributes:
        data_dir: the folder holding ``cifar-10-batches-py/``; pass it as ``data_dir``.
        synthetic: True for ptm's stand-in.
        cause: why this source was chosen: ``"requested"`` (the stand-in was asked for),
            ``"requested, missing"`` (asked for, and CIFAR-10 is not in its folder: what
            ``make run`` does offline), ``"unavailable"`` (real data missing and not
            downloadable), ``"standin files"`` (the data folder holds a stand-in) or
            ``"found"``.
        detail: what was wrong with the real data, or the folder it is missing from.
        lang: the language of `banner` and `reason` (``"en"`` or ``"ko"``).
    """

    data_dir: Path
    synthetic: bool
    cause: str = "found"
    detail: str = ""
    lang: str = "en"

    @property
    def reason(self) -> str:
        """Why this source was chosen, in words."""
        return say(WHY[self.cause], self.lang, detail=self.detail, folder=self.detail)

    @property
    def banner(self) -> str:
        """A line to show whenever results come from this source."""
        kind = "standin" if self.synthetic else "real"
        return say(BANNERS[kind], self.lang, why=self.reason, folder=self.data_dir)


def choose_data_source(
    data_dir: str | Path | None = None,
    *,
    use_standin: bool = False,
    standin_size: str = "full",
    fallback_to_standin: bool = False,
    download: bool = True,
    lang: str = "en",
) -> DataSource:
    """Decide where chapter 7's data comes from (DLwPT §7.1.1).

    Args:
        data_dir: where real CIFAR-10 lives; `default_data_dir` if None.
        use_standin: use the synthetic stand-in without looking for real data.
        standin_size: ``"smoke"`` or ``"full"``, see `standin_data_dir`.
        fallback_to_standin: when real data is missing and cannot be downloaded, use
            the stand-in instead of raising.
        download: try to download CIFAR-10 when it is missing.
        lang: the language of the source's banner, ``"en"`` or ``"ko"``.

    Raises:
        CifarDataError: real data is missing or damaged and no fallback was allowed.
    """
    check_language(lang)
    real_dir = resolve_data_dir(data_dir)
    if use_standin:
        present = (real_dir / BATCHES_FOLDER).is_dir() or (real_dir / ARCHIVE_NAME).is_file()
        cause = "requested" if present else "requested, missing"
        return DataSource(standin_data_dir(standin_size), True, cause, str(real_dir), lang)
    try:
        manifest = ensure_cifar10(real_dir, download)  # the files checked; no image unpickled
    except CifarDataError as error:
        if not fallback_to_standin:
            raise
        first_line = str(error).splitlines()[0]
        return DataSource(standin_data_dir(standin_size), True, "unavailable", first_line, lang)
    if manifest is not None:
        return DataSource(real_dir, True, "standin files", str(real_dir), lang)
    return DataSource(real_dir, False, "found", lang=lang)
