"""The initial inverse Hessian of multinomial L-BFGS subset fits, from one reference Hessian.

A subset (or bootstrap) fit on rows with weights has, in expectation, the objective of all rows
with the weights scaled by the subset's share ``c`` of the total weight. The pseudo-inverse of
``c * H_data + penalty``, with ``H_data`` the all-rows Hessian of the multinomial loss at a
reference solution, is then a good initial inverse Hessian for L-BFGS: it only changes the path
to the optimum, never the optimum.
"""

from __future__ import annotations

import numpy as np

from workbench.core.errors import ModelError
from workbench.valuation.logistic_loss import log_softmax_parts

__all__ = ["HessianPreconditioner"]


class HessianPreconditioner:
    """Pseudo-inverses of ``share * H_data + penalty``, cached per share (rounded to 0.1).

    Parameters
    ----------
    X1 : numpy.ndarray of shape (n, d1)
        Features with the intercept column, float64.
    reg : numpy.ndarray of shape (d1,)
        Penalty per coefficient, ``1 / C`` (0 for the intercept).
    n_classes : int
        Number of classes ``K``.
    dtype : numpy.dtype
        Precision of the returned matrices (the solver's work precision).

    Attributes
    ----------
    reference_ : numpy.ndarray of shape (K, d1) or None
        The parameters the data Hessian was computed at (``None`` before :meth:`set_reference`).
    """

    def __init__(self, X1: np.ndarray, reg: np.ndarray, n_classes: int, dtype: np.dtype) -> None:
        self.X1 = X1
        self.reg = reg
        self.n_classes = int(n_classes)
        self.dtype = np.dtype(dtype)
        self.reference_: np.ndarray | None = None
        self._h_data: np.ndarray | None = None
        self._cache: dict[float, np.ndarray] = {}

    def set_reference(self, params: np.ndarray) -> None:
        """Compute the all-rows multinomial Hessian at ``params`` (and drop cached inverses).

        Parameters
        ----------
        params : array-like of shape (K, d1) or (1, K, d1)
            Reference coefficients, e.g. the fit on all rows.
        """
        self.reference_ = np.asarray(params, dtype=np.float64).reshape(
            self.n_classes, self.X1.shape[1]
        )
        self._cache = {}
        X = self.X1
        L = self.reference_ @ X.T
        _, P = log_softmax_parts(L[None])
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

    def inverse(self, share: float) -> np.ndarray:
        """The initial inverse Hessian of subsets holding ``share`` of the total weight.

        Parameters
        ----------
        share : float
            Subset weight divided by the number of rows; rounded to 0.1 (at least 0.01).

        Returns
        -------
        numpy.ndarray of shape (K * d1, K * d1)
            In the precision ``dtype``.
        """
        if self._h_data is None:
            raise ModelError("set_reference must be called before inverse; this is a bug.")
        key = round(share, 1)
        if key not in self._cache:
            reg = np.tile(self.reg, self.n_classes)
            A = max(key, 0.01) * self._h_data + np.diag(reg)
            lam, V = np.linalg.eigh(A)
            keep = lam > 1e-10 * lam.max()
            inv = (V[:, keep] / lam[keep]) @ V[:, keep].T
            self._cache[key] = inv.astype(self.dtype)
        return self._cache[key]
