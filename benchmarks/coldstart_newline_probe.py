"""What a whole new line's known attributes can tell: simple priors and a dispersion check.

Runs on the same protocol and folds as ``benchmarks/coldstart_pbs.py`` (new line: whole groups
held out; 48 known months; 24 forecast months), without fitting models. For each held-out series
it forecasts, every month of the horizon, one number from the *known* groups of its cell (PBS:
ATC1 x Concession x Type, retail: State), each known series' level being its mean of the last
12 months before the origin:

* ``known q``: the ``q`` quantile of the known levels in the cell (an L1-type prior; PBS falls
  back to Concession x Type where the ATC1 has no known group);
* ``geometric x m``: ``m`` x the geometric mean of the known levels (PBS: log-additive ATC1 and
  Concession x Type effects where the cell has no known group), ``m`` from a grid, the best
  one picked on the scored rows themselves (optimistic);
* a lognormal reading of the dispersion: if the new series of a cell (pooled over folds, in
  hindsight) were lognormal with the cell's log-sd ``s``, even the true median would score
  ``1 - 2 Phi(-s)`` in expectation; pooled with the cells' volumes.

Usage::

    .venv/bin/python benchmarks/coldstart_newline_probe.py [--datasets pbs retail] [--append FILE]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from coldstart_pbs import HORIZON, N_FOLDS, WINDOW, folds, load, wape_bias

QS = (0.1, 0.2, 0.3, 0.5)
MULTS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5)


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def probe(history: pd.DataFrame, attrs: pd.DataFrame, cfg: dict) -> list[str]:
    cells = cfg["cells"]
    sub = ["Concession", "Type"] if "ATC1" in cells else []
    rows = []
    for origin in pd.to_datetime(cfg["origins"]):
        win = history[
            (history["date"] >= origin - pd.DateOffset(months=WINDOW)) & (history["date"] < origin)
        ]
        fut = history[
            (history["date"] >= origin) & (history["date"] < origin + pd.DateOffset(months=HORIZON))
        ]
        alive = win.groupby("item_id")["quantity"].sum()
        a = attrs[attrs["item_id"].isin(alive.index[alive > 0])].reset_index(drop=True)
        fold = folds(a, cfg["group"])
        recent = win[win["date"] >= origin - pd.DateOffset(months=12)]
        a["ll"] = np.log1p(a["item_id"].map(recent.groupby("item_id")["quantity"].mean()).fillna(0))
        for f in range(N_FOLDS):
            known, new = a[fold != f], a[fold == f]
            out = new[["item_id", *cells]].copy()
            gm = known.groupby(cells)["ll"].mean().rename("geo")
            out = out.merge(gm.reset_index(), on=cells, how="left")
            if sub:
                ce = known.groupby(sub)["ll"].mean().rename("ce")
                k2 = known.merge(ce.reset_index(), on=sub)
                ae = (k2["ll"] - k2["ce"]).groupby(k2["ATC1"]).mean().rename("ae")
                out = out.merge(ce.reset_index(), on=sub, how="left")
                out = out.merge(ae.reset_index(), on="ATC1", how="left")
                out["geo"] = out["geo"].fillna(out["ce"] + out["ae"].fillna(0))
            for q in QS:
                lv = np.expm1(known.groupby(cells)["ll"].quantile(q)).rename(f"q{q}")
                out = out.merge(lv.reset_index(), on=cells, how="left")
                if sub:
                    fb = np.expm1(known.groupby(sub)["ll"].quantile(q)).rename("fb")
                    out = out.merge(fb.reset_index(), on=sub, how="left")
                    out[f"q{q}"] = out[f"q{q}"].fillna(out.pop("fb"))
            act = fut[fut["item_id"].isin(new["item_id"])]
            rows.append(act.merge(out, on="item_id").assign(origin=origin))
    r = pd.concat(rows, ignore_index=True)
    y = r["quantity"].to_numpy()
    lines = ["| prior | wape | bias |", "|---|---|---|", "| zero | 1.000 | -1.000 |"]
    for q in QS:
        sc = wape_bias(y, r[f"q{q}"].fillna(0).to_numpy())
        lines.append(f"| known q{q} | {sc['wape']:.3f} | {sc['bias']:.3f} |")
    geo = np.expm1(r["geo"].fillna(0).to_numpy())
    m = min(MULTS, key=lambda k: wape_bias(y, k * geo)["wape"])
    sc = wape_bias(y, m * geo)
    lines.append(
        f"| geometric x {m} (best m, picked on these rows) | {sc['wape']:.3f} | {sc['bias']:.3f} |"
    )
    per = r.groupby(["origin", *cells, "item_id"])["quantity"].mean().reset_index()
    per["l"] = np.log(per["quantity"].clip(lower=1e-3))
    g = per.groupby(["origin", *cells])
    s, vol = g["l"].std().fillna(0.0), g["quantity"].sum()
    est = float((vol * s.map(lambda v: 1 - 2 * _phi(-v))).sum() / vol.sum())
    lines += [
        "",
        f"Log-sd of the new series' mean level within a cell (pooled over folds): median "
        f"{s.median():.2f}, volume-weighted {float((s * vol).sum() / vol.sum()):.2f}; "
        f"lognormal reading of the best reachable WAPE (true median known): {est:.3f}.",
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["pbs", "retail"])
    ap.add_argument("--append", help="append the tables to this markdown file")
    args = ap.parse_args()
    lines = [
        "",
        "## New-line priors and dispersion (`benchmarks/coldstart_newline_probe.py`)",
        "",
        "Same origins and folds, no model: one number per held-out series from the known "
        "groups of its cell (PBS: ATC1 x Concession x Type, falling back to Concession x Type; "
        "retail: State), each known series' level = its mean of the 12 months before the "
        "origin. `known q`: that quantile of the known levels (an L1-type prior); `geometric "
        "x m`: m x their geometric mean, m picked on the scored rows (optimistic). Lognormal "
        "reading: if the new series of a cell (pooled over folds, in hindsight) were lognormal "
        "with the cell's log-sd s, even their true median would score 1 - 2 Phi(-s) in "
        "expectation; pooled with the cells' volumes.",
    ]
    for name in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            history, attrs, cfg = load(name, Path(tmp))
        lines += ["", f"**{name}, new line**", "", *probe(history, attrs, cfg)]
    print("\n".join(lines))
    if args.append:
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
