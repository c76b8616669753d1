"""Stored rows under corruption: every field is covered by the row hash, a bad row is skipped and
reported (never fatal to the other models), and rows from before row hashes follow the legacy rule.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import numpy as np
import pytest

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError, IntegrityError
from workbench.indb import TABLE, ModelStore
from workbench.indb.store_integrity import COLUMNS, ROW_SCHEME, row_digest

ARGS = ", ".join(FEATURES)
ROW = "(12.0, 70.0, 1.0, 3.0, 'one-year')"


@pytest.fixture(scope="module")
def two_models(tmp_path_factory, linear, boosting):
    """A database file holding 'churn' (linear) and 'other' (boosting), and their answers."""
    path = tmp_path_factory.mktemp("integrity") / "models.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.register("other", boosting.model, boosting.X_sample)
        other = s.sql(f"SELECT other_proba{ROW} AS p")["p"][0]
    return path, other


def _copy(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst


def _edit(path, sql, params=()):
    con = duckdb.connect(str(path))
    con.execute(sql, list(params))
    con.close()


EDITS = {
    "features_json": (
        "UPDATE workbench_models SET features = '[{\"name\": \"tenure' WHERE name = 'churn'",
        "its features field is not valid JSON",
    ),
    "classes_json": (
        "UPDATE workbench_models SET classes = '[0, 1' WHERE name = 'churn'",
        "its classes field is not valid JSON",
    ),
    "task_bogus": (
        "UPDATE workbench_models SET task = 'bogus' WHERE name = 'churn'",
        "its task 'bogus' is neither",
    ),
    "features_sql_type": (
        "UPDATE workbench_models SET features = replace(features, '\"DOUBLE\"', '\"VARCHAR\"') "
        "WHERE name = 'churn'",
        "wrong SQL type",
    ),
    "classes_swapped": (  # valid JSON, plausible value: only the row hash can tell
        "UPDATE workbench_models SET classes = '[1, 0]' WHERE name = 'churn'",
        "does not match its row hash",
    ),
    "metrics_edited": (
        "UPDATE workbench_models SET metrics = '{\"accuracy\": 0.99}' WHERE name = 'churn'",
        "does not match its row hash",
    ),
    "bytes_flipped": (
        "UPDATE workbench_models SET onnx = onnx || '\\x00'::BLOB WHERE name = 'churn'",
        "sha256 of its ONNX bytes",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_bad_row_is_reported_and_the_rest_loads(two_models, tmp_path, edit):
    path = _copy(two_models[0], tmp_path / "m.duckdb")
    sql, reason = EDITS[edit]
    _edit(path, sql)
    with pytest.raises(IntegrityError, match=f"Stored model churn v1 is corrupted: .*{reason}"):
        ModelStore(path)
    for read_only in (True, False):
        with ModelStore(path, on_corrupt="skip", read_only=read_only) as s:
            assert s.corrupt_ == ["churn v1"] and reason in s.corrupt_reasons_["churn v1"]
            assert s.sql(f"SELECT other_proba{ROW} AS p")["p"][0] == two_models[1]
            with pytest.raises(InputError, match="churn_proba"):
                s.sql(f"SELECT churn_proba{ROW}")
            listing = s.list_models().set_index("name")
            assert bool(listing.loc["churn", "corrupt"]) and not listing.loc["other", "corrupt"]
            with pytest.raises(IntegrityError, match=r"churn v1 is corrupted.*store\.drop"):
                s.describe("churn")
            if not read_only:
                assert s.drop("churn") == 1 and s.corrupt_ == []
    with ModelStore(path) as s:  # after the drop the store opens cleanly again
        assert s.list_models()["name"].tolist() == ["other"]


def test_row_hash_covers_every_field_canonically(two_models):
    con = duckdb.connect(str(two_models[0]), read_only=True)
    cur = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY name")
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]
    con.close()
    for row in rows:
        assert row_digest(row) == row["row_sha256"]
        # The documented serialization, written out independently.
        meta = {c: row[c] for c in COLUMNS if c not in ("onnx", "row_sha256")}
        meta["created_at"] = meta["created_at"].isoformat()
        text = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        blob = f"{ROW_SCHEME}\n{text}\n".encode("ascii") + bytes(row["onnx"])
        assert hashlib.sha256(blob).hexdigest() == row["row_sha256"]
        assert row_digest(dict(reversed(list(row.items())))) == row["row_sha256"]
        for col in COLUMNS:
            if col == "row_sha256":
                continue
            changed = dict(row)
            value = row[col]
            if col == "onnx":
                changed[col] = bytes(value) + b"\x00"
            elif col == "version":
                changed[col] = value + 1
            elif col == "created_at":
                changed[col] = value.replace(second=(value.second + 1) % 60)
            else:
                changed[col] = (value or "") + " "
            assert row_digest(changed) != row["row_sha256"], col


def _make_legacy(path):
    """Turn the file into what the previous version wrote: no row_sha256, no NaN report."""
    con = duckdb.connect(str(path))
    for name, parity in con.execute(f"SELECT name, parity FROM {TABLE}").fetchall():
        old = json.loads(parity)
        old.pop("nan")
        con.execute(f"UPDATE {TABLE} SET parity = ? WHERE name = ?", [json.dumps(old), name])
    con.execute(f"ALTER TABLE {TABLE} DROP COLUMN row_sha256")
    con.close()


def test_legacy_rows_load_by_the_migration_rule(two_models, tmp_path, linear):
    path = _copy(two_models[0], tmp_path / "old.duckdb")
    _make_legacy(path)
    nan_row = "('nan'::DOUBLE, 70.0, 1.0, 3.0, 'one-year')"
    with ModelStore(path, read_only=True) as reader:  # a reader changes nothing
        assert reader.legacy_ == ["churn v1", "other v1"] and reader.corrupt_ == []
        assert reader.sql(f"SELECT other_proba{ROW} AS p")["p"][0] == two_models[1]
        info = reader.describe("other")
        assert info.row_sha256 is None and info.nan_policy == "error"
        with pytest.raises(InputError, match="got NaN"):  # NaN never checked for legacy rows
            reader.sql(f"SELECT other_proba{nan_row}")
    with ModelStore(path) as writer:  # a writer adds the column; old rows stay legacy
        assert writer.legacy_ == ["churn v1", "other v1"]
        info = writer.register("churn", linear.model, linear.X_sample)
        assert info.version == 2 and info.row_sha256 is not None
        listing = writer.list_models()
        assert listing["legacy"].tolist() == [True, False, True]
    with ModelStore(path) as again:
        assert again.legacy_ == ["churn v1", "other v1"] and again.corrupt_ == []


LEGACY_EDITS = {
    "features_renamed": (
        "UPDATE workbench_models SET features = replace(features, 'tenure_months', 'tenure') "
        "WHERE name = 'churn'",
        "does not match the ONNX inputs",
    ),
    "classes_swapped": (
        "UPDATE workbench_models SET classes = '[1, 0]' WHERE name = 'churn'",
        "does not match the class labels in the ONNX graph",
    ),
    "task_changed": (
        "UPDATE workbench_models SET task = 'regression', classes = NULL WHERE name = 'churn'",
        "does not match the ONNX outputs",
    ),
    "classes_not_json": (
        "UPDATE workbench_models SET classes = 'zero, one' WHERE name = 'churn'",
        "classes field is not valid JSON",
    ),
}


@pytest.mark.parametrize("edit", list(LEGACY_EDITS))
def test_legacy_rows_are_checked_against_the_onnx_graph(two_models, tmp_path, edit):
    path = _copy(two_models[0], tmp_path / "old.duckdb")
    _make_legacy(path)
    sql, reason = LEGACY_EDITS[edit]
    _edit(path, sql)
    with ModelStore(path, on_corrupt="skip", read_only=True) as s:
        assert s.corrupt_ == ["churn v1"] and reason in s.corrupt_reasons_["churn v1"]
        assert s.legacy_ == ["other v1"]
        p = s.sql(f"SELECT other_proba{ROW} AS p")["p"][0]
        assert np.isclose(p, two_models[1])
