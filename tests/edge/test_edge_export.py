"""export(): parity proven by compiling, the emlearn traps, sizes and bad input."""

from __future__ import annotations

import contextlib
import json
import warnings

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import (
    DependencyError,
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.edge import SUPPORTED_ESTIMATORS, export, export_emlearn_default, import_emlearn
from workbench.edge import exporter as exporter_module
from workbench.edge.checks import UnscaledFeaturesWarning
from workbench.edge.compiler import Toolchain, find_compiler

MODELS = {
    "tree": lambda: DecisionTreeClassifier(random_state=0),
    "forest": lambda: RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0),
    "extra": lambda: ExtraTreesClassifier(n_estimators=8, random_state=0),
    "mlp": lambda: MLPClassifier((12,), max_iter=400, random_state=0),
    "nb": GaussianNB,
    "knn": lambda: KNeighborsClassifier(5),
    "knn_distance": lambda: KNeighborsClassifier(4, weights="distance", p=1),
}


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("data", ["wine_split", "cancer_split"])
def test_every_supported_estimator_matches_sklearn_exactly(kind, data, request):
    Xtr, Xte, ytr, yte = request.getfixturevalue(data)
    model = MODELS[kind]().fit(Xtr, ytr)
    # wine and breast_cancer are unscaled: an MLP on them is warned about, and still exported
    with pytest.warns(UnscaledFeaturesWarning) if kind == "mlp" else contextlib.nullcontext():
        art = export(model, Xte, yte)
    assert art.parity.match_rate == 100.0, art.parity.explanation
    assert art.parity.n_samples == len(Xte)
    assert art.parity.accuracy_c == art.parity.accuracy_sklearn
    np.testing.assert_array_equal(art.predict(Xte), model.predict(Xte))
    if art.leaves in ("float", "") or kind == "tree":  # a single tree: its leaf's distribution
        assert art.parity.max_proba_error < 1e-4
    elif art.leaves == "uint8":
        assert art.parity.max_proba_error <= 0.5 / 255 + 1e-6
    assert art.flash_bytes > 0 and art.latency_ns > 0
    assert art.to_frame()["parity_%"].eq(100.0).all()


def test_supported_list_is_what_the_issue_names():
    assert set(SUPPORTED_ESTIMATORS) == {
        "DecisionTreeClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "MLPClassifier",
        "GaussianNB",
        "KNeighborsClassifier",
        "HistGradientBoostingClassifier",
        "GradientBoostingClassifier",
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_import_emlearn_restores_numpy_error_settings():
    before = np.seterr(all="warn")
    try:
        np.seterr(under="ignore")
        expected = np.geterr()
        import_emlearn()
        assert np.geterr() == expected
        # the crash this prevents: MLP training underflows harmlessly
        X = np.random.default_rng(0).normal(size=(60, 3))
        MLPClassifier((4,), max_iter=20, random_state=0).fit(X, X[:, 0] > 0)
    finally:
        np.seterr(**before)


def test_int16_default_of_emlearn_is_wrong_on_float_features_ours_is_exact(cancer_split):
    Xtr, Xte, ytr, _yte = cancer_split
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xtr, ytr)
    ref = export_emlearn_default(rf, Xte, targets=["host"])
    ours = export(rf, Xte, targets=["host"])
    assert ref.parity.match_rate < 90.0
    assert ours.dtype == "float32" and ours.parity.match_rate == 100.0


def test_integer_features_threshold_off_by_one_is_fixed(integer_data):
    Xtr, ytr, Xte, yte = integer_data
    dt = DecisionTreeClassifier(random_state=0).fit(Xtr, ytr)
    ref = export_emlearn_default(dt, Xte, targets=["host"])  # int(th) with <
    ours = export(dt, Xte, yte, targets=["host"])
    assert ref.parity.match_rate < 100.0
    assert ours.dtype == "int16"  # chosen because every value is an integer
    assert ours.parity.match_rate == 100.0
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xtr, ytr)
    for leaves in ("float", "uint8"):
        art = export(rf, Xte, leaves=leaves, targets=["host"])
        assert art.parity.match_rate == 100.0, art.parity.explanation
    for leaves in ("uint8", "class"):
        art = export(rf, Xte, leaves=leaves, engine="emlearn", targets=["host"])
        assert art.engine == "emlearn eml_trees.h"
        if leaves == "uint8":
            assert art.parity.match_rate == 100.0
    with pytest.raises(InputError, match="engine='emlearn' runs int16 trees"):
        export(rf, Xte, leaves="float", engine="emlearn")


def test_six_decimal_thresholds_lose_tiny_feature_scales_ours_do_not(cancer_split):
    Xtr, Xte, ytr, _ = cancer_split
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xtr * 1e-5, ytr)
    ref = export_emlearn_default(rf, Xte * 1e-5, dtype="float32", leaf_bits=8, targets=["host"])
    ours = export(rf, Xte * 1e-5, targets=["host"])
    assert ref.parity.match_rate < 100.0
    assert ours.parity.match_rate == 100.0


def test_hard_voting_is_named_and_soft_voting_is_default(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    rf = RandomForestClassifier(n_estimators=6, max_depth=3, random_state=0).fit(Xtr, ytr)
    hard = export(rf, Xte, leaves="class", targets=["host"])
    assert any("hard voting" in n for n in hard.notes)
    soft = export(rf, Xte, targets=["host"])
    assert soft.leaves in ("uint8", "float") and soft.parity.match_rate == 100.0
    assert any("leaves='auto'" in n for n in soft.notes)
    exact = export(rf, Xte, leaves="float", targets=["host"])
    assert exact.parity.match_rate == 100.0 and exact.parity.max_proba_error < 1e-6
    if hard.parity.match_rate < 100.0:
        assert "near-ties" in hard.parity.explanation


def test_int16_tree_carries_emlearn_csv_and_saves_files(integer_data, tmp_path):
    Xtr, ytr, Xte, _ = integer_data
    rf = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(Xtr, ytr)
    art = export(rf, Xte, leaves="uint8", engine="emlearn", name="fan", targets=["host"])
    assert art.csv is not None and art.csv.startswith("f,4")
    files = {p.name for p in art.save(tmp_path / "out")}
    assert {"fan.h", "fan.csv", "eml_trees.h", "report.json"} <= files
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["parity"]["match_rate"] == 100.0
    assert "fan_predict" in (tmp_path / "out" / "fan.h").read_text()
    json.loads(art.to_json())
    assert "Edge export" in art._repr_html_()
    assert "parity %" in repr(art)


def test_sizes_on_cortex_m_when_toolchain_present(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    nb = GaussianNB().fit(Xtr, ytr)
    art = export(nb, Xte)
    if find_compiler().arm_cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")  # CI installs it; host fallback tested
    targets = [r["target"] for r in art.sizes]
    assert targets == ["cortex-m0", "cortex-m4f"]
    m0, m4 = (r["flash_bytes"] for r in art.sizes)
    assert m0 > m4 > 0  # M0 needs software floating point
    assert art.size_target == "cortex-m4f"


def test_host_sizes_and_note_without_arm_toolchain(wine_split, monkeypatch):
    Xtr, Xte, ytr, _ = wine_split
    host = find_compiler()
    monkeypatch.setattr(exporter_module, "find_compiler", lambda cc=None: Toolchain(host.cc, None))
    art = export(DecisionTreeClassifier(random_state=0).fit(Xtr, ytr), Xte)
    assert [r["target"] for r in art.sizes] == ["host"]
    assert any("arm-none-eabi-gcc is not installed" in n for n in art.notes)


def test_flash_budget_refuses_a_model_that_does_not_fit(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xtr, ytr)
    art = export(rf, Xte, targets=["host"])
    assert art.details["form"] == "ifelse"
    assert export(rf, Xte, flash_budget=art.flash_bytes, targets=["host"]).flash_bytes > 0
    # Over the budget in if/else code: the compact tables; over it in both: refused.
    small = export(rf, Xte, flash_budget=art.flash_bytes - 1, targets=["host"])
    assert small.details["form"] == "tables" and small.flash_bytes < art.flash_bytes
    with pytest.raises(ModelError, match="over the budget"):
        export(rf, Xte, flash_budget=small.flash_bytes - 1, targets=["host"])


# ------------------------------------------------------------------------------ bad input


@pytest.fixture(scope="module")
def fitted(wine_split):
    Xtr, _, ytr, _ = wine_split
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(Xtr, ytr)


def test_unsupported_estimator_is_named_with_the_supported_list(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    svc = SVC().fit(Xtr, ytr)
    with pytest.raises(ModelError, match="SVC cannot be exported") as err:
        export(svc, Xte)
    assert "RandomForestClassifier" in str(err.value) and "GaussianNB" in str(err.value)
    with pytest.raises(InputTypeError, match="scikit-learn style estimator instance"):
        export("model", Xte)


def test_unfitted_model(wine_split):
    with pytest.raises(NotFittedError, match="not fitted"):
        export(RandomForestClassifier(), wine_split[1])


def test_missing_compiler_names_the_apt_package(fitted, wine_split):
    with pytest.raises(DependencyError, match="apt-get install gcc"):
        export(fitted, wine_split[1], cc="/nonexistent/bin/no-such-cc")


def test_feature_count_mismatch(fitted, wine_split):
    with pytest.raises(InputError, match="X has 5 features but the model was fitted with 13"):
        export(fitted, wine_split[1][:, :5])


def test_bad_data_and_arguments(fitted, wine_split):
    Xte = wine_split[1]
    with pytest.raises(InputError, match="NaN"):
        export(fitted, np.full_like(Xte, np.nan))
    with pytest.raises(InputError, match="different numbers of rows"):
        export(fitted, Xte, y=[0, 1])
    with pytest.raises(InputError, match="C identifier"):
        export(fitted, Xte, name="9lives")
    with pytest.raises(InputError, match="reserved word"):
        export(fitted, Xte, name="float")
    with pytest.raises(UnknownNameError, match="dtype"):
        export(fitted, Xte, dtype="int8")
    with pytest.raises(UnknownNameError, match="leaf encoding"):
        export(fitted, Xte, leaves="bits")
    with pytest.raises(UnknownNameError, match="engine"):
        export(fitted, Xte, engine="tflite")
    with pytest.raises(InputError, match="integer-valued"):
        export(fitted, Xte, dtype="int16")
    with pytest.raises(InputError, match="Trees compare float32"):
        export(fitted, Xte, dtype="float64")
    with pytest.raises(InputError, match=r"flash_budget must lie in \[1, 1e\+09\]"):
        export(fitted, Xte, flash_budget=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_bad_settings_of_other_families(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    nb = GaussianNB().fit(Xtr, ytr)
    with pytest.raises(InputError, match="dtype='int16' is for trees"):
        export(nb, np.round(Xte), dtype="int16")
    with pytest.raises(InputError, match="engine='emlearn' is for trees"):
        export(nb, Xte, engine="emlearn")
    knn = KNeighborsClassifier(3, metric="chebyshev").fit(Xtr, ytr)
    with pytest.raises(ModelError, match="metric 'chebyshev' is not supported"):
        export(knn, Xte)
    mlp = MLPClassifier((4,), activation="relu", max_iter=50, random_state=0)
    multi = mlp.fit(Xtr, np.column_stack([ytr == 0, ytr == 1]).astype(int))
    with pytest.raises(ModelError, match="single-output"):
        export(multi, Xte)


@pytest.mark.filterwarnings("ignore::workbench.edge.checks.UnscaledFeaturesWarning")
def test_float64_arithmetic_for_mlp_and_naive_bayes(cancer_split):
    Xtr, Xte, ytr, _ = cancer_split
    for model in (GaussianNB(), MLPClassifier((8,), max_iter=300, random_state=0)):
        art = export(model.fit(Xtr, ytr), Xte, dtype="float64", targets=["host"])
        assert art.parity.match_rate == 100.0 and art.parity.max_proba_error < 1e-6
        assert "double" in art.header


@pytest.mark.filterwarnings("ignore::workbench.edge.checks.UnscaledFeaturesWarning")
def test_nothing_is_written_to_the_working_directory(wine_split, tmp_path, monkeypatch):
    Xtr, Xte, ytr, _ = wine_split
    monkeypatch.chdir(tmp_path)
    for model in (MLPClassifier((4,), max_iter=300, random_state=0), GaussianNB()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLP convergence
            model.fit(Xtr, ytr)
        export(model, Xte, targets=["host"])
        export_emlearn_default(model, Xte, targets=["host"])
    assert list(tmp_path.iterdir()) == []


def test_find_compiler_honours_cc_environment(monkeypatch):
    host = find_compiler()
    monkeypatch.setenv("CC", host.cc)
    assert find_compiler().cc == host.cc
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    assert find_compiler().cc  # falls back to gcc
    with pytest.raises(DependencyError, match="apt-get install gcc"):
        find_compiler("no-such-compiler-xyz")


def test_artifact_methods_check_their_input(fitted, wine_split):
    Xte = wine_split[1]
    art = export(fitted, Xte, targets=["host"])
    assert art.predict_proba(Xte[:5]).shape == (5, 3)
    with pytest.raises(InputError, match="X has 2 features"):
        art.predict(Xte[:, :2])
    with pytest.raises(InputError, match="No size measured for 'cortex-m0'"):
        art.size_row("cortex-m0")


def test_micropython_csv_runs_like_the_device(integer_data):
    from workbench.edge import csv_predict

    Xtr, ytr, Xte, _ = integer_data
    dt = DecisionTreeClassifier(random_state=0).fit(Xtr, ytr)
    art = export(dt, Xte, targets=["host"])
    assert "l,[" not in art.csv  # one class per leaf line: what emlearn-micropython parses
    np.testing.assert_array_equal(dt.classes_[csv_predict(art.csv, Xte)], dt.predict(Xte))
    rf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(Xtr, ytr)
    hard = export(rf, Xte, leaves="class", engine="emlearn", targets=["host"])
    np.testing.assert_array_equal(rf.classes_[csv_predict(hard.csv, Xte)], hard.predict(Xte))
    assert any("MicroPython CSV uses hard voting" in n for n in export(rf, Xte).notes)
    with pytest.raises(InputError, match="X has 2 features"):
        csv_predict(art.csv, Xte[:, :2])
    with pytest.raises(InputError, match="cannot be parsed"):
        csv_predict("f,4\nc,2\nn,x,1,2,3\nr,0", Xte)
    with pytest.raises(InputError, match="empty"):
        csv_predict("", Xte)


def test_bad_size_targets(fitted, wine_split):
    with pytest.raises(UnknownNameError, match="size target 'avr'"):
        export(fitted, wine_split[1], targets=["avr"])
    with pytest.raises(InputError, match="non-empty list"):
        export(fitted, wine_split[1], targets="host")


def test_emlearn_reference_bad_input(wine_split, fitted):
    Xtr, Xte, ytr, _ = wine_split
    with pytest.raises(ModelError, match="SVC cannot be exported"):
        export_emlearn_default(SVC().fit(Xtr, ytr), Xte)
    with pytest.raises(ModelError, match="not k-NN"):
        export_emlearn_default(KNeighborsClassifier(3).fit(Xtr, ytr), Xte)
    with pytest.raises(InputError, match="X has 3 features"):
        export_emlearn_default(fitted, Xte[:, :3])
    with pytest.raises(InputError, match=r"Unknown method .jit."):
        export_emlearn_default(fitted, Xte, method="jit")
    with pytest.raises(NotFittedError):
        export_emlearn_default(GaussianNB(), Xte)


def test_import_emlearn_missing_names_pip(monkeypatch):
    from workbench.edge import emlearn_import

    def fail(name, *args, **kwargs):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(emlearn_import.importlib, "import_module", fail)
    with pytest.raises(DependencyError, match="pip install emlearn"):
        emlearn_import.import_emlearn()
