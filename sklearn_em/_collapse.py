"""Components on too few rows for their covariances: what a criterion cannot judge.

A component whose responsibilities add up to fewer rows than its covariance
needs (two for a 'diag' or 'spherical' one, one more than the features for a
'full' one) has a covariance made of ``reg_covar`` alone along some
direction. Its likelihood then grows without bound as ``reg_covar`` shrinks,
so BIC and AIC favour such a fit on any data: on 40 rows of pure noise
``GaussianMixtureIC`` chose up to nine components, each extra one on a single
row. mclust reports no criterion for such singular fits. Here the choice is
left as it is (scikit-learn's criteria make it too) and the user is told.
"""

import warnings

import numpy as np

from ._dask import is_dask_collection


def rows_needed(covariance_type, n_features):
    """The rows a component needs for its own covariance (none for 'tied': it is pooled)."""
    return {"full": n_features + 1, "diag": 2, "spherical": 2}.get(covariance_type, 0)


def collapsed_components(mixture, X, sample_weight=None):
    """How many of a fitted mixture's components hold fewer rows of ``X`` than they need.

    Each row counts once by its responsibilities, whatever its weight (a row
    repeated is still one point), and rows of weight zero not at all. None
    with a prior, which keeps every covariance proper, nor for Dask input
    (counting would take a pass over the cluster's data).
    """
    need = rows_needed(mixture.covariance_type, X.shape[1])
    if need == 0 or mixture.prior is not None or is_dask_collection(X):
        return 0
    resp = mixture.predict_proba(X)
    if sample_weight is not None:
        resp = resp[sample_weight > 0]
    return int(np.count_nonzero(resp.sum(axis=0) < need))


def warn_if_collapsed(mixture, X, sample_weight=None, stacklevel=3):
    """Warn when the chosen ``mixture`` has components on too few rows; return how many."""
    collapsed = collapsed_components(mixture, X, sample_weight)
    if collapsed:
        need = rows_needed(mixture.covariance_type, X.shape[1])
        warnings.warn(
            f"The chosen model (n_components={mixture.n_components}, covariance_type="
            f"{mixture.covariance_type!r}) has {collapsed} component(s) on fewer than the "
            f"{need} rows a covariance needs, held up by reg_covar alone: its likelihood, so "
            "its criterion, favours it on any data. Pass prior='conjugate' to keep every "
            "covariance proper, or try fewer components.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return collapsed
