"""The small training engine under the CLI, `train_classifier` and the benchmarks (§6.2.2, §7.2.6).

The notebooks show the book's own loops (`ptm.lessons`); this module is the general
machine that does the same work with the extras a long run needs: a History of every epoch,
accuracy, progress or live curves, a guard that stops when the loss becomes inf or NaN, and
on Ctrl-C the History kept with the model of the last completed epoch.

`fit` loops over a batch source that can be read again every epoch (`ptm.TensorBatches`,
which checks its tensors and moves them to the device once, `ptm.CroppedBatches`, a
DataLoader); `train_classifier` makes the `TensorBatches` from tensors.

One difference from the book's chapter 6 loop: the engine measures the validation loss
*after* each epoch's steps (as chapter 7 does); `ptm.lessons.training_loop` measures both
losses with the same parameters, before the step.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Union

import torch
from torch import Tensor, nn

from ptm.batches import TensorBatches, TensorPair, as_batches
from ptm.checks import check_positive_integer

__all__ = [
    "History",
    "LossFunction",
    "TrainingDivergedWarning",
    "direction_changes",
    "fit",
    "resolve_device",
]

LossFunction = Callable[[Tensor, Tensor], Tensor]
"""A loss: predictions and targets in, one number out (``nn.MSELoss()``, ``nn.NLLLoss()``)."""
Batches = Union[TensorPair, Iterable[TensorPair]]  # noqa: UP007 (a runtime alias)
"""Training or validation data: an (inputs, targets) pair of tensors, or any iterable of
(inputs, targets) batches such as a `torch.utils.data.DataLoader`."""

EVAL_BATCH_SIZE = 1024  # validation needs no gradients, so it can use larger batches


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became inf or NaN and training stopped early."""


@dataclass
class History:
    """What happened during training, one entry per completed epoch (DLwPT §6.2.2, §7.2.6).

    Attributes:
        epochs: epoch numbers, starting at 1.
        train_loss: the mean of each epoch's batch losses (each measured before its step).
        val_loss: the validation loss of each epoch (empty without validation data).
        train_accuracy: the fraction of training samples classified correctly during each
            epoch (empty unless accuracy is tracked).
        val_accuracy: the validation accuracy of each epoch (likewise).
        seconds: the wall-clock time of each epoch, validation included (the engine
            measures it; the lesson loops do not).
        stop_reason: why training stopped before ``n_epochs``, or None if it did not.
    """

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stop_reason: str | None = None

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        parts = [f"{len(self)} epochs"]
        for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name} {values[0]:.4g} → {values[-1]:.4g}")
        if self.stop_reason:
            parts.append("diverged")
        return f"History({', '.join(parts)})"

    @property
    def diverged(self) -> bool:
        """True when training stopped because the loss became inf or NaN."""
        return self.stop_reason is not None

    def record(self, epoch: int, seconds: float | None = None, **values: float | None) -> None:
        """Append one epoch: its number, its seconds if measured, and the values given by
        name, e.g. ``train_loss=0.5``; None values are skipped."""
        self.epochs.append(epoch)
        if seconds is not None:
            self.seconds.append(seconds)
        for name, value in values.items():
            if value is not None:
                getattr(self, name).append(value)

    def stop_at_nonfinite(self, advice: str) -> None:
        """Keep only the epochs before the first inf or NaN loss, and say why in
        `stop_reason` (for loops that, like the notes', do not stop by themselves)."""
        for index, epoch in enumerate(self.epochs):
            reason = nonfinite_reason(
                epoch,
                self.train_loss[index],
                self.val_loss[index] if self.val_loss else None,
                advice,
            )
            if reason:
                for name in (
                    "epochs",
                    "train_loss",
                    "val_loss",
                    "train_accuracy",
                    "val_accuracy",
                    "seconds",
                ):
                    del getattr(self, name)[index:]
                self.stop_reason = reason
                return

    def best_epoch(self) -> int:
        """The epoch with the best validation accuracy (else the lowest validation loss, else
        the lowest training loss); the first such epoch on a tie."""
        if not self.epochs:
            raise ValueError("the history is empty: no epoch was completed")
        scores = self.val_accuracy or [-loss for loss in (self.val_loss or self.train_loss)]
        return self.epochs[scores.index(max(scores))]

    def last(self) -> dict[str, float]:
        """The final epoch's numbers by name, e.g. ``{"epochs": 100, "train_loss": 0.01, ...}``."""
        if not self.epochs:
            raise ValueError("the history is empty: no epoch was completed")
        return {
            name: values[-1]
            for name, values in self.as_dict().items()
            if isinstance(values, list) and values
        }

    def describe_epoch(self, index: int = -1) -> str:
        """One readable line for an epoch, in the book's style, ending with its seconds."""
        parts = [f"Epoch {self.epochs[index]}", f"Training loss {self.train_loss[index]:.4f}"]
        if self.val_loss:
            parts.append(f"Validation loss {self.val_loss[index]:.4f}")
        if self.train_accuracy:
            parts.append(f"Training accuracy {self.train_accuracy[index]:.4f}")
        if self.val_accuracy:
            parts.append(f"Validation accuracy {self.val_accuracy[index]:.4f}")
        seconds = f" ({self.seconds[index]:.2f} s)" if self.seconds else ""
        return f"{', '.join(parts)}{seconds}"

    def as_dict(self) -> dict[str, Any]:
        """A plain dictionary, e.g. for JSON or a checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> History:
        """Rebuild a History from `as_dict`'s output."""
        return cls(**values)


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block with torch's global random generator seeded, then restore its state.

    With ``seed=None`` the block runs unchanged. Used to make model initialisation
    reproducible without changing the random state the caller sees afterwards.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` into a device (§7.2.6).

    ``"auto"`` picks CUDA when available, then Apple's MPS, then the CPU.

    Raises:
        ValueError: the name is not a device, or that device is not available here.
    """
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise ValueError(f"device must be a string such as 'auto' or 'cpu', got {device!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    expected = "expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}: {expected}") from None
    if resolved.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"unsupported device {device!r}: {expected}")
    available = {"cpu": True, "cuda": torch.cuda.is_available()}
    if not available.get(resolved.type, torch.backends.mps.is_available()):
        raise ValueError(
            f"device {device!r} was asked for, but {resolved.type.upper()} is not available "
            "here: use device='cpu' or 'auto'"
        )
    return resolved


def _correct(outputs: Tensor, targets: Tensor) -> Tensor:
    """How many rows of ``outputs`` have their largest score at the target class."""
    return (outputs.argmax(dim=1) == targets).sum()


def _sum_dtype(device: torch.device) -> torch.dtype:
    # float64 sums of float32 losses equal Python's sum of loss.item() values; MPS lacks it
    return torch.float32 if device.type == "mps" else torch.float64


def train_one_epoch(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
    batches: Iterable[TensorPair],
    device: torch.device,
    track_accuracy: bool = False,
) -> tuple[float, float | None]:
    """One pass over the batches; returns the mean batch loss and the accuracy (or None)."""
    model.train()
    # running sums stay on the device: reading a number back after every step would make
    # the device wait
    total_loss = torch.zeros((), device=device, dtype=_sum_dtype(device))
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    n_batches = n_samples = 0
    for inputs, targets in batches:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.detach()
        if track_accuracy:
            total_correct += _correct(outputs.detach(), targets)
        n_batches, n_samples = n_batches + 1, n_samples + len(targets)
    if n_batches == 0:
        raise ValueError("the training data is empty: it yielded no batches")
    return (
        total_loss.item() / n_batches,
        total_correct.item() / n_samples if track_accuracy else None,
    )


def evaluate(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    batches: Iterable[TensorPair],
    device: torch.device,
    track_accuracy: bool = False,
) -> tuple[float, float | None]:
    """Mean loss (and accuracy, or None) over every sample, without gradients (§7.2.6)."""
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device, dtype=_sum_dtype(device))
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    n_samples = 0
    with torch.no_grad():
        for inputs, targets in batches:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            total_loss += loss_fn(outputs, targets) * len(targets)
            if track_accuracy:
                total_correct += _correct(outputs, targets)
            n_samples += len(targets)
    model.train(was_training)
    if n_samples == 0:
        raise ValueError("the validation data is empty: it yielded no batches")
    return (
        total_loss.item() / n_samples,
        total_correct.item() / n_samples if track_accuracy else None,
    )


def progress_bar(
    total: int, enabled: bool, *, description: str = "training", unit: str = "epoch"
) -> Any:
    """A tqdm bar: a widget in Jupyter, text in a terminal, nothing when output is not a
    terminal (CI logs), when ``enabled`` is False, or with ``PTM_PROGRESS=0``."""
    if not enabled or os.environ.get("PTM_PROGRESS") == "0":
        return contextlib.nullcontext(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm warns when it falls back from widgets to text
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=description, disable=None, unit=unit)


def fit(
    model: nn.Module,
    loss_fn: LossFunction,
    optimizer: torch.optim.Optimizer,
    train_batches: Iterable[TensorPair],
    val_batches: Iterable[TensorPair] | None = None,
    *,
    n_epochs: int,
    device: str | torch.device = "cpu",
    track_accuracy: bool = False,
    log_every: int | None = None,
    progress: bool = False,
    keep_best: bool = False,
    on_epoch: Callable[[History], None] | None = None,
) -> History:
    """Train ``model`` for ``n_epochs`` and return its `History` (DLwPT §6.2.2, §7.2.6).

    Each epoch takes the training batches in turn (forward, loss, ``zero_grad``,
    ``backward``, ``step``), then measures the validation batches without gradients.

    Args:
        model: the model to train, in place; moved to ``device``.
        loss_fn: e.g. ``nn.MSELoss()`` or ``nn.NLLLoss()``.
        optimizer: an optimizer over ``model.parameters()``.
        train_batches: a batch source read once per epoch: `TensorBatches` (which checked
            its tensors when it was made), `ptm.CroppedBatches`, a DataLoader.
        val_batches: the same kinds, or None.
        n_epochs: passes over the training data; at least 1.
        device: ``"cpu"``, ``"cuda"``, ... (`resolve_device` turns ``"auto"`` into one).
        track_accuracy: also record training and validation accuracy (classification).
        log_every: print a line at epoch 1 and every ``log_every`` epochs; None: none.
        progress: show a progress bar over epochs.
        keep_best: at the end, give the model back the weights of
            `History.best_epoch` (the best validation accuracy) instead of the last ones.
        on_epoch: called with the History after every completed epoch (e.g. to draw live
            curves, `ptm.plots.LiveCurves`).

    Returns:
        The History of the completed epochs. If a loss becomes inf or NaN, training stops
        with a `TrainingDivergedWarning`, ``history.diverged`` is True and
        ``history.stop_reason`` says why; the model keeps the parameters of that step.

    Raises:
        ValueError: bad ``n_epochs`` or ``log_every``, a device that is not available, or
            data that is not a batch source.
        KeyboardInterrupt: on Ctrl-C, re-raised with the History of the completed epochs
            attached as ``error.history``; the model is given back the weights it had at
            the end of the last completed epoch, so model and History agree.
    """
    check_positive_integer(n_epochs, "n_epochs")
    if log_every is not None:
        check_positive_integer(log_every, "log_every")
    device = resolve_device(device)
    model.to(device)
    train_batches = as_batches(train_batches, "train_batches")
    val_batches = None if val_batches is None else as_batches(val_batches, "val_batches")
    history, best = History(), None
    completed = copy_weights(model)  # the weights at the end of the last completed epoch
    try:
        with progress_bar(n_epochs, progress) as bar:
            for epoch in range(1, n_epochs + 1):
                started = time.perf_counter()
                train_loss, train_accuracy = train_one_epoch(
                    model, loss_fn, optimizer, train_batches, device, track_accuracy
                )
                val_loss = val_accuracy = None
                if val_batches is not None:
                    val_loss, val_accuracy = evaluate(
                        model, loss_fn, val_batches, device, track_accuracy
                    )
                history.stop_reason = divergence(
                    epoch, train_loss, val_loss, train_batches, optimizer
                )
                if history.stop_reason:
                    warnings.warn(
                        history.stop_reason, TrainingDivergedWarning, stacklevel=_caller_level()
                    )
                    break
                history.record(
                    epoch, time.perf_counter() - started, train_loss=train_loss, val_loss=val_loss,
                    train_accuracy=train_accuracy, val_accuracy=val_accuracy,
                )  # fmt: skip
                completed = copy_weights(model)
                if keep_best and history.best_epoch() == epoch:
                    best = completed
                if log_every is not None and (epoch == 1 or epoch % log_every == 0):
                    print(history.describe_epoch())
                if bar is not None:
                    bar.update()
                if on_epoch is not None:
                    on_epoch(history)
    except KeyboardInterrupt as interrupt:
        model.load_state_dict(completed)  # no weights from inside an unfinished epoch
        interrupt.history = history  # type: ignore[attr-defined]
        raise
    if best is not None:
        model.load_state_dict(best)
    return history


def copy_weights(model: nn.Module) -> dict[str, Tensor]:
    """A copy of the model's state, to give back later with ``load_state_dict``."""
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def direction_changes(values: Sequence[float]) -> list[int]:
    """The epochs at which a curve turned from falling to rising, or back (DLwPT §6.3.3).

    ``values[0]`` is epoch 1; a turn at epoch ``e`` means the step into ``e`` and the step
    out of it went opposite ways. Many turns in a row are the bands of a loss that
    overshoots back and forth (full-batch gradient descent at the edge of stability).

    Example:
        >>> direction_changes([5.0, 4.0, 4.5, 3.0, 2.0])
        [2, 3]
    """
    steps = [later - earlier for earlier, later in itertools.pairwise(values)]
    return [epoch for epoch, (a, b) in enumerate(itertools.pairwise(steps), start=2) if a * b < 0]


def nonfinite_reason(
    epoch: int, train_loss: float, val_loss: float | None, advice: str
) -> str | None:
    """Why training must stop at ``epoch`` (a loss that is inf or NaN), or None: the one
    check of non-finite losses, for the engine, the temperature trainer and the CLI."""
    bad = [name for name, loss in (("training", train_loss), ("validation", val_loss))
           if loss is not None and not math.isfinite(loss)]  # fmt: skip
    if not bad:
        return None
    return f"the {bad[0]} loss became inf or NaN at epoch {epoch}, so training stopped: {advice}."


def divergence(
    epoch: int,
    train_loss: float,
    val_loss: float | None,
    train_batches: Iterable[TensorPair],
    optimizer: torch.optim.Optimizer,
) -> str | None:
    """Why the engine must stop at ``epoch`` (a loss that is inf or NaN), or None."""
    if all(loss is None or math.isfinite(loss) for loss in (train_loss, val_loss)):
        return None
    if isinstance(train_batches, TensorBatches) and not train_batches.finite:
        advice = "the training inputs contain NaN or inf values: clean or drop those samples"
    else:
        lr = optimizer.param_groups[0]["lr"]
        advice = f"try normalising the inputs or a smaller learning rate (lr is {lr:g})"
    return nonfinite_reason(epoch, train_loss, val_loss, advice)


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside ptm."""
    package_folder = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1  # the frame that calls warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package_folder
    ):
        frame, level = frame.f_back, level + 1
    return level
