"""CIFAR-10 as tensors: statistics, normalisation and CIFAR-2 (DLwPT §7.1.3–§7.2.1).

Chapter 7 turns images into tensors, measures each channel's mean and standard deviation,
normalises with them and keeps only airplanes and birds (CIFAR-2). This module does that
on the raw uint8 arrays, without a Python loop over images, and caches CIFAR-2 beside the
data in a plain binary file (no pickle) whose checksums are verified on every load: a
damaged cache is reported once and rebuilt, never returned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import warnings
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from torch import Tensor

from ptm.cifar_files import (
    BATCHES_FOLDER,
    TEST_FILES,
    TRAIN_FILES,
    ensure_cifar10,
    read_images,
)
from ptm.data_folder import resolve_data_dir
from ptm.files import atomic_write

__all__ = [
    "CIFAR2_CLASS_NAMES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "NOTES_MEAN",
    "NOTES_STD",
    "Cifar2",
    "channel_stats",
    "cifar2_list",
    "load_cifar2",
    "normalize_images",
    "unnormalize",
]

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
"""Per-channel (R, G, B) mean of the 50,000 training images, as published (DLwPT §7.1.4)."""

CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""Per-channel (R, G, B) standard deviation of the training images, as published (§7.1.4)."""

NOTES_MEAN = (0.4915, 0.4823, 0.4468)
"""The mean the notes type in §7.2.1, a little off the published one (DLwPT §7.2.1)."""

NOTES_STD = (0.2470, 0.2435, 0.2616)
"""The standard deviation the notes type in §7.2.1, the same as the published one."""

CIFAR2_LABEL_MAP = {0: 0, 2: 1}
"""CIFAR-10 label → CIFAR-2 label: airplane (0) → 0, bird (2) → 1 (DLwPT §7.2.1)."""

CIFAR2_CLASS_NAMES = ("airplane", "bird")
"""CIFAR-2's class names, indexed by its labels (DLwPT §7.2.1)."""

CACHE_FOLDER = "ptm-cache"
CACHE_MAGIC = b"ptm-cifar2-cache\n"
CACHE_FORMAT = 4  # 4: the header under its own checksum, the settings checked on every load
CHUNK_BYTES = 1 << 24  # one checksum per 16 MiB, so chunks are checked on every core


# -- statistics and normalisation (§7.1.4) -------------------------------------------


def _as_tensor(array: np.ndarray) -> Tensor:
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
    notes' way) without the gigabytes that costs. The standard deviation is the sample
    one (divides by n - 1), like ``torch.std``.

    Args:
        images: N×H×W×C uint8, e.g. ``load_cifar10().data``.
        chunk_size: images per chunk; bounds the extra memory.

    Returns:
        ``(mean, std)``, two float64 tensors of C values, e.g. ≈ (0.4914, 0.4822, 0.4465)
        and (0.2470, 0.2435, 0.2616) for CIFAR-10's training images.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"images must be N×H×W×C uint8 with C = 1, 3 or 4 (e.g. cifar10.data), got dtype "
            f"{images.dtype} and shape {images.shape}"
        )
    if len(images) == 0:
        raise ValueError("images is empty: cannot compute statistics of no images")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    n_channels = images.shape[-1]
    pixels = _as_tensor(images)
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


def _stats_tensor(values: Sequence[float], name: str) -> Tensor:
    tensor = torch.as_tensor(values, dtype=torch.float32)
    if tensor.dim() != 1 or not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must be a sequence of finite per-channel values, got {values!r}")
    if name == "std" and bool((tensor <= 0).any()):
        raise ValueError(f"std must be positive for every channel, got {values!r}")
    return tensor


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


def normalize_images(
    images: np.ndarray | Tensor,
    mean: Sequence[float] = CIFAR10_MEAN,
    std: Sequence[float] = CIFAR10_STD,
) -> Tensor:
    """Raw N×H×W×C uint8 images → normalised N×C×H×W float32, vectorised (DLwPT §7.1.4).

    The same arithmetic as ``ToTensor()`` then ``Normalize(mean, std)`` applied to each
    image, in the same order, so the values are identical; but one tensor operation over
    all images instead of a Python loop.
    """
    pixels = _as_tensor(images) if isinstance(images, np.ndarray) else images
    if not isinstance(pixels, Tensor) or pixels.dtype != torch.uint8 or pixels.dim() != 4:
        raise ValueError(
            f"images must be N×H×W×C uint8 (e.g. cifar10.data), got "
            f"{getattr(pixels, 'dtype', type(pixels).__name__)} of shape "
            f"{tuple(getattr(pixels, 'shape', ()))}"
        )
    return _normalize_channels_first(pixels.permute(0, 3, 1, 2), mean, std)


def unnormalize(image: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """Undo ``Normalize(mean, std)`` on a C×H×W (or N×C×H×W) tensor (DLwPT §7.1.4)."""
    shape = (-1, 1, 1)
    return image * _stats_tensor(std, "std").view(shape) + _stats_tensor(mean, "mean").view(shape)


# -- CIFAR-2 (§7.2.1) --------------------------------------------------------------------


def cifar2_list(dataset: Any) -> list[tuple[Tensor, int]]:
    """The notes' CIFAR-2: a list of (image, label) with labels mapped by
    `CIFAR2_LABEL_MAP`, each image passed through the dataset's transform (DLwPT §7.2.1).

    Only airplanes and birds are transformed (the notes transform all 50,000 images).
    `load_cifar2` builds the same values as tensors, much faster.
    """
    labels = np.asarray(dataset.targets)
    keep = np.flatnonzero(np.isin(labels, list(CIFAR2_LABEL_MAP)))
    items = []
    for index in keep:
        image, label = dataset[int(index)]
        items.append((image, CIFAR2_LABEL_MAP[label]))
    return items


def select_cifar2(pixels: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """The airplanes and birds among N×C×H×W images, their labels mapped to 0 and 1 (§7.2.1)."""
    keep = torch.nonzero(torch.isin(labels, torch.tensor(list(CIFAR2_LABEL_MAP)))).flatten()
    kept_labels = labels[keep]
    new_labels = torch.zeros_like(kept_labels)
    for old, new in CIFAR2_LABEL_MAP.items():
        new_labels[kept_labels == old] = new
    return pixels.index_select(0, keep), new_labels


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

    def __repr__(self) -> str:
        data = "synthetic stand-in" if self.synthetic else "CIFAR-10"
        return (
            f"Cifar2({len(self.train_labels):,} training and {len(self.val_labels):,} "
            f"validation images from {data}, mean={self.mean}, std={self.std})"
        )

    @property
    def train(self) -> tuple[Tensor, Tensor]:
        """``(train_images, train_labels)``."""
        return self.train_images, self.train_labels

    @property
    def val(self) -> tuple[Tensor, Tensor]:
        """``(val_images, val_labels)``."""
        return self.val_images, self.val_labels

    def write(self, file: BinaryIO) -> None:
        """Write the tensors and settings to a binary file: a JSON header (names, dtypes,
        shapes, settings, format) under its own CRC-32, then each tensor's raw bytes with one
        CRC-32 per 16 MiB (no pickle, so reading runs no code)."""
        arrays, settings = {}, {"label_map": sorted(CIFAR2_LABEL_MAP.items())}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Tensor):
                arrays[field.name] = np.ascontiguousarray(value.numpy())
            else:
                settings[field.name] = value
        tensors = []
        for name, array in arrays.items():
            data = memoryview(array).cast("B")  # the array's own bytes, not a copy
            crcs = [zlib.crc32(data[start : start + CHUNK_BYTES])
                    for start in range(0, len(data), CHUNK_BYTES)]  # fmt: skip
            tensors.append([name, str(array.dtype), list(array.shape), crcs])
        header = json.dumps(
            {"format": CACHE_FORMAT, "settings": settings, "tensors": tensors}
        ).encode()
        file.write(CACHE_MAGIC + struct.pack("<QI", len(header), zlib.crc32(header)) + header)
        for array in arrays.values():
            file.write(memoryview(array).cast("B"))

    @classmethod
    def read(cls, path: Path, mean: Sequence[float], std: Sequence[float]) -> Cifar2:
        """Read a file written by `write` into memory of its own, verifying every byte that
        decides the result: the header's checksum, the settings it was built with (they must
        be ``mean``, ``std`` and ptm's label map), the layout of the four tensors and every
        data checksum. The tensors returned own their memory: nothing done to the file later
        changes them.

        Raises:
            ValueError: the file is not such a file, is truncated, was built with other
                settings, or a checksum fails.
        """
        with path.open("rb") as file:
            if file.read(len(CACHE_MAGIC)) != CACHE_MAGIC:
                raise ValueError("it is not a ptm CIFAR-2 cache file of this ptm")
            length, header_crc = struct.unpack("<QI", file.read(12))
            if length > 1 << 20:
                raise ValueError("its header is malformed (too long)")
            header_bytes = file.read(length)
            if zlib.crc32(header_bytes) != header_crc:
                raise ValueError("its header's checksum does not match: the header was damaged")
            header = json.loads(header_bytes)
            layout, settings = _cache_layout(header, mean, std)
            sizes = [int(np.prod(shape)) * dtype.itemsize for _, dtype, shape, _ in layout]
            if path.stat().st_size != file.tell() + sum(sizes):
                raise ValueError("it is truncated or has extra bytes")
            payload = _read_checked(file, layout, sizes)
        values: dict[str, Any] = {}
        offset = 0
        for (name, dtype, shape, _), size in zip(layout, sizes, strict=True):
            values[name] = torch.from_numpy(payload[offset : offset + size].view(dtype)).reshape(
                shape
            )
            offset += size
        return cls(**values, mean=tuple(settings["mean"]), std=tuple(settings["std"]),
                   synthetic=bool(settings["synthetic"]))  # fmt: skip


TENSOR_LAYOUT = (  # each tensor of the cache: its name, dtype and number of dimensions
    ("train_images", "float32", 4),
    ("train_labels", "int64", 1),
    ("val_images", "float32", 4),
    ("val_labels", "int64", 1),
)


def _cache_layout(
    header: Any, mean: Sequence[float], std: Sequence[float]
) -> tuple[list[tuple[str, np.dtype, tuple[int, ...], list[int]]], dict[str, Any]]:
    """The tensors' layout and the settings of a cache header, once both are known to be
    those asked for; else a ValueError saying what differs."""
    try:
        if header["format"] != CACHE_FORMAT:
            raise ValueError(f"it has format {header['format']!r}, not {CACHE_FORMAT}")
        layout = [(str(name), np.dtype(dtype), tuple(int(n) for n in shape), list(crcs))
                  for name, dtype, shape, crcs in header["tensors"]]  # fmt: skip
        settings = dict(header["settings"])
        label_map = [list(pair) for pair in sorted(CIFAR2_LABEL_MAP.items())]
        asked = {"mean": [float(m) for m in mean], "std": [float(s) for s in std],
                 "label_map": label_map}  # fmt: skip
        stored = {"mean": [float(m) for m in settings["mean"]],
                  "std": [float(s) for s in settings["std"]],
                  "label_map": [list(pair) for pair in settings["label_map"]]}  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"its header is malformed ({type(error).__name__}: {error})") from None
    for name in asked:
        if stored[name] != asked[name]:
            raise ValueError(f"it was built with {name} {stored[name]}, not {asked[name]}")
    if [(name, str(dtype), len(shape)) for name, dtype, shape, _ in layout] != list(TENSOR_LAYOUT):
        raise ValueError("its tensors are not the four of CIFAR-2 in their order and types")
    shapes = {name: shape for name, _, shape, _ in layout}
    for split in ("train", "val"):
        images, labels = shapes[f"{split}_images"], shapes[f"{split}_labels"]
        if images[1:] != (3, 32, 32) or images[0] != labels[0]:
            raise ValueError(f"its {split} tensors have shapes {images} and {labels}")
    return layout, settings


def _read_checked(
    file: BinaryIO, layout: list[tuple[str, np.dtype, tuple[int, ...], list[int]]], sizes: list[int]
) -> np.ndarray:
    """The payload read into memory of its own, 16 MiB at a time, each chunk's CRC-32
    computed on another thread while the next chunk is read (zlib releases the GIL)."""
    payload = np.empty(sum(sizes), dtype=np.uint8)
    view = memoryview(payload)
    jobs, offset = [], 0  # (where in the payload, how long, the expected CRC-32)
    for (_, _, _, crcs), size in zip(layout, sizes, strict=True):
        chunks = range(offset, offset + size, CHUNK_BYTES)
        if len(crcs) != len(chunks):
            raise ValueError("its checksums do not cover its data")
        jobs += [(at, min(CHUNK_BYTES, offset + size - at), crc)
                 for at, crc in zip(chunks, crcs, strict=True)]  # fmt: skip
        offset += size

    def intact(at: int, length: int, crc: int) -> bool:
        return zlib.crc32(view[at : at + length]) == crc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        checks = []
        for at, length, crc in jobs:
            if file.readinto(view[at : at + length]) != length:
                raise ValueError("it is truncated")
            checks.append(pool.submit(intact, at, length, crc))
        if not all(check.result() for check in checks):
            raise ValueError("its checksum does not match: the file was changed or damaged")
    return payload


def cache_path(data_dir: str | Path, mean: Sequence[float], std: Sequence[float]) -> Path | None:
    """The cache file for these data files and this normalisation, or None without data.

    The key covers each file's name, size and modification time, the statistics, the
    label map and the cache format, so changed data or normalisation never hits an old
    entry; the checksums inside catch damage to the cache file itself.
    """
    folder = Path(data_dir) / BATCHES_FOLDER
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
    return Path(data_dir) / CACHE_FOLDER / f"cifar2-{key}.bin"


_warned: set[Path] = set()  # cache files already reported as damaged in this process


def _read_cache(path: Path, mean: Sequence[float], std: Sequence[float]) -> Cifar2 | None:
    """The cached CIFAR-2, or None (with one warning per file) if it is missing, damaged or
    built with other settings."""
    if not path.is_file():
        return None
    try:
        return Cifar2.read(path, mean, std)
    except (ValueError, KeyError, TypeError, OSError, struct.error, UnicodeDecodeError) as error:
        if path not in _warned:
            _warned.add(path)
            warnings.warn(
                f"the CIFAR-2 cache {path} is unusable ({error}); building the tensors from the "
                "data files again and replacing it.",
                stacklevel=3,
            )
        return None


def _read_split(
    folder: Path, names: Sequence[str], mean: Sequence[float], std: Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Airplanes and birds of some batch files, file by file: normalised images, labels.

    Keeping CIFAR-2's images file by file means all 50,000 images are never in memory.
    """
    kept_pixels, kept_labels = [], []
    for name in names:
        data, labels = read_images(folder / name)
        kept, new_labels = select_cifar2(torch.from_numpy(data), torch.from_numpy(labels))
        kept_pixels.append(kept)
        kept_labels.append(new_labels)
    return _normalize_channels_first(torch.cat(kept_pixels), mean, std), torch.cat(kept_labels)


def load_cifar2(
    data_dir: str | Path | None = None,
    *,
    mean: Sequence[float] = CIFAR10_MEAN,
    std: Sequence[float] = CIFAR10_STD,
    cache: bool = True,
) -> Cifar2:
    """Load airplanes and birds from CIFAR-10 as normalised tensors (DLwPT §7.2.1).

    10,000 training and 2,000 validation images from the real data (downloaded on first
    use). With ``cache``, the tensors are saved under ``<data_dir>/ptm-cache/`` and later
    calls read them back, checking their checksums; a different normalisation or changed
    data files get a new entry, and a damaged entry is reported once and rebuilt.

    Raises:
        CifarNotFoundError, CifarCorruptedError: as `ptm.load_cifar10`.
    """
    root = resolve_data_dir(data_dir)
    path = cache_path(root, mean, std) if cache else None
    stored = _read_cache(path, mean, std) if path is not None else None
    if stored is not None:
        return stored
    manifest = ensure_cifar10(root, download=True)  # download or unpack if needed, check
    folder = root / BATCHES_FOLDER
    train_images, train_labels = _read_split(folder, list(TRAIN_FILES), mean, std)
    val_images, val_labels = _read_split(folder, list(TEST_FILES), mean, std)
    cifar2 = Cifar2(
        train_images, train_labels, val_images, val_labels,
        mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std),
        synthetic=manifest is not None,
    )  # fmt: skip
    path = cache_path(root, mean, std) if cache else None  # the folder may be new now
    if path is not None:
        try:
            atomic_write(path, cifar2.write, sync=False)  # checksums catch a torn file
        except OSError as error:  # e.g. a read-only data folder: carry on without the cache
            warnings.warn(f"could not write the CIFAR-2 cache {path}: {error}", stacklevel=2)
    return cifar2
