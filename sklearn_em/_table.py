"""CSV tables for the command line: read numbers with their header, write atomically."""

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MISSING = {"", "na", "nan", "null", "none", "?"}


class InputError(ValueError):
    """Input the command line cannot use; its message is one line for the user."""


@dataclass(frozen=True)
class Table:
    """A numeric CSV table: column names, the cells as written, and their values."""

    names: list
    cells: list  # rows of strings, exactly as read
    values: np.ndarray  # float64, NaN where a cell is missing


def read_table(path):
    """Read a CSV file with a header row of column names and numeric cells."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    with path.open(newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise InputError(f"{path}: the file is empty; expected a header row and data rows.")
    names, cells = rows[0], rows[1:]
    if not cells:
        raise InputError(f"{path}: the file has a header but no data rows.")
    for line, row in enumerate(cells, start=2):
        if len(row) != len(names):
            raise InputError(
                f"{path}, line {line}: {len(row)} cells where the header names {len(names)}."
            )
    values = np.empty((len(cells), len(names)))
    for j, name in enumerate(names):
        for i, row in enumerate(cells):
            values[i, j] = _number(row[j], path, name, i + 2)
    empty = [name for j, name in enumerate(names) if np.isnan(values[:, j]).all()]
    if empty:
        raise InputError(
            f"{path}: column(s) {', '.join(map(repr, empty))} have no observed value."
        )
    return Table(names, cells, values)


def _number(cell, path, name, line):
    text = cell.strip()
    if text.lower() in MISSING:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{path}, line {line}: column {name!r} is not numeric ({cell!r})."
        ) from None
    if not np.isfinite(value):
        raise InputError(
            f"{path}, line {line}: column {name!r} holds {cell!r}; use finite numbers."
        )
    return value


def write_tables(outputs):
    """Write ``{path: (header, rows)}`` so that either every file appears whole or none does."""
    written = []
    try:
        for path, (header, rows) in outputs.items():
            path = Path(path)
            handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=".partial")
            written.append((temporary, path))
            with os.fdopen(handle, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                writer.writerows(rows)
    except BaseException:
        for temporary, _ in written:
            Path(temporary).unlink(missing_ok=True)
        raise
    for temporary, path in written:
        os.replace(temporary, path)
