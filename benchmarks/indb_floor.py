"""Benchmark: how fast *could* SQL be? Floors of two issue-19 goals, measured in DuckDB itself.

1. **Compiled trees.** Walking one tree of a model costs at least one comparison per internal node
   on the row's path. This script counts those node visits for the benchmark's
   HistGradientBoosting of 100 iterations (weighted by the training rows that reach each leaf),
   then times DuckDB on the cheapest expressions a compiled tree could be made of, on the same
   1,000,000 rows:

   - ``n`` one-node ``CASE WHEN x <= t THEN a ELSE b END`` summed (what a nested CASE tree does
     at each visited node, without the nesting);
   - ``n`` bare comparisons cast to DOUBLE and summed (no branch at all).

   floor = scan + node visits per row x cost per node. Any SQL expression that walks the trees
   node by node takes at least that long, so ``naive / floor`` bounds its ratio to
   fetch + ``predict_proba`` (printed in the same run).

2. **Routing.** A route hashes each row's key and splits the rows between versions. The script
   times one version's SQL function (the logistic pipeline compiled to SQL, the cheapest model of
   the benchmark) with and without the key's hash in the same projection, and the same for the
   Arrow UDF; the Arrow UDF's fixed cost per call is timed on a full (2,048 rows) and a 10 %
   (205 rows) batch.

Usage::

    .venv/bin/python benchmarks/indb_floor.py        # after benchmarks/indb_bench.py made the DB
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import indb_bench as bench  # noqa: E402 (after sys.path)


def node_visits(est) -> float:
    """Internal nodes on a row's path, summed over the trees (training-row weighted)."""
    from workbench.indb.sql_boosting import hist_model_trees

    total = 0.0
    for iteration in hist_model_trees(est)[1]:
        for tree, count in iteration:
            leaf = tree.left == -1
            depth = tree.node_depths()
            total += float((depth[leaf] * count[leaf]).sum() / count[leaf].sum())
    return total


def timer(con, rounds: int):
    def run(expr: str, source: str = "customers") -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE s AS SELECT customer_id, {expr} AS p FROM {source}"
            )
            times.append(time.perf_counter() - t0)
        return min(times)

    return run


def tree_floor(con, rounds: int) -> list[str]:
    pipe, _ = bench.fit_model("hgb100")
    est = pipe[-1]
    feats = bench.model_features("hgb100")
    visits = node_visits(est)
    run = timer(con, rounds)
    run("1.0e0")  # warm the table
    scan = run("1.0e0")
    n = 200
    case = run(
        "list_sum(["
        + ", ".join(
            f"CASE WHEN {feats[i % 9]} <= {i % 50}.5e0 THEN {i}.25e0 ELSE {i}.75e0 END"
            for i in range(n)
        )
        + "])"
    )
    bare = run(
        "list_sum(["
        + ", ".join(f"({feats[i % 9]} <= {i % 50}.5e0)::DOUBLE" for i in range(n))
        + "])"
    )
    naive = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        df = con.execute(f"SELECT customer_id, {', '.join(feats)} FROM customers").df()
        pipe.predict_proba(df[feats])
        naive.append(time.perf_counter() - t0)
    naive_s = min(naive)
    rows = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    per_case, per_bare = (case - scan) / n / rows, (bare - scan) / n / rows
    f_case, f_bare = scan + visits * per_case * rows, scan + visits * per_bare * rows
    return [
        f"HistGradientBoosting, 100 iterations: {visits:.0f} internal nodes visited per row "
        f"(all trees, training-weighted); {rows:,} rows, best of {rounds}.",
        "",
        "| what | s | ns per node per row (wall, all threads) | ratio to naive |",
        "|---|---:|---:|---:|",
        f"| naive: fetch + predict_proba (scikit-learn, default threads) | {naive_s:.3f} | | "
        "1.00 |",
        f"| scan + write only | {scan:.3f} | | |",
        f"| {n} one-node CASEs | {case:.3f} | {per_case * 1e9:.2f} | |",
        f"| {n} bare comparisons | {bare:.3f} | {per_bare * 1e9:.2f} | |",
        f"| floor of a nested-CASE tree walk ({visits:.0f} CASE nodes) | {f_case:.3f} | | "
        f"{naive_s / f_case:.2f} |",
        f"| floor of any node-by-node walk ({visits:.0f} bare comparisons) | {f_bare:.3f} | | "
        f"{naive_s / f_bare:.2f} |",
    ]


def route_floor(con, rounds: int) -> list[str]:
    import pyarrow as pa

    from workbench.indb import ModelStore
    from workbench.indb.features import features_from_frame, uses_column_transformer
    from workbench.indb.onnx_export import convert_to_onnx
    from workbench.indb.udf import OnnxRunner

    est, X = bench.fit_model("logistic")
    feats = bench.model_features("logistic")
    cols = ", ".join(feats)
    store = ModelStore(con)
    store.register("sq", est, X, backend="sql")
    store.register("ud", est, X, backend="udf")
    run = timer(con, 1)
    hashes = {
        "the key's text hashed (what a route does)": "hash(CAST(customer_id AS VARCHAR)) >> 11",
        "the integer key hashed": "hash(customer_id) >> 11",
    }
    exprs = {}
    for fn, call in (("compiled SQL", f"sq_proba({cols})"), ("Arrow UDF", f"ud_proba({cols})")):
        exprs[fn] = call
        for label, h in hashes.items():
            exprs[f"{fn} + {label}"] = f"{call} + 0 * ({h})"
    times: dict[str, list[float]] = {k: [] for k in exprs}
    for _ in range(rounds):
        for k, e in exprs.items():
            times[k].append(run(e))
    med = {k: statistics.median(v) for k, v in times.items()}
    features = features_from_frame(est, X)
    runner = OnnxRunner(convert_to_onnx(est, features), features, uses_column_transformer(est))
    full = tuple(
        pa.chunked_array([pa.array(X[f].to_numpy(dtype=np.float64)[:2048])]) for f in feats
    )
    tenth = tuple(pa.chunked_array([a.chunk(0).slice(0, 205)]) for a in full)
    per_call = {}
    for label, batch in (("2,048 rows", full), ("205 rows", tenth)):
        runner.batch(batch, "proba")
        t0 = time.perf_counter()
        for _ in range(1000):
            runner.batch(batch, "proba")
        per_call[label] = (time.perf_counter() - t0) / 1000 * 1e6
    out = [
        f"Logistic pipeline, {con.execute('SELECT count(*) FROM customers').fetchall()[0][0]:,} "
        f"rows, median of {rounds} interleaved rounds:",
        "",
        "| function | alone, s | " + " | ".join(f"+ {h}, s (share)" for h in hashes) + " |",
        "|---|---:|" + "---:|" * len(hashes),
    ]
    for fn in ("compiled SQL", "Arrow UDF"):
        cells = [
            f"{med[f'{fn} + {h}']:.3f} ({med[f'{fn} + {h}'] / med[fn] - 1:+.0%})" for h in hashes
        ]
        out.append(f"| {fn} | {med[fn]:.3f} | " + " | ".join(cells) + " |")
    split = per_call["2,048 rows"] * 0.9 + per_call["205 rows"]
    out += [
        "",
        "The Arrow UDF's Python side per DuckDB batch (1,000 calls each): "
        f"{per_call['2,048 rows']:.0f} µs for 2,048 rows, {per_call['205 rows']:.0f} µs for 205; "
        "a 90/10 split of one batch into two calls (0.9 x the full call + the 205-row call, a "
        f"lower estimate) costs {split / per_call['2,048 rows']:.2f}x the unsplit call.",
    ]
    return out


def udf_call_floor(con, rounds: int) -> list[str]:
    """DuckDB's own cost of an Arrow UDF call: a 9-argument UDF that returns its first argument."""
    from workbench.indb.udf import make_udf

    feats = bench.model_features("hgb")

    class First:
        """A runner that answers every batch with its first argument."""

        def batch(self, arrays: tuple, output: str) -> object:
            return arrays[0]

    runner = First()
    udf = make_udf(lambda: (runner, "value"), len(feats))
    con.create_function("__floor_first", udf, ["DOUBLE"] * len(feats), "DOUBLE", type="arrow")
    cols = ", ".join(f"{f}::DOUBLE" for f in feats)
    hashed = f"(hash(CAST(customer_id AS VARCHAR)) >> 11) < {round(0.9 * 2**53)}"
    run = timer(con, rounds)
    one = run(f"__floor_first({cols})")
    split = run(f"CASE WHEN {hashed} THEN __floor_first({cols}) ELSE __floor_first({cols}) END")
    rows = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    batches = -(-rows // 2048)
    return [
        f"An Arrow UDF that does nothing (9 DOUBLE arguments, returns the first), {rows:,} rows "
        f"= {batches:,} DuckDB batches, best of {rounds}: {one:.3f} s, i.e. "
        f"{one / batches * 1e6:.0f} µs per call (wall, 2 threads); the same split 90/10 by the "
        f"key's hash into two calls per batch: {split:.3f} s (+{split - one:.3f} s). A route over "
        "versions served by Arrow UDFs pays that extra call per batch whatever the model.",
    ]


def main(argv: list[str] | None = None) -> None:
    import duckdb

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, default=Path("/tmp/indb_bench/customers_1000000.duckdb"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "indb_floor.md")
    args = p.parse_args(argv)
    bench.make_db(args.db, 1_000_000)
    con = duckdb.connect()
    con.execute(f"ATTACH '{args.db}' AS data (READ_ONLY)")
    con.execute("CREATE TEMP TABLE customers AS SELECT * FROM data.customers")
    lines = ["# How fast could SQL be? Floors measured in DuckDB (`benchmarks/indb_floor.py`)", ""]
    lines += [*tree_floor(con, args.rounds), "", *route_floor(con, args.rounds), ""]
    lines += udf_call_floor(con, args.rounds)
    text = "\n".join(lines)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
