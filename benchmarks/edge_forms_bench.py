"""Benchmark: the two C forms of our trees (tables, if/else) against emlearn's inline trees.

For every model the same harness as ``export`` (:func:`workbench.edge.harness.run_model`) runs
each header on the held-out rows: parity with ``model.predict``, the largest probability error,
flash on Cortex-M4F and M0 (minimal link, when ``arm-none-eabi-gcc`` is installed) and host
nanoseconds per ``predict``. Host timings are the fastest of ``--repeats`` runs of the harness
(each already the fastest of 7 passes over at least 100,000 predictions), taken in turn for
every exporter so that load on a shared machine hits them alike.

emlearn rows: ``inline float32, leaf_bits=8`` (emlearn's inline code at its most exact: float
thresholds, soft voting) and ``emlearn defaults`` (inline, int16, hard voting).

Run: ``.venv/bin/python benchmarks/edge_forms_bench.py`` (writes
``benchmarks/results/edge_forms.md``; ``--out PATH`` writes elsewhere).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from workbench.core.datasets import load_dataset
from workbench.edge import (
    export_emlearn_default,
    find_compiler,
    make_vibration_windows,
    vibration_features,
)
from workbench.edge.artifact import build_artifact
from workbench.edge.codegen import generate
from workbench.edge.harness import run_model
from workbench.edge.tree_forms import choose_form
from workbench.edge.trees import flatten_trees

ROOT = Path(__file__).resolve().parent
SEED = 0


def scaled_six_class():
    """6 classes, 8 features, columns scaled by 1e4, 1e-4, 1e-6 and 1e6 (the issue's set)."""
    X, y = make_classification(
        1200, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=SEED
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    return X, y


def datasets():
    data = make_vibration_windows(150, random_state=SEED)
    Xq = vibration_features(data.windows, quantize=True)
    split = dict(test_size=0.3, random_state=SEED)
    yield "vibration (int16)", "int16", train_test_split(Xq, data.y, stratify=data.y, **split)
    for name in ("breast_cancer", "wine"):
        ds = load_dataset(name)
        yield f"{name} (float)", "float32", train_test_split(ds.X, ds.y, stratify=ds.y, **split)
    X, y = scaled_six_class()
    yield "6-class scaled (float)", "float32", train_test_split(X, y, stratify=y, **split)


TREES = {
    "DecisionTree d10": lambda: DecisionTreeClassifier(max_depth=10, random_state=SEED),
    "RandomForest 10x d10": lambda: RandomForestClassifier(10, max_depth=10, random_state=SEED),
    "ExtraTrees 10x d10": lambda: ExtraTreesClassifier(10, max_depth=10, random_state=SEED),
    "RandomForest 30x d12": lambda: RandomForestClassifier(30, max_depth=12, random_state=SEED),
}
BOOSTED = {
    "HGB 50 it": lambda: HistGradientBoostingClassifier(max_iter=50, random_state=SEED),
    "GB 100x d3": lambda: GradientBoostingClassifier(
        n_estimators=100, max_depth=3, random_state=SEED
    ),
}


def measure(model, code, X, y, toolchain, dtype):
    art = build_artifact(model, code, X, y, toolchain, None, dtype)
    sizes = {r["target"]: r["flash_bytes"] for r in art.sizes}
    return {
        "parity_%": round(art.parity.match_rate, 2),
        "max_abs_dp": float(f"{art.parity.max_proba_error:.2g}"),
        "flash_m4f": sizes.get("cortex-m4f"),
        "flash_m0": sizes.get("cortex-m0"),
        "flash_host": sizes.get("host"),
        "nodes": code.details.get("n_nodes"),
    }


def main(out: Path, repeats: int) -> None:
    warnings.simplefilter("ignore")
    toolchain = find_compiler()
    rows = []
    t0 = time.perf_counter()
    for dname, dtype, (Xtr, Xte, ytr, yte) in datasets():
        models = {**TREES, **(BOOSTED if dtype == "float32" else {})}
        for mname, factory in models.items():
            model = factory().fit(Xtr, ytr)
            tree = mname in TREES
            leaves = "class" if mname.startswith("Decision") else ("uint8" if tree else "")
            codes = {
                f"ours {form}": generate(model, name="m", dtype=dtype, leaves=leaves, form=form)
                for form in ("tables", "ifelse")
            }
            auto = generate(model, name="m", dtype=dtype, leaves=leaves).details["form"]
            if tree:
                art = export_emlearn_default(model, Xte, yte, dtype="float32", leaf_bits=8)
                codes["emlearn inline float32, leaf_bits=8"] = art.code
                codes["emlearn defaults"] = export_emlearn_default(model, Xte, yte).code
            found = {k: measure(model, c, Xte, yte, toolchain, dtype) for k, c in codes.items()}
            ns = {k: np.inf for k in codes}
            for _ in range(repeats):
                for k, c in codes.items():
                    ns[k] = min(ns[k], run_model(c, Xte, toolchain, min_time_rows=100_000)[2])
            ref = ns.get("emlearn inline float32, leaf_bits=8")
            for k in codes:
                rows.append(
                    {
                        "dataset": dname,
                        "model": mname,
                        "exporter": k + (" (auto)" if k == f"ours {auto}" else ""),
                        **found[k],
                        "host_ns": round(ns[k], 1),
                        "ns / emlearn inline": round(ns[k] / ref, 2) if ref else None,
                    }
                )
            print(f"{dname:24s} {mname:22s} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 220)
    print(df.to_string(index=False))
    write_results(df, toolchain, out, repeats)


def rule_check() -> str:
    """The auto rule's choice for the demo forest, as a sanity line for the results."""
    data = make_vibration_windows(150, random_state=SEED)
    Xq = vibration_features(data.windows, quantize=True)
    rf = RandomForestClassifier(10, max_depth=10, random_state=SEED).fit(Xq, data.y)
    return choose_form(flatten_trees(rf, "uint8", "int16")[0])[1]


def to_markdown(df: pd.DataFrame) -> str:
    cells = [[str(c) for c in df.columns]] + [
        ["" if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)) for v in r]
        for r in df.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells[1:]])


def write_results(df: pd.DataFrame, toolchain, out: Path, repeats: int) -> None:
    import sklearn

    from workbench.edge import import_emlearn

    out.parent.mkdir(parents=True, exist_ok=True)
    text = [
        "# Tree forms: tables vs if/else vs emlearn inline",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/edge_forms_bench.py` on "
        f"{platform.machine()} ({os.cpu_count()} cores, shared with other jobs: host ns are the "
        f"fastest of {repeats} interleaved runs, indicative only). Host `cc -O2`; flash by "
        f"`{os.path.basename(toolchain.arm_cc or 'none')}` -Os minimal link (text+data). "
        f"emlearn {import_emlearn().__version__}, scikit-learn {sklearn.__version__}.",
        "",
        "`(auto)` marks the form `export` picks (`tree_forms.choose_form`). "
        f"Demo forest: {rule_check()}.",
        "",
        "Forests run with 8-bit leaves (`leaves='uint8'`) in every form, so a parity below 100% "
        "is the 8-bit rounding of close soft votes, the same in both forms (`export`'s "
        "`leaves='auto'` then switches to float32 leaves). HistGradientBoosting compares "
        "float64 X while the harness feeds float32: a held-out value between its float32 "
        "rounding and a threshold moves a probability (breast_cancer: 0.003) without changing "
        "a class; on float32 rows its error is below 3e-7.",
        "",
        to_markdown(df),
        "",
    ]
    out.write_text("\n".join(text), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "edge_forms.md")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    main(args.out, args.repeats)
