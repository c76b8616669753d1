"""Benchmark: workbench.valuation against pyDVL 0.10 on the same data, seeds and cores.

pyDVL 0.10 pins numpy<2, so it lives in its own venv (``benchmarks/.venv-valuation``, see
docs/valuation.md). This script runs in the workbench venv; every pyDVL run is a subprocess of
``valuation_pydvl_runner.py`` in the pyDVL venv, with data and values exchanged as ``.npz``.

Usage::

    .venv/bin/python benchmarks/valuation_vs_pydvl.py [--budget SECONDS] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from workbench.core.datasets import flip_labels, load_dataset
from workbench.core.parallel import parallel_map
from workbench.core.progress import set_enabled
from workbench.valuation import detection_scores, knn_shapley_values, value

HERE = Path(__file__).resolve().parent
PYDVL_PY = HERE / ".venv-valuation" / "bin" / "python"
RUNNER = HERE / "valuation_pydvl_runner.py"
TMP = Path(tempfile.mkdtemp(prefix="valuation_bench_"))
LOADS: list[float] = []  # 1-min load average before every timed run


def pydvl(name: str, X, y, Xt, yt, method: str, amount: float, n_jobs: int, seed: int = 0) -> dict:
    """Run one pyDVL valuation in its venv; return values, elapsed seconds and fits."""
    LOADS.append(os.getloadavg()[0])
    src, dst = TMP / f"{name}_in.npz", TMP / f"{name}_out.npz"
    np.savez(src, X=X, y=y, X_test=Xt, y_test=yt)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run(
        [
            str(PYDVL_PY),
            str(RUNNER),
            str(src),
            str(dst),
            method,
            str(amount),
            str(n_jobs),
            str(seed),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = np.load(dst)
    return {
        "values": out["values"],
        "elapsed": float(out["elapsed"]),
        "cpu": float(out["cpu"]),
        "n_fits": int(out["n_fits"]),
    }


def _warm(i: int) -> int:
    import sklearn.linear_model  # noqa: F401

    from workbench.valuation import DataOOB, MSRBanzhaf, TMCShapley  # noqa: F401 (lazy load)

    return i


def problem(name: str, seed: int = 0):
    ds = load_dataset(name)
    X, Xt, y, yt = train_test_split(ds.X, ds.y, test_size=0.25, random_state=seed, stratify=ds.y)
    sc = StandardScaler().fit(X)
    y_noisy, flipped = flip_labels(y, 0.1, random_state=seed)
    return sc.transform(X), y_noisy, sc.transform(Xt), yt, flipped


def knn_section(lines: list[str]) -> None:
    lines += [
        "## Exact KNN-Shapley (K=5, one process each)",
        "",
        "| data | train × test | pyDVL wall s | ours wall s | wall speed-up | pyDVL CPU s "
        "| ours CPU s | CPU speed-up | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ds = load_dataset("digits")
    rng = np.random.default_rng(0)
    cases = []
    X, Xt, y, yt = train_test_split(ds.X, ds.y, test_size=0.25, random_state=0, stratify=ds.y)
    y_noisy, _ = flip_labels(y, 0.1, random_state=0)
    cases.append(("digits (integer pixels: distance ties)", X, y_noisy, Xt, yt))
    jitter = 1e-3 * rng.normal(size=ds.X.shape)
    X, Xt, y, yt = train_test_split(
        ds.X + jitter, ds.y, test_size=0.25, random_state=0, stratify=ds.y
    )
    cases.append(
        ("digits + 1e-3 jitter (no ties)", X, flip_labels(y, 0.1, random_state=0)[0], Xt, yt)
    )
    Xs, ys = make_classification(
        n_samples=22_000, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    cases.append(("synthetic", Xs[:20_000], ys[:20_000], Xs[20_000:], ys[20_000:]))
    for label, X, y, Xt, yt in cases:
        peer = pydvl("knn", X, y, Xt, yt, "knn", 5, 1)
        t0, c0 = time.perf_counter(), time.process_time()
        ours = knn_shapley_values(X, y, Xt, yt, 5, show_progress=False)
        t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0
        diff = float(np.abs(ours - peer["values"]).max())
        ratio = peer["elapsed"] / t_ours
        print(
            f"KNN {label}: pyDVL {peer['elapsed']:.2f}s ours {t_ours:.2f}s "
            f"-> {ratio:.1f}x, max diff {diff:.2e}",
            flush=True,
        )
        lines.append(
            f"| {label} | {len(y):,} × {len(yt):,} | {peer['elapsed']:.2f} | "
            f"{t_ours:.3f} | **{ratio:.1f}×** | {peer['cpu']:.2f} | {c_ours:.3f} | "
            f"**{peer['cpu'] / c_ours:.1f}×** | {diff:.1e} |"
        )
        print(f"   CPU: pyDVL {peer['cpu']:.2f}s ours {c_ours:.2f}s", flush=True)
    lines.append("")


def _ms(xs: list[float], fmt: str = ".3f") -> str:
    """Mean ± standard deviation over seeds (just the value for one seed)."""
    if len(xs) == 1:
        return format(xs[0], fmt)
    return f"{format(float(np.mean(xs)), fmt)} ± {format(float(np.std(xs, ddof=1)), fmt)}"


def _ours(X, y, Xt, yt, method: str, model, seed: int, **kw):
    LOADS.append(os.getloadavg()[0])
    return value(
        X, y, method=method, model=model, X_test=Xt, y_test=yt, random_state=seed, n_jobs=2, **kw
    )


def mc_section(
    lines: list[str], budget: float, seeds: list[int], only: list[str] | None = None
) -> None:
    model = LogisticRegression(max_iter=1000)
    # Start the loky workers and import the library in them before any clock, as the pyDVL
    # runner does (10-20 s on the loaded machine, not what is compared).
    parallel_map(_warm, range(4), n_jobs=2, show_progress=False)
    lines += [
        f"## Noisy-label detection, 10% flipped labels, LogisticRegression, n_jobs=2, "
        f"budget {budget:g} s, seeds {', '.join(map(str, seeds))}",
        "",
        "Each cell: mean ± standard deviation over the seeds (same data and flipped labels; the "
        "seed drives the Monte Carlo sampling on both sides). Data-OOB: pyDVL bags 100 models "
        "and ours gets the same wall time.",
        "",
        "| data | method | pyDVL s | ours s | pyDVL fits/s | ours fits/s | fits/s ratio | "
        "pyDVL AUROC | ours AUROC | ours failed / fits | ours backend |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    best: dict[str, tuple[str, float]] = {}
    for name in ("breast_cancer", "digits"):
        X, y, Xt, yt, flipped = problem(name)
        cells = []
        if only is None or "data_oob" in only:
            cells.append(("data_oob", "oob", 100))
        for method, tag in (("banzhaf", "msr"), ("tmc_shapley", "tmc")):
            if only is None or method in only:
                cells.append((method, tag, budget))
        for method, tag, amount in cells:
            rec: dict[str, list[float]] = {k: [] for k in "pe of po ap ao fail fits".split()}
            backend = ""
            for seed in seeds:
                peer = pydvl(f"{name}_{tag}", X, y, Xt, yt, tag, amount, 2, seed)
                kw = {"max_time": peer["elapsed"] if method == "data_oob" else budget}
                if method == "tmc_shapley":  # pyDVL keeps the prefix of a cut permutation
                    kw["keep_partial"] = True
                res = _ours(X, y, Xt, yt, method, model, seed, **kw)
                backend = res.utility_backend
                a_peer = detection_scores(np.nan_to_num(peer["values"]), flipped)["auroc"]
                a_ours = res.detect(flipped)["auroc"]
                for k, v in (
                    ("pe", peer["elapsed"]),
                    ("of", res.fits_per_second),
                    ("po", peer["n_fits"] / peer["elapsed"]),
                    ("ap", a_peer),
                    ("ao", a_ours),
                    ("fail", res.n_failed_fits),
                    ("fits", res.n_fits),
                ):
                    rec[k].append(v)
                rec.setdefault("oe", []).append(res.elapsed_s)
                print(
                    f"{name} {method} seed {seed}: pyDVL {peer['elapsed']:.1f}s "
                    f"{rec['po'][-1]:.0f} fits/s AUROC {a_peer:.3f} | ours {res.elapsed_s:.1f}s "
                    f"{res.fits_per_second:.0f} fits/s AUROC {a_ours:.3f} "
                    f"-> {res.fits_per_second / rec['po'][-1]:.1f}x fits/s",
                    flush=True,
                )
            ratio = float(np.mean(rec["of"]) / np.mean(rec["po"]))
            lines.append(
                f"| {name} | {method} | {_ms(rec['pe'], '.1f')} | {_ms(rec['oe'], '.1f')} | "
                f"{_ms(rec['po'], '.0f')} | {_ms(rec['of'], '.0f')} | **{ratio:.1f}×** | "
                f"{_ms(rec['ap'])} | {_ms(rec['ao'])} | "
                f"{np.mean(rec['fail']):.0f} / {np.mean(rec['fits']):.0f} | {backend} |"
            )
        # Methods without a pyDVL run here: KNN-Shapley (values equal pyDVL's), the confidence
        # baseline, Beta Shapley and the rank ensemble.
        for method, kw, n_seeds in (
            ("knn_shapley", {}, 1),
            ("confidence", {}, 1),
            ("ensemble", {}, len(seeds)),
            ("beta_shapley", {"max_time": budget, "keep_partial": True}, len(seeds)),
        ):
            if only is not None and method not in only:
                continue
            aucs, fps, secs, fails, fits, backend = [], [], [], [], [], ""
            for seed in seeds[:n_seeds]:
                res = _ours(X, y, Xt, yt, method, model, seed, **kw)
                aucs.append(res.detect(flipped)["auroc"])
                fps.append(res.fits_per_second)
                secs.append(res.elapsed_s)
                fails.append(res.n_failed_fits)
                fits.append(res.n_fits)
                backend = res.utility_backend
                print(
                    f"{name} {method} seed {seed}: ours {res.elapsed_s:.1f}s AUROC {aucs[-1]:.3f}"
                )
            lines.append(
                f"| {name} | {method} | – | {_ms(secs, '.1f')} | – | {_ms(fps, '.0f')} | – | – | "
                f"{_ms(aucs)} | {np.mean(fails):.0f} / {np.mean(fits):.0f} | {backend or '–'} |"
            )
            if np.mean(aucs) > best.get(name, ("", 0.0))[1]:
                best[name] = (method, float(np.mean(aucs)))
    lines.append("")
    lines += [f"Best method on {k}: {m} (mean AUROC {a:.3f})." for k, (m, a) in best.items()]
    lines.append("")


def _previous_knn_section(path: Path) -> list[str]:
    """The KNN table of the last run (kept when --skip-knn: that code did not change)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    start = text.find("## Exact KNN-Shapley")
    if start < 0:
        return []
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else None].rstrip().splitlines()
    if not any(ln.startswith("(Kept from") for ln in section):
        measured = re.search(r"Measured (\S+ \S+)", text)
        when = f"the run of {measured.group(1)}" if measured else "an earlier run"
        section[1:1] = [
            "",
            f"(Kept from {when} — the KNN code did not change since; run without `--skip-knn` "
            "to re-measure.)",
        ]
    return [*section, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per MC run")
    parser.add_argument("--out", default=str(HERE / "results" / "valuation.md"))
    parser.add_argument("--skip-knn", action="store_true")
    parser.add_argument("--skip-mc", action="store_true")
    parser.add_argument("--methods", default=None, help="comma-separated subset of MC rows")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated Monte Carlo seeds")
    args = parser.parse_args()
    if not PYDVL_PY.exists():
        sys.exit(f"pyDVL venv missing: {PYDVL_PY} (see docs/valuation.md)")
    set_enabled(False)
    t_start = time.time()
    load = os.getloadavg()[0]
    lines = [
        "# Data valuation: workbench.valuation vs pyDVL 0.10",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} by `benchmarks/valuation_vs_pydvl.py` on "
        f"{os.cpu_count()} cores **shared with other jobs** (1-min load average at start "
        f"{load:.1f}); both libraries ran back to back on the same data, seeds and cores. pyDVL "
        "ran in `benchmarks/.venv-valuation` (numpy<2) as a subprocess; its fits were counted "
        "by a LogisticRegression subclass that appends a byte to a file per fit.",
        "",
    ]
    if not args.skip_knn:
        knn_section(lines)
    else:
        lines += _previous_knn_section(Path(args.out))
    if not args.skip_mc:
        seeds = [int(x) for x in args.seeds.split(",")]
        mc_section(lines, args.budget, seeds, args.methods.split(",") if args.methods else None)
    if LOADS:
        lines.insert(
            4,
            f"1-min load average before the timed runs: min {min(LOADS):.1f}, median "
            f"{float(np.median(LOADS)):.1f}, max {max(LOADS):.1f} (2 cores; above ~2 another job "
            "was competing for them).\n",
        )
        lines[2] = lines[2] + f" Total run {(time.time() - t_start) / 60:.1f} min."
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
