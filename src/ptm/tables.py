"""Small tables of results: HTML in a notebook, aligned text elsewhere, no pandas.

Used for the experiments of the exercises and for the "notes vs this run" comparisons.
Every float column is printed with one fixed number of decimals, so 0.770 stands beside
0.783 and not 0.77 beside 0.7825.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["Table"]


class Table:
    """Rows of named values, shown as a table (a notebook renders its HTML).

    Args:
        rows: one mapping per row, column name → value (None shows as an empty cell).
        columns: the columns to show, in order; by default the keys of the first row.
        decimals: decimals per float column; columns not named get ``default_decimals``.
        default_decimals: decimals of the other float columns.

    Example:
        >>> print(Table([{"run": "a", "loss": 0.5}, {"run": "b", "loss": 0.25}]))
        run  loss
        a    0.5000
        b    0.2500
    """

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        *,
        decimals: Mapping[str, int] | None = None,
        default_decimals: int = 4,
    ) -> None:
        self.rows = [dict(row) for row in rows]
        self.columns = list(columns) if columns is not None else list(self.rows[0] if rows else [])
        self.decimals = dict(decimals or {})
        self.default_decimals = default_decimals

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def cell(self, column: str, value: Any) -> str:
        """How one value of ``column`` is written in the table."""
        if value is None:
            return ""
        if isinstance(value, float):
            if not math.isfinite(value):
                return str(value)
            return f"{value:.{self.decimals.get(column, self.default_decimals)}f}"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
            return f"{value:,}"
        return str(value)

    def text_rows(self) -> list[list[str]]:
        """The header and every row as strings."""
        return [list(self.columns)] + [
            [self.cell(column, row.get(column)) for column in self.columns] for row in self.rows
        ]

    def __str__(self) -> str:
        lines = self.text_rows()
        widths = [max(len(line[i]) for line in lines) for i in range(len(self.columns))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        header, *body = self.text_rows()
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in line) + "</tr>"
            for line in body
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
