"""Scorers for choosing the number of components and the covariance type."""


def bic_scorer(estimator, X, y=None):
    """Minus the BIC of a fitted mixture on ``X``, for ``scoring=``.

    Scorers are maximised, so the model with the lowest BIC wins.

    Parameters
    ----------
    estimator : GaussianMixture or Pipeline ending in one
        The fitted model.

    X : array-like of shape (n_samples, n_features)
        The data to score.

    y : Ignored
        Not used, present for API consistency.

    Returns
    -------
    score : float
        ``-estimator.bic(X)``, after any preceding pipeline steps.
    """
    return -_criterion(estimator, X, "bic")


def aic_scorer(estimator, X, y=None):
    """Minus the AIC of a fitted mixture on ``X``, for ``scoring=``.

    Parameters
    ----------
    estimator : GaussianMixture or Pipeline ending in one
        The fitted model.

    X : array-like of shape (n_samples, n_features)
        The data to score.

    y : Ignored
        Not used, present for API consistency.

    Returns
    -------
    score : float
        ``-estimator.aic(X)``, after any preceding pipeline steps.
    """
    return -_criterion(estimator, X, "aic")


def _criterion(estimator, X, name):
    if hasattr(estimator, "steps"):
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        estimator = estimator.steps[-1][1]
    return getattr(estimator, name)(X)
