"""Peer side of the cold-start benchmark: an mlforecast global LightGBM model with static features.

Runs in ``benchmarks/.venv-coldstart`` (mlforecast, lightgbm), called by ``coldstart_bench.py``
with a folder holding one ``train_<k>.csv`` and ``new_<k>.csv`` per fold. The model sees the same
static attributes as the workbench, age since launch as a dynamic feature and the week of the
year. A new product has no history, so it enters ``predict`` through ``new_df`` as a single dummy
row one week before launch (no lags or target transforms are used, so its value is never read)
and ``X_df`` supplies its ages. Writes ``pred_<k>.csv`` and ``timing.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import lightgbm as lgb
import pandas as pd
from mlforecast import MLForecast

STATIC = ["category", "brand", "price", "pack_size", "launch_support"]
CATS = ["category", "brand"]


def run_fold(folder: Path, k: int, horizon: int) -> float:
    train = pd.read_csv(folder / f"train_{k}.csv", parse_dates=["ds"])
    new = pd.read_csv(folder / f"new_{k}.csv", parse_dates=["launch"])
    levels = {c: sorted(pd.concat([train[c], new[c]]).astype(str).unique()) for c in CATS}
    for frame in (train, new):
        for c in CATS:
            frame[c] = pd.Categorical(frame[c].astype(str), categories=levels[c])
    start = time.perf_counter()
    model = lgb.LGBMRegressor(
        objective="poisson",
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=50,
        n_jobs=1,
        verbose=-1,
        random_state=0,
    )
    mlf = MLForecast(models={"lgbm": model}, freq="W-MON", date_features=["week"])
    mlf.fit(train[["unique_id", "ds", "y", "age", *STATIC]], static_features=STATIC)
    dummy = new[["unique_id", *STATIC]].copy()
    dummy["ds"] = new["launch"] - pd.Timedelta(weeks=1)
    dummy["y"] = 0.0
    dummy["age"] = -1
    future = pd.DataFrame(
        {
            "unique_id": new["unique_id"].repeat(horizon).to_numpy(),
            "ds": (
                new["launch"].repeat(horizon).to_numpy()
                + pd.to_timedelta(list(range(horizon)) * len(new), unit="W").to_numpy()
            ),
            "age": list(range(horizon)) * len(new),
        }
    )
    pred = mlf.predict(horizon, new_df=dummy[["unique_id", "ds", "y", "age", *STATIC]], X_df=future)
    elapsed = time.perf_counter() - start
    pred.to_csv(folder / f"pred_{k}.csv", index=False)
    return elapsed


def main() -> None:
    folder = Path(sys.argv[1])
    horizon = int(sys.argv[2])
    n_folds = int(sys.argv[3])
    timings = [run_fold(folder, k, horizon) for k in range(n_folds)]
    (folder / "timing.json").write_text(json.dumps({"fit_predict_s": timings}))


if __name__ == "__main__":
    main()
