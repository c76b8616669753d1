"""Time the privacy audit: 16 shadow models on 500 records (goal: under 60 s on 2 cores).

Needs no peer library; run it in the benchmark environment of ``privacy_vs_art.py`` (which has
``tabulate`` for the Markdown table)::

    benchmarks/.venv-privacy/bin/python benchmarks/privacy_timing.py

Each configuration is timed twice: wall time with ``n_jobs=2`` and, with ``n_jobs=1``, the CPU
time of the process (``time.process_time``), which load from other jobs on a shared machine
inflates far less than wall time; CPU seconds / 2 estimates the wall time on 2 idle cores.
The table is written to ``benchmarks/results/privacy_timing.md``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.core.datasets import load_dataset
from workbench.privacy import audit, demo_model

OUT = Path(__file__).resolve().parent / "results" / "privacy_timing.md"


def main() -> None:
    rows = []
    for dataset in ("digits", "breast_cancer"):
        data = load_dataset(dataset)
        X, y = data.X[:500], data.y[:500]
        for model in ("random_forest", "mlp"):
            est = demo_model(model, random_state=0)
            t0 = time.perf_counter()
            audit(est, X, y, n_shadows=16, random_state=0, n_jobs=2, show_progress=False)
            wall2 = time.perf_counter() - t0
            with threadpool_limits(1):  # one core: CPU time of this process is the whole cost
                c0, t0 = time.process_time(), time.perf_counter()
                audit(est, X, y, n_shadows=16, random_state=0, n_jobs=1, show_progress=False)
                cpu, wall1 = time.process_time() - c0, time.perf_counter() - t0
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "wall s (n_jobs=2)": wall2,
                    "wall s (n_jobs=1)": wall1,
                    "CPU s (n_jobs=1)": cpu,
                    "est. wall s on 2 idle cores": cpu / 2,
                    "goal < 60 s": cpu / 2 < 60,
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).round(1)
    print(table.to_string(index=False))
    load = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        "# Privacy audit timing: 16 shadow models (17 models), 500 records, all 6 attacks\n\n"
        f"Measured {time.strftime('%Y-%m-%d')} with `benchmarks/privacy_timing.py` on "
        f"{os.cpu_count()} cores shared with other jobs (load average at the end "
        f"{load[0]:.1f}): wall times are inflated by the other jobs; CPU time is the "
        "load-robust number.\n\n" + table.to_markdown(index=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
