"""The wine-quality data of chapter 4, for the chapter 6 exercise (DLwPT §4.3, §6 exercises).

``winequality-white.csv`` holds 4,898 white wines: 11 chemical measurements and a quality
score from 0 to 10, separated by semicolons, with a header row. ptm never downloads it (the
data set is published by the UCI Machine Learning Repository); it looks for the file in a
``p1ch4/`` folder beside the chapter 7 data folder (the same rule that places ``p1ch7/``), or
reads the path you give.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ptm.cifar_files import default_data_dir

__all__ = ["WINE_FILE", "WINE_URL", "Wine", "WineDataError", "default_wine_path", "load_wine"]

WINE_FILE = "winequality-white.csv"
WINE_URL = "https://archive.ics.uci.edu/dataset/186/wine+quality"
N_COLUMNS = 12  # 11 measurements and the quality score


class WineDataError(ValueError):
    """The wine file is malformed; the message names the file, the line and the column."""


@dataclass(frozen=True)
class Wine:
    """The wine-quality table as tensors (DLwPT §4.3).

    Attributes:
        features: N×11 float32 measurements.
        quality: N×1 float32 quality scores.
        feature_names: the 11 column names, e.g. ``"alcohol"``.
    """

    features: Tensor
    quality: Tensor
    feature_names: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Wine({len(self.quality):,} wines, {len(self.feature_names)} features)"


def default_wine_path() -> Path:
    """``p1ch4/winequality-white.csv`` beside the chapter 7 data folder (see `ptm env`)."""
    return default_data_dir().parent / "p1ch4" / WINE_FILE


def load_wine(path: str | Path | None = None) -> Wine:
    """Read ``winequality-white.csv`` into tensors (DLwPT §4.3).

    Args:
        path: the CSV file; `default_wine_path` when None.

    Raises:
        FileNotFoundError: no file there; the message names the file, the folder it looked
            in and where the data set is published.
        WineDataError: a line with the wrong number of cells, or a cell that is not a number
            (the message names the line and the column).
    """
    path = Path(path).expanduser() if path is not None else default_wine_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"the wine data {path.name} is not in {path.parent}. It is published by the UCI "
            f"Machine Learning Repository ({WINE_URL}): download it there and copy "
            f"{WINE_FILE} into that folder, or pass its path to load_wine()."
        )
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file, delimiter=";"))
    if not rows:
        raise WineDataError(f"{path} is empty")
    header, values = rows[0], []
    if len(header) != N_COLUMNS:
        raise WineDataError(
            f"{path}, line 1: expected {N_COLUMNS} semicolon-separated columns, got {len(header)}"
        )
    for line_number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != N_COLUMNS:
            raise WineDataError(
                f"{path}, line {line_number}: expected {N_COLUMNS} cells, got {len(row)}"
            )
        try:
            values.append([float(cell) for cell in row])
        except ValueError:
            column = next(i for i, cell in enumerate(row) if not _is_number(cell))
            raise WineDataError(
                f"{path}, line {line_number}, column {column + 1} ({header[column]}): "
                f"{row[column]!r} is not a number"
            ) from None
    if not values:
        raise WineDataError(f"{path} holds a header but no wines")
    table = torch.tensor(values, dtype=torch.float32)
    return Wine(table[:, :-1], table[:, -1:], tuple(name.strip() for name in header[:-1]))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
