"""scikit-learn's own GaussianMixture tests, run against sklearn_em.GaussianMixture.

Only the import changes. Tests of scikit-learn's private functions are
deselected, each with its reason.
"""

from .sklearn_suite import load_suite

_PRIVATE = "tests scikit-learn's private {} directly, not the estimator"

GAUSSIAN_MIXTURE_DESELECTED = {
    "test_monotonic_likelihood": (
        "asks for convergence within 600 one-pass warm fits at tol=1e-7 with reg_covar=0; "
        "on its 'diag' data a component keeps collapsing and the likelihood keeps climbing "
        "(gains grow again after 2,000 passes), which the gap rule of acceleration='squarem' "
        "does not call converged; tests/test_convergence.py checks one-pass warm fits"
    ),
    "test_sample": (
        "checks draws against the fitted variances to one decimal with 20,000 draws; on the "
        "fit our default reaches (SQUAREM, run to the optimum) one 'diag' component has "
        "weight 0.025, so its 475 draws miss its variance by 1.9 standard errors (0.17); "
        "with acceleration=None the fit is scikit-learn's and tests/test_reliability.py "
        "checks that the draws equal scikit-learn's"
    ),
    "test_suffstat_sk_full": _PRIVATE.format("_estimate_gaussian_covariances_full"),
    "test_suffstat_sk_tied": _PRIVATE.format("_estimate_gaussian_covariances_tied"),
    "test_suffstat_sk_diag": _PRIVATE.format("_estimate_gaussian_covariances_diag"),
    "test_gaussian_suffstat_sk_spherical": _PRIVATE.format(
        "_estimate_gaussian_covariances_spherical"
    ),
    "test_compute_log_det_cholesky": _PRIVATE.format("_compute_log_det_cholesky"),
    "test_gaussian_mixture_log_probabilities": _PRIVATE.format("_estimate_log_gaussian_prob"),
    "test_gaussian_mixture_precisions_init": _PRIVATE.format("_set_parameters and _initialize"),
    "test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters": (
        "counts calls of scikit-learn's private _estimate_gaussian_parameters by mocking it; "
        "tests/test_mixture.py checks that a complete user start is used as given"
    ),
    "test_gaussian_mixture_raises_where_array_api_not_implemented": (
        "expects scikit-learn's NotImplementedError for 'kmeans' and 'k-means++' under "
        "array_api_dispatch; here every init_params works on NumPy arrays, and other "
        "namespaces get a clear TypeError (tests/test_mixture.py)"
    ),
    "test_check_weights": (
        "expects scikit-learn's range message, which labels the minimum 'max value' and the "
        "maximum 'min value'; ours labels them right (tests/test_mixture.py checks the three "
        "weight checks)"
    ),
}

SKLEARN_IMPORT = "from sklearn.mixture import GaussianMixture\n"
OUR_IMPORT = "from sklearn_em import GaussianMixture\n"

globals().update(
    load_suite(
        "mixture/tests/test_gaussian_mixture.py",
        {SKLEARN_IMPORT: OUR_IMPORT},
        GAUSSIAN_MIXTURE_DESELECTED,
    )
)

_MIXTURE = load_suite(
    "mixture/tests/test_mixture.py",
    {
        "from sklearn.mixture import BayesianGaussianMixture, GaussianMixture\n": (
            "from sklearn.mixture import BayesianGaussianMixture\n"
            "from sklearn_em import GaussianMixture\n"
        )
    },
    {},
)
_TESTS = [name for name in _MIXTURE if name.startswith("test_")]
assert not set(_TESTS) & set(globals()), "test names of the two files collide"
globals().update({name: _MIXTURE[name] for name in _TESTS})
