"""Boosted trees, single-tree probabilities and the two C forms of trees (issue 20).

Parity is proven by compiling: every header runs in the host harness on held-out rows and is
compared with scikit-learn row by row. Timing is never asserted here (see
``benchmarks/edge_forms_bench.py``); the tests check that every form gives the same answers
and that the form rule is applied.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import InputError, ModelError
from workbench.edge import SUPPORTED_ESTIMATORS, export, tree_forms
from workbench.edge.artifact import build_artifact
from workbench.edge.boosting import boosted_trees
from workbench.edge.codegen import generate
from workbench.edge.compiler import find_compiler
from workbench.edge.harness import run_model
from workbench.edge.tree_forms import choose_form
from workbench.edge.trees import flatten_trees

FORMS = ("tables", "ifelse")


@pytest.fixture(scope="module")
def toolchain():
    return find_compiler()


@pytest.fixture(scope="module")
def scaled6():
    """The issue's 6-class set: columns scaled by 1e4, 1e-4, 1e-6 and 1e6."""
    X, y = make_classification(
        900, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=0
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    return train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def with_nan(scaled6):
    """The 6-class set with 15% of the values missing (in training and held out)."""
    Xtr, Xte, ytr, yte = scaled6
    rng = np.random.default_rng(1)
    Xtr, Xte = Xtr.copy(), Xte.copy()
    Xtr[rng.random(Xtr.shape) < 0.15] = np.nan
    Xte[rng.random(Xte.shape) < 0.15] = np.nan
    return Xtr, Xte, ytr, yte


def as_float32(X):
    """What a float32 device holds: the values every C input type here is fed."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def check_parity(model, X, toolchain, *, form, dtype="float32", leaves=""):
    code = generate(model, name="m", dtype=dtype, leaves=leaves, form=form)
    assert code.details["form"] == form
    art = build_artifact(model, code, X, None, toolchain, ["host"], dtype)
    assert art.parity.match_rate == 100.0, (form, art.parity.explanation)
    return art


BOOSTED = {
    "hgb": lambda: HistGradientBoostingClassifier(max_iter=30, random_state=0),
    "gb": lambda: GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", list(BOOSTED))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_boosted_trees_match_sklearn_on_wine(kind, n_classes, form, wine_split, toolchain):
    Xtr, Xte, ytr, _ = wine_split
    ytr = ytr if n_classes == 3 else (ytr == 1).astype(int)
    model = BOOSTED[kind]().fit(Xtr, ytr)
    art = check_parity(model, as_float32(Xte), toolchain, form=form)
    assert art.parity.max_proba_error < 1e-5
    assert art.n_classes == n_classes


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", list(BOOSTED))
def test_boosted_trees_on_features_scaled_from_1e_minus6_to_1e6(kind, form, scaled6, toolchain):
    Xtr, Xte, ytr, _ = scaled6
    model = BOOSTED[kind]().fit(Xtr, ytr)
    art = check_parity(model, as_float32(Xte), toolchain, form=form)
    assert art.parity.max_proba_error < 1e-5
    assert len(model.classes_) == 6


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("n_classes", [2, 6])
def test_hist_gradient_boosting_routes_nan_like_sklearn(n_classes, form, with_nan, toolchain):
    Xtr, Xte, ytr, _ = with_nan
    ytr = ytr if n_classes == 6 else ytr % 2
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(Xtr, ytr)
    nan_left = boosted_trees(model).forest.nan_left
    assert nan_left.any() and not nan_left.all()  # both NaN branches are exercised
    rows_with_nan = np.isnan(Xte).any(axis=1)
    assert rows_with_nan.mean() > 0.5
    art = check_parity(model, as_float32(Xte), toolchain, form=form)
    assert art.parity.max_proba_error < 1e-5


def test_nan_at_predict_only_follows_the_trained_default(scaled6, toolchain):
    Xtr, Xte, ytr, _ = scaled6
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(Xtr, ytr)
    Xn = as_float32(Xte)
    Xn[::2, [0, 3, 5]] = np.nan  # never seen in training: each node sends NaN its own way
    for form in FORMS:
        art = check_parity(model, Xn, toolchain, form=form)
        assert art.parity.max_proba_error < 1e-5


def threshold_probe_rows(model, X):
    """Rows placing one feature exactly at, just below and just above each float32 threshold."""
    bt = boosted_trees(model)
    th = bt.forest.threshold_f32
    keep = np.isfinite(th)
    rows = []
    for f, t in zip(bt.forest.feature[keep], th[keep], strict=True):
        for v in (t, np.nextafter(t, np.float32(np.inf)), np.nextafter(t, np.float32(-np.inf))):
            r = X[len(rows) % len(X)].copy()
            r[f] = v
            rows.append(r)
    return np.asarray(rows, dtype=np.float32).astype(np.float64)


@pytest.mark.parametrize("kind", list(BOOSTED))
def test_thresholds_compare_exactly_at_float32_neighbours(kind, toolchain):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)).astype(np.float32).astype(np.float64)  # negative values too
    X[:, 1] *= 1e-30  # tiny magnitudes: thresholds next to +-0.0
    y = (X[:, 0] + 1e30 * X[:, 1] - X[:, 2] > 0).astype(int) + (X[:, 3] > 0.5)
    model = BOOSTED[kind]().fit(X, y)
    probes = threshold_probe_rows(model, X)
    zeros = X[:8].copy()
    zeros[:4, 1], zeros[4:, 1] = 0.0, -0.0
    for form in FORMS:
        art = check_parity(model, np.vstack([probes, zeros]), toolchain, form=form)
        assert art.parity.max_proba_error < 1e-5


def test_binary_ties_follow_each_estimators_rule(toolchain):
    # Constant features: no split anywhere; balanced classes make every raw score exactly 0.
    X = np.zeros((40, 2))
    y = np.arange(40) % 2
    hgb = HistGradientBoostingClassifier(max_iter=3).fit(X, y)
    gb = GradientBoostingClassifier(n_estimators=3).fit(X, y)
    assert hgb.predict(X[:1])[0] == 0 and gb.predict(X[:1])[0] == 1  # raw > 0 vs raw >= 0
    for model in (hgb, gb):
        for form in FORMS:
            art = check_parity(model, X[:4], toolchain, form=form)
            assert art.parity.max_proba_error < 1e-6


def test_gradient_boosting_init_zero_and_exponential_loss(cancer_split, toolchain):
    Xtr, Xte, ytr, _ = cancer_split
    for model in (
        GradientBoostingClassifier(n_estimators=20, init="zero", random_state=0),
        GradientBoostingClassifier(n_estimators=20, loss="exponential", random_state=0),
    ):
        model.fit(Xtr, ytr)
        art = check_parity(model, Xte, toolchain, form="ifelse")
        assert art.parity.max_proba_error < 1e-5


def test_export_takes_boosted_models_with_the_same_interface(wine_split):
    Xtr, Xte, ytr, yte = wine_split
    assert SUPPORTED_ESTIMATORS["HistGradientBoostingClassifier"] == "boosting"
    assert SUPPORTED_ESTIMATORS["GradientBoostingClassifier"] == "boosting"
    for model in (BOOSTED["hgb"](), BOOSTED["gb"]()):
        model.fit(Xtr, ytr)
        art = export(model, Xte, yte, targets=["host"])
        assert art.parity.match_rate == 100.0 and art.parity.max_proba_error < 1e-5
        assert art.dtype == "float32" and art.leaves == ""
        assert "static void model_predict_proba(" in art.header
        assert any("double" in n for n in art.notes)
        np.testing.assert_array_equal(art.predict(Xte), model.predict(Xte))


def test_hist_gradient_boosting_float64_inputs_use_double_thresholds(scaled6, toolchain):
    Xtr, Xte, ytr, _ = scaled6
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(Xtr, ytr)
    for form in FORMS:
        art = check_parity(model, as_float32(Xte), toolchain, form=form, dtype="float64")
        assert "typedef double m_input_t" in art.header
        assert art.parity.max_proba_error < 1e-5


def test_categorical_splits_and_other_init_estimators_are_refused(wine_split):
    Xtr, _, ytr, _ = wine_split
    Xc = Xtr.copy()
    Xc[:, 0] = np.arange(len(Xc)) % 4
    hgb = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]).fit(Xc, ytr)
    with pytest.raises(ModelError, match="categorical_features"):
        generate(hgb, name="m", dtype="float32", leaves="")
    with pytest.raises(ModelError, match="categorical_features"):
        export(hgb, Xc, targets=["host"])
    gb = GradientBoostingClassifier(n_estimators=5, init=DummyClassifier(strategy="most_frequent"))
    gb.fit(Xtr, ytr)
    with pytest.raises(ModelError, match=r"init=None .*init='zero'"):
        generate(gb, name="m", dtype="float32", leaves="")
    gb = GradientBoostingClassifier(n_estimators=5).fit(Xtr, ytr)
    with pytest.raises(InputError, match="float32"):
        generate(gb, name="m", dtype="float64", leaves="")
    with pytest.raises(InputError, match="engine='workbench'"):
        generate(gb, name="m", dtype="float32", leaves="", engine="emlearn")
    with pytest.raises(InputError, match="form must be"):
        generate(gb, name="m", dtype="float32", leaves="", form="inline")


# --- single trees and forests ---------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_single_tree_probability_is_its_leafs_class_distribution(form, wine_split, toolchain):
    Xtr, Xte, ytr, _ = wine_split
    dt = DecisionTreeClassifier(min_samples_leaf=6, random_state=0).fit(Xtr, ytr)
    proba = dt.predict_proba(Xte)
    assert ((proba > 0) & (proba < 1)).any()  # impure leaves: one-hot would be wrong
    art = check_parity(dt, Xte, toolchain, form=form, leaves="class")
    assert art.parity.max_proba_error < 1e-6
    np.testing.assert_allclose(art.predict_proba(Xte), proba, atol=1e-6)


@pytest.mark.parametrize("leaves", ["class", "uint8", "float"])
@pytest.mark.parametrize("factory", [RandomForestClassifier, ExtraTreesClassifier])
def test_every_form_and_leaf_encoding_gives_the_same_answers(
    factory, leaves, wine_split, toolchain
):
    Xtr, Xte, ytr, _ = wine_split
    model = factory(n_estimators=6, max_depth=5, random_state=0).fit(Xtr, ytr)
    codes = [generate(model, name="m", dtype="float32", leaves=leaves, form=f) for f in FORMS]
    (p0, q0, _), (p1, q1, _) = (run_model(c, Xte, toolchain, min_time_rows=0) for c in codes)
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_array_equal(q0, q1)
    if leaves != "class":  # soft voting: scikit-learn's averaged leaf distributions
        np.testing.assert_allclose(q0, model.predict_proba(Xte), atol=0.5 / 255 + 1e-6)


@pytest.mark.parametrize("form", FORMS)
def test_int16_trees_in_both_forms(form, integer_data, toolchain):
    Xtr, ytr, Xte, _ = integer_data
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xtr, ytr)
    art = check_parity(rf, Xte, toolchain, form=form, dtype="int16", leaves="float")
    assert art.parity.max_proba_error < 1e-6
    assert "int16_t" in art.header


def test_nan_and_signed_zero_go_the_same_way_in_both_forms(wine_split, toolchain):
    Xtr, Xte, ytr, _ = wine_split
    rf = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(Xtr, ytr)
    X = np.vstack([Xte[:6], Xte[:6]])
    X[:6, :5] = np.nan  # NaN compares false (goes right) in both forms
    X[6:, 5:] = -0.0
    out = [
        run_model(
            generate(rf, name="m", dtype="float32", leaves="float", form=f),
            X,
            toolchain,
            min_time_rows=0,
        )
        for f in FORMS
    ]
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


# --- the form rule ---------------------------------------------------------------------------


def test_auto_form_follows_the_rule_and_says_why(wine_split, integer_data, monkeypatch):
    Xtr, Xte, ytr, _ = wine_split
    rf = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(Xtr, ytr)
    forest = flatten_trees(rf, "uint8", "float32")[0]
    form, why = choose_form(forest)
    assert (
        form == "ifelse"
        and f"about {tree_forms.IFELSE_EXTRA_BYTES['trees'] * forest.n_nodes} B" in why
    )
    code = generate(rf, name="m", dtype="float32", leaves="uint8")
    assert code.details["form"] == "ifelse" and why in code.notes
    art = export(rf, Xte, targets=["host"])
    assert art.details["form"] == "ifelse"
    # int16 comparisons cost less flash per node in if/else than float32 ones.
    Xi, yi = integer_data[:2]
    rf16 = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(Xi, yi)
    f16 = flatten_trees(rf16, "uint8", "int16")[0]
    assert f"about {tree_forms.IFELSE_EXTRA_BYTES['int16'] * f16.n_nodes} B" in choose_form(f16)[1]
    # Boosted trees cost more flash per node in if/else: the same budget takes fewer nodes.
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(Xtr, ytr)
    bt = boosted_trees(hgb)
    cap = bt.forest.n_nodes * tree_forms.IFELSE_EXTRA_BYTES["boosted"]
    monkeypatch.setattr(tree_forms, "IFELSE_MAX_EXTRA_FLASH", cap)
    assert choose_form(bt.forest, "boosted")[0] == "ifelse"
    assert generate(hgb, name="m", dtype="float32", leaves="").details["form"] == "ifelse"
    monkeypatch.setattr(tree_forms, "IFELSE_MAX_EXTRA_FLASH", cap - 1)
    code = generate(hgb, name="m", dtype="float32", leaves="")
    assert code.details["form"] == "tables" and any(str(cap) in n for n in code.notes)
    # Over the flash spent on speed, or deeper than nested code may be: the tables.
    monkeypatch.setattr(
        tree_forms,
        "IFELSE_MAX_EXTRA_FLASH",
        tree_forms.IFELSE_EXTRA_BYTES["trees"] * forest.n_nodes - 1,
    )
    assert choose_form(forest)[0] == "tables"
    assert generate(rf, name="m", dtype="float32", leaves="uint8").details["form"] == "tables"
    monkeypatch.setattr(tree_forms, "IFELSE_MAX_EXTRA_FLASH", 10**9)
    monkeypatch.setattr(tree_forms, "IFELSE_MAX_DEPTH", forest.max_depth - 1)
    assert choose_form(forest)[0] == "tables"


def test_export_takes_nan_rows_for_histgradientboosting():
    """export() itself (not only the generator) accepts NaN for HGB and judges parity on them."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier

    from workbench.edge import export

    X, y = load_breast_cancer(return_X_y=True)
    X = X.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X[:400], y[:400])
    artifact = export(model, X[400:], y[400:], targets=["host"])
    assert artifact.parity.match_rate == 100.0
    assert artifact.parity.max_proba_error <= 1e-5
