"""fit_to_budget(): shrink trees into a flash budget and show the trade-off."""

from __future__ import annotations

import joblib
import matplotlib
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import InputError, ModelError
from workbench.edge import export, fit_to_budget

matplotlib.use("Agg")

GRID = [
    {"n_estimators": 10, "max_depth": 10},
    {"n_estimators": 10, "max_depth": 4},
    {"n_estimators": 3, "max_depth": 6},
    {"n_estimators": 2, "max_depth": 2},
]


def test_picks_the_most_accurate_candidate_that_fits(vibration):
    _, Xtr, ytr, Xte, yte, _ = vibration
    rf = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0)
    full = fit_to_budget(
        rf, Xtr, ytr, Xte, yte, flash_budget=10**6, grid=GRID[:1], show_progress=False
    )
    assert full.table["form"].iloc[0] == "ifelse"  # fits: the rule's fast form is kept
    # Below the if/else code but above the compact tables: the tables fit.
    tables = export(full.model, Xte, yte, form="tables", targets=[full.target])
    assert tables.flash_bytes < full.artifact.flash_bytes
    res = fit_to_budget(
        rf, Xtr, ytr, Xte, yte, flash_budget=tables.flash_bytes, grid=GRID[:1], show_progress=False
    )
    assert res.table["form"].iloc[0] == "tables" and res.table["fits"].iloc[0]
    assert res.artifact.flash_bytes == tables.flash_bytes
    budget = tables.flash_bytes - 1
    res = fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=budget, grid=GRID, show_progress=False)
    t = res.table
    assert len(t) == 4 and not t.iloc[0]["fits"]
    chosen = t[t["chosen"]].iloc[0]
    assert chosen["fits"] and chosen["flash_bytes"] <= budget
    assert chosen["accuracy"] == t[t["fits"]]["accuracy"].max()
    assert (t["parity_%"] == 100.0).all()
    assert res.artifact.flash_bytes == chosen["flash_bytes"]
    assert res.model.n_estimators == res.chosen["n_estimators"]
    ax = res.plot()
    assert ax.get_xlabel().startswith("flash bytes")
    assert "chosen" in res.summary()
    assert res.to_dict()["flash_budget"] == budget


def test_default_grid_for_a_single_tree_and_threads(vibration):
    _, Xtr, ytr, Xte, yte, _ = vibration
    with joblib.parallel_config(backend="threading"):
        res = fit_to_budget(
            DecisionTreeClassifier(max_depth=6, random_state=0),
            Xtr,
            ytr,
            Xte,
            yte,
            flash_budget=10**6,
            n_jobs=2,
            show_progress=False,
        )
    assert list(res.table["max_depth"]) == [6, 4, 3, 2]
    assert "n_estimators" not in res.table.columns


def test_bad_input(vibration):
    _, Xtr, ytr, Xte, yte, _ = vibration
    rf = RandomForestClassifier(n_estimators=2, random_state=0)
    with pytest.raises(ModelError, match="GaussianNB is not one"):
        fit_to_budget(GaussianNB(), Xtr, ytr, Xte, yte, flash_budget=1000)
    with pytest.raises(ModelError, match="No candidate fits 10 bytes"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=10, grid=GRID[3:], show_progress=False)
    with pytest.raises(InputError, match=r"flash_budget must lie in \[1, 1e\+09\]"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=-5)
    with pytest.raises(InputError, match="does not take"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=1000, grid=[{"n_trees": 3}])
    with pytest.raises(InputError, match="grid is empty"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=1000, grid=[])
    with pytest.raises(InputError, match="X_test has 3 features"):
        fit_to_budget(rf, Xtr, ytr, Xte[:, :3], yte, flash_budget=1000)


def test_missing_compiler(vibration):
    from workbench.core.errors import DependencyError

    _, Xtr, ytr, Xte, yte, _ = vibration
    with pytest.raises(DependencyError, match="apt-get install gcc"):
        fit_to_budget(
            RandomForestClassifier(n_estimators=2),
            Xtr,
            ytr,
            Xte,
            yte,
            flash_budget=1000,
            cc="/nonexistent/cc",
        )
