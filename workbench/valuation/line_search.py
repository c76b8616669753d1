"""The step acceptance test shared by the batched Newton and L-BFGS solvers.

Both solvers backtrack (halve the step) per problem until the objective decreases enough: by the
Armijo condition, or, where the objective is computed in float32 and its rounding noise hides
the decrease near the optimum, by Hager and Zhang's approximate Wolfe condition.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARMIJO", "MAX_HALVINGS", "sufficient_decrease"]

#: Armijo constant ``c``: a step must achieve ``c`` times the decrease its slope predicts.
ARMIJO = 1e-4
#: Most step halvings per iteration before a step is taken anyway.
MAX_HALVINGS = 40


def sufficient_decrease(
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

    Parameters
    ----------
    f_new, f : numpy.ndarray of shape (B,)
        Objective after and before the step.
    t : numpy.ndarray of shape (B,)
        Step lengths.
    slope : numpy.ndarray of shape (B,)
        Directional derivative ``G . d`` at the start (negative for a descent direction).
    G_new : numpy.ndarray of shape (B, K, d1)
        Gradient after the step.
    d : numpy.ndarray of shape (B, K, d1)
        Search directions.
    eps_f : numpy.ndarray of shape (B,) or None
        Rounding noise of the objective; ``None`` for the Armijo test alone.

    Returns
    -------
    numpy.ndarray of bool, shape (B,)
    """
    ok = f_new <= f + ARMIJO * t * slope
    if eps_f is None:
        return ok
    approx = (f_new <= f + eps_f) & ((G_new * d).sum((1, 2)) <= (2 * ARMIJO - 1) * slope)
    return ok | approx
