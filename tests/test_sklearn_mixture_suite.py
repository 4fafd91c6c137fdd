"""scikit-learn's own GaussianMixture tests, run against sklearn_em.GaussianMixture.

Only the import changes. Tests of scikit-learn's private functions are
deselected, each with its reason.
"""

from .sklearn_suite import load_suite

_PRIVATE = "tests scikit-learn's private {} directly, not the estimator"

GAUSSIAN_MIXTURE_DESELECTED = {
    "test_suffstat_sk_full": _PRIVATE.format("_estimate_gaussian_covariances_full"),
    "test_suffstat_sk_tied": _PRIVATE.format("_estimate_gaussian_covariances_tied"),
    "test_suffstat_sk_diag": _PRIVATE.format("_estimate_gaussian_covariances_diag"),
    "test_gaussian_suffstat_sk_spherical": _PRIVATE.format(
        "_estimate_gaussian_covariances_spherical"
    ),
    "test_compute_log_det_cholesky": _PRIVATE.format("_compute_log_det_cholesky"),
    "test_gaussian_mixture_log_probabilities": _PRIVATE.format("_estimate_log_gaussian_prob"),
}

globals().update(
    load_suite(
        "mixture/tests/test_gaussian_mixture.py",
        {"from sklearn.mixture import GaussianMixture\n": "from sklearn_em import GaussianMixture\n"},
        GAUSSIAN_MIXTURE_DESELECTED,
    )
)
