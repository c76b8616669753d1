"""Benchmark: picking and previewing a large Parquet file with the core data layer, vs pandas.

The user's table is a seeded 1,000,000-row × 20-column Parquet file (an id, a 0/1 target, 3 text
categories, 15 numbers of which 6 have gaps), written once with pyarrow's defaults (what
``DataFrame.to_parquet`` writes) into a private folder (``workbench.core.paths.private_dir``).
Each step runs in a fresh child process, so its memory is its own:

- **pick + preview**: ``DataPicker(data=Path(file), target=...)``: opens the file through DuckDB
  and shows its first 5 rows and column types;
- **load, 3 features**: then ``picker.load(features=[3 columns])`` in the same process: the
  validated table (``load_table``) with the id, the target and 3 features;
- **load, sampled**: ``load_table(file, target=..., max_rows=100_000)``: every column, a seeded
  random sample of 100,000 rows;
- **pandas**: ``pandas.read_parquet(file)`` of the whole file, then ``.head()`` and ``.dtypes``
  (the comparison the issue asks for); also ``read_parquet(columns=[the same 5])``, for context.

Time is wall-clock of the step alone (imports excluded), best of ``--repeats`` runs interleaved
in time. "RSS added" is the peak RSS of the step (VmHWM, reset after the imports) minus the RSS
after the imports; where /proc cannot reset the peak, ``ru_maxrss`` minus that RSS. Ratios are
pandas ÷ ours: above 1 means ours is faster or smaller.

Usage::

    .venv/bin/python benchmarks/data_bench.py            # 1,000,000 rows, writes the results
    .venv/bin/python benchmarks/data_bench.py --quick    # 100,000 rows, prints only
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.core.paths import private_dir  # noqa: E402 (after sys.path)

TARGET = "churned"
ID = "customer_id"
FEATURES3 = ["tenure_months", "monthly_fee", "plan"]
SAMPLE_ROWS = 100_000
GOAL_S, GOAL_MB = 2.0, 200.0
CASES = {
    "pick": "ours: `DataPicker(data=Path(file), target=...)` (open + preview 5 rows + types)",
    "pandas": "pandas: `read_parquet(file)` + `.head()` + `.dtypes`",
    "sample": f"ours: `load_table(file, target=..., max_rows={SAMPLE_ROWS:,})` (19 features)",
    "pandas_cols": "pandas: `read_parquet(file, columns=[id, target, 3 features])`",
}


# ----------------------------------------------------------------------------- the data
def make_parquet(path: Path, rows: int, seed: int) -> None:
    """Write the seeded customer table to ``path`` (atomically), unless it is already there."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        meta = pq.read_metadata(path)
        if meta.num_rows == rows and meta.num_columns == 20:
            return
    rng = np.random.default_rng(seed)

    def gaps(x: Any, share: float) -> Any:
        x = x.astype(np.float64)
        x[rng.random(rows) < share] = np.nan
        return x

    def cats(values: list[str], p: list[float]) -> Any:
        return pa.array(values).take(pa.array(rng.choice(len(values), rows, p=p)))

    tenure = rng.integers(0, 73, rows)
    fee = np.round(rng.gamma(4.0, 12.0, rows), 2)
    calls = rng.poisson(1.5, rows)
    plan = cats(["basic", "standard", "premium", "family"], [0.4, 0.3, 0.2, 0.1])
    logit = -1.0 - 0.03 * tenure + 0.01 * fee + 0.4 * calls + rng.normal(0, 1, rows)
    cols = {
        ID: rng.permutation(rows).astype(np.int64) + 100_000,
        "tenure_months": tenure,
        "monthly_fee": fee,
        "plan": plan,
        "region": cats(["north", "south", "east", "west", "centre", "islands"], [1 / 6] * 6),
        "channel": cats(["web", "store", "phone"], [0.5, 0.3, 0.2]),
        "total_spend": np.round(fee * tenure * rng.uniform(0.8, 1.2, rows), 2),
        "support_calls": calls,
        "logins_30d": rng.poisson(12, rows),
        "last_login_days": gaps(rng.exponential(9, rows), 0.10),
        "discount": gaps(rng.uniform(0, 0.3, rows), 0.15),
        "age": gaps(rng.integers(18, 90, rows), 0.05),
        "satisfaction": gaps(rng.integers(1, 6, rows), 0.20),
        "usage_gb": rng.lognormal(2.0, 1.0, rows),
        "n_devices": rng.integers(1, 8, rows),
        "late_payments": rng.poisson(0.3, rows),
        "contract_months": rng.choice([1, 12, 24], rows),
        "promo_score": gaps(rng.normal(0, 1, rows), 0.02),
        "app_rating": gaps(rng.uniform(1, 5, rows), 0.30),
        TARGET: (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64),
    }
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.table(cols), tmp)  # pyarrow's defaults, as DataFrame.to_parquet
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- child side
def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Peak:
    """Peak RSS growth of this process from now on, in MB."""

    def __init__(self) -> None:
        import resource

        self.resource = resource
        try:
            self.base = _rss_kb("VmRSS")
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # resets VmHWM, the peak RSS (Linux >= 4.0)
            self.how = "VmHWM"
        except OSError:
            import psutil

            self.base = psutil.Process().memory_info().rss // 1024
            self.how = "ru_maxrss"

    def added_mb(self) -> float:
        if self.how == "VmHWM":
            peak = _rss_kb("VmHWM")
        else:
            peak = self.resource.getrusage(self.resource.RUSAGE_SELF).ru_maxrss
        return max(0, peak - self.base) / 1024


def child(case: str, path: Path) -> dict:
    """Run one case in this (fresh) process; time and RSS of each step."""
    t_imp = time.perf_counter()
    # Every case imports the same libraries before it is measured: a notebook has pandas loaded,
    # and the data layer imports duckdb and pyarrow only on first use.
    import duckdb  # noqa: F401
    import pandas as pd
    import pyarrow.parquet  # noqa: F401

    if case == "pick":
        from workbench.ui.data_picker import DataPicker
    else:
        from workbench.core.tables import load_table
    out: dict[str, Any] = {"case": case, "import_s": time.perf_counter() - t_imp}
    out["imports_mb"] = _rss_kb("VmRSS") / 1024
    peak = Peak()
    out["rss_how"] = peak.how
    t0 = time.perf_counter()
    if case == "pick":
        picker = DataPicker(data=path, target=TARGET)
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        if picker.last_error or "<table" not in picker.preview.value:
            raise RuntimeError(f"no preview: {picker.last_error}")
        out["check"] = f"{len(picker.features.options)} feature options"
        t1 = time.perf_counter()
        table = picker.load(features=FEATURES3)
        out["load_s"], out["load_mb"] = time.perf_counter() - t1, peak.added_mb()
        out["load_check"] = f"{table.n_rows:,} rows × {len(table.columns)} columns (id, target, 3)"
    elif case == "sample":
        table = load_table(path, target=TARGET, max_rows=SAMPLE_ROWS)
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        n_cols = len(table.columns)
        out["check"] = f"{table.n_rows:,} of {table.n_source_rows:,} rows, {n_cols} columns"
    elif case == "pandas":
        df = pd.read_parquet(path)
        head, dtypes = df.head(), df.dtypes
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        out["check"] = f"{len(df):,} rows, head {head.shape}, {len(dtypes)} dtypes"
    elif case == "pandas_cols":
        df = pd.read_parquet(path, columns=[ID, *FEATURES3, TARGET])
        head, dtypes = df.head(), df.dtypes
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        out["check"] = f"{len(df):,} rows, head {head.shape}, {len(dtypes)} dtypes"
    else:
        raise ValueError(f"unknown case {case!r}")
    return out


# ----------------------------------------------------------------------------- parent side
def spawn(case: str, path: Path, workdir: Path, timeout: int) -> dict:
    """Run ``case`` in a fresh interpreter (cwd = the private folder, no shared workspace)."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_WORKSPACE"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, "--file", str(path)]
    try:
        proc = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timeout after {timeout} s"}
    if proc.returncode != 0:
        return {"case": case, "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def combine(runs: list[dict]) -> dict:
    """One case's runs as one: the best time of each step, the largest RSS growth."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    out = dict(min(ok, key=lambda r: r["s"]))
    for key, pick in (("s", min), ("load_s", min), ("import_s", min), ("mb", max)):
        if key in out:
            out[key] = pick(r[key] for r in ok)
    if "load_mb" in out:
        out["load_mb"] = max(r["load_mb"] for r in ok)
    return out


def _versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{m} {version(m)}" for m in ("duckdb", "pyarrow", "pandas", "ipywidgets"))


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def report(args: argparse.Namespace, best: dict[str, dict], info: dict[str, Any]) -> str:
    """The Markdown report of one run."""
    pd_ = best.get("pandas", {})

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.1f}×" if a and b else "–"

    rows = []
    pick = best.get("pick", {})
    steps = [
        ("pick + preview (ours)", pick.get("s"), pick.get("mb"), pick.get("check", "")),
        (
            "pick + preview + `picker.load(features=[3])` (ours)",
            (pick["s"] + pick["load_s"]) if "load_s" in pick else None,
            pick.get("load_mb"),
            pick.get("load_check", ""),
        ),
    ]
    for case in ("sample", "pandas", "pandas_cols"):
        r = best.get(case, {})
        steps.append((CASES[case], r.get("s"), r.get("mb"), r.get("check", r.get("error", ""))))
    for label, s, mb, check in steps:
        if s is None:
            rows.append(f"| {label} | – | – | – | – | {check or pick.get('error', '')} |")
            continue
        rows.append(
            f"| {label} | {s:.3f} | {mb:.0f} | {ratio(pd_.get('s'), s)} | "
            f"{ratio(pd_.get('mb'), mb)} | {check} |"
        )
    goal = "–"
    if "s" in pick:
        ok = pick["s"] < GOAL_S and pick["mb"] < GOAL_MB
        goal = (
            f"**{'met' if ok else 'NOT met'}**: pick + preview {pick['s']:.2f} s "
            f"(goal < {GOAL_S:g} s), {pick['mb']:.0f} MB RSS added (goal < {GOAL_MB:g} MB)"
        )
        if "s" in pd_:
            goal += (
                f"; pandas `read_parquet` of the whole file took {ratio(pd_['s'], pick['s'])} "
                f"the time and {ratio(pd_['mb'], pick['mb'])} the memory"
            )
    imports = ", ".join(
        f"{c} {best[c]['import_s']:.2f} s / {best[c]['imports_mb']:.0f} MB"
        for c in ("pick", "sample", "pandas")
        if "import_s" in best.get(c, {})
    )
    lines = [
        "# Data layer benchmark (`benchmarks/data_bench.py`)",
        "",
        f"A seeded {args.rows:,}-row × 20-column Parquet file ({info['size_mb']:.0f} MB, "
        f"{info['row_groups']} row group(s), pyarrow's default snappy compression, as "
        "`DataFrame.to_parquet` writes): an id, a 0/1 target, 3 text categories, 15 numbers "
        f"(6 with gaps). Each case in its own fresh process, best time of {args.repeats} "
        "interleaved runs, largest RSS growth of those runs; RSS added = peak RSS of the step "
        f"({info['rss_how']}) minus RSS after the imports. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, **shared with other jobs** (1-min load average "
        f"{info['load'][0]:.1f} at start, {info['load'][1]:.1f} at end), so absolute times are "
        f"noisy; ratios come from the same run. Python {platform.python_version()}, "
        f"{_versions()}; DuckDB and Arrow on their default threads; commit {_commit()}. "
        f"Command: `{info['command']}`.",
        "",
        "| step | s | RSS added MB | pandas ÷ this, time | pandas ÷ this, RSS | check |",
        "|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"Goal (issue 16: picking and previewing < {GOAL_S:g} s and < {GOAL_MB:g} MB added): "
        f"{goal}.",
        "",
        f"Imports (not in the times above; time / RSS after): {imports}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Generate the file (once), run every case in child processes, print and write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--quick", action="store_true", help="100,000 rows, 1 repeat, print only")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--workdir", type=Path, default=None, help="default: a private temp folder")
    p.add_argument("--out", type=Path, default=None, help="default: results/data_bench.md")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.file)))
        return
    if args.quick:
        args.rows, args.repeats = 100_000, 1
    out = args.out or (None if args.quick else ROOT / "benchmarks" / "results" / "data_bench.md")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    workdir = private_dir(
        args.workdir or Path(tempfile.gettempdir()) / f"workbench-data-bench-{uid}"
    )
    path = workdir / f"customers_{args.rows}_seed{args.seed}.parquet"
    t0 = time.perf_counter()
    make_parquet(path, args.rows, args.seed)
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    info: dict[str, Any] = {
        "size_mb": path.stat().st_size / 2**20,
        "row_groups": meta.num_row_groups,
        "command": " ".join(["benchmarks/data_bench.py", *(argv or sys.argv[1:])]),
    }
    print(f"{path} ({info['size_mb']:.0f} MB) ready in {time.perf_counter() - t0:.1f} s")
    load0 = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {case: [] for case in CASES}
    for rnd in range(args.repeats):
        for case in CASES:  # interleaved: the load of a shared machine moves over minutes
            r = spawn(case, path, workdir, args.timeout)
            runs[case].append(r)
            shown = r.get("error") or f"{r['s']:.3f} s, {r['mb']:.0f} MB"
            print(f"round {rnd + 1} {case:12s} {shown}", flush=True)
    best = {case: combine(rs) for case, rs in runs.items()}
    info["load"] = (load0, os.getloadavg()[0])
    info["rss_how"] = next((r["rss_how"] for r in best.values() if "rss_how" in r), "?")
    text = report(args, best, info)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
