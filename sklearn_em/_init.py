"""Starting responsibilities: kmeans, k-means++, random, random_from_data.

Each method returns a function of a row slice that gives those rows'
responsibilities, so that no ``(n_samples, n_components)`` array is ever held.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

# k-means for a starting point runs on at most this many rows; the rest are
# labelled by their nearest centre. Beyond it k-means costs more than EM's
# first passes and its copy of the data would double the fit's memory.
KMEANS_ROWS = 100_000


def initial_responsibilities(X, n_components, method, random_state):
    """A function ``rows -> (len(rows), n_components)`` of starting responsibilities."""
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
    labels = _initial_labels(X, n_components, method, random_state)
    return lambda rows: _one_hot(labels[rows], n_components)


def _initial_labels(X, n_components, method, random_state):
    """One component per row, or -1 for a row that starts in none."""
    n_samples = X.shape[0]
    if method == "kmeans":
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=random_state)
        if n_samples <= KMEANS_ROWS:
            return kmeans.fit(X).labels_
        subsample = random_state.choice(n_samples, size=KMEANS_ROWS, replace=False)
        return kmeans.fit(X[np.sort(subsample)]).predict(X)
    if method == "k-means++":
        _, indices = kmeans_plusplus(X, n_components, random_state=random_state)
    elif method == "random_from_data":
        indices = random_state.choice(n_samples, size=n_components, replace=False)
    else:
        raise ValueError(f"Unknown init_params {method!r}.")
    labels = np.full(n_samples, -1)
    labels[indices] = np.arange(n_components)
    return labels


def _one_hot(labels, n_components):
    resp = np.zeros((labels.size, n_components))
    assigned = labels >= 0
    resp[np.flatnonzero(assigned), labels[assigned]] = 1.0
    return resp


def _length(rows):
    return rows.stop - rows.start
