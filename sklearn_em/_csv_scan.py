"""A CSV file's layout, found in one streaming pass over its bytes before pandas reads it.

The pass settles what pandas would otherwise guess or forgive: the encoding (a BOM, or UTF-8
with a fallback), the separator, the line ending, where the blank lines are, and that every
row has as many cells as the first (pandas pads a short row with missing values silently).
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


class InputError(ValueError):
    """Input the command line cannot use; its message is one line for the user."""


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
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"--encoding {encoding!r} is not an encoding Python knows.") from None
    try:
        # UTF-8 is read as utf-8-sig, which drops a BOM from the first column's name
        return _scan_as(source, "utf-8-sig" if codec == "utf-8" else encoding, sep)
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
    wrong = counts != len(cells) - 1
    # a blank line may have the right count (in a one-column file): look at every line
    # that is short or starts with white space too
    first_bytes = array[np.minimum(starts, max(len(block) - 1, 0))] if len(block) else array
    maybe_blank = (ends - starts <= 1) | np.isin(first_bytes, (9, 32))
    for i in np.flatnonzero((wrong | maybe_blank) & (numbers > start_line)):
        if not block[starts[i] : ends[i]].strip():
            blank.append(int(numbers[i]))
        elif wrong[i]:
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
