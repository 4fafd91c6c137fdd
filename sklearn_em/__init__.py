"""Expectation-maximization estimators for scikit-learn."""

from ._pooling import PooledEstimate, pool_estimates
from ._prior import ConjugatePrior
from .impute import EMImputer
from .mixture import GaussianMixture
from .model_selection import GaussianMixtureIC, aic_scorer, bic_scorer

__all__ = [
    "ConjugatePrior",
    "EMImputer",
    "GaussianMixture",
    "GaussianMixtureIC",
    "PooledEstimate",
    "aic_scorer",
    "bic_scorer",
    "pool_estimates",
]
__version__ = "0.1.0"
