"""Artificial neurons and activation functions (DLwPT §6.1).

A neuron is a linear transformation followed by a fixed non-linear function:
``o = f(w * x + b)``. This module holds that neuron, the six activation functions
of §6.1.4 (computed with torch's own functions) and the two figures of the section:
the activation grid and the composition of tanh units of §6.1.6.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from ptm.plots import figure_and_axes, new_figure

__all__ = ["ACTIVATIONS", "neuron", "plot_activations", "plot_tanh_composition"]

Activation = Callable[[Tensor], Tensor]

LEAKY_RELU_SLOPE = 0.1  # steeper than torch's 0.01 default, so the leak shows in the figure

ACTIVATIONS: dict[str, Activation] = {
    "tanh": torch.tanh,
    "hardtanh": F.hardtanh,
    "sigmoid": torch.sigmoid,
    # softmax turns a whole vector into probabilities, so it needs the dimension to sum over
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=LEAKY_RELU_SLOPE),
}
"""The six activation functions of §6.1.4, by name, each mapping a tensor to a tensor."""


def neuron(
    x: Tensor | float,
    weight: Tensor | float,
    bias: Tensor | float,
    activation: Activation = torch.tanh,
) -> Tensor:
    """One artificial neuron, ``activation(weight * x + bias)`` (DLwPT §6.1).

    Args:
        x: the input, a number or a tensor.
        weight: the neuron's weight ``w``.
        bias: the neuron's bias ``b``.
        activation: the non-linear function ``f``; tanh by default.

    Returns:
        The neuron's output as a tensor.

    Example:
        >>> round(float(neuron(2.5, weight=1.0, bias=0.0)), 4)  # tanh(2.5), the 'dog' score
        0.9866
    """
    return activation(torch.as_tensor(weight) * torch.as_tensor(x) + torch.as_tensor(bias))


def plot_activations(
    x: Tensor | None = None,
    *,
    ax: Sequence[Axes] | None = None,
    figsize: tuple[float, float] = (12, 6),
) -> Figure | Sequence[Axes]:
    """Draw the six activation functions of DLwPT §6.1.4, one titled axes each.

    Args:
        x: the inputs to evaluate; 200 points over [-10, 10] by default.
        ax: six axes (e.g. a 2×3 array) to draw into, then returned; by default a new 2×3
            figure.
        figsize: the size of a new figure in inches.

    Returns:
        The Figure, with one axes per activation in the order of ``ACTIVATIONS``, or the
        axes given.
    """
    if x is None:
        x = torch.linspace(-10, 10, 200)
    if ax is not None:
        flat_axes = list(np.asarray(ax, dtype=object).flat)
        if len(flat_axes) != len(ACTIVATIONS):
            raise ValueError(f"ax must hold {len(ACTIVATIONS)} axes, got {len(flat_axes)}")
    figure = None
    if ax is None:  # only once the arguments are known to be good: no stray empty figure
        figure = new_figure(figsize)
        flat_axes = list(figure.subplots(2, 3).flat)
    for one_ax, (name, activation) in zip(flat_axes, ACTIVATIONS.items(), strict=True):
        one_ax.plot(x.numpy(), activation(x).numpy())
        one_ax.set_title(name)
        one_ax.axhline(0, color="grey", linewidth=0.5)
        one_ax.axvline(0, color="grey", linewidth=0.5)
    return figure or ax


@dataclass(frozen=True)
class TanhUnit:
    """A tanh neuron ``tanh(weight * x + bias)`` with a readable label (DLwPT §6.1.6)."""

    weight: float
    bias: float

    def __call__(self, x: Tensor) -> Tensor:
        return torch.tanh(self.weight * x + self.bias)

    def label(self, inner: str = "x") -> str:
        """The unit written out, e.g. ``tanh(-2*x - 1.25)``; ``inner`` replaces ``x``."""
        sign = "-" if self.bias < 0 else "+"
        return f"tanh({self.weight:g}*{inner} {sign} {abs(self.bias):g})"


# The four units of the book's §6.1.6 figure: A and B form the first layer, C and D the second.
FIRST_LAYER = {"A": TanhUnit(-2.0, -1.25), "B": TanhUnit(1.0, 0.75)}
SECOND_LAYER = {"C": TanhUnit(4.0, 1.0), "D": TanhUnit(-3.0, -1.5)}


def plot_tanh_composition(
    x: Tensor | None = None, *, ax: Axes | None = None, figsize: tuple[float, float] = (12, 7)
) -> Figure | Axes:
    """Show how sums and compositions of tanh units build new shapes (DLwPT §6.1.6).

    Draws the identity, the first-layer units A and B and their sum, the second-layer
    units C and D and their sum, then C and D applied to A+B and the sum of those two.
    Every legend label is generated from the weights and biases the curves use.

    Args:
        x: the inputs; 200 points over [-3, 3] by default.
        ax: an axes to draw into; a new figure is made when omitted.
        figsize: the figure size in inches, for a new figure.

    Returns:
        A new Figure holding the axes with ten labelled curves, or ``ax`` when given.
    """
    if x is None:
        x = torch.linspace(-3, 3, 200)
    (a_name, a), (b_name, b) = FIRST_LAYER.items()
    (c_name, c), (d_name, d) = SECOND_LAYER.items()
    a_plus_b = a(x) + b(x)
    curves = [
        ("x", x),
        (f"{a_name}: {a.label()}", a(x)),
        (f"{b_name}: {b.label()}", b(x)),
        (f"{a_name}+{b_name}", a_plus_b),
        (f"{c_name}: {c.label()}", c(x)),
        (f"{d_name}: {d.label()}", d(x)),
        (f"{c_name}+{d_name}", c(x) + d(x)),
        (f"{c_name}({a_name}+{b_name}): {c.label('(A+B)')}", c(a_plus_b)),
        (f"{d_name}({a_name}+{b_name}): {d.label('(A+B)')}", d(a_plus_b)),
        (f"{c_name}({a_name}+{b_name})+{d_name}({a_name}+{b_name})", c(a_plus_b) + d(a_plus_b)),
    ]
    figure, ax = figure_and_axes(ax, figsize)
    for label, y in curves:
        ax.plot(x.numpy(), y.numpy(), label=label)
    ax.set_xlabel("x")
    ax.set_title("Sums and compositions of tanh units (§6.1.6)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_ylim(-2.5, 2.5)
    return figure or ax
