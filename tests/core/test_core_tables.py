"""The data layer: every kind of source becomes one validated UserTable, bad input a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    ResourceNotFoundError,
    UnknownNameError,
)
from workbench.core.sources import open_source, read_upload
from workbench.core.tables import check_model_for, load_table
from workbench.core.tabular import MAX_CATEGORIES


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "client_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50, 10, n),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "joined": pd.date_range("2024-01-01", periods=n, freq="D"),
            "label": np.arange(n) % 2,
        }
    )


@pytest.fixture
def files(tmp_path):
    df = _frame()
    paths = {
        "csv": tmp_path / "t.csv",
        "parquet": tmp_path / "t.parquet",
        "jsonl": tmp_path / "t.jsonl",
    }
    df.to_csv(paths["csv"], index=False)
    df.to_parquet(paths["parquet"], index=False)
    with open(paths["jsonl"], "w") as fh:
        for rec in df.assign(joined=df.joined.astype(str)).to_dict("records"):
            fh.write(json.dumps(rec) + "\n")
    return df, paths


def test_every_source_kind_gives_the_same_table(files):
    df, paths = files
    con = duckdb.connect()
    con.register("frame_view", df)
    con.execute("CREATE TABLE clients AS SELECT * FROM frame_view")
    sources = [
        df,
        pa.Table.from_pandas(df, preserve_index=False),
        str(paths["csv"]),
        paths["parquet"],
        str(paths["jsonl"]),
        con.table("clients"),
        "clients",
        "SELECT * FROM clients",
    ]
    tables = [load_table(s, target="label", con=con) for s in sources]
    for t in tables:
        assert t.n_rows == 60 and t.target == "label" and t.task == "classification"
        assert t.id == "client_id"  # a unique *_id column is the id, not a feature
        assert t.features == ("age", "income", "plan")
        assert t.categorical == ("plan",)
        np.testing.assert_array_equal(t.ids, df.client_id.to_numpy())
        np.testing.assert_array_equal(t.y, df.label.to_numpy())
        np.testing.assert_allclose(t.X, tables[0].X)
    counts = df.plan.value_counts()
    by_frequency = sorted(counts.index, key=lambda p: (-counts[p], p))
    assert tables[0].feature_names_out == ["age", "income"] + [f"plan={p}" for p in by_frequency]
    assert {t.source.split()[0] for t in tables} >= {"DataFrame", "CSV", "Parquet", "JSON-lines"}


def test_arrays_become_numbered_columns_and_a_target():
    X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    t = load_table((X, y))
    assert t.features == ("x0", "x1") and t.target == "target"
    np.testing.assert_array_equal(t.X, X)


def test_only_the_role_columns_are_fetched(files):
    _, paths = files
    t = load_table(paths["parquet"], target="label", features=["age"])
    assert t.columns == ["client_id", "age", "label"]


def test_a_large_source_is_sampled_and_says_so(tmp_path):
    n = 5000
    pq.write_table(pa.table({"a": np.arange(n), "y": np.arange(n) % 3}), tmp_path / "big.parquet")
    t = load_table(tmp_path / "big.parquet", target="y", max_rows=700, random_state=1)
    assert t.n_rows == 700 and t.n_source_rows == n and t.sampled
    assert any("Sampled 700 of 5,000" in note for note in t.notes)
    again = load_table(tmp_path / "big.parquet", target="y", max_rows=700, random_state=1)
    np.testing.assert_array_equal(np.sort(t.frame.a), np.sort(again.frame.a))
    assert len(set(t.frame.a)) == 700


def test_missing_numbers_are_filled_and_reported():
    df = _frame()
    df.loc[[1, 5], "income"] = np.nan
    t = load_table(df, target="label")
    col = t.feature_names_out.index("income")
    assert np.isfinite(t.X).all()
    assert t.X[1, col] == pytest.approx(np.nanmedian(df.income))
    assert any("income: 2 missing" in n for n in t.encoding_notes)


def test_rare_categories_share_one_column():
    n = 400
    df = pd.DataFrame(
        {"c": [f"v{i % (MAX_CATEGORIES + 10)}" for i in range(n)], "y": np.arange(n) % 2}
    )
    t = load_table(df, target="y")
    assert len(t.feature_names_out) == MAX_CATEGORIES + 1
    assert t.feature_names_out[-1] == "c=<other>"
    np.testing.assert_allclose(t.X.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        (lambda df: df.assign(label=df.label.where(df.index != 3)), InputError, "missing value"),
        (lambda df: df.assign(label=1), InputError, "only one class"),
        (lambda df: df.assign(empty=np.nan), InputError, "no values"),
        (lambda df: df.head(1), InputError, "at least 2"),
        (
            lambda df: df.assign(age=df.age.astype(object).where(df.index != 2, "n/a")),
            InputError,
            "mixes types",
        ),
        (
            lambda df: df.set_axis([*df.columns[:-2], "age", "label"], axis=1),
            InputError,
            "duplicate column",
        ),
    ],
    ids=["target-nan", "one-class", "all-nan", "too-few-rows", "mixed", "duplicates"],
)
def test_bad_tables_get_clear_errors(change, kind, words):
    with pytest.raises(kind, match=words):
        load_table(change(_frame()), target="label", task="classification")


def test_a_bytes_column_is_no_feature():
    df = _frame().assign(blob=[b"\xff"] * 60)
    assert "blob" not in load_table(df, target="label").features  # inferred: left out
    with pytest.raises(InputError, match="'blob' has a type the workbench cannot use"):
        load_table(df, target="label", features=["age", "blob"])


def test_mixed_object_column_names_its_column():
    df = _frame().assign(income=[1, "x"] * 30)
    with pytest.raises(InputError, match="'income' mixes types"):
        load_table(df, target="label")


def test_roles_are_checked():
    df = _frame()
    with pytest.raises(UnknownNameError, match="Unknown column 'nope'"):
        load_table(df, target="nope")
    with pytest.raises(InputError, match="cannot be a feature"):
        load_table(df, target="label", features=["age", "label"])
    with pytest.raises(InputTypeError):
        load_table(df, target=3)
    with pytest.raises(InputError, match="regression target"):
        load_table(df, target="income", task="classification")
    assert load_table(df, target="income").task == "regression"


def test_files_and_queries_get_clear_errors(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "latin.csv").write_bytes(b"name,y\ncaf\xe9,1\nbar,0\n")
    (tmp_path / "dup.csv").write_text("a,a,y\n1,2,0\n3,4,1\n")
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    with pytest.raises(InputError, match="empty"):
        load_table(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_table(tmp_path / "latin.csv")
    with pytest.raises(InputError, match="duplicate column names \\['a'\\]"):
        load_table(tmp_path / "dup.csv")
    with pytest.raises(InputError, match="CSV, Parquet or JSON"):
        load_table(tmp_path / "data.xlsx")
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        load_table(tmp_path / "gone.parquet")
    with pytest.raises(InputError, match="syntax error"):
        load_table("SELEC * FROM t", con=con)
    with pytest.raises(InputError, match="one SELECT"):
        load_table("SELECT 1; DROP TABLE t", con=con)
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    with pytest.raises(ResourceNotFoundError, match="Tables in this database: \\['t'\\]"):
        load_table("missing_table", con=con)
    with pytest.raises(InputTypeError, match="Cannot read data from a dict"):
        load_table({"a": [1]})


def test_check_model_for_demands_a_fitted_model_on_the_same_features():
    t = load_table(_frame(), target="label")
    fitted = LogisticRegression().fit(t.X, t.y)
    assert check_model_for(fitted, t) is fitted
    with pytest.raises(NotFittedError):
        check_model_for(LogisticRegression(), t)
    with pytest.raises(ModelError, match="expects 2 features"):
        check_model_for(LogisticRegression().fit(t.X[:, :2], t.y), t)
    named = LogisticRegression().fit(pd.DataFrame(t.X[:, :2], columns=["age", "salary"]), t.y)
    with pytest.raises(ModelError, match="lacks \\['salary'\\]"):
        check_model_for(named, t)
    right = LogisticRegression().fit(pd.DataFrame(t.X, columns=t.feature_names_out), t.y)
    assert check_model_for(right, t) is right


def test_read_upload_checks_the_bytes(tmp_path):
    frame = _frame()
    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    parquet = buf.getvalue().to_pybytes()
    path = read_upload("clients.parquet", parquet, folder=tmp_path / "up")
    assert path.suffix == ".parquet" and (path.parent.stat().st_mode & 0o077) == 0
    assert load_table(path, target="label").n_rows == 60
    # Parquet bytes under a .csv name are read as what they are.
    assert read_upload("renamed.csv", parquet, folder=tmp_path / "up2").suffix == ".parquet"
    bad = [
        ("a.xlsx", b"PK\x03\x04", "neither a CSV nor a Parquet"),
        ("a.csv", b"", "empty"),
        ("a.csv", b"\x00\x01\x02", "binary"),
        ("a.csv", b"x\n\xe9t\xe9\n", "not valid UTF-8"),
        ("a.parquet", parquet[:-10], "truncated"),
        ("a.parquet", b"a,b\n1,2\n", "not a Parquet file"),
        ("a.csv", b"a\n" * 600, "more than the 1,000 bytes"),
    ]
    for name, content, words in bad:
        with pytest.raises(InputError, match=words):
            read_upload(
                name, content, max_bytes=1000 if "more" in words else None, folder=tmp_path / "bad"
            )
    assert not any(Path(tmp_path / "bad").glob("*"))


def test_open_source_is_lazy_on_a_file(files):
    _, paths = files
    src = open_source(paths["parquet"])
    assert src.kind == "file" and src.columns[0] == "client_id"
    assert src.relation.limit(2).arrow().read_all().num_rows == 2
