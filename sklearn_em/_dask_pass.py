"""One pass over a Dask array: every row chunk through the NumPy pass, on a worker.

The counterpart of ``_pass`` for Dask input. A chunk is scored or summed by
exactly the NumPy code that serves in-memory data (one thread per chunk: the
cluster runs chunks side by side), so a chunk's result is what a fit in
memory computes for its rows. Statistics come back as one sum per pass;
per-row answers stay lazy.
"""

from . import _pass
from ._blocks import Backend
from ._dask import check_finite_chunk, map_reduce, map_rows


def statistics(X, family, prepared, sample_weight=None):
    """The sum of the family's statistics over every row chunk of ``X``.

    ``sample_weight`` is None or a Dask array chunked like ``X``'s rows.
    """
    return map_reduce(_chunk_statistics, [X, sample_weight], family, prepared)


def per_row(X, family, prepared, answer, width, dtype):
    """``answer`` of each chunk's ``(rows, k)`` weighted log-densities, lazily.

    ``width`` is the number of columns of ``answer``'s result, or None for
    one value a row; ``dtype`` its dtype.
    """
    return map_rows(_chunk_answer, X, width, dtype, family, prepared, answer)


def _chunk_statistics(chunk, weights, family, prepared):
    return _pass.statistics(chunk, family, prepared, Backend(), None, weights)


def _chunk_answer(chunk, family, prepared, answer):
    check_finite_chunk(chunk)
    return _pass.log_prob(chunk, family, prepared, Backend(), answer)
