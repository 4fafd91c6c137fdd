"""Initial responsibilities: kmeans, k-means++, random, random_from_data."""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus


def initial_responsibilities(X, n_components, method, random_state):
    """An ``(n_samples, n_components)`` array of starting responsibilities."""
    n_samples = X.shape[0]
    if n_components == 1:
        return np.ones((n_samples, 1))
    if method == "kmeans":
        labels = (
            KMeans(n_clusters=n_components, n_init=1, random_state=random_state).fit(X).labels_
        )
        return _one_hot(labels, n_components)
    if method == "k-means++":
        _, indices = kmeans_plusplus(X, n_components, random_state=random_state)
        return _one_hot_rows(indices, n_samples, n_components)
    if method == "random_from_data":
        indices = random_state.choice(n_samples, size=n_components, replace=False)
        return _one_hot_rows(indices, n_samples, n_components)
    if method == "random":
        resp = random_state.uniform(size=(n_samples, n_components))
        return resp / resp.sum(axis=1, keepdims=True)
    raise ValueError(f"Unknown init_params {method!r}.")


def _one_hot(labels, n_components):
    resp = np.zeros((labels.size, n_components))
    resp[np.arange(labels.size), labels] = 1.0
    return resp


def _one_hot_rows(indices, n_samples, n_components):
    resp = np.zeros((n_samples, n_components))
    resp[indices, np.arange(n_components)] = 1.0
    return resp
