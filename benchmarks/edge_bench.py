"""Benchmark: workbench.edge export vs emlearn defaults vs m2cgen, proven on emulated Cortex-M.

For every model and exporter the generated C is

- compiled with the host compiler into the parity harness (class parity with ``model.predict``
  on held-out rows, host ns per ``predict``; trees timed as the fastest of ``--repeats``
  interleaved runs of at least 100,000 predictions),
- linked for Cortex-M4F and M0 (flash and RAM by a minimal link, ``arm-none-eabi-gcc -Os``,
  the same flags for every exporter, sizes read with ``arm-none-eabi-size``),
- and run on the emulated Cortex-M4F (QEMU ``mps2-an386``, hard float) and Cortex-M0 (ARMv6-M
  soft-float code on ``mps2-an385``) by :func:`workbench.edge.verify_on_target`: target class
  parity with scikit-learn on the float32 rows the device receives, and instructions per
  prediction from QEMU's ``-icount``.

Datasets (the issue's): wine, and a 6-class synthetic set whose columns are scaled by 1e4,
1e-4, 1e-6 and 1e6; the 4-class vibration demo (float features) for the
GradientBoosting-vs-m2cgen goal, and its int16 features for the demo forest's flash goal.

m2cgen is imported from ``benchmarks/.venv-edge`` (see ``benchmarks/edge_peers.py``); without
it its rows are skipped. Needs ``qemu-system-arm`` and ``gcc-arm-none-eabi
libnewlib-arm-none-eabi``.

Run: ``.venv/bin/python benchmarks/edge_bench.py`` (writes ``benchmarks/results/edge.md``;
``--out PATH`` writes the table elsewhere, e.g. to compare a change without touching it).
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from edge_peers import load_m2cgen, m2cgen_code, m2cgen_supports
from edge_report import EML_DEFAULT, EML_FLOAT, OURS, TABLES, TREES, write_results
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workbench.core.datasets import load_dataset
from workbench.core.errors import WorkbenchError
from workbench.edge import (
    export,
    export_emlearn_default,
    find_compiler,
    make_vibration_windows,
    verify_on_target,
    vibration_features,
)
from workbench.edge.artifact import EdgeArtifact, build_artifact
from workbench.edge.harness import run_model
from workbench.edge.trees import flatten_trees

ROOT = Path(__file__).resolve().parent
SEED = 0
CPUS = ("cortex-m4f", "cortex-m0")


def scaled_six_class() -> tuple[np.ndarray, np.ndarray]:
    """6 classes, 8 features, columns scaled by 1e4, 1e-4, 1e-6 and 1e6 (the issue's set)."""
    X, y = make_classification(
        1200, 8, n_informative=6, n_classes=6, n_clusters_per_class=1, random_state=SEED
    )
    X[:, :4] *= np.array([1e4, 1e-4, 1e-6, 1e6])
    return X, y


MODELS: dict[str, Callable[[], Any]] = {
    "DecisionTree d10": lambda: DecisionTreeClassifier(max_depth=10, random_state=SEED),
    "RandomForest 10x d10": lambda: RandomForestClassifier(10, max_depth=10, random_state=SEED),
    "ExtraTrees 10x d10": lambda: ExtraTreesClassifier(10, max_depth=10, random_state=SEED),
    "HGB 50 it, binary": lambda: HistGradientBoostingClassifier(max_iter=50, random_state=SEED),
    "HGB 50 it": lambda: HistGradientBoostingClassifier(max_iter=50, random_state=SEED),
    "GB 100x d3, binary": lambda: GradientBoostingClassifier(
        n_estimators=100, max_depth=3, random_state=SEED
    ),
    "GB 100x d3": lambda: GradientBoostingClassifier(
        n_estimators=100, max_depth=3, random_state=SEED
    ),
    "StandardScaler+MLP 16": lambda: make_pipeline(
        StandardScaler(), MLPClassifier((16,), max_iter=1000, random_state=SEED)
    ),
    "GaussianNB": GaussianNB,
    "kNN k=5": lambda: KNeighborsClassifier(5),
}


def datasets() -> Iterator[tuple[str, list, list[str]]]:
    """(name, train/test split, model names) of every dataset."""
    split = dict(test_size=0.3, random_state=SEED)
    ds = load_dataset("wine")
    yield "wine", train_test_split(ds.X, ds.y, stratify=ds.y, **split), list(MODELS)
    X, y = scaled_six_class()
    yield "6-class scaled", train_test_split(X, y, stratify=y, **split), list(MODELS)
    data = make_vibration_windows(150, random_state=SEED)
    Xf = vibration_features(data.windows)
    yield (
        "vibration 4-class (float)",
        train_test_split(Xf, data.y, stratify=data.y, **split),
        ["GB 100x d3"],
    )
    Xq = vibration_features(data.windows, quantize=True)
    yield (
        "vibration 4-class (int16)",
        train_test_split(Xq, data.y, stratify=data.y, **split),
        ["RandomForest 10x d10"],
    )


@dataclasses.dataclass
class Export:
    """One exporter's artifact (or why there is none) and what its target run needs."""

    exporter: str
    artifact: EdgeArtifact | None
    model: Any
    X: np.ndarray
    error: str = ""


def _attempt(exporter: str, model: Any, X: np.ndarray, make: Callable[[], EdgeArtifact]) -> Export:
    try:
        return Export(exporter, make(), model, X)
    except WorkbenchError as exc:
        return Export(exporter, None, model, X, str(exc).splitlines()[0][:160])


def exports(name: str, model: Any, Xte, yte, m2c: Any, toolchain: Any) -> list[Export]:
    """Ours, emlearn's defaults (and its exact float setting for trees), m2cgen, as they apply."""
    out = [_attempt(OURS, model, Xte, lambda: export(model, Xte, yte))]
    ours = out[0].artifact
    if name in TREES and ours is not None and ours.details.get("form") == "ifelse":
        # The rule spent flash on speed: the tables form shows what the smallest form costs.
        out.append(_attempt(TABLES, model, Xte, lambda: export(model, Xte, yte, form="tables")))
    final = model[-1] if isinstance(model, Pipeline) else model
    family = type(final).__name__
    if name in TREES:
        out.append(
            _attempt(EML_DEFAULT, model, Xte, lambda: export_emlearn_default(model, Xte, yte))
        )
        out.append(
            _attempt(
                EML_FLOAT,
                model,
                Xte,
                lambda: export_emlearn_default(model, Xte, yte, dtype="float32", leaf_bits=8),
            )
        )
    elif family in ("MLPClassifier", "GaussianNB"):
        # emlearn takes no Pipeline: its MLP gets inputs scaled outside the C (not counted).
        Xin = model[:-1].transform(Xte) if final is not model else Xte
        label = EML_DEFAULT + (" (MLP only, scaled outside C)" if final is not model else "")
        out.append(_attempt(label, final, Xin, lambda: export_emlearn_default(final, Xin, yte)))
    if m2c is not None and m2cgen_supports(model):
        X64 = np.asarray(Xte, dtype=np.float64)
        out.append(
            _attempt(
                f"m2cgen {m2c.__version__}",
                model,
                Xte,
                lambda: build_artifact(
                    model, m2cgen_code(m2c, model), X64, yte, toolchain, None, "float64"
                ),
            )
        )
    return out


def on_targets(e: Export, timeout_s: float) -> dict[str, Any]:
    """Target parity, probability error and instructions on both emulated CPUs."""
    art = e.artifact
    assert art is not None
    if art.dtype == "int16":
        # emlearn's int16 default truncates float rows to int16 in the harness, on the host as
        # on the target; the artifact's dtype only tells verify_on_target which rows to accept.
        art = dataclasses.replace(art, dtype="float32")
    found: dict[str, Any] = {}
    for cpu in CPUS:
        short = cpu.removeprefix("cortex-")
        try:
            rep = verify_on_target(art, e.model, e.X, cpu=cpu, timeout_s=timeout_s)
        except WorkbenchError as exc:
            found[f"{short}_parity_%"] = f"error: {str(exc).splitlines()[0][:80]}"
            continue
        found[f"{short}_parity_%"] = round(rep.match_rate, 2)
        found[f"{short}_max_dp"] = float(f"{rep.max_proba_error:.2g}")
        ins = rep.instructions_per_prediction
        found[f"{short}_instr"] = None if ins is None else round(ins)
    return found


def distinct_threshold_bytes(model: Any, dtype: str) -> int:
    """Bytes of the distinct (feature, threshold) pairs as plain float32/int16 values.

    What any exact export must hold in some form: every distinct comparison of the trees.
    """
    forest = flatten_trees(model, "class", dtype)[0]
    pairs = set(zip(forest.feature.tolist(), forest.threshold, strict=True))
    return len(pairs) * (2 if dtype == "int16" else 4)


def row(dataset: str, model_name: str, e: Export, timeout_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {"dataset": dataset, "model": model_name, "exporter": e.exporter}
    art = e.artifact
    if art is None:
        return {**out, "note": e.error}
    sizes = {r["target"]: r for r in art.sizes}
    out.update(
        {
            "host_parity_%": round(art.parity.match_rate, 2),
            "flash_m4f": sizes.get("cortex-m4f", {}).get("flash_bytes"),
            "flash_m0": sizes.get("cortex-m0", {}).get("flash_bytes"),
            "ram_m4f": sizes.get("cortex-m4f", {}).get("ram_bytes"),
            "host_ns": round(art.latency_ns, 1),
        }
    )
    if model_name in TREES and e.exporter in (OURS, TABLES):
        out["distinct_th_B"] = distinct_threshold_bytes(e.model, art.dtype)
    if art.parity.match_rate < 100.0:
        out["note"] = art.parity.explanation.split(". Causes")[0]
    out.update(on_targets(e, timeout_s))
    return out


def time_trees(done: list[Export], toolchain: Any, repeats: int) -> dict[str, float]:
    """Fastest host ns per predict of each exporter, over interleaved runs (load hits all alike)."""
    ns = {e.exporter: np.inf for e in done if e.artifact is not None}
    for _ in range(repeats):
        for e in done:
            if e.artifact is not None and e.artifact.code is not None:
                got = run_model(e.artifact.code, e.X, toolchain, min_time_rows=100_000)[2]
                ns[e.exporter] = min(ns[e.exporter], got)
    return ns


def main(out: Path, repeats: int, timeout_s: float) -> None:
    warnings.simplefilter("ignore")
    toolchain = find_compiler()
    m2c = load_m2cgen()
    rows = []
    t0 = time.perf_counter()
    for dname, (Xtr, Xte, ytr, yte), names in datasets():
        for mname in names:
            ytr_m, yte_m = ytr, yte
            if mname.endswith("binary"):
                first = np.unique(ytr)[0]
                ytr_m, yte_m = (ytr == first).astype(int), (yte == first).astype(int)
            model = MODELS[mname]().fit(Xtr, ytr_m)
            done = exports(mname, model, Xte, yte_m, m2c, toolchain)
            new = [row(dname, mname, e, timeout_s) for e in done]
            if mname in TREES:
                ns = time_trees(done, toolchain, repeats)
                for r in new:
                    if r["exporter"] in ns:
                        r["host_ns"] = round(ns[r["exporter"]], 1)
            rows += new
            print(f"{dname:26s} {mname:22s} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    print(df.to_string(index=False))
    rdf = ratios(df)
    print(rdf.to_string(index=False))
    write_results(df, rdf, m2c, toolchain, out, repeats)


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Ours against every peer on the same model: parity, flash, instructions, host time."""

    def ratio(a: Any, b: Any, digits: int = 2) -> Any:
        ok = all(isinstance(v, numbers.Real) and np.isfinite(v) and v > 0 for v in (a, b))
        return round(float(a) / float(b), digits) if ok else None

    out = []
    for (d, m), g in df.groupby(["dataset", "model"], sort=False):
        ours = g[g["exporter"] == OURS].iloc[0]
        for _, other in g[~g["exporter"].str.startswith("workbench")].iterrows():
            failed = pd.isna(other.get("host_parity_%"))  # no artifact: the note says why
            out.append(
                {
                    "dataset": d,
                    "model": m,
                    "vs": other["exporter"],
                    "M4F parity ours/theirs": (
                        "- / failed"
                        if failed
                        else f"{ours['m4f_parity_%']} / {other['m4f_parity_%']}"
                    ),
                    "flash M4F ours/theirs": ratio(ours["flash_m4f"], other.get("flash_m4f")),
                    "instructions M4F ours/theirs": ratio(
                        ours.get("m4f_instr"), other.get("m4f_instr")
                    ),
                    "host ns ours/theirs": ratio(ours["host_ns"], other.get("host_ns")),
                }
            )
    return pd.DataFrame(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results" / "edge.md",
        help="markdown file to write (default: benchmarks/results/edge.md)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved tree timing runs")
    parser.add_argument("--timeout", type=float, default=300.0, help="QEMU seconds per run")
    args = parser.parse_args()
    main(args.out, args.repeats, args.timeout)
