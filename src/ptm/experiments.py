"""A small experiment runner for the chapters' exercises (DLwPT §6 and §7, exercises).

An experiment is a list of named configurations, each a dict of settings that change one of
the book's recipes (`ptm.recipes`: hidden sizes, learning rate, loss, random crops, epochs,
seed). `run_experiments` trains one model per configuration, seeded (the classifier with the
engine through `train_classifier`, the thermometer with the notes' loop through
`fit_temperature`), and collects one History each into `ExperimentResults`: a table (plain
text and HTML, no pandas) and comparison figures. A configuration that fails or
diverges is recorded as such in the table; the other runs go on.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor, nn

from ptm.augment import CroppedBatches
from ptm.classifier import build_fc_classifier, probability_mse, train_classifier
from ptm.plots import LiveCurves, figure_and_axes, in_notebook, small_multiples
from ptm.recipes import CLASSIFIER, NETWORK, ClassifierRecipe, TemperatureRecipe, vary
from ptm.tables import Table
from ptm.temperature import fit_temperature, plot_temperature_fit
from ptm.training import History, TrainingDivergedWarning, progress_bar

__all__ = ["ExperimentResults", "Run", "run_experiments"]

TASKS = {"classifier": CLASSIFIER, "temperature": NETWORK}
"""The recipe each task's settings vary: the book's classifier and the notes' 1-8-1 network."""


@dataclass
class Run:
    """One configuration's outcome: its recipe, its History and model, or why it stopped."""

    name: str
    recipe: Any
    status: str = "ok"
    history: History | None = None
    model: nn.Module | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the run trained every epoch."""
        return self.status == "ok"


def _classifier_run(
    recipe: ClassifierRecipe, data: Any, device: str, curves: LiveCurves | None
) -> tuple[nn.Module, History]:
    model = build_fc_classifier(recipe.hidden_sizes, activation=recipe.activation, seed=recipe.seed)
    loss_fn = nn.NLLLoss() if recipe.loss == "nll" else probability_mse
    train: Any = data.train
    if recipe.crop_padding:
        train = CroppedBatches(
            *data.train, recipe.batch_size, padding=recipe.crop_padding, mean=data.mean,
            std=data.std, seed=recipe.seed,
        )  # fmt: skip
    history = train_classifier(
        model, train, data.val, recipe, loss_fn=loss_fn, device=device, progress=False,
        log_every=None, live=curves or False,
    )  # fmt: skip
    return model, history


def _temperature_run(
    recipe: TemperatureRecipe, data: Any, device: str, curves: LiveCurves | None
) -> tuple[nn.Module, History]:
    """The notes' loop through `fit_temperature` (no live curves: it draws nothing)."""
    fitted = fit_temperature(recipe, data)
    return fitted.model, fitted.history


def run_experiments(
    configurations: Mapping[str, Mapping[str, Any]] | Sequence[tuple[str, Mapping[str, Any]]],
    task: str = "classifier",
    *,
    data: Any = None,
    device: str = "auto",
    progress: bool = True,
    live: bool = False,
) -> ExperimentResults:
    """Train one model per named configuration and collect the results (DLwPT exercises).

    Args:
        configurations: ``{"name": {setting: value, ...}, ...}`` or a list of
            ``(name, settings)`` pairs; each run is the task's book recipe with these
            settings changed (`ptm.recipes.CLASSIFIER` or `ptm.recipes.NETWORK`; a
            ``hidden_size`` of 0 is the linear model).
        task: ``"classifier"`` (CIFAR-2, needs ``data``, e.g. ``ptm.load_cifar2()``) or
            ``"temperature"`` (the chapter 6 measurements; ``data`` may be a split, the
            notes' split by default).
        data: the data every run trains on.
        device: where classifier runs train (``"auto"``, ``"cpu"``, ``"cuda"``, ...).
        progress: a progress bar over the runs.
        live: in a notebook, draw each classifier run's curves as they grow, in one output
            updated in place (titled with the run's name), instead of the progress bar.

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
    train = _classifier_run if task == "classifier" else _temperature_run
    curves = LiveCurves() if live and task == "classifier" and in_notebook() else None
    runs = []
    with progress_bar(
        len(pairs), progress and curves is None, description="runs", unit="run"
    ) as bar:
        for index, (name, given) in enumerate(pairs, start=1):
            if curves is not None:
                curves.title = f"run {index} of {len(pairs)}: {name}"
            run = Run(name, TASKS[task])
            started = time.perf_counter()
            try:
                run.recipe = vary(TASKS[task], **given)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TrainingDivergedWarning)  # recorded below
                    run.model, run.history = train(run.recipe, data, device, curves)
                if run.history.diverged:
                    run.status = f"diverged at epoch {len(run.history) + 1}"
            except Exception as error:  # a failed run is reported; the others go on
                run.status = f"failed: {type(error).__name__}: {error}"
            run.seconds = time.perf_counter() - started
            runs.append(run)
            if bar is not None:
                bar.update()
    return ExperimentResults(runs, task, data)


DECIMALS = {"final train loss": 4, "final val loss": 4, "final train accuracy": 3,
            "final val accuracy": 3, "gap": 3, "best val accuracy": 3, "seconds": 1}  # fmt: skip


@dataclass
class ExperimentResults:
    """The runs of `run_experiments`, as a table and as figures (DLwPT exercises).

    In a notebook it shows as an HTML table; ``str(results)`` is the same as plain text, each
    column with one fixed number of decimals.
    """

    runs: list[Run]
    task: str = "classifier"
    data: Any = field(default=None, repr=False)
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
            row.update({"run": run.name, "status": run.status, "seconds": run.seconds})
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

    def table(self) -> Table:
        """The rows as a `ptm.tables.Table`: losses to 4 decimals, accuracies to 3."""
        return Table(self.rows(), self.columns, decimals=DECIMALS)

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
        return str(self.table())

    def __repr__(self) -> str:
        statuses = [run.status.split(":")[0].split(" at ")[0] for run in self.runs]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        return f"ExperimentResults({len(self.runs)} {self.task} runs: {counts})"

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def plot(
        self, metric: str = "val_accuracy", *, ax: Axes | None = None, log_scale: bool = False
    ) -> Figure | Axes:
        """One curve per run of a History field (``"val_accuracy"``, ``"train_loss"``, ...)
        against epoch, the legend beside the axes; the Axes when ``ax`` is given. For more
        than a few runs, `plot_runs` draws one panel per run instead."""
        figure, ax = figure_and_axes(ax, (8, 4))
        for run in self.runs:
            values = getattr(run.history, metric, None) if run.history is not None else None
            if values:
                ax.plot(run.history.epochs[: len(values)], values, label=run.name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        if log_scale:
            ax.set_yscale("log")
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return figure or ax

    def plot_runs(
        self,
        metrics: Sequence[str] = ("train_loss", "val_loss"),
        *,
        log_scale: bool = False,
        n_columns: int = 4,
    ) -> Figure:
        """Small multiples: one panel per run, each with the given History fields against
        epoch, on shared axes so the panels compare; one legend for all, below them."""
        runs = [run for run in self.runs if run.history is not None and len(run.history)]
        if not runs:
            raise ValueError("no run has a history to draw")
        figure, axes = small_multiples(len(runs), n_columns, (3.2, 2.4), sharex=True, sharey=True)
        for ax, run in zip(axes, runs, strict=True):
            for metric in metrics:
                values = getattr(run.history, metric)
                ax.plot(run.history.epochs[: len(values)], values, label=metric.replace("_", " "))
            ax.set_title(run.name, fontsize="small")
            if log_scale:
                ax.set_yscale("log")
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(metrics))
        figure.supxlabel("epoch", fontsize="small")
        return figure

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
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return figure or ax

    def plot_fits(self, t_u: Tensor, t_c: Tensor, *, n_columns: int = 4) -> Figure:
        """Small multiples: each temperature run's fit against the measurements (§6.3.3).

        A grid of panels, one per run, so it makes its own figure (no ``ax=``)."""
        runs = [run for run in self.runs if run.model is not None]
        if not runs:
            raise ValueError("no run has a trained model to draw")
        figure, axes = small_multiples(len(runs), n_columns, (3.2, 2.6), sharey=True)
        for ax, run in zip(axes, runs, strict=True):
            plot_temperature_fit(run.model, t_u, t_c, ax=ax)
            ax.set_title(f"{run.name} ({run.status})", fontsize="small")
            ax.get_legend().remove()
            ax.set_xlabel("")
            ax.set_ylabel("")
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(labels))
        figure.supxlabel("Fahrenheit", fontsize="small")
        figure.supylabel("Celsius", fontsize="small")
        return figure
