"""Output files for the command line: checked before any work, written whole or not at all."""

import contextlib
import csv
import io
import os
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._table import InputError, import_pandas

STDOUT = "-"


def check_outputs(outputs, inputs):
    """Refuse, before any work, outputs that could not be written or would destroy an input.

    Parameters
    ----------
    outputs : list of str
        Paths the run will write; ``-`` is standard output.
    inputs : list of str
        Paths the run reads; ``-`` is standard input.
    """
    seen = {}
    for output in outputs:
        if output == STDOUT:
            key = STDOUT
        else:
            key = os.path.realpath(output)
            for given in inputs:
                if given != STDOUT and _same_file(output, given):
                    raise InputError(
                        f"{output}: is the input file {given}; write the output elsewhere."
                    )
            _check_writable(Path(output))
        if key in seen:
            raise InputError(f"{output}: named for two outputs ({seen[key]} too).")
        seen[key] = output


def _check_writable(path):
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give a file name for the output.")
    parent = path.parent
    if not parent.exists():
        raise InputError(f"{path}: the directory {parent} does not exist.")
    if not parent.is_dir():
        raise InputError(f"{path}: {parent} is not a directory.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write in the directory {parent}.")


def _same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def current_umask():
    """The process's umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_outputs(writers):
    """Write ``{path: write(binary_file)}`` so that every file appears whole, or none does.

    Each file is written to a temporary file beside its target and given the mode a new
    file gets under the umask; once all are written they are renamed into place with Ctrl-C
    held back. On any failure or interrupt the temporary files are removed. ``-`` is written
    to standard output last, after the files.
    """
    mode = 0o666 & ~current_umask()
    temporaries = []
    try:
        for path, write in writers.items():
            if path == STDOUT:
                continue
            target = Path(path)
            handle, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
            )
            temporaries.append((temporary, target))
            with os.fdopen(handle, "wb") as f:
                write(f)
            os.chmod(temporary, mode)
        with _interrupts_held():
            for temporary, target in temporaries:
                os.replace(temporary, target)
    finally:
        for temporary, _ in temporaries:
            Path(temporary).unlink(missing_ok=True)
    if STDOUT in writers:
        writers[STDOUT](sys.stdout.buffer)
        sys.stdout.buffer.flush()


@contextlib.contextmanager
def _interrupts_held():
    """Hold SIGINT until the block ends, then deliver it (main thread only)."""
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    except ValueError:  # not the main thread: nothing to hold
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def text_writer(encoding, write_text):
    """A ``write(binary_file)`` that hands ``write_text`` a text file in ``encoding``."""

    def write(binary):
        text = io.TextIOWrapper(binary, encoding=encoding, newline="", write_through=False)
        try:
            write_text(text)
            text.flush()
        finally:
            text.detach()

    return write


def output_encoding(table):
    """The input's encoding for the outputs, with a UTF-8 BOM only if the input had one."""
    encoding = table.layout.encoding
    if encoding == "utf-8-sig":
        with table.source.open() as f:
            return encoding if f.read(3) == b"\xef\xbb\xbf" else "utf-8"
    return encoding


def columns_writer(table, columns):
    """A writer of ``{name: values}`` as CSV in the input's encoding and line ending."""
    frame = import_pandas().DataFrame(columns)

    def write_text(text):
        frame.to_csv(text, index=False, lineterminator=table.layout.newline)

    return text_writer(output_encoding(table), write_text)


def completed_writer(table, values):
    """A writer of the input's lines with each missing modelled cell taken from ``values``.

    Every other byte of the input stays as it was: header, blank lines, line endings,
    observed cells and columns not modelled. Quoted files go through the csv module, which
    may quote differently and ends every line alike.
    """
    missing = np.isnan(table.values)
    positions = [table.names.index(name) for name in table.features]
    layout = table.layout

    def fill(row, cells):
        for j in np.flatnonzero(missing[row]):
            cells[positions[j]] = repr(float(values[row, j]))
        return cells

    def write_text(out):
        with io.TextIOWrapper(table.source.open(), encoding=layout.encoding, newline="") as f:
            if layout.quoted:
                _rewrite_quoted(f, out, layout, table.has_header, fill)
            else:
                _rewrite_plain(f, out, layout, table.has_header, fill)

    return text_writer(output_encoding(table), write_text)


def _rewrite_plain(lines, out, layout, has_header, fill):
    row = -1
    for number, line in enumerate(lines, start=1):
        if (
            number < layout.first_line
            or not line.strip()
            or (has_header and number == layout.first_line)
        ):
            out.write(line)
            continue
        row += 1
        body = line.rstrip("\r\n")
        out.write(layout.sep.join(fill(row, body.split(layout.sep))) + line[len(body) :])


def _rewrite_quoted(lines, out, layout, has_header, fill):
    reader = csv.reader(lines, delimiter=layout.sep)
    writer = csv.writer(out, delimiter=layout.sep, lineterminator=layout.newline)
    row = -1
    for cells in reader:
        if reader.line_num < layout.first_line or not "".join(cells).strip():
            out.write(layout.newline)
        elif has_header and reader.line_num == layout.first_line:
            writer.writerow(cells)
        else:
            row += 1
            writer.writerow(fill(row, cells))
