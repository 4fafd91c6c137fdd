"""CSV tables for the command line: a file's layout checked, then its numbers read by pandas."""

import warnings
from dataclasses import dataclass

import numpy as np

from ._csv_scan import InputError, Layout, Source, open_source, scan, shorten

__all__ = ["InputError", "Layout", "Source", "Table", "open_source", "read_table", "shorten"]

PANDAS_HINT = 'the command line needs pandas: pip install "sklearn-em[cli]"'


def import_pandas():
    """pandas, or an InputError saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise InputError(PANDAS_HINT) from None
    return pandas


@dataclass(frozen=True)
class Table:
    """A numeric table read from CSV: its layout, columns and the modelled values."""

    source: Source
    layout: Layout
    has_header: bool
    names: list  # every column, in file order
    features: list  # the modelled columns, in file order
    values: np.ndarray  # float64 of shape (n_rows, n_features), NaN where missing
    ids: object = None  # the --id-column's cells as strings (a pandas Series), or None
    id_name: str | None = None

    def line_of(self, row):
        """The physical line number (1-based) of data row ``row`` (0-based)."""
        line = self.layout.first_line + row + self.has_header
        for blank in self.layout.blank_lines:
            if blank > line:
                break
            line += blank > self.layout.first_line
        return line


def read_table(
    source,
    *,
    sep=None,
    encoding=None,
    header=True,
    id_column=None,
    columns=None,
    drop=(),
    engine="c",
):
    """Read a numeric CSV table; every problem is an :class:`InputError` naming the file.

    Parameters
    ----------
    source : Source
        Where the bytes come from (see :func:`open_source`).
    sep, encoding : str or None
        Given, or found by :func:`scan`.
    header : bool
        Whether the first line names the columns; without one they are named 1, 2, ...
    id_column : str or None
        A column carried to the outputs as text instead of modelled.
    columns, drop : list of str or None
        The columns to model (default: all but ``drop`` and ``id_column``).
    engine : {'c', 'pyarrow'}, default='c'
        pandas' CSV engine. pyarrow's is not the default: it turns a string column's
        '001' into '1' and counts blank lines before the header as rows.
    """
    pandas = import_pandas()
    layout = scan(source, sep=sep, encoding=encoding)
    names = _column_names(source, layout, header)
    features = _features(source, names, id_column, columns, drop)
    used = set(features) | ({id_column} if id_column else set())
    positions = [j for j, n in enumerate(names) if n in used]
    labels = [f"column{j}" for j in range(len(names))]  # what the header says, kept apart
    id_label = labels[names.index(id_column)] if id_column else None
    try:
        with source.open() as f:
            frame = pandas.read_csv(
                f,
                sep=layout.sep,
                encoding=layout.encoding,
                header=0 if header else None,
                names=labels,
                # pyarrow takes no usecols beside names; it reads every column instead
                usecols=None if engine == "pyarrow" else [labels[j] for j in positions],
                dtype={id_label: str} if id_column else None,
                engine=engine,
                skip_blank_lines=True,
            )
    except (ValueError, KeyError, UnicodeDecodeError, OSError) as error:
        raise InputError(f"{source.name}: {shorten(str(error).splitlines()[0], 200)}") from None
    frame = frame[[labels[j] for j in positions]]
    frame.columns = [names[j] for j in positions]
    expected_rows = layout.n_records - header
    if len(frame) == 0:
        raise InputError(f"{source.name}: the file has a header but no data rows.")
    if len(frame) != expected_rows:
        raise InputError(
            f"{source.name}: pandas read {len(frame)} rows where the file has {expected_rows}."
        )
    table = Table(
        source,
        layout,
        header,
        names,
        features,
        np.empty((len(frame), 0)),
        frame[id_column] if id_column else None,
        id_name=id_column,
    )
    _check_numeric(pandas, table, frame)
    values = frame[features].to_numpy(dtype=np.float64)
    _check_values(table, values)
    return Table(**{**table.__dict__, "values": values})


def _column_names(source, layout, header):
    cells = layout.header_cells
    if not header:
        return [str(j + 1) for j in range(len(cells))]
    repeated = sorted({c for c in cells if cells.count(c) > 1})
    if repeated:
        raise InputError(
            f"{source.name}: the header names column {shorten(repeated[0])!r} twice; "
            "give every column its own name (or pass --no-header)."
        )
    if all(_is_number(c) for c in cells):
        warnings.warn(
            f"{source.name}: the header row looks like numbers "
            f"({shorten(','.join(cells))}); pass --no-header if the file has none.",
            stacklevel=3,
        )
    return list(cells)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _features(source, names, id_column, columns, drop):
    asked = [n for n in [id_column, *(columns or ()), *drop] if n is not None]
    unknown = [n for n in asked if n not in names]
    if unknown:
        raise InputError(
            f"{source.name}: no column named {shorten(unknown[0])!r}; the columns are "
            f"{shorten(', '.join(map(repr, names)), 120)}."
        )
    features = [
        n for n in names if (columns is None or n in columns) and n not in drop and n != id_column
    ]
    if not features:
        raise InputError(f"{source.name}: no column is left to model; check --columns/--drop.")
    return features


def _check_numeric(pandas, table, frame):
    types = pandas.api.types
    for name in table.features:
        column = frame[name]
        if types.is_numeric_dtype(column.dtype) and not types.is_bool_dtype(column.dtype):
            continue
        numbers = pandas.to_numeric(column, errors="coerce")
        bad = column.notna().to_numpy() & (numbers.isna().to_numpy() | types.is_bool_dtype(column))
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{table.source.name}, line {table.line_of(row)}: column {shorten(name)!r} is not "
            f"numeric ({shorten(column.iloc[row])!r}). Skip it with --drop, choose the "
            "features with --columns, or carry it to the outputs with --id-column."
        )


def _check_values(table, values):
    infinite = np.isinf(values)
    if infinite.any():
        row, j = map(int, np.argwhere(infinite)[0])
        raise InputError(
            f"{table.source.name}, line {table.line_of(row)}: column "
            f"{shorten(table.features[j])!r} holds {values[row, j]}; use finite numbers."
        )
    empty = [n for n, gap in zip(table.features, np.isnan(values).all(axis=0), strict=True) if gap]
    if empty:
        raise InputError(
            f"{table.source.name}: column(s) {', '.join(map(repr, empty))} have no observed "
            "value; drop them with --drop."
        )
