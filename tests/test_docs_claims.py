"""What the README and the "Choosing k" guide say about BIC on wine, checked."""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sklearn_em import GaussianMixture, GaussianMixtureIC, bic_scorer


def test_held_out_bic_picks_one_component_where_training_bic_picks_two():
    X = StandardScaler().fit_transform(load_wine().data)
    grid = {"n_components": range(1, 9)}
    folds = KFold(5, shuffle=True, random_state=0)
    held_out = GridSearchCV(GaussianMixture(random_state=0), grid, scoring=bic_scorer, cv=folds)
    assert held_out.fit(X).best_params_ == {"n_components": 1}
    assert GaussianMixtureIC(8, random_state=0).fit(X).best_params_["n_components"] == 2
    likelihood = GridSearchCV(GaussianMixture(random_state=0), grid, cv=folds).fit(X)
    assert likelihood.best_params_["n_components"] in (2, 3)
    # the README's recipe for training-data BIC through GridSearchCV: fit and score on all rows
    everything = np.arange(len(X))
    training = GridSearchCV(
        GaussianMixture(random_state=0), grid, scoring=bic_scorer, cv=[(everything, everything)]
    )
    assert training.fit(X).best_params_ == {"n_components": 2}


def test_the_documented_missing_markers_are_missing():
    from pathlib import Path

    from sklearn_em._table import Source, read_table

    guide = (Path(__file__).parents[1] / "docs/user_guide/command_line.rst").read_text()
    listed = guide[guide.index("pandas' markers:") : guide.index(". Any")]
    markers = listed.split("``")[1::2]
    assert len(markers) == 18
    body = "x,y\n" + "".join(f"{i},{m}\n" for i, m in enumerate(markers)) + "99,1\n"
    table = read_table(Source("markers.csv", data=body.encode()))
    assert np.isnan(table.values[:-1, 1]).all() and table.values[-1, 1] == 1
