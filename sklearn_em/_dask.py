"""Dask collections in: validated lazily, reduced chunk by chunk, outputs left lazy.

Nothing here imports Dask until a Dask collection is passed:
``is_dask_collection`` reads only the module of the input's type. A chunk of
rows is a NumPy array on a worker, where the NumPy code runs on it as it
would in memory; what travels back is a sum of per-chunk results, added
pairwise on the workers (``map_reduce``), or nothing until the user computes
a lazy output (``map_rows``).
"""

import operator

import numpy as np
from sklearn.utils.validation import validate_data

INSTALL = 'pip install "sklearn-em[dask]"'
# The share of the workers' memory the data may take and still be persisted;
# the rest is left to the passes' work arrays and to Dask itself.
PERSIST_SHARE = 0.5


def is_dask_collection(X):
    """Whether ``X`` is a Dask array or DataFrame (read without importing Dask)."""
    return type(X).__module__.partition(".")[0] == "dask"


def dask_array_module():
    """``dask.array``, or an ImportError that names the extra to install."""
    try:
        import dask.array
    except ImportError:
        raise ImportError(
            f"A Dask collection was passed, but Dask's arrays are not installed: {INSTALL}"
        ) from None
    return dask.array


def validated(estimator, X, reset=True, ensure_min_samples=1, rows_counted=True):
    """``X`` as a lazy 2-D float Dask array of rows, checked as ``validate_data`` checks.

    The number of features and their names are checked (or recorded, with
    ``reset``) as for pandas input; DataFrame columns must be numeric. Rows
    may be chunked in any way; chunks along the columns are merged, since
    every row must sit in one chunk. With ``rows_counted`` (what a fit
    needs), the rows of every chunk must be known: a DataFrame's partitions
    are counted. Values are not read here: infinities are found by ``fit``'s
    first reduction (``check_fit_data``) or by the chunk that holds them.
    """
    da = dask_array_module()
    if getattr(X, "ndim", 2) != 2:
        raise ValueError(
            f"Expected a 2-D Dask array or DataFrame of samples by features, got "
            f"{getattr(X, 'ndim', '?')} dimension(s): reshape it to (n_samples, n_features) "
            "(a Series: X.to_frame())."
        )
    if hasattr(X, "dtypes"):  # a Dask DataFrame: its empty pandas meta holds the columns
        validate_data(estimator, X._meta, skip_check_array=True, reset=reset)
        X = _dataframe_as_array(X, rows_counted)
    else:
        validate_data(estimator, X, skip_check_array=True, reset=reset)
    if not isinstance(X, da.Array):
        raise TypeError(
            f"Expected a Dask array or DataFrame, got {type(X).__name__}: convert it with "
            "dask.array.from_array(X) or pass a NumPy array."
        )
    if X.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    if rows_counted and any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            "The Dask array's chunk sizes along the rows are unknown (NaN), so its rows "
            "cannot be counted: call X.compute_chunk_sizes() first (or, from a DataFrame, "
            "to_dask_array(lengths=True))."
        )
    if rows_counted and X.shape[0] < ensure_min_samples:
        raise ValueError(
            f"Found array with {X.shape[0]} sample(s) while a minimum of "
            f"{ensure_min_samples} is required."
        )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if X.dtype not in (np.float32, np.float64):
        if np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError("Complex data not supported: pass the real part (X.real).")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise ValueError(
                f"The Dask array holds {X.dtype} values; the mixture needs numbers. "
                "Convert the array with X.astype(float) first."
            )
        X = X.astype(np.float64)
    return X


def _dataframe_as_array(frame, rows_counted):
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(name)
        for name, dtype in frame.dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"Column(s) {', '.join(bad)} of the Dask DataFrame are not numeric. Select "
            "the numeric columns, or encode the others as numbers first."
        )
    # float64 turns pandas' nullable NA into NaN; all-float32 frames stay float32.
    float32 = all(np.dtype(getattr(t, "numpy_dtype", t)) == np.float32 for t in frame.dtypes)
    frame = frame.astype(np.float32 if float32 else np.float64)
    return frame.to_dask_array(lengths=rows_counted or None)


def check_fit_data(X, weights=None):
    """Refuse infinities, and find the features observed at all: one reduction.

    Returns whether each feature holds an observed value (in a row of
    positive weight, with ``weights``: a Dask array chunked like the rows).
    """
    da = dask_array_module()
    observed = ~da.isnan(X)
    if weights is not None:
        observed = observed & (weights > 0)[:, None]
    n_inf, observed = da.compute(da.isinf(X).sum(), observed.any(axis=0))
    if n_inf:
        raise ValueError(
            f"Input X contains infinity (inf) in {n_inf} entries. NaN marks a missing "
            "value, but inf is not data: replace it with NaN to treat it as missing, "
            "or with a finite value."
        )
    return observed


def check_finite_chunk(chunk):
    """What ``check_fit_data`` says of infinities, for one chunk being scored."""
    n_inf = np.count_nonzero(np.isinf(chunk))
    if n_inf:
        raise ValueError(
            f"Input X contains infinity (inf) in {n_inf} entries of one chunk. NaN marks a "
            "missing value, but inf is not data: replace it with NaN to treat it as "
            "missing, or with a finite value."
        )


def mean_and_count(values):
    """The mean of a lazy Dask vector and its length, from one reduction."""
    da = dask_array_module()
    mean, count = da.compute(values.mean(), da.ones_like(values, dtype=np.int64).sum())
    if count == 0:
        raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
    return float(mean), int(count)


def as_row_array(values, X):
    """``values`` (one number per row of ``X``, NumPy or Dask) chunked like ``X``'s rows."""
    da = dask_array_module()
    if isinstance(values, da.Array):
        return values.rechunk({0: X.chunks[0]})
    return da.from_array(np.asarray(values), chunks=(X.chunks[0],))


def sample_rows(X, n_rows, random_state, *row_arrays):
    """Up to ``n_rows`` rows of ``X`` drawn without replacement, as NumPy arrays.

    The rows drawn depend on the number of rows and ``random_state`` alone,
    not on the chunks, so a seed gives the same sample in every run and every
    chunking. With no more than ``n_rows`` rows, all of them are returned,
    in order, and ``random_state`` is left untouched. ``row_arrays`` (one
    value per row each, or None) are sampled along.
    """
    da = dask_array_module()
    n = X.shape[0]
    arrays = [X, *row_arrays]
    if n > n_rows:
        # A Generator draws k of n rows without the O(n) permutation of RandomState.choice.
        generator = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        rows = np.sort(generator.choice(n, n_rows, replace=False))
        arrays = [None if a is None else a[rows] for a in arrays]
    return da.compute(*arrays)


def persisted_if_it_fits(*arrays):
    """``arrays`` (None, or Dask arrays) persisted on the cluster, smallest
    first, as long as they fit in its share of the workers' memory; the
    others as given, read from their source on every pass. Without a
    distributed client, nothing is persisted."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return arrays
    room = PERSIST_SHARE * _cluster_memory(client)
    kept = list(arrays)
    for i in sorted(
        (i for i, a in enumerate(arrays) if a is not None), key=lambda i: arrays[i].nbytes
    ):
        if arrays[i].nbytes > room:
            break
        room -= arrays[i].nbytes
        kept[i] = client.persist(arrays[i])
    return tuple(kept)


def _cluster_memory(client):
    """The workers' memory limits; a worker without one counts its host's memory (once a host)."""
    workers = client.scheduler_info()["workers"]
    limited = sum(w["memory_limit"] for w in workers.values() if w.get("memory_limit"))
    unlimited_hosts = {w["host"] for w in workers.values() if not w.get("memory_limit")}
    if not unlimited_hosts:
        return limited
    host_memory = client.run(lambda: __import__("psutil").virtual_memory().total)
    by_host = {workers[address]["host"]: total for address, total in host_memory.items()}
    return limited + sum(by_host[host] for host in unlimited_hosts)


def map_reduce(function, arrays, *shared, add=operator.add):
    """The sum of ``function(*chunks, *shared)`` over the row chunks of ``arrays``.

    ``arrays`` share their row chunks (None stands for an argument that is
    None in every call). ``shared`` enters the graph once, not once per
    chunk, and the chunks' results are added pairwise on the workers by
    ``add``: only the total comes back.
    """
    import dask

    shared = [dask.delayed(value, traverse=False) for value in shared]
    n_chunks = len(arrays[0].chunks[0])
    columns = [[None] * n_chunks if a is None else list(a.to_delayed().ravel()) for a in arrays]
    non_empty = [i for i, size in enumerate(arrays[0].chunks[0]) if size]
    parts = [dask.delayed(function)(*[c[i] for c in columns], *shared) for i in non_empty]
    while len(parts) > 1:
        parts = [
            dask.delayed(add)(*parts[i : i + 2]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0].compute()


def map_rows(function, X, n_columns, dtype, *shared):
    """``function(chunk, *shared)`` for every row chunk, as a lazy array chunked like ``X``.

    ``n_columns`` is the width of each chunk's result, or None for one value
    a row. ``shared`` enters the graph once. An empty chunk gives an empty
    result without calling ``function``.
    """
    import dask

    shared = [dask.delayed(value, traverse=False) for value in shared]
    empty = np.empty((0,) if n_columns is None else (0, n_columns), dtype)
    layout = {"drop_axis": 1} if n_columns is None else {"chunks": (X.chunks[0], (n_columns,))}
    return X.map_blocks(_unless_empty, function, empty, *shared, dtype=dtype, meta=empty, **layout)


def _unless_empty(chunk, function, empty, *shared):
    return empty if chunk.shape[0] == 0 else function(chunk, *shared)
