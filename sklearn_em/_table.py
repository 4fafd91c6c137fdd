"""CSV tables for the command line: find a file's layout, check its rows, read it with pandas.

pandas reads the numbers; this module first makes one streaming pass over the bytes to settle
what pandas would otherwise guess or forgive: the encoding (a BOM, or UTF-8 with a fallback),
the separator, the line ending, and that every row has as many cells as the header (pandas
pads a short row with missing values silently).
"""

import codecs
import csv
import io
import sys
import warnings
from dataclasses import dataclass

import numpy as np

SEPARATORS = (",", ";", "\t", "|")
CHUNK_BYTES = 1 << 24
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
PANDAS_HINT = 'the command line needs pandas: pip install "sklearn-em[cli]"'


class InputError(ValueError):
    """Input the command line cannot use; its message is one line for the user."""


def import_pandas():
    """pandas, or an InputError saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise InputError(PANDAS_HINT) from None
    return pandas


def shorten(text, limit=40):
    """``text`` cut to ``limit`` characters for a message."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Source:
    """Where a table's bytes come from: a file's path, or standard input read once."""

    name: str
    path: str | None = None
    data: bytes | None = None

    def open(self):
        return open(self.path, "rb") if self.path is not None else io.BytesIO(self.data)


def open_source(text):
    """The :class:`Source` for a command-line argument; ``-`` is standard input."""
    if text == "-":
        return Source("<stdin>", data=sys.stdin.buffer.read())
    try:
        with open(text, "rb"):
            pass
    except FileNotFoundError:
        raise InputError(f"{text}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{text}: is a directory, not a CSV file.") from None
    except OSError as error:
        raise InputError(f"{text}: cannot be read ({error.strerror}).") from None
    return Source(text, path=text)


@dataclass(frozen=True)
class Layout:
    """What the scan found: how to decode and split the file, and where its blank lines are."""

    encoding: str
    sep: str
    newline: str
    quoted: bool  # the file holds '"', so lines are split by the csv module
    header_cells: list  # the first line's cells, as written
    first_line: int  # physical number (1-based) of the first line that is not blank
    blank_lines: np.ndarray  # physical numbers of the blank lines
    n_records: int  # lines (records, when quoted) that are not blank, the first included


def scan(source, *, sep=None, encoding=None):
    """Settle a file's encoding, separator and line ending, and check every row's cell count."""
    if encoding is None:
        first_error = None
        for candidate in (_bom_encoding(source), *FALLBACK_ENCODINGS):
            try:
                layout = _scan_as(source, candidate, sep)
            except UnicodeDecodeError as error:
                first_error = first_error or getattr(error, "line", "?")
                continue
            if candidate in FALLBACK_ENCODINGS:
                warnings.warn(
                    f"{source.name}: not UTF-8 (line {first_error}); read as {candidate}. "
                    "Pass --encoding to choose.",
                    stacklevel=2,
                )
            return layout
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding!r} is not an encoding Python knows.") from None
    try:
        return _scan_as(source, encoding, sep)
    except UnicodeDecodeError as error:
        raise InputError(
            f"{source.name}, line {error.line}: not valid {encoding} (byte "
            f"0x{error.object[error.start]:02x}); pass the file's encoding with --encoding."
        ) from None


def _bom_encoding(source):
    with source.open() as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _scan_as(source, encoding, sep):
    # utf-8-sig is ASCII-compatible past its BOM, which its encoder writes
    plain = "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
    ascii_compatible = "a,\n".encode(plain) == b"a,\n"
    if ascii_compatible:
        layout = _scan_bytes(source, encoding, sep)
        if layout is not None:
            return layout
    return _scan_text(source, encoding, sep)


def _first_line(text):
    for line in text.splitlines(keepends=True):
        if line.strip():
            return line
    return None


def _header(source, line, sep, number):
    if line is None:
        raise InputError(f"{source.name}: the file is empty; expected a header row and data rows.")
    if sep is None:
        counts = [line.count(s) for s in SEPARATORS]
        sep = SEPARATORS[int(np.argmax(counts))] if max(counts) else ","
    if len(sep) != 1:
        raise InputError(f"--sep must be one character; got {sep!r}.")
    cells = next(csv.reader([line.rstrip("\r\n")], delimiter=sep))
    newline = "\r\n" if line.endswith("\r\n") else "\n"
    return sep, cells, newline, number


def _scan_bytes(source, encoding, sep):
    """The fast scan: separators counted per line with numpy; None once a quote turns up."""
    decoder = codecs.getincrementaldecoder(encoding)()
    header, blank, line_number, carry = None, [], 0, b""
    start_line = 0
    with source.open() as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            at_end = not chunk
            data = carry + chunk
            cut = len(data) if at_end else data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            _decode(decoder, block, line_number, final=at_end)
            if b'"' in block:
                return None
            if header is None:
                text = block.decode(encoding)
                line = _first_line(text)
                if line is None and not at_end:
                    carry = block + carry
                    continue
                skipped = text[: text.find(line)].count("\n") if line else 0
                header = _header(source, line, sep, line_number + skipped + 1)
                start_line = header[3]
            line_number = _check_counts(source, block, header, line_number, start_line, blank)
            if at_end:
                break
    if header is None:
        _header(source, None, sep, 0)
    sep, cells, newline, first = header
    records = line_number - len(blank)
    return Layout(
        encoding, sep, newline, False, cells, first, np.array(blank, dtype=np.int64), records
    )


def _decode(decoder, block, line_number, final):
    if block.isascii():  # valid in every ASCII-compatible encoding; skip the decoding
        return
    try:
        decoder.decode(block, final=final)
    except UnicodeDecodeError as error:
        error.line = line_number + block.count(b"\n", 0, error.start) + 1
        raise


def _check_counts(source, block, header, line_number, start_line, blank):
    """Count each line's separators in ``block``; return the number of its last line."""
    sep, cells, _, _ = header
    array = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(array == 10)
    if len(block) and block[-1:] != b"\n":
        ends = np.append(ends, len(block))
    starts = np.concatenate([[0], ends[:-1] + 1])
    seps = np.flatnonzero(array == ord(sep))
    counts = np.diff(np.searchsorted(seps, ends), prepend=0)  # no separator is a newline
    numbers = line_number + 1 + np.arange(len(ends))
    for i in np.flatnonzero((counts != len(cells) - 1) & (numbers > start_line)):
        if not block[starts[i] : ends[i]].strip():
            blank.append(int(numbers[i]))
        else:
            _refuse_row(source, int(numbers[i]), int(counts[i]) + 1, len(cells))
    blank.extend(int(n) for n in numbers[numbers < start_line])
    return line_number + len(ends)


def _refuse_row(source, line, found, expected):
    raise InputError(
        f"{source.name}, line {line}: {found} cells where the first row has {expected}; "
        "every row needs one cell per column (empty for missing)."
    )


def _scan_text(source, encoding, sep):
    """The careful scan: the csv module, for quoted fields and encodings wider than a byte."""
    with io.TextIOWrapper(source.open(), encoding=encoding, newline="") as f:
        try:
            text_start = f.read(1 << 16)
        except UnicodeDecodeError as error:
            error.line = 1
            raise
        f.seek(0)
        line = _first_line(text_start)
        first = text_start[: text_start.find(line)].count("\n") + 1 if line else 0
        sep, cells, newline, first = _header(source, line, sep, first)
        reader = csv.reader(f, delimiter=sep)
        blank, previous, records = [], 0, 0
        csv.field_size_limit(sys.maxsize)
        try:
            for row in reader:
                if reader.line_num < first or not "".join(row).strip():
                    blank.extend(range(previous + 1, reader.line_num + 1))
                elif len(row) != len(cells):
                    _refuse_row(source, reader.line_num, len(row), len(cells))
                else:
                    records += 1
                previous = reader.line_num
        except UnicodeDecodeError as error:
            error.line = previous + 1
            raise
        except csv.Error as error:
            raise InputError(f"{source.name}, line {reader.line_num}: {error}.") from None
    blank = np.array([n for n in blank if n != first], dtype=np.int64)
    return Layout(encoding, sep, newline, True, cells, first, blank, records)


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
            f"{shorten(', '.join(names), 120)}."
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
