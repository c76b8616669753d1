"""export() of scikit-learn Pipelines: scalers and PCA in front of every model family, in C.

Parity is checked on the issue's hard data (wine, and a 6-class set whose columns are scaled by
1e4, 1e-4, 1e-6 and 1e6) against the Pipeline on the float32 rows the C receives; probability
errors are checked against a bound derived from float32 rounding (:func:`float32_proba_bound`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from workbench.core.errors import InputError, ModelError, NotFittedError, WorkbenchError
from workbench.edge import export, export_emlearn_default, find_compiler
from workbench.edge.checks import UnscaledFeaturesWarning
from workbench.edge.compiler import build_executable
from workbench.edge.folding import fold_into_trees
from workbench.edge.harness import harness_source
from workbench.edge.preprocessing import SUPPORTED_STEPS, affine_stages, split_pipeline
from workbench.edge.trees import tree_estimators

U32, U64 = 2.0**-24, 2.0**-53

STEPS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "maxabs": MaxAbsScaler,
    "pca": lambda: PCA(5, random_state=0),
    "pca_whiten": lambda: PCA(5, whiten=True, random_state=0),
}
FAMILIES = {
    "tree": lambda: DecisionTreeClassifier(max_depth=8, random_state=0),
    "forest": lambda: RandomForestClassifier(10, max_depth=8, random_state=0),
    "mlp": lambda: MLPClassifier((16,), max_iter=1500, random_state=0),
    "nb": GaussianNB,
    "knn": lambda: KNeighborsClassifier(5),
}
CHAINS = {
    "standard+pca": lambda: [StandardScaler(), PCA(6, random_state=0)],
    "minmax+robust": lambda: [MinMaxScaler(), RobustScaler()],
    "pca+standard": lambda: [PCA(6, random_state=0), StandardScaler()],
    "robust+pca_whiten": lambda: [RobustScaler(), PCA(6, whiten=True, random_state=0)],
}


@pytest.fixture(scope="module")
def scaled6():
    """The issue's 6-class synthetic set: columns 0-3 scaled by 1e4, 1e-4, 1e-6 and 1e6."""
    X, y = make_classification(
        900,
        n_features=8,
        n_informative=6,
        n_redundant=0,
        n_classes=6,
        n_clusters_per_class=1,
        random_state=0,
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence
        return model.fit(X, y)


def _softmax_bound(dlogit, n_classes, u):
    # The softmax Jacobian's rows sum to at most 1/2 in absolute value; its own rounding
    # (exp, sum, divide) adds a few units of roundoff.
    return 0.5 * dlogit.max(axis=1) + (n_classes + 4) * u


def _transform_bound(stages, X, u):
    """First-order bound on the error of the C transforms in arithmetic of unit roundoff u."""
    a, da = X.copy(), np.zeros_like(X)
    for st in stages:
        d = a - st.center
        dd = da + u * (np.abs(st.center) + np.abs(d))
        if st.dense:
            W = np.abs(st.weights)
            n = W.shape[1]
            a = d @ st.weights.T + st.offset
            da = dd @ W.T + (n + 2) * u / (1 - (n + 2) * u) * (np.abs(d) @ W.T + np.abs(st.offset))
        else:
            a = d * st.weights
            da = dd * np.abs(st.weights) + 2 * u * np.abs(a)
        if st.clip is not None:
            a = np.clip(a, *st.clip)
    return a, da


def float32_proba_bound(pipe, art, X32):
    """Per-row bound on |C proba - sklearn proba| from float32 (or double) rounding.

    Transforms: each operation errs by at most one unit roundoff ``u`` of its result, the
    centring by ``u (|c| + |x - c|)`` and a sum of n products by ``gamma_n sum |w||a|``.
    MLP: the same per layer (relu and identity are 1-Lipschitz); naive Bayes: the
    log-likelihood's derivative ``|x - theta| / var`` times the input error, plus its own
    rounding. Both end in a softmax.
    """
    steps, final = split_pipeline(pipe)
    u_t = U64 if art.details.get("transform_ctype") == "double" else U32
    z, dz = _transform_bound(affine_stages(steps), X32, u_t) if steps else (X32, 0 * X32)
    dz = dz + U32 * np.abs(z)  # the cast of the transformed features to the model's float
    nc = len(final.classes_)
    if isinstance(final, MLPClassifier):
        a, da = z, dz
        for i, (W, b) in enumerate(zip(final.coefs_, final.intercepts_, strict=True)):
            n = W.shape[0] + 2
            s = a @ W + b
            ds = da @ np.abs(W) + n * U32 / (1 - n * U32) * (np.abs(a) @ np.abs(W) + np.abs(b))
            a, da = (s, ds) if i == len(final.coefs_) - 1 else (np.maximum(s, 0), ds)
        if a.shape[1] == 1:
            da = np.column_stack([da, da])
        return _softmax_bound(da, nc, U32)
    if isinstance(final, GaussianNB):
        d = z[:, None, :] - final.theta_[None]
        q = d**2 / final.var_[None]
        n = z.shape[1] + 4
        dj = (np.abs(d) / final.var_[None] * dz[:, None, :]).sum(axis=2)
        dj += n * U32 * (0.5 * q.sum(axis=2) + np.abs(np.log(final.class_prior_))[None] + 1)
        return _softmax_bound(dj, nc, U32)
    # trees (float leaves or one-hot/8-bit votes checked elsewhere), k-NN votes / k
    return np.full(len(X32), 4 * U32)


def check_parity(pipe, X, y, **kw):
    art = export(pipe, X, y, targets=["host"], **kw)
    X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    assert art.parity.match_rate == 100.0, art.parity.explanation
    assert art.parity.accuracy_c == art.parity.accuracy_sklearn
    np.testing.assert_array_equal(art.predict(X), pipe.predict(X32))
    err = np.abs(art.predict_proba(X).astype(np.float64) - pipe.predict_proba(X32))
    assert art.parity.max_proba_error == pytest.approx(err.max(), abs=1e-12)
    if art.leaves == "uint8":
        assert err.max() <= 0.5 / 255 + 1e-6
    elif art.leaves != "class":  # class leaves: votes (forests) or, by version, one-hot
        bound = float32_proba_bound(pipe, art, X32)
        assert (err.max(axis=1) <= bound).all(), (err.max(), bound.max())
    return art


# ------------------------------------------------------------------------------------ parity


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_before_each_family_matches_exactly_on_scaled_columns(step, family, scaled6):
    Xtr, Xte, ytr, yte = scaled6
    pipe = fit_quietly(make_pipeline(STEPS[step](), FAMILIES[family]()), Xtr, ytr)
    # PCA without whitening keeps the columns' scales: the MLP behind it is rightly warned about
    unscaled = (step, family) == ("pca", "mlp")
    with pytest.warns(UnscaledFeaturesWarning) if unscaled else contextlib.nullcontext():
        art = check_parity(pipe, Xte, yte)
    assert art.estimator.startswith("Pipeline(") and art.n_features == 8
    if family in ("tree", "forest") and not step.startswith("pca"):
        assert "folded into the tree thresholds" in " ".join(art.notes)
        assert "_transform" not in art.header
    else:
        assert f"{art.name}_transform" in art.header
        assert "static int32_t model_predict(const model_input_t *x)" in art.header


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("chain", list(CHAINS))
def test_chains_of_two_on_wine(chain, family, wine_split):
    Xtr, Xte, ytr, yte = wine_split
    pipe = fit_quietly(make_pipeline(*CHAINS[chain](), FAMILIES[family]()), Xtr, ytr)
    art = check_parity(pipe, Xte, yte)
    assert len(art.details.get("transform_stages", ["folded"])) == 1  # composed into one stage


def test_a_scaled_pipeline_makes_the_useless_mlp_useful_on_the_device(scaled6):
    Xtr, Xte, ytr, yte = scaled6
    raw = fit_quietly(MLPClassifier((16,), max_iter=1500, random_state=0), Xtr, ytr)
    pipe = fit_quietly(
        make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=1500, random_state=0)),
        Xtr,
        ytr,
    )
    with pytest.warns(UnscaledFeaturesWarning):
        bare = export(raw, Xte, yte, targets=["host"])
    art = check_parity(pipe, Xte, yte)
    assert bare.parity.accuracy_c < 0.4 < 0.75 < art.parity.accuracy_c


def test_scalers_fold_exactly_even_at_the_float32_neighbours_of_each_threshold(scaled6):
    Xtr, Xte, ytr, _ = scaled6
    steps = [StandardScaler(), MinMaxScaler(feature_range=(-3, 7))]
    pipe = make_pipeline(*steps, RandomForestClassifier(5, max_depth=6, random_state=0))
    pipe.fit(Xtr, ytr)
    transformers, final = split_pipeline(pipe)
    folded = fold_into_trees(transformers, final)
    rows, naive_misses = [], 0
    for est, raw_est in zip(tree_estimators(folded), tree_estimators(final), strict=True):
        inner = np.flatnonzero(est.tree_.children_left != -1)
        for node in inner:
            f, th = est.tree_.feature[node], np.float32(est.tree_.threshold[node])
            for v in (th, np.nextafter(th, np.float32(np.inf))):
                row = Xte[0].copy()
                row[f] = v
                rows.append(row)
            # the obvious fold, threshold * scale + mean in float64, rounded to float32
            s1, s2 = steps
            t = (raw_est.tree_.threshold[node] - s2.min_[f]) / s2.scale_[f]
            naive = np.float32(t * s1.scale_[f] + s1.mean_[f])
            naive_misses += naive != th
    X = np.array(rows)
    # scikit-learn's own pipeline puts x* on the left of its node and the next float32 right
    Z = pipe[:-1].transform(X).astype(np.float32).astype(np.float64)
    k = 0
    for est, raw_est in zip(tree_estimators(folded), tree_estimators(final), strict=True):
        for node in np.flatnonzero(est.tree_.children_left != -1):
            f, t = raw_est.tree_.feature[node], raw_est.tree_.threshold[node]
            assert Z[k, f] <= t < Z[k + 1, f]
            k += 2
    art = check_parity(pipe, X, None, leaves="float")
    assert art.parity.n_samples == len(rows)
    assert naive_misses > 0  # the bisection is needed: the obvious fold is off by an ulp


def test_integer_features_fold_into_int16_trees_with_the_micropython_csv(integer_data):
    Xtr, ytr, Xte, yte = integer_data
    pipe = make_pipeline(RobustScaler(), StandardScaler(), DecisionTreeClassifier(random_state=0))
    pipe.fit(Xtr, ytr)
    art = check_parity(pipe, Xte, yte)
    assert art.dtype == "int16" and art.csv is not None
    emlearn = check_parity(pipe, Xte, yte, engine="emlearn", leaves="class")
    assert emlearn.engine.startswith("emlearn")


def test_pca_pipelines_refuse_int16_and_emlearn(integer_data):
    Xtr, ytr, Xte, _ = integer_data
    pipe = make_pipeline(PCA(2), DecisionTreeClassifier(random_state=0)).fit(Xtr, ytr)
    art = export(pipe, Xte, targets=["host"])
    assert art.dtype == "float32" and art.csv is None
    assert "transforms in double" in " ".join(art.notes)
    with pytest.raises(InputError, match=r"dtype='int16' is for trees on raw features.*PCA"):
        export(pipe, Xte, dtype="int16")
    with pytest.raises(InputError, match="engine='emlearn' is for trees on raw features"):
        export(pipe, Xte, engine="emlearn")
    with pytest.raises(InputError, match="Trees compare float32"):
        export(pipe, Xte, dtype="float64")


def test_explicit_float32_trades_exactness_for_size_in_front_of_trees(wine_split):
    Xtr, Xte, ytr, yte = wine_split
    pipe = make_pipeline(StandardScaler(), PCA(5), DecisionTreeClassifier(random_state=0))
    pipe.fit(Xtr, ytr)
    exact = export(pipe, Xte, yte, targets=["host"])
    small = export(pipe, Xte, yte, dtype="float32", targets=["host"])
    assert exact.details["transform_ctype"] == "double"
    assert small.details["transform_ctype"] == "float"
    assert "may go the other way" in " ".join(small.notes)
    assert "double a[" not in small.header and "double a[" in exact.header
    assert small.flash_bytes < exact.flash_bytes


def test_float64_pipeline_computes_in_double(wine_split):
    Xtr, Xte, ytr, yte = wine_split
    pipe = make_pipeline(StandardScaler(), PCA(6), GaussianNB()).fit(Xtr, ytr)
    art = check_parity(pipe, Xte, yte, dtype="float64")
    assert "typedef double model_input_t;" in art.header
    assert art.parity.max_proba_error <= U32  # double inside; the float output rounds once


def test_centres_far_from_the_data_switch_the_transforms_to_double(scaled6):
    Xtr, Xte, ytr, yte = scaled6
    off = np.array([0, 0, 0, 0, 1e7, 0, 0, 0])  # a column 1e7 standard deviations from 0
    pipe = fit_quietly(
        make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=1500, random_state=0)),
        Xtr + off,
        ytr,
    )
    art = check_parity(pipe, Xte + off, yte)
    assert art.details["transform_ctype"] == "double"
    assert "centres features 5.29e+06 standard deviations away" in " ".join(art.notes)
    near = fit_quietly(make_pipeline(StandardScaler(), GaussianNB()), Xtr, ytr)
    assert check_parity(near, Xte, yte).details["transform_ctype"] == "float"


def test_clip_nested_pipelines_and_passthrough(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    inner = Pipeline([("scale", StandardScaler()), ("mm", MinMaxScaler(clip=True))])
    pipe = Pipeline(
        [("pre", inner), ("skip", "passthrough"), ("pca", PCA(4)), ("clf", GaussianNB())]
    ).fit(Xtr, ytr)
    X = np.vstack([Xte, Xte[:5] * 3.0])  # beyond the training range: the clamp acts
    assert (pipe[0].transform(X) == 1.0).any()
    art = check_parity(pipe, X, None)
    assert art.details["transform_stages"] == [
        "pre__scale+pre__mm: element-wise",
        "pca: dense",
    ]
    assert art.estimator == "Pipeline(StandardScaler, MinMaxScaler, PCA, GaussianNB)"


@pytest.mark.parametrize("dense", [True, False])
def test_pipeline_header_compiles_without_warnings(dense, wine_split):
    Xtr, Xte, ytr, _ = wine_split
    steps = [MinMaxScaler(clip=True), PCA(3), StandardScaler()] if dense else [RobustScaler()]
    pipe = make_pipeline(*steps, KNeighborsClassifier(3))
    art = export(pipe.fit(Xtr, ytr), Xte, targets=["host"])
    assert ("b[13]" in art.header) is dense  # the second buffer only where a sum needs it
    build_executable(
        {"model.h": art.header, "harness.c": harness_source(art.code)},
        "harness.c",
        toolchain=art.toolchain,
        flags=("-O1", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function"),
    )


def test_transforms_cost_little_flash_and_folding_none(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    target = "cortex-m4f" if find_compiler().arm_cc else "host"
    mlp = lambda: MLPClassifier((8,), max_iter=1500, random_state=0)  # noqa: E731
    scaled = StandardScaler().fit(Xtr)
    bare = fit_quietly(mlp(), scaled.transform(Xtr), ytr)
    pipe = fit_quietly(make_pipeline(StandardScaler(), mlp()), Xtr, ytr)
    a_bare = export(bare, scaled.transform(Xte), targets=[target])
    a_pipe = export(pipe, Xte, targets=[target])
    extra = a_pipe.flash_bytes - a_bare.flash_bytes
    assert 0 < extra <= 2 * 4 * 13 + 256  # two float arrays of 13 and a loop
    tree = make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=4, random_state=0))
    tree.fit(Xtr, ytr)
    folded = fold_into_trees(*split_pipeline(tree))
    a_fold = export(tree, Xte, targets=[target])
    assert a_fold.flash_bytes == export(folded, Xte, targets=[target]).flash_bytes


# -------------------------------------------------------------------------------- MLP warning


def test_mlp_warning_fires_for_raw_features_and_names_the_fix(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    raw = fit_quietly(MLPClassifier((8,), max_iter=300, random_state=0), Xtr, ytr)
    with pytest.warns(UnscaledFeaturesWarning) as rec:
        export(raw, Xte, targets=["host"])
    msg = str(rec[0].message)
    assert (
        "put a StandardScaler in a Pipeline before the MLP; export() compiles the whole "
        "pipeline" in msg
    )
    assert issubclass(UnscaledFeaturesWarning, UserWarning)


def test_mlp_warning_stays_quiet_for_a_pipeline_and_for_scaled_features(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    pipe = fit_quietly(make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=300)), Xtr, ytr)
    sc = StandardScaler().fit(Xtr)
    bare = fit_quietly(MLPClassifier((8,), max_iter=300, random_state=0), sc.transform(Xtr), ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnscaledFeaturesWarning)
        export(pipe, Xte, targets=["host"])
        export(bare, sc.transform(Xte), targets=["host"])


def test_mlp_warning_rule_spread_and_offset(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    sc = StandardScaler().fit(Xtr)
    Z, Ztr = sc.transform(Xte), sc.transform(Xtr)
    for shift, scale in ((np.r_[50.0, np.zeros(12)], 1.0), (0.0, np.r_[500.0, np.ones(12)])):
        mlp = fit_quietly(MLPClassifier((8,), max_iter=300, random_state=0), Ztr, ytr)
        with pytest.warns(UnscaledFeaturesWarning, match="look unscaled"):
            export(mlp, Z * scale + shift, targets=["host"])
    pca = fit_quietly(make_pipeline(PCA(5), MLPClassifier((8,), max_iter=300)), Xtr, ytr)
    with pytest.warns(UnscaledFeaturesWarning, match="right before the MLP in the Pipeline"):
        export(pca, Xte, targets=["host"])


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        (PolynomialFeatures(2), "PolynomialFeatures"),
        (FunctionTransformer(np.tanh), "FunctionTransformer"),
        (
            ColumnTransformer([("s", StandardScaler(), [0, 1])], remainder="passthrough"),
            "ColumnTransformer",
        ),
    ],
)
def test_an_unsupported_step_is_named_with_the_supported_list(step, kind, wine_split):
    Xtr, Xte, ytr, _ = wine_split
    pipe = Pipeline([("scale", StandardScaler()), ("odd", step), ("clf", GaussianNB())])
    pipe.fit(Xtr, ytr)
    with pytest.raises(
        ModelError, match=rf"Pipeline step 'odd' \({kind}\) cannot be exported"
    ) as e:
        export(pipe, Xte)
    for name in SUPPORTED_STEPS:
        assert name in str(e.value)
    assert "MLPClassifier" in str(e.value)


def test_bad_pipelines(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    with pytest.raises(NotFittedError, match="not fitted"):
        export(make_pipeline(StandardScaler(), GaussianNB()), Xte)
    reg = make_pipeline(StandardScaler(), DecisionTreeRegressor()).fit(Xtr, ytr)
    with pytest.raises(ModelError, match="is a regressor"):
        export(reg, Xte)
    other = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xtr, ytr)
    with pytest.raises(ModelError, match="LogisticRegression cannot be exported"):
        export(other, Xte)
    nb = make_pipeline(StandardScaler(), GaussianNB()).fit(Xtr, ytr)
    with pytest.raises(ModelError, match="export\\(\\) compiles a Pipeline"):
        export_emlearn_default(nb, Xte)
    with pytest.raises(InputError, match="X has 5 features but the model was fitted with 13"):
        export(nb, Xte[:, :5])


def test_features_that_overflow_float32_are_refused_naming_the_column(wine_split):
    Xtr, Xte, ytr, _ = wine_split
    nb = make_pipeline(StandardScaler(), GaussianNB()).fit(Xtr, ytr)
    X = np.array(Xte)
    X[2, 4] = -1e39
    with pytest.raises(InputError, match="X column 4 holds values up to 1e\\+39"):
        export(nb, X)
    huge = np.array(Xtr)
    huge[:, 3] *= 1e50
    big = make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)).fit(huge, ytr)
    with pytest.raises(InputError, match=r"step 'standardscaler'.*mean_=.*for column 3"):
        export(big, Xte)
    frame = pd.DataFrame(huge, columns=[f"c{i}" for i in range(13)])
    named = make_pipeline(MinMaxScaler(), GaussianNB()).fit(frame, ytr)
    with pytest.raises(InputError, match="column 3 \\('c3'\\)"):
        export(named, Xte)
    wide = np.array(Xtr)
    wide[:, 1] *= 1e20  # fits float32, but its variance (1e40 x) does not
    with pytest.raises(InputError, match=r"class variances for column 1.*dtype='float64'"):
        export(GaussianNB().fit(wide, ytr), wide[:20])
    assert export(GaussianNB().fit(wide, ytr), wide[:20], dtype="float64", targets=["host"])
    with pytest.raises(InputError, match="stored training rows for column 3"):
        export(KNeighborsClassifier(3).fit(huge, ytr), Xte)
    mlp = fit_quietly(MLPClassifier((4,), max_iter=50, random_state=0), Xtr, ytr)
    mlp.coefs_[0][7, 2] = 1e39
    with pytest.raises(InputError, match="first-layer weights for column 7"):
        export(mlp, Xte)
    mlp.coefs_[0][7, 2] = 0.0
    mlp.coefs_[1][1, 0] = -1e39
    with pytest.raises(InputError, match="layer 1 weights reach -1e\\+39"):
        export(mlp, Xte)


def test_a_cc_that_is_not_a_compiler(tmp_path, monkeypatch, wine_split):
    Xtr, Xte, ytr, _ = wine_split
    nb = GaussianNB().fit(Xtr, ytr)
    cases = {
        "/bin/true": "it exited 0 on a one-line C program but wrote no executable",
        "/bin/false": "compiling a one-line C program failed \\(exit 1",
        "/etc/passwd": "it is a file that is not executable",
        str(tmp_path): "it is a directory",
    }
    for cc, why in cases.items():
        if not os.path.exists(cc):
            continue
        with pytest.raises(InputError, match=f"cc={cc!r} is not a working C compiler: {why}"):
            export(nb, Xte, cc=cc)
    script = tmp_path / "fake-cc"
    script.write_text("#!/bin/sh\necho 'not a compiler'\n")
    script.chmod(0o755)
    with pytest.raises(InputError, match=r"wrote no executable.*such as 'gcc'"):
        find_compiler(script)
    monkeypatch.setenv("CC", str(script))
    with pytest.raises(InputError, match=r"\$CC=.*is not a working C compiler"):
        find_compiler()
    monkeypatch.delenv("CC")
    host = find_compiler()
    if host.arm_cc:  # a cross-compiler builds nothing this machine runs
        with pytest.raises(WorkbenchError, match="not a working C compiler"):
            find_compiler(host.arm_cc)


# ------------------------------------------------------------------------------ emulated target


@pytest.mark.parametrize("cpu", ["cortex-m4f", "cortex-m0"])
def test_pipelines_match_on_the_emulated_cortex_m(cpu, scaled6):
    """Folded scalers, float32 transforms and double transforms, each run under QEMU."""
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        if os.environ.get("WORKBENCH_REQUIRE_QEMU") == "1":
            pytest.fail(f"the emulated-target test needs {missing}")
        pytest.skip(f"the emulated-target test needs {missing}")
    from workbench.edge.target import verify_on_target

    Xtr, Xte, ytr, yte = scaled6
    X32 = Xte[:60].astype(np.float32).astype(np.float64)  # the values the device receives
    for last in (
        DecisionTreeClassifier(max_depth=8, random_state=0),
        MLPClassifier((16,), max_iter=1500, random_state=0),
    ):
        for steps in ([StandardScaler(), MinMaxScaler()], [StandardScaler(), PCA(5)]):
            pipe = fit_quietly(make_pipeline(*steps, last), Xtr, ytr)
            art = export(pipe, Xte, yte, leaves="float")  # trees: exact leaf distributions
            report = verify_on_target(art, pipe, X32, cpu=cpu)
            assert report.match_rate == 100.0, report.explanation
            assert report.max_proba_error <= float32_proba_bound(pipe, art, X32).max()
