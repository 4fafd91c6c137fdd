"""
The log-likelihood trace of plain EM and SQUAREM
================================================

Three overlapping clusters make EM slow. From the same starting point, plain
EM and SQUAREM climb to the same log-likelihood; SQUAREM gets there in a
fraction of the passes, and its trace, like EM's, never goes down.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import GaussianMixture

rng = np.random.default_rng(3)
means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 2.0]])
X = np.vstack([rng.multivariate_normal(m, [[1.0, 0.6], [0.6, 1.2]], 400) for m in means])

# One pass from k-means gives both runs the same start; that it has not
# converged after one pass is the point, so its warning is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    start = GaussianMixture(3, max_iter=1, random_state=0).fit(X)
common = dict(
    tol=1e-8,
    max_iter=2000,
    weights_init=start.weights_,
    means_init=start.means_,
    precisions_init=start.precisions_,
)
plain = GaussianMixture(3, acceleration=None, **common).fit(X)
fast = GaussianMixture(3, acceleration="squarem", **common).fit(X)

fig, ax = plt.subplots(figsize=(6, 4))
for model, name in [(plain, "plain EM"), (fast, "SQUAREM")]:
    passes = np.arange(1, model.n_iter_ + 1)
    ax.plot(passes, model.lower_bounds_, label=f"{name} ({model.n_iter_} passes)")
ax.set_xscale("log")
ax.set_xlabel("pass over the data")
ax.set_ylabel("mean log-likelihood")
ax.legend()
fig.tight_layout()
plt.show()
