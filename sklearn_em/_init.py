"""Starting points: the responsibilities of kmeans, k-means++, random and
random_from_data, and the parameters they give.

Both follow scikit-learn's ``GaussianMixture`` draw for draw and formula for
formula, so that one ``random_state`` gives the same start, and so the same
model, in both packages.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ._blocks import row_chunks
from ._prior import map_parameters

# scikit-learn adds this to every count so that an empty component has a mean.
COUNT_FLOOR = 10 * np.finfo(np.float64).eps


def initial_responsibilities(X, n_components, method, random_state, sample_weight=None):
    """Starting responsibilities, ``(n_samples, n_components)``, drawn from ``random_state``.

    With ``sample_weight``, k-means and k-means++ weigh the rows, and
    'random_from_data' draws rows with probability proportional to their
    weight (unless all weights are equal: then as without them, so that
    weights of one give the unweighted start).
    """
    n_samples = X.shape[0]
    if method == "random":
        resp = random_state.uniform(size=(n_samples, n_components))
        resp /= resp.sum(axis=1)[:, None]
        return resp
    resp = np.zeros((n_samples, n_components))
    if method in ("kmeans", "k-means++") and not _squares_fit(X):
        X = X.astype(np.float64)  # k-means sums squared distances
    if method == "kmeans":
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=random_state)
        kmeans.fit(X, sample_weight=sample_weight)
        resp[np.arange(n_samples), kmeans.labels_] = 1.0
        return resp
    if method == "k-means++":
        _, indices = kmeans_plusplus(
            X, n_components, sample_weight=sample_weight, random_state=random_state
        )
    elif method == "random_from_data":
        uniform = sample_weight is None or np.all(sample_weight == sample_weight[0])
        p = None if uniform else sample_weight / sample_weight.sum()
        indices = random_state.choice(n_samples, size=n_components, replace=False, p=p)
    else:
        raise ValueError(f"Unknown init_params {method!r}.")
    resp[indices, np.arange(n_components)] = 1.0
    return resp


def _squares_fit(X):
    """Whether sums of squared distances between rows stay well inside X's float range."""
    if X.dtype == np.float64:
        return True
    scale = max((float(np.abs(X[rows]).max()) for rows in row_chunks(X.shape[0])), default=0.0)
    return scale == 0.0 or 1e-12 < scale < 1e12


def starting_parameters(X, resp, covariance_type, reg_covar, sample_weight=None, prior=None):
    """Weights, means and covariances from starting responsibilities.

    Sums are taken about each component's own mean, in float64. Rows that a
    hard start ('random_from_data', 'k-means++') leaves in no component count
    in a 'tied' covariance by their raw second moments, as in scikit-learn.
    ``sample_weight`` scales each row's responsibilities; with a ``prior``
    (a ``_prior.ResolvedPrior``) the means and covariances are its MAP
    M-step, as mclust starts.
    """
    left_out = 1.0 - resp.sum(axis=1)
    if sample_weight is not None:
        resp = resp * sample_weight[:, None]
        left_out = left_out * sample_weight
    counts = resp.sum(axis=0)
    d = X.shape[1]
    means = np.zeros((counts.size, d))
    for rows in row_chunks(X.shape[0]):
        means += resp[rows].T @ X[rows]
    # scikit-learn divides by counts + COUNT_FLOOR; the floor only matters
    # for an empty component (mean 0 in both), so it is left out here where
    # it would shift a mean by ~1e-15 of its value, which at offsets like
    # 1e150 is far more than a collapsed component's spread.
    means /= np.where(counts > 0, counts, 1.0)[:, None]
    nk = counts + COUNT_FLOOR
    squares_only = covariance_type in ("diag", "spherical")
    scatter = np.zeros((nk.size, d) if squares_only else (nk.size, d, d))
    unassigned = np.zeros((d, d))
    for rows in row_chunks(X.shape[0]):
        block = X[rows].astype(np.float64)
        for k, mean in enumerate(means):
            weights_k = resp[rows, k]
            # A hard start gives each row to one component: only its rows add.
            held = np.flatnonzero(weights_k)
            if held.size < weights_k.size:
                weights_k, centred = weights_k[held], block[held] - mean
            else:
                centred = block - mean
            if squares_only:
                scatter[k] += weights_k @ centred**2
            else:
                scatter[k] += (weights_k * centred.T) @ centred
        if covariance_type == "tied":
            unassigned += (left_out[rows] * block.T) @ block
    weights = nk / nk.sum()
    if prior is not None:
        # Only the rows a start assigns count: the prior needs no stand-in.
        if covariance_type == "tied":
            scatter = scatter.sum(axis=0)
        elif covariance_type == "spherical":
            scatter = scatter.sum(axis=1)
        return weights, *map_parameters(prior, nk, means, scatter)
    return weights, means, _covariances(scatter, unassigned, nk, covariance_type, reg_covar)


def _covariances(scatter, unassigned, nk, covariance_type, reg_covar):
    d = scatter.shape[1]
    if covariance_type == "tied":
        return (scatter.sum(axis=0) + unassigned) / nk.sum() + reg_covar * np.eye(d)
    if covariance_type == "full":
        return scatter / nk[:, None, None] + reg_covar * np.eye(d)
    variances = scatter / nk[:, None] + reg_covar
    return variances if covariance_type == "diag" else variances.mean(axis=1)
