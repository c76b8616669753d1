"""Run one pyDVL 0.10 valuation and save its values (runs in benchmarks/.venv-valuation only).

pyDVL 0.10 pins numpy<2, so it cannot share the workbench venv. The benchmark
(``valuation_vs_pydvl.py``) writes the data to an ``.npz`` file, calls this script with the
benchmark venv's Python, and reads the values back from another ``.npz`` (no pickle).

Usage: ``python valuation_pydvl_runner.py IN.npz OUT.npz METHOD SECONDS_OR_N N_JOBS [SEED]``
"""

from __future__ import annotations

import os
import sys
import time

import joblib
import numpy as np
from sklearn.ensemble import BaggingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier


class CountingLR(LogisticRegression):
    """LogisticRegression that appends one byte to $FIT_COUNT_FILE per attempted fit."""

    def fit(self, X, y, sample_weight=None):
        fd = os.open(os.environ["FIT_COUNT_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"x")
        os.close(fd)
        return super().fit(X, y, sample_weight=sample_weight)


def _warm(i: int) -> int:
    """Import the library in a worker (done before the clock on both sides)."""
    import pydvl.valuation  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    return i


def main() -> None:
    from pydvl.valuation import (
        DataOOBValuation,
        Dataset,
        KNNShapleyValuation,
        MaxTime,
        ModelUtility,
        MSRBanzhafValuation,
        RelativeTruncation,
        SupervisedScorer,
        TMCShapleyValuation,
    )

    src, dst, method, amount, n_jobs = sys.argv[1:6]
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    n_jobs = int(n_jobs)
    data = np.load(src)
    train = Dataset(data["X"], data["y"])
    test = Dataset(data["X_test"], data["y_test"])
    count_file = dst + ".fits"
    os.environ["FIT_COUNT_FILE"] = count_file
    open(count_file, "wb").close()
    model = CountingLR(max_iter=1000)
    if n_jobs > 1:
        # Start the loky workers before the clock, as the workbench side does (startup took
        # 10-20 s on the loaded benchmark machine and is not what is compared).
        joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(_warm)(i) for i in range(2 * n_jobs))
    t0 = time.perf_counter()
    c0 = time.process_time()
    with joblib.parallel_config(n_jobs=n_jobs):
        if method == "knn":
            val = KNNShapleyValuation(
                KNeighborsClassifier(n_neighbors=int(amount)), test, progress=False
            )
            val.fit(train)
        elif method == "oob":
            bag = BaggingClassifier(
                model, n_estimators=int(amount), n_jobs=n_jobs, random_state=seed
            ).fit(data["X"], data["y"])
            val = DataOOBValuation(bag)
            val.fit(train)
        else:
            scorer = SupervisedScorer("accuracy", test, default=0.0, range=(0.0, 1.0))
            utility = ModelUtility(model, scorer, show_warnings=False)
            # The clock of MaxTime starts at construction: build it right before fit.
            if method == "msr":
                val = MSRBanzhafValuation(
                    utility, is_done=MaxTime(float(amount)), seed=seed, progress=False
                )
            elif method == "tmc":
                val = TMCShapleyValuation(
                    utility,
                    truncation=RelativeTruncation(rtol=0.01),
                    is_done=MaxTime(float(amount)),
                    seed=seed,
                    progress=False,
                )
            else:
                raise SystemExit(f"unknown method {method}")
            val.fit(train)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0  # this process only (all of pyDVL's KNN work at n_jobs=1)
    res = val.values()
    n_fits = os.path.getsize(count_file)
    os.remove(count_file)
    np.savez(
        dst,
        values=np.asarray(res.values, dtype=float),
        elapsed=elapsed,
        cpu=cpu,
        n_fits=n_fits,
        counts=np.asarray(res.counts),
    )


if __name__ == "__main__":
    main()
