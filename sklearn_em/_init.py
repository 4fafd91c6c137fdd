"""Starting responsibilities: kmeans, k-means++, random, random_from_data.

Each method returns a function of a row slice that gives those rows'
responsibilities, so that no ``(n_samples, n_components)`` array is ever held.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ._blocks import row_chunks

# k-means and k-means++ for a starting point run on at most this many rows
# (a uniform subsample); k-means then labels every row by its nearest centre.
# On all rows they would cost more than EM's first passes, and k-means's copy
# of the data would double the fit's memory.
KMEANS_ROWS = 50_000


def initial_responsibilities(X, n_components, method, random_state, kmeans_rows=KMEANS_ROWS):
    """A function ``rows -> (len(rows), n_components)`` of starting responsibilities.

    k-means and k-means++ run on a uniform subsample of at most
    ``kmeans_rows`` rows.
    """
    if n_components == 1:
        return lambda rows: np.ones((_length(rows), 1))
    if method == "random":
        seed = random_state.randint(np.iinfo(np.int32).max)

        def uniform(rows):
            draws = np.random.default_rng([seed, rows.start]).uniform(
                size=(_length(rows), n_components)
            )
            return draws / draws.sum(axis=1, keepdims=True)

        return uniform
    labels = _initial_labels(X, n_components, method, random_state, kmeans_rows)
    return lambda rows: _one_hot(labels[rows], n_components)


def _initial_labels(X, n_components, method, random_state, kmeans_rows):
    """One component per row, or -1 for a row that starts in none."""
    n_samples = X.shape[0]
    rows, sample = None, X
    if method in ("kmeans", "k-means++") and n_samples > kmeans_rows:
        rows = np.sort(random_state.choice(n_samples, kmeans_rows, replace=False))
        sample = X[rows]
    if method in ("kmeans", "k-means++") and not _squares_fit(sample):
        sample = sample.astype(np.float64)  # k-means sums squared distances
    if method == "kmeans":
        # A subsample is our own copy, so k-means may centre it in place.
        kmeans = KMeans(
            n_clusters=n_components,
            n_init=1,
            random_state=random_state,
            copy_x=rows is None and sample is X,
        ).fit(sample)
        return kmeans.labels_ if rows is None else _nearest(X, kmeans.cluster_centers_)
    if method == "k-means++":
        _, indices = kmeans_plusplus(sample, n_components, random_state=random_state)
        indices = indices if rows is None else rows[indices]
    elif method == "random_from_data":
        indices = random_state.choice(n_samples, size=n_components, replace=False)
    else:
        raise ValueError(f"Unknown init_params {method!r}.")
    labels = np.full(n_samples, -1)
    labels[indices] = np.arange(n_components)
    return labels


def _squares_fit(X):
    """Whether sums of squared distances between rows stay well inside X's float range."""
    if X.dtype == np.float64:
        return True
    scale = max((float(np.abs(X[rows]).max()) for rows in row_chunks(X.shape[0])), default=0.0)
    return scale == 0.0 or 1e-12 < scale < 1e12


def _nearest(X, centers):
    """The index of the nearest centre for each row, a chunk of rows at a time."""
    labels = np.empty(X.shape[0], dtype=np.intp)
    squared = np.einsum("ij,ij->i", centers, centers)
    for rows in row_chunks(X.shape[0], rows=8192):
        scores = X[rows] @ centers.T
        scores *= -2.0
        scores += squared
        labels[rows] = scores.argmin(axis=1)
    return labels


def _one_hot(labels, n_components):
    resp = np.zeros((labels.size, n_components))
    assigned = labels >= 0
    resp[np.flatnonzero(assigned), labels[assigned]] = 1.0
    return resp


def _length(rows):
    return rows.stop - rows.start
