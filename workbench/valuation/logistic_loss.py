"""The batched L2 logistic objective: feature products, softmax, objective and gradient.

Every function works on a *batch* of problems that share one data set. The features are either
shared by the batch, ``X`` of shape (n, d), or gathered per problem, ``X`` of shape (B, m, d)
(the rows of permutation prefixes or of compacted subsets); the products below pick one large
matrix product for the first case and a batched ``matmul`` for the second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_expit

__all__ = [
    "binary_objective",
    "class_gradients",
    "class_scores",
    "log_softmax_parts",
    "matvec_features",
    "multinomial_objective_gradient",
    "rmatvec_features",
]


def matvec_features(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``X @ V`` for every problem of a batch.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d) or (B, m, d)
        Features shared by the batch, or per problem.
    V : numpy.ndarray of shape (B, d)
        One coefficient vector per problem.

    Returns
    -------
    numpy.ndarray of shape (B, n) or (B, m)
    """
    if X.ndim == 2:
        return V @ X.T  # one large product for the batch
    return np.matmul(X, V[:, :, None])[..., 0]


def rmatvec_features(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``X.T @ R`` for every problem of a batch.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d) or (B, m, d)
        Features shared by the batch, or per problem.
    R : numpy.ndarray of shape (B, n) or (B, m)
        One vector over the rows per problem (e.g. weighted residuals).

    Returns
    -------
    numpy.ndarray of shape (B, d)
    """
    if X.ndim == 2:
        return R @ X
    return np.matmul(R[:, None, :], X)[:, 0, :]


def class_scores(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Class scores (logits) of every row for every problem of a batch.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d) or (B, m, d)
        Features shared by the batch, or per problem.
    W : numpy.ndarray of shape (B, K, d)
        Coefficients of each class per problem.

    Returns
    -------
    numpy.ndarray of shape (B, K, n) or (B, K, m)
    """
    if X.ndim == 2:
        B, K, d = W.shape
        return (W.reshape(B * K, d) @ X.T).reshape(B, K, X.shape[0])
    return np.matmul(W, X.transpose(0, 2, 1))


def class_gradients(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Contract per-class row residuals with the features: ``R @ X`` for every problem.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d) or (B, m, d)
        Features shared by the batch, or per problem.
    R : numpy.ndarray of shape (B, K, n) or (B, K, m)
        One value per class and row (e.g. weighted softmax residuals).

    Returns
    -------
    numpy.ndarray of shape (B, K, d)
    """
    if X.ndim == 2:
        B, K, m = R.shape
        return (R.reshape(B * K, m) @ X).reshape(B, K, X.shape[1])
    return np.matmul(R, X)


def log_softmax_parts(L: np.ndarray, probs: bool = True) -> tuple[np.ndarray, Any]:
    """``logsumexp`` over the class axis 1 and the softmax of class scores.

    Exponentiates directly and redoes the max-shifted computation only where a sum left the
    safe range, which saves two passes over the scores in the common case.

    Parameters
    ----------
    L : numpy.ndarray of shape (B, K, m)
        Class scores; ``-inf`` entries are classes absent from a problem.
    probs : bool, default=True
        Also return the softmax.

    Returns
    -------
    lse : numpy.ndarray of shape (B, m)
        Log of the sum of the exponentiated scores.
    P : numpy.ndarray of shape (B, K, m) or None
        The softmax, when ``probs``.
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


def binary_objective(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray, reg: np.ndarray
) -> np.ndarray:
    """Weighted logistic loss plus the L2 penalty of every binary problem of a batch.

    Parameters
    ----------
    z : numpy.ndarray of shape (B, m)
        Decision values ``X @ beta`` of each problem.
    y : numpy.ndarray of shape (B, m)
        0/1 labels.
    w : numpy.ndarray of shape (B, m)
        Row weights.
    beta : numpy.ndarray of shape (B, d)
        Coefficients (intercept last when the model has one).
    reg : numpy.ndarray of shape (d,)
        Penalty per coefficient, ``1 / C`` (0 for the intercept).

    Returns
    -------
    numpy.ndarray of shape (B,)
    """
    loss = -(y * log_expit(z) + (1.0 - y) * log_expit(-z))
    return (w * loss).sum(1) + 0.5 * (reg * beta * beta).sum(1)


def multinomial_objective_gradient(
    L: np.ndarray,
    W: np.ndarray,
    w: np.ndarray,
    ww: np.ndarray,
    Yw: np.ndarray,
    Y1: np.ndarray,
    notY: np.ndarray,
    absent: np.ndarray,
    mask: np.ndarray,
    Xw: np.ndarray,
    *,
    reg: np.ndarray,
    all_present: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Objective and gradient of every multinomial problem of a batch.

    The softmax runs in the work precision of ``Xw`` on max-shifted scores (each exponential
    accurate to that precision's rounding); the objective accumulates in float64.

    Parameters
    ----------
    L : numpy.ndarray of shape (B, K, m)
        Class scores in float64.
    W : numpy.ndarray of shape (B, K, d1)
        Coefficients.
    w : numpy.ndarray of shape (B, m)
        Row weights, float64.
    ww : numpy.ndarray of shape (B, m)
        Row weights in the work precision.
    Yw : numpy.ndarray of shape (B, 1, K * m)
        Weighted one-hot labels (for the true-class term of the objective).
    Y1, notY : numpy.ndarray of shape (1 or B, K, m)
        One-hot labels and their complement, in the work precision.
    absent : numpy.ndarray of shape (B, K, 1)
        0 for classes present in a problem, ``-inf`` for absent ones.
    mask : numpy.ndarray of shape (B, K, 1)
        1.0 for present classes, 0.0 for absent ones (their gradient is zeroed).
    Xw : numpy.ndarray of shape (m, d1) or (B, m, d1)
        Features in the work precision.
    reg : numpy.ndarray of shape (1, 1, d1)
        Penalty per coefficient.
    all_present : bool
        Whether every class is present in every problem (skips the ``absent`` shift).

    Returns
    -------
    f : numpy.ndarray of shape (B,)
    G : numpy.ndarray of shape (B, K, d1)
    """
    dt = Xw.dtype
    La = L if all_present else L + absent
    mx = La.max(axis=1)
    E = np.exp((La - mx[:, None, :]).astype(dt))
    tot = E.sum(axis=1)
    lse = mx + np.log(tot)
    true = np.matmul(Yw, L.reshape(L.shape[0], -1, 1))[:, 0, 0]  # sum_i w_i L[y_i, i]
    f = (w * lse).sum(1) - true + 0.5 * (reg * W * W).sum((1, 2))
    E *= (ww / tot)[:, None, :]  # w * softmax
    E *= notY
    # The true class gets -w * (sum of the other probabilities): w * (p - 1) without the
    # cancellation of p - 1 when p is close to 1.
    E -= Y1 * E.sum(axis=1)[:, None, :]
    return f, (class_gradients(Xw, E) + reg * W) * mask
