"""
Fitted components as ellipses
=============================

A three-component mixture fitted to two-dimensional data. Each ellipse is
the two-standard-deviation contour of one component; the points are
coloured by their most probable component.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from sklearn_em import GaussianMixture

rng = np.random.default_rng(0)
X = np.vstack(
    [
        rng.multivariate_normal([0, 0], [[2.0, 1.2], [1.2, 1.0]], 200),
        rng.multivariate_normal([5, 1], [[0.5, 0.0], [0.0, 2.0]], 150),
        rng.multivariate_normal([1, 5], [[1.0, -0.6], [-0.6, 1.0]], 150),
    ]
)
gm = GaussianMixture(n_components=3, random_state=0).fit(X)

fig, ax = plt.subplots(figsize=(6, 5))
ax.scatter(X[:, 0], X[:, 1], c=gm.labels_, s=8, cmap="viridis")
for mean, cov in zip(gm.means_, gm.covariances_, strict=True):
    values, vectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2 * 2 * np.sqrt(values[::-1])
    ax.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, lw=2, color="k"))
ax.set_title("GaussianMixture(n_components=3)")
fig.tight_layout()
plt.show()
