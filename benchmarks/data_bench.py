"""Benchmark of issue 16's three performance goals: the data layer, and two panels on user data.

**Pick + preview.** The user's table is a seeded 1,000,000-row × 20-column Parquet file (an id,
a 0/1 target, 3 text categories, 15 numbers of which 6 have gaps), written once with pyarrow's
defaults (what ``DataFrame.to_parquet`` writes) into a private folder
(``workbench.core.paths.private_dir``). Each step runs in a fresh child process, so its memory is
its own:

- **pick + preview**: ``DataPicker(data=Path(file), target=...)``: opens the file through DuckDB
  and shows its first 5 rows and column types;
- **load, 3 features**: then ``picker.load(features=[3 columns])`` in the same process: the
  validated table (``load_table``) with the id, the target and 3 features;
- **load, sampled**: ``load_table(file, target=..., max_rows=100_000)``: every column, a seeded
  random sample of 100,000 rows;
- **pandas**: ``pandas.read_parquet(file)`` of the whole file, then ``.head()`` and ``.dtypes``
  (the comparison the issue asks for); also ``read_parquet(columns=[the same 5])``, for context.

Goal: < 2 s and < 200 MB of RSS added.

**Valuation panel** (goal < 30 s on 2 cores, KNN-Shapley by default): the same generator makes a
50,000-row user table with 5% of its labels flipped at random (the flipped ids are kept beside
the file, never in it). ``ValuationPanel(data=Path(file), target=..., workspace=Workspace(
":memory:"))``, the method left at its default, ``panel.main_button.click()``; timed from the
constructor to the end of the click (it runs synchronously). Checked: no error, the values
table has a row for every id of the file; reported: how many flagged rows really were flipped.

**Privacy panel** (goal < 60 s): 5,000 rows sampled (seeded) from the shipped customer table
(``workbench.core.customers.customers_path()``), half of them marked ``in_training``; the user's
``RandomForestClassifier(n_estimators=100, random_state=0)`` is fitted (not timed) on those rows of
``load_table(...).X`` with the features the panel's picker offers, as a DataFrame of
``feature_names_out`` (so the panel checks names and order). ``PrivacyPanel(data=frame,
target=..., model=rf, members="in_training")``, 16 shadow models, click; timed from the
constructor to the end of the click. The same audit through the API (``load_table`` +
``workbench.privacy.audit(rf, X, y, members=..., n_shadows=16)``) is timed in its own process.

Time is wall-clock of the step alone (imports excluded), best of ``--repeats`` runs interleaved
in time. "RSS added" is the peak RSS of the step (VmHWM, reset after the imports) minus the RSS
after the imports; where /proc cannot reset the peak, ``ru_maxrss`` minus that RSS. Ratios are
pandas ÷ ours: above 1 means ours is faster or smaller. Every model runs with ``n_jobs=1``, the
panels' default.

Usage::

    .venv/bin/python benchmarks/data_bench.py            # full sizes, writes the results
    .venv/bin/python benchmarks/data_bench.py --quick    # 100,000 / 5,000 / 1,000 rows, prints
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
    "valuation": "`ValuationPanel(data=Path(file), target=...)` + click (KNN-Shapley, default)",
    "privacy_panel": "`PrivacyPanel(data=frame, target=..., model=rf, members=...)` + click",
    "privacy_api": "API: `load_table(frame, ...)` + `audit(rf, X, y, members=..., n_shadows=...)`",
}
DATA_CASES = ("pick", "pandas", "sample", "pandas_cols")
LABEL_NOISE = 0.05
MEMBERS = "in_training"
GOAL_VALUATION_S, GOAL_PRIVACY_S = 30.0, 60.0


# ----------------------------------------------------------------------------- the data
def flipped_path(path: Path) -> Path:
    """Where :func:`make_parquet` keeps the ids whose label it flipped (``.npy``, no pickle)."""
    return path.with_name(path.stem + "_flipped.npy")


def make_parquet(path: Path, rows: int, seed: int, label_noise: float = 0.0) -> None:
    """Write the seeded customer table to ``path`` (atomically), unless it is already there.

    With ``label_noise`` > 0, that share of the targets is flipped at random (drawn after every
    other column, so the table is otherwise the same) and the flipped ids go to
    :func:`flipped_path`.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and (label_noise == 0 or flipped_path(path).exists()):
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
    if label_noise > 0:
        flipped = rng.choice(rows, size=round(label_noise * rows), replace=False)
        cols[TARGET][flipped] = 1 - cols[TARGET][flipped]
        tmp_ids = path.with_name(path.stem + "_flipped.tmp.npy")
        np.save(tmp_ids, np.sort(cols[ID][flipped]))
        os.replace(tmp_ids, flipped_path(path))
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


def child(case: str, path: Path, rows: int = 0, shadows: int = 16, seed: int = 0) -> dict:
    """Run one case in this (fresh) process; time and RSS of each step.

    ``rows``, ``shadows`` and ``seed`` are for the privacy cases (records, shadow models, seed
    of the sample and of the members).
    """
    if case == "valuation":
        return child_valuation(path)
    if case in ("privacy_panel", "privacy_api"):
        return child_privacy(case, path, rows, shadows, seed)
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


def child_valuation(path: Path) -> dict:
    """The valuation panel on the user's table (a Parquet path), its method left at default."""
    t_imp = time.perf_counter()
    import numpy as np
    import pyarrow.parquet as pq

    from workbench.core.workspace import Workspace
    from workbench.valuation.panel import ValuationPanel

    out: dict[str, Any] = {"case": "valuation", "import_s": time.perf_counter() - t_imp}
    out["imports_mb"] = _rss_kb("VmRSS") / 1024
    peak = Peak()
    out["rss_how"] = peak.how
    t0 = time.perf_counter()
    panel = ValuationPanel(data=path, target=TARGET, workspace=Workspace(":memory:"))
    out["build_s"] = time.perf_counter() - t0
    method = panel.method.value
    panel.main_button.click()
    out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
    if method != "knn_shapley":
        raise RuntimeError(f"default method is {method!r}, not knn_shapley")
    if panel.last_error is not None:
        raise RuntimeError(f"panel error: {panel.last_error}")
    table = panel.values_table
    ids = pq.read_table(path, columns=[ID]).column(ID).to_numpy()
    if table is None or ID not in table or len(table) != ids.size:
        raise RuntimeError(f"values table {None if table is None else table.shape} lacks {ID}")
    if not np.array_equal(np.sort(table[ID].to_numpy()), np.sort(ids)):
        raise RuntimeError("the values table does not hold the file's ids")
    flipped = np.load(flipped_path(path))
    flagged = table.loc[table["flagged"].to_numpy(), ID].to_numpy()
    hits = int(np.isin(flagged, flipped).sum())
    out.update(
        method=method,
        n_rows=len(table),
        n_flagged=int(flagged.size),
        n_flipped=int(flipped.size),
        hits=hits,
        stop=panel.result.stop_reason if panel.result is not None else "?",
    )
    share = hits / flagged.size if flagged.size else float("nan")
    out["check"] = (
        f"{method} (the default); {len(table):,} rows with the file's `{ID}`s; "
        f"{hits:,} of {flagged.size:,} flagged rows are flipped labels ({share:.0%}; base rate "
        f"{flipped.size / len(table):.0%}), {hits / max(flipped.size, 1):.0%} of the "
        f"{flipped.size:,} flips found"
    )
    return out


def privacy_records(path: Path, rows: int, seed: int) -> tuple[Any, Any, list[str]]:
    """The user's records: a seeded sample of ``rows`` rows of ``path``, half marked as trained on.

    Returns the frame (with the ``in_training`` column), the member mask and the feature columns
    the panel's DataPicker offers for it (every column but the target, the members, the
    ``*_id`` column and dates).
    """
    import numpy as np
    import pandas as pd

    full = pd.read_parquet(path)
    if rows > len(full):
        raise ValueError(f"{path.name} has {len(full):,} rows; asked for {rows:,}")
    frame = full.sample(rows, random_state=seed).sort_values(ID, kind="stable")
    frame = frame.reset_index(drop=True)
    mask = np.zeros(rows, dtype=bool)
    mask[np.random.default_rng(seed).choice(rows, rows // 2, replace=False)] = True
    frame[MEMBERS] = mask
    features = [
        c
        for c in frame.columns
        if c not in (TARGET, MEMBERS, ID) and not pd.api.types.is_datetime64_any_dtype(frame[c])
    ]
    return frame, mask, features


def child_privacy(case: str, path: Path, rows: int, shadows: int, seed: int) -> dict:
    """The privacy audit of the user's fitted model: through the panel or through the API."""
    t_imp = time.perf_counter()
    import warnings

    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    from workbench.core.tables import load_table
    from workbench.core.workspace import Workspace
    from workbench.privacy import audit
    from workbench.privacy.panel import PrivacyPanel

    out: dict[str, Any] = {"case": case, "import_s": time.perf_counter() - t_imp}
    frame, mask, features = privacy_records(path, rows, seed)
    options = {
        "target": TARGET, "features": features, "text": [MEMBERS], "task": "classification",
        "max_rows": rows, "random_state": seed,
    }  # fmt: skip
    # The user's work before the audit (not timed): her model, fitted on the training rows.
    t_fit = time.perf_counter()
    table = load_table(frame, **options)
    X_train = pd.DataFrame(table.X[mask], columns=table.feature_names_out)
    rf = RandomForestClassifier(n_estimators=100, random_state=0).fit(X_train, table.y[mask])
    out["fit_s"] = time.perf_counter() - t_fit
    del table, X_train
    out["imports_mb"] = _rss_kb("VmRSS") / 1024
    peak = Peak()
    out["rss_how"] = peak.how
    t0 = time.perf_counter()
    if case == "privacy_panel":
        panel = PrivacyPanel(
            data=frame, target=TARGET, model=rf, members=MEMBERS, workspace=Workspace(":memory:")
        )
        panel.n_shadows.value = shadows
        panel.max_records.value = rows
        picked = [f for f in panel.data_picker.features.value if f != MEMBERS]
        panel.main_button.click()
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        if picked != features:
            raise RuntimeError(f"the panel's features {picked} are not the model's {features}")
        if panel.last_error is not None:
            raise RuntimeError(f"panel error: {panel.last_error}")
        report, risk = panel.result, panel.risk_table
    else:
        table = load_table(frame, **options)
        t1 = time.perf_counter()
        with warnings.catch_warnings():  # rf was fitted on a DataFrame, is queried with X
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            report = audit(
                rf, table.X, table.y, members=mask, n_shadows=shadows, random_state=seed, n_jobs=1
            )
        out["s"], out["mb"] = time.perf_counter() - t0, peak.added_mb()
        out["audit_s"] = time.perf_counter() - t1
        risk = report.records.assign(**{ID: table.ids[report.records["record"].to_numpy()]})
    if risk is None or report is None or len(risk) != rows:
        raise RuntimeError(f"risk table {None if risk is None else risk.shape}")
    if ID not in risk or set(risk[ID]) != set(frame[ID]):
        raise RuntimeError(f"the risk table does not hold the user's `{ID}`s")
    if report.mode != "given" or int(risk["member"].sum()) != int(mask.sum()):
        raise RuntimeError(f"audit mode {report.mode!r}, not the user's members")
    top = report.metrics.set_index("attack").loc[report.risk_attack]
    out.update(n_models=int(report.n_models), auc=float(top["auc"]))
    out["check"] = (
        f"{len(risk):,} rows with the user's `{ID}`s, {int(mask.sum()):,} members, "
        f"{report.n_models} shadow models; {report.risk_attack} AUC {float(top['auc']):.2f}, "
        f"test accuracy {report.test_accuracy:.2f}"
    )
    return out


# ----------------------------------------------------------------------------- parent side
def spawn(case: str, path: Path, workdir: Path, timeout: int, extra: list[str]) -> dict:
    """Run ``case`` in a fresh interpreter (cwd = the private folder, no shared workspace)."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_WORKSPACE"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, "--file", str(path)]
    cmd += extra
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
    out["all_s"] = [r["s"] for r in ok]
    keys = ("s", "load_s", "build_s", "audit_s", "fit_s", "import_s")
    for key, pick in (*((k, min) for k in keys), ("mb", max)):
        if key in out:
            out[key] = pick(r[key] for r in ok)
    if "load_mb" in out:
        out["load_mb"] = max(r["load_mb"] for r in ok)
    return out


def _versions() -> str:
    from importlib.metadata import version

    names = ("duckdb", "pyarrow", "pandas", "ipywidgets", "numpy", "scikit-learn")
    return ", ".join(f"{m} {version(m)}" for m in names)


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
        for c in ("pick", "sample", "pandas", "valuation")
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
    if any(c in best for c in ("valuation", "privacy_panel", "privacy_api")):
        lines += goal_report(args, best, info)
    return "\n".join(lines)


def goal_report(args: argparse.Namespace, best: dict[str, dict], info: dict[str, Any]) -> list[str]:
    """The Markdown of the two panel goals (valuation and privacy)."""
    val, pan, api = (best.get(c, {}) for c in ("valuation", "privacy_panel", "privacy_api"))

    def times(r: dict) -> str:
        return " / ".join(f"{s:.1f}" for s in r.get("all_s", [])) or "–"

    def verdict(r: dict, goal: float) -> str:
        if "s" not in r:
            return "–"
        return f"**{'met' if max(r['all_s']) < goal else 'NOT met'}** (< {goal:g} s)"

    rows = []
    for case, r, goal in (
        ("valuation", val, verdict(val, GOAL_VALUATION_S)),
        ("privacy_panel", pan, verdict(pan, GOAL_PRIVACY_S)),
        ("privacy_api", api, "comparison"),
    ):
        if "s" not in r:
            rows.append(f"| {CASES[case]} | – | – | – | – | {r.get('error', 'not run')} |")
            continue
        check = r["check"]
        if "build_s" in r:
            check = f"constructor {r['build_s']:.2f} s of it; " + check
        if "audit_s" in r:
            check = f"`audit` alone {r['audit_s']:.2f} s; " + check
        rows.append(
            f"| {CASES[case]} | {r['s']:.2f} | {times(r)} | {r['mb']:.0f} | {goal} | {check} |"
        )
    lines = [
        "## The panels on the user's data",
        "",
        f"**Valuation**: the same generator at {args.val_rows:,} rows × 20 columns "
        f"({info.get('val_mb', 0):.1f} MB Parquet) with {LABEL_NOISE:.0%} of the `{TARGET}` "
        "labels flipped at random (which ones are kept beside the file, not in it); the panel "
        "gets the file's path, finds the id column and values all 18 features, standardized "
        "(one-hot categories, gaps filled), in two halves, each against at most 2,000 rows of "
        "the other. **Privacy**: a seeded sample of "
        f"{args.privacy_rows:,} rows of the shipped customer table (`customers_path()`, 13 "
        f"features: 4 text, 3 with gaps), half of them marked in the `{MEMBERS}` column; the "
        "user's `RandomForestClassifier(n_estimators=100, random_state=0)` is fitted on those "
        "rows of `load_table(...).X` (the features the panel's picker offers, as a DataFrame of "
        f"`feature_names_out`; {pan.get('fit_s', api.get('fit_s', float('nan'))):.2f} s, not "
        f"timed) and audited with {args.shadows} shadow models (clones of it on random halves "
        "of all rows) and every attack, `n_jobs=1`. Times run from the panel's constructor to "
        "the end of `panel.main_button.click()` (synchronous), imports excluded; best of "
        f"{args.repeats} and each run; RSS added as above (for privacy: after the user's fit).",
        "",
        "| case | s (best) | s (each run) | RSS added MB | goal | check |",
        "|---|---:|---:|---:|---|---|",
        *rows,
        "",
    ]
    if "s" in pan and "s" in api:
        lines += [
            f"The panel took {pan['s'] / api['s']:.2f}× the time of the same audit through the "
            f"API ({pan['s'] - api['s']:+.2f} s: the panel's own work, i.e. the picker reading "
            "the frame through DuckDB, the model check, the risk table and the ROC and risk "
            "figures, with matplotlib imported on first use).",
            "",
        ]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Generate the file (once), run every case in child processes, print and write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the pick+preview file")
    p.add_argument("--val-rows", type=int, default=50_000, help="rows of the valuation table")
    p.add_argument("--privacy-rows", type=int, default=5_000, help="records of the audit")
    p.add_argument("--shadows", type=int, default=16, help="shadow models of the audit")
    p.add_argument(
        "--quick", action="store_true", help="100,000 / 5,000 / 1,000 rows, 1 repeat, print only"
    )
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of cases")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--workdir", type=Path, default=None, help="default: a private temp folder")
    p.add_argument("--out", type=Path, default=None, help="default: results/data_bench.md")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        result = child(args.child, args.file, args.privacy_rows, args.shadows, args.seed)
        print(json.dumps(result))
        return
    if args.quick:
        args.rows, args.val_rows, args.privacy_rows, args.repeats = 100_000, 5_000, 1_000, 1
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    out = args.out or (None if args.quick else ROOT / "benchmarks" / "results" / "data_bench.md")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    workdir = private_dir(
        args.workdir or Path(tempfile.gettempdir()) / f"workbench-data-bench-{uid}"
    )
    path = workdir / f"customers_{args.rows}_seed{args.seed}.parquet"
    t0 = time.perf_counter()
    make_parquet(path, args.rows, args.seed)
    val_path = workdir / f"users_{args.val_rows}_seed{args.seed}_noise{LABEL_NOISE:g}.parquet"
    if "valuation" in cases:
        make_parquet(val_path, args.val_rows, args.seed, label_noise=LABEL_NOISE)
    from workbench.core.customers import customers_path

    files = {c: path for c in DATA_CASES}
    files |= {"valuation": val_path, "privacy_panel": customers_path()}
    files["privacy_api"] = customers_path()
    extra = ["--privacy-rows", str(args.privacy_rows), "--shadows", str(args.shadows)]
    extra += ["--seed", str(args.seed)]
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    info: dict[str, Any] = {
        "size_mb": path.stat().st_size / 2**20,
        "row_groups": meta.num_row_groups,
        "command": " ".join(["benchmarks/data_bench.py", *(argv or sys.argv[1:])]),
    }
    if val_path.exists():
        info["val_mb"] = val_path.stat().st_size / 2**20
    print(f"{path} ({info['size_mb']:.0f} MB) ready in {time.perf_counter() - t0:.1f} s")
    load0 = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {case: [] for case in cases}
    for rnd in range(args.repeats):
        for case in cases:  # interleaved: the load of a shared machine moves over minutes
            r = spawn(case, files[case], workdir, args.timeout, extra)
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
