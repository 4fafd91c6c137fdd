"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_em import EMImputer, GaussianMixture

ESTIMATORS = [
    EMImputer(),
    EMImputer(n_components=2, covariance_type="diag", sample_posterior=True, add_indicator=True),
    GaussianMixture(),
    GaussianMixture(covariance_type="diag", acceleration="squarem"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)
