"""The loops the notes write by hand, in the book's shape (DLwPT §6.2.2, §7.2.6).

These four functions are the lesson. The notebooks define the same functions in code cells,
line for line (a test keeps the two equal), and call them there, so the numbers on the page
come from exactly the lines a learner reads and edits; this module is the copy to import in
your own notebooks. Each reads top to bottom like the book: forward, loss, ``zero_grad``,
``backward``, ``step``. Input checks sit in one call at the top; there are no progress bars,
callbacks or Ctrl-C handling here (that is the engine's job, `ptm.training.fit`). Each
returns a `History` of its epochs.

Like the book's loops, they do not stop when the loss becomes inf or NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from ptm.checks import check_image_inputs, check_temperature_inputs
from ptm.training import History, LossFunction

__all__ = ["accuracy_loop", "minibatch_loop", "per_sample_loop", "training_loop"]


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
    check_temperature_inputs(n_epochs, model, t_u_train, t_u_val, t_c_train, t_c_val)
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
    check_image_inputs(n_epochs, model, cifar2, "cifar2")
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
    check_image_inputs(n_epochs, model, train_loader, "train_loader")
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
    check_image_inputs(1, model, val_loader, "val_loader")
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
