"""Expectation-maximization estimators for scikit-learn."""

from .impute import EMImputer
from .mixture import GaussianMixture
from .model_selection import GaussianMixtureIC, aic_scorer, bic_scorer

__all__ = ["EMImputer", "GaussianMixture", "GaussianMixtureIC", "aic_scorer", "bic_scorer"]
__version__ = "0.1.0"
