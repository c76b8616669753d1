"""Many LogisticRegression fits at once in numpy: the fast utility path of the valuation methods.

Valuation retrains one model on thousands of subsets. For scikit-learn's default classifier,
``LogisticRegression(solver="lbfgs")`` with an L2 penalty, every subset model minimizes::

    sum_i w_i * logloss(x_i, y_i; W, b) + ||W||^2 / (2 C)        (intercept b unpenalized)

with ``w`` a 0/1 subset mask (or bootstrap counts). Binary problems use the logistic model with
one coefficient vector, problems with three or more classes the multinomial (softmax) model over
the classes present in the subset, exactly as scikit-learn does. This module solves a *batch* of
such problems together: Newton's method with the exact Hessian for binary subsets (a stack of
small ``d x d`` solves) and L-BFGS for multinomial ones (started from the inverse all-data
Hessian, or the Hessian diagonal), both with an Armijo line search, warm-started from a nearby
solution; problems leave the batch as they converge. Binary problems stop when the gradient of
scikit-learn's scaled objective is 100 times below its ``tol``, multinomial ones at ``tol``
itself (scikit-learn's own criterion).
One fit is one subset model solved that far; subsets with one class are failed fits.

Binary problems run in float64. At ``tol >= 1e-6`` a multinomial L-BFGS iteration accumulates
the logits, objective, gradient and search direction in float64 but does the work that dominates
in float32: the two products with the features (the logits advance by float32 products of the
step), the softmax exponentials (on max-shifted logits, so each is accurate to float32 rounding)
and the initial inverse Hessian product. The objective is then noisy by ~1e-7 per row, so steps
are accepted by Hager and Zhang's approximate Wolfe test when the Armijo test cannot resolve the
decrease (plain backtracking stalled near the optimum). Below ``tol = 1e-6`` everything runs in
float64. The L-BFGS two-loop recursion runs on a kept matrix of inner products ``s_i . y_j``
instead of one vector update per stored pair. Measured on 320 standardized digits subsets: 1.5x
the fits per second of an all-float64 version with per-pair updates, the same test accuracy on
319 and one test point of 450 apart on one; at ``tol=1e-6`` every float32 fit reaches a float64
gradient below tol (standardized and raw pixels, tested), and tight-tolerance fits agree with
scikit-learn's to 1e-4 relative (tested).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, log_expit

__all__ = ["BatchedLogistic", "LogisticSpec", "LogisticUtility", "logistic_spec"]

_MAX_NEWTON = 100
_MAX_LBFGS = 1000
_HISTORY = 10
_MAX_HALVINGS = 40
_ARMIJO = 1e-4
# Below this tolerance multinomial iterations run in float64 (see the module docstring).
_FLOAT32_TOL = 1e-6


@dataclass(frozen=True)
class LogisticSpec:
    """The parameters of a LogisticRegression the batched solver reproduces.

    Attributes
    ----------
    C : float
        Inverse regularization strength.
    fit_intercept : bool
        Whether the model has an (unpenalized) intercept.
    tol : float
        scikit-learn's tolerance: its L-BFGS stops when the largest entry of the gradient of the
        objective divided by the subset size is at most ``tol``. The batched multinomial solver
        stops at the same criterion, the binary Newton solver at ``tol / 100``.
    """

    C: float
    fit_intercept: bool
    tol: float


def logistic_spec(model: Any) -> LogisticSpec | None:
    """Return the spec of ``model`` if the batched solver fits the same model, else ``None``.

    Only an unmodified ``sklearn.linear_model.LogisticRegression`` (not a subclass, whose ``fit``
    may differ) with ``solver="lbfgs"``, an L2 penalty, finite ``C``, no class weights and
    ``max_iter >= 100`` qualifies; anything else uses scikit-learn fits.
    """
    from sklearn.linear_model import LogisticRegression

    if type(model) is not LogisticRegression:
        return None
    p = model.get_params(deep=False)
    penalty = p.get("penalty", "l2")
    l1_ratio = p.get("l1_ratio")
    if penalty == "deprecated":  # scikit-learn >= 1.8: the penalty is set through l1_ratio
        if l1_ratio not in (None, 0, 0.0):
            return None
    elif penalty != "l2" or (l1_ratio not in (None, 0, 0.0) and penalty != "l2"):
        return None
    C, tol = p.get("C"), p.get("tol")
    ok = (
        p.get("solver") == "lbfgs"
        and not p.get("dual", False)
        and p.get("class_weight") is None
        and p.get("multi_class", "auto") in ("auto", "multinomial", "deprecated")
        and isinstance(C, numbers.Real)
        and np.isfinite(C)
        and C > 0
        and isinstance(tol, numbers.Real)
        and tol > 0
        and isinstance(p.get("max_iter"), numbers.Integral)
        and p["max_iter"] >= 100
    )
    if not ok:
        return None
    return LogisticSpec(C=float(C), fit_intercept=bool(p["fit_intercept"]), tol=float(tol))


def _xv(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``X @ V`` per problem: X (n, d) shared or (B, m, d); V (B, d) -> (B, m)."""
    if X.ndim == 2:
        return V @ X.T  # one large product for the batch
    return np.matmul(X, V[:, :, None])[..., 0]


def _xtr(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``X.T @ R`` per problem: X (n, d) shared or (B, m, d); R (B, m) -> (B, d)."""
    if X.ndim == 2:
        return R @ X
    return np.matmul(R[:, None, :], X)[:, 0, :]


def _wx(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Class scores per problem: W (B, K, d) with X (n, d) or (B, m, d) -> (B, K, m)."""
    if X.ndim == 2:
        B, K, d = W.shape
        return (W.reshape(B * K, d) @ X.T).reshape(B, K, X.shape[0])
    return np.matmul(W, X.transpose(0, 2, 1))


def _rx(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Gradient contraction per problem: R (B, K, m) with X -> (B, K, d)."""
    if X.ndim == 2:
        B, K, m = R.shape
        return (R.reshape(B * K, m) @ X).reshape(B, K, X.shape[1])
    return np.matmul(R, X)


def _log_softmax_parts(L: np.ndarray, probs: bool = True) -> tuple[np.ndarray, Any]:
    """``logsumexp`` over the class axis 1 (``-inf`` entries are absent classes) and the softmax.

    Exponentiates directly and redoes the max-shifted computation only where a sum left the
    safe range, which saves two passes over the scores in the common case.
    """
    with np.errstate(over="ignore", under="ignore"):
        E = np.exp(L)
    tot = E.sum(axis=1, keepdims=True)
    if not ((tot > 1e-280) & (tot < 1e280)).all():
        m = L.max(axis=1, keepdims=True)
        E = np.exp(L - m)
        tot = E.sum(axis=1, keepdims=True)
        lse = (m + np.log(tot))[:, 0, :]
    else:
        lse = np.log(tot)[:, 0, :]
    if probs:
        E /= tot
        return lse, E
    return lse, None


def _apply_h0(q: np.ndarray, H0: np.ndarray | None, scale: np.ndarray) -> np.ndarray:
    """The initial inverse Hessian times ``q`` (B, P): ``scale * q`` without a dense ``H0``,
    else ``(q @ H0) * scale`` in the precision of ``H0`` (``scale`` masks absent classes)."""
    if H0 is None:
        return scale * q
    return (q.astype(H0.dtype) @ H0) * scale


def _decrease_ok(
    f_new: np.ndarray,
    f: np.ndarray,
    t: np.ndarray,
    slope: np.ndarray,
    G_new: np.ndarray,
    d: np.ndarray,
    eps_f: np.ndarray | None,
) -> np.ndarray:
    """Whether step ``t * d`` decreases the objective enough, per problem.

    The Armijo test ``f_new <= f + c * t * slope``; with ``eps_f`` (the objective's rounding
    noise) also Hager and Zhang's approximate Wolfe test, which judges the decrease from the
    directional derivatives when the objective alone cannot resolve it: ``f_new <= f + eps_f``
    and ``G_new . d <= (2c - 1) * slope``.
    """
    ok = f_new <= f + _ARMIJO * t * slope
    if eps_f is None:
        return ok
    approx = (f_new <= f + eps_f) & ((G_new * d).sum((1, 2)) <= (2 * _ARMIJO - 1) * slope)
    return ok | approx


def _two_loop(
    q: np.ndarray,
    S: np.ndarray,
    Yh: np.ndarray,
    rho: np.ndarray,
    A: np.ndarray,
    newest_first: list[int],
    H0: np.ndarray | None,
    scale: np.ndarray,
) -> np.ndarray:
    """The L-BFGS direction ``H q`` for a batch, from the stored pairs in a few products.

    The classic two-loop recursion updates ``q`` once per pair; written with the inner
    products ``A[:, i, j] = s_i . y_j`` (kept up to date as pairs are added), both loops run on
    the scalar coefficients only, and ``q`` and the result take one batched product each.

    Parameters
    ----------
    q : numpy.ndarray of shape (B, P)
    S, Yh : numpy.ndarray of shape (B, m, P)
        Steps and gradient changes (ring buffer slots).
    rho : numpy.ndarray of shape (B, m)
        ``1 / (s_i . y_i)``, 0 for empty slots and skipped pairs.
    A : numpy.ndarray of shape (B, m, m)
    newest_first : list of int
        Filled slots, newest first.
    H0, scale
        The initial inverse Hessian, as for :func:`_apply_h0`.
    """
    alpha = np.zeros(rho.shape)
    if newest_first:
        sq = np.matmul(S, q[:, :, None])[:, :, 0]
        for i in newest_first:  # alpha_i = rho_i s_i . (q - sum over newer j of alpha_j y_j)
            alpha[:, i] = rho[:, i] * (sq[:, i] - (alpha * A[:, i, :]).sum(1))
        q = q - np.matmul(alpha[:, None, :], Yh)[:, 0, :]
    d = _apply_h0(q, H0, scale)
    if newest_first:
        yd = np.matmul(Yh, d[:, :, None])[:, :, 0]
        c = np.zeros(rho.shape)
        for i in reversed(newest_first):  # beta_i = rho_i y_i . (d + sum over older j of c_j s_j)
            c[:, i] = alpha[:, i] - rho[:, i] * (yd[:, i] + (c * A[:, :, i]).sum(1))
        d = d + np.matmul(c[:, None, :], S)[:, 0, :]
    return d


class BatchedLogistic:
    """Fit many L2 logistic regressions on weighted rows of one data set at once.

    Parameters
    ----------
    spec : LogisticSpec
        The model's parameters (from :func:`logistic_spec`).
    X : numpy.ndarray of shape (n, d)
        Training features.
    y : numpy.ndarray of shape (n,)
        Training labels (any sortable labels; classes are those of ``y``).

    Attributes
    ----------
    classes_ : numpy.ndarray
        Sorted labels of ``y``.
    codes_ : numpy.ndarray of shape (n,)
        Index of each row's label in ``classes_``.
    X1_ : numpy.ndarray of shape (n, d + fit_intercept)
        Features with a column of ones for the intercept.
    """

    def __init__(self, spec: LogisticSpec, X: np.ndarray, y: np.ndarray) -> None:
        self.spec = spec
        self.classes_, self.codes_ = np.unique(y, return_inverse=True)
        self.codes_ = self.codes_.astype(np.intp)
        self.X1_ = self.design(X)
        # Precision of the bulk of a multinomial iteration: float32 unless the tolerance asks
        # for gradients finer than float32 sums resolve.
        self.work_dtype_ = np.dtype(np.float32 if spec.tol >= _FLOAT32_TOL else np.float64)
        self.X1w_ = self.X1_.astype(self.work_dtype_)
        d1 = self.X1_.shape[1]
        self.reg_ = np.full(d1, 1.0 / spec.C)
        if spec.fit_intercept:
            self.reg_[-1] = 0.0
        self.n_classes_ = self.classes_.size
        self.onehot_ = np.eye(self.n_classes_)[self.codes_]
        self.reference_: np.ndarray | None = None
        self._precond: dict[float, np.ndarray] = {}

    def set_reference(self, params: np.ndarray) -> None:
        """Use the multinomial Hessian at ``params`` (all rows) to precondition subset fits.

        Subset fits on all rows with weights (subset masks, bootstrap counts) then use the
        pseudo-inverse of ``c * H_data + penalty`` (``c`` the subset's share of the weight) as
        the initial inverse Hessian of L-BFGS. It only changes the path to the optimum.
        """
        self.reference_ = np.asarray(params, dtype=np.float64).reshape(
            self.n_classes_, self.X1_.shape[1]
        )
        self._precond = {}
        X = self.X1_
        L = self.reference_ @ X.T
        _, P = _log_softmax_parts(L[None])
        P = P[0]  # (K, n)
        K, d1 = self.reference_.shape
        H = np.zeros((K, d1, K, d1))
        for k in range(K):
            for m in range(k, K):
                c = P[k] * ((k == m) - P[m])
                block = (X * c[:, None]).T @ X
                H[k, :, m, :] = block
                H[m, :, k, :] = block.T
        self._h_data = H.reshape(K * d1, K * d1)

    def _preconditioner(self, share: float) -> np.ndarray:
        key = round(share, 1)
        if key not in self._precond:
            reg = np.tile(self.reg_, self.n_classes_)
            A = max(key, 0.01) * self._h_data + np.diag(reg)
            lam, V = np.linalg.eigh(A)
            keep = lam > 1e-10 * lam.max()
            inv = (V[:, keep] / lam[keep]) @ V[:, keep].T
            self._precond[key] = inv.astype(self.work_dtype_)
        return self._precond[key]

    def design(self, X: np.ndarray) -> np.ndarray:
        """Features of ``X`` with the intercept column appended when the model has one."""
        X = np.asarray(X, dtype=np.float64)
        if self.spec.fit_intercept:
            return np.hstack([X, np.ones((X.shape[0], 1))])
        return np.ascontiguousarray(X)

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        weights: np.ndarray,
        init: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        precondition: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Solve one problem per row of ``weights``.

        Parameters
        ----------
        weights : numpy.ndarray of shape (B, n) or (B, m)
            Row weights of each problem (0/1 subset masks, bootstrap counts).
        init : numpy.ndarray of shape (B, K, d1), optional
            Warm start (any values; rows of absent classes are ignored).
        rows : numpy.ndarray of shape (B, m), optional
            Row indices of each problem; then ``weights`` is (B, m) and applies to those rows
            (used for permutation prefixes). Without it every problem uses all ``n`` rows.
        precondition : bool, default=True
            Start multinomial L-BFGS from the reference Hessian (see :meth:`set_reference`)
            when one is set; otherwise from the Hessian diagonal.

        Returns
        -------
        params : numpy.ndarray of shape (B, K, d1)
            Coefficients (intercept last) per class; a binary problem stores its vector in the
            row of its higher class and zeros in the other.
        present : numpy.ndarray of bool, shape (B, K)
            Classes with positive weight in each problem (the ones it can predict). Problems
            with fewer than two are not fitted: failed fits.
        converged : numpy.ndarray of bool, shape (B,)
            Whether the gradient tolerance was reached within the iteration limits.
        """
        w = np.asarray(weights, dtype=np.float64)
        B = w.shape[0]
        K, d1 = self.n_classes_, self.X1_.shape[1]
        codes = self.codes_ if rows is None else self.codes_[rows]
        if rows is None:
            counts = w @ self.onehot_
        else:
            counts = np.einsum("bm,bmk->bk", w, self.onehot_[rows])
        present = counts > 0
        n_present = present.sum(1)
        params = np.zeros((B, K, d1))
        converged = np.zeros(B, dtype=bool)
        W0 = np.zeros((B, K, d1)) if init is None else np.asarray(init, dtype=np.float64)
        binary = np.flatnonzero(n_present == 2)
        multi = np.flatnonzero(n_present >= 3)
        if binary.size:
            hi = K - 1 - np.argmax(present[binary, ::-1], axis=1)  # the higher class present
            X = self.X1_ if rows is None else self.X1_[rows[binary]]
            c = codes if rows is None else codes[binary]
            y01 = (c == hi[:, None]).astype(np.float64)
            beta, conv = self._newton_binary(X, y01, w[binary], W0[binary, hi])
            params[binary, hi] = beta
            converged[binary] = conv
        if multi.size:
            Xw = self.X1w_ if rows is None else self.X1w_[rows[multi]]
            if rows is None:
                Y = self.codes_[None, None, :]  # labels (1, 1, n), broadcast over problems
            else:
                Y = codes[multi][:, None, :]
            pm = present[multi]
            H0 = None
            if precondition and self.reference_ is not None:
                n = self.codes_.size
                H0 = self._preconditioner(float(np.median(w[multi].sum(1))) / n)
            Wm, conv = self._lbfgs_multi(Xw, Y, w[multi], pm, W0[multi] * pm[:, :, None], H0)
            params[multi] = Wm
            converged[multi] = conv
        return params, present, converged

    def _newton_binary(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batched Newton with an Armijo line search (stops 100x below the tolerance)."""
        reg = self.reg_
        beta = beta.copy()
        sw = w.sum(1)
        B, d1 = beta.shape
        gtol = self.spec.tol / 100
        ridge = np.diag(reg) + 1e-10 * np.eye(d1)  # the tiny ridge only steadies the solve
        z = _xv(X, beta)
        f = self._f_binary(z, y, w, beta)
        converged = np.zeros(B, dtype=bool)
        for _ in range(_MAX_NEWTON):
            p = expit(z)
            g = _xtr(X, w * (p - y)) + reg * beta
            converged = np.abs(g).max(1) / sw <= gtol
            if converged.all():
                break
            Xs = X * (w * p * (1.0 - p))[:, :, None]
            H = np.matmul(Xs.transpose(0, 2, 1), X) + ridge
            step = np.linalg.solve(H, g[:, :, None])[..., 0]
            step[converged] = 0.0
            dz = _xv(X, step)
            slope = -(g * step).sum(1)
            t = np.ones(B)
            for _h in range(_MAX_HALVINGS):
                new_beta = beta - t[:, None] * step
                new_z = z - t[:, None] * dz
                f_new = self._f_binary(new_z, y, w, new_beta)
                bad = (f_new > f + _ARMIJO * t * slope) & ~converged
                if not bad.any():
                    break
                t = np.where(bad, 0.5 * t, t)
            keep = ~converged
            beta[keep] = new_beta[keep]
            z[keep] = new_z[keep]
            f[keep] = f_new[keep]
        return beta, converged

    def _f_binary(
        self, z: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
    ) -> np.ndarray:
        loss = -(y * log_expit(z) + (1.0 - y) * log_expit(-z))
        return (w * loss).sum(1) + 0.5 * (self.reg_ * beta * beta).sum(1)

    def _lbfgs_multi(
        self,
        Xw: np.ndarray,
        Y: np.ndarray,
        w: np.ndarray,
        present: np.ndarray,
        W: np.ndarray,
        H0: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batched L-BFGS on the multinomial objective.

        ``Xw`` holds the features in the work precision, shared (n, d1) or per problem
        (B, m, d1), and ``Y`` the labels, (1, 1, n) or (B, 1, m). ``H0`` (same precision) is the
        initial inverse Hessian; without it the inverse Hessian diagonal at the start point is
        used. Stops at
        scikit-learn's own criterion (largest entry of the scaled gradient <= tol). Problems
        leave the batch as they converge.
        """
        reg = self.reg_[None, None, :]
        B, K, d1 = W.shape
        n_par = K * d1
        out = W.copy()
        converged_out = np.zeros(B, dtype=bool)
        gtol = self.spec.tol
        shared = Xw.ndim == 2
        dt = Xw.dtype
        act = np.arange(B)
        W = W.copy()
        sw = w.sum(1)
        mask = present[:, :, None].astype(np.float64)
        absent = np.where(present, 0.0, -np.inf)[:, :, None]
        all_present = bool(present.all())
        ww = w.astype(dt)
        onehot = np.arange(K)[None, :, None] == Y  # (1 or B, K, n or m)
        Y1, notY = onehot.astype(dt), (~onehot).astype(dt)
        Yw = (onehot * w[:, None, :]).reshape(B, 1, -1)  # weighted one-hot, for the objective

        def fgp(L, W, w, ww, Yw, Y1, notY, absent, mask, Xw):
            """Objective and gradient; softmax in the work precision on max-shifted scores."""
            La = L if all_present else L + absent
            mx = La.max(axis=1)
            E = np.exp((La - mx[:, None, :]).astype(dt))
            tot = E.sum(axis=1)
            lse = mx + np.log(tot)
            true = np.matmul(Yw, L.reshape(L.shape[0], -1, 1))[:, 0, 0]  # sum_i w_i L[y_i, i]
            f = (w * lse).sum(1) - true + 0.5 * (reg * W * W).sum((1, 2))
            E *= (ww / tot)[:, None, :]  # w * softmax
            E *= notY
            # The true class gets -w * (sum of the other probabilities): w * (p - 1) without
            # the cancellation of p - 1 when p is close to 1.
            E -= Y1 * E.sum(axis=1)[:, None, :]
            return f, (_rx(Xw, E) + reg * W) * mask

        L = _wx(Xw.astype(np.float64), W)  # float64 logits of the (work precision) features
        f, G = fgp(L, W, w, ww, Yw, Y1, notY, absent, mask, Xw)
        if H0 is None:  # the Hessian diagonal at the start point
            _, P = _log_softmax_parts(L + absent)
            M = _rx(Xw.astype(np.float64) ** 2, w[:, None, :] * P * (1.0 - P)) + reg
            Minv = (np.where(M > 0, 1.0 / np.where(M > 0, M, 1.0), 1.0) * mask).reshape(B, -1)
        else:
            Minv = mask.repeat(d1, axis=2).reshape(B, -1)  # masks the product with H0

        gamma = np.ones(B)
        # The last _HISTORY pairs (s, y) in a ring buffer, with A[:, i, j] = s_i . y_j.
        S = np.zeros((B, _HISTORY, n_par))
        Yh = np.zeros((B, _HISTORY, n_par))
        rho = np.zeros((B, _HISTORY))
        A = np.zeros((B, _HISTORY, _HISTORY))
        n_pairs = 0
        for it in range(_MAX_LBFGS + 1):
            conv = np.abs(G).max((1, 2)) / sw <= gtol
            if conv.any():
                out[act[conv]] = W[conv]
                converged_out[act[conv]] = True
                k = ~conv
                act, W, L, G, f, sw, w, ww, Yw, mask, absent, Minv, gamma = (
                    a[k] for a in (act, W, L, G, f, sw, w, ww, Yw, mask, absent, Minv, gamma)
                )
                S, Yh, rho, A = S[k], Yh[k], rho[k], A[k]
                if not shared:
                    Xw, Y1, notY = Xw[k], Y1[k], notY[k]
            if act.size == 0 or it == _MAX_LBFGS:
                break
            nb = act.size
            newest_first = [(n_pairs - j - 1) % _HISTORY for j in range(min(n_pairs, _HISTORY))]
            scale = gamma[:, None] * Minv  # gamma stays 1 with a dense H0
            d = _two_loop(-G.reshape(nb, n_par), S, Yh, rho, A, newest_first, H0, scale)
            d = d.reshape(G.shape)
            slope = (G * d).sum((1, 2))
            bad_dir = slope >= 0
            if bad_dir.any():  # not a descent direction: use the preconditioned gradient
                d[bad_dir] = -_apply_h0(G[bad_dir].reshape(-1, n_par), H0, Minv[bad_dir]).reshape(
                    -1, K, d1
                )
                slope = (G * d).sum((1, 2))
            dL = _wx(Xw, d.astype(dt))
            t = np.ones(nb)
            new_W = W + d
            new_L = L + dL
            f_new, G_new = fgp(new_L, new_W, w, ww, Yw, Y1, notY, absent, mask, Xw)
            # The float32 softmax leaves the objective noisy by ~1e-7 per row: accept steps by
            # the approximate Wolfe test there, or the line search stalls near the optimum.
            eps_f = 1e-6 * (np.abs(f) + sw) if dt == np.float32 else None
            bad = ~_decrease_ok(f_new, f, np.ones(nb), slope, G_new, d, eps_f)
            for _h in range(_MAX_HALVINGS):  # backtrack only the problems that need it
                if not bad.any():
                    break
                b = np.flatnonzero(bad)
                t[b] *= 0.5
                tb = t[b][:, None, None]
                new_W[b] = W[b] + tb * d[b]
                new_L[b] = L[b] + tb * dL[b]
                f_b, G_b = fgp(
                    new_L[b],
                    new_W[b],
                    w[b],
                    ww[b],
                    Yw[b],
                    Y1 if shared else Y1[b],
                    notY if shared else notY[b],
                    absent[b],
                    mask[b],
                    Xw if shared else Xw[b],
                )
                f_new[b] = f_b
                G_new[b] = G_b
                bad[b] = ~_decrease_ok(
                    f_b, f[b], t[b], slope[b], G_b, d[b], None if eps_f is None else eps_f[b]
                )
            s_ = (new_W - W).reshape(nb, n_par)
            y_ = (G_new - G).reshape(nb, n_par)
            sy = (s_ * y_).sum(1)
            ok = sy > 1e-12 * np.sqrt((s_ * s_).sum(1) * (y_ * y_).sum(1))
            if H0 is None:  # a diagonal start needs the usual scaling; the Hessian start does not
                yMy = (y_ * _apply_h0(y_, None, Minv)).sum(1)
                gamma = np.where(ok & (yMy > 0), sy / np.where(yMy > 0, yMy, 1.0), gamma)
            # A pair a problem skipped has rho = 0 and changes nothing.
            p = n_pairs % _HISTORY
            S[:, p], Yh[:, p] = s_, y_
            rho[:, p] = np.where(ok, 1.0 / np.where(ok, sy, 1.0), 0.0)
            A[:, p, :] = np.matmul(Yh, s_[:, :, None])[:, :, 0]
            A[:, :, p] = np.matmul(S, y_[:, :, None])[:, :, 0]
            n_pairs += 1
            W, L, f, G = new_W, new_L, f_new, G_new
        if act.size:
            out[act] = W
        return out, converged_out

    # -- prediction -----------------------------------------------------------------------------
    def predict_codes(self, params: np.ndarray, X1: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Predicted class indices of rows ``X1`` (from :meth:`design`) for every problem.

        Parameters
        ----------
        params : numpy.ndarray of shape (B, K, d1)
        X1 : numpy.ndarray of shape (q, d1)
        present : numpy.ndarray of bool, shape (B, K)
            Classes each problem was fitted on (the only ones it can predict).

        Returns
        -------
        numpy.ndarray of shape (B, q)
            As scikit-learn: a binary model predicts its higher class iff the decision is > 0,
            a multinomial one the first class of largest score.
        """
        L = _wx(X1, params) + np.where(present, 0.0, -np.inf)[:, :, None]
        return np.argmax(L, axis=1)


def _compact(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices and weights of the positive-weight rows of each problem, zero-padded."""
    pos = weights > 0
    m = max(1, int(pos.sum(1).max()))
    order = np.argsort(~pos, axis=1, kind="stable")[:, :m]  # positive rows first, in order
    w = np.take_along_axis(weights, order, axis=1)
    return order, w


class LogisticUtility:
    """Accuracy of batched LogisticRegression fits on the test data: the fast utility path.

    Parameters
    ----------
    spec : LogisticSpec
    X, y : numpy.ndarray
        Training data.
    X_test, y_test : numpy.ndarray or None
        Test data the accuracy is measured on.
    default_score : float
        Utility of empty subsets and failed fits.

    Attributes
    ----------
    solver : BatchedLogistic
    """

    name = "numpy-batched-logistic"

    def __init__(
        self,
        spec: LogisticSpec,
        X: np.ndarray,
        y: np.ndarray,
        X_test: np.ndarray | None,
        y_test: np.ndarray | None,
        default_score: float,
    ) -> None:
        self.solver = BatchedLogistic(spec, X, y)
        self.X1_test = None if X_test is None else self.solver.design(X_test)
        self.y_test = None if y_test is None else np.asarray(y_test)
        self.default_score = float(default_score)
        self._full: np.ndarray | None = None
        self.warm_: np.ndarray | None = None
        # Problems solved together: cheap binary problems in larger batches.
        self.batch_size = 32 if self.solver.n_classes_ <= 2 else 16

    def prepare(self, share: float | None = None) -> None:
        """Build the warm start (and preconditioner) of subsets holding ``share`` of the data.

        A random subset with a share ``s`` of the points has, in expectation, the objective of
        all points with ``C * s``; its solution is the warm start of every subset fit, and for
        multinomial models the Hessian there preconditions L-BFGS. Done once, before the work
        is shipped to workers.
        """
        from workbench.valuation.utility import single_threaded

        with single_threaded():
            self.full_params()
            if share is None:
                return
            share = float(np.clip(share, 0.01, 1.0))
            spec = self.solver.spec
            n = self.solver.codes_.size
            if abs(share - 1.0) < 1e-9:
                warm = self.full_params()
            else:
                scaled = LogisticSpec(
                    C=spec.C * share, fit_intercept=spec.fit_intercept, tol=spec.tol
                )
                helper = BatchedLogistic(
                    scaled,
                    self.solver.X1_[:, :-1] if spec.fit_intercept else self.solver.X1_,
                    self.solver.classes_[self.solver.codes_],
                )
                warm = helper.fit(np.ones((1, n)))[0]
            self.warm_ = warm
            if self.solver.n_classes_ > 2:
                self.solver.set_reference(warm)
                self.solver._preconditioner(share)

    def full_params(self) -> np.ndarray:
        """Parameters fitted on all training points (the default warm start of subset fits)."""
        if self._full is None:
            n = self.solver.codes_.size
            self._full = self.solver.fit(np.ones((1, n)))[0]
        return self._full

    def warm_start(self) -> np.ndarray:
        """The warm start of subset fits: from :meth:`prepare`, else the all-data fit."""
        return self.full_params() if self.warm_ is None else self.warm_

    def fit(
        self,
        weights: np.ndarray,
        log: Any,
        init: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        precondition: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit every non-empty problem, logging fits, single-class failures and non-convergence.

        Without ``rows``, each problem is reduced to its rows of positive weight (padded with
        zero weights to the longest in the batch): the same objective on fewer rows.
        Returns ``params``, ``present`` and ``fitted`` (problems with at least two classes).
        """
        weights = np.asarray(weights, dtype=np.float64)
        nonempty = weights.sum(1) > 0
        if rows is None and self.solver.n_classes_ > 2:
            rows, weights = _compact(weights)
        params, present, converged = self.solver.fit(
            weights, init=init, rows=rows, precondition=precondition
        )
        fitted = present.sum(1) >= 2
        log.n_fits += int(nonempty.sum())
        n_single = int((nonempty & ~fitted).sum())
        if n_single:
            log.failures["subset has a single class"] += n_single
        log.n_warned += int((fitted & ~converged).sum())
        return params, present, fitted

    def accuracy(self, params: np.ndarray, present: np.ndarray, fitted: np.ndarray) -> np.ndarray:
        """Test accuracy of each problem; ``default_score`` where it was not fitted."""
        pred = self.solver.classes_[self.solver.predict_codes(params, self.X1_test, present)]
        acc = (pred == self.y_test[None, :]).mean(1)
        return np.where(fitted, acc, self.default_score)

    def score_weights(self, weights: np.ndarray, log: Any, warm: bool = True) -> np.ndarray:
        """Utilities of the weighted subsets (rows of ``weights``), warm-started from all data."""
        weights = np.asarray(weights, dtype=np.float64)
        init = np.repeat(self.warm_start(), weights.shape[0], axis=0) if warm else None
        params, present, fitted = self.fit(weights, log, init=init)
        return self.accuracy(params, present, fitted)

    def predict_train(self, params: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Predicted labels of every training point, shape (B, n)."""
        return self.solver.classes_[self.solver.predict_codes(params, self.solver.X1_, present)]
