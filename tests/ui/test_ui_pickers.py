"""DataPicker, ModelPicker and ResultExport, driven the way a user clicks them."""

from __future__ import annotations

import base64
import io
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from tests.ui.picking import upload_value
from workbench.core.errors import InputError, ModelError, NotFittedError
from workbench.core.workspace import Workspace
from workbench.ui import DataPicker, ModelPicker, ToolPanel


def _frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "order_id": np.arange(7000, 7000 + n),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
            "channel": rng.choice(["web", "shop"], n),
            "returned": np.arange(n) % 2,
        }
    )


def _demo() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "target": [0, 1, 0, 1]})


def test_given_data_is_first_and_previewed():
    picker = DataPicker(_frame(), target="returned", namespace={}, workspace=Workspace(":memory:"))
    assert picker.source.value == "given"
    assert "DataFrame" in picker.preview.value and "7000" in picker.preview.value
    assert picker.target.value == "returned"
    assert "order_id" not in picker.features.value  # an id is no feature by default
    table = picker.load()
    assert table.id == "order_id" and table.features == ("amount", "channel")


def test_demo_then_variable_then_gone():
    ns = {"orders": _frame(), "not_a_table": 3}
    picker = DataPicker(namespace=ns, demos={"tiny": _demo}, workspace=Workspace(":memory:"))
    assert picker.source.value == "demo" and picker.target.value == "target"
    assert picker.load().n_rows == 4
    picker.source.value = "variable"
    assert picker.variable.options == ("orders",)
    picker.target.value = "returned"
    np.testing.assert_array_equal(picker.load().ids, _frame().order_id)
    del ns["orders"]
    with pytest.raises(InputError, match="'orders' no longer exists"):
        picker.load()
    ns["orders"] = "now a string"
    with pytest.raises(InputError, match="now holds a str"):
        picker.load()


def test_upload_csv_and_parquet_and_refuse_the_rest():
    picker = DataPicker(namespace={}, workspace=Workspace(":memory:"), max_upload_bytes=10_000)
    picker.source.value = "upload"
    assert picker.message.value == ""  # nothing uploaded yet: no error shouted
    picker.upload.value = upload_value("orders.csv", _frame().to_csv(index=False).encode())
    assert picker.last_error is None and "CSV file orders.csv" in picker.preview.value
    picker.target.value = "returned"
    assert picker.load().n_rows == 40
    buf = io.BytesIO()
    _frame(12).to_parquet(buf, index=False)
    picker.upload.value = upload_value("orders.parquet", buf.getvalue())
    picker.target.value = "returned"
    assert picker.load().n_rows == 12
    for name, content, words in [
        ("orders.xlsx", b"PK\x03\x04", "neither a CSV nor a Parquet"),
        ("empty.csv", b"", "empty"),
        ("huge.csv", b"a\n" * 6000, "more than the 10,000 bytes"),
    ]:
        picker.upload.value = upload_value(name, content)
        assert words in picker.last_error and words in picker.message.value.replace("&#x27;", "'")
        with pytest.raises(InputError, match=words):
            picker.load()


def test_workspace_table_and_query():
    ws = Workspace(":memory:")
    ws.add("orders", _frame(), target="returned")
    picker = DataPicker(namespace={}, workspace=ws, target="returned")
    picker.source.value = "table"
    assert picker.table.value == "orders"
    assert picker.load().n_rows == 40
    picker.source.value = "query"
    picker.query.value = "SELECT * FROM orders WHERE amount > 30"
    picker.preview_button.click()
    expected = ws.sql("SELECT count(*) FROM orders WHERE amount > 30").fetchall()[0][0]
    assert picker.load(target="returned").n_rows == expected
    picker.query.value = "SELEC * FROM orders"
    picker.preview_button.click()
    assert "syntax error" in picker.last_error
    with pytest.raises(InputError, match="syntax error"):
        picker.load()
    picker.query.value = "DROP TABLE orders"
    with pytest.raises(InputError, match="one SELECT"):
        picker.load()
    assert ws.tables() == ["orders"]


def test_no_workspace_yet_is_said_plainly():
    picker = DataPicker(namespace={}, sources=["table"])
    if picker.workspace is None:
        with pytest.raises(InputError, match="no workspace yet"):
            picker.load()


def test_path_source_reads_a_file(tmp_path):
    path = tmp_path / "orders.parquet"
    _frame().to_parquet(path, index=False)
    picker = DataPicker(namespace={}, workspace=Workspace(":memory:"), sources=["path"])
    picker.path.value = str(path)
    picker.target.value = "returned"
    picker.features.value = ("amount",)
    table = picker.load()
    assert table.features == ("amount",) and table.columns == ["order_id", "amount", "returned"]
    picker.path.value = str(tmp_path / "missing.csv")
    assert "does not exist" in picker.last_error


def test_target_with_nan_is_refused_on_load():
    frame = _frame().astype({"returned": float})
    frame.loc[4, "returned"] = np.nan
    picker = DataPicker(frame, target="returned", namespace={})
    with pytest.raises(InputError, match="1 missing value"):
        picker.load()


def test_model_picker_train_variable_and_given():
    table = DataPicker(_frame(), target="returned", namespace={}).load()
    fitted = LogisticRegression().fit(table.X, table.y)
    ns = {"clf": fitted, "unfitted": DecisionTreeClassifier(), "number": 1}
    picker = ModelPicker(
        models={"tree": lambda rs: DecisionTreeClassifier(random_state=rs)},
        kind="classifier",
        methods=("predict_proba",),
        namespace=ns,
    )
    assert picker.trains
    trained = picker.get(table)
    assert isinstance(trained, DecisionTreeClassifier) and trained.n_features_in_ == 3
    picker.source.value = "variable"
    assert picker.variable.options == ("clf", "unfitted")
    assert picker.get(table) is fitted
    assert picker.build() is not fitted and not hasattr(picker.build(), "coef_")
    picker.variable.value = "unfitted"
    with pytest.raises(NotFittedError):
        picker.get(table)
    ns["narrow"] = LogisticRegression().fit(table.X[:, :1], table.y)
    picker.refresh()
    picker.variable.value = "narrow"
    with pytest.raises(ModelError, match="expects 1 features"):
        picker.get(table)
    del ns["narrow"]
    with pytest.raises(InputError, match="no longer exists"):
        picker.get(table)
    given = ModelPicker(fitted, namespace={})
    assert given.source.value == "given" and given.get(table) is fitted


class _Panel(ToolPanel):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__("Test panel")
        self.workspace = workspace


def test_offer_saves_to_the_workspace_and_downloads_csv():
    ws = Workspace(":memory:")
    panel = _Panel(ws)
    frame = _frame(5)[["order_id", "amount"]]
    export = panel.offer(frame, "orders_scored", tool="test", workspace=ws)
    assert export in panel.children and panel.offer(frame, "x", tool="test") is export
    href = re.search(r"base64,([A-Za-z0-9+/=]+)", export.download.value).group(1)
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(base64.b64decode(href))), frame)
    export.save_button.click()
    assert panel.last_error is None and export.saved == "orders_scored"
    got = ws.sql("SELECT order_id FROM orders_scored ORDER BY 1").fetchall()
    assert [r[0] for r in got] == list(frame.order_id)
    export.name.value = "bad name!"
    export.save_button.click()
    assert "not a usable table name" in panel.last_error
    assert ws.tables() == ["orders_scored"]


def test_picker_on_a_duckdb_relation_variable():
    con = duckdb.connect()
    rel = con.sql("SELECT range AS k, range % 2 AS y FROM range(10)")
    picker = DataPicker(namespace={"rel": rel}, sources=["variable"])
    picker.target.value = "y"
    assert picker.load().n_rows == 10


def test_refresh_keeps_the_choices_of_another_source():
    ws = Workspace(":memory:")
    picker = DataPicker(_frame(), target="returned", namespace={}, workspace=ws)
    picker.features.value = ("amount",)
    ws.add("orders", _frame(), target="returned")
    picker.refresh()  # the table list changed; the given data stays as chosen
    assert picker.target.value == "returned" and picker.features.value == ("amount",)
