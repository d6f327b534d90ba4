"""Saving and loading trained classifiers, atomically (DLwPT §7.2.6).

A checkpoint holds the weights, the History, the architecture, the recipe they were trained
with (`ptm.recipes.ClassifierRecipe`) and other settings (normalisation, data, ...). Files
are written to a temporary name and renamed into place, so an interrupted save never leaves
a half-written file where a good one was.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ptm.classifier import architecture_label, build_fc_classifier, describe_architecture
from ptm.files import atomic_write
from ptm.recipes import CLASSIFIER, ClassifierRecipe, vary
from ptm.training import History

__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "ptm-checkpoint"
CHECKPOINT_VERSION = 2  # 2 (ptm 0.3) adds the recipe; version 1 files (ptm 0.2) still load
READABLE_VERSIONS = (1, 2)


PLAIN_TYPES = (str, int, float, bool, type(None))


def _check_plain(value: Any, where: str) -> None:
    """Raise if ``value`` is not made of plain values that any torch.load can read back."""
    if isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has a key {key!r} that is not a string")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise ValueError(
        f"{where} is a {type(value).__name__}; settings hold plain values only (str, int, "
        "float, bool, None, and lists or dicts of them): convert it, e.g. with str() or float()"
    )


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns: the model with its weights, and how it was made."""

    model: nn.Module
    history: History | None
    architecture: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    recipe: ClassifierRecipe | None = None

    def __repr__(self) -> str:
        trained = f"{len(self.history)} epochs" if self.history is not None else "no history"
        recipe = (
            ""
            if self.recipe is None
            else f", lr {self.recipe.lr:g}, batch {self.recipe.batch_size}"
        )
        return (
            f"Checkpoint({architecture_label(self.architecture)} classifier, {trained}{recipe}, "
            f"settings {sorted(self.settings)})"
        )


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    history: History | None = None,
    settings: dict[str, Any] | None = None,
    *,
    recipe: ClassifierRecipe | None = None,
) -> Path:
    """Save a classifier from `build_fc_classifier` with its history and settings (§7.2.6).

    Args:
        path: the file to write (atomically).
        model: the trained classifier.
        history: its training History, if any.
        settings: plain values describing the run, e.g. ``{"mean": [...], "std": [...]}``.
        recipe: the recipe it was trained with, given back by `load_checkpoint`.

    Returns:
        The path written.

    Raises:
        ValueError: a setting is not a plain value (a Path, a numpy number, ...).
    """
    _check_plain(dict(settings or {}), "settings")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "architecture": describe_architecture(model),
        "state_dict": {name: tensor.cpu() for name, tensor in model.state_dict().items()},
        "history": history.as_dict() if history is not None else None,
        "settings": dict(settings or {}),
        "recipe": None if recipe is None else _plain_recipe(recipe),
    }
    return atomic_write(path, lambda file: torch.save(payload, file))


def load_checkpoint(path: str | Path, model: nn.Module | None = None) -> Checkpoint:
    """Load a checkpoint written by `save_checkpoint` (DLwPT §7.2.6).

    Args:
        path: the checkpoint file.
        model: a model to load the weights into; when omitted, one is built from the
            stored architecture.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ValueError: the file is not a ptm checkpoint, or ``model`` has a different
            architecture than the one stored.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as error:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # torch's terminal colours
        first_line = text.splitlines()[0] if text else type(error).__name__
        raise ValueError(
            f"{path} is not a ptm checkpoint (torch could not read it: {first_line})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a ptm checkpoint (it has no '{CHECKPOINT_FORMAT}' marker)")
    if payload.get("version") not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} is a ptm checkpoint of version {payload.get('version')!r}, written by a "
            f"newer ptm; this ptm reads versions {', '.join(map(str, READABLE_VERSIONS))}: "
            "upgrade ptm (pip install -U ptm-dlwpt) to load it"
        )
    stored = payload["architecture"]
    if model is None:
        model = build_fc_classifier(
            stored["hidden_sizes"],
            in_features=stored["in_features"],
            n_classes=stored["n_classes"],
            activation=stored["activation"],
            log_softmax=stored["log_softmax"],
        )
    else:
        try:
            given = describe_architecture(model)
        except ValueError:
            given = None
        if given != stored:
            given_label = architecture_label(given) if given else type(model).__name__
            raise ValueError(
                f"{path} holds a {architecture_label(stored)} classifier "
                f"({stored}), but the model given is {given_label} ({given})"
            )
    model.load_state_dict(payload["state_dict"])
    history = History.from_dict(payload["history"]) if payload["history"] is not None else None
    stored_recipe = payload.get("recipe")  # absent in version 1
    recipe = None if stored_recipe is None else vary(CLASSIFIER, **stored_recipe)
    return Checkpoint(model, history, dict(stored), dict(payload["settings"]), recipe)


def _plain_recipe(recipe: ClassifierRecipe) -> dict[str, Any]:
    """The recipe as plain values (tuples as lists), readable by ``torch.load(weights_only)``."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(recipe).items()
    }
