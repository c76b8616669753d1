"""Cold-start benchmark: accuracy on held-out new products, interval coverage, fit+predict time.

Compares, in one run on the same folds, the workbench's methods (time-origin backtest: only data
before each origin; the products launched in the next 13 weeks are forecast 26 weeks ahead)
with the naive baselines and with an mlforecast global LightGBM model fed the same static
features (run in ``benchmarks/.venv-coldstart`` by ``coldstart_peer_mlforecast.py``).

Usage::

    .venv/bin/python benchmarks/coldstart_bench.py [--seeds 0 1] [--items 1000] [--n-jobs 1 2]

Writes ``benchmarks/results/coldstart.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.coldstart import ColdStartForecaster, backtest, make_launches

ROOT = Path(__file__).resolve().parent
PEER_PY = ROOT / ".venv-coldstart" / "bin" / "python"
HORIZON = 26


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""
    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        out.append("| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |")
    return "\n".join(out)


def peer_predictions(data, bt, folder: Path) -> tuple[pd.DataFrame | None, float]:
    """Write each fold's training rows and new products, run the mlforecast peer, read back."""
    if not PEER_PY.exists():
        return None, float("nan")
    lau = data.launch_dates
    attrs = data.attributes.set_index("item_id")
    hist = data.history
    folds = list(dict.fromkeys(bt.predictions["fold"]))
    for k, fold in enumerate(folds):
        origin = pd.Timestamp(fold.split()[-1])
        new_ids = bt.predictions.loc[bt.predictions["fold"] == fold, "item_id"].unique()
        known = lau.index[lau < origin]
        tr = hist[hist["item_id"].isin(known) & (hist["date"] < origin)]
        tr = tr.rename(columns={"item_id": "unique_id", "date": "ds", "quantity": "y"})
        tr["age"] = (tr["ds"] - tr["unique_id"].map(lau)).dt.days // 7
        tr = tr.join(attrs, on="unique_id")
        tr.to_csv(folder / f"train_{k}.csv", index=False)
        nw = attrs.loc[new_ids].reset_index().rename(columns={"item_id": "unique_id"})
        nw["launch"] = lau.loc[new_ids].to_numpy()
        nw.to_csv(folder / f"new_{k}.csv", index=False)
    proc = subprocess.run(
        [
            str(PEER_PY),
            str(ROOT / "coldstart_peer_mlforecast.py"),
            str(folder),
            str(HORIZON),
            str(len(folds)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print("peer failed:\n", proc.stderr[-3000:], file=sys.stderr)
        return None, float("nan")
    parts = []
    for k, fold in enumerate(folds):
        p = pd.read_csv(folder / f"pred_{k}.csv", parse_dates=["ds"])
        p["age"] = (p["ds"] - p["unique_id"].map(lau)).dt.days // 7
        parts.append(p.assign(fold=fold).rename(columns={"unique_id": "item_id", "lgbm": "peer"}))
    timing = json.loads((folder / "timing.json").read_text())["fit_predict_s"]
    return pd.concat(parts, ignore_index=True), float(np.sum(timing))


def accuracy(seed: int, n_items: int) -> tuple[pd.DataFrame, float, float]:
    data = make_launches(n_items=n_items, n_periods=156, random_state=seed)
    t0 = time.perf_counter()
    bt = backtest(
        data.history, data.attributes, horizon=HORIZON, random_state=0, show_progress=False
    )
    ours_s = time.perf_counter() - t0
    table = bt.to_frame()[["method", "wape", "bias", "mase", "spl", "coverage", "n_items"]]
    with tempfile.TemporaryDirectory() as tmp:
        peer, peer_s = peer_predictions(data, bt, Path(tmp))
    if peer is not None:
        ens = bt.predictions[bt.predictions["method"] == "ensemble"]
        m = ens.merge(peer[["fold", "item_id", "age", "peer"]], on=["fold", "item_id", "age"])
        assert len(m) == len(ens), "peer rows do not match the held-out rows"
        y, f = m["actual"].to_numpy(), np.maximum(m["peer"].to_numpy(), 0)
        tot = y.sum()
        row = {
            "method": "mlforecast LightGBM (peer)",
            "wape": np.abs(y - f).sum() / tot,
            "bias": (f - y).sum() / tot,
            "mase": float(np.mean(np.abs(y - f) / m["scale"])),
            "spl": np.nan,
            "coverage": np.nan,
            "n_items": m["item_id"].nunique(),
        }
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    ref = float(table.loc[table["method"] == "category_mean", "wape"].iloc[0])
    table["wape_vs_category_mean"] = table["wape"] / ref
    table.insert(0, "seed", seed)
    return table.sort_values("wape").reset_index(drop=True), ours_s, peer_s


def speed(n_jobs: int, repeats: int, n_items: int, methods: list[str]) -> list[dict]:
    rows = []
    cases = {
        f"{n_items} items x 104 weeks (full panel, {n_items * 104:,} rows)": {"launch_window": 1},
        f"{n_items} items launched over 104 weeks (~{n_items * 52:,} rows)": {},
    }
    new = make_launches(n_items=200, n_periods=104, random_state=99).attributes
    new = new.assign(item_id="N" + new["item_id"])
    for label, extra in cases.items():
        data = make_launches(n_items=n_items, n_periods=104, random_state=0, **extra)
        for method in methods:
            times, cpu = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                model = ColdStartForecaster(method=method, random_state=0, n_jobs=n_jobs)
                model.fit(data.history, data.attributes)
                model.predict(new, horizon=26, launch_date="2026-01-05")
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            rows.append(
                {
                    "data": label,
                    "method": method,
                    "n_jobs": n_jobs,
                    "wall s (best)": min(times),
                    "wall s (median)": float(np.median(times)),
                    "CPU s (best)": min(cpu),
                    "load at end": os.getloadavg()[0],
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--n-jobs", type=int, nargs="+", default=[1])
    ap.add_argument("--speed-items", type=int, default=10_000)
    ap.add_argument("--speed-methods", nargs="+", default=["global", "ensemble"])
    ap.add_argument("--out", default=str(ROOT / "results" / "coldstart.md"))
    args = ap.parse_args()
    load = os.getloadavg()[0]
    lines = [
        "# Cold-start forecasting benchmark",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
        f"load average {load:.1f} at start (shared with other jobs when > 0.5). Python "
        f"{platform.python_version()}. Command: `{' '.join(sys.argv)}`.",
        "",
    ]
    if not args.speed_only:
        tables, notes = [], []
        for seed in args.seeds:
            t, ours_s, peer_s = accuracy(seed, args.items)
            tables.append(t)
            notes.append(
                f"seed {seed}: workbench backtest (all 8 methods, 3 origins, incl. "
                f"calibration fits) {ours_s:.1f} s; mlforecast peer fit+predict "
                f"(3 origins) {peer_s:.1f} s"
            )
            print(t.round(3).to_string())
        allt = pd.concat(tables, ignore_index=True)
        mean = (
            allt.groupby("method", as_index=False)[
                ["wape", "bias", "mase", "spl", "coverage", "wape_vs_category_mean"]
            ]
            .mean()
            .sort_values("wape")
        )
        lines += [
            f"## Accuracy on held-out new products ({args.items} simulated products, 156 weeks)",
            "",
            "Time-origin backtest (`scheme='origin'`): 3 origins 13 weeks apart; models see only "
            "sales before the origin; the products launched in the next 13 weeks are scored over "
            f"their first {HORIZON} weeks. MASE is scaled by the mean absolute one-step change of "
            "the known products of the same category; `spl` is the scaled pinball loss averaged "
            "over quantiles 0.1/0.5/0.9; `coverage` is the share of actuals inside the 80% "
            "interval (target 0.75–0.85).",
            "",
            f"Mean over seeds {args.seeds}:",
            "",
            markdown(mean.round(3)),
            "",
            "Per seed:",
            "",
            markdown(allt.round(3)),
            "",
            *[f"- {n}" for n in notes],
            "",
        ]
    speed_rows = [
        row
        for nj in args.n_jobs
        for row in speed(nj, args.repeats, args.speed_items, args.speed_methods)
    ]
    sp = pd.DataFrame(speed_rows)
    print(sp.round(2).to_string())
    lines += [
        "## Fit + predict time",
        "",
        f"Fit on {args.speed_items:,} known products (including the calibration fit on 75% of "
        "them for the methods other than global), then "
        "predict 200 new products 26 weeks ahead. `n_jobs` sets the OpenMP threads of the "
        f"gradient-boosting models. Best and median wall time of {args.repeats} runs, and the "
        "CPU time of the process (what one idle core would need with n_jobs=1).",
        "",
        markdown(sp.round(2)),
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
