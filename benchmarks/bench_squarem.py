"""Passes to convergence: plain EM against SQUAREM, from the same start.

    python benchmarks/bench_squarem.py

Three problems (overlapping clusters; wine; diabetes with 30% missing), four
covariance types, two tolerances. Each pair of fits starts from the same
parameters (one EM step from k-means); the table gives the passes over the
data and the difference of the final mean log-likelihoods (SQUAREM - plain).
"""

import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_em import GaussianMixture


def problems():
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 2.0]])
    overlapping = np.vstack(
        [rng.multivariate_normal(m, [[1.0, 0.6], [0.6, 1.2]], 400) for m in means]
    )
    wine = StandardScaler().fit_transform(load_wine().data)
    diabetes = StandardScaler().fit_transform(load_diabetes().data)
    diabetes[np.random.default_rng(0).random(diabetes.shape) < 0.3] = np.nan
    return [("overlapping", overlapping, 3), ("wine", wine, 3), ("diabetes 30% NaN", diabetes, 2)]


def main():
    warnings.simplefilter("ignore")
    print(
        f"{'problem':18}{'covariance':11}{'tol':>7}{'plain':>7}{'SQUAREM':>9}"
        f"{'ratio':>7}{'loglik gain':>13}"
    )
    plain_total = fast_total = 0
    for name, X, k in problems():
        for covariance_type in ["full", "tied", "diag", "spherical"]:
            start = GaussianMixture(
                k, covariance_type=covariance_type, max_iter=1, random_state=0
            ).fit(X)
            for tol in [1e-6, 1e-9]:
                common = dict(
                    covariance_type=covariance_type,
                    tol=tol,
                    max_iter=20000,
                    weights_init=start.weights_,
                    means_init=start.means_,
                    precisions_init=start.precisions_,
                )
                plain = GaussianMixture(k, acceleration=None, **common).fit(X)
                fast = GaussianMixture(k, acceleration="squarem", **common).fit(X)
                plain_total += plain.n_iter_
                fast_total += fast.n_iter_
                print(
                    f"{name:18}{covariance_type:11}{tol:7.0e}{plain.n_iter_:7d}"
                    f"{fast.n_iter_:9d}{fast.n_iter_ / plain.n_iter_:7.2f}"
                    f"{fast.lower_bound_ - plain.lower_bound_:13.1e}"
                )
    print(
        f"\nall problems: {fast_total} SQUAREM passes for {plain_total} plain "
        f"({fast_total / plain_total:.2f})"
    )


if __name__ == "__main__":
    main()
