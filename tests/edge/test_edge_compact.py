"""The compact ``"tables"`` form of classifier trees (issue 20: flash at 100% parity).

Every case compiles the header and compares it with scikit-learn row by row; the layouts the
generator picks by model size (uint16 features and child words, the table of leaf pairs, votes
in a register or in an array, double leaves as counts) each get a model that forces them. The
emulated-target test needs ``qemu-system-arm`` and the cross compiler (``WORKBENCH_REQUIRE_QEMU=1``
makes their absence a failure, as in ``test_edge_target.py``).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import UnknownNameError
from workbench.edge import export, export_emlearn_default
from workbench.edge.artifact import build_artifact
from workbench.edge.codegen import generate
from workbench.edge.compiler import find_compiler
from workbench.edge.harness import run_model
from workbench.edge.target import verify_on_target
from workbench.edge.tree_compact import compact_trees, count_rows, kid_bytes, leaf_codes
from workbench.edge.trees import flatten_trees


@pytest.fixture(scope="module")
def toolchain():
    return find_compiler()


def tables(model, X, toolchain, leaves, dtype="float32", exact=True):
    """Host build of the tables form; parity must be exact unless the encoding may lose it."""
    code = generate(model, name="m", dtype=dtype, leaves=leaves, form="tables")
    assert code.details["form"] == "tables"
    art = build_artifact(model, code, X, None, toolchain, ["host"], dtype)
    assert art.parity.match_rate == 100.0 or not exact, art.parity.explanation
    return code, art


def test_pure_leaves_get_their_class_as_code_in_every_encoding():
    one_hot = np.array([0.0, 1.0, 0.0])
    mixed = np.array([0.25, 0.75, 0.0])
    for leaves, enc in (
        ("float", lambda r: r.astype(np.float32)),
        ("double", lambda r: r),
        ("uint8", lambda r: np.round(r * 255).astype(np.uint8)),
    ):
        codes, rows = leaf_codes([enc(one_hot), enc(mixed), enc(one_hot[::-1])], leaves, 3)
        assert codes == [1, 3, 1] and len(rows) == 1
        np.testing.assert_array_equal(rows[0], enc(mixed))
    # A row that 8-bit rounding makes one-hot is pure in that encoding only.
    near = np.array([0.001, 0.999, 0.0])
    assert leaf_codes([np.round(near * 255).astype(np.uint8)], "uint8", 3)[0] == [1]
    assert leaf_codes([near.astype(np.float32)], "float", 3)[0] == [3]
    # Hard voting leaves are classes; a single tree's leaf keeps its distribution.
    assert leaf_codes([2, 0], "class", 3) == ([2, 0], [])
    assert leaf_codes([(1, mixed), (0, np.array([1.0, 0, 0]))], "class", 3)[0] == [3, 0]


def test_count_rows_gives_back_the_float64_bits_or_refuses():
    rows = [np.array([1 / 3, 2 / 3, 0.0]), np.array([3 / 7, 4 / 7, 0.0])]
    counts = count_rows(rows)
    assert counts.tolist() == [[1, 2, 0, 3], [3, 4, 0, 7]]
    for row, c in zip(rows, counts, strict=True):
        np.testing.assert_array_equal(c[:-1] / c[-1], row)
    assert count_rows([np.array([0.1234567891, 1 - 0.1234567891])]) is None
    assert count_rows([np.array([1 / 70000, 1 - 1 / 70000])]) is None  # N over the limit


def test_preorder_rows_follow_scikit_learn_in_python(wine_split):
    """Walk the rows in Python with the C's rules: same leaf class as scikit-learn."""
    Xtr, Xte, ytr, _ = wine_split
    dt = DecisionTreeClassifier(random_state=0).fit(Xtr, ytr)
    forest, values = flatten_trees(dt, "class", "float32")
    codes, rows = leaf_codes(values, "class", 3)
    t = compact_trees(forest, codes, 13)
    th = np.asarray(forest.threshold_f32)
    order = {lit: v for lit, v in zip(forest.threshold, th, strict=True)}
    lb, rb = 1 << t.flag_shift, 1 << (t.flag_shift + 1)

    def walk(x):
        i = 0
        while True:
            f, k = t.feat[i], t.kid[i]
            left = np.float32(x[f & (lb - 1)]) <= order[t.th[i]]
            if f & (lb if left else rb):
                if f & (lb | rb) != lb | rb:
                    return k
                pair = t.pairs[2 * k : 2 * k + 2] if not t.pair_shift else None
                if left:
                    return pair[0] if pair else k >> t.pair_shift
                return pair[1] if pair else k & ((1 << t.pair_shift) - 1)
            i += 1 if (left or f & lb) else k

    got = [c if c < 3 else rows[c - 3][0] for c in map(walk, Xte)]
    np.testing.assert_array_equal(got, dt.predict(Xte))
    assert len(t.feat) == forest.n_nodes and t.roots == [0]


@pytest.mark.parametrize("leaves", ["class", "uint8", "float", "double"])
def test_tables_match_sklearn_and_the_ifelse_form(leaves, wine_split, toolchain):
    Xtr, Xte, ytr, _ = wine_split
    for model in (
        RandomForestClassifier(8, max_depth=6, random_state=0).fit(Xtr, ytr),
        ExtraTreesClassifier(8, min_samples_leaf=3, random_state=0).fit(Xtr, ytr),
    ):
        # Hard voting and 8-bit leaves may lose close votes: the forms must agree all the same.
        code, _ = tables(model, Xte, toolchain, leaves, exact=leaves == "double")
        other = generate(model, name="m", dtype="float32", leaves=leaves, form="ifelse")
        p0, q0, _ = run_model(code, Xte, toolchain, min_time_rows=0)
        p1, q1, _ = run_model(other, Xte, toolchain, min_time_rows=0)
        np.testing.assert_array_equal(p0, p1)
        np.testing.assert_array_equal(q0, q1)  # the same sums: probabilities bit for bit


def test_double_leaves_are_stored_as_counts_and_sum_like_scikit_learn(toolchain):
    X, y = make_classification(600, 6, n_informative=4, n_classes=4, random_state=2)
    rf = RandomForestClassifier(7, min_samples_leaf=4, random_state=0).fit(X[:400], y[:400])
    code, _ = tables(rf, X[400:], toolchain, "double")
    assert "m_count[" in code.header and "m_leaf[" not in code.header
    q = run_model(code, X[400:], toolchain, min_time_rows=0)[1]
    np.testing.assert_allclose(q, rf.predict_proba(X[400:]), rtol=0, atol=1e-7)


def test_wide_layouts_match_sklearn(toolchain):
    """70 features (uint16 feature word), 10 classes (votes in an array), long right jumps
    (uint16 child word) and many impure leaves (the table of leaf pairs)."""
    X, y = make_classification(
        3000, 70, n_informative=20, n_classes=10, n_clusters_per_class=1, random_state=0
    )
    dt = DecisionTreeClassifier(random_state=0).fit(X[:2000], y[:2000])
    code, _ = tables(dt, X[2000:], toolchain, "class")
    assert "uint16_t m_feat[" in code.header and "uint16_t m_kid[" in code.header
    rf = RandomForestClassifier(5, min_samples_leaf=5, random_state=0).fit(X[:2000], y[:2000])
    code, _ = tables(rf, X[2000:], toolchain, "double")
    assert "m_pair[" in code.header
    hard = ExtraTreesClassifier(5, max_depth=8, random_state=0).fit(X[:2000], y[:2000])
    code, _ = tables(hard, X[2000:], toolchain, "class", exact=False)  # hard voting
    assert "uint64_t v" not in code.header  # 10 classes: one byte each would not fit
    other = generate(hard, name="m", dtype="float32", leaves="class", form="ifelse")
    np.testing.assert_array_equal(
        run_model(code, X[2000:], toolchain, min_time_rows=0)[0],
        run_model(other, X[2000:], toolchain, min_time_rows=0)[0],
    )


def test_int16_tables_and_one_leaf_trees(integer_data, toolchain):
    Xtr, ytr, Xte, _ = integer_data
    rf = RandomForestClassifier(6, max_depth=5, random_state=0).fit(Xtr, ytr)
    code, _ = tables(rf, Xte, toolchain, "uint8", dtype="int16")
    assert "int16_t m_th[" in code.header
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(Xtr, np.zeros(len(Xtr)))
    forest = RandomForestClassifier(3, max_depth=1, random_state=0).fit(Xtr, ytr * 0)
    for model in (stump, forest):
        tables(model, Xte, toolchain, "class" if model is stump else "float")


def test_tables_are_smaller_than_before_and_than_emlearns_default(wine_split, toolchain):
    """On Cortex-M4F the wine forest fits in less flash than emlearn's int16 default."""
    if toolchain.arm_cc is None:
        pytest.skip("needs arm-none-eabi-gcc")
    Xtr, Xte, ytr, yte = wine_split
    rf = RandomForestClassifier(10, max_depth=10, random_state=0).fit(Xtr, ytr)
    ours = export(rf, Xte, yte, form="tables", targets=["cortex-m4f"])
    theirs = export_emlearn_default(rf, Xte, yte)
    assert ours.parity.match_rate == 100.0 and ours.details["form"] == "tables"
    assert ours.flash_bytes < theirs.flash_bytes
    assert ours.flash_bytes < export(rf, Xte, yte, form="ifelse").flash_bytes


def test_export_form_and_flash_budget(wine_split, toolchain):
    Xtr, Xte, ytr, yte = wine_split
    rf = RandomForestClassifier(10, max_depth=10, random_state=0).fit(Xtr, ytr)
    auto = export(rf, Xte, yte)
    assert auto.details["form"] == "ifelse"
    small = export(rf, Xte, yte, flash_budget=auto.flash_bytes - 1)
    assert small.details["form"] == "tables" and small.flash_bytes < auto.flash_bytes
    assert any("over the budget" in n and "compact tables" in n for n in small.notes)
    assert small.parity.match_rate == 100.0
    with pytest.raises(UnknownNameError, match="tree form"):
        export(rf, Xte, yte, form="inline")


@pytest.mark.parametrize("cpu", ["cortex-m4f", "cortex-m0"])
def test_tables_match_sklearn_on_the_emulated_target(cpu, toolchain):
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        if os.environ.get("WORKBENCH_REQUIRE_QEMU") == "1":
            pytest.fail(f"needs {missing} (apt-get install qemu-system-arm gcc-arm-none-eabi)")
        pytest.skip(f"needs {missing}")
    X, y = make_classification(
        500, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=0
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    rf = RandomForestClassifier(6, max_depth=8, random_state=0).fit(X[:350], y[:350])
    for leaves in ("uint8", "double"):
        art = export(rf, X[350:], y[350:], leaves=leaves, form="tables")
        rep = verify_on_target(art, rf, X[350:], cpu=cpu)
        assert rep.match_rate == 100.0 and rep.n_differ_from_host == 0, rep.explanation


def test_child_words_borrow_spare_feature_bits(toolchain):
    """8 features leave 3 bits of the feature byte free: child words up to 11 bits stay uint8."""
    X, y = make_classification(
        1500, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=0
    )
    et = ExtraTreesClassifier(10, max_depth=10, random_state=0).fit(X[:1000], y[:1000])
    forest, values = flatten_trees(et, "double", "float32")
    codes, _ = leaf_codes(values, "double", 6)
    t = compact_trees(forest, codes, 8)
    assert kid_bytes(t) == (1, 3) and 2**8 <= max(t.kid) < 2**11
    code, _ = tables(et, X[1000:], toolchain, "double")
    assert "uint8_t m_kid[" in code.header and "& 7u) << 8" in code.header
