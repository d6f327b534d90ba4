"""The loops the notes write by hand, in the book's shape (DLwPT §6.2.2, §7.2.6).

These four functions are the lesson: the notebooks print their code and call them, so the
numbers on the page come from exactly the lines a learner reads. Each reads top to bottom
like the book: forward, loss, ``zero_grad``, ``backward``, ``step``. Input checks sit in
one call at the top; there are no progress bars, callbacks or Ctrl-C handling here (that
is the engine's job, `ptm.training.fit`). Each returns a `History` of its epochs.

Like the book's loops, they do not stop when the loss becomes inf or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ptm.training import History

__all__ = ["accuracy_loop", "minibatch_loop", "per_sample_loop", "training_loop"]

LossFunction = Callable[[Tensor, Tensor], Tensor]


def training_loop(
    n_epochs: int,
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss_fn: LossFunction,
    t_u_train: Tensor,
    t_u_val: Tensor,
    t_c_train: Tensor,
    t_c_val: Tensor,
    *,
    log_every: int | None = 1000,
) -> History:
    """The book's full-batch training loop, with its argument order (DLwPT §6.2.2).

    Both losses of an epoch are measured with the same parameters, before that epoch's
    step; a line is printed at epoch 1 and every ``log_every`` epochs (None: never).

    Returns:
        The History (``history.train_loss``, ``history.val_loss``).

    Raises:
        ValueError: ``n_epochs < 1``, tensors that are not N×features, inputs and targets
            of different lengths, or inputs the model cannot take.
    """
    _check_temperature_inputs(n_epochs, model, t_u_train, t_u_val, t_c_train, t_c_val)
    history = History()
    for epoch in range(1, n_epochs + 1):
        t_p_train = model(t_u_train)
        loss_train = loss_fn(t_p_train, t_c_train)

        t_p_val = model(t_u_val)
        loss_val = loss_fn(t_p_val, t_c_val)

        optimizer.zero_grad()
        loss_train.backward()
        optimizer.step()

        history.record(epoch, train_loss=loss_train.item(), val_loss=loss_val.item())
        if log_every and (epoch == 1 or epoch % log_every == 0):
            print(f"Epoch {epoch}, Training loss {loss_train.item():.4f},"
                  f" Validation loss {loss_val.item():.4f}")  # fmt: skip
    return history


def per_sample_loop(
    n_epochs: int,
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss_fn: LossFunction,
    cifar2: Sequence[tuple[Tensor, int]],
) -> History:
    """The notes' first classifier loop: one image per step, in the data's order (§7.2.6).

    ``cifar2`` is the notes' list of ``(image, label)`` pairs (`ptm.cifar2_list`), taken in
    its order, as the notes do; for a new random order every epoch, pass
    ``DataLoader(cifar2, batch_size=1, shuffle=True)`` to `minibatch_loop` instead. Prints the
    epoch's mean loss after every epoch.
    """
    _check_image_inputs(n_epochs, model, cifar2, "cifar2")
    history = History()
    for epoch in range(1, n_epochs + 1):
        loss_train = 0.0
        for img, label in cifar2:
            out = model(img.view(-1).unsqueeze(0))
            loss = loss_fn(out, torch.tensor([label]))

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            loss_train += loss.item()
        history.record(epoch, train_loss=loss_train / len(cifar2))
        print(f"Epoch {epoch}, Training loss {loss_train / len(cifar2):.4f}")
    return history


def minibatch_loop(
    n_epochs: int,
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss_fn: LossFunction,
    train_loader: Iterable[tuple[Tensor, Tensor]],
    *,
    device: str | torch.device = "cpu",
    log_every: int | None = 10,
) -> History:
    """The notes' mini-batch loop over a ``DataLoader`` (DLwPT §7.2.6).

    ``train_loader`` may be any batch source that can be read every epoch: a
    ``DataLoader`` as in the notes, or ptm's `TensorBatches` (the same batches cut from
    one tensor). Batches move to ``device`` as chapter 8 writes it; move the model there
    first (``model.to(device)``). Prints the mean batch loss at epoch 1 and every
    ``log_every`` epochs (1: every epoch, as the notes; None: never).
    """
    _check_image_inputs(n_epochs, model, train_loader, "train_loader")
    history = History()
    for epoch in range(1, n_epochs + 1):
        loss_train = 0.0
        for imgs, labels in train_loader:
            imgs = imgs.to(device=device)
            labels = labels.to(device=device)
            batch_size = imgs.shape[0]
            outputs = model(imgs.view(batch_size, -1))
            loss = loss_fn(outputs, labels)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            loss_train += loss.item()
        history.record(epoch, train_loss=loss_train / len(train_loader))
        if log_every and (epoch == 1 or epoch % log_every == 0):
            print(f"Epoch {epoch}, Training loss {loss_train / len(train_loader):.4f}")
    return history


def accuracy_loop(
    model: nn.Module,
    val_loader: Iterable[tuple[Tensor, Tensor]],
    *,
    device: str | torch.device = "cpu",
) -> float:
    """The notes' accuracy loop: count the correct predictions, batch by batch (§7.2.6)."""
    _check_image_inputs(1, model, val_loader, "val_loader")
    correct = 0
    total = 0
    with torch.no_grad():
        for imgs, labels in val_loader:
            imgs = imgs.to(device=device)
            labels = labels.to(device=device)
            batch_size = imgs.shape[0]
            outputs = model(imgs.view(batch_size, -1))
            _, predicted = torch.max(outputs, dim=1)
            total += labels.shape[0]
            correct += int((predicted == labels).sum())
    return correct / total


# -- the one check at the top of each loop ---------------------------------------------


def _check_n_epochs(n_epochs: int) -> None:
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
        raise ValueError(f"n_epochs must be an integer of at least 1, got {n_epochs!r}")


def _input_features(model: nn.Module) -> int | None:
    """How many numbers per sample the model's first linear layer takes, if it has one."""
    first = next((module for module in model.modules() if isinstance(module, nn.Linear)), None)
    return first.in_features if first is not None else None


def _check_temperature_inputs(n_epochs: int, model: nn.Module, *tensors: Tensor) -> None:
    _check_n_epochs(n_epochs)
    names = ("t_u_train", "t_u_val", "t_c_train", "t_c_val")
    for name, tensor in zip(names, tensors, strict=True):
        if not isinstance(tensor, Tensor) or tensor.dim() != 2:
            shape = tuple(getattr(tensor, "shape", ())) or type(tensor).__name__
            raise ValueError(
                f"{name} must be 2-D (samples × features, e.g. from .unsqueeze(1)), got {shape}"
            )
    for inputs, targets in ((0, 2), (1, 3)):
        if len(tensors[inputs]) != len(tensors[targets]):
            raise ValueError(
                f"{names[inputs]} and {names[targets]} must have the same length, got "
                f"{len(tensors[inputs])} and {len(tensors[targets])}"
            )
    features = _input_features(model)
    if features is not None and tensors[0].shape[1] != features:
        raise ValueError(
            f"t_u_train has {tensors[0].shape[1]} feature(s) per sample, but the model's "
            f"first layer takes {features}: build it as nn.Linear({tensors[0].shape[1]}, ...)"
        )


def _first_image(data: Any) -> Tensor | None:
    """The first image of a list of pairs, a DataLoader's dataset or `TensorBatches`."""
    if hasattr(data, "inputs"):  # TensorBatches
        return data.inputs[0]
    dataset = getattr(data, "dataset", data)
    if isinstance(dataset, Sequence | torch.utils.data.Dataset) and len(dataset) > 0:
        return torch.as_tensor(dataset[0][0])
    return None


def _check_image_inputs(n_epochs: int, model: nn.Module, data: Any, name: str) -> None:
    _check_n_epochs(n_epochs)
    try:
        size = len(data)
    except TypeError:
        raise ValueError(
            f"{name} must be a list or a DataLoader, got {type(data).__name__}"
        ) from None
    if size == 0:
        raise ValueError(f"{name} is empty: it holds no samples (len({name}) is 0)")
    image, features = _first_image(data), _input_features(model)
    if image is not None and features is not None and math.prod(image.shape) != features:
        raise ValueError(
            f"{name} holds images of shape {tuple(image.shape)} ({math.prod(image.shape)} "
            f"values), but the model's first layer takes {features}: build it for these images"
        )
