"""The study notes' way of doing chapter 7's plumbing: the baseline of every benchmark.

Each function is the notes' code as a learner types it (DLwPT §7.1–§7.2.6), wrapped only
enough to be timed: per-image transforms through torchvision's dataset, list
comprehensions over all of CIFAR-10, ``torch.stack`` of every image, and the DataLoader
training loop. Nothing here is tuned; that is the point.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchvision import datasets, transforms

import ptm
from ptm.cifar_files import BATCHES_FOLDER, STANDIN_MANIFEST


class StandInCIFAR10(datasets.CIFAR10):
    """torchvision's own CIFAR10 class, told the stand-in's checksums instead of CIFAR-10's:
    it checks every file, one after the other, whenever a split is opened, as it does with
    real CIFAR-10."""

    def __init__(self, root: Path, **options: Any) -> None:
        files = json.loads((Path(root) / BATCHES_FOLDER / STANDIN_MANIFEST).read_text())["files"]
        self.train_list = [[name, files[name]] for name, _ in datasets.CIFAR10.train_list]
        self.test_list = [[name, files[name]] for name, _ in datasets.CIFAR10.test_list]
        self.meta = {**datasets.CIFAR10.meta, "md5": files[datasets.CIFAR10.meta["filename"]]}
        super().__init__(root, **options)


def open_cifar10(data_path: Path, train: bool, transform: Callable) -> datasets.CIFAR10:
    """``datasets.CIFAR10(data_path, train=..., download=False, transform=...)``, as in the
    notes (the stand-in through `StandInCIFAR10`, which differs only in the checksums)."""
    standin = (Path(data_path) / BATCHES_FOLDER / STANDIN_MANIFEST).is_file()
    cifar10_class = StandInCIFAR10 if standin else datasets.CIFAR10
    return cifar10_class(data_path, train=train, download=False, transform=transform)


def prepare_cifar2(data_path: Path) -> tuple[list, list]:
    """Raw files → normalised CIFAR-2 lists (DLwPT §7.1.4, §7.2.1): every one of the
    50,000 + 10,000 images goes through ``ToTensor`` and ``Normalize``, one at a time."""
    normalize = transforms.Normalize(ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    transform = transforms.Compose([transforms.ToTensor(), normalize])
    cifar10 = open_cifar10(data_path, True, transform)
    cifar10_val = open_cifar10(data_path, False, transform)
    label_map = {0: 0, 2: 1}
    cifar2 = [(img, label_map[label]) for img, label in cifar10 if label in [0, 2]]
    cifar2_val = [(img, label_map[label]) for img, label in cifar10_val if label in [0, 2]]
    return cifar2, cifar2_val


def open_tensor_cifar10(data_path: Path) -> datasets.CIFAR10:
    """The training set with ``ToTensor`` only, for the statistics (DLwPT §7.1.4)."""
    return open_cifar10(data_path, True, transforms.ToTensor())


def channel_stats(tensor_cifar10: datasets.CIFAR10) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std: stack every training image as floats (DLwPT §7.1.4)."""
    imgs = torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3)
    return imgs.view(3, -1).mean(dim=1), imgs.view(3, -1).std(dim=1)


def build_model() -> nn.Sequential:
    """The notes' 3072-512-2 classifier (DLwPT §7.2.5)."""
    return nn.Sequential(nn.Linear(3072, 512), nn.Tanh(), nn.Linear(512, 2), nn.LogSoftmax(dim=1))
