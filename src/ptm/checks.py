"""The checks of what a learner passes in, each written once (DLwPT §6.2.2, §7.2.6).

The lesson loops call one of these on their first line, the engine calls them where data
enters, and the command line turns their ValueErrors into one-line messages. Every message
names the argument, the value it got and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported inside the checks that need it, so that the recipes
    import torch  # (and ``ptm --help``, which reads them) load without it
    from torch import Tensor, nn

__all__ = ["check_image_inputs", "check_temperature_inputs"]


def check_positive_integer(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer of at least ``minimum`` (1), else raise a
    ValueError naming it: the one check of counts, sizes and paddings."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return value


def check_learning_rate(lr: Any) -> float:
    """Return ``lr`` if it is a finite number above 0, else raise a ValueError naming it."""
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number above 0, e.g. 1e-2, got {lr!r}")
    return lr


def check_tensor_pair(inputs: Any, targets: Any, name: str = "data") -> None:
    """Two tensors of samples, of the same non-zero length (the engine's batch sources)."""
    from torch import Tensor

    for part, tensor in (("inputs", inputs), ("targets", targets)):
        if not isinstance(tensor, Tensor) or tensor.dim() == 0:
            raise ValueError(
                f"{name} {part} must be a tensor of samples, got {type(tensor).__name__}"
                + (" of no dimension" if isinstance(tensor, Tensor) else "")
            )
    if len(inputs) != len(targets):
        raise ValueError(
            f"{name} inputs and targets must have the same length, got {len(inputs)} and "
            f"{len(targets)}"
        )
    if len(inputs) == 0:
        raise ValueError(f"{name} is empty: inputs and targets hold no samples")


def first_linear(model: nn.Module) -> nn.Linear | None:
    """The model's first ``nn.Linear`` (which fixes how many numbers a sample has), if any."""
    from torch import nn

    return next((module for module in model.modules() if isinstance(module, nn.Linear)), None)


def last_linear(model: nn.Module) -> nn.Linear | None:
    """The model's last ``nn.Linear`` (which fixes how many classes it scores), if any."""
    from torch import nn

    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    return linears[-1] if linears else None


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters (the CPU for a model without any)."""
    import torch

    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def check_float_images(images: Any, name: str = "images", shape: str = "N samples") -> None:
    """A floating-point tensor of images: of 4 dimensions for ``shape="N×C×H×W"``, of at
    least 2 (N samples) otherwise; uint8 images are named with the fix."""
    from torch import Tensor

    if not isinstance(images, Tensor) or (
        images.dim() != 4 if shape == "N×C×H×W" else images.dim() < 2
    ):
        found = tuple(getattr(images, "shape", ()))
        raise ValueError(f"{name} must be a tensor of {shape}, got shape {found}")
    if not images.is_floating_point():
        raise ValueError(
            f"{name} are {images.dtype}, but ptm works on normalised floating-point images: "
            "convert raw uint8 images with ptm.normalize_images(images) (or images.float() / 255)"
        )


def check_images(model: nn.Module, images: Any, name: str = "images") -> None:
    """A floating-point tensor of N samples with as many values each as the model takes."""
    check_float_images(images, name)
    first = first_linear(model)
    features = math.prod(images.shape[1:])
    if first is not None and features != first.in_features:
        raise ValueError(
            f"{name} have shape {tuple(images.shape)}, i.e. {features} values per sample, but "
            f"the model's first layer takes {first.in_features}: build it for these images"
        )


def check_labels(model: nn.Module, labels: Any, name: str = "labels") -> None:
    """A 1-D int64 tensor of class indices inside the model's classes."""
    import torch
    from torch import Tensor

    if not isinstance(labels, Tensor) or labels.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor of class indices")
    if labels.dtype != torch.long:
        raise ValueError(f"{name} must be int64 (torch.long) class indices, got {labels.dtype}")
    last = last_linear(model)
    if last is not None and len(labels) > 0:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= last.out_features:
            bad = low if low < 0 else high
            raise ValueError(
                f"{name} contain {bad}, outside the model's classes 0..{last.out_features - 1}"
            )


# -- the one check line at the top of each lesson loop (ptm.lessons) ---------------------


def check_temperature_inputs(n_epochs: int, model: nn.Module, *tensors: Tensor) -> None:
    """The check at the top of ``training_loop`` (DLwPT §6.2.2): ``n_epochs``, then
    ``t_u_train, t_u_val, t_c_train, t_c_val`` as non-empty N×features tensors that match
    each other and the model's first layer."""
    from torch import Tensor

    check_positive_integer(n_epochs, "n_epochs")
    names = ("t_u_train", "t_u_val", "t_c_train", "t_c_val")
    for name, tensor in zip(names, tensors, strict=True):
        if not isinstance(tensor, Tensor) or tensor.dim() != 2:
            shape = tuple(getattr(tensor, "shape", ())) or type(tensor).__name__
            raise ValueError(
                f"{name} must be 2-D (samples × features, e.g. from .unsqueeze(1)), got {shape}"
            )
        if len(tensor) == 0:
            raise ValueError(f"{name} is empty: it holds no samples (len({name}) is 0)")
    for inputs, targets in ((0, 2), (1, 3)):
        if len(tensors[inputs]) != len(tensors[targets]):
            raise ValueError(
                f"{names[inputs]} and {names[targets]} must have the same length, got "
                f"{len(tensors[inputs])} and {len(tensors[targets])}"
            )
    first = first_linear(model)
    if first is not None and tensors[0].shape[1] != first.in_features:
        raise ValueError(
            f"t_u_train has {tensors[0].shape[1]} feature(s) per sample, but the model's "
            f"first layer takes {first.in_features}: build it as "
            f"nn.Linear({tensors[0].shape[1]}, ...)"
        )


def first_image(data: Any) -> Tensor | None:
    """The first image of a list of pairs, a DataLoader's dataset or a batch source."""
    import torch

    first_input = getattr(data, "first_input", None)  # the batch sources of ptm.batches
    if callable(first_input):
        return first_input()
    dataset = getattr(data, "dataset", data)
    if isinstance(dataset, Sequence | torch.utils.data.Dataset) and len(dataset) > 0:
        return torch.as_tensor(dataset[0][0])
    return None


def check_image_inputs(n_epochs: int, model: nn.Module, data: Any, name: str) -> None:
    """The check at the top of the chapter 7 loops (DLwPT §7.2.6): ``n_epochs``, then
    ``data`` (a list of ``(image, label)`` pairs, a DataLoader or a batch source) is not
    empty and holds images of the size the model's first layer takes."""
    check_positive_integer(n_epochs, "n_epochs")
    try:
        size = len(data)
    except TypeError:
        raise ValueError(
            f"{name} must be a list or a DataLoader, got {type(data).__name__}"
        ) from None
    if size == 0:
        raise ValueError(f"{name} is empty: it holds no samples (len({name}) is 0)")
    image, first = first_image(data), first_linear(model)
    if image is not None and first is not None and math.prod(image.shape) != first.in_features:
        raise ValueError(
            f"{name} holds images of shape {tuple(image.shape)} ({math.prod(image.shape)} "
            f"values), but the model's first layer takes {first.in_features}: build it for "
            "these images"
        )
