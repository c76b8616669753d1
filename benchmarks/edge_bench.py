"""Benchmark: workbench.edge export vs emlearn defaults vs m2cgen, on the same models and data.

For every model and exporter the generated C is compiled with the host compiler into the same
harness (parity vs ``model.predict`` on held-out data, host ns per inference) and linked for
Cortex-M4F/M0 (flash and RAM by a minimal link). m2cgen is imported from
``benchmarks/.venv-edge`` (``python -m venv benchmarks/.venv-edge &&
benchmarks/.venv-edge/bin/pip install --no-deps m2cgen``); without it its rows are skipped.

Run: ``.venv/bin/python benchmarks/edge_bench.py`` (writes ``benchmarks/results/edge.md``;
``--out PATH`` writes the table elsewhere, e.g. to compare a change without touching it).
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from workbench.core.datasets import load_dataset
from workbench.edge import (
    export,
    export_emlearn_default,
    find_compiler,
    make_vibration_windows,
    vibration_features,
)
from workbench.edge.artifact import build_artifact
from workbench.edge.cinterface import GeneratedC, preamble

ROOT = Path(__file__).resolve().parent
SEED = 0


def _m2cgen():
    for site in glob.glob(str(ROOT / ".venv-edge/lib/python3*/site-packages")):
        if site not in sys.path:
            sys.path.append(site)  # after the main venv: its numpy/sklearn win
    try:
        import m2cgen

        return m2cgen
    except ImportError:
        return None


def m2cgen_code(m2c, model, name="m2c"):
    """Wrap m2cgen's ``score(double*, double*)`` into the harness interface."""
    code = m2c.export_to_c(model)
    nf, nc = int(model.n_features_in_), len(model.classes_)
    header = (
        preamble(name, nf, nc, "double", f"m2cgen {m2c.__version__} {type(model).__name__}")
        + "#include <string.h>\n"
        + code
        + f"\nstatic void {name}_predict_proba(const double *x, float *p) {{\n"
        f"    double out[{nc}];\n    score((double *)x, out);\n"
        f"    for (int c = 0; c < {nc}; c++) p[c] = (float)out[c];\n}}\n"
        f"static int32_t {name}_predict(const double *x) {{\n"
        f"    double out[{nc}];\n    score((double *)x, out);\n    int32_t best = 0;\n"
        f"    for (int32_t c = 1; c < {nc}; c++) if (out[c] > out[best]) best = c;\n"
        "    return best;\n}\n#endif\n"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type="double",
        n_features=nf,
        n_classes=nc,
        engine=f"m2cgen {m2c.__version__}",
    )


def datasets():
    data = make_vibration_windows(150, random_state=SEED)
    Xq = vibration_features(data.windows, quantize=True)
    yield (
        "vibration (int features)",
        train_test_split(Xq, data.y, test_size=0.3, random_state=SEED, stratify=data.y),
    )
    ds = load_dataset("breast_cancer")
    yield (
        "breast_cancer (float)",
        train_test_split(ds.X, ds.y, test_size=0.3, random_state=SEED, stratify=ds.y),
    )


MODELS = {
    "DecisionTree d10": lambda: DecisionTreeClassifier(max_depth=10, random_state=SEED),
    "RandomForest 10x d10": lambda: RandomForestClassifier(10, max_depth=10, random_state=SEED),
    "ExtraTrees 10x d10": lambda: ExtraTreesClassifier(10, max_depth=10, random_state=SEED),
    "MLP 16": lambda: MLPClassifier((16,), max_iter=1000, random_state=SEED),
    "GaussianNB": GaussianNB,
    "kNN k=5": lambda: KNeighborsClassifier(5),
}


def row(dataset, model_name, exporter, art):
    sizes = {r["target"]: r for r in art.sizes}
    out = {
        "dataset": dataset,
        "model": model_name,
        "exporter": exporter,
        "parity_%": round(art.parity.match_rate, 2),
        "max_abs_dp": float(f"{art.parity.max_proba_error:.2g}"),
        "leaves": art.leaves or "-",
    }
    for t in ("cortex-m4f", "cortex-m0", "host"):
        if t in sizes:
            out[f"flash_{t}"] = sizes[t]["flash_bytes"]
            out[f"ram_{t}"] = sizes[t]["ram_bytes"]
    out["host_ns"] = round(art.latency_ns, 1)
    return out


def main(out: Path) -> None:
    warnings.simplefilter("ignore")
    toolchain = find_compiler()
    m2c = _m2cgen()
    rows = []
    t0 = time.perf_counter()
    for dname, (Xtr, Xte, ytr, yte) in datasets():
        for mname, factory in MODELS.items():
            model = factory().fit(Xtr, ytr)
            family = type(model).__name__
            rows.append(row(dname, mname, "workbench (default)", export(model, Xte, yte)))
            if "Tree" in family or "Forest" in family or "Trees" in family:
                if len(getattr(model, "estimators_", [model])) > 1:
                    art = export(model, Xte, yte, leaves="float")
                    rows.append(row(dname, mname, "workbench (float leaves)", art))
                rows.append(
                    row(dname, mname, "emlearn defaults", export_emlearn_default(model, Xte, yte))
                )
                art = export_emlearn_default(model, Xte, yte, dtype="float32", leaf_bits=8)
                rows.append(row(dname, mname, "emlearn float, leaf_bits=8", art))
                if m2c is not None:
                    code = m2cgen_code(m2c, model)
                    art = build_artifact(
                        model, code, np.asarray(Xte, float), yte, toolchain, None, "float64"
                    )
                    rows.append(row(dname, mname, code.engine, art))
            elif family in ("MLPClassifier", "GaussianNB"):
                rows.append(
                    row(dname, mname, "emlearn defaults", export_emlearn_default(model, Xte, yte))
                )
            print(f"{dname:26s} {mname:22s} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.to_string(index=False))
    # ratios against emlearn defaults and m2cgen
    ratios = []
    for (d, m), g in df.groupby(["dataset", "model"], sort=False):
        ours = g[g["exporter"] == "workbench (default)"].iloc[0]
        for _, other in g[~g["exporter"].str.startswith("workbench")].iterrows():
            ratios.append(
                {
                    "dataset": d,
                    "model": m,
                    "vs": other["exporter"],
                    "parity ours/theirs": f"{ours['parity_%']:.2f} / {other['parity_%']:.2f}",
                    "flash M4F ours/theirs": round(
                        ours["flash_cortex-m4f"] / other["flash_cortex-m4f"], 2
                    ),
                    "host ns ours/theirs": round(ours["host_ns"] / other["host_ns"], 2),
                }
            )
    rdf = pd.DataFrame(ratios)
    print(rdf.to_string(index=False))
    write_results(df, rdf, m2c, toolchain, out)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""
    cells = [[str(c) for c in df.columns]] + [
        ["" if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)) for v in r]
        for r in df.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def write_results(df, rdf, m2c, toolchain, out: Path) -> None:
    import sklearn

    from workbench.edge import import_emlearn

    eml = import_emlearn()
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = [
        "dataset",
        "model",
        "exporter",
        "leaves",
        "parity_%",
        "max_abs_dp",
        "flash_cortex-m4f",
        "ram_cortex-m4f",
        "flash_cortex-m0",
        "host_ns",
    ]
    demo = df[
        (df["dataset"].str.startswith("vibration"))
        & (df["model"] == "RandomForest 10x d10")
        & (df["exporter"] == "workbench (default)")
    ].iloc[0]
    text = [
        "# Edge model export: benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/edge_bench.py` on "
        f"{platform.machine()} ({os.cpu_count()} cores, **shared with other jobs while "
        "measuring**, so host ns are indicative only). Compilers: "
        f"`{os.path.basename(toolchain.cc)}` (host, -O2) and "
        f"`{os.path.basename(toolchain.arm_cc or 'none')}` (-Os, gc-sections, minimal link "
        "with and without the model; flash = text+data, RAM = data+bss, stack not included). "
        f"emlearn {eml.__version__}, scikit-learn {sklearn.__version__}, "
        f"m2cgen {getattr(m2c, '__version__', 'not installed')}.",
        "",
        "Parity = % of held-out rows where the compiled C class equals `model.predict`; "
        "max_abs_dp = largest |C probability - predict_proba|. emlearn defaults = "
        "`emlearn.convert(model)` unmodified (trees: inline, int16 features, hard voting; MLP "
        "and GaussianNB: loadable). m2cgen supports only the tree models here.",
        "",
        f"**Goal check**: the demo's 10-tree depth-10 forest takes "
        f"{int(demo['flash_cortex-m4f'])} B flash on Cortex-M4F (goal <= 8192 B) at "
        f"{demo['parity_%']:.1f}% parity.",
        "",
        "## All exports",
        "",
        to_markdown(df[[c for c in cols if c in df.columns]]),
        "",
        "## Ours vs each peer (ratios < 1: ours smaller/faster)",
        "",
        to_markdown(rdf),
        "",
    ]
    out.write_text("\n".join(text), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results" / "edge.md",
        help="markdown file to write (default: benchmarks/results/edge.md)",
    )
    main(parser.parse_args().out)
