"""The study notes' way of doing chapter 7's plumbing: the baseline of every benchmark.

Each function is the notes' code as a learner types it (DLwPT §7.1–§7.2.6), wrapped only
enough to be timed: per-image transforms through the dataset, list comprehensions over
all of CIFAR-10, ``torch.stack`` of every image, and the DataLoader training loop.
Nothing here is tuned; that is the point.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import ptm
from ptm.cifar import BATCHES_FOLDER, STANDIN_MANIFEST

LABEL_MAP = {0: 0, 2: 1}  # airplane → 0, bird → 1, as in the notes (DLwPT §7.2.1)

ImageList = list[tuple[Tensor, int]]
LossFunction = Callable[[Tensor, Tensor], Tensor]


def is_standin(data_path: Path) -> bool:
    """True when ``data_path`` holds ptm's synthetic stand-in rather than CIFAR-10."""
    return (Path(data_path) / BATCHES_FOLDER / STANDIN_MANIFEST).is_file()


class StandInCIFAR10(datasets.CIFAR10):
    """torchvision's own CIFAR10 class, told the stand-in's checksums instead of CIFAR-10's.

    Nothing else changes: it checks every file, one after the other, each time a split is
    opened, exactly as torchvision does with real CIFAR-10.
    """

    def __init__(self, root: Path, **options: Any) -> None:
        manifest = json.loads((Path(root) / BATCHES_FOLDER / STANDIN_MANIFEST).read_text())
        files = manifest["files"]
        self.train_list = [[name, files[name]] for name, _ in datasets.CIFAR10.train_list]
        self.test_list = [[name, files[name]] for name, _ in datasets.CIFAR10.test_list]
        self.meta = {**datasets.CIFAR10.meta, "md5": files[datasets.CIFAR10.meta["filename"]]}
        super().__init__(root, **options)


def open_cifar10(data_path: Path, train: bool, transform: Callable | None) -> datasets.CIFAR10:
    """``datasets.CIFAR10(data_path, train=..., download=False, transform=...)``, as in the notes.

    torchvision checks the files against CIFAR-10's own checksums, which the stand-in
    cannot match, so stand-in files are opened through `StandInCIFAR10`, which differs
    only in the checksums it expects. Either way every image goes through ``transform``
    when it is indexed, as in the notes (DLwPT §7.1.1).
    """
    cifar10_class = StandInCIFAR10 if is_standin(data_path) else datasets.CIFAR10
    return cifar10_class(data_path, train=train, download=False, transform=transform)


def prepare_cifar2(
    data_path: Path,
    mean: Sequence[float] = ptm.CIFAR10_MEAN,
    std: Sequence[float] = ptm.CIFAR10_STD,
) -> tuple[ImageList, ImageList]:
    """Raw files → normalised CIFAR-2 lists, the notes' way (DLwPT §7.1.4, §7.2.1).

    Every one of the 50,000 + 10,000 images goes through ``ToTensor`` and ``Normalize``
    one at a time, and a list comprehension keeps the airplanes and birds.
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    cifar10 = open_cifar10(data_path, True, transform)
    cifar10_val = open_cifar10(data_path, False, transform)
    label_map = LABEL_MAP
    cifar2 = [(img, label_map[label]) for img, label in cifar10 if label in [0, 2]]
    cifar2_val = [(img, label_map[label]) for img, label in cifar10_val if label in [0, 2]]
    return cifar2, cifar2_val


def open_tensor_cifar10(data_path: Path) -> datasets.CIFAR10:
    """The training set with ``ToTensor`` only, for measuring statistics (DLwPT §7.1.4)."""
    return open_cifar10(data_path, True, transforms.ToTensor())


def channel_stats(tensor_cifar10: datasets.CIFAR10) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std the notes' way: stack every image as float (DLwPT §7.1.4)."""
    imgs = torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3)
    return imgs.view(3, -1).mean(dim=1), imgs.view(3, -1).std(dim=1)


def build_model() -> nn.Sequential:
    """The notes' 3072-512-2 classifier (DLwPT §7.2.5)."""
    return nn.Sequential(
        nn.Linear(3072, 512),
        nn.Tanh(),
        nn.Linear(512, 2),
        nn.LogSoftmax(dim=1),
    )


def make_train_loader(cifar2: ImageList, shuffle: bool = True) -> DataLoader:
    """``DataLoader(cifar2, batch_size=64, shuffle=True)`` (DLwPT §7.2.6)."""
    return DataLoader(cifar2, batch_size=64, shuffle=shuffle)


def train_epoch(
    model: nn.Module,
    train_loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFunction,
) -> None:
    """One epoch of the notes' mini-batch loop (DLwPT §7.2.6)."""
    for imgs, labels in train_loader:
        batch_size = imgs.shape[0]
        outputs = model(imgs.view(batch_size, -1))
        loss = loss_fn(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def train_per_sample(
    model: nn.Module, cifar2: ImageList, optimizer: torch.optim.Optimizer, loss_fn: LossFunction
) -> None:
    """The notes' first loop: one optimizer step per image (DLwPT §7.2.6)."""
    for img, label in cifar2:
        out = model(img.view(-1).unsqueeze(0))
        loss = loss_fn(out, torch.tensor([label]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
