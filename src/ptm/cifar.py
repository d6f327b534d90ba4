"""CIFAR-10 and CIFAR-2: loading, statistics, normalisation (DLwPT §7.1–§7.2.1).

CIFAR-10 holds 60,000 colour images of 32×32 pixels in ten classes. Chapter 7 loads it
through torchvision, measures the per-channel mean and standard deviation, normalises
with them, and keeps only airplanes and birds (CIFAR-2).

Loading goes through ``torchvision.datasets.CIFAR10`` with its download and checksum
checks, plus two promises of ptm's own: a clear message when the data is missing or
damaged, and nothing in the data folder is ever deleted or overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import socket
import urllib.error
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchvision import datasets, transforms
from torchvision.datasets.utils import download_and_extract_archive, extract_archive

from ptm.checkpoint import atomic_torch_save

__all__ = [
    "ARCHIVE_NAME",
    "BATCHES_FOLDER",
    "CIFAR2_CLASS_NAMES",
    "CIFAR2_LABEL_MAP",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "CLASS_NAMES",
    "STANDIN_MANIFEST",
    "CheckedCIFAR10",
    "Cifar2",
    "CifarCorruptedError",
    "CifarDataError",
    "CifarNotFoundError",
    "channel_stats",
    "cifar2_list",
    "cifar2_tensors",
    "cifar10_transform",
    "default_data_dir",
    "load_cifar2",
    "load_cifar10",
    "normalize_images",
    "project_root",
    "resolve_data_dir",
    "unnormalize",
]

CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
"""CIFAR-10's class names, indexed by label (DLwPT §7.1.1)."""

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
"""Per-channel (R, G, B) mean of the 50,000 training images, as published (DLwPT §7.1.4)."""

CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""Per-channel (R, G, B) standard deviation of the training images, as published (§7.1.4)."""

CIFAR2_LABEL_MAP = {0: 0, 2: 1}
"""CIFAR-10 label → CIFAR-2 label: airplane (0) → 0, bird (2) → 1 (DLwPT §7.2.1)."""

CIFAR2_CLASS_NAMES = ("airplane", "bird")

CIFAR10_URL = datasets.CIFAR10.url
ARCHIVE_NAME = datasets.CIFAR10.filename  # cifar-10-python.tar.gz
BATCHES_FOLDER = datasets.CIFAR10.base_folder  # cifar-10-batches-py
STANDIN_MANIFEST = "ptm-standin-manifest.json"
"""Written by `ptm.write_standin_cifar10` beside its files: their checksums, and a flag
saying the data is synthetic. Real CIFAR-10 folders never contain it."""

DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is given up
CACHE_FOLDER = "ptm-cache"
CACHE_FORMAT = 1


class CifarDataError(Exception):
    """CIFAR-10 is missing or damaged; the message says where and what to do."""


class CifarNotFoundError(CifarDataError, FileNotFoundError):
    """CIFAR-10 is not in the data folder and could not be downloaded."""


class CifarCorruptedError(CifarDataError, ValueError):
    """A CIFAR-10 file is truncated or corrupted (its checksum does not match)."""


def project_root() -> Path | None:
    """The ptm checkout this package runs from (editable install), else the nearest
    folder above the working directory that holds ``data-unversioned/``, else None."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "ptm").is_dir():
            return parent
    cwd = Path.cwd().resolve()
    for parent in (cwd, *cwd.parents):
        if (parent / "data-unversioned").is_dir():
            return parent
    return None


def default_data_dir() -> Path:
    """Where CIFAR-10 lives: ``$PTM_DATA_DIR`` if set, else ``data-unversioned/p1ch7/``
    at the project root, whatever the notebook's working directory (DLwPT §7.1.1)."""
    from_environment = os.environ.get("PTM_DATA_DIR")
    if from_environment:
        return Path(from_environment).expanduser()
    return (project_root() or Path.cwd()) / "data-unversioned" / "p1ch7"


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """``data_dir`` as a Path, or `default_data_dir` when it is None."""
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


# -- checking files ------------------------------------------------------------------

_verified: dict[tuple[str, str, int, int], bool] = {}  # (path, md5, size, mtime) → intact


def _file_is_intact(path: Path, md5: str) -> bool:
    """True when ``path`` exists and its MD5 is ``md5``. Each file is hashed once per
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


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / STANDIN_MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
        if manifest["format"] != "ptm-standin-cifar10" or not isinstance(manifest["files"], dict):
            raise KeyError("format")
    except (ValueError, KeyError, TypeError) as error:
        raise CifarCorruptedError(f"stand-in manifest {path} is not readable ({error})") from None
    missing = sorted(set(_expected_files(None)) - set(manifest["files"]))
    if missing:
        raise CifarCorruptedError(f"stand-in manifest {path} lists no checksum for {missing}")
    return manifest


def _expected_files(manifest: dict[str, Any] | None) -> dict[str, str]:
    """File name → MD5 for a CIFAR-10 folder: torchvision's record, or a stand-in's manifest."""
    if manifest is not None:
        return dict(manifest["files"])
    cifar = datasets.CIFAR10
    files = {name: md5 for name, md5 in cifar.train_list + cifar.test_list}
    files[cifar.meta["filename"]] = cifar.meta["md5"]
    return files


class CheckedCIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR10 with checksums computed once per process, and able to read
    ptm's synthetic stand-in files against their manifest (DLwPT §7.1.1–§7.1.2).

    Attributes:
        synthetic: True when the files are ptm's stand-in, not CIFAR-10.
    """

    synthetic = False

    def __init__(
        self,
        root: str | Path,
        train: bool = True,
        transform: Any = None,
        target_transform: Any = None,
        download: bool = False,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        if manifest is not None:  # check the stand-in against its own checksums
            files = manifest["files"]
            self.train_list = [[name, files[name]] for name, _ in datasets.CIFAR10.train_list]
            self.test_list = [[name, files[name]] for name, _ in datasets.CIFAR10.test_list]
            self.meta = {**datasets.CIFAR10.meta, "md5": files[datasets.CIFAR10.meta["filename"]]}
            self.synthetic = True
        super().__init__(
            root,
            train=train,
            transform=transform,
            target_transform=target_transform,
            download=download,
        )

    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return all(
            _file_is_intact(folder / name, md5) for name, md5 in self.train_list + self.test_list
        )


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
        f"  To fix it: on a machine with internet, download {CIFAR10_URL} (about 163 MB)\n"
        f"  and copy it into that folder; ptm unpacks it the next time it loads. Or set\n"
        f"  PTM_DATA_DIR (or pass data_dir=) to a folder that holds {BATCHES_FOLDER}/."
    )


def _verify_folder(folder: Path, manifest: dict[str, Any] | None) -> None:
    """Raise a clear error naming the first missing or damaged file in a CIFAR-10 folder."""
    expected = _expected_files(manifest)
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


def load_cifar10(
    train: bool = True,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    transform: Any = None,
) -> CheckedCIFAR10:
    """Load CIFAR-10's training (50,000) or validation (10,000) images (DLwPT §7.1.1).

    Args:
        train: the training split if True, else the validation (test) split.
        data_dir: the folder holding ``cifar-10-batches-py/``; `default_data_dir` if None.
        download: download the archive when neither the folder nor the archive is there.
        transform: applied to each PIL image on indexing, e.g. `cifar10_transform`.

    Returns:
        A torchvision ``CIFAR10`` dataset (`CheckedCIFAR10`): ``len(dataset)``, and
        ``dataset[i]`` gives ``(image, label)``; ``dataset.data`` holds the raw
        N×32×32×3 uint8 images and ``dataset.targets`` the labels.

    Raises:
        CifarNotFoundError: no data there and no download possible; the message says
            where ptm looked and how to put the data there by hand.
        CifarCorruptedError: a file is truncated or corrupted; the message names it.
    """
    root = resolve_data_dir(data_dir)
    manifest = _ensure_cifar10(root, download)
    return CheckedCIFAR10(root, train=train, transform=transform, manifest=manifest)


def _ensure_cifar10(root: Path, download: bool) -> dict[str, Any] | None:
    """Make sure ``root`` holds an intact ``cifar-10-batches-py/``: unpack the archive if
    only that is there, else download it through torchvision; then check every file.

    Returns:
        The stand-in's manifest, or None for real CIFAR-10.
    """
    folder, archive = root / BATCHES_FOLDER, root / ARCHIVE_NAME
    if not folder.is_dir() and archive.is_file():
        if not _file_is_intact(archive, datasets.CIFAR10.tgz_md5):
            raise CifarCorruptedError(
                f"the CIFAR-10 archive {archive} is incomplete or corrupted (its MD5 checksum "
                "does not match). ptm does not delete or overwrite data: remove it by hand and "
                "load again to download a fresh copy, or copy a good one in its place."
            )
        extract_archive(str(archive), str(root))  # creates the folder, which is not there yet
    if not folder.is_dir():
        if not download:
            raise CifarNotFoundError(_missing_message(root, "it is not there and download=False"))
        try:
            root.mkdir(parents=True, exist_ok=True)
            with _socket_timeout(DOWNLOAD_TIMEOUT):  # a silent network fails instead of hanging
                cifar = datasets.CIFAR10  # its own download: archive, checksum, unpacking
                download_and_extract_archive(
                    cifar.url, str(root), filename=cifar.filename, md5=cifar.tgz_md5
                )
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            raise CifarNotFoundError(
                _missing_message(root, f"it is not there and the download failed ({error})")
            ) from None
    manifest = _read_manifest(folder)
    _verify_folder(folder, manifest)
    return manifest


# -- statistics and normalisation (§7.1.4) -------------------------------------------


def _as_tensor_view(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (copied only for negative strides), read-only use."""
    if any(stride < 0 for stride in array.strides):  # e.g. a flipped view
        array = np.ascontiguousarray(array)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


def channel_stats(images: np.ndarray, chunk_size: int = 2048) -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation of raw uint8 images (DLwPT §7.1.4).

    One streaming pass in chunks: it counts how often each of the 256 values occurs in
    each channel, then computes the statistics of the values scaled to [0, 1] in float64.
    The counts are exact, so the result equals stacking every image as floats (the
    notes' way) without the gigabytes that costs. The standard deviation is the
    sample one (divides by n - 1), like ``torch.std``.

    Args:
        images: N×H×W×C uint8, e.g. ``load_cifar10().data``.
        chunk_size: images per chunk; bounds the extra memory.

    Returns:
        ``(mean, std)``, two float64 tensors of C values, e.g. ≈ (0.4914, 0.4822, 0.4465)
        and (0.2470, 0.2435, 0.2616) for CIFAR-10's training images.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"expected N×H×W×C uint8 images, got dtype {images.dtype} and shape {images.shape}"
        )
    if images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"expected channels last (N×H×W×C with C = 1, 3 or 4), got shape {images.shape}"
        )
    if len(images) == 0:
        raise ValueError("no images: cannot compute statistics of an empty array")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    n_channels = images.shape[-1]
    pixels = _as_tensor_view(images)
    channel_counts = torch.zeros((n_channels, 256), dtype=torch.int64)
    for start in range(0, len(images), chunk_size):
        chunk = pixels[start : start + chunk_size]
        for channel in range(n_channels):
            # torch counts uint8 values as they are; numpy would first copy them to int64
            channel_counts[channel] += torch.bincount(
                chunk[..., channel].reshape(-1), minlength=256
            )
    counts = channel_counts.numpy()
    values = np.arange(256, dtype=np.float64) / 255.0
    n_values = counts.sum(axis=1)
    mean = counts @ values / n_values
    variance = (counts * (values[None, :] - mean[:, None]) ** 2).sum(axis=1) / (n_values - 1)
    return torch.from_numpy(mean), torch.from_numpy(np.sqrt(variance))


def cifar10_transform(
    mean: Sequence[float] = CIFAR10_MEAN, std: Sequence[float] = CIFAR10_STD
) -> transforms.Compose:
    """The notes' per-image pipeline: ``Compose([ToTensor(), Normalize(mean, std)])`` (§7.1.4)."""
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])


def _stats_tensor(values: Sequence[float], name: str) -> Tensor:
    tensor = torch.as_tensor(values, dtype=torch.float32)
    if tensor.dim() != 1:
        raise ValueError(f"{name} must be a sequence of per-channel values, got {values!r}")
    if name == "std" and bool((tensor <= 0).any()):
        raise ValueError(f"std must be positive for every channel, got {values!r}")
    return tensor


def normalize_images(
    images: np.ndarray | Tensor,
    mean: Sequence[float] = CIFAR10_MEAN,
    std: Sequence[float] = CIFAR10_STD,
) -> Tensor:
    """Raw N×H×W×C uint8 images → normalised N×C×H×W float32, vectorised (DLwPT §7.1.4).

    The same arithmetic as ``ToTensor()`` then ``Normalize(mean, std)`` applied to each
    image, in the same order, so the values are identical; but one tensor operation
    over all images instead of a Python loop.
    """
    pixels = _as_tensor_view(images) if isinstance(images, np.ndarray) else images
    if pixels.dtype != torch.uint8 or pixels.dim() != 4:
        raise ValueError(
            f"expected N×H×W×C uint8 images, got {pixels.dtype} of shape {tuple(pixels.shape)}"
        )
    return _normalize_channels_first(pixels.permute(0, 3, 1, 2), mean, std)


def _normalize_channels_first(
    pixels: Tensor, mean: Sequence[float], std: Sequence[float]
) -> Tensor:
    """uint8 N×C×H×W → float32 ``(pixels / 255 - mean) / std``, as ToTensor + Normalize do."""
    mean_tensor, std_tensor = _stats_tensor(mean, "mean"), _stats_tensor(std, "std")
    n_channels = pixels.shape[1]
    if len(mean_tensor) != n_channels or len(std_tensor) != n_channels:
        raise ValueError(
            f"mean and std need {n_channels} values (one per channel), got {len(mean_tensor)}"
            f" and {len(std_tensor)}"
        )
    result = pixels.contiguous().to(torch.float32).div_(255)
    return result.sub_(mean_tensor.view(1, -1, 1, 1)).div_(std_tensor.view(1, -1, 1, 1))


def unnormalize(image: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """Undo `normalize_images` / ``Normalize`` on a C×H×W (or N×C×H×W) tensor (§7.1.4)."""
    shape = (-1, 1, 1)
    return image * _stats_tensor(std, "std").view(shape) + _stats_tensor(mean, "mean").view(shape)


# -- CIFAR-2 (§7.2.1) --------------------------------------------------------------------


def cifar2_list(dataset: datasets.CIFAR10) -> list[tuple[Tensor, int]]:
    """The notes' CIFAR-2: a list of (image, label) with labels mapped by
    `CIFAR2_LABEL_MAP`, each image passed through the dataset's transform (DLwPT §7.2.1).

    Kept for fidelity to the book; `cifar2_tensors` builds the same values much faster.
    Only airplanes and birds are transformed (the notes transform all 50,000 images).
    """
    labels = np.asarray(dataset.targets)
    keep = np.flatnonzero(np.isin(labels, list(CIFAR2_LABEL_MAP)))
    items = []
    for index in keep:
        image, label = dataset[int(index)]
        items.append((image, CIFAR2_LABEL_MAP[label]))
    return items


@dataclass(frozen=True)
class Cifar2:
    """Airplanes and birds as tensors, ready for training (DLwPT §7.2.1).

    Attributes:
        train_images, val_images: normalised float32 images, N×3×32×32.
        train_labels, val_labels: int64 labels, 0 for airplane and 1 for bird.
        mean, std: the normalisation used.
        synthetic: True when built from ptm's stand-in files, not CIFAR-10.
    """

    train_images: Tensor
    train_labels: Tensor
    val_images: Tensor
    val_labels: Tensor
    mean: tuple[float, ...] = CIFAR10_MEAN
    std: tuple[float, ...] = CIFAR10_STD
    synthetic: bool = False
    class_names: tuple[str, ...] = CIFAR2_CLASS_NAMES

    @property
    def train(self) -> tuple[Tensor, Tensor]:
        """``(train_images, train_labels)``."""
        return self.train_images, self.train_labels

    @property
    def val(self) -> tuple[Tensor, Tensor]:
        """``(val_images, val_labels)``."""
        return self.val_images, self.val_labels


def _keep_cifar2(pixels: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """The airplanes and birds among uint8 N×C×H×W images, labels mapped to 0 and 1."""
    keep = torch.nonzero(torch.isin(labels, torch.tensor(list(CIFAR2_LABEL_MAP)))).flatten()
    kept_labels = labels[keep]
    new_labels = torch.zeros_like(kept_labels)
    for old, new in CIFAR2_LABEL_MAP.items():
        new_labels[kept_labels == old] = new
    return pixels.index_select(0, keep), new_labels


def _select_cifar2(
    dataset: datasets.CIFAR10, mean: Sequence[float], std: Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Airplanes and birds of a loaded split: normalised images and labels 0 and 1."""
    # torchvision keeps the images channels-first in memory and shows them channels-last,
    # so permuting back is free and whole images are copied at once
    pixels = _as_tensor_view(np.asarray(dataset.data)).permute(0, 3, 1, 2)
    kept, labels = _keep_cifar2(pixels, torch.as_tensor(dataset.targets, dtype=torch.long))
    return _normalize_channels_first(kept, mean, std), labels


def _read_cifar2(
    folder: Path, file_names: Sequence[str], mean: Sequence[float], std: Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Airplanes and birds straight from checked batch files: normalised images, labels.

    Each file is a pickled dictionary of ``data`` (rows of 3,072 bytes, channel after
    channel) and ``labels``, read as torchvision reads it; keeping CIFAR-2's images file by
    file means all 50,000 images are never in memory at once.
    """
    kept_pixels, kept_labels = [], []
    for name in file_names:
        with (folder / name).open("rb") as file:
            entry = pickle.load(file, encoding="latin1")
        pixels = torch.from_numpy(np.asarray(entry["data"], dtype=np.uint8)).view(-1, 3, 32, 32)
        kept, labels = _keep_cifar2(pixels, torch.as_tensor(entry["labels"], dtype=torch.long))
        kept_pixels.append(kept)
        kept_labels.append(labels)
    return _normalize_channels_first(torch.cat(kept_pixels), mean, std), torch.cat(kept_labels)


def cifar2_tensors(
    train_dataset: datasets.CIFAR10,
    val_dataset: datasets.CIFAR10,
    mean: Sequence[float] = CIFAR10_MEAN,
    std: Sequence[float] = CIFAR10_STD,
) -> Cifar2:
    """CIFAR-2 as tensors, built from the raw uint8 arrays without a Python loop over
    images (DLwPT §7.2.1). Same values as `cifar2_list` over a transformed dataset."""
    train_images, train_labels = _select_cifar2(train_dataset, mean, std)
    val_images, val_labels = _select_cifar2(val_dataset, mean, std)
    return Cifar2(
        train_images,
        train_labels,
        val_images,
        val_labels,
        mean=tuple(float(m) for m in mean),
        std=tuple(float(s) for s in std),
        synthetic=bool(getattr(train_dataset, "synthetic", False)),
    )


def _cache_path(root: Path, mean: Sequence[float], std: Sequence[float]) -> Path | None:
    """The cache file for these data files and this normalisation, or None without data.

    The key covers each file's name, size and modification time, the statistics, the
    label map and the cache format, so changed data or normalisation never hits an old
    entry. (Files are checksummed when the cache entry is first built.)
    """
    folder = root / BATCHES_FOLDER
    if not folder.is_dir():
        return None
    files = sorted(path for path in folder.iterdir() if path.is_file())
    description = {
        "format": CACHE_FORMAT,
        "files": [(path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in files],
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "label_map": sorted(CIFAR2_LABEL_MAP.items()),
    }
    key = hashlib.sha256(json.dumps(description).encode()).hexdigest()[:20]
    return root / CACHE_FOLDER / f"cifar2-{key}.pt"


def _read_cache(path: Path) -> dict[str, Any] | None:
    """The tensors stored in a cache file, or None (with a warning) if it is unreadable."""
    try:
        # mapped, not read: pages load as they are used, and loading is almost instant
        return torch.load(path, weights_only=True, mmap=True)
    except (RuntimeError, EOFError, ValueError, OSError, pickle.UnpicklingError) as error:
        warnings.warn(
            f"the CIFAR-2 cache {path} is unreadable ({type(error).__name__}); building the "
            "tensors from the data instead. Delete the file to let ptm cache them again.",
            stacklevel=3,
        )
        return None


def load_cifar2(
    data_dir: str | Path | None = None,
    *,
    mean: Sequence[float] = CIFAR10_MEAN,
    std: Sequence[float] = CIFAR10_STD,
    cache: bool = True,
    download: bool = True,
) -> Cifar2:
    """Load airplanes and birds from CIFAR-10 as normalised tensors (DLwPT §7.2.1).

    10,000 training and 2,000 validation images from the real data. With ``cache``,
    the tensors are saved under ``<data_dir>/ptm-cache/`` and later calls load them
    directly; a different normalisation or changed data files get a new cache entry.

    Raises:
        CifarNotFoundError, CifarCorruptedError: as `load_cifar10`.
    """
    root = resolve_data_dir(data_dir)
    path = _cache_path(root, mean, std) if cache else None
    stored = _read_cache(path) if path is not None and path.is_file() else None
    if stored is not None:
        return Cifar2(
            stored["train_images"],
            stored["train_labels"],
            stored["val_images"],
            stored["val_labels"],
            mean=tuple(stored["mean"]),
            std=tuple(stored["std"]),
            synthetic=bool(stored["synthetic"]),
        )
    manifest = _ensure_cifar10(root, download)  # download or unpack if needed, check files
    folder = root / BATCHES_FOLDER
    cifar = datasets.CIFAR10
    train_images, train_labels = _read_cifar2(folder, [n for n, _ in cifar.train_list], mean, std)
    val_images, val_labels = _read_cifar2(folder, [n for n, _ in cifar.test_list], mean, std)
    cifar2 = Cifar2(
        train_images, train_labels, val_images, val_labels,
        mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std),
        synthetic=manifest is not None,
    )  # fmt: skip
    path = _cache_path(root, mean, std) if cache else None  # the folder may be new now
    if path is not None and not path.exists():
        try:
            atomic_torch_save(
                {
                    "train_images": cifar2.train_images,
                    "train_labels": cifar2.train_labels,
                    "val_images": cifar2.val_images,
                    "val_labels": cifar2.val_labels,
                    "mean": list(cifar2.mean),
                    "std": list(cifar2.std),
                    "synthetic": cifar2.synthetic,
                },
                path,
            )
        except OSError as error:  # e.g. a read-only data folder: carry on without the cache
            warnings.warn(f"could not write the CIFAR-2 cache {path}: {error}", stacklevel=2)
    return cifar2
