"""The book's training recipes, each written once (DLwPT §6.2.2, §6.3, §7.2.6).

A recipe is the data of a run: model size, loss, learning rate, batch size, epochs, seed.
The command line builds its options and their help from these defaults, the exercises vary
them (``dataclasses.replace(CLASSIFIER, lr=1e-3)``), and a checkpoint stores the recipe it was
trained with and gives it back. Where to run (the device) and how to report (progress,
logging) are not part of a recipe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ptm.checks import check_learning_rate, check_positive_integer

__all__ = [
    "CLASSIFIER",
    "LINEAR",
    "NETWORK",
    "ClassifierRecipe",
    "TemperatureRecipe",
    "vary",
]

LOSSES = ("nll", "mse")
OPTIMIZERS = ("sgd", "adam")
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


@dataclass(frozen=True)
class ClassifierRecipe:
    """How the book trains the CIFAR-2 classifier (DLwPT §7.2.6), and what the exercises vary."""

    hidden_sizes: tuple[int, ...] = field(
        default=(512,), metadata={"help": "hidden layer sizes, e.g. 1024 512 128"}
    )
    activation: str = field(default="tanh", metadata={"help": "tanh, relu or sigmoid"})
    loss: str = field(
        default="nll", metadata={"help": "nll, or mse of the probabilities against one-hot"}
    )
    lr: float = field(default=1e-2, metadata={"help": "learning rate of SGD"})
    batch_size: int = field(default=64, metadata={"help": "images per step"})
    n_epochs: int = field(default=100, metadata={"help": "passes over the training images"})
    seed: int = field(default=0, metadata={"help": "seeds the weights and the order"})
    crop_padding: int = field(
        default=0, metadata={"help": "random crops of images padded by this many pixels"}
    )
    keep_best: bool = field(
        default=False, metadata={"help": "end with the epoch of best validation accuracy"}
    )

    def __post_init__(self) -> None:
        sizes = self.hidden_sizes
        if isinstance(sizes, int) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, tuple | list) or not sizes:
            raise ValueError(
                f"hidden_sizes must be an int or a tuple of ints such as (1024, 512, 128), "
                f"got {self.hidden_sizes!r}"
            )
        for size in sizes:
            check_positive_integer(size, "hidden_sizes")
        object.__setattr__(self, "hidden_sizes", tuple(sizes))
        _check_choice(self.activation, "activation", ACTIVATIONS)
        _check_choice(self.loss, "loss", LOSSES)
        check_learning_rate(self.lr)
        check_positive_integer(self.batch_size, "batch_size")
        check_positive_integer(self.n_epochs, "n_epochs")
        check_positive_integer(self.crop_padding, "crop_padding", minimum=0)


@dataclass(frozen=True)
class TemperatureRecipe:
    """How the book fits the thermometer (DLwPT §6.2.2, §6.3): full-batch steps on the
    notes' split, the loss measured before each step as in the notes' ``training_loop``."""

    hidden_size: int = field(default=8, metadata={"help": "hidden units; 0: the linear model"})
    optimizer: str = field(default="sgd", metadata={"help": "sgd, or adam"})
    lr: float = field(default=1e-3, metadata={"help": "learning rate"})
    n_epochs: int = field(default=5000, metadata={"help": "full-batch steps"})
    seed: int = field(default=0, metadata={"help": "seeds the initial weights"})

    def __post_init__(self) -> None:
        check_positive_integer(self.hidden_size, "hidden_size (0: the linear model)", minimum=0)
        _check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_learning_rate(self.lr)
        check_positive_integer(self.n_epochs, "n_epochs")


CLASSIFIER = ClassifierRecipe()
"""The notes' classifier: 3072-512-2 with tanh, NLL, SGD at 1e-2, batches of 64, 100 epochs."""

LINEAR = TemperatureRecipe(hidden_size=0, lr=1e-2, n_epochs=3000)
"""The notes' linear model (§6.2.2): SGD at 1e-2 for 3,000 epochs."""

NETWORK = TemperatureRecipe()
"""The notes' 1-8-1 network (§6.3.2): SGD at 1e-3 for 5,000 epochs."""


def vary(recipe: Any, **changes: Any) -> Any:
    """``recipe`` with some settings changed; an unknown setting is named in a ValueError.

    Example:
        >>> vary(CLASSIFIER, lr=1e-3).lr
        0.001
    """
    known = {item.name for item in dataclasses.fields(recipe)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}: expected some of {sorted(known)}")
    return dataclasses.replace(recipe, **changes)
