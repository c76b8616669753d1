"""The markdown of ``benchmarks/edge_bench.py``: goals checked from the measured rows, tables."""

from __future__ import annotations

import numbers
import os
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd

OURS = "workbench (default)"
TABLES = "workbench (form='tables')"
EML_DEFAULT = "emlearn defaults"
EML_FLOAT = "emlearn inline float32, leaf_bits=8"
TREES = ("DecisionTree d10", "RandomForest 10x d10", "ExtraTrees 10x d10")
GB_GOAL = ("vibration 4-class (float)", "GB 100x d3")
DEMO = ("vibration 4-class (int16)", "RandomForest 10x d10")

COLUMNS = [
    "dataset",
    "model",
    "exporter",
    "host_parity_%",
    "m4f_parity_%",
    "m0_parity_%",
    "m4f_max_dp",
    "flash_m4f",
    "flash_m0",
    "ram_m4f",
    "m4f_instr",
    "m0_instr",
    "host_ns",
    "distinct_th_B",
    "note",
]


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        if isinstance(v, float):
            return f"{v:g}" if abs(v) < 1e6 else f"{v:.0f}"
        return str(v).replace("|", "/")

    cells = [[str(c) for c in df.columns]] + [
        [cell(v) for v in r] for r in df.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells[1:]])


def _pick(df: pd.DataFrame, dataset: str, model: str, exporter: str) -> pd.Series | None:
    g = df[(df["dataset"] == dataset) & (df["model"] == model) & (df["exporter"] == exporter)]
    return None if g.empty else g.iloc[0]


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not pd.isna(v)


def _is100(v: Any) -> bool:
    return _number(v) and v == 100.0


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}x" if values else "-"


def _flash_goal(df: pd.DataFrame, ours: pd.DataFrame) -> str:
    """The flash goal: our default export, and our smallest exact form, vs emlearn's default."""
    default_ok, smallest_ok, larger, exact = 0, 0, [], []
    n = 0
    for _, o in ours.iterrows():
        peers = df[
            (df["dataset"] == o["dataset"])
            & (df["model"] == o["model"])
            & df["exporter"].str.startswith(EML_DEFAULT)
        ]
        e = None if peers.empty else peers.iloc[0]
        if e is None or not _number(e.get("flash_m4f")):
            continue
        n += 1
        t = _pick(df, o["dataset"], o["model"], TABLES)
        forms = [o] + ([t] if t is not None and _number(t.get("flash_m4f")) else [])
        forms = [f for f in forms if _is100(f["m4f_parity_%"]) and _is100(f["m0_parity_%"])]
        default_ok += int(o["flash_m4f"] <= e["flash_m4f"])
        best = min(forms, key=lambda f: f["flash_m4f"]) if forms else None
        if best is not None and best["flash_m4f"] <= e["flash_m4f"]:
            smallest_ok += 1
            continue
        item = f"{o['dataset']} {o['model']}"
        if best is not None:
            item += f" {best['flash_m4f'] / e['flash_m4f']:.2f}x"
        item += f" (emlearn parity {e['m4f_parity_%']}%"
        th = best.get("distinct_th_B") if best is not None else None
        if _number(th):
            item += (
                f"; its distinct thresholds alone take {int(th)} B as float32, "
                f"{th / e['flash_m4f']:.2f}x emlearn's whole model"
            )
        larger.append(item + ")")
    for _, o in ours.iterrows():
        e = _pick(df, o["dataset"], o["model"], EML_FLOAT)
        if e is not None and _number(e.get("flash_m4f")):
            exact.append(o["flash_m4f"] / e["flash_m4f"])
    return (
        "- Flash on M4F no larger than emlearn's default, at 100% parity: "
        + ("**met**" if not larger else "**not met**")
        + f": our smallest exact form (the default export, or `form='tables'` where the rule "
        f"chose if/else code for speed) is no larger for {smallest_ok} of {n} models emlearn "
        f"exports, the default export for {default_ok} of {n}"
        + (f"; larger: {'; '.join(larger)}" if larger else "")
        + ". emlearn's default compares int16-truncated features with int16 thresholds: on the "
        "6-class set thresholds of the 1e-4/1e-6 columns become 0 and those of the 1e6 column "
        "fall out of int16 range, so gcc folds most comparisons away (hence its low parity "
        "there, and its size). Against emlearn's exact setting (inline float32, 8-bit leaves) our "
        f"default export takes {_span(exact)} its flash."
    )


def goals(df: pd.DataFrame) -> list[str]:
    """One line per goal of the issue, met or not, with the numbers."""
    ours = df[df["exporter"] == OURS]
    lines = []
    bad = ours[~(ours["m4f_parity_%"].map(_is100) & ours["m0_parity_%"].map(_is100))]
    where = "; ".join(
        f"{r.dataset} {r.model}: M4F {r['m4f_parity_%']}%, M0 {r['m0_parity_%']}%"
        + (
            f" ({r['note'].replace('(near-ties)', '- near-ties')})"
            if isinstance(r.get("note"), str)
            else ""
        )
        for _, r in bad.iterrows()
    )
    lines.append(
        "- 100% parity on the emulated Cortex-M4F and M0 for every model: "
        + ("**met**" if bad.empty else "**not met**")
        + f" ({len(ours) - len(bad)} of {len(ours)} model/dataset pairs"
        + (f"; below 100%: {where})" if where else ")")
        + (
            ". Those rows are ties in exact arithmetic (two classes with the same soft vote) "
            "that scikit-learn's float64 rounding breaks one way and the float32 leaf sums "
            "the other; summing forest leaves in double in scikit-learn's order, as the "
            "boosted export does, would follow it."
            if "near-ties" in where
            else ""
        )
    )
    lines.append(_flash_goal(df, ours))
    o, m = _pick(df, *GB_GOAL, OURS), None
    m2c = df[(df["dataset"] == GB_GOAL[0]) & df["exporter"].str.startswith("m2cgen")]
    if not m2c.empty:
        m = m2c.iloc[0]
    if o is not None and m is not None and not pd.isna(m.get("flash_m4f")):
        r = o["flash_m4f"] / m["flash_m4f"]
        ok = r <= 0.5 and _is100(o["m4f_parity_%"]) and _is100(m["m4f_parity_%"])
        lines.append(
            f"- GradientBoosting 100x depth 3 on 4 classes ≤ 0.5x m2cgen's flash on M4F at 100% "
            f"parity: {'**met**' if ok else '**not met**'}: {int(o['flash_m4f'])} B vs "
            f"{int(m['flash_m4f'])} B = **{r:.2f}x**, target parity {o['m4f_parity_%']}% vs "
            f"{m['m4f_parity_%']}%, instructions per prediction {o.get('m4f_instr')} vs "
            f"{m.get('m4f_instr')}."
        )
    else:
        lines.append("- GradientBoosting vs m2cgen: not measured (m2cgen not installed).")
    fast, slow, vs_default, slower_default = [], [], [], []
    for _, o in ours[ours["model"].isin(TREES)].iterrows():
        d = _pick(df, o["dataset"], o["model"], EML_DEFAULT)
        if d is not None and _number(d.get("host_ns")):
            vs_default.append(o["host_ns"] / d["host_ns"])
            if vs_default[-1] > 1.0:
                slower_default.append(
                    f"{o['dataset']} {o['model']} {vs_default[-1]:.2f}x "
                    f"(their parity {d['m4f_parity_%']}%)"
                )
        e = _pick(df, o["dataset"], o["model"], EML_FLOAT)
        if e is None or not _number(e.get("host_ns")):
            continue
        r = o["host_ns"] / e["host_ns"]
        (fast if r <= 1.0 else slow).append((f"{o['dataset']} {o['model']}", r))
    lines.append(
        "- Host latency of trees ≤ 1.0x emlearn's inline code (float32, 8-bit leaves, its exact "
        "setting): "
        + ("**met**" if not slow else "**not met**")
        + f" for {len(fast)} of {len(fast) + len(slow)} ({_span([r for _, r in fast + slow])}"
        + (f"; slower: {', '.join(f'{n} {r:.2f}x' for n, r in slow)}" if slow else "")
        + f"); against emlearn's defaults (int16, hard voting) {_span(vs_default)}"
        + (f"; slower for {', '.join(slower_default)}" if slower_default else "")
        + "."
    )
    demo = _pick(df, *DEMO, OURS)
    if demo is not None:
        lines.append(
            f"- The demo's 10-tree depth-10 forest (int16 features) takes {int(demo['flash_m4f'])}"
            f" B flash on Cortex-M4F (goal ≤ 8192 B) at {demo['m4f_parity_%']}% target parity."
        )
    return lines


def write_results(
    df: pd.DataFrame, rdf: pd.DataFrame, m2c: Any, toolchain: Any, out: Path, repeats: int
) -> None:
    """Write ``out``: how it was measured, the goals, every export and the ratios."""
    import sklearn

    from workbench.edge import import_emlearn
    from workbench.edge.target_build import find_qemu, tool_version

    eml = import_emlearn()
    arm = toolchain.arm_cc or "arm-none-eabi-gcc"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = [
        "# Edge model export: benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/edge_bench.py` on "
        f"{platform.machine()} ({os.cpu_count()} cores, **shared with other jobs while "
        f"measuring**: host ns are indicative only; trees are the fastest of {repeats} "
        "interleaved runs of 100,000+ predictions). Compilers: "
        f"`{os.path.basename(toolchain.cc)}` (host, -O2) and `{os.path.basename(arm)}` "
        f"{tool_version([arm, '-dumpversion'])} (-Os, gc-sections; flash = text+data, RAM = "
        "data+bss of a minimal link with and without the model, the same flags for every "
        f"exporter, stack not included). Emulator: {tool_version([find_qemu(), '--version'])}. "
        f"emlearn {eml.__version__}, scikit-learn {sklearn.__version__}, "
        f"m2cgen {getattr(m2c, '__version__', 'not installed')}.",
        "",
        "Columns: `host_parity_%` = held-out rows where the host build's class equals "
        "`model.predict`; `m4f_parity_%` / `m0_parity_%` = the same on the emulated Cortex-M4F "
        "(QEMU mps2-an386, hard float) and Cortex-M0 (ARMv6-M soft-float code on mps2-an385's "
        "M3 core), run by `verify_on_target` on the float32 rows the device receives; "
        "`m4f_max_dp` = largest |target probability - predict_proba|; `*_instr` = instructions "
        "per prediction counted by QEMU `-icount` (instructions, not cycles). emlearn defaults "
        "= `emlearn.convert(model)` unmodified (trees: inline, int16 features, hard voting; MLP "
        "and GaussianNB: loadable); emlearn has no boosted trees, no Pipelines and (in this "
        "reference) no k-NN, so its MLP row gets inputs scaled outside the C (scaler not "
        "counted). m2cgen 0.10.0 has no assembler for scikit-learn's GradientBoosting: "
        "`benchmarks/edge_peers.py` builds it from m2cgen's tree assembler, summed and "
        "softmaxed like m2cgen's XGBoost/LightGBM output and printed by its C interpreter "
        "(float64 `double`); it has no HistGradientBoosting, MLP, naive Bayes or k-NN.",
        "",
        "## Reading it",
        "",
        *goals(df),
        "",
        "## All exports",
        "",
        to_markdown(df[[c for c in COLUMNS if c in df.columns]]),
        "",
        "## Ours vs each peer (ratios < 1: ours smaller/faster)",
        "",
        to_markdown(rdf),
        "",
    ]
    out.write_text("\n".join(text), encoding="utf-8")
    print(f"wrote {out}")
