"""A small experiment runner for the chapters' exercises (DLwPT §6 and §7, exercises).

An experiment is a list of named configurations, each a dict of settings (hidden sizes,
learning rate, loss, random crops, epochs, seed). `run_experiments` trains one model per
configuration with the engine (`ptm.training.fit`, through `train_classifier` for the
classifier), seeded, and collects one History each into `ExperimentResults`: a table
(plain text and HTML, no pandas) and comparison figures. A configuration that fails or
diverges is recorded as such in the table; the other runs go on.
"""

from __future__ import annotations

import html
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor, nn

from ptm.augment import CroppedBatches
from ptm.classifier import build_fc_classifier, probability_mse, train_classifier
from ptm.plots import figure_and_axes, new_figure
from ptm.temperature import (
    build_linear_model,
    build_seq_model,
    plot_temperature_fit,
    split_train_val,
    temperature_data,
)
from ptm.training import History, TrainingDivergedWarning, fit, progress_bar

__all__ = [
    "CLASSIFIER_SETTINGS",
    "TEMPERATURE_SETTINGS",
    "ExperimentResults",
    "Run",
    "run_experiments",
]

CLASSIFIER_SETTINGS = {
    "hidden_sizes": (512,),  # an int or a tuple, as build_fc_classifier takes them
    "activation": "tanh",
    "lr": 1e-2,
    "loss": "nll",  # or "mse": mean squared error of the probabilities against one-hot targets
    "crop_padding": 0,  # > 0: random crops of padded images every epoch (CroppedBatches)
    "n_epochs": 20,
    "batch_size": 64,
    "seed": 0,
    "keep_best": False,  # restore the weights of the epoch with the best validation accuracy
    "device": "auto",
}
"""The settings of a classifier run, with their defaults (DLwPT §7 exercises)."""

TEMPERATURE_SETTINGS = {
    "hidden_size": 8,  # 0: the linear model
    "lr": 1e-3,
    "optimizer": "sgd",  # or "adam"
    "n_epochs": 5000,
    "seed": 0,
}
"""The settings of a temperature run, with their defaults (DLwPT §6 exercises)."""


@dataclass
class Run:
    """One configuration's outcome: its History and model, or why it stopped."""

    name: str
    settings: dict[str, Any]
    status: str = "ok"
    history: History | None = None
    model: nn.Module | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the run trained every epoch."""
        return self.status == "ok"


def _classifier_run(settings: dict[str, Any], data: Any) -> tuple[nn.Module, History]:
    model = build_fc_classifier(
        settings["hidden_sizes"], activation=settings["activation"], seed=settings["seed"]
    )
    loss_fn = {"nll": nn.NLLLoss(), "mse": probability_mse}.get(settings["loss"])
    if loss_fn is None:
        raise ValueError(f"loss must be 'nll' or 'mse', got {settings['loss']!r}")
    train: Any = data.train
    if settings["crop_padding"]:
        padding, seed = settings["crop_padding"], settings["seed"]
        train = CroppedBatches(
            *data.train,
            settings["batch_size"],
            padding=padding,
            mean=data.mean,
            std=data.std,
            seed=seed,
        )
    history = train_classifier(
        model, train, data.val, n_epochs=settings["n_epochs"], batch_size=settings["batch_size"],
        lr=settings["lr"], loss_fn=loss_fn, seed=settings["seed"], device=settings["device"],
        progress=False, log_every=None, keep_best=settings["keep_best"],
    )  # fmt: skip
    return model, history


def _temperature_run(settings: dict[str, Any], data: Any) -> tuple[nn.Module, History]:
    split = data if data is not None else split_train_val(*reversed(temperature_data()))
    if settings["hidden_size"] == 0:
        model: nn.Module = build_linear_model(settings["seed"])
    else:
        model = build_seq_model(settings["hidden_size"], settings["seed"])
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    if settings["optimizer"] not in optimizers:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {settings['optimizer']!r}")
    optimizer = optimizers[settings["optimizer"]](model.parameters(), lr=settings["lr"])
    history = fit(
        model, nn.MSELoss(), optimizer,
        (split.t_un_train, split.t_c_train), (split.t_un_val, split.t_c_val),
        n_epochs=settings["n_epochs"],
    )  # fmt: skip
    return model, history


TASKS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any], Any], tuple[nn.Module, History]]]]
TASKS = {
    "classifier": (CLASSIFIER_SETTINGS, _classifier_run),
    "temperature": (TEMPERATURE_SETTINGS, _temperature_run),
}


def run_experiments(
    configurations: Mapping[str, Mapping[str, Any]] | Sequence[tuple[str, Mapping[str, Any]]],
    task: str = "classifier",
    *,
    data: Any = None,
    progress: bool = True,
) -> ExperimentResults:
    """Train one model per named configuration and collect the results (DLwPT exercises).

    Args:
        configurations: ``{"name": {setting: value, ...}, ...}`` or a list of
            ``(name, settings)`` pairs; settings left out take the defaults of
            `CLASSIFIER_SETTINGS` or `TEMPERATURE_SETTINGS`.
        task: ``"classifier"`` (CIFAR-2, needs ``data``, e.g. ``ptm.load_cifar2()``) or
            ``"temperature"`` (the chapter 6 measurements; ``data`` may be a split).
        data: the data every run trains on.
        progress: a progress bar over the runs.

    Returns:
        The `ExperimentResults`, one `Run` per configuration in the order given. A run that
        raises is recorded as ``failed: <message>``, one whose loss becomes inf or NaN as
        ``diverged``; the others go on.

    Raises:
        ValueError: no configurations, a name used twice, an unknown task, or the classifier
            task without data.
    """
    pairs = (
        list(configurations.items())
        if isinstance(configurations, Mapping)
        else list(configurations)
    )
    if not pairs:
        raise ValueError("configurations is empty: give at least one {name: settings}")
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"configuration names must be unique, got {repeated} more than once")
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    if task == "classifier" and data is None:
        raise ValueError("the classifier task needs data=, e.g. data=ptm.load_cifar2()")
    defaults, train = TASKS[task]
    runs = []
    with progress_bar(len(pairs), progress, description="runs", unit="run") as bar:
        for name, given in pairs:
            unknown = sorted(set(given) - set(defaults))
            run = Run(name, {**defaults, **given})
            started = time.perf_counter()
            try:
                if unknown:
                    raise ValueError(
                        f"unknown setting(s) {unknown}: expected some of {sorted(defaults)}"
                    )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TrainingDivergedWarning)  # recorded below
                    run.model, run.history = train(run.settings, data)
                if run.history.diverged:
                    run.status = f"diverged at epoch {len(run.history) + 1}"
            except Exception as error:  # a failed run is reported; the others go on
                run.status = f"failed: {type(error).__name__}: {error}"
            run.seconds = time.perf_counter() - started
            runs.append(run)
            if bar is not None:
                bar.update()
    return ExperimentResults(runs, task)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


@dataclass
class ExperimentResults:
    """The runs of `run_experiments`, as a table and as figures (DLwPT exercises).

    In a notebook it shows as an HTML table; ``str(results)`` is the same as plain text.
    """

    runs: list[Run]
    task: str = "classifier"
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        accuracies = ("final train accuracy", "final val accuracy", "gap", "best val accuracy",
                      "best epoch")  # fmt: skip
        self.columns = (
            ("run", "status", "final train loss", "final val loss")
            + (accuracies if self.task == "classifier" else ())
            + ("seconds",)
        )

    def __getitem__(self, name: str) -> Run:
        for run in self.runs:
            if run.name == name:
                return run
        raise KeyError(f"no run named {name!r}: the runs are {[run.name for run in self.runs]}")

    def rows(self) -> list[dict[str, Any]]:
        """One dict per run: its final and best numbers (None where a run has none)."""
        rows = []
        for run in self.runs:
            history = run.history if run.history is not None and len(run.history) else None
            row: dict[str, Any] = dict.fromkeys(self.columns)
            row.update({"run": run.name, "status": run.status, "seconds": round(run.seconds, 2)})
            if history is not None:
                row["final train loss"] = history.train_loss[-1]
                row["final val loss"] = history.val_loss[-1] if history.val_loss else None
                if history.val_accuracy:
                    best = history.best_epoch()
                    row["final train accuracy"] = history.train_accuracy[-1]
                    row["final val accuracy"] = history.val_accuracy[-1]
                    row["gap"] = history.train_accuracy[-1] - history.val_accuracy[-1]
                    row["best val accuracy"] = history.val_accuracy[history.epochs.index(best)]
                    row["best epoch"] = best
            rows.append({column: row[column] for column in self.columns})
        return rows

    def best(self, column: str = "final val accuracy", *, lowest: bool = False) -> Run:
        """The run with the highest (or ``lowest``) value in a column of `rows`."""
        scored = [
            (row[column], run)
            for row, run in zip(self.rows(), self.runs, strict=True)
            if isinstance(row[column], int | float) and math.isfinite(row[column])
        ]
        if not scored:
            raise ValueError(f"no run has a value for {column!r}")
        return (min if lowest else max)(scored, key=lambda pair: pair[0])[1]

    def __str__(self) -> str:
        table = [list(self.columns)] + [[_format(v) for v in row.values()] for row in self.rows()]
        widths = [max(len(line[i]) for line in table) for i in range(len(self.columns))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
                 for line in table]  # fmt: skip
        return "\n".join(line.rstrip() for line in lines)

    def __repr__(self) -> str:
        statuses = [run.status.split(":")[0].split(" at ")[0] for run in self.runs]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        return f"ExperimentResults({len(self.runs)} {self.task} runs: {counts})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_format(v))}</td>" for v in row.values()) + "</tr>"
            for row in self.rows()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def plot(
        self, metric: str = "val_accuracy", *, ax: Axes | None = None, log_scale: bool = False
    ) -> Figure | Axes:
        """One curve per run of a History field (``"val_accuracy"``, ``"train_loss"``, ...)
        against epoch; the Axes when ``ax`` is given."""
        figure, ax = figure_and_axes(ax, (7, 4))
        for run in self.runs:
            values = getattr(run.history, metric, None) if run.history is not None else None
            if values:
                ax.plot(run.history.epochs[: len(values)], values, label=run.name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        if log_scale:
            ax.set_yscale("log")
        ax.legend(fontsize="small")
        return figure or ax

    def plot_gap(self, *, ax: Axes | None = None) -> Figure | Axes:
        """Final training and validation accuracy per run, the gap between them shaded."""
        rows = [row for row in self.rows() if row.get("final val accuracy") is not None]
        if not rows:
            raise ValueError("no run has accuracies to compare")
        figure, ax = figure_and_axes(ax, (7, 4))
        positions = np.arange(len(rows))
        train = [row["final train accuracy"] for row in rows]
        val = [row["final val accuracy"] for row in rows]
        ax.plot(positions, train, "o-", label="training accuracy")
        ax.plot(positions, val, "s-", label="validation accuracy")
        ax.fill_between(positions, val, train, alpha=0.2, label="gap")
        ax.set_xticks(positions, [row["run"] for row in rows], rotation=20)
        ax.set_ylabel("accuracy after the last epoch")
        ax.legend()
        return figure or ax

    def plot_fits(self, t_u: Tensor, t_c: Tensor, *, n_columns: int = 3) -> Figure:
        """Small multiples: each temperature run's fit against the measurements (§6.3.3).

        A grid of panels, one per run, so it makes its own figure (no ``axes=``)."""
        runs = [run for run in self.runs if run.model is not None]
        if not runs:
            raise ValueError("no run has a trained model to draw")
        n_columns = min(n_columns, len(runs))
        n_rows = -(-len(runs) // n_columns)
        figure = new_figure((4 * n_columns, 3 * n_rows))
        axes = list(np.asarray(figure.subplots(n_rows, n_columns, squeeze=False, sharey=True)).flat)
        for ax, run in zip(axes, runs, strict=False):
            plot_temperature_fit(run.model, t_u, t_c, ax=ax)
            ax.set_title(f"{run.name} ({run.status})", fontsize="small")
            ax.get_legend().remove()
        for ax in axes[len(runs) :]:
            ax.set_axis_off()
        return figure
