"""
BIC over the number of components and the covariance type
==========================================================

:class:`~sklearn_em.GaussianMixtureIC` fits every pair of ``n_components``
and ``covariance_type`` and keeps the lowest BIC. Here the data has four
clusters of one shared elongated shape: 'tied' describes them with the
fewest parameters and wins at four components, 'full' fits them as well but
pays for its extra parameters, and 'diag' and 'spherical' cannot follow the
shape with any number of components.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_em import GaussianMixtureIC

rng = np.random.default_rng(1)
shear = np.array([[1.0, 0.0], [1.5, 0.4]])
centers = np.array([[0, 0], [6, 0], [0, 6], [6, 6]])
X = np.vstack([rng.normal(size=(150, 2)) @ shear + c for c in centers])

selector = GaussianMixtureIC(n_components=8, covariance_type="all", random_state=0).fit(X)
table = selector.criterion_

fig, ax = plt.subplots(figsize=(6, 4))
for covariance_type in ["full", "tied", "diag", "spherical"]:
    rows = [i for i, c in enumerate(table["covariance_type"]) if c == covariance_type]
    ax.plot(
        [table["n_components"][i] for i in rows],
        [table["bic"][i] for i in rows],
        marker="o",
        label=covariance_type,
    )
ax.set_xlabel("n_components")
ax.set_ylabel("BIC (lower is better)")
best = selector.best_params_
best_row = list(zip(table["n_components"], table["covariance_type"], strict=True)).index(
    (best["n_components"], best["covariance_type"])
)
ax.plot(best["n_components"], table["bic"][best_row], "k*", ms=15, label="best")
ax.set_title(f"best: {best['n_components']} components, '{best['covariance_type']}'")
ax.legend()
fig.tight_layout()
plt.show()
