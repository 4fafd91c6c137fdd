"""
Fitting a mixture on a Dask cluster
===================================

A LocalCluster of two workers (one thread each) holds a lazily generated
array of 400,000 rows in 8 chunks: three clusters, with a tenth of the
values missing. ``GaussianMixture.fit`` runs each EM
pass as one reduction of the chunks' statistics on the workers; only the
statistics come back. ``predict`` returns a lazy array chunked like the
input, computed here for the 2,000 rows that are plotted. The same
``random_state`` gives the same start whatever the chunking, because the
start is drawn from a sample of rows that does not depend on it.

The workers here are threads of this process (``processes=False``), so the
example runs anywhere; leave that out for worker processes, as on a real
cluster (a script must then start the cluster under
``if __name__ == "__main__":``, since the workers import it).
"""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from matplotlib.patches import Ellipse

from sklearn_em import GaussianMixture

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)

n, chunk_rows = 400_000, 50_000
state = da.random.RandomState(0)
which = state.randint(0, 3, size=(n, 1), chunks=(chunk_rows, 1))
centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
X = state.standard_normal((n, 2), chunks=(chunk_rows, 2)) * 0.8
for j in range(3):
    X = X + (which == j) * centres[j]
X = da.where(state.random_sample((n, 2), chunks=(chunk_rows, 2)) < 0.1, np.nan, X)

gm = GaussianMixture(3, random_state=0).fit(X)
labels = gm.predict(X)  # lazy: nothing is computed yet
print(f"{gm.n_iter_} passes; weights {np.round(gm.weights_, 3)}")
print(f"predict returned a lazy Dask array of {labels.numblocks[0]} chunks")

shown = X[:2000].compute()
colours = labels[:2000].compute()
complete = ~np.isnan(shown).any(axis=1)
fig, ax = plt.subplots(figsize=(6, 5))
ax.scatter(*shown[complete].T, c=colours[complete], s=6, cmap="viridis")
for mean, cov in zip(gm.means_, gm.covariances_, strict=True):
    values, vectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2 * 2 * np.sqrt(values[::-1])
    ax.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, lw=2, color="k"))
ax.set_title("Fitted on 2 Dask workers: 2,000 of 400,000 rows")
fig.tight_layout()
plt.show()

client.close()
cluster.close()
