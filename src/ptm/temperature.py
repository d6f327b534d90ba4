"""The temperature problem of chapters 5 and 6 (DLwPT §6.2–§6.3).

Eleven readings of an old thermometer in an unknown unit (``t_u``) next to the same
temperatures in Celsius (``t_c``). This module holds the measurements as N×1 tensors,
the notes' train/validation split (seeded), the ×0.1 input normalisation, the three models
of the chapter, the figure that compares a fitted model with the measurements, and the
arithmetic that recovers the notes' starting weights from the losses they print.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor, nn

from ptm.checks import check_positive_integer
from ptm.lessons import training_loop
from ptm.plots import figure_and_axes
from ptm.recipes import NETWORK, TemperatureRecipe
from ptm.training import History, seeded

__all__ = [
    "CELSIUS",
    "NOTES_SPLIT_SEED",
    "UNKNOWN_UNITS",
    "TemperatureFit",
    "TemperatureSplit",
    "build_linear_model",
    "build_named_seq_model",
    "build_seq_model",
    "fit_temperature",
    "nonlinearity",
    "plot_temperature_fit",
    "recover_linear_start",
    "scale_readings",
    "split_train_val",
    "temperature_data",
]

CELSIUS = (0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0)
"""The eleven temperatures in degrees Celsius (``t_c``)."""

UNKNOWN_UNITS = (35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4)
"""The same temperatures read off the thermometer in its unknown unit (``t_u``)."""

NOTES_SPLIT_SEED = 18
"""The seed that gives the notes' split (DLwPT §6.2.2): ``torch.randperm(11)`` after
``torch.manual_seed(18)`` (or with a generator seeded 18) puts the readings 33.9 and 81.9,
in that order, in validation, as the notes' unseeded run did: their printed validation
answers are ``[[3.], [28.]]`` °C. 81.9 is the hottest of all eleven readings and lies
outside the training range 21.8–68.4, so on this split validation measures how well a
model *extrapolates*."""

INPUT_SCALE = 0.1
"""The book's normalisation: multiply ``t_u`` by 0.1 so inputs and weights are of similar size."""


def temperature_data() -> tuple[Tensor, Tensor]:
    """The measurements as float tensors of shape 11×1: ``(t_c, t_u)`` (DLwPT §6.2.2).

    The extra dimension is the feature axis that every ``nn`` module expects after the
    batch axis (B × N_in).
    """
    t_c = torch.tensor(CELSIUS).unsqueeze(1)
    t_u = torch.tensor(UNKNOWN_UNITS).unsqueeze(1)
    return t_c, t_u


def scale_readings(t_u: Tensor) -> Tensor:
    """Scale raw readings by `INPUT_SCALE` (×0.1), the book's normalisation (DLwPT §6.2.2)."""
    return INPUT_SCALE * t_u


@dataclass(frozen=True)
class TemperatureSplit:
    """A train/validation split of the measurements (DLwPT §6.2.2).

    The ``*_u`` tensors hold raw readings; use `scale_readings` (or the ``*_un`` properties)
    before feeding a model.
    """

    train_indices: Tensor
    val_indices: Tensor
    t_u_train: Tensor
    t_c_train: Tensor
    t_u_val: Tensor
    t_c_val: Tensor

    def __repr__(self) -> str:
        return (
            f"TemperatureSplit({len(self.train_indices)} training readings, validation "
            f"readings {[round(value, 4) for value in self.t_u_val.flatten().tolist()]} at "
            f"{self.val_indices.tolist()})"
        )

    @property
    def t_un_train(self) -> Tensor:
        """Normalised training inputs (×0.1)."""
        return scale_readings(self.t_u_train)

    @property
    def t_un_val(self) -> Tensor:
        """Normalised validation inputs (×0.1)."""
        return scale_readings(self.t_u_val)


def split_train_val(
    t_u: Tensor, t_c: Tensor, val_fraction: float = 0.2, seed: int | None = None
) -> TemperatureSplit:
    """Shuffle the samples with a seeded generator and hold out a validation set (DLwPT §6.2.2).

    The notes' steps: ``torch.randperm``, the last ``int(val_fraction * n_samples)``
    indices for validation (2 of 11 for the default 20 %), the others for training. The
    notes' shuffle is unseeded; here the same seed always gives the same split. With
    ``seed=None`` it is `NOTES_SPLIT_SEED`, which gives the notes' own split of the eleven
    readings: validation holds 33.9 and 81.9, the hottest reading, so it measures
    extrapolation.

    Raises:
        ValueError: inputs and targets of different lengths, or a fraction that leaves the
            training or the validation side empty.
    """
    if not isinstance(val_fraction, int | float) or not 0 < val_fraction < 1:
        raise ValueError(
            f"val_fraction must be a number between 0 and 1 (e.g. 0.2), got {val_fraction!r}"
        )
    if len(t_u) != len(t_c):
        raise ValueError(f"t_u and t_c must have the same length, got {len(t_u)} and {len(t_c)}")
    n_samples = len(t_u)
    n_val = int(val_fraction * n_samples)
    if not 0 < n_val < n_samples:
        raise ValueError(
            f"val_fraction={val_fraction!r} puts {n_val} of {n_samples} samples in validation; "
            "both sides need at least one sample"
        )
    generator = torch.Generator().manual_seed(NOTES_SPLIT_SEED if seed is None else seed)
    shuffled = torch.randperm(n_samples, generator=generator)
    train_indices, val_indices = shuffled[:-n_val], shuffled[-n_val:]
    return TemperatureSplit(
        train_indices=train_indices,
        val_indices=val_indices,
        t_u_train=t_u[train_indices],
        t_c_train=t_c[train_indices],
        t_u_val=t_u[val_indices],
        t_c_val=t_c[val_indices],
    )


def build_linear_model(seed: int | None = None) -> nn.Linear:
    """The linear model ``nn.Linear(1, 1)`` of §6.2.2; ``seed`` makes its start reproducible."""
    with seeded(seed):
        return nn.Linear(1, 1)


def build_seq_model(hidden_size: int = 13, seed: int | None = None) -> nn.Sequential:
    """The first neural network, ``Linear(1, hidden_size) → Tanh → Linear(hidden_size, 1)``
    (DLwPT §6.3.1); ``seed`` makes its start reproducible."""
    check_positive_integer(hidden_size, "hidden_size")
    with seeded(seed):
        return nn.Sequential(nn.Linear(1, hidden_size), nn.Tanh(), nn.Linear(hidden_size, 1))


def build_named_seq_model(hidden_size: int = 8, seed: int | None = None) -> nn.Sequential:
    """The same network with named submodules (§6.3.2), 8 hidden units as in the book.

    The names make parameters readable: ``hidden_linear.weight``, ``output_linear.bias``,
    and let you reach a submodule as an attribute, e.g. ``model.output_linear``.
    """
    check_positive_integer(hidden_size, "hidden_size")
    with seeded(seed):
        return nn.Sequential(
            OrderedDict(
                [
                    ("hidden_linear", nn.Linear(1, hidden_size)),
                    ("hidden_activation", nn.Tanh()),
                    ("output_linear", nn.Linear(hidden_size, 1)),
                ]
            )
        )


def recover_linear_start(
    train_loss: float,
    val_loss: float,
    t_un_train: Tensor,
    t_c_train: Tensor,
    t_un_val: Tensor,
    t_c_val: Tensor,
) -> list[tuple[float, float]]:
    """The starting weights and biases of ``nn.Linear(1, 1)`` that give both epoch-1 losses
    (DLwPT §6.2.2), to make the notes' printed run reappear.

    The notes train from a random start, so their numbers cannot be repeated by seeding.
    But their epoch-1 line prints both mean squared errors of that start, and a linear
    model's MSE is a quadratic in its weight ``w`` and bias ``b``:

        L(w, b) = mean((w·x + b − y)²) = w²·m(x²) + 2wb·m(x) + b² − 2w·m(xy) − 2b·m(y) + m(y²)

    Two equations, two unknowns. ``b²`` has the coefficient 1 in both, so the difference of
    the two equations is linear in ``b``: it gives ``b`` as a function of ``w``, and putting
    that into the training equation leaves one polynomial of degree 4 in ``w``. Its real
    roots are the starts that print those two losses; ``nn.Linear(1, 1)`` draws ``w`` and
    ``b`` from U(−1, 1), which singles out one of them for the notes' numbers. Computed in
    float64.

    Returns:
        Every ``(w, b)`` that gives both losses, those inside U(−1, 1) first.
    """
    from numpy.polynomial import Polynomial

    def means(inputs: Tensor, targets: Tensor) -> dict[str, float]:
        x, y = inputs.double().flatten(), targets.double().flatten()
        values = {"xx": x * x, "x": x, "xy": x * y, "y": y, "yy": y * y}
        return {name: float(value.mean()) for name, value in values.items()}

    train, val = means(t_un_train, t_c_train), means(t_un_val, t_c_val)
    gap = {name: train[name] - val[name] for name in train}
    w = Polynomial([0.0, 1.0])
    # train − val:  b · 2(w·Δm(x) − Δm(y))  =  (L_t − L_v) − Δm(y²) + 2w·Δm(xy) − w²·Δm(x²)
    numerator = Polynomial([train_loss - val_loss - gap["yy"], 2 * gap["xy"], -gap["xx"]])
    denominator = Polynomial([-2 * gap["y"], 2 * gap["x"]])
    # the training equation times denominator², with b = numerator / denominator
    quartic = (
        train["xx"] * w**2 * denominator**2
        + 2 * train["x"] * w * numerator * denominator
        + numerator**2
        - 2 * train["xy"] * w * denominator**2
        - 2 * train["y"] * numerator * denominator
        + (train["yy"] - train_loss) * denominator**2
    )
    starts = [
        (float(root.real), float(numerator(root.real) / denominator(root.real)))
        for root in quartic.roots()
        if abs(root.imag) < 1e-9 and abs(denominator(root.real)) > 1e-12
    ]
    return sorted(starts, key=lambda start: (max(abs(start[0]), abs(start[1])) > 1, start))


def plot_temperature_fit(
    model: nn.Module,
    t_u: Tensor,
    t_c: Tensor,
    *,
    ax: Axes | None = None,
    fahrenheit_range: tuple[float, float] = (20.0, 90.0),
    figsize: tuple[float, float] = (7, 5),
) -> Figure | Axes:
    """Compare a fitted model with the measurements (DLwPT §6.3.3).

    Draws the measurements as circles, the model's output over ``fahrenheit_range`` as a
    line and its predictions at the measured inputs as crosses. The model is given
    normalised inputs (×0.1), as it was trained.

    Args:
        model: a trained temperature model (1 input, 1 output).
        t_u: raw readings, N×1.
        t_c: temperatures in Celsius, N×1.
        ax: an axes to draw into; a new figure is made when omitted.
        fahrenheit_range: the span of the model curve.
        figsize: the size of a new figure in inches.

    Returns:
        A new Figure, or ``ax`` when given.
    """
    for name, tensor in (("t_u", t_u), ("t_c", t_c)):
        if not isinstance(tensor, Tensor) or tensor.dim() != 2 or tensor.shape[1] != 1:
            raise ValueError(
                f"{name} must be an N×1 tensor, as temperature_data() returns it, got shape "
                f"{tuple(getattr(tensor, 'shape', ()))}: add the feature axis with .unsqueeze(1)"
            )
    figure, ax = figure_and_axes(ax, figsize)
    device = next(model.parameters()).device
    t_range = torch.arange(*fahrenheit_range).unsqueeze(1)
    with torch.no_grad():
        curve = model(scale_readings(t_range).to(device)).cpu()
        predictions = model(scale_readings(t_u).to(device)).cpu()
    ax.plot(t_u.numpy(), t_c.numpy(), "o", label="measurements")
    ax.plot(t_range.numpy(), curve.numpy(), "c-", label="model")
    ax.plot(t_u.numpy(), predictions.numpy(), "kx", label="model at the measurements")
    ax.set_xlabel("Fahrenheit")
    ax.set_ylabel("Celsius")
    ax.legend()
    return figure or ax


def nonlinearity(model: nn.Module, fahrenheit_range: tuple[float, float] = (20.0, 90.0)) -> float:
    """How far a temperature model's curve bends: the root-mean-square distance, in °C, of
    its output over ``fahrenheit_range`` from the straight line that fits that output best
    (0 for the linear model; DLwPT §6 exercise 1)."""
    t_range = torch.linspace(*fahrenheit_range, 141).unsqueeze(1)
    device = next(model.parameters()).device
    with torch.no_grad():
        curve = model(scale_readings(t_range).to(device)).cpu().double()
    design = torch.cat([t_range, torch.ones_like(t_range)], dim=1).double()
    line = design @ torch.linalg.lstsq(design, curve).solution
    return float((curve - line).pow(2).mean().sqrt())


@dataclass
class TemperatureFit:
    """What `fit_temperature` returns: the trained model, its History, the split and the
    recipe it was trained with."""

    model: nn.Module
    history: History
    split: TemperatureSplit
    recipe: TemperatureRecipe


def build_temperature_model(recipe: TemperatureRecipe) -> nn.Module:
    """The recipe's model: ``nn.Linear(1, 1)`` for ``hidden_size=0`` (§6.2.2), else the
    named 1-H-1 network of §6.3.2, seeded with the recipe's seed."""
    if recipe.hidden_size == 0:
        return build_linear_model(recipe.seed)
    return build_named_seq_model(recipe.hidden_size, recipe.seed)


def fit_temperature(
    recipe: TemperatureRecipe = NETWORK,
    split: TemperatureSplit | None = None,
    *,
    log_every: int | None = None,
) -> TemperatureFit:
    """Chapter 6 in one call: build the recipe's model and train it with the notes' loop
    (DLwPT §6.2–§6.3). The one temperature trainer of ptm: the CLI, the figures and the
    exercises all train through it, so they give the chapter 6 notebook's numbers.

    Args:
        recipe: `ptm.recipes.NETWORK` (the 1-8-1 network, SGD at 1e-3 for 5,000 epochs),
            `ptm.recipes.LINEAR` (``nn.Linear(1, 1)``, SGD at 1e-2 for 3,000 epochs), or a
            variation of either (``ptm.recipes.vary(NETWORK, lr=5e-4)``).
        split: the readings to train and validate on; the notes' split when None.
        log_every: passed to `training_loop` (None prints nothing).

    Returns:
        The fit. When a loss becomes inf or NaN (the notes' loop does not stop by itself),
        the History keeps the epochs before it and ``history.stop_reason`` says why.
    """
    if split is None:
        t_c, t_u = temperature_data()
        split = split_train_val(t_u, t_c)
    model = build_temperature_model(recipe)
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    optimizer = optimizers[recipe.optimizer](model.parameters(), lr=recipe.lr)
    history = training_loop(
        recipe.n_epochs,
        optimizer,
        model,
        nn.MSELoss(),
        split.t_un_train,
        split.t_un_val,
        split.t_c_train,
        split.t_c_val,
        log_every=log_every,
    )
    history.stop_at_nonfinite(
        f"try normalising the inputs or a smaller learning rate (lr is {recipe.lr:g})"
    )
    return TemperatureFit(model, history, split, recipe)
