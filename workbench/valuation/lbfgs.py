"""Batched L-BFGS for multinomial L2 logistic regressions.

Each problem starts from an initial inverse Hessian: the pseudo-inverse of a reference Hessian
(:mod:`workbench.valuation.preconditioner`) or the inverse Hessian diagonal at the start point.
At ``tol >= 1e-6`` the work that dominates an iteration runs in float32 (see
:mod:`workbench.valuation.logistic_batch`); steps are then accepted by the approximate Wolfe test
of :func:`~workbench.valuation.line_search.sufficient_decrease`. The two-loop recursion runs on a
kept matrix of inner products ``s_i . y_j`` instead of one vector update per stored pair.
Problems leave the batch as they converge.
"""

from __future__ import annotations

import numpy as np

from workbench.valuation.line_search import MAX_HALVINGS, sufficient_decrease
from workbench.valuation.logistic_loss import (
    class_gradients,
    class_scores,
    log_softmax_parts,
    multinomial_objective_gradient,
)

__all__ = ["HISTORY", "MAX_LBFGS", "apply_initial_inverse_hessian", "lbfgs_multinomial", "two_loop"]

#: Most L-BFGS iterations per problem.
MAX_LBFGS = 1000
#: Stored (step, gradient change) pairs.
HISTORY = 10


def apply_initial_inverse_hessian(
    q: np.ndarray, H0: np.ndarray | None, scale: np.ndarray
) -> np.ndarray:
    """The initial inverse Hessian times ``q`` for every problem of a batch.

    Parameters
    ----------
    q : numpy.ndarray of shape (B, P)
        Vectors over the ``P`` parameters.
    H0 : numpy.ndarray of shape (P, P) or None
        A dense initial inverse Hessian (shared by the batch), or ``None`` for a diagonal one.
    scale : numpy.ndarray of shape (B, P)
        The diagonal (without ``H0``), or a mask of the present classes' parameters (with it).

    Returns
    -------
    numpy.ndarray of shape (B, P)
        ``scale * q`` without ``H0``, else ``(q @ H0) * scale`` in the precision of ``H0``.
    """
    if H0 is None:
        return scale * q
    return (q.astype(H0.dtype) @ H0) * scale


def two_loop(
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
        The initial inverse Hessian, as for :func:`apply_initial_inverse_hessian`.

    Returns
    -------
    numpy.ndarray of shape (B, P)
    """
    alpha = np.zeros(rho.shape)
    if newest_first:
        sq = np.matmul(S, q[:, :, None])[:, :, 0]
        for i in newest_first:  # alpha_i = rho_i s_i . (q - sum over newer j of alpha_j y_j)
            alpha[:, i] = rho[:, i] * (sq[:, i] - (alpha * A[:, i, :]).sum(1))
        q = q - np.matmul(alpha[:, None, :], Yh)[:, 0, :]
    d = apply_initial_inverse_hessian(q, H0, scale)
    if newest_first:
        yd = np.matmul(Yh, d[:, :, None])[:, :, 0]
        c = np.zeros(rho.shape)
        for i in reversed(newest_first):  # beta_i = rho_i y_i . (d + sum over older j of c_j s_j)
            c[:, i] = alpha[:, i] - rho[:, i] * (yd[:, i] + (c * A[:, :, i]).sum(1))
        d = d + np.matmul(c[:, None, :], S)[:, 0, :]
    return d


def lbfgs_multinomial(
    Xw: np.ndarray,
    Y: np.ndarray,
    w: np.ndarray,
    present: np.ndarray,
    W: np.ndarray,
    *,
    reg: np.ndarray,
    tol: float,
    H0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched L-BFGS on the multinomial objective.

    Stops at scikit-learn's own criterion (largest entry of the gradient divided by the total
    weight <= ``tol``). Problems leave the batch as they converge.

    Parameters
    ----------
    Xw : numpy.ndarray of shape (n, d1) or (B, m, d1)
        Features in the work precision (float32 or float64), shared or per problem.
    Y : numpy.ndarray of shape (1, 1, n) or (B, 1, m)
        Class index of every row.
    w : numpy.ndarray of shape (B, n) or (B, m)
        Row weights.
    present : numpy.ndarray of bool, shape (B, K)
        Classes present in each problem (absent ones get no coefficients).
    W : numpy.ndarray of shape (B, K, d1)
        Start point (not modified).
    reg : numpy.ndarray of shape (d1,)
        Penalty per coefficient, ``1 / C`` (0 for the intercept).
    tol : float
        scikit-learn's tolerance.
    H0 : numpy.ndarray of shape (K * d1, K * d1), optional
        The initial inverse Hessian, in the precision of ``Xw``; without it the inverse
        Hessian diagonal at the start point is used.

    Returns
    -------
    W : numpy.ndarray of shape (B, K, d1)
        Coefficients of each problem.
    converged : numpy.ndarray of bool, shape (B,)
        Whether the tolerance was reached within :data:`MAX_LBFGS` iterations.
    """
    reg = reg[None, None, :]
    B, K, d1 = W.shape
    n_par = K * d1
    out = W.copy()
    converged_out = np.zeros(B, dtype=bool)
    gtol = tol
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
        return multinomial_objective_gradient(
            L, W, w, ww, Yw, Y1, notY, absent, mask, Xw, reg=reg, all_present=all_present
        )

    L = class_scores(Xw.astype(np.float64), W)  # float64 logits of the (work precision) features
    f, G = fgp(L, W, w, ww, Yw, Y1, notY, absent, mask, Xw)
    if H0 is None:  # the Hessian diagonal at the start point
        _, P = log_softmax_parts(L + absent)
        M = class_gradients(Xw.astype(np.float64) ** 2, w[:, None, :] * P * (1.0 - P)) + reg
        Minv = (np.where(M > 0, 1.0 / np.where(M > 0, M, 1.0), 1.0) * mask).reshape(B, -1)
    else:
        Minv = mask.repeat(d1, axis=2).reshape(B, -1)  # masks the product with H0

    gamma = np.ones(B)
    # The last HISTORY pairs (s, y) in a ring buffer, with A[:, i, j] = s_i . y_j.
    S = np.zeros((B, HISTORY, n_par))
    Yh = np.zeros((B, HISTORY, n_par))
    rho = np.zeros((B, HISTORY))
    A = np.zeros((B, HISTORY, HISTORY))
    n_pairs = 0
    for it in range(MAX_LBFGS + 1):
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
        if act.size == 0 or it == MAX_LBFGS:
            break
        nb = act.size
        newest_first = [(n_pairs - j - 1) % HISTORY for j in range(min(n_pairs, HISTORY))]
        scale = gamma[:, None] * Minv  # gamma stays 1 with a dense H0
        d = two_loop(-G.reshape(nb, n_par), S, Yh, rho, A, newest_first, H0, scale)
        d = d.reshape(G.shape)
        slope = (G * d).sum((1, 2))
        bad_dir = slope >= 0
        if bad_dir.any():  # not a descent direction: use the preconditioned gradient
            d[bad_dir] = -apply_initial_inverse_hessian(
                G[bad_dir].reshape(-1, n_par), H0, Minv[bad_dir]
            ).reshape(-1, K, d1)
            slope = (G * d).sum((1, 2))
        dL = class_scores(Xw, d.astype(dt))
        t = np.ones(nb)
        new_W = W + d
        new_L = L + dL
        f_new, G_new = fgp(new_L, new_W, w, ww, Yw, Y1, notY, absent, mask, Xw)
        # The float32 softmax leaves the objective noisy by ~1e-7 per row: accept steps by
        # the approximate Wolfe test there, or the line search stalls near the optimum.
        eps_f = 1e-6 * (np.abs(f) + sw) if dt == np.float32 else None
        bad = ~sufficient_decrease(f_new, f, np.ones(nb), slope, G_new, d, eps_f)
        for _h in range(MAX_HALVINGS):  # backtrack only the problems that need it
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
            bad[b] = ~sufficient_decrease(
                f_b, f[b], t[b], slope[b], G_b, d[b], None if eps_f is None else eps_f[b]
            )
        s_ = (new_W - W).reshape(nb, n_par)
        y_ = (G_new - G).reshape(nb, n_par)
        sy = (s_ * y_).sum(1)
        ok = sy > 1e-12 * np.sqrt((s_ * s_).sum(1) * (y_ * y_).sum(1))
        if H0 is None:  # a diagonal start needs the usual scaling; the Hessian start does not
            yMy = (y_ * apply_initial_inverse_hessian(y_, None, Minv)).sum(1)
            gamma = np.where(ok & (yMy > 0), sy / np.where(yMy > 0, yMy, 1.0), gamma)
        # A pair a problem skipped has rho = 0 and changes nothing.
        p = n_pairs % HISTORY
        S[:, p], Yh[:, p] = s_, y_
        rho[:, p] = np.where(ok, 1.0 / np.where(ok, sy, 1.0), 0.0)
        A[:, p, :] = np.matmul(Yh, s_[:, :, None])[:, :, 0]
        A[:, :, p] = np.matmul(S, y_[:, :, None])[:, :, 0]
        n_pairs += 1
        W, L, f, G = new_W, new_L, f_new, G_new
    if act.size:
        out[act] = W
    return out, converged_out
