"""The one training engine of ptm (DLwPT §6.2.2 and §7.2.6).

Chapter 6 fits the temperature model on all eleven measurements at once (full batch);
chapter 7 trains the CIFAR-2 classifier on mini-batches of 64 images. Both are the same
loop: for each epoch, take batches, compute the loss, step the optimizer, then measure
the validation data. `fit` is that loop and returns a `History`; `training_loop` is the
book-shaped wrapper of §6.2.2 around it.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Union

import torch
from torch import Tensor, nn

__all__ = [
    "History",
    "TrainingDivergedWarning",
    "evaluate_loss",
    "fit",
    "resolve_device",
    "seeded",
    "train_one_epoch",
    "training_loop",
]

TensorPair = tuple[Tensor, Tensor]
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
        train_loss: the mean training loss over each epoch's batches.
        val_loss: the validation loss after each epoch (empty without validation data).
        train_accuracy: the fraction of training samples classified correctly during each
            epoch (empty unless accuracy is tracked).
        val_accuracy: the validation accuracy after each epoch (likewise).
        seconds: the wall-clock time of each epoch, validation included.
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

    @property
    def diverged(self) -> bool:
        """True when training stopped because the loss became inf or NaN."""
        return self.stop_reason is not None

    def last(self) -> dict[str, float]:
        """The final epoch's numbers by name, e.g. ``{"epochs": 100, "train_loss": 0.01, ...}``."""
        if not self.epochs:
            raise ValueError("the history is empty: no epoch was completed")
        return {
            name: values[-1]
            for name, values in self.as_dict().items()
            if isinstance(values, list) and values
        }

    def describe_epoch(self, index: int = -1, *, with_seconds: bool = True) -> str:
        """One readable line for an epoch, in the book's style."""
        parts = [f"Epoch {self.epochs[index]}", f"Training loss {self.train_loss[index]:.4f}"]
        if self.val_loss:
            parts.append(f"Validation loss {self.val_loss[index]:.4f}")
        if self.train_accuracy:
            parts.append(f"Training accuracy {self.train_accuracy[index]:.4f}")
        if self.val_accuracy:
            parts.append(f"Validation accuracy {self.val_accuracy[index]:.4f}")
        line = ", ".join(parts)
        return f"{line} ({self.seconds[index]:.2f} s)" if with_seconds else line

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
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"unknown device {device!r}: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but CUDA is not available here")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for, but MPS is not available here")
    if resolved.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(
            f"unsupported device {device!r}: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        )
    return resolved


def _check_pair(pair: TensorPair, name: str) -> TensorPair:
    """Validate an (inputs, targets) pair: two tensors of the same, non-zero length."""
    if not (isinstance(pair, tuple | list) and len(pair) == 2):
        raise ValueError(f"{name} must be an (inputs, targets) pair, got {type(pair).__name__}")
    inputs, targets = pair
    if not isinstance(inputs, Tensor) or not isinstance(targets, Tensor):
        raise ValueError(
            f"{name} must hold two tensors, got {type(inputs).__name__} and "
            f"{type(targets).__name__}"
        )
    if inputs.dim() == 0 or targets.dim() == 0:
        raise ValueError(f"{name} must hold tensors with a batch dimension, got scalars")
    if len(inputs) != len(targets):
        raise ValueError(
            f"{name} inputs and targets must have the same length, got {len(inputs)} and "
            f"{len(targets)}"
        )
    if len(inputs) == 0:
        raise ValueError(f"{name} is empty: it holds no samples")
    return inputs, targets


def is_tensor_pair(data: Any) -> bool:
    """True for an (inputs, targets) pair of tensors, False for an iterable of batches."""
    return isinstance(data, tuple | list) and len(data) == 2 and isinstance(data[0], Tensor)


def _tensor_batches(
    inputs: Tensor,
    targets: Tensor,
    batch_size: int | None,
    shuffle: bool,
    generator: torch.Generator | None,
) -> Iterator[TensorPair]:
    """Yield mini-batches of a tensor pair by indexing, without a Python loop over samples."""
    n_samples = len(inputs)
    if batch_size is None or (batch_size >= n_samples and not shuffle):
        yield inputs, targets
        return
    if shuffle:
        order = torch.randperm(n_samples, generator=generator).to(inputs.device)
    else:
        order = torch.arange(n_samples, device=inputs.device)
    for start in range(0, n_samples, batch_size):
        indices = order[start : start + batch_size]
        yield inputs.index_select(0, indices), targets.index_select(0, indices)


def _count_batches(data: Batches, batch_size: int | None) -> int | None:
    if is_tensor_pair(data):
        n_samples = len(data[0])
        return 1 if batch_size is None else math.ceil(n_samples / batch_size)
    try:
        return len(data)  # type: ignore[arg-type]
    except TypeError:
        return None


def _correct(outputs: Tensor, targets: Tensor) -> Tensor:
    """How many rows of ``outputs`` have their largest score at the target class."""
    return (outputs.argmax(dim=1) == targets).sum()


def train_one_epoch(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
    batches: Iterable[TensorPair],
    *,
    device: torch.device | str = "cpu",
    track_accuracy: bool = False,
    on_batch: Callable[[], Any] | None = None,
) -> tuple[float, float | None]:
    """One pass over the training batches: the heart of every training loop (DLwPT §6.2.2).

    Returns:
        ``(mean_loss, accuracy)`` over the epoch's samples; accuracy is None unless
        ``track_accuracy``. Each batch's loss is measured before its own step.
    """
    model.train()
    # running sums, kept as tensors on the device (reading a number back after every step
    # would make the device wait); each step's tensors are freed as soon as it ends
    total_loss, total_correct, n_samples = 0.0, 0, 0
    for inputs, targets in batches:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)  # forward pass
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()  # forget the previous step's gradients
        loss.backward()  # gradient of the loss with respect to every parameter
        optimizer.step()  # move each parameter a small step against its gradient
        total_loss = total_loss + loss.detach() * len(targets)
        if track_accuracy:
            total_correct = total_correct + _correct(outputs.detach(), targets)
        n_samples += len(targets)
        if on_batch is not None:
            on_batch()
    if n_samples == 0:
        raise ValueError("training data is empty: it yielded no batches")
    accuracy = int(total_correct) / n_samples if track_accuracy else None
    return float(total_loss) / n_samples, accuracy


def evaluate_loss(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    data: Batches,
    *,
    device: torch.device | str = "cpu",
    track_accuracy: bool = False,
) -> tuple[float, float | None]:
    """Mean loss (and accuracy) of ``model`` over ``data``, without gradients (DLwPT §7.2.6).

    Returns:
        ``(mean_loss, accuracy)``; accuracy is None unless ``track_accuracy``.
    """
    device = torch.device(device)
    if is_tensor_pair(data):
        inputs, targets = _check_pair(data, "validation data")  # type: ignore[arg-type]
        batches: Iterable[TensorPair] = _tensor_batches(
            inputs.to(device), targets.to(device), EVAL_BATCH_SIZE, shuffle=False, generator=None
        )
    else:
        batches = data  # type: ignore[assignment]
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    n_samples = 0
    with torch.no_grad():
        for batch_inputs, batch_targets in batches:
            batch_inputs, batch_targets = batch_inputs.to(device), batch_targets.to(device)
            outputs = model(batch_inputs)
            total_loss += loss_fn(outputs, batch_targets) * len(batch_targets)
            if track_accuracy:
                total_correct += _correct(outputs, batch_targets)
            n_samples += len(batch_targets)
    model.train(was_training)
    if n_samples == 0:
        raise ValueError("validation data is empty: it yielded no batches")
    accuracy = total_correct.item() / n_samples if track_accuracy else None
    return total_loss.item() / n_samples, accuracy


def _progress_bar(
    total: int, description: str, enabled: bool, leave: bool = True, unit: str = "epoch"
) -> Any:
    """A tqdm bar: a widget in Jupyter (text if ipywidgets is missing), text in a terminal,
    nothing when output is not a terminal (CI logs), when ``enabled`` is False, or when
    the environment sets ``PTM_PROGRESS=0`` (headless notebook runs)."""
    if not enabled or os.environ.get("PTM_PROGRESS") == "0":
        return contextlib.nullcontext(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm warns when it falls back from widgets to text
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=description, leave=leave, disable=None, unit=unit)


def fit(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
    train_data: Batches,
    val_data: Batches | None = None,
    *,
    n_epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    device: str | torch.device = "cpu",
    track_accuracy: bool = False,
    log_every: int | None = None,
    log: Callable[[str], None] = print,
    log_seconds: bool = True,
    validate_before_step: bool = False,
    progress: bool = False,
) -> History:
    """Train ``model`` for ``n_epochs`` and return its `History` (DLwPT §6.2.2, §7.2.6).

    Each epoch takes the training batches in turn (forward pass, loss, ``zero_grad``,
    ``backward``, ``step``), then measures the validation data without gradients.

    Args:
        model: the model to train, in place.
        loss_fn: e.g. ``nn.MSELoss()`` or ``nn.NLLLoss()``.
        optimizer: an optimizer over ``model.parameters()``.
        train_data: an (inputs, targets) pair of tensors, or an iterable of batches such
            as a DataLoader (then it decides batch size and order).
        val_data: the same kinds of data, or None.
        n_epochs: how many passes over the training data; at least 1.
        batch_size: for a tensor pair, the mini-batch size; None trains on the whole
            pair at once (full batch, as in chapter 6).
        shuffle: for a tensor pair in mini-batches, draw a new order every epoch.
        seed: seeds the shuffling, so the same seed gives the same batch order.
        device: where to train; the model and the data move there together.
        track_accuracy: also record training and validation accuracy (classification).
        log_every: log a summary line at epoch 1 and every ``log_every`` epochs; None
            logs nothing.
        log: where summary lines go; ``print`` by default.
        log_seconds: end each summary line with the epoch's duration.
        validate_before_step: measure the validation data at the start of each epoch,
            with the same parameters as the training loss of a full batch (the book's
            chapter 6 loop); by default it is measured after the epoch's steps.
        progress: show a progress bar over epochs (and over batches for long epochs).

    Returns:
        The History of the completed epochs. If the loss becomes inf or NaN, training
        stops, a `TrainingDivergedWarning` is issued (Python shows a warning once per
        place in the code, so check ``history.diverged`` rather than rely on seeing it),
        the History keeps the epochs before it and its ``stop_reason`` says what
        happened. The model keeps the parameters of the step that diverged.

    Raises:
        ValueError: ``n_epochs`` or ``batch_size`` below 1, or data that is empty or has
            inputs and targets of different lengths.
    """
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
        raise ValueError(f"n_epochs must be an integer of at least 1, got {n_epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be an integer of at least 1 or None, got {batch_size!r}")
    if log_every is not None and log_every < 1:
        raise ValueError(f"log_every must be at least 1 or None, got {log_every!r}")
    device = resolve_device(device)
    model.to(device)

    for name, data in (("training data", train_data), ("validation data", val_data)):
        if isinstance(data, Iterator):  # a generator, say, rather than a DataLoader
            raise ValueError(
                f"{name} is a one-shot iterator, used up after one epoch: pass a tensor pair "
                "or a DataLoader, which can be read again every epoch"
            )
    if is_tensor_pair(train_data):
        train_inputs, train_targets = _check_pair(train_data, "training data")  # type: ignore[arg-type]
        train_inputs, train_targets = train_inputs.to(device), train_targets.to(device)
    if val_data is not None and is_tensor_pair(val_data):
        val_inputs, val_targets = _check_pair(val_data, "validation data")  # type: ignore[arg-type]
        val_data = (val_inputs.to(device), val_targets.to(device))
    generator = torch.Generator().manual_seed(seed) if seed is not None else None

    n_batches = _count_batches(train_data, batch_size)
    show_batch_bar = progress and n_batches is not None and n_batches >= 1000
    history = History()
    with _progress_bar(n_epochs, "training", progress) as epoch_bar:
        for epoch in range(1, n_epochs + 1):
            started = time.perf_counter()
            val_loss = val_accuracy = None
            if val_data is not None and validate_before_step:
                val_loss, val_accuracy = evaluate_loss(
                    model, loss_fn, val_data, device=device, track_accuracy=track_accuracy
                )
            if is_tensor_pair(train_data):
                batches: Iterable[TensorPair] = _tensor_batches(
                    train_inputs, train_targets, batch_size, shuffle, generator
                )
            else:
                batches = train_data  # type: ignore[assignment]
            batch_bar = _progress_bar(
                n_batches or 0, f"epoch {epoch}", show_batch_bar, False, "batch"
            )
            with batch_bar as bar:
                train_loss, train_accuracy = train_one_epoch(
                    model,
                    loss_fn,
                    optimizer,
                    batches,
                    device=device,
                    track_accuracy=track_accuracy,
                    on_batch=bar.update if bar else None,
                )
            if val_data is not None and not validate_before_step:
                val_loss, val_accuracy = evaluate_loss(
                    model, loss_fn, val_data, device=device, track_accuracy=track_accuracy
                )
            bad_loss = _first_non_finite(training=train_loss, validation=val_loss)
            if bad_loss is not None:
                history.stop_reason = (
                    f"the {bad_loss} became inf or NaN at epoch {epoch}, so training stopped "
                    f"there. Try normalising the inputs or a smaller learning rate (lr is "
                    f"{optimizer.param_groups[0]['lr']:g})."
                )
                warnings.warn(
                    history.stop_reason, TrainingDivergedWarning, stacklevel=_caller_stacklevel()
                )
                break
            history.epochs.append(epoch)
            history.train_loss.append(train_loss)
            if val_loss is not None:
                history.val_loss.append(val_loss)
            if train_accuracy is not None:
                history.train_accuracy.append(train_accuracy)
                if val_accuracy is not None:
                    history.val_accuracy.append(val_accuracy)
            history.seconds.append(time.perf_counter() - started)
            if log_every is not None and (epoch == 1 or epoch % log_every == 0):
                log(history.describe_epoch(with_seconds=log_seconds))
            if epoch_bar is not None:
                epoch_bar.update()
    return history


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside ptm."""
    package_folder = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1  # the frame that calls warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package_folder
    ):
        frame, level = frame.f_back, level + 1
    return level


def _first_non_finite(**losses: float | None) -> str | None:
    """The name (e.g. "training loss") of the first loss that is inf or NaN, or None."""
    for name, value in losses.items():
        if value is not None and not math.isfinite(value):
            return f"{name} loss"
    return None


def _require_2d(**tensors: Tensor) -> None:
    for name, tensor in tensors.items():
        if not isinstance(tensor, Tensor):
            raise ValueError(f"{name} must be a tensor, got {type(tensor).__name__}")
        if tensor.dim() != 2:
            raise ValueError(
                f"{name} must be 2-D (samples × features, e.g. from .unsqueeze(1)), got shape "
                f"{tuple(tensor.shape)}"
            )


def training_loop(
    n_epochs: int,
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    t_u_train: Tensor,
    t_u_val: Tensor,
    t_c_train: Tensor,
    t_c_val: Tensor,
    *,
    log_every: int | None = 1000,
    log: Callable[[str], None] = print,
) -> History:
    """The book's full-batch training loop, with its argument order (DLwPT §6.2.2).

    Prints the training and validation loss at epoch 1 and every ``log_every`` epochs
    and returns the per-epoch `History`. As in the book, both losses of an epoch are
    measured with the same parameters, before that epoch's optimizer step.

    Args:
        n_epochs: number of epochs, at least 1.
        optimizer: e.g. ``optim.SGD(model.parameters(), lr=1e-2)``.
        model: e.g. ``nn.Linear(1, 1)``.
        loss_fn: e.g. ``nn.MSELoss()``.
        t_u_train, t_u_val: training and validation inputs, N×1.
        t_c_train, t_c_val: training and validation targets, N×1.
        log_every: how often to print; None prints nothing.
        log: where the lines go; ``print`` by default.

    Returns:
        The History (``history.train_loss``, ``history.val_loss``).

    Raises:
        ValueError: ``n_epochs < 1``, tensors that are not 2-D, or inputs and targets of
            different lengths.
    """
    _require_2d(t_u_train=t_u_train, t_u_val=t_u_val, t_c_train=t_c_train, t_c_val=t_c_val)
    for inputs_name, inputs, targets_name, targets in [
        ("t_u_train", t_u_train, "t_c_train", t_c_train),
        ("t_u_val", t_u_val, "t_c_val", t_c_val),
    ]:
        if len(inputs) != len(targets):
            raise ValueError(
                f"{inputs_name} and {targets_name} must have the same length, got "
                f"{len(inputs)} and {len(targets)}"
            )
    return fit(
        model,
        loss_fn,
        optimizer,
        (t_u_train, t_c_train),
        (t_u_val, t_c_val),
        n_epochs=n_epochs,
        log_every=log_every,
        log=log,
        log_seconds=False,
        validate_before_step=True,
    )
