"""``leaves="double"``: forests that follow scikit-learn's float64 soft vote bit for bit.

The case behind it (``benchmarks/results/edge.md``): a RandomForestClassifier(10, max_depth=10)
on the benchmark's 6-class scaled set gives one held-out row two classes whose soft votes are
equal in real arithmetic (0.2318181818...). scikit-learn's float64 sums, tree by tree, put one
ahead by 5.6e-17; float32 leaf sums tie exactly, and the tie goes to the lower class. Double
leaves summed in scikit-learn's order break the tie as it does.

Flash measured here (arm-none-eabi-gcc -Os; 10 trees, 1,369 decision nodes, 119 unique leaves,
6 classes), float32 -> double leaves: Cortex-M4F tables 15,444 -> 20,720 B (+5,276), if/else
23,220 -> 28,904 B (+5,684); Cortex-M0 tables 16,740 -> 23,380 B, if/else 29,808 -> 36,204 B.
Of that, 2,856 B is the leaf table (4 more bytes per leaf value); the rest is software double
addition, division and comparison (neither core has a double-precision FPU) and the calls to them.
Emulated Cortex-M4F: 5,353 instructions per prediction (if/else form).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import workbench.edge.exporter as exporter_module
from workbench.core.errors import InputError
from workbench.edge import export, find_compiler
from workbench.edge.artifact import build_artifact
from workbench.edge.codegen import generate
from workbench.edge.harness import run_model
from workbench.edge.target import verify_on_target
from workbench.edge.tree_forms import FORMS
from workbench.edge.trees import DOUBLE_LEAVES_NOTE, flatten_trees, node_probabilities

F32_ROUNDING = 2.0**-24  # float32's unit roundoff: predict_proba is a double rounded to float


@pytest.fixture(scope="module")
def toolchain():
    return find_compiler()


@pytest.fixture(scope="module")
def tie_case():
    """The benchmark's forest and held-out rows (``benchmarks/edge_bench.py``, SEED 0)."""
    X, y = make_classification(
        1200, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=0
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    rf = RandomForestClassifier(10, max_depth=10, random_state=0).fit(Xtr, ytr)
    return rf, Xte


def tree_sums(model, X, dtype):
    """Each row's trees' predict_proba summed tree by tree in ``dtype``."""
    acc = np.zeros((len(X), len(model.classes_)), dtype=dtype)
    for est in model.estimators_:
        acc += est.predict_proba(X).astype(dtype)
    return acc


def test_sklearn_sums_trees_in_order_in_float64_then_divides(tie_case):
    rf, Xte = tie_case
    np.testing.assert_array_equal(tree_sums(rf, Xte, np.float64) / 10, rf.predict_proba(Xte))


def test_the_benchmark_forest_has_one_row_tied_in_real_arithmetic(tie_case):
    rf, Xte = tie_case
    exact = rf.predict_proba(Xte)
    f32 = tree_sums(rf, Xte, np.float32)
    flipped = np.flatnonzero(np.argmax(f32, axis=1) != np.argmax(exact, axis=1))
    assert flipped.size == 1
    r = flipped[0]
    top2 = np.argsort(exact[r])[-2:]
    assert 0 < exact[r, top2[1]] - exact[r, top2[0]] < 1e-16  # float64 rounding breaks the tie
    assert f32[r, top2[0]] == f32[r, top2[1]]  # float32 sums tie; argmax takes the lower class
    np.testing.assert_allclose(exact[r, top2], 0.23181818181818, rtol=1e-13)


def test_double_leaves_are_the_trees_predict_proba_rows_bit_for_bit(tie_case):
    rf, Xte = tie_case
    X32 = Xte.astype(np.float32)
    for est in rf.estimators_:
        np.testing.assert_array_equal(
            node_probabilities(est)[est.apply(X32)], est.predict_proba(Xte)
        )
    forest, values = flatten_trees(rf, "double", "float32")
    assert forest.n_leaves == len(values) == len({v.tobytes() for v in values})
    assert all(v.dtype == np.float64 for v in values)


@pytest.mark.parametrize("form", FORMS)
def test_double_leaves_keep_the_tied_row_float_leaves_lose_it(form, tie_case, toolchain):
    rf, Xte = tie_case
    arts = {}
    for leaves in ("float", "double"):
        code = generate(rf, name="m", dtype="float32", leaves=leaves, form=form)
        assert code.details["form"] == form
        arts[leaves] = build_artifact(rf, code, Xte, None, toolchain, ["host"], "float32")
    assert arts["float"].parity.n_samples - arts["float"].parity.n_match == 1
    double = arts["double"]
    assert double.parity.match_rate == 100.0
    assert DOUBLE_LEAVES_NOTE in double.notes
    np.testing.assert_allclose(
        double.predict_proba(Xte), rf.predict_proba(Xte), rtol=F32_ROUNDING, atol=0
    )


def test_auto_leaves_fall_back_to_double_with_the_reason(tie_case):
    rf, Xte = tie_case
    art = export(rf, Xte)
    assert art.leaves == "double" and art.parity.match_rate == 100.0
    why = [n for n in art.notes if "exact ties in scikit-learn's float64 soft vote" in n]
    assert len(why) == 1 and "float32 leaf sums changed 1 prediction(s)" in why[0]
    assert any("8-bit leaf probabilities changed 1 prediction(s)" in n for n in art.notes)
    floats = export(rf, Xte, leaves="float")
    assert floats.parity.match_rate < 100.0
    assert f"{art.flash_bytes - floats.flash_bytes:+d} B of flash on {art.size_target}" in why[0]


@pytest.mark.parametrize("scaled", [False, True], ids=["bare", "pipeline"])
def test_auto_leaves_keep_float_when_double_fixes_nothing(scaled, wine_split, monkeypatch):
    """Mismatches that are not soft-vote ties (here: every encoding made to lose one row)."""
    Xtr, Xte, ytr, _ = wine_split
    rf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    model = (make_pipeline(StandardScaler(), rf) if scaled else rf).fit(Xtr, ytr)
    real = exporter_module.build_artifact
    tried = []

    def losing_one(model, code, *args):
        art = real(model, code, *args)
        tried.append(code.leaves)
        art.parity.n_match -= 1
        return art

    monkeypatch.setattr(exporter_module, "build_artifact", losing_one)
    art = export(model, Xte, targets=["host"])
    assert tried == ["uint8", "float", "double"]
    assert art.leaves == "float"
    assert any("double leaves kept no more" in n for n in art.notes)
    # The export chosen keeps the pipeline's notes like the first one tried.
    assert any(n.startswith("Pipeline:") for n in art.notes) == scaled
    assert any("folded into the tree thresholds" in n for n in art.notes) == scaled


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "factory",
    [
        lambda: RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
        lambda: ExtraTreesClassifier(n_estimators=8, random_state=0),  # 8: exact division
        lambda: DecisionTreeClassifier(min_samples_leaf=5, random_state=0),
    ],
    ids=["forest", "extra-trees", "tree"],
)
def test_double_leaves_on_wine_match_sklearn(factory, form, wine_split, toolchain):
    Xtr, Xte, ytr, _ = wine_split
    model = factory().fit(Xtr, ytr)
    code = generate(model, name="m", dtype="float32", leaves="double", form=form)
    pred, proba, _ = run_model(code, Xte, toolchain, min_time_rows=0)
    np.testing.assert_array_equal(model.classes_[pred], model.predict(Xte))
    expected = model.predict_proba(Xte)
    assert ((expected > 0) & (expected < 1)).any()  # impure leaves, not one-hot
    np.testing.assert_allclose(proba, expected, rtol=F32_ROUNDING, atol=0)


def test_double_leaves_on_int16_inputs(integer_data, toolchain):
    Xtr, ytr, Xte, _ = integer_data
    rf = RandomForestClassifier(n_estimators=6, random_state=0).fit(Xtr, ytr)
    art = export(rf, Xte, dtype="int16", leaves="double", targets=["host"])
    assert art.dtype == "int16" and art.leaves == "double"
    assert art.parity.match_rate == 100.0
    np.testing.assert_allclose(art.predict_proba(Xte), rf.predict_proba(Xte), rtol=F32_ROUNDING)


def test_double_leaves_cost_at_least_their_table_in_flash(tie_case):
    rf, Xte = tie_case
    if find_compiler().arm_cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")  # CI installs it
    floats = export(rf, Xte, leaves="float")
    double = export(rf, Xte, leaves="double")
    assert double.details["form"] == floats.details["form"]
    table = 4 * double.details["n_leaves"] * len(rf.classes_)  # 8 bytes per value instead of 4
    for f, d in zip(floats.sizes, double.sizes, strict=True):
        assert f["target"] == d["target"]
        assert d["flash_bytes"] >= f["flash_bytes"] + table, (f, d)


def test_double_leaves_are_not_for_emlearn(integer_data):
    Xtr, ytr, Xte, _ = integer_data
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(Xtr, ytr)
    with pytest.raises(InputError, match="'class' or 'uint8'"):
        export(rf, Xte, leaves="double", engine="emlearn")


@pytest.mark.parametrize("cpu", ["cortex-m4f", "cortex-m0"])
def test_tied_row_on_the_emulated_target(cpu, tie_case):
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        msg = f"emulated-target test needs {' and '.join(missing)}"
        if os.environ.get("WORKBENCH_REQUIRE_QEMU") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    rf, Xte = tie_case
    art = export(rf, Xte)
    assert art.leaves == "double"
    rep = verify_on_target(art, rf, Xte, cpu=cpu)
    assert rep.match_rate == 100.0 and rep.n_differ_from_host == 0
    assert rep.max_host_diff == 0.0  # software double on the target: the host's bits
    assert rep.max_proba_error <= F32_ROUNDING
