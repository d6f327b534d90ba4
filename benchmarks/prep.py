"""Benchmark 1: raw CIFAR-10 files → normalised CIFAR-2 tensors (DLwPT §7.1.4, §7.2.1).

Three sides, alternated in every repeat:

- the notes' way: every image through ``ToTensor`` and ``Normalize`` by the dataset,
  then list comprehensions keeping airplanes and birds (`notes_way.prepare_cifar2`);
- ptm cold: ``ptm.load_cifar2(data_dir, cache=False)``, after making ptm forget the
  files it has already checksummed, so it reads, checks and converts everything;
- ptm from cache: ``ptm.load_cifar2(data_dir, cache=True)`` with its cache entry built
  beforehand.

ptm's sides are timed until their tensors have been read once (a sum over all images,
about 10 ms), so a lazily loaded cache would not look free; the notes' lists are
computed image by image, so they are in memory when the list comprehension ends.

All sides read files that sit in the operating system's page cache (the first pass warms
it), so this compares the work done in Python and torch, not the disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

import ptm
from ptm.cifar import CACHE_FOLDER

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import notes_way
from data_source import BenchmarkData, clear_ptm_cache, forget_checksums
from measure import alternate, paired_ratios, timed

ImageList = notes_way.ImageList


def stack_list(items: ImageList) -> tuple[torch.Tensor, torch.Tensor]:
    """The notes' list form as ``(images, labels)`` tensors, for comparing with ptm's."""
    images = torch.stack([image for image, _ in items])
    labels = torch.tensor([label for _, label in items])
    return images, labels


def compare_with_notes(
    notes_lists: tuple[ImageList, ImageList], cifar2: ptm.Cifar2
) -> dict[str, Any]:
    """Whether ptm's tensors hold the notes' values exactly (images and labels, both splits)."""
    max_difference = 0.0
    equal = True
    for items, (images, labels) in zip(notes_lists, (cifar2.train, cifar2.val), strict=True):
        notes_images, notes_labels = stack_list(items)
        if notes_images.shape != images.shape or not torch.equal(notes_labels, labels):
            return {"equal": False, "max_abs_difference": float("inf")}
        max_difference = max(max_difference, (notes_images - images).abs().max().item())
        equal = equal and torch.equal(notes_images, images)
    return {"equal": equal, "max_abs_difference": max_difference}


def data_files(data: BenchmarkData) -> list[Path]:
    """The files of the batches folder: five training batches, the test batch, metadata."""
    return sorted(path for path in data.files.iterdir() if path.is_file())


def cache_files(data: BenchmarkData) -> list[Path]:
    """ptm's CIFAR-2 cache entries in the benchmark's folder."""
    return sorted((data.path / CACHE_FOLDER).glob("*.pt"))


def checksum_files(data: BenchmarkData) -> None:
    """ptm's own checksum pass over every data file, as its cold load makes it: a part of
    its time. ptm hashes the files in parallel threads, one per core."""
    forget_checksums()
    folder = data.files
    ptm.cifar._verify_folder(folder, ptm.cifar._read_manifest(folder))


def read_every_value(cifar2: ptm.Cifar2) -> ptm.Cifar2:
    """Read all images once, so that a cache that maps its file lazily (``torch.load(...,
    mmap=True)``) is timed with its data in memory, not as free."""
    cifar2.train_images.sum()
    cifar2.val_images.sum()
    return cifar2


def run(
    data: BenchmarkData, repeats: int
) -> tuple[dict[str, Any], tuple[ImageList, ImageList], ptm.Cifar2]:
    """Time the three sides; return the results, the notes' lists and ptm's tensors.

    The lists and tensors of the last repeat are returned for the training benchmarks
    and for the check that both sides computed the same values.
    """
    clear_ptm_cache(data)
    forget_checksums()
    ptm.load_cifar2(data.path, cache=True)  # builds the cache entry (and warms the page cache)
    kept: dict[str, Any] = {}

    def notes(repeat: int) -> float:
        forget_checksums()
        seconds, kept["notes"] = timed(lambda: notes_way.prepare_cifar2(data.path))
        return seconds

    def ptm_cold(repeat: int) -> float:
        forget_checksums()
        seconds, kept["ptm"] = timed(
            lambda: read_every_value(ptm.load_cifar2(data.path, cache=False))
        )
        return seconds

    def ptm_cached(repeat: int) -> float:
        seconds, _ = timed(lambda: read_every_value(ptm.load_cifar2(data.path, cache=True)))
        return seconds

    times = alternate(
        {"notes": notes, "ptm_cold": ptm_cold, "ptm_cached": ptm_cached},
        repeats,
        "CIFAR-2 preparation",
    )
    check = compare_with_notes(kept["notes"], kept["ptm"])
    cached = ptm.load_cifar2(data.path, cache=True)
    cached_equal = all(
        torch.equal(from_cache, computed)
        for from_cache, computed in zip(
            (*cached.train, *cached.val), (*kept["ptm"].train, *kept["ptm"].val), strict=True
        )
    )
    results = {
        **times,
        "speedup_cold": times["notes"]["median"] / times["ptm_cold"]["median"],
        "speedup_cached": times["notes"]["median"] / times["ptm_cached"]["median"],
        "paired_speedup_cold": paired_ratios(times["notes"], times["ptm_cold"]),
        "paired_speedup_cached": paired_ratios(times["notes"], times["ptm_cached"]),
        "cold_definition": "no ptm cache entry used; ptm's per-process memory of checksummed "
        "files cleared before each repeat of both sides; files in the OS page cache",
        "n_train_images": len(kept["ptm"].train_images),
        "n_val_images": len(kept["ptm"].val_images),
        "same_tensors": check["equal"] and cached_equal,
        "max_abs_difference": check["max_abs_difference"],
        "checksum_seconds": timed(lambda: checksum_files(data))[0],
        "data_file_mib": sum(path.stat().st_size for path in data_files(data)) / (1 << 20),
        "cache_file_mib": sum(path.stat().st_size for path in cache_files(data)) / (1 << 20),
    }
    return results, kept["notes"], kept["ptm"]
