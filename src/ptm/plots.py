"""Figures shared by both chapters: training curves, images, confusion and shift (DLwPT §6–§7).

Every function takes results that already exist (a History, images, a matrix) and draws
them; none of them trains or loads anything.

The one convention of every plot function: without ``ax=`` it makes a new pyplot figure, a
`PtmFigure`, and returns it. In a notebook that figure shows exactly once wherever the call
stands in a cell (the last line, assigned to a name, before a ``print``, in a loop: once per
call, in an ``if``, before ``plt.show()``), with or without ``%matplotlib inline``: pyplot's
inline backend shows it when the cell ends, like any pyplot figure, after the cell's printed
text; when the figure itself is the cell's result it shows itself at once and leaves pyplot,
so it never shows twice. Outside a notebook it is an ordinary pyplot figure
(``plt.show()``, ``figure.savefig``). With ``ax=`` (an array of Axes for the functions that
draw a grid) the caller owns the figure: the function draws into it and returns what it was
given, as seaborn and pandas do.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

if TYPE_CHECKING:
    from ptm.training import History

__all__ = [
    "LiveCurves",
    "PtmFigure",
    "plot_accuracy",
    "plot_confusion_matrix",
    "plot_history",
    "plot_images",
    "plot_loss",
    "plot_misclassified",
    "plot_shift_accuracy",
    "show_image",
]

Stats = Sequence[float]


class PtmFigure(Figure):
    """A pyplot figure that shows itself once in a notebook, wherever it was made.

    When it is a cell's result (or given to ``display``), it publishes itself as one PNG and
    leaves pyplot, so the inline backend does not show it again at the end of the cell; in
    the same execution it is published at most once.
    """

    shown_in: int | None = None  # the execution count in which it was published

    def png(self, *, tight: bool = True) -> bytes:
        """The figure as PNG bytes, cropped to what it shows (``tight``, as the inline
        backend does; one more drawing pass) or as laid out."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight" if tight else None)
        return buffer.getvalue()

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        execution = getattr(shell, "execution_count", None)
        if execution is not None and self.shown_in == execution:
            return
        self.shown_in = execution
        import matplotlib.pyplot as plt

        if plt.fignum_exists(self.number):
            plt.close(self)  # the end of the cell would show it a second time
        display({"image/png": self.png(), "text/plain": repr(self)}, raw=True)

    def show(self, warn: bool = True) -> None:
        """Show the figure: once, as a picture, in a notebook; else as pyplot would."""
        if in_notebook():
            self._ipython_display_()
            return
        super().show(warn=warn)

    def __repr__(self) -> str:
        return f"<PtmFigure {self.bbox.width:.0f}×{self.bbox.height:.0f} px, {len(self.axes)} Axes>"


def new_figure(figsize: tuple[float, float]) -> PtmFigure:
    """A new pyplot `PtmFigure` of ``figsize`` inches, laid out without overlaps."""
    import matplotlib.pyplot as plt

    return plt.figure(FigureClass=PtmFigure, figsize=figsize, layout="constrained")


def small_multiples(
    n_panels: int, n_columns: int, panel_size: tuple[float, float], **shared: bool
) -> tuple[PtmFigure, list[Axes]]:
    """A new figure with one panel per item, ``n_columns`` to a row, the spare panels of the
    last row hidden; ``shared`` is given to ``subplots`` (``sharex=True``, ...)."""
    n_columns = min(n_columns, n_panels)
    n_rows = -(-n_panels // n_columns)
    width, height = panel_size
    figure = new_figure((width * n_columns, height * n_rows + 0.6))
    axes = list(np.asarray(figure.subplots(n_rows, n_columns, squeeze=False, **shared)).flat)
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    return figure, axes[:n_panels]


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure | None, Axes]:
    """``(None, ax)`` for the caller's axes, else a new figure with one axes of ``figsize``."""
    if ax is not None:
        return None, ax
    figure = new_figure(figsize)
    return figure, figure.subplots()


def figure_data(figure: Figure) -> list[dict[str, Any]]:
    """What a figure shows, as plain numbers: per axes its title and each line's label and
    y values (rounded to 6 significant digits), to compare figures without their pixels."""
    return [
        {
            "title": ax.get_title(),
            "lines": [
                {"label": line.get_label(), "y": [float(f"{y:.6g}") for y in line.get_ydata()]}
                for line in ax.get_lines()
            ],
        }
        for ax in figure.axes
    ]


def plot_loss(
    history: History,
    *,
    ax: Axes | None = None,
    log_scale: bool = False,
    figsize: tuple[float, float] = (6, 4),
) -> Figure | Axes:
    """Training (and validation) loss against epoch (DLwPT §6.2.2, §7.2.6).

    Returns a new figure, or the Axes when ``ax`` is given (see the module's notes)."""
    figure, ax = figure_and_axes(ax, figsize)
    ax.plot(history.epochs, history.train_loss, label="training loss")
    if history.val_loss:
        ax.plot(history.epochs, history.val_loss, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log_scale:
        ax.set_yscale("log")
    ax.legend()
    return figure or ax


def plot_accuracy(
    history: History, *, ax: Axes | None = None, figsize: tuple[float, float] = (6, 4)
) -> Figure | Axes:
    """Training and validation accuracy against epoch (DLwPT §7.2.6); the Axes with ``ax``.

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
    return figure or ax


def plot_history(
    history: History, *, log_scale: bool = False, ax: Sequence[Axes] | None = None
) -> Figure | Sequence[Axes]:
    """Loss curves, and beside them accuracy curves when the history has accuracy (§7.2.6).

    Args:
        history: a History, e.g. from `train_classifier`.
        log_scale: draw the loss on a log scale.
        ax: two axes (loss, accuracy) to draw into, or one when there is no accuracy;
            then they are returned instead of a new figure.
    """
    with_accuracy = bool(history.train_accuracy)
    n_panels = 2 if with_accuracy else 1
    figure = None
    if ax is None:
        figure = new_figure((12 if with_accuracy else 6, 4))
        axes = figure.subplots(1, n_panels, squeeze=False)[0]
    else:
        axes = list(np.asarray(ax, dtype=object).flat)
        if len(axes) < n_panels:
            raise ValueError(f"ax must hold {n_panels} axes for this history, got {len(axes)}")
    plot_loss(history, ax=axes[0], log_scale=log_scale)
    if with_accuracy:
        plot_accuracy(history, ax=axes[1])
    return figure or ax


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
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image))
    if not isinstance(image, Tensor) or image.dim() != 3:
        shape = tuple(getattr(image, "shape", ()))
        raise ValueError(
            f"image must be one C×H×W (or H×W×C) image, got {type(image).__name__} of shape "
            f"{shape}: for a batch, pass images[0] or use plot_images"
        )
    if image.shape[0] not in (1, 3, 4) and image.shape[-1] in (1, 3, 4):
        image = image.permute(2, 0, 1)  # channels last, as matplotlib keeps them
    if image.dtype == torch.uint8:  # e.g. from torchvision.io.read_image
        image = image.float() / 255.0
    image = image.detach().cpu().float()
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std to un-normalise, or neither")
    if mean is not None:
        from ptm.cifar_tensors import unnormalize

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
) -> Figure | Axes:
    """Show one image; a normalised tensor is un-normalised first (DLwPT §7.1.3–§7.1.4).

    Args:
        image: a C×H×W tensor (or H×W×C, as matplotlib keeps images), an H×W×C uint8
            array or a PIL image.
        mean, std: the statistics it was normalised with (e.g. ``CIFAR10_MEAN``,
            ``CIFAR10_STD``); None for an image already in [0, 1].
        title: an optional title.
        ax: an axes to draw into (then it is returned); a new figure is made when omitted.
    """
    pixels = image_for_display(image, mean, std)
    figure, ax = figure_and_axes(ax, figsize)
    ax.imshow(pixels)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return figure or ax


def plot_images(
    images: Sequence[Tensor | np.ndarray] | Tensor | np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    mean: Stats | None = None,
    std: Stats | None = None,
    n_columns: int = 5,
    image_size: float = 1.8,
    ax: Sequence[Axes] | None = None,
) -> Figure | Sequence[Axes]:
    """A grid of images with optional titles, un-normalised as `show_image` does (§7.1.3).

    Args:
        images: a sequence (or a batch tensor) of images, as `show_image` takes them.
        titles: one title per image, or None.
        mean, std: the normalisation to undo, or None.
        n_columns: images per row of a new figure.
        image_size: inches per image of a new figure.
        ax: at least as many axes as images to draw into (then they are returned); spare
            axes are hidden.
    """
    n_images = len(images)
    if n_images == 0:
        raise ValueError("images is empty: there is nothing to plot")
    if titles is not None and len(titles) != n_images:
        raise ValueError(f"got {n_images} images but {len(titles)} titles")
    figure = None
    if ax is None:
        figure, flat_axes = small_multiples(n_images, n_columns, (image_size, image_size))
    else:
        flat_axes = list(np.asarray(ax, dtype=object).flat)
        if len(flat_axes) < n_images:
            raise ValueError(f"ax must hold at least {n_images} axes, got {len(flat_axes)}")
    for index, one_ax in enumerate(flat_axes):
        if index < n_images:
            title = titles[index] if titles else None
            show_image(images[index], mean, std, title=title, ax=one_ax)
        else:
            one_ax.set_axis_off()
    return figure or ax


def plot_confusion_matrix(
    matrix: Tensor | np.ndarray,
    class_names: Sequence[str],
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (4, 4),
) -> Figure | Axes:
    """Draw a confusion matrix (rows: true class, columns: predicted) with its counts (§7.2.6).

    Returns a new figure, or the Axes when ``ax`` is given."""
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
    return figure or ax


def plot_misclassified(
    images: Tensor,
    labels: Tensor,
    predictions: Tensor,
    class_names: Sequence[str],
    *,
    mean: Stats | None = None,
    std: Stats | None = None,
    limit: int = 10,
    ax: Sequence[Axes] | None = None,
) -> Figure | Sequence[Axes]:
    """The first ``limit`` images whose prediction is wrong, titled with the true and the
    predicted class (DLwPT §7.2.6). Normalised images are un-normalised for display;
    ``ax`` as in `plot_images`.

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
    return plot_images(images[wrong], titles, mean=mean, std=std, ax=ax)


def plot_shift_accuracy(
    accuracy_by_shift: Mapping[int, float],
    *,
    ax: Axes | None = None,
    chance: float | None = 0.5,
    figsize: tuple[float, float] = (6, 4),
    label: str = "validation accuracy",
) -> Figure | Axes:
    """Accuracy against how far the images were shifted, in pixels (DLwPT §7.2.7).

    Returns a new figure, or the Axes when ``ax`` is given (draw several models into one
    axes by giving each its ``label``)."""
    if not accuracy_by_shift:
        raise ValueError("no accuracies to plot")
    figure, ax = figure_and_axes(ax, figsize)
    shifts = sorted(accuracy_by_shift)
    ax.plot(shifts, [accuracy_by_shift[s] for s in shifts], "o-", label=label)
    if chance is not None and not any(line.get_label() == "chance" for line in ax.get_lines()):
        ax.axhline(chance, color="grey", linestyle="--", label="chance")
    ax.set_xlabel("shift to the right (pixels)")
    ax.set_ylabel("accuracy")
    ax.set_xticks(shifts)
    ax.set_ylim(0, 1.02)
    ax.legend()
    return figure or ax


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a figure can be drawn and redrawn in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


class LiveCurves:
    """Training curves drawn while a run goes on: one notebook output updated in place
    (DLwPT §7.2.6), what a learner watches for: where does validation stop following training?

    `update` draws the History as `plot_history` does, at most once every ``min_seconds``
    and never sooner than 9 times the last drawing's own cost after it (a two-panel PNG
    costs about 0.1–0.2 s on 2 cores), so drawing takes at most a tenth of the training
    time; the benchmark measures it. `finish` draws the final curves. Used by
    ``train_classifier(..., live=True)`` and ``run_experiments(..., live=True)``.
    """

    def __init__(self, min_seconds: float = 1.0) -> None:
        self.min_seconds = min_seconds
        self.handle: Any = None
        self.last_drawn = -math.inf
        self.last_cost = 0.0
        self.title = ""
        self.n_updates = 0

    def render(self, history: History) -> bytes:
        """The curves as PNG bytes, from a figure pyplot never sees (it is drawn in place)."""
        figure = PtmFigure(figsize=(12 if history.train_accuracy else 6, 4), layout="constrained")
        n_panels = 2 if history.train_accuracy else 1
        plot_history(history, ax=figure.subplots(1, n_panels, squeeze=False)[0])
        if self.title:
            figure.suptitle(self.title)
        return figure.png(tight=False)  # laid out already: one drawing pass, not two

    def update(self, history: History, *, final: bool = False) -> None:
        """Redraw the curves, unless the last drawing is too recent (see the class notes)."""
        wait = max(self.min_seconds, 9 * self.last_cost)
        if not len(history) or (not final and time.perf_counter() - self.last_drawn < wait):
            return
        started = time.perf_counter()
        self.publish(self.render(history))
        self.n_updates += 1
        self.last_drawn = time.perf_counter()  # the wait starts after the drawing
        self.last_cost = self.last_drawn - started

    def publish(self, png: bytes) -> None:
        """Show the PNG: the first time as a new output, then in place of it."""
        from IPython.display import display

        image = {"image/png": png}
        if self.handle is None:
            self.handle = display(image, raw=True, display_id=True)
        else:
            self.handle.update(image, raw=True)

    def finish(self, history: History) -> None:
        """Draw the final curves."""
        self.update(history, final=True)
