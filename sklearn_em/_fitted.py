"""What a fitted Gaussian mixture answers, from the parameters it stores.

``FittedMixtureMixin`` gives :class:`~sklearn_em.GaussianMixture` its methods
past ``fit`` (labels, probabilities, densities, draws, information criteria)
and keeps the fitted parameters in the data's dtype; the estimator provides
``_family()`` and ``_em()``. ``fitted_state_kept_on_failure`` restores an
estimator whose fit fails or is interrupted.
"""

import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._dask import is_dask_collection, mean_and_count
from ._gaussian import Mixture
from ._pass import most_probable, normalise_log_responsibilities
from ._validation import validate_with_nan


class FittedMixtureMixin:
    """The fitted model's methods, shared by estimators that fit one mixture."""

    def _set_mixture(self, mixture, dtype):
        """Store the fitted parameters in the dtype of the data, as scikit-learn does.

        A value past the range of float32 keeps every parameter in float64, with
        a warning, rather than becoming inf.
        """
        parameters = {
            "weights_": mixture.weights,
            "means_": mixture.means,
            "covariances_": mixture.covariances,
            "precisions_cholesky_": mixture.precisions_cholesky,
            "precisions_": self._family(fitting=True).precisions(mixture),
        }
        if dtype != np.float64:
            with np.errstate(over="ignore"):
                cast = {name: value.astype(dtype) for name, value in parameters.items()}
            if all(np.all(np.isfinite(value)) for value in cast.values()):
                parameters = cast
            else:
                warnings.warn(
                    f"The fitted parameters exceed the range of {np.dtype(dtype).name}, so "
                    "they are kept in float64. Rescale the features to keep them in "
                    f"{np.dtype(dtype).name}.",
                    UserWarning,
                    stacklevel=5,
                )
        for name, value in parameters.items():
            setattr(self, name, value)
        self._fitted_covariance_type = self.covariance_type

    def _mixture(self):
        """The fitted parameters as the core's mixture, in float64."""
        weights, means, covariances, factors = (
            np.asarray(value, dtype=np.float64)
            for value in (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)
        )
        return Mixture(weights, means, covariances, factors)

    def _em_and_data(self, X):
        check_is_fitted(self)
        X = validate_with_nan(self, X, reset=False, rows_counted=False)
        em = self._em()
        return em, X

    def _per_row(self, X, answer, width=None, dtype=None):
        """``answer`` of the weighted log-densities of each row of ``X``: an
        array, or a lazy Dask array for Dask input (see ``_fit.EM.per_row``)."""
        em, X = self._em_and_data(X)
        return em.per_row(X, self._mixture(), answer, width, dtype)

    def _score_and_count(self, X):
        """The mean log-likelihood of ``X`` (one reduction for Dask input), and its rows."""
        log_density = self.score_samples(X)
        if is_dask_collection(log_density):
            return mean_and_count(log_density)
        return float(log_density.mean()), log_density.shape[0]

    def predict(self, X):
        """The most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component indices (a lazy Dask array for Dask input).
        """
        return self._per_row(X, most_probable, dtype=np.intp)

    def predict_proba(self, X):
        """The posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
            Responsibilities; each row sums to 1 (a lazy Dask array for Dask
            input).
        """
        check_is_fitted(self)
        return self._per_row(X, responsibilities, width=self.weights_.shape[0])

    def score_samples(self, X):
        """The log-density of each sample under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            Log-likelihood of each sample (a lazy Dask array for Dask input).
        """
        return self._per_row(X, normalise_log_responsibilities)

    def score(self, X, y=None):
        """The mean log-likelihood per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        log_likelihood : float
            Mean log-density of the samples; higher is better.
        """
        return self._score_and_count(X)[0]

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted mixture.

        The first call after ``fit`` draws what scikit-learn's would; later
        calls go on with the same generator, so they draw afresh, and a script
        run again with an int ``random_state`` repeats every draw.

        Parameters
        ----------
        n_samples : int, default=1
            The number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds these draws instead of the estimator's ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component each sample was drawn from.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample: pass a positive integer."
            )
        if random_state is not None:
            rng = check_random_state(random_state)
        else:
            if getattr(self, "_sampling_random_state", None) is None:
                self._sampling_random_state = check_random_state(self.random_state)
            rng = self._sampling_random_state
        return self._family().sample(self._mixture(), n_samples, rng)

    def _n_parameters(self):
        return self._family().n_parameters(self._mixture())

    def bic(self, X):
        """Bayesian information criterion of the mixture on ``X``; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        bic : float
            ``-2 log L + n_parameters log n_samples``.
        """
        score, n_samples = self._score_and_count(X)
        return -2 * score * n_samples + self._n_parameters() * np.log(n_samples)

    def aic(self, X):
        """Akaike information criterion of the mixture on ``X``; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        aic : float
            ``-2 log L + 2 n_parameters``.
        """
        score, n_samples = self._score_and_count(X)
        return -2 * score * n_samples + 2 * self._n_parameters()


def responsibilities(log_prob):
    """The posterior probabilities of the components, from ``log_prob`` (overwritten)."""
    normalise_log_responsibilities(log_prob)
    return log_prob


@contextmanager
def fitted_state_kept_on_failure(estimator):
    """A context in which a failed or interrupted fit leaves ``estimator`` as it was."""
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise
