"""Gradient-boosted trees as C: HistGradientBoostingClassifier and GradientBoostingClassifier.

A boosted classifier sums one regression tree per class and iteration onto a baseline (the raw
score), then turns the sums into probabilities (sigmoid for two classes, softmax otherwise).
The trees go through the same two C forms as the forests (:mod:`~workbench.edge.tree_forms`);
what differs is in the thresholds, the NaN branches and the sums.

Thresholds compare as scikit-learn compares them:

- ``GradientBoostingClassifier`` casts ``X`` to float32 and compares it with float64 tree
  thresholds, so each threshold is rounded down to float32 (as for the forests).
- ``HistGradientBoostingClassifier`` compares the raw float64 ``X`` with each node's
  ``num_threshold`` (``x <= th`` left) after sending NaN to ``missing_go_to_left``. With float32
  inputs (``dtype="float32"``) the threshold is rounded down to float32, which is exact for every
  float32 input (what a sensor gives); ``dtype="float64"`` keeps double thresholds for double
  inputs. A node whose NaN goes left compares ``!(x > th)``, true for ``x <= th`` and for NaN.

**Why the raw score is summed in double.** scikit-learn sums in float64: ``baseline``, then
each tree's leaf value in iteration order. The same additions, in the same order, on the same
float64 leaf values give the same bits on every IEEE-754 target (x86 SSE2, and the soft-float
double routines of libgcc on Cortex-M, which round correctly), so the C raw score *equals*
scikit-learn's and every class matches, ties included. A float32 sum would not: each of the
``n`` additions rounds by up to ``2**-24`` of the running sum ``S``, so the raw score may be off
by ``n * 2**-24 * max|S|`` (100 iterations with ``|S|`` near 5: 3e-5, which a sigmoid's slope
of 1/4 turns into 7.5e-6 of probability, near the 1e-5 goal) and any row whose class margin is
smaller than that may flip. The probabilities are then computed in float32 from the exact sum
(``expf``; error about 1e-7). The price: 8 bytes per leaf value and software double additions
on Cortex-M (one per tree), measured in the export's flash and latency.

Categorical splits (``categorical_features``) and init estimators other than the class prior
are refused with a :class:`~workbench.core.errors.ModelError` that names the option.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.edge.cgen import C_TYPES, c_array, float64_literal
from workbench.edge.cinterface import GeneratedC, header_end, preamble
from workbench.edge.tree_forms import FlatForest, choose_form, for_each_tree, leaf_finder
from workbench.edge.trees import float32_at_or_below, tree_thresholds

__all__ = ["BOOSTED_ESTIMATORS", "BoostedTrees", "boosted_trees", "generate_boosting"]

#: The boosted classifiers :func:`generate_boosting` exports.
BOOSTED_ESTIMATORS = ("HistGradientBoostingClassifier", "GradientBoostingClassifier")


@dataclasses.dataclass
class BoostedTrees:
    """The trees, baseline and link of a fitted boosted classifier, ready for C.

    Attributes
    ----------
    forest : FlatForest
        All trees, in summation order (iteration by iteration, one tree per raw score).
    leaf_values : numpy.ndarray of float64
        Unique leaf values, as scikit-learn adds them (learning rate included).
    baseline : numpy.ndarray of float64, shape (n_scores,)
        The raw scores before the first tree.
    link : {"logit", "half_logit", "softmax"}
        Raw scores to probabilities: ``expit(s)``, ``expit(2 s)`` (exponential loss), softmax.
    binary_rule : {">", ">="}
        Two classes: class 1 when ``s > 0`` (HistGradientBoosting) or ``s >= 0``
        (GradientBoosting).
    n_iterations : int
    notes : list of str
    """

    forest: FlatForest
    leaf_values: np.ndarray
    baseline: np.ndarray
    link: str
    binary_rule: str
    n_iterations: int
    notes: list[str]

    @property
    def n_scores(self) -> int:
        """Raw scores (1 for two classes, else one per class)."""
        return len(self.baseline)


class _Flattener:
    """Collects trees into one node table with a shared table of unique leaf values."""

    def __init__(self) -> None:
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.nan_left: list[bool] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.roots: list[int] = []
        self.leaves: list[float] = []
        self.index: dict[bytes, int] = {}
        self.depth = 1

    def leaf(self, value: float) -> int:
        key = np.float64(value).tobytes()
        if key not in self.index:
            self.index[key] = len(self.leaves)
            self.leaves.append(float(value))
        return -self.index[key] - 1

    def add(self, tree: dict[str, np.ndarray], depth: int) -> None:
        """Append one tree given as per-node arrays (``is_leaf``, ``left``, ``right``, ...)."""
        self.depth = max(self.depth, depth)
        internal = np.flatnonzero(~tree["is_leaf"])
        offset = len(self.feature)
        pos = {int(n): offset + i for i, n in enumerate(internal)}
        self.roots.append(offset)
        if internal.size == 0:  # a tree that is one leaf: one node sending both ways to it
            lid = self.leaf(tree["value"][0])
            self.feature.append(0)
            self.threshold.append(0.0)
            self.nan_left.append(False)
            self.left.append(lid)
            self.right.append(lid)
            return

        def child(c: int) -> int:
            return self.leaf(tree["value"][c]) if tree["is_leaf"][c] else pos[c]

        for n in internal:
            self.feature.append(int(tree["feature"][n]))
            self.threshold.append(float(tree["threshold"][n]))
            self.nan_left.append(bool(tree["nan_left"][n]))
            self.left.append(child(int(tree["left"][n])))
            self.right.append(child(int(tree["right"][n])))

    def forest(self, dtype: str, nan_routing: bool) -> FlatForest:
        th_type, literals = tree_thresholds(np.asarray(self.threshold, dtype=np.float64), dtype)
        return FlatForest(
            feature=np.asarray(self.feature, dtype=np.int64),
            threshold=literals,
            threshold_type=th_type,
            left=np.asarray(self.left, dtype=np.int64),
            right=np.asarray(self.right, dtype=np.int64),
            roots=np.asarray(self.roots, dtype=np.int64),
            nan_left=np.asarray(self.nan_left, dtype=bool) if nan_routing else None,
            n_leaves=len(self.leaves),
            max_depth=self.depth,
            threshold_f32=float32_at_or_below(np.asarray(self.threshold))
            if dtype == "float32"
            else None,
        )


def _hist_gradient_boosting(model: Any, dtype: str) -> BoostedTrees:
    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise ModelError(
            "HistGradientBoostingClassifier was fitted with categorical_features (categorical "
            "splits); the C export compares numbers only. Refit with categorical_features=None "
            "on numerically encoded columns (e.g. one-hot or ordinal codes)."
        )
    flat = _Flattener()
    predictors = model._predictors
    for trees in predictors:
        for predictor in trees:
            nodes = predictor.nodes
            flat.add(
                {
                    "is_leaf": nodes["is_leaf"].astype(bool),
                    "feature": nodes["feature_idx"],
                    "threshold": nodes["num_threshold"],
                    "nan_left": nodes["missing_go_to_left"].astype(bool),
                    "left": nodes["left"],
                    "right": nodes["right"],
                    "value": nodes["value"],
                },
                int(nodes["depth"].max()),
            )
    n_scores = int(model.n_trees_per_iteration_)
    return BoostedTrees(
        forest=flat.forest(dtype, nan_routing=True),
        leaf_values=np.asarray(flat.leaves, dtype=np.float64),
        baseline=np.asarray(model._baseline_prediction, dtype=np.float64).ravel(),
        link="logit" if n_scores == 1 else "softmax",
        binary_rule=">",
        n_iterations=len(predictors),
        notes=[
            "HistGradientBoosting compares float64 X with its bin thresholds: "
            + (
                "double thresholds on double inputs, exact"
                if dtype == "float64"
                else "thresholds rounded down to float32, exact for float32 inputs; NaN "
                "follows each node's missing_go_to_left"
            )
        ],
    )


def _init_scores(model: Any) -> np.ndarray:
    """Raw scores of the init estimator, which must not depend on X."""
    init = model.init_
    if isinstance(init, str) and init == "zero":
        return np.zeros(int(model.n_trees_per_iteration_), dtype=np.float64)
    if type(init).__name__ == "DummyClassifier" and init.strategy == "prior":
        # The class prior does not depend on X: scikit-learn's own link of it, on any row.
        x0 = np.zeros((1, int(model.n_features_in_)), dtype=np.float32)
        return np.asarray(model._raw_predict_init(x0), dtype=np.float64)[0]
    raise ModelError(
        f"GradientBoostingClassifier(init={init!r}) cannot be exported: its raw scores start "
        "from a model that the C code would have to run too. Refit with init=None (the class "
        "prior, the default) or init='zero'."
    )


def _gradient_boosting(model: Any, dtype: str) -> BoostedTrees:
    if dtype != "float32":
        raise InputError(
            "GradientBoostingClassifier compares float32 features, like scikit-learn; use "
            "dtype='float32'."
        )
    baseline = _init_scores(model)
    flat = _Flattener()
    lr = np.float64(model.learning_rate)
    for stage in model.estimators_:
        for reg in stage:
            t = reg.tree_
            flat.add(
                {
                    "is_leaf": t.children_left == -1,
                    "feature": t.feature,
                    "threshold": t.threshold,
                    "nan_left": np.zeros(t.node_count, dtype=bool),
                    "left": t.children_left,
                    "right": t.children_right,
                    # scikit-learn adds scale * value, rounded to float64, to the raw score.
                    "value": lr * np.asarray(t.value, dtype=np.float64)[:, 0, 0],
                },
                int(t.max_depth),
            )
    n_scores = len(baseline)
    link = "softmax" if n_scores > 1 else ("half_logit" if model.loss == "exponential" else "logit")
    return BoostedTrees(
        forest=flat.forest("float32", nan_routing=False),
        leaf_values=np.asarray(flat.leaves, dtype=np.float64),
        baseline=baseline,
        link=link,
        binary_rule=">=",
        n_iterations=int(model.n_estimators_),
        notes=[
            "GradientBoosting casts X to float32: thresholds rounded down to float32 and "
            "compared with <=, exact"
        ],
    )


def boosted_trees(model: Any, dtype: str = "float32") -> BoostedTrees:
    """Read the trees, baseline and link of a fitted boosted classifier.

    Parameters
    ----------
    model : HistGradientBoostingClassifier or GradientBoostingClassifier
        Fitted.
    dtype : {"float32", "float64"}, default="float32"
        C type of the inputs (float64 for HistGradientBoosting only).

    Returns
    -------
    BoostedTrees

    Raises
    ------
    ModelError
        Categorical splits (HistGradientBoosting ``categorical_features``), an init estimator
        other than the class prior or ``"zero"``, or an unsupported estimator.
    InputError
        ``dtype="float64"`` for GradientBoosting (it compares float32).
    """
    kind = type(model).__name__
    if kind == "HistGradientBoostingClassifier":
        return _hist_gradient_boosting(model, dtype)
    if kind == "GradientBoostingClassifier":
        return _gradient_boosting(model, dtype)
    raise ModelError(f"{kind} is not a boosted classifier; supported: {list(BOOSTED_ESTIMATORS)}.")


def _scores_code(name: str, form: str, bt: BoostedTrees) -> str:
    """C computing the raw scores ``s0 ..`` in double, in scikit-learn's order."""
    k_n = bt.n_scores
    init = "".join(f"    double s{k} = {float64_literal(b)};\n" for k, b in enumerate(bt.baseline))
    adds = for_each_tree(
        name,
        form,
        bt.forest,
        lambda leaf, k: f"s{k} += {name}_leaf[{leaf}];",
        group=k_n,
    )
    out = "".join(f"    s[{k}] = s{k};\n" for k in range(k_n))
    return (
        f"static void {name}_scores(const {name}_input_t *x, double *s) {{\n{init}{adds}{out}}}\n"
    )


def _proba_code(name: str, bt: BoostedTrees, n_classes: int) -> str:
    k_n = bt.n_scores
    head = (
        f"static void {name}_predict_proba(const {name}_input_t *x, float *p) {{\n"
        f"    double s[{k_n}];\n    {name}_scores(x, s);\n"
    )
    if bt.link in ("logit", "half_logit"):
        arg = "-(float)s[0]" if bt.link == "logit" else "-2.0f * (float)s[0]"
        return head + f"    p[1] = 1.0f / (1.0f + expf({arg}));\n    p[0] = 1.0f - p[1];\n}}\n"
    return head + (
        "    double top = s[0];\n"
        f"    for (int c = 1; c < {n_classes}; c++) if (s[c] > top) top = s[c];\n"
        "    float total = 0.0f;\n"
        f"    for (int c = 0; c < {n_classes}; c++) {{\n"
        "        p[c] = expf((float)(s[c] - top));\n        total += p[c];\n    }\n"
        f"    for (int c = 0; c < {n_classes}; c++) p[c] /= total;\n}}\n"
    )


def _predict_code(name: str, bt: BoostedTrees, n_classes: int) -> str:
    head = (
        f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
        f"    double s[{bt.n_scores}];\n    {name}_scores(x, s);\n"
    )
    if bt.n_scores == 1:
        return head + f"    return s[0] {bt.binary_rule} 0.0 ? 1 : 0;\n}}\n"
    return head + (
        "    int32_t best = 0;\n"
        f"    for (int32_t c = 1; c < {n_classes}; c++) if (s[c] > s[best]) best = c;\n"
        "    return best;\n}\n"
    )


def generate_boosting(model: Any, name: str, dtype: str, form: str = "auto") -> GeneratedC:
    """C header of a fitted boosted classifier (same interface as every other model).

    Parameters
    ----------
    model : HistGradientBoostingClassifier or GradientBoostingClassifier
        Fitted.
    name : str
        C prefix.
    dtype : {"float32", "float64"}
        C type of the inputs.
    form : {"auto", "tables", "ifelse"}, default="auto"
        C form of the trees; ``"auto"`` applies :func:`~workbench.edge.tree_forms.choose_form`.

    Returns
    -------
    GeneratedC
        ``details`` holds the tree, node and leaf counts, the iterations and the form.
    """
    bt = boosted_trees(model, dtype)
    n_classes = len(model.classes_)
    n_features = int(model.n_features_in_)
    notes = list(bt.notes)
    if form == "auto":
        form, why = choose_form(bt.forest, "boosted")
        notes.append(why)
    n_trees = len(bt.forest.roots)
    header = "".join(
        [
            preamble(
                name,
                n_features,
                n_classes,
                C_TYPES[dtype],
                f"{type(model).__name__}: {bt.n_iterations} iteration(s), {n_trees} tree(s), "
                f"{bt.forest.n_nodes} decision nodes, {bt.forest.n_leaves} unique leaves, {form}",
            ),
            leaf_finder(bt.forest, name, form, f"{name}_input_t", n_features),
            c_array("double", f"{name}_leaf", bt.leaf_values, float64_literal, per_line=4),
            _scores_code(name, form, bt),
            _proba_code(name, bt, n_classes),
            _predict_code(name, bt, n_classes),
            header_end(name),
        ]
    )
    notes.append(
        "raw scores summed in double in scikit-learn's order (equal to its sums), "
        "probabilities in float32"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type=C_TYPES[dtype],
        n_features=n_features,
        n_classes=n_classes,
        engine="workbench",
        leaves="",
        notes=notes,
        details={
            "n_iterations": bt.n_iterations,
            "n_trees": n_trees,
            "n_nodes": bt.forest.n_nodes,
            "n_leaves": bt.forest.n_leaves,
            "form": form,
        },
    )
