"""Random crops on the tensor data path: the chapter 7 exercise on augmentation (DLwPT §7.1.4).

torchvision's way crops one image at a time inside a dataset's transform
(``transforms.RandomCrop(32, padding=4)`` before ``ToTensor`` and ``Normalize``), so every
``DataLoader`` item is a fresh random crop. `CroppedBatches` gives the same crops on the fast
path: it pads all images once, then cuts each batch with one random offset per image, gathered
by indexing without a Python loop over images. torchvision pads with black *before*
normalising, so the padding here is the normalised value of black, ``-mean / std`` per channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ptm.batches import TensorBatches
from ptm.checks import check_float_images, check_positive_integer, check_tensor_pair
from ptm.cifar_tensors import CIFAR10_MEAN, CIFAR10_STD

__all__ = [
    "CroppedBatches",
    "pad_images",
    "random_crop",
]


def normalized_black(mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """The value black (0) takes after ``Normalize(mean, std)``: ``-mean / std`` per channel."""
    return -torch.as_tensor(mean, dtype=torch.float32) / torch.as_tensor(std, dtype=torch.float32)


def pad_images(images: Tensor, padding: int, fill: Tensor | float = 0.0) -> Tensor:
    """N×C×H×W images with ``padding`` pixels of ``fill`` (one value, or one per channel) around."""
    check_positive_integer(padding, "padding", minimum=0)
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError(f"images must be N×C×H×W, got shape {tuple(getattr(images, 'shape', ()))}")
    n_images, n_channels, height, width = images.shape
    fill = torch.as_tensor(fill, dtype=images.dtype, device=images.device).reshape(-1, 1, 1)
    padded = fill.expand(n_channels, height + 2 * padding, width + 2 * padding)
    padded = padded.unsqueeze(0).repeat(n_images, 1, 1, 1)
    padded[:, :, padding : padding + height, padding : padding + width] = images
    return padded


def random_crop(
    padded: Tensor,
    size: int,
    *,
    generator: torch.Generator | None = None,
    offsets: Tensor | None = None,
) -> Tensor:
    """Cut a ``size``×``size`` window out of each padded image, at its own random place.

    Args:
        padded: N×C×H×W images, already padded (see `pad_images`).
        size: the side of the crop, e.g. 32.
        generator: seeds the offsets.
        offsets: N×2 (top, left) offsets to use instead of random ones.

    Returns:
        N×C×size×size crops; each offset is uniform over 0 … H − size (and W − size).
    """
    n_images, _, height, width = padded.shape
    if size > height or size > width:
        raise ValueError(
            f"the crop size {size} is larger than the padded images ({height}×{width}): use a "
            "smaller size or more padding"
        )
    if offsets is None:
        tops = torch.randint(0, height - size + 1, (n_images,), generator=generator)
        lefts = torch.randint(0, width - size + 1, (n_images,), generator=generator)
        offsets = torch.stack([tops, lefts], dim=1)
    offsets = offsets.to(padded.device)
    window = torch.arange(size, device=padded.device)
    rows = offsets[:, 0:1] + window  # N×size: the rows each crop takes
    columns = offsets[:, 1:2] + window
    # one flat pixel index per crop pixel, the same for every channel: a single gather
    flat = (rows[:, :, None] * width + columns[:, None, :]).reshape(n_images, 1, size * size)
    n_channels = padded.shape[1]
    pixels = padded.reshape(n_images, n_channels, height * width)
    crops = pixels.gather(2, flat.expand(n_images, n_channels, size * size))
    return crops.reshape(n_images, n_channels, size, size)


class CroppedBatches(TensorBatches):
    """Mini-batches of random crops, a new crop of every image every epoch (DLwPT §7.1.4).

    The tensor-path twin of a ``DataLoader`` over a dataset whose transform starts with
    ``RandomCrop(size, padding=padding)``: the images are padded once (with normalised
    black), and every batch is cut with one random offset per image. A `TensorBatches` whose
    batches are transformed: the same order, shuffling and checks. Use it wherever a batch
    source goes: ``minibatch_loop``, ``ptm.train_classifier``, ``ptm.training.fit``.

    Args:
        images: normalised N×C×H×W float images with square sides, e.g. ``cifar2.train_images``.
        labels: their labels.
        batch_size: images per batch.
        padding: pixels added on every side before cropping (the book's exercise: 4).
        mean, std: the normalisation of ``images``, for the value of black.
        shuffle: a new order every epoch.
        seed: seeds the order and the offsets.
        device: where to keep the padded images.

    Raises:
        ValueError: images that are not N×C×H×W floats with H equal to W (uint8 or
            channels-last images are named with the fix), or labels of another length.
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        batch_size: int = 64,
        *,
        padding: int = 4,
        mean: Sequence[float] = CIFAR10_MEAN,
        std: Sequence[float] = CIFAR10_STD,
        shuffle: bool = True,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        check_crop_images(images, len(mean))
        check_tensor_pair(images, labels, "images and labels")
        self.size = images.shape[-1]
        padded = pad_images(images, padding, normalized_black(mean, std))
        super().__init__(
            padded, labels, batch_size, shuffle=shuffle, seed=seed, device=device, name="images"
        )

    def __repr__(self) -> str:
        padding = (self.inputs.shape[-1] - self.size) // 2
        return (
            f"CroppedBatches({len(self.labels)} images, batch_size={self.batch_size}, "
            f"{self.size}×{self.size} crops of {padding}-pixel padding, shuffle={self.shuffle})"
        )

    def first_input(self) -> Tensor:
        """The first image's centre crop: an image of the size the batches give."""
        padding = (self.inputs.shape[-1] - self.size) // 2
        return self.inputs[0, :, padding : padding + self.size, padding : padding + self.size]

    def transform_batch(self, inputs: Tensor) -> Tensor:
        """A random ``size``×``size`` window of each padded image in the batch."""
        return random_crop(inputs, self.size, generator=self.generator)


def check_crop_images(images: Tensor, n_channels: int) -> None:
    """N×C×H×W floating-point images with square sides and the normalisation's channels."""
    check_float_images(images, "images", "N×C×H×W")
    if images.shape[1] != n_channels and images.shape[-1] == n_channels:
        raise ValueError(
            f"images have shape {tuple(images.shape)}, channels last: move the channels "
            "first with images.permute(0, 3, 1, 2)"
        )
    if images.shape[1] != n_channels:
        raise ValueError(
            f"images have {images.shape[1]} channels, but mean and std have {n_channels}"
        )
    if images.shape[2] != images.shape[3]:
        raise ValueError(
            f"images are {images.shape[2]}×{images.shape[3]}, not square: square crops of "
            f"{images.shape[3]}×{images.shape[3]} would cut them down without a word; "
            "crop or pad them square first"
        )
