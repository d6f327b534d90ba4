"""Batch sources: what a training loop iterates over, epoch after epoch (DLwPT §7.2.6).

A batch source gives ``(inputs, targets)`` batches and can be read again every epoch. The
notes use a ``DataLoader`` over a list of ``(image, label)`` pairs; `TensorBatches` gives the
same batches cut from one pair of tensors by indexing, without a Python loop over samples;
`ptm.CroppedBatches` is a `TensorBatches` that crops every batch at random places. Each checks
its tensors once, when it is made. The engine, the lesson loops and the benchmarks take any
of them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor

from ptm.checks import check_positive_integer, check_tensor_pair

__all__ = [
    "TensorBatches",
    "TensorPair",
    "is_tensor_pair",
]

TensorPair = tuple[Tensor, Tensor]


class TensorBatches:
    """Mini-batches cut from one pair of tensors: the fast batch source (DLwPT §7.2.6).

    Iterating gives ``(inputs, targets)`` batches by indexing, without a Python loop
    over samples; each new iteration (each epoch) draws a new order when ``shuffle``.
    It plays the part of a ``DataLoader`` over the same data: with ``shuffle=False``
    both give the same batches in the same order. The tensors are checked once, here,
    and moved to ``device`` once. Subclasses change each batch in `transform_batch`
    (`ptm.CroppedBatches` cuts random crops there).

    Args:
        inputs, targets: tensors of the same, non-zero length.
        batch_size: samples per batch; None gives the whole pair as one batch.
        shuffle: a new random order every epoch.
        seed: seeds the order (and a subclass's randomness), so the same seed gives the
            same batches.
        device: where to move the tensors, once, e.g. ``"cuda"``.
        name: what to call the data in error messages.

    Raises:
        ValueError: tensors of different or zero length, or a batch size below 1.
    """

    def __init__(
        self,
        inputs: Tensor,
        targets: Tensor,
        batch_size: int | None = 64,
        *,
        shuffle: bool = False,
        seed: int | None = None,
        device: str | torch.device | None = None,
        name: str = "data",
    ) -> None:
        check_tensor_pair(inputs, targets, name)
        if batch_size is not None:
            check_positive_integer(batch_size, "batch_size")
        self.inputs = inputs if device is None else inputs.to(device)
        self.targets = targets if device is None else targets.to(device)
        self.batch_size = batch_size or len(inputs)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    @functools.cached_property
    def finite(self) -> bool:
        """True when no input is NaN or inf (looked at only when a loss becomes one)."""
        return not self.inputs.is_floating_point() or bool(self.inputs.isfinite().all())

    @property
    def labels(self) -> Tensor:
        """The targets (class labels, for a classifier)."""
        return self.targets

    def __len__(self) -> int:
        return math.ceil(len(self.inputs) / self.batch_size)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({len(self.inputs)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, device={self.inputs.device})"
        )

    def first_input(self) -> Tensor:
        """One sample as the batches give it (for checks against a model)."""
        return self.inputs[0]

    def transform_batch(self, inputs: Tensor) -> Tensor:
        """A batch's inputs as they are given out: unchanged here."""
        return inputs

    def __iter__(self) -> Iterator[TensorPair]:
        n_samples = len(self.inputs)
        if self.batch_size >= n_samples and not self.shuffle:  # one batch, in order
            yield self.transform_batch(self.inputs), self.targets
            return
        if self.shuffle:
            order = torch.randperm(n_samples, generator=self.generator).to(self.inputs.device)
        else:
            order = torch.arange(n_samples, device=self.inputs.device)
        for start in range(0, n_samples, self.batch_size):
            indices = order[start : start + self.batch_size]
            inputs = self.transform_batch(self.inputs.index_select(0, indices))
            yield inputs, self.targets.index_select(0, indices)


def is_tensor_pair(data: Any) -> bool:
    """True for an ``(inputs, targets)`` tuple or list of two tensors."""
    return (
        isinstance(data, tuple | list)
        and len(data) == 2
        and all(isinstance(part, Tensor) for part in data)
    )


def as_batches(data: Any, name: str) -> Iterable[TensorPair]:
    """``data`` if it is a batch source that can be read every epoch, else a ValueError
    saying what to pass instead."""
    if is_tensor_pair(data):
        raise ValueError(
            f"{name} is a pair of tensors: pass ptm.TensorBatches(inputs, targets, "
            "batch_size=...) (batch_size=None for the whole pair at once)"
        )
    if isinstance(data, Iterator):  # a generator, say, rather than a DataLoader
        raise ValueError(
            f"{name} is a one-shot iterator, used up after one epoch: pass TensorBatches "
            "or a DataLoader, which can be read again every epoch"
        )
    if not isinstance(data, Iterable):
        raise ValueError(f"{name} must be a batch source such as TensorBatches, got {data!r:.60}")
    return data
