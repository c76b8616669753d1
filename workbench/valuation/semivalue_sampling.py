"""The sampling loops of the retraining methods: leave-one-out, permutations, random subsets.

Each loop is a module-level function that joblib ships to a worker with one task (a chunk of
sample ids) and returns one payload per completed sample with the fits it made. Sample ``s``
draws its randomness from ``numpy.random.default_rng([entropy, s])``, so the payloads do not
depend on the chunking. On the fast path (a batched LogisticRegression utility) a group of
samples is solved together; the groups are those of
:func:`~workbench.valuation.sampling.sample_groups`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.valuation.sampling import MeanAccumulator, sample_groups
from workbench.valuation.utility import FitLog, Utility, single_threaded

__all__ = ["MSRAccumulator", "loo_chunk", "msr_chunk", "permutation_chunk"]


def loo_chunk(task: tuple[Utility, list[int]]) -> tuple[list[float], FitLog]:
    """Leave-one-out utilities of a chunk of points (a joblib task).

    Parameters
    ----------
    task : tuple
        ``(utility, point_ids)``.

    Returns
    -------
    utilities : list of float
        Utility of the training set without each point, in the order of ``point_ids``.
    log : FitLog
        The fits of this chunk.
    """
    util, ids = task
    log = FitLog()
    everyone = np.arange(util.n)
    with single_threaded():
        return [util.score(np.delete(everyone, i), log) for i in ids], log


def permutation_chunk(task: tuple[Any, ...]) -> tuple[list[Any], FitLog]:
    """Marginal contributions along a chunk of random permutations (a joblib task).

    Parameters
    ----------
    task : tuple
        ``(utility, sample_ids, entropy, weights, truncation_rtol, burn_in_fraction,
        full_utility, deadline, keep_partial)``; permutation ``s`` is drawn from
        ``numpy.random.default_rng([entropy, s])`` and ``weights`` (Beta Shapley's, or None)
        weight each contribution by its position.

    Returns
    -------
    payloads : list of tuple
        ``(values, mask)`` per permutation kept, for
        :meth:`~workbench.valuation.sampling.MeanAccumulator.add`.
    log : FitLog
        The fits of this chunk.
    """
    with single_threaded():
        if task[0].fast is not None:
            return _permutations_batched(*task)
        return _permutations(*task)


def _permutation_entry(
    marg: np.ndarray,
    perm: np.ndarray,
    done: int,
    complete: bool,
    weights: np.ndarray | None,
    keep_partial: bool,
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """One permutation's marginals as ``(values, mask)``: weighted by position (Beta Shapley),
    ``mask=None`` when it finished; its evaluated prefix when it was cut and ``keep_partial``;
    else None (dropped)."""
    n = marg.size
    if weights is not None:
        pos = np.empty(n, dtype=np.intp)
        pos[perm] = np.arange(n)
        marg = marg * weights[pos]
    if complete:
        return marg, None
    if keep_partial and done:
        mask = np.zeros(n, dtype=bool)
        mask[perm[:done]] = True
        return marg[mask], mask
    return None


def _permutations_batched(
    util: Utility,
    ids: list[int],
    entropy: int,
    weights: np.ndarray | None,
    rtol: float,
    burn_in: float,
    u_full: float,
    deadline: float | None,
    keep_partial: bool = False,
) -> tuple[list[Any], FitLog]:
    """:func:`_permutations` on the fast path: a group of permutations advances in lockstep.

    At step ``k`` every unfinished permutation of the group fits its first ``k + 1`` points,
    warm-started from its own fit at step ``k``; truncated permutations leave the group. Same
    permutations, truncation rule and marginal contributions as the one-by-one loop.
    """
    fast = util.fast
    log = FitLog()
    out: list[Any] = []
    n = util.n
    burn = int(burn_in * n)
    K, d1 = fast.solver.n_classes_, fast.solver.X1_.shape[1]
    for group in sample_groups(ids, util.batch_size):
        if deadline is not None and time.time() >= deadline:
            break
        perms = np.stack([np.random.default_rng([entropy, s]).permutation(n) for s in group])
        B = len(group)
        marg = np.zeros((B, n))
        prev = np.full(B, float(util.default_score))
        done = np.zeros(B, dtype=int)
        active = np.ones(B, dtype=bool)
        params = np.zeros((B, K, d1))
        cut = False
        for k in range(n):
            if deadline is not None and time.time() >= deadline:
                cut = True
                break
            a = np.flatnonzero(active)
            rows = perms[a, : k + 1]
            p, present, fitted = fast.fit(
                np.ones(rows.shape), log, init=params[a], rows=rows, precondition=False
            )
            u = fast.accuracy(p, present, fitted)
            params[a] = p
            marg[a, perms[a, k]] = u - prev[a]
            prev[a] = u
            done[a] = k + 1
            if k >= burn:
                active[a[np.abs(u - u_full) <= rtol * abs(u_full)]] = False
            if not active.any():
                break
        for j in range(B):
            complete = not active[j] or done[j] == n
            entry = _permutation_entry(marg[j], perms[j], done[j], complete, weights, keep_partial)
            if entry is not None:
                out.append(entry)
        if cut:
            break
    return out, log


def _permutations(
    util: Utility,
    ids: list[int],
    entropy: int,
    weights: np.ndarray | None,
    rtol: float,
    burn_in: float,
    u_full: float,
    deadline: float | None,
    keep_partial: bool = False,
) -> tuple[list[Any], FitLog]:
    log = FitLog()
    out: list[Any] = []
    n = util.n
    burn = int(burn_in * n)
    for s in ids:
        if deadline is not None and time.time() >= deadline:
            break
        perm = np.random.default_rng([entropy, s]).permutation(n)
        marg = np.zeros(n)
        prev = float(util.default_score)
        complete = True
        done = 0
        for k in range(n):
            # By default an unfinished permutation is dropped: its evaluated prefix holds only
            # small subsets, so keeping it biases values toward small-subset contributions.
            if deadline is not None and time.time() >= deadline:
                complete = False
                break
            done = k + 1
            u = util.score(perm[: k + 1], log)
            marg[perm[k]] = u - prev
            prev = u
            if k >= burn and abs(u - u_full) <= rtol * abs(u_full):
                break  # truncation: the rest contribute (almost) nothing
        entry = _permutation_entry(marg, perm, done, complete, weights, keep_partial)
        if entry is not None:
            out.append(entry)
        if not complete:
            break
    return out, log


def msr_chunk(task: tuple[Any, ...]) -> tuple[list[Any], FitLog]:
    """Utilities of a chunk of random subsets, each point in with probability 1/2 (a joblib task).

    Parameters
    ----------
    task : tuple
        ``(utility, sample_ids, entropy, deadline)``; subset ``s`` is drawn from
        ``numpy.random.default_rng([entropy, s])``.

    Returns
    -------
    payloads : list of tuple
        ``(mask, utility)`` per subset, for :meth:`MSRAccumulator.add`.
    log : FitLog
        The fits of this chunk.
    """
    util, ids, entropy, deadline = task
    log = FitLog()
    out: list[Any] = []
    n = util.n
    with single_threaded():
        if util.fast is not None:
            for group in sample_groups(ids, util.batch_size):
                if deadline is not None and time.time() >= deadline:
                    break
                masks = np.stack(
                    [np.random.default_rng([entropy, s]).random(n) < 0.5 for s in group]
                )
                us = util.fast.score_weights(masks.astype(np.float64), log)
                out.extend(zip(masks, us.tolist(), strict=True))
            return out, log
        for s in ids:
            if deadline is not None and time.time() >= deadline:
                break
            mask = np.random.default_rng([entropy, s]).random(n) < 0.5
            out.append((mask, util.score(np.flatnonzero(mask), log)))
    return out, log


class MSRAccumulator:
    """Means and variances of the utility over samples that contain / omit each point.

    Parameters
    ----------
    n_points : int
        Number of points.

    Attributes
    ----------
    n : int
        Samples added.
    inside, outside : MeanAccumulator
        Utility statistics of the samples that contain / omit each point.
    """

    def __init__(self, n_points: int) -> None:
        self.n = 0
        self.inside = MeanAccumulator(n_points)
        self.outside = MeanAccumulator(n_points)

    def add(self, payload: tuple[np.ndarray, float]) -> None:
        """Add one sample: ``(mask of the points in the subset, its utility)``."""
        mask, u = payload
        self.n += 1
        self.inside.add_constant(u, mask)
        self.outside.add_constant(u, ~mask)

    def values(self) -> np.ndarray:
        """Banzhaf values: mean utility with each point minus mean utility without it."""
        return self.inside.mean - self.outside.mean

    def stderr(self) -> np.ndarray:
        """Standard error of each value (``inf`` while a side has fewer than two samples)."""
        return np.sqrt(self.inside.stderr() ** 2 + self.outside.stderr() ** 2)

    def max_stderr(self) -> float:
        """Largest standard error over the points."""
        return float(np.max(self.stderr()))
