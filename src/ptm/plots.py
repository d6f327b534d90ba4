"""Figures shared by both chapters: training curves, images, confusion and shift (DLwPT §6–§7).

Every function takes results that already exist (a History, images, a matrix) and
returns a `matplotlib.figure.Figure`; none of them trains or loads anything. Figures are
made without pyplot, so nothing piles up in pyplot's global list of open figures; in
Jupyter a returned Figure shows when it is the last value of a cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

if TYPE_CHECKING:
    from ptm.training import History

__all__ = [
    "figure_and_axes",
    "image_for_display",
    "plot_accuracy",
    "plot_class_examples",
    "plot_confusion_matrix",
    "plot_history",
    "plot_images",
    "plot_loss",
    "plot_misclassified",
    "plot_shift_accuracy",
    "show_image",
]

Stats = Sequence[float]


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Use the caller's axes, or make a new Figure with one axes of ``figsize``."""
    if ax is not None:
        parent = ax.figure  # a Figure, or a SubFigure whose .figure is the root Figure
        return getattr(parent, "figure", None) or parent, ax
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.subplots()


def plot_loss(
    history: History,
    *,
    ax: Axes | None = None,
    log_scale: bool = False,
    figsize: tuple[float, float] = (6, 4),
) -> Figure:
    """Training (and validation) loss against epoch (DLwPT §6.2.2, §7.2.6)."""
    figure, ax = figure_and_axes(ax, figsize)
    ax.plot(history.epochs, history.train_loss, label="training loss")
    if history.val_loss:
        ax.plot(history.epochs, history.val_loss, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log_scale:
        ax.set_yscale("log")
    ax.legend()
    return figure


def plot_accuracy(
    history: History, *, ax: Axes | None = None, figsize: tuple[float, float] = (6, 4)
) -> Figure:
    """Training and validation accuracy against epoch (DLwPT §7.2.6).

    Raises:
        ValueError: the history holds no accuracy (train with ``track_accuracy=True``).
    """
    if not history.train_accuracy:
        raise ValueError("this history has no accuracy: train with track_accuracy=True")
    figure, ax = figure_and_axes(ax, figsize)
    ax.plot(history.epochs, history.train_accuracy, label="training accuracy")
    if history.val_accuracy:
        ax.plot(history.epochs, history.val_accuracy, label="validation accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return figure


def plot_history(history: History, *, log_scale: bool = False) -> Figure:
    """Loss curves, and beside them accuracy curves when the history has accuracy (§7.2.6)."""
    with_accuracy = bool(history.train_accuracy)
    figure = Figure(figsize=(12 if with_accuracy else 6, 4), layout="constrained")
    axes = figure.subplots(1, 2 if with_accuracy else 1, squeeze=False)[0]
    plot_loss(history, ax=axes[0], log_scale=log_scale)
    if with_accuracy:
        plot_accuracy(history, ax=axes[1])
    return figure


def image_for_display(
    image: Tensor | np.ndarray, mean: Stats | None, std: Stats | None
) -> np.ndarray:
    """An H×W×C array in [0, 1] that imshow draws without clipping (DLwPT §7.1.3–§7.1.4).

    Args:
        image: a C×H×W float tensor (normalised when ``mean`` and ``std`` are given, else
            in [0, 1]), a C×H×W uint8 tensor, an H×W×C uint8 array as stored in
            ``CIFAR10.data``, or a PIL image.
        mean, std: the per-channel statistics the image was normalised with, or None.
    """
    if not isinstance(image, Tensor | np.ndarray):  # e.g. a PIL image from CIFAR10[i]
        image = np.asarray(image)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if not isinstance(image, Tensor) or image.dim() != 3:
        shape = tuple(getattr(image, "shape", ()))
        raise ValueError(f"expected a C×H×W image tensor, got {type(image).__name__} {shape}")
    if image.dtype == torch.uint8:  # e.g. from torchvision.io.read_image
        image = image.float() / 255.0
    image = image.detach().cpu().float()
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std to un-normalise, or neither")
    if mean is not None:
        from ptm.cifar import unnormalize

        image = unnormalize(image, mean, std)
    # round-off can leave values a hair outside [0, 1]; imshow would warn about clipping them
    return image.clamp(0.0, 1.0).permute(1, 2, 0).numpy()


def show_image(
    image: Tensor | np.ndarray,
    mean: Stats | None = None,
    std: Stats | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (3, 3),
) -> Figure:
    """Show one image; a normalised tensor is un-normalised first (DLwPT §7.1.3–§7.1.4).

    Args:
        image: a C×H×W tensor or an H×W×C uint8 array.
        mean, std: the statistics it was normalised with (e.g. ``CIFAR10_MEAN``,
            ``CIFAR10_STD``); None for an image already in [0, 1].
        title: an optional title.
        ax: an axes to draw into; a new figure is made when omitted.
    """
    figure, ax = figure_and_axes(ax, figsize)
    ax.imshow(image_for_display(image, mean, std))
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return figure


def plot_images(
    images: Sequence[Tensor | np.ndarray] | Tensor | np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    mean: Stats | None = None,
    std: Stats | None = None,
    n_columns: int = 5,
    image_size: float = 1.8,
) -> Figure:
    """A grid of images with optional titles, un-normalised as `show_image` does (§7.1.3)."""
    n_images = len(images)
    if n_images == 0:
        raise ValueError("no images to plot")
    if titles is not None and len(titles) != n_images:
        raise ValueError(f"got {n_images} images but {len(titles)} titles")
    n_columns = min(n_columns, n_images)
    n_rows = -(-n_images // n_columns)
    figure = Figure(
        figsize=(image_size * n_columns, image_size * n_rows + 0.3), layout="constrained"
    )
    axes = figure.subplots(n_rows, n_columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < n_images:
            show_image(images[index], mean, std, title=titles[index] if titles else None, ax=ax)
        else:
            ax.set_axis_off()
    return figure


def plot_class_examples(
    images: np.ndarray | Tensor, labels: Sequence[int] | Tensor, class_names: Sequence[str]
) -> Figure:
    """One example image per class, in a grid titled with the class names (DLwPT §7.1.1).

    Args:
        images: raw images, N×H×W×C uint8 (``CIFAR10.data``) or N×C×H×W tensors in [0, 1].
        labels: the class index of each image.
        class_names: names indexed by class, e.g. ``CLASS_NAMES``.

    Raises:
        ValueError: a class has no example among the images.
    """
    labels = torch.as_tensor(labels)
    examples, missing = [], []
    for class_index, name in enumerate(class_names):
        found = torch.nonzero(labels == class_index)
        if len(found) == 0:
            missing.append(name)
        else:
            examples.append(images[int(found[0])])
    if missing:
        raise ValueError(f"no example of class(es) {missing} among {len(labels)} images")
    n_columns = 5 if len(class_names) > 5 else len(class_names)
    return plot_images(examples, list(class_names), n_columns=n_columns)


def plot_confusion_matrix(
    matrix: Tensor | np.ndarray,
    class_names: Sequence[str],
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (4, 4),
) -> Figure:
    """Draw a confusion matrix (rows: true class, columns: predicted) with its counts (§7.2.6)."""
    matrix = np.asarray(matrix)
    n_classes = len(class_names)
    if matrix.shape != (n_classes, n_classes):
        raise ValueError(f"expected a {n_classes}×{n_classes} matrix, got shape {matrix.shape}")
    figure, ax = figure_and_axes(ax, figsize)
    ax.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2
    for row in range(n_classes):
        for column in range(n_classes):
            count = matrix[row, column]
            ax.text(
                column,
                row,
                f"{count}",
                ha="center",
                va="center",
                color="white" if count > threshold else "black",
            )
    ax.set_xticks(range(n_classes), class_names)
    ax.set_yticks(range(n_classes), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return figure


def plot_misclassified(
    images: Tensor,
    labels: Tensor,
    predictions: Tensor,
    class_names: Sequence[str],
    *,
    mean: Stats | None = None,
    std: Stats | None = None,
    limit: int = 10,
) -> Figure:
    """The first ``limit`` images whose prediction is wrong, titled with the true and the
    predicted class (DLwPT §7.2.6). Normalised images are un-normalised for display.

    Raises:
        ValueError: the lengths differ, or no image is misclassified.
    """
    if not len(images) == len(labels) == len(predictions):
        raise ValueError(
            f"need as many images, labels and predictions, got {len(images)}, {len(labels)} "
            f"and {len(predictions)}"
        )
    wrong = torch.nonzero(torch.as_tensor(labels) != torch.as_tensor(predictions)).flatten()
    if len(wrong) == 0:
        raise ValueError("no image is misclassified: nothing to show")
    wrong = wrong[:limit]
    titles = [
        f"true {class_names[int(labels[i])]}\npredicted {class_names[int(predictions[i])]}"
        for i in wrong
    ]
    return plot_images(images[wrong], titles, mean=mean, std=std)


def plot_shift_accuracy(
    accuracy_by_shift: Mapping[int, float],
    *,
    ax: Axes | None = None,
    chance: float | None = 0.5,
    figsize: tuple[float, float] = (6, 4),
) -> Figure:
    """Accuracy against how far the images were shifted, in pixels (DLwPT §7.2.7)."""
    if not accuracy_by_shift:
        raise ValueError("no accuracies to plot")
    figure, ax = figure_and_axes(ax, figsize)
    shifts = sorted(accuracy_by_shift)
    ax.plot(shifts, [accuracy_by_shift[s] for s in shifts], "o-", label="validation accuracy")
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", label="chance")
    ax.set_xlabel("shift to the right (pixels)")
    ax.set_ylabel("accuracy")
    ax.set_xticks(shifts)
    ax.set_ylim(0, 1.02)
    ax.legend()
    return figure
