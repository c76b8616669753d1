"""Bad input to the public names of workbench.edge (issue 14 part 2).

Each call either raises a WorkbenchError whose message names the problem and the fix, or returns
a valid (finite) result.
"""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.edge import (
    csv_predict,
    export,
    export_emlearn_default,
    feature_names,
    features_c_source,
    find_compiler,
    fit_to_budget,
    make_vibration_windows,
    verify_features,
    verify_pipeline,
    vibration_features,
)

SEED_RANGE = r"random_state must lie in \[0, 2\*\*32 - 1\]"


@pytest.fixture(scope="module")
def tree(wine_split):
    Xtr, _, ytr, _ = wine_split
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(Xtr, ytr)


@pytest.fixture(scope="module")
def artifact(tree, wine_split):
    return export(tree, wine_split[1], targets=["host"])


@pytest.fixture(scope="module")
def windows():
    return np.random.default_rng(0).normal(size=(3, 1024))


# ------------------------------------------------------------------------------ vibration demo


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, InputError, SEED_RANGE),
        (2**32, InputError, SEED_RANGE),
        (1.5, InputTypeError, "integer seed"),
        ("0", InputTypeError, "integer seed"),
        (True, InputTypeError, "integer seed"),
        (np.random.RandomState(0), InputTypeError, "integer seed"),
    ],
)
def test_make_vibration_windows_checks_the_seed(seed, error, message):
    with pytest.raises(error, match=message):
        make_vibration_windows(2, n_samples=64, random_state=seed)


def test_make_vibration_windows_bounds_its_sizes():
    with pytest.raises(InputError, match=r"n_per_class must lie in \[1, 5000\]"):
        make_vibration_windows(10**6)
    with pytest.raises(InputTypeError, match="n_per_class must be an integer"):
        make_vibration_windows(2.5)
    with pytest.raises(InputError, match=r"n_samples must lie in \[64, 32768\].*int16"):
        make_vibration_windows(2, n_samples=2**16)
    with pytest.raises(InputError, match=r"MB.*fewer or shorter windows"):
        make_vibration_windows(5000, n_samples=32768)
    with pytest.raises(InputError, match="overflows float32"):
        make_vibration_windows(2, fs=1e308)
    with pytest.raises(InputError, match="finite"):
        make_vibration_windows(2, fs=float("nan"))


def test_features_of_huge_values_are_refused(windows):
    W = windows.copy()
    W[1, 7] = 1e308
    with pytest.raises(InputError, match="overflow float32"):
        vibration_features(W)
    with pytest.raises(InputError, match="infinite"):
        vibration_features(np.where(W > 1e300, np.inf, W))


@pytest.mark.parametrize("scale", [1e-160, 1e-30, 1e30, 1e37])
def test_features_at_any_float32_amplitude_are_finite_and_scale_free(windows, scale):
    F = vibration_features(windows * scale)
    assert np.isfinite(F).all()
    # crest factor and kurtosis do not depend on the unit
    np.testing.assert_allclose(F[:, 2:4], vibration_features(windows)[:, 2:4], rtol=1e-12)
    assert np.isfinite(vibration_features(windows * scale, quantize=True)).all()


def test_band_edges_and_flags_are_checked(windows):
    with pytest.raises(InputTypeError, match="band_edges must be a sequence"):
        feature_names(None)
    with pytest.raises(InputTypeError, match="band_edges must be a sequence"):
        vibration_features(windows, band_edges="0,100,2048")
    with pytest.raises(InputTypeError, match="numbers only"):
        feature_names([0, None, 100])
    with pytest.raises(InputError, match="finite"):
        features_c_source(band_edges=[0.0, float("nan")])
    with pytest.raises(InputTypeError, match="quantize must be True or False"):
        vibration_features(windows, quantize="yes")
    with pytest.raises(InputError, match="int16"):
        features_c_source(n_samples=2**16)  # bin indices would overflow the int16 tables
    with pytest.raises(InputError, match="power-of-two length"):
        vibration_features(np.zeros((2, 2**16)))


def test_c_feature_path_refuses_swings_that_overflow_float32(windows):
    with pytest.raises(InputError, match="kurtosis sums x\\*\\*4 in float32"):
        verify_features(windows * 1e10)


# -------------------------------------------------------------------------------------- export


def test_export_refuses_values_that_overflow_float32(tree, wine_split):
    X = np.array(wine_split[1], dtype=float)
    X[3, 2] = 1e308
    with pytest.raises(InputError, match="overflow float32; rescale"):
        export(tree, X, targets=["host"])
    with pytest.raises(InputError, match="overflow float32"):
        export_emlearn_default(tree, X, targets=["host"])


def test_export_refuses_the_wrong_kind_of_model(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    reg = DecisionTreeRegressor(max_depth=2).fit(Xtr, ytr)
    with pytest.raises(ModelError, match="is a regressor; the edge export needs a classifier"):
        export(reg, Xte)
    km = KMeans(n_clusters=3, n_init=1, random_state=0).fit(Xtr)
    with pytest.raises(ModelError, match=r"not a classifier.*RandomForestClassifier"):
        export(km, Xte)
    with pytest.raises(InputTypeError, match="the class DecisionTreeClassifier"):
        export(DecisionTreeClassifier, Xte)
    with pytest.raises(ModelError, match="is a regressor"):
        export_emlearn_default(reg, Xte)


def test_export_checks_the_labels(tree, wine_split):
    Xte, yte = wine_split[1], np.asarray(wine_split[3])
    with pytest.raises(InputError, match="looks continuous"):
        export(tree, Xte, yte + 0.5, targets=["host"])
    with pytest.raises(InputError, match="1-dimensional"):
        export(tree, Xte, np.column_stack([yte, yte]), targets=["host"])
    with pytest.raises(InputTypeError, match="dtype must be one of"):
        export(tree, Xte, dtype=np.array([]))
    with pytest.raises(InputError, match=r"flash_budget must lie in \[1, 1e\+09\]"):
        export(tree, Xte, flash_budget=10**30)


def test_float32_overflow_inside_the_c_model_is_reported_not_nan(wine_split):
    Xtr, Xte, ytr, yte = wine_split
    nb = GaussianNB().fit(Xtr, ytr)
    X = np.array(Xte, dtype=float)
    X[:4] *= 1e33  # fits float32, but the C likelihoods overflow
    art = export(nb, X, yte, targets=["host"])
    assert art.parity.max_proba_error == 1.0
    assert "non-finite probabilities on 4 row(s)" in art.parity.explanation
    assert "scale the features" in art.parity.explanation
    json.loads(art.to_json())


def test_emlearn_reference_checks_its_options(tree, wine_split):
    Xte = wine_split[1]
    with pytest.raises(InputError, match="loadable' takes dtype='int16' only"):
        export_emlearn_default(tree, Xte, method="loadable", dtype="float32")
    with pytest.raises(InputError, match=r"leaf_bits must lie in \[0, 8\]"):
        export_emlearn_default(tree, Xte, leaf_bits=99)
    with pytest.raises(InputError, match="C identifier"):
        export_emlearn_default(tree, Xte, name="9lives")
    with pytest.raises(InputTypeError, match="method must be one of"):
        export_emlearn_default(tree, Xte, method=np.array(["inline"]))


def test_find_compiler_checks_cc():
    with pytest.raises(InputTypeError, match="cc must be a compiler name or path"):
        find_compiler(5)
    with pytest.raises(InputTypeError, match="cc must be a compiler name or path"):
        find_compiler(b"gcc")
    with pytest.raises(InputError, match="not a compiler name"):
        find_compiler("gcc\x00")
    with pytest.raises(InputError, match="not a compiler name"):
        find_compiler("  ")


# ---------------------------------------------------------------------------------------- save


def test_save_refuses_what_is_not_a_folder(artifact, tmp_path):
    with pytest.raises(InputTypeError, match="directory must be a folder path"):
        artifact.save(None)
    with pytest.raises(InputTypeError, match="directory must be a folder path"):
        artifact.save(b"out")
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    with pytest.raises(InputError, match="is a file; save\\(\\) writes several files"):
        artifact.save(a_file)
    assert a_file.read_text() == "mine"
    with pytest.raises(InputError, match="Cannot create the folder"):
        artifact.save(a_file / "sub")


def test_save_creates_a_missing_folder(artifact, tmp_path):
    written = artifact.save(tmp_path / "a" / "b")
    assert [p.name for p in written] == ["model.h", "report.json"]
    assert json.loads(written[-1].read_text())["name"] == "model"


def test_save_leaves_existing_files_as_they_were(artifact, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.h").write_text("old header")
    (out / "report.json").mkdir()  # a folder in the way of the last file
    with pytest.raises(InputError, match=r"holds folder\(s\) named \['report.json'\]"):
        artifact.save(out)
    assert (out / "model.h").read_text() == "old header"
    (out / "report.json").rmdir()

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(InputError, match=r"No space left on device.*left as it was"):
        artifact.save(out)
    assert (out / "model.h").read_text() == "old header"
    assert sorted(p.name for p in out.iterdir()) == ["model.h"]  # no partial files


# -------------------------------------------------------------------------------- MicroPython


@pytest.fixture(scope="module")
def csv_model(integer_data):
    Xtr, ytr, Xte, _ = integer_data
    dt = DecisionTreeClassifier(max_depth=3, random_state=0).fit(Xtr, ytr)
    return export(dt, Xte, targets=["host"]).csv, Xte


def test_csv_predict_refuses_inputs_outside_int16(csv_model):
    text, Xte = csv_model
    X = np.array(Xte, dtype=float)
    X[0, 0] = 40000  # would wrap to -25536 in the device's array('h')
    with pytest.raises(InputError, match=r"integer-valued features in \[-32768, 32767\]"):
        csv_predict(text, X)
    with pytest.raises(InputError, match="integer-valued"):
        csv_predict(text, Xte + 0.5)
    with pytest.raises(InputTypeError, match="must be text"):
        csv_predict(None, Xte)


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("f,4\nc,2\nl,0\nl,1\nr,0\nn,9,5,-1,-2", "tests feature 9 of 4"),
        ("f,4\nc,2\nl,0\nl,1\nr,0\nn,0,5,0,-2", "points to 0"),  # a jump to itself: endless
        ("f,4\nc,2\nl,0\nl,1\nr,0\nn,0,5,3,-2", "points to 3"),
        ("f,4\nc,2\nl,0\nl,7\nr,0\nn,0,5,-1,-2", r"classes \[7\]"),
        ("f,4\nc,2\nl,0\nl,1\nr,0\nn,0,5,-1,-9", "points to -9"),
        ("f,4\nc,2\nl,0\nl,1\nr,4\nn,0,5,-1,-2", "root outside"),
        ("f,4\nc,0\nl,0\nr,0\nn,0,5,-1,-1", "class count"),
        ("f,4\nc,2\nl,0\nl,1\nr,0\nn,0,inf,-1,-2", "cannot be parsed"),
    ],
)
def test_csv_predict_refuses_a_damaged_csv(csv, message):
    with pytest.raises(InputError, match=message):
        csv_predict(csv, np.zeros((2, 4)))


# ------------------------------------------------------------------------------------ pipeline


@pytest.fixture(scope="module")
def vib_export(vibration):
    _, Xtr, ytr, Xte, _, Wte = vibration
    rf = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(Xtr, ytr)
    return rf, export(rf, Xte, targets=["host"]), Wte[:6]


def test_verify_pipeline_checks_the_model(vib_export, vibration):
    _, art, W = vib_export
    with pytest.raises(InputTypeError, match="scikit-learn style estimator"):
        verify_pipeline(art, None, W)
    with pytest.raises(NotFittedError):
        verify_pipeline(art, RandomForestClassifier(), W)
    reg = DecisionTreeRegressor(max_depth=2).fit(vibration[1], vibration[2])
    with pytest.raises(ModelError, match="needs a classifier"):
        verify_pipeline(art, reg, W)
    other = DecisionTreeClassifier(max_depth=2).fit(vibration[1][:, :5], vibration[2])
    with pytest.raises(InputError, match="not the one the artifact was exported from"):
        verify_pipeline(art, other, W)


def test_verify_pipeline_checks_its_options(vib_export):
    rf, art, W = vib_export
    with pytest.raises(InputTypeError, match="quantize must be True, False or None"):
        verify_pipeline(art, rf, W, quantize="yes")
    with pytest.raises(InputError, match="looks continuous"):
        verify_pipeline(art, rf, W, y=np.linspace(0, 1, len(W)))
    with pytest.raises(UnknownNameError, match="size target 'avr'"):
        verify_pipeline(art, rf, W, targets=["avr"])
    with pytest.raises(InputError, match="rtol must be a finite number"):
        verify_pipeline(art, rf, W, rtol=float("nan"))


# -------------------------------------------------------------------------------------- budget


def test_fit_to_budget_checks_everything_before_training(vibration):
    _, Xtr, ytr, Xte, yte, _ = vibration
    rf = RandomForestClassifier(n_estimators=2, random_state=0)
    kw = {"flash_budget": 5000, "show_progress": False}
    with pytest.raises(InputError, match="RandomForestClassifier's random_state must lie in"):
        fit_to_budget(RandomForestClassifier(random_state=-1), Xtr, ytr, Xte, yte, **kw)
    with pytest.raises(InputTypeError, match="grid entries must be dicts"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid=[5], **kw)
    with pytest.raises(InputTypeError, match="grid must be a list of parameter dicts"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid="max_depth", **kw)
    with pytest.raises(InputError, match=r"n_estimators must lie in \[1, 1000\]"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid=[{"n_estimators": 10**6}], **kw)
    with pytest.raises(InputError, match=r"n_estimators must lie in \[1, 1000\]"):
        fit_to_budget(RandomForestClassifier(n_estimators=10**6), Xtr, ytr, Xte, yte, **kw)
    with pytest.raises(InputError, match=r"max_depth must lie in \[1, inf\)"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid=[{"max_depth": -1}], **kw)
    with pytest.raises(InputError, match=r"len\(grid\) must lie in \[1, 100\]"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid=[{"max_depth": 2}] * 101, **kw)
    with pytest.raises(InputError, match=r"cannot be fitted.*min_samples_leaf"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, grid=[{"min_samples_leaf": -3}], **kw)
    with pytest.raises(InputError, match="looks continuous"):
        fit_to_budget(rf, Xtr, ytr + 0.5, Xte, yte, **kw)
    X = np.array(Xtr, dtype=float)
    X[0, 0] = 1e308
    with pytest.raises(InputError, match="overflow float32"):
        fit_to_budget(rf, X, ytr, Xte, yte, **kw)
    with pytest.raises(InputTypeError, match="leaf encoding must be one of"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, leaves=np.array([]), **kw)
    with pytest.raises(InputError, match="n_jobs"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, n_jobs=0, flash_budget=5000)
    with pytest.raises(InputTypeError, match="show_progress must be True, False or None"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=5000, show_progress="no")
    with pytest.raises(InputError, match="flash_budget is needed"):
        fit_to_budget(rf, Xtr, ytr, Xte, yte, flash_budget=None)
