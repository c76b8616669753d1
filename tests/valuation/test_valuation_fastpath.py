"""The batched LogisticRegression utility: scikit-learn's model, used where it applies."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

from workbench.core.datasets import load_dataset
from workbench.valuation import BetaShapley, DataOOB, LeaveOneOut, MSRBanzhaf, TMCShapley, value
from workbench.valuation.lbfgs import two_loop
from workbench.valuation.logistic_batch import logistic_spec
from workbench.valuation.logistic_utility import LogisticUtility
from workbench.valuation.sampling import Budget, run_sampling, sample_groups
from workbench.valuation.utility import FitLog

FAST = "numpy-batched-logistic"


class PlainLR(LogisticRegression):
    """The same model through scikit-learn fits (a subclass never takes the fast path)."""


@pytest.fixture(scope="module")
def digits_small():
    """500 digits training points (10 classes) and 200 test points, standardized."""
    ds = load_dataset("digits")
    X, Xt, y, yt = train_test_split(
        ds.X, ds.y, train_size=500, test_size=200, random_state=0, stratify=ds.y
    )
    sc = StandardScaler().fit(X)
    return sc.transform(X), y, sc.transform(Xt), yt


def _sk_fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(**kw).fit(X, y)


# -- which models take the fast path -----------------------------------------------------------
@pytest.mark.parametrize(
    "model",
    [LogisticRegression(), LogisticRegression(C=0.3, max_iter=1000, fit_intercept=False)],
)
def test_plain_l2_lbfgs_logistic_regression_is_eligible(model):
    spec = logistic_spec(model)
    assert spec is not None
    assert spec.C == model.C and spec.fit_intercept == model.fit_intercept


@pytest.mark.parametrize(
    "model",
    [
        PlainLR(),
        LogisticRegression(solver="liblinear"),
        LogisticRegression(class_weight="balanced"),
        LogisticRegression(C=np.inf),
        LogisticRegression(max_iter=20),
        LogisticRegression(l1_ratio=1.0, solver="saga"),
        GaussianNB(),
    ],
)
def test_other_models_are_not_eligible(model):
    assert logistic_spec(model) is None


# -- the same model as scikit-learn -------------------------------------------------------------
def _coef_rel_diff(params_b, est):
    """Relative max difference of coefficients and (centered) intercepts to a sklearn fit."""
    classes = list(est.classes_)
    if len(classes) == 2:
        ours = params_b[classes[1]]  # the higher class row holds the binary vector
        theirs = np.r_[est.coef_[0], est.intercept_]
    else:
        rows = params_b[classes]
        ours = np.c_[rows[:, :-1], rows[:, -1] - rows[:, -1].mean()]
        theirs = np.c_[est.coef_, est.intercept_ - est.intercept_.mean()]
    return np.abs(ours - theirs).max() / np.abs(theirs).max()


def test_binary_fits_equal_sklearn(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    rng = np.random.default_rng(0)
    masks = rng.random((40, len(y))) < 0.5
    # Tight tolerance on both sides: the coefficients of the exact optimum agree.
    tight = LogisticUtility(logistic_spec(LogisticRegression(tol=1e-8)), X, y, Xt, yt, 0.0)
    params, _, fitted = tight.fit(masks.astype(float), FitLog())
    assert fitted.all()
    for b in range(8):
        est = _sk_fit(X[masks[b]], y[masks[b]], tol=1e-10, max_iter=10_000)
        assert _coef_rel_diff(params[b], est) < 1e-4
    # Default tolerance: the test accuracy (the utility) is identical on every subset.
    fast = LogisticUtility(logistic_spec(LogisticRegression()), X, y, Xt, yt, 0.0)
    u = fast.score_weights(masks.astype(float), FitLog())
    sk = [np.mean(_sk_fit(X[m], y[m]).predict(Xt) == yt) for m in masks]
    np.testing.assert_array_equal(u, sk)


def test_multinomial_fits_equal_sklearn(digits_small):
    X, y, Xt, yt = digits_small
    rng = np.random.default_rng(1)
    masks = rng.random((12, len(y))) < 0.5
    spec = logistic_spec(LogisticRegression(tol=1e-8, max_iter=1000))
    tight = LogisticUtility(spec, X, y, Xt, yt, 0.0)
    tight.prepare(share=0.5)
    params, present, fitted = tight.fit(
        masks.astype(float), FitLog(), init=np.repeat(tight.full_params(), 12, axis=0)
    )
    assert fitted.all() and present.all()
    for b in range(4):
        est = _sk_fit(X[masks[b]], y[masks[b]], tol=1e-10, max_iter=100_000)
        assert _coef_rel_diff(params[b], est) < 1e-4
    # At scikit-learn's default tol=1e-4 both solvers stop short of the optimum W* of this
    # ill-conditioned problem, each by about one Newton step D = H^-1 g from its remaining
    # gradient g (to second order; within 2 % here). A test point x can change class only
    # where its top-two logit margin at W* is at most the change of that difference,
    # 2 max_k |x . D_k| (twice again for the higher-order terms): the two solvers may disagree
    # on those points only, whatever their machine's rounding.
    fast = LogisticUtility(logistic_spec(LogisticRegression()), X, y, Xt, yt, 0.0)
    fast.prepare(share=0.5)
    log = FitLog()
    u = fast.score_weights(masks.astype(float), log)
    assert log.n_fits == 12 and log.n_failed == 0 and log.n_warned == 0
    init = np.repeat(fast.warm_start(), len(masks), axis=0)  # as score_weights starts
    params_f, present_f, _ = fast.fit(masks.astype(float), FitLog(), init=init)
    pred_f = fast.solver.classes_[fast.solver.predict_codes(params_f, fast.X1_test, present_f)]
    np.testing.assert_array_equal(u, (pred_f == yt).mean(1))
    X1t = fast.X1_test
    for b, m in enumerate(masks):
        w = m.astype(float)
        est = _sk_fit(X[m], y[m], max_iter=1000)
        k = present[b]
        assert present_f[b].all() and k.all() and list(est.classes_) == list(fast.solver.classes_)
        Lt = np.sort(params[b] @ X1t.T, axis=0)
        margin = Lt[-1] - Lt[-2]  # at W*: the tight fit
        moved = np.zeros(len(yt))
        for W in (params_f[b], _sk_params(est)):
            g, _ = _scaled_gradient(fast.solver, W, w, k)
            D = _newton_step(fast.solver, W, w, k, g)
            moved = np.maximum(moved, np.abs(D @ X1t.T).max(0))
        may_differ = margin <= 2 * 2 * moved
        differ = pred_f[b] != est.predict(Xt)
        assert not (differ & ~may_differ).any(), (b, np.flatnonzero(differ & ~may_differ))


#: Unit roundoff of float32 and float64: a correctly rounded operation errs by at most u relative.
U32 = np.finfo(np.float32).eps / 2
U64 = np.finfo(np.float64).eps / 2


def _gamma(n, u):
    """Higham's gamma_n = n u / (1 - n u): the relative error bound of n rounded operations."""
    return n * u / (1 - n * u)


def _softmax_parts(solver, W, present):
    """Logits, probabilities and one-hot labels of one multinomial problem, in float64."""
    L = W @ solver.X1_.T
    P = np.exp(L - L.max(0))
    P /= P.sum(0)
    Y = solver.codes_[None, :] == np.flatnonzero(present)[:, None]
    return L, P, Y


def _scaled_gradient(solver, W, w, present):
    """scikit-learn's multinomial gradient / sum(w) in float64, and the scale of its sums.

    ``W`` holds the rows of the present classes. The second array is
    ``S_jk = sum_i w_i |p_ik - y_ik| |x_ij| / sum(w)``: the sum of the magnitudes of the terms
    that entry (k, j) of the gradient adds up (they cancel to ~0 at the optimum).
    """
    _, P, Y = _softmax_parts(solver, W, present)
    R = (P - Y) * w
    sw = w.sum()
    return (R @ solver.X1_ + solver.reg_ * W) / sw, np.abs(R) @ np.abs(solver.X1_) / sw


def _scaled_objective(solver, W, w, present):
    """scikit-learn's multinomial objective / sum(w), in float64."""
    L, _, Y = _softmax_parts(solver, W, present)
    loss = logsumexp(L, axis=0) - (L * Y).sum(0)
    return ((w * loss).sum() + 0.5 * (solver.reg_ * W * W).sum()) / w.sum()


def _newton_step(solver, W, w, present, g):
    """H^-1 g for the scaled multinomial objective (flattened like ``W``).

    H is singular along a common shift of the intercepts (unpenalized, and the softmax does
    not see it); g has no component there, and the least-squares solution has none either.
    """
    _, P, _ = _softmax_parts(solver, W, present)
    K, d1 = W.shape
    X1 = solver.X1_
    # H = sum_i w_i (diag(p_i) - p_i p_i') kron x_i x_i' + diag(reg), over sum(w)
    V = (np.sqrt(w)[:, None, None] * P.T[:, :, None] * X1[:, None, :]).reshape(len(w), K * d1)
    H = -(V.T @ V)
    for k in range(K):
        H[k * d1 : (k + 1) * d1, k * d1 : (k + 1) * d1] += (X1 * (w * P[k])[:, None]).T @ X1
    H += np.diag(np.tile(solver.reg_, K))
    H /= w.sum()
    return np.linalg.lstsq(H, g.ravel(), rcond=None)[0].reshape(K, d1)


def _sk_params(est):
    """A multinomial scikit-learn fit as one (classes, features + intercept) matrix."""
    return np.c_[est.coef_, est.intercept_]


@pytest.mark.parametrize("scaled", [True, False], ids=["standardized", "raw-pixels"])
def test_float32_iterations_converge_to_their_tolerance(digits_small, scaled):
    # tol >= 1e-6 runs the bulk of a multinomial iteration in float32 (tighter: float64). The
    # float32 objective is noisy by ~1e-6 there, so plain Armijo backtracking stalled on most
    # raw-pixel subsets (1000 iterations, not converged); every fit must converge, with the
    # float64 gradient at tol up to the float32 rounding of the solver's own gradient, and be
    # as close to the optimum as that gradient allows.
    X, y, Xt, yt = digits_small
    if not scaled:
        ds = load_dataset("digits")
        X, _, y, _ = train_test_split(
            ds.X, ds.y, train_size=500, test_size=200, random_state=0, stratify=ds.y
        )
        X = X.astype(np.float64)
    masks = (np.random.default_rng(0).random((16, len(y))) < 0.5).astype(float)
    for tol, dtype in ((1e-6, np.float32), (1e-7, np.float64)):
        u = LogisticUtility(logistic_spec(LogisticRegression(tol=tol)), X, y, Xt, yt, 0.0)
        assert u.solver.work_dtype_ == dtype
    tol = 1e-6
    u = LogisticUtility(logistic_spec(LogisticRegression(tol=tol)), X, y, Xt, yt, 0.0)
    u.prepare(share=0.5)
    log = FitLog()
    params, present, fitted = u.fit(masks, log)
    assert fitted.all() and log.n_warned == 0
    # The margin over tol, from the method. The solver stops when max |G_kj| / sum(w) <= tol for
    # the gradient it computes, G_kj = sum_i x_ij w_i (p_ik - y_ik) + reg_j W_kj, whose sums it
    # forms in float32 (u = 2^-24). Its error, relative to S_kj = sum_i |x_ij| w_i |p_ik - y_ik|
    # (the terms cancel to ~0 at the optimum, so the error scales with S, not with G):
    # - the float32 product over the n rows: at most gamma_n S_kj (n products and n - 1 sums
    #   each rounded once; Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5);
    # - the float32 features (standardized ones are rounded): u S_kj;
    # - the float32 factors w_i (p_ik - y_ik), from exp, a K-term sum, a division and, for the
    #   true class, minus the sum of the others (no cancellation): within (K + 3) u of their
    #   value each, so (K + 3) u S_kj;
    # - the logits, float64 sums of the float32 products X d of the steps: a logit off by e
    #   moves w(p - y) by at most 2 e |w(p - y)| (the softmax derivative), i.e. 2 max|e| S_kj.
    #   This one has no bound without the iteration history; it is inside the first term's
    #   slack (measured: the whole excess stays below 100 u S_kj with OpenBLAS's SkylakeX,
    #   Haswell and Prescott kernels, one or two threads, numpy with and without AVX-512).
    # So the float64 gradient may exceed tol by gamma_(n + K + 4) S_kj, entry by entry.
    n, K = len(y), u.solver.n_classes_
    margin = _gamma(n + K + 4, U32)
    for b in range(len(masks)):
        g, S = _scaled_gradient(u.solver, params[b][present[b]], masks[b], present[b])
        assert (np.abs(g) <= tol + margin * S).all(), (b, (np.abs(g) - tol).max())
    # Near the optimum. A gradient of tol does not pin down the coefficients of this
    # ill-conditioned problem (raw pixels: smallest Hessian eigenvalue ~3e-6, so a gradient of
    # 1e-6 allows coefficient changes of order 1, and scikit-learn's own tol=1e-10 fit stops
    # on its objective test first). It pins down the objective: near the optimum
    # F(W) - F* = g' H^-1 g / 2 to second order (the Newton decrement; Boyd and Vandenberghe,
    # Convex Optimization, 9.5.1), checked to within 2 % on these subsets. scikit-learn's tight
    # fit is at F* or above, so ours may exceed its objective by g' H^-1 g (twice the estimate,
    # for the higher-order terms) plus the float64 rounding of the two objectives (n terms).
    for b in range(3):
        k, w = present[b], masks[b]
        est = _sk_fit(X[w > 0], y[w > 0], tol=1e-10, max_iter=100_000)
        assert list(est.classes_) == list(u.solver.classes_[k])
        W = params[b][k]
        g, _ = _scaled_gradient(u.solver, W, w, k)
        decrement = g.ravel() @ _newton_step(u.solver, W, w, k, g).ravel()
        f_ours = _scaled_objective(u.solver, W, w, k)
        f_sk = _scaled_objective(u.solver, _sk_params(est), w, k)
        assert f_ours - f_sk <= decrement + 2 * _gamma(n, U64) * abs(f_ours), (b, f_ours - f_sk)


def test_two_loop_equals_the_textbook_recursion():
    # The kept-inner-product form against Nocedal & Wright's Algorithm 7.4, with the ring
    # buffer wrapped around, a skipped pair (rho = 0) and a dense initial inverse Hessian.
    rng = np.random.default_rng(0)
    B, P, m = 3, 7, 4
    H0 = np.linalg.inv(np.cov(rng.normal(size=(P, 3 * P)))).astype(np.float64)
    scale = rng.uniform(0.5, 2.0, size=(B, P))
    S, Yh = np.zeros((B, m, P)), np.zeros((B, m, P))
    rho, A = np.zeros((B, m)), np.zeros((B, m, m))
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for n_pairs in range(11):
        q = rng.normal(size=(B, P))
        newest = [(n_pairs - j - 1) % m for j in range(min(n_pairs, m))]
        got = two_loop(q, S, Yh, rho, A, newest, H0, scale)
        want = q.copy()  # textbook: newest to oldest, H0, oldest to newest
        alphas = []
        for s_, y_, r in reversed(pairs[-m:]):
            a_ = r * (s_ * want).sum(1)
            want = want - a_[:, None] * y_
            alphas.append(a_)
        want = (want @ H0) * scale
        for (s_, y_, r), a_ in zip(pairs[-m:], reversed(alphas), strict=True):
            want = want + (a_ - r * (y_ * want).sum(1))[:, None] * s_
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        s_, y_ = rng.normal(size=(B, P)), rng.normal(size=(B, P))
        y_ += 2 * s_  # mostly positive curvature
        r = np.where(np.arange(B) == n_pairs % B, 0.0, 1.0 / (s_ * y_).sum(1))  # one skipped
        p = n_pairs % m
        S[:, p], Yh[:, p], rho[:, p] = s_, y_, r
        A[:, p, :] = np.matmul(Yh, s_[:, :, None])[:, :, 0]
        A[:, :, p] = np.matmul(S, y_[:, :, None])[:, :, 0]
        pairs.append((s_, y_, r))


def test_subsets_with_two_classes_or_absent_classes_match_sklearn(digits_small):
    X, y, Xt, yt = digits_small
    fast = LogisticUtility(
        logistic_spec(LogisticRegression(tol=1e-8)), X, y, Xt, yt, default_score=0.0
    )
    two = np.flatnonzero(np.isin(y, [3, 8]))[:40]  # binary model inside a 10-class problem
    four = np.flatnonzero(np.isin(y, [0, 1, 5, 9]))[:60]  # multinomial over 4 classes
    rows = [two, four]
    for idx in rows:
        w = np.zeros((1, len(y)))
        w[0, idx] = 1.0
        params, present, fitted = fast.fit(w, FitLog())
        est = _sk_fit(X[idx], y[idx], tol=1e-10, max_iter=100_000)
        assert fitted[0] and present[0].sum() == len(est.classes_)
        assert _coef_rel_diff(params[0], est) < 1e-4
        pred = fast.solver.classes_[fast.solver.predict_codes(params, fast.X1_test, present)[0]]
        np.testing.assert_array_equal(pred, est.predict(Xt))
        assert set(pred) <= set(est.classes_)


def test_single_class_and_empty_subsets_are_counted_like_the_sklearn_path(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    fast = LogisticUtility(logistic_spec(LogisticRegression()), X, y, Xt, yt, default_score=0.25)
    w = np.zeros((3, len(y)))
    w[0, np.flatnonzero(y == 0)[:5]] = 1.0  # one class: a failed fit
    w[2] = 1.0  # all points
    log = FitLog()
    u = fast.score_weights(w, log)
    assert u[0] == 0.25 and u[1] == 0.25 and 0.5 < u[2] <= 1.0
    assert log.n_fits == 2  # the empty set is not a fit, as on the scikit-learn path
    assert log.failures == {"subset has a single class": 1}


# -- the methods use it, and say so ------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "scorer", "backend"),
    [
        (LogisticRegression(), "accuracy", FAST),
        (PlainLR(), "accuracy", "sklearn"),
        (LogisticRegression(), "balanced_accuracy", "sklearn"),
        (GaussianNB(), "accuracy", "sklearn"),
    ],
)
def test_result_reports_the_utility_backend(noisy_cancer, model, scorer, backend):
    X, y, Xt, yt, _ = noisy_cancer
    est = MSRBanzhaf(model, scorer=scorer, n_samples=20, random_state=0)
    res = est.fit(X, y, Xt, yt).result_
    assert res.utility_backend == backend == est.utility_backend_
    assert res.summary()["utility_backend"] == backend
    assert res.n_fits == 20


@pytest.mark.parametrize(
    "make",
    [
        lambda m: MSRBanzhaf(m, n_samples=40, random_state=4),
        lambda m: TMCShapley(m, n_samples=3, random_state=4),
        lambda m: BetaShapley(m, n_samples=2, random_state=4),
        lambda m: DataOOB(m, n_samples=40, random_state=4),
        lambda m: LeaveOneOut(m),
    ],
)
def test_fast_path_gives_the_values_of_sklearn_fits(noisy_cancer, make):
    # At the default tol=1e-4, scikit-learn's L-BFGS stops short of the optimum: on 2 of 40
    # Banzhaf subsets here a test point within 0.003 of its boundary flips; the fast path
    # agrees with the exact optimum there. With a tight tol both give the same utilities.
    X, y, Xt, yt, _ = noisy_cancer
    kw = {"tol": 1e-8, "max_iter": 10_000}
    fast = make(LogisticRegression(**kw)).fit(X, y, Xt, yt).result_
    slow = make(PlainLR(**kw)).fit(X, y, Xt, yt).result_
    assert (fast.utility_backend, slow.utility_backend) == (FAST, "sklearn")
    np.testing.assert_allclose(fast.values, slow.values, atol=1e-12)
    assert (fast.n_fits, fast.n_failed_fits) == (slow.n_fits, slow.n_failed_fits)
    assert fast.failures == slow.failures


def test_fast_tmc_counts_single_class_prefixes_as_failed_fits(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    res = TMCShapley(LogisticRegression(), n_samples=4, random_state=0).fit(X, y, Xt, yt).result_
    assert res.n_failed_fits > 0  # the first point alone always has one class
    assert res.failures == {"subset has a single class": res.n_failed_fits}


def test_fast_path_is_identical_with_two_workers_and_any_chunking(digits_small):
    X, y, Xt, yt = digits_small
    for make in (
        lambda j: MSRBanzhaf(LogisticRegression(), n_samples=40, random_state=2, n_jobs=j),
        lambda j: DataOOB(LogisticRegression(), n_samples=20, random_state=2, n_jobs=j),
        lambda j: TMCShapley(
            LogisticRegression(), n_samples=3, random_state=2, n_jobs=j, truncation_rtol=0.05
        ),
    ):
        seq = make(None).fit(X, y, Xt, yt).result_
        par = make(2).fit(X, y, Xt, yt).result_
        assert seq.utility_backend == FAST
        np.testing.assert_array_equal(seq.values, par.values)
        np.testing.assert_array_equal(seq.stderr, par.stderr)
        assert seq.n_fits == par.n_fits


def test_time_budget_is_honoured_on_the_fast_path(
    noisy_cancer, digits_small, simulated_clock, monkeypatch
):
    # On a simulated clock every subset model costs fit_s, so the test does not depend on how
    # busy the machine is. The methods check the deadline before each batched fit call, so a
    # run stops at most one call after its budget is spent.
    fit_s, budget = 0.002, 1.5
    real_fit = LogisticUtility.fit
    calls = []

    def timed_fit(self, weights, log, *args, **kwargs):
        cost = fit_s * int((np.asarray(weights).sum(1) > 0).sum())
        calls.append(cost)
        simulated_clock.advance(cost)
        return real_fit(self, weights, log, *args, **kwargs)

    monkeypatch.setattr(LogisticUtility, "fit", timed_fit)
    for (X, y, Xt, yt, *_), make in (
        (digits_small, lambda: MSRBanzhaf(LogisticRegression(), max_time=budget, random_state=0)),
        (noisy_cancer, lambda: TMCShapley(LogisticRegression(), max_time=budget, random_state=0)),
        (
            digits_small,
            lambda: TMCShapley(
                LogisticRegression(), max_time=budget, random_state=0, keep_partial=True
            ),
        ),
    ):
        calls.clear()
        res = make().fit(X, y, Xt, yt).result_
        assert res.utility_backend == FAST
        assert res.n_samples > 0 and calls
        assert "time budget" in res.stop_reason
        assert res.elapsed_s == pytest.approx(sum(calls), abs=1e-9)  # only fits take time
        assert res.elapsed_s <= budget + max(calls) + 1e-9, (res.elapsed_s, max(calls))


def test_value_entry_point_uses_the_fast_path(noisy_cancer):
    X, y, Xt, yt, flipped = noisy_cancer
    res = value(
        X, y, method="banzhaf", model=LogisticRegression(), X_test=Xt, y_test=yt,
        n_samples=300, random_state=0,
    )  # fmt: skip
    assert res.utility_backend == FAST and res.n_fits == 300
    assert res.detect(flipped)["auroc"] > 0.6


# -- sample groups never span chunks ---------------------------------------------------------------
def test_sample_groups_follow_global_ids():
    assert sample_groups([5, 6, 7, 8, 9], 4) == [[5, 6, 7], [8, 9]]
    assert sample_groups([], 4) == []


def _ids_chunk(task):
    ids, _deadline = task
    return [list(ids)], FitLog()


class _Collect:
    def __init__(self):
        self.n = 0
        self.chunks = []

    def add(self, payload):
        self.n += len(payload)
        self.chunks.append(payload)

    def max_stderr(self):
        return float("inf")


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_run_sampling_cuts_chunks_at_multiples_of_the_batch(n_jobs):
    acc = _Collect()
    with joblib.parallel_config(backend="threading"):
        run_sampling(
            _ids_chunk,
            lambda ids, deadline: (ids, deadline),
            acc,
            Budget(n_samples=70),
            start=0.0,
            n_jobs=n_jobs,
            desc="t",
            show_progress=False,
            batch=8,
        )
    ids = [i for c in acc.chunks for i in c]
    assert ids == list(range(70))
    assert all(c[0] % 8 == 0 for c in acc.chunks)
