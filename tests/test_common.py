"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_em import EMImputer, GaussianMixture, GaussianMixtureIC

ESTIMATORS = [
    EMImputer(),
    EMImputer(n_components=2, covariance_type="diag", sample_posterior=True, add_indicator=True),
    GaussianMixture(),
    GaussianMixture(covariance_type="diag", acceleration=None),
    GaussianMixtureIC(),
    GaussianMixtureIC(n_components=[2, 3], covariance_type="all", criterion="aic"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _public_fitted_attributes(estimator):
    return [name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")]


def test_every_fitted_attribute_is_documented():
    import numpy as np
    import pandas as pd

    X = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=["a", "b", "c"])
    X.iloc[::4, 1] = np.nan
    for estimator in [GaussianMixture(), EMImputer(add_indicator=True), GaussianMixtureIC(3)]:
        fitted = estimator.fit(X)
        attributes = fitted.__doc__.split("Attributes\n    ----------")[1].split("See Also")[0]
        for name in _public_fitted_attributes(fitted):
            assert f"\n    {name} : " in attributes, f"{type(estimator).__name__}.{name}"
