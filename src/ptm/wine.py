"""The wine-quality data of chapter 4, for the chapter 6 exercise (DLwPT §4.3, §6 exercises).

``winequality-white.csv`` holds 4,898 white wines: 11 chemical measurements and a quality
score from 0 to 10, separated by semicolons, with a header row. ptm never downloads it (the
data set is published by the UCI Machine Learning Repository); it looks for the file where the
book's data folder keeps it, ``p1ch4/tabular-wine/``, and in ``p1ch4/``, both beside the chapter
7 data folder (the same rule that places ``p1ch7/``), or reads the path you give.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ptm.data_folder import default_data_dir

__all__ = ["WINE_FILE", "Wine", "WineDataError", "load_wine", "wine_paths"]

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


def wine_paths() -> list[Path]:
    """Where `load_wine` looks for the file, in order: the book's ``p1ch4/tabular-wine/`` and
    ``p1ch4/``, beside the chapter 7 data folder (see ``ptm env``)."""
    chapter4 = default_data_dir().parent / "p1ch4"
    return [chapter4 / "tabular-wine" / WINE_FILE, chapter4 / WINE_FILE]


def load_wine(path: str | Path | None = None) -> Wine:
    """Read ``winequality-white.csv`` into tensors (DLwPT §4.3).

    Args:
        path: the CSV file, or a folder holding it; when None, the first of `wine_paths`
            that exists.

    Raises:
        FileNotFoundError: no file there; the message names the places it looked in and
            where the data set is published.
        WineDataError: a file that is not UTF-8 text, a line with the wrong number of cells,
            or a cell that is not a finite number (the message names the line and the column).
    """
    if path is None:
        places = wine_paths()
    else:
        path = Path(path).expanduser()
        places = [path / WINE_FILE if path.is_dir() else path]
    found = next((place for place in places if place.is_file()), None)
    if found is None:
        where = " or ".join(str(place) for place in places)
        raise FileNotFoundError(
            f"the wine data is not at {where}. It is published by the UCI Machine Learning "
            f"Repository ({WINE_URL}): download {WINE_FILE} there and copy it to "
            f"{places[0]}, or pass its path (or its folder) to load_wine()."
        )
    return _read(found)


def _read(path: Path) -> Wine:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file, delimiter=";"))
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise WineDataError(
            f"{path}, line {line}: not UTF-8 text (byte {error.object[error.start]:#04x} at "
            f"position {error.start}); save the file as UTF-8, e.g. "
            f"iconv -f latin1 -t utf-8 {path.name}"
        ) from None
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
        column = next((i for i, cell in enumerate(row) if not _is_number(cell)), None)
        if column is not None:
            raise WineDataError(
                f"{path}, line {line_number}, column {column + 1} ({header[column]}): "
                f"{row[column]!r} is not a finite number"
            )
        values.append([float(cell) for cell in row])
    if not values:
        raise WineDataError(f"{path} holds a header but no wines")
    table = torch.tensor(values, dtype=torch.float32)
    return Wine(table[:, :-1], table[:, -1:], tuple(name.strip() for name in header[:-1]))


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
