"""Raw CIFAR-10 files → normalised CIFAR-2 tensors (DLwPT §7.1.4, §7.2.1).

Three sides, alternated in every repeat:

- the notes' way: every image through ``ToTensor`` and ``Normalize`` by torchvision's
  dataset, then list comprehensions keeping airplanes and birds (`notes_way`);
- ptm cold: ``ptm.load_cifar2(data_dir)`` after removing its cache folder and calling
  ``ptm.cifar_files.forget_checksums()``, as on a first call: it checks (MD5), reads,
  converts and writes the cache file (also timed without writing it: ``cache=False``);
- ptm from its cache: ``ptm.load_cifar2(data_dir)`` again, which reads the cache file
  written by the cold side and verifies its CRC-32 checksums.

ptm's sides are timed until their tensors have been read once, so a lazily loaded cache
would not look free, and must hold exactly the notes' values. All sides read files that
sit in the operating system's page cache: this compares the work done, not the disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

import ptm
from ptm.cifar_files import BATCHES_FOLDER, forget_checksums, read_manifest, verify_folder
from ptm.cifar_tensors import CACHE_FOLDER, cache_path

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import notes_way
from measure import alternate, paired_ratios, timed


def load_and_read(data_dir: Path, cache: bool = True) -> ptm.Cifar2:
    """``ptm.load_cifar2(data_dir, cache=cache)``, then every value read once."""
    cifar2 = ptm.load_cifar2(data_dir, cache=cache)
    cifar2.train_images.sum()
    cifar2.val_images.sum()
    return cifar2


def same_as_notes(notes_lists: tuple[list, list], cifar2: ptm.Cifar2) -> tuple[bool, float]:
    """Whether ptm's tensors hold the notes' values exactly; the largest difference."""
    differences = []
    for items, (images, labels) in zip(notes_lists, (cifar2.train, cifar2.val), strict=True):
        notes_images = torch.stack([image for image, _ in items])
        if notes_images.shape != images.shape or labels.tolist() != [label for _, label in items]:
            return False, float("inf")
        differences.append((notes_images - images).abs().max().item())
    return max(differences) == 0, max(differences)


def run(data_dir: Path, repeats: int) -> tuple[dict[str, Any], list, ptm.Cifar2]:
    """Time the three sides; return the results, the notes' training list and ptm's tensors."""
    load_and_read(data_dir)  # warms the page cache
    kept: dict[str, Any] = {}

    def notes(repeat: int) -> float:
        forget_checksums()  # torchvision keeps no such memory; this keeps the sides alike
        seconds, kept["notes"] = timed(lambda: notes_way.prepare_cifar2(data_dir))
        return seconds

    def ptm_cold(repeat: int, cache: bool = True) -> float:
        shutil.rmtree(Path(data_dir) / CACHE_FOLDER, ignore_errors=True)
        forget_checksums()
        seconds, kept["cold"] = timed(lambda: load_and_read(data_dir, cache))
        return seconds

    def ptm_cached(repeat: int) -> float:
        seconds, kept["cached"] = timed(lambda: load_and_read(data_dir))
        return seconds

    cases = {
        "notes": notes,
        "ptm_cold_no_write": lambda repeat: ptm_cold(repeat, cache=False),
        "ptm_cold": ptm_cold,
        "ptm_cached": ptm_cached,
    }
    times = alternate(cases, repeats, "CIFAR-2 preparation")
    checks = [same_as_notes(kept["notes"], kept[side]) for side in ("cold", "cached")]
    folder = Path(data_dir) / BATCHES_FOLDER
    forget_checksums()
    checksum_seconds, _ = timed(lambda: verify_folder(folder, read_manifest(folder)))
    cache_file = cache_path(data_dir, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    notes_median = times["notes"]["median"]
    results = {
        **times,
        "speedup_cold": notes_median / times["ptm_cold"]["median"],
        "speedup_cached": notes_median / times["ptm_cached"]["median"],
        "cached_vs_cold": times["ptm_cold"]["median"] / times["ptm_cached"]["median"],
        "paired_speedup_cold": paired_ratios(times["notes"], times["ptm_cold"]),
        "paired_speedup_cached": paired_ratios(times["notes"], times["ptm_cached"]),
        "paired_cached_vs_cold": paired_ratios(times["ptm_cold"], times["ptm_cached"]),
        "n_train_images": len(kept["cold"].train_labels),
        "n_val_images": len(kept["cold"].val_labels),
        "same_tensors": all(equal for equal, _ in checks),
        "max_abs_difference": max(largest for _, largest in checks),
        "checksum_seconds": checksum_seconds,
        "data_file_mib": sum(p.stat().st_size for p in folder.iterdir()) / (1 << 20),
        "cache_file_mib": cache_file.stat().st_size / (1 << 20),
    }
    return results, kept["notes"][0], kept["cold"]
