"""Random crops, the chapter 7 exercise: torchvision's way against ptm's batched crop.

- **Crop throughput**: one epoch's worth of random 32×32 crops (padding 4) of CIFAR-2's
  training images, batch 64. torchvision's way: ``transforms.RandomCrop(32, padding=4)`` in a
  dataset's transform, one image at a time, through a shuffling ``DataLoader``. ptm's:
  ``ptm.CroppedBatches``, which pads all images once and cuts each batch with one random
  offset per image, by indexing. Only the crops are made, no training.
- **The cost in training**: one epoch of ``ptm.training.fit`` over ``CroppedBatches``
  against the same epoch over the plain tensors, from the same weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import ptm
from ptm.training import fit

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
from measure import alternate, paired_ratios, timed

BATCH_SIZE, PADDING = 64, 4


class CroppingDataset(Dataset):
    """The images with torchvision's transform applied on each access, as a dataset does."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels
        # torchvision pads tensors with one number: 0 here (black would be -mean/std)
        self.crop = transforms.RandomCrop(32, padding=PADDING)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.crop(self.images[index]), self.labels[index]


def one_epoch_of_crops(batches: Any) -> int:
    """Make every batch of one epoch; returns the number of images cropped."""
    return sum(len(labels) for _, labels in batches)


def run(cifar2: ptm.Cifar2, repeats: int) -> dict[str, Any]:
    """Crop throughput both ways, and a training epoch with and without ptm's crops."""
    images, labels = cifar2.train
    loader = DataLoader(CroppingDataset(images, labels), batch_size=BATCH_SIZE, shuffle=True)
    cropped = ptm.CroppedBatches(images, labels, BATCH_SIZE, padding=PADDING, seed=0)
    assert one_epoch_of_crops(loader) == one_epoch_of_crops(cropped) == len(labels)
    crops = alternate(
        {
            "torchvision": lambda repeat: timed(lambda: one_epoch_of_crops(loader))[0],
            "ptm": lambda repeat: timed(lambda: one_epoch_of_crops(cropped))[0],
        },
        repeats,
        "random crops",
    )

    def epoch(batches: Any) -> Any:
        def case(repeat: int) -> float:
            model = ptm.build_fc_classifier(seed=repeat)
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
            return timed(lambda: fit(model, nn.NLLLoss(), optimizer, batches, n_epochs=1))[0]

        return case

    plain = ptm.TensorBatches(images, labels, BATCH_SIZE, shuffle=True, seed=0)
    epoch(plain)(0), epoch(cropped)(0)  # warm-up round
    epochs = alternate({"plain_epoch": epoch(plain), "cropped_epoch": epoch(cropped)}, repeats,
                       "training epoch with crops")  # fmt: skip
    return {
        **crops,
        **epochs,
        "n_images": len(labels),
        "speedup": crops["torchvision"]["median"] / crops["ptm"]["median"],
        "paired_speedup": paired_ratios(crops["torchvision"], crops["ptm"]),
        "epoch_ratio": epochs["cropped_epoch"]["median"] / epochs["plain_epoch"]["median"],
        "paired_epoch_ratio": paired_ratios(epochs["cropped_epoch"], epochs["plain_epoch"]),
    }
