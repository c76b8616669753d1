"""The Monte Carlo driver shared by every sampling method: budgets, rounds, convergence.

Work is cut into rounds of chunks run through :func:`workbench.core.parallel.parallel_map`.
Sample ``s`` draws its randomness from ``numpy.random.default_rng([entropy, s])`` and results are
accumulated in sample order, so a fixed seed and a sample budget give bit-identical values on any
joblib backend (loky, threads, Dask) and any ``n_jobs``. A time budget is an absolute deadline
checked by workers before every fit, so runs end within one fit of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from workbench.core.errors import ModelError
from workbench.core.parallel import effective_n_jobs, parallel_map
from workbench.core.progress import progress
from workbench.valuation.utility import FitLog

__all__ = [
    "Accumulator",
    "Budget",
    "MeanAccumulator",
    "RunLog",
    "run_sampling",
    "sample_groups",
    "seed_entropy",
]


def seed_entropy(random_state: int | None) -> int:
    """The integer entropy that seeds every sample (fresh entropy when ``random_state`` is None).

    Parameters
    ----------
    random_state : int or None

    Returns
    -------
    int
        Sample ``s`` then draws from ``numpy.random.default_rng([entropy, s])``.
    """
    if random_state is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    return int(random_state)


def sample_groups(ids: list[int], size: int) -> list[list[int]]:
    """Split sample ids into groups ``s // size``: the same groups whatever the chunking.

    The fast path solves the samples of a group together; :func:`run_sampling` cuts rounds and
    chunks at multiples of ``size``, so a group never spans two chunks.

    Parameters
    ----------
    ids : list of int
        Consecutive sample ids of one chunk.
    size : int
        Group size (the utility's batch size).

    Returns
    -------
    list of list of int
    """
    groups: list[list[int]] = []
    for s in ids:
        if groups and groups[-1][0] // size == s // size:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


@dataclass
class Budget:
    """When a sampling run stops.

    Attributes
    ----------
    n_samples : int or None
        Most samples (permutations, subsets, bags) to use.
    max_time : float or None
        Wall-clock seconds from the start of the run.
    tol : float or None
        Stop once every point's standard error is at most ``tol`` (checked between rounds).
    """

    n_samples: int | None = None
    max_time: float | None = None
    tol: float | None = None


class Accumulator(Protocol):
    """Running statistics that samples are added to, in sample order."""

    n: int

    def add(self, payload: Any) -> None:
        """Add one sample's payload."""

    def max_stderr(self) -> float:
        """Largest per-point standard error so far (``inf`` while undefined)."""


@dataclass
class RunLog:
    """What a sampling run did: samples, fits, failures, time and why it stopped.

    Attributes
    ----------
    n_samples : int
        Samples completed.
    fits : FitLog
        Fits of every worker, merged.
    elapsed_s : float
        Wall-clock seconds from the start of the run.
    stop_reason : str
        Why the run stopped (budget, time or convergence).
    converged : bool
        Whether it stopped because every standard error reached the tolerance.
    """

    n_samples: int = 0
    fits: FitLog = field(default_factory=FitLog)
    elapsed_s: float = 0.0
    stop_reason: str = ""
    converged: bool = False


_CHUNKS_PER_WORKER = 4

ChunkFn = Callable[[tuple[Any, ...]], tuple[list[Any], FitLog]]


def run_sampling(
    chunk_fn: ChunkFn,
    make_task: Callable[[list[int], float | None], tuple[Any, ...]],
    acc: Accumulator,
    budget: Budget,
    *,
    start: float,
    n_jobs: int | None,
    desc: str,
    show_progress: bool | None,
    round_seconds: float = 1.0,
    batch: int = 1,
) -> RunLog:
    """Run sampling rounds until the budget is spent or the estimate has converged.

    Parameters
    ----------
    chunk_fn : callable
        Module-level worker: ``chunk_fn(task) -> (payloads, fit_log)``, one payload per
        completed sample, in sample order.
    make_task : callable
        ``make_task(sample_ids, deadline) -> task`` builds the worker argument.
    acc : Accumulator
        Receives every payload in sample order.
    budget : Budget
        Sample, time and convergence limits (at least one of ``n_samples``/``max_time``).
    start : float
        ``time.time()`` when the run started; the time budget counts from here.
    n_jobs : int or None
        Workers, as for joblib.
    desc : str
        Progress-bar label.
    show_progress : bool or None
        Force the bar on/off; ``None`` follows :mod:`workbench.core.progress`.
    round_seconds : float, default=1.0
        Target duration of one round (progress and convergence are updated between rounds).
    batch : int, default=1
        Workers solve samples in groups ``s // batch``; rounds and chunks are cut at multiples
        of ``batch`` so that a group never spans two chunks, whatever ``n_jobs`` is (the values
        then do not depend on the chunking).

    Returns
    -------
    RunLog
    """
    deadline = None if budget.max_time is None else start + budget.max_time
    n_workers = max(1, effective_n_jobs(n_jobs))
    log = RunLog()
    next_id = 0
    sec_per_sample: float | None = None  # worker-seconds per sample, measured
    by_samples = budget.n_samples is not None
    total = budget.n_samples if by_samples else math.ceil(budget.max_time or 0)
    bar = progress(
        total=total,
        desc=desc + ("" if by_samples else " (s)"),
        disable=(None if show_progress is None else not show_progress),
    )
    shown = 0
    try:
        while True:
            now = time.time()
            if by_samples and acc.n >= budget.n_samples:  # type: ignore[operator]
                log.stop_reason = f"sample budget of {budget.n_samples} reached"
                break
            if deadline is not None:
                left = deadline - now
                if left <= 0 or (sec_per_sample is not None and left < 0.5 * sec_per_sample):
                    log.stop_reason = f"time budget of {budget.max_time:g} s reached"
                    break
            if budget.tol is not None and acc.n >= 2 and acc.max_stderr() <= budget.tol:
                log.stop_reason = f"converged: every standard error <= {budget.tol:g}"
                log.converged = True
                break
            # Plan a round: one chunk per worker, sized from the measured cost of a sample.
            target = round_seconds
            if deadline is not None:
                target = min(max(round_seconds, 0.1 * budget.max_time), deadline - now)  # type: ignore[operator]
            per_chunk = 1 if sec_per_sample is None else max(1, int(target / sec_per_sample))
            n_round = per_chunk * n_workers
            # At least one group per worker, whole groups only.
            n_round = max(n_workers, math.ceil(n_round / batch)) * batch
            if by_samples:
                n_round = min(n_round, budget.n_samples - acc.n)  # type: ignore[operator]
            ids = list(range(next_id, next_id + n_round))
            next_id += n_round
            # Several chunks per worker let joblib balance samples of uneven cost (a truncated
            # permutation can be 10x cheaper than a full one) instead of idling on a straggler.
            size = math.ceil(n_round / (_CHUNKS_PER_WORKER * n_workers))
            size = math.ceil(size / batch) * batch
            chunks = [ids[i : i + size] for i in range(0, n_round, size)]
            t0 = time.perf_counter()
            outs = parallel_map(
                chunk_fn,
                [make_task(c, deadline) for c in chunks],
                n_jobs=n_jobs,
                show_progress=False,
            )
            wall = time.perf_counter() - t0
            done_round = 0
            for payloads, flog in outs:
                for p in payloads:
                    acc.add(p)
                done_round += len(payloads)
                log.fits.merge(flog)
            if done_round:
                sec_per_sample = wall * min(n_workers, len(chunks)) / done_round
            elif deadline is None:
                raise ModelError("A sampling round completed no sample; this is a bug.")
            step = acc.n - shown if by_samples else min(int(time.time() - start), total) - shown
            if step > 0:
                bar.update(step)
                shown += step
    finally:
        bar.close()
    log.n_samples = acc.n
    log.elapsed_s = time.time() - start
    return log


class MeanAccumulator:
    """Per-point running mean and variance of a vector sample (Welford, in sample order).

    Parameters
    ----------
    n_points : int
        Number of points.
    """

    def __init__(self, n_points: int) -> None:
        self.n = 0
        self.count = np.zeros(n_points)
        self.mean = np.zeros(n_points)
        self.m2 = np.zeros(n_points)

    def add(self, payload: tuple[np.ndarray, np.ndarray | None]) -> None:
        """Add one sample: values for every point, or for the points in ``mask``.

        Parameters
        ----------
        payload : tuple
            ``(x, mask)``: ``x`` of shape (n_points,) with ``mask=None``, else the values of
            the points where the boolean ``mask`` is True.
        """
        x, mask = payload
        self.n += 1
        if mask is None:
            self.count += 1
            delta = x - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (x - self.mean)
            return
        c = self.count[mask] + 1
        self.count[mask] = c
        m = self.mean[mask]
        delta = x - m
        m = m + delta / c
        self.mean[mask] = m
        self.m2[mask] += delta * (x - m)

    def add_constant(self, x: float, mask: np.ndarray) -> None:
        """Add the same value ``x`` to the points in the boolean ``mask`` (length ``n_points``).

        Equal, bit for bit, to ``add((np.full(mask.sum(), x), mask))``, in whole-vector
        operations instead of gathers and scatters (2x faster for MSR-Banzhaf's thousands of
        samples, which the main process adds while the workers wait for the next round).
        """
        self.n += 1
        c = self.count + mask
        delta = x - self.mean
        mean = self.mean + np.where(mask, delta / np.maximum(c, 1.0), 0.0)
        self.m2 += np.where(mask, delta * (x - mean), 0.0)
        self.count, self.mean = c, mean

    def stderr(self) -> np.ndarray:
        """Standard error of each mean (``inf`` with fewer than two updates)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            var = np.where(self.count > 1, self.m2 / np.maximum(self.count - 1, 1), np.inf)
            return np.sqrt(var / np.maximum(self.count, 1))

    def max_stderr(self) -> float:
        """Largest standard error over the points."""
        return float(np.max(self.stderr())) if self.count.size else 0.0
